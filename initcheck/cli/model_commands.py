"""The model wing's commands: ``model`` (check against a policy), ``describe`` (write the
policy a model passes), ``diff`` (compare two models' initialization)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from initcheck.cli.commands import emit
from initcheck.cli.inputs import UsageError, call, parse_pairs, resolve_target
from initcheck.cli.session import (
    remember_seed,
    rerun,
    seed_frameworks,
    seeded_kwargs,
    shell_lines,
)


def build(target: str, factory: Callable[..., Any], kwargs: dict[str, Any],
          seed: int | None = None) -> Any:
    """The model ``factory(**kwargs)`` returns, built under ``seed`` (the frameworks seeded,
    a jax key passed where it takes one): a usage error where it cannot be called so, the
    user's error (named, with its line) where it raises."""
    if seed is not None:
        seed_frameworks(seed)
        kwargs = seeded_kwargs(factory, kwargs, seed)
    return call(target, factory, kwargs, "a factory that returns the model")


def _seeded_run(args: argparse.Namespace) -> int:
    """The run's seed: remembered for ``--seed last`` and said in the header."""
    remember_seed(args.seed)
    if args.json != "-":
        print(f"initcheck {args.command}: seed {args.seed}")
    return int(args.seed)


def cmd_model(args: argparse.Namespace) -> int:
    """Build the model TARGET's factory returns and check it against --policy."""
    factory = resolve_target(args.target)
    kwargs = parse_pairs(args.kwarg, "--kwarg")
    from initcheck.models import as_policy, check_model
    from initcheck.models.presets import MODEL_POLICIES

    # a bad policy is refused before the model is built (a built-in reading the model's
    # config, "transformers", after)
    policy = args.policy if args.policy in MODEL_POLICIES else as_policy(args.policy)
    seed = _seeded_run(args)
    model = build(args.target, factory, kwargs, seed)
    report = check_model(model, policy, alpha=args.alpha, strict=args.strict,
                         framework=args.framework)
    code = emit(report, args)
    if not report.passed and args.json != "-":
        print(shell_lines(rerun(args.argv, seed), prefix="reproduce: "))
    return code


def cmd_describe(args: argparse.Namespace) -> int:
    """Build the model TARGET's factory returns and write the smallest policy it passes."""
    factory = resolve_target(args.target)
    model = build(args.target, factory, parse_pairs(args.kwarg, "--kwarg"), _seeded_run(args))
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
    factories = [resolve_target(target) for target in (args.a, args.b)]
    seed = _seeded_run(args)
    models = [build(t, f, kwargs, seed) for t, f in zip((args.a, args.b), factories)]
    from initcheck.models.compare import compare_models

    diff = compare_models(models[0], models[1], names=names, alpha=args.alpha)
    return emit(diff, args, timings=False)


__all__ = ["build", "cmd_describe", "cmd_diff", "cmd_model"]
