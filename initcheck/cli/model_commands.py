"""The model wing's commands: ``model`` (check against a policy), ``describe`` (write the
policy a model passes), ``diff`` (compare two models' initialization)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from typing import Any

from initcheck.cli.commands import emit
from initcheck.cli.inputs import UsageError, parse_pairs, resolve_target


def build(target: str, factory: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """The model ``factory(**kwargs)`` returns; a usage error where it cannot be called so."""
    try:
        return factory(**kwargs)
    except TypeError as exc:  # not callable, or wrong keywords
        raise UsageError(f"calling {target}(**{kwargs}) failed: {exc}. {target} is a factory"
                         " that returns the model.") from None


def cmd_model(args: argparse.Namespace) -> int:
    """Build the model TARGET's factory returns and check it against --policy."""
    factory = resolve_target(args.target)
    kwargs = parse_pairs(args.kwarg, "--kwarg")
    from initcheck.models import as_policy, check_model
    from initcheck.models.presets import MODEL_POLICIES

    # a bad policy is refused before the model is built (a built-in reading the model's
    # config, "transformers", after)
    policy = args.policy if args.policy in MODEL_POLICIES else as_policy(args.policy)
    model = build(args.target, factory, kwargs)
    report = check_model(model, policy, alpha=args.alpha, strict=args.strict,
                         framework=args.framework)
    return emit(report, args)


def cmd_describe(args: argparse.Namespace) -> int:
    """Build the model TARGET's factory returns and write the smallest policy it passes."""
    for path in (args.toml, args.python, None if args.json == "-" else args.json):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise UsageError(f"{path}: its directory does not exist; create it first")
    model = build(args.target, resolve_target(args.target), parse_pairs(args.kwarg, "--kwarg"))
    from initcheck.models.describe import describe_model

    described = describe_model(model, alpha=args.alpha)
    for path, text in ((args.toml, described.to_toml()), (args.python, described.to_python())):
        if path:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
    return emit(described, args, timings=False)


def cmd_diff(args: argparse.Namespace) -> int:
    """Build the models A's and B's factories return and compare their initialization."""
    kwargs = parse_pairs(args.kwarg, "--kwarg")
    names = None
    if args.names:
        try:
            with open(args.names) as f:
                names = json.load(f)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--names {args.names}: {exc}; pass a JSON object"
                             ' {"a\'s name": "b\'s name", ...}') from None
        if not isinstance(names, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in names.items()):
            raise UsageError(f"--names {args.names}: a JSON object of names to names is needed")
    models = [build(target, resolve_target(target), kwargs) for target in (args.a, args.b)]
    from initcheck.models.compare import compare_models

    diff = compare_models(models[0], models[1], names=names, alpha=args.alpha)
    return emit(diff, args, timings=False)


__all__ = ["build", "cmd_describe", "cmd_diff", "cmd_model"]
