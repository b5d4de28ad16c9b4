"""The command line's inputs: argparse types for shapes, alphas and counts, ``k=v`` pairs,
import paths resolved to objects, and the initializer a TARGET names. Every failure is a
``UsageError`` naming the fix (exit code 2)."""

from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import functools
import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from initcheck.core.contract import raised_at, raised_inside_initcheck
from initcheck.core.fans import DEFAULT_LAYOUT
from initcheck.frameworks import EXTRAS


class UsageError(ValueError):
    """Bad command-line input: reported with exit code 2."""


class UserCodeError(UsageError):
    """An exception raised inside the user's code (an initializer, a factory, a module being
    imported, a model's forward pass): exit code 2, not initcheck's own fault (3)."""


@contextlib.contextmanager
def user_code(what: str) -> Iterator[None]:
    """Run the user's code: an exception it raises becomes a ``UserCodeError`` saying
    "raised by <what> at <file>:<line>: <type>: <message>"."""
    try:
        yield
    except UsageError:
        raise
    except Exception as exc:
        if raised_inside_initcheck(exc):  # initcheck's fault, though user code was running
            raise
        raise UserCodeError(f"raised by {what} at {raised_at(exc)}: {type(exc).__name__}:"
                            f" {exc}") from None


def call(target: str, fn: Callable[..., Any], kwargs: dict[str, Any], role: str) -> Any:
    """``fn(**kwargs)``, the user's callable TARGET: a call that does not fit its signature
    is a usage error naming the keywords; an exception from inside it, the user's."""
    if not callable(fn):
        raise UsageError(f"{target} is a {type(fn).__name__}, not callable: TARGET is {role}.")
    try:
        inspect.signature(fn).bind(**kwargs)
    except TypeError as exc:
        raise UsageError(f"{target} cannot be called with --kwarg {kwargs or 'none'}: {exc}."
                         f" TARGET is {role}.") from None
    except ValueError:  # no signature to read (a builtin): let the call say
        pass
    with user_code(target):
        return fn(**kwargs)


#: How the Python API's keywords are spelled on the command line, for the fixes errors name.
CLI_SPELLING = {"shapes": "--shape", "shape": "--shape", "framework": "--framework",
                "layout": "--layout", "expect": "--expect", "dtype": "--dtype",
                "alpha": "--alpha", "seed": "--seed", "activation": "--activation",
                "width": "--width", "depth": "--depth", "batch": "--batch"}
_KEYWORD = re.compile(r"\b(" + "|".join(CLI_SPELLING) + r")=(\[[^\]]*\]|'[^']*'(?:(?:, | or )"
                      r"'[^']*')*|[\w.+-]+)")


def in_cli_language(message: str) -> str:
    """An error's fixes as the command line spells them: ``shapes=[(784, 256)]`` becomes
    ``--shape 784,256``, ``framework='torch'`` ``--framework torch``, ``backward=False``
    ``--forward-only``, ``vectors='length'`` ``--kwarg vectors=length``."""
    def flag(m: re.Match[str]) -> str:
        name, value = m.group(1), m.group(2)
        if value.startswith("["):
            dims = re.findall(r"\(([^)]*)\)", value)
            return " ".join(f"{CLI_SPELLING[name]} {d.replace(' ', '').rstrip(',')}"
                            for d in dims) or f"{CLI_SPELLING[name]} ..."
        return f"{CLI_SPELLING[name]} {value.replace(chr(39), '')}"

    def spec(m: re.Match[str]) -> str:
        params = [p.strip().replace("'", "") for p in (m.group(2) or "").split(",") if p.strip()]
        return " ".join([f"--expect {m.group(1)}", *(f"--param {p}" for p in params)])
    message = re.sub(r"\bexpect=(?:initcheck\.)?spec\('(\w+)'(?:, ([^)]*))?\)", spec, message)
    message = re.sub(r"\bshapes\[\d+\]: shape \(([^)]*)\)",
                     lambda m: "--shape " + m.group(1).replace(" ", "").rstrip(","), message)
    message = message.replace("backward=False", "--forward-only")
    message = re.sub(r"\bvectors='(\w+)'", r"--kwarg vectors=\1", message)
    return _KEYWORD.sub(flag, message)


def parse_shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(p) for p in text.replace("x", ",").split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"shape {text!r}: give integers separated by commas or x, e.g. 784,256 or 3x3x64x128"
        ) from None
    if not dims:
        raise argparse.ArgumentTypeError(f"shape {text!r} is empty; e.g. 784,256")
    return dims


def parse_alpha(text: str) -> float:
    try:
        a = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"alpha {text!r} is not a number; e.g. 1e-6") from None
    if not 0 < a < 1:
        raise argparse.ArgumentTypeError(f"alpha {a} must lie in (0, 1), e.g. 1e-6")
    return a


def nonneg_int(what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} {text!r} is not an integer") from None
        if n < 0:
            raise argparse.ArgumentTypeError(f"{what} {n} must be >= 0")
        return n
    return parse


def positive_int(what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        n = nonneg_int(what)(text)
        if n < 1:
            raise argparse.ArgumentTypeError(f"{what} must be >= 1")
        return n
    return parse


def parse_pairs(pairs: Sequence[str] | None, option: str) -> dict[str, Any]:
    """``k=v`` strings to a dict; values are Python literals (1e-3, 'fan_out', True) or
    plain strings."""
    out: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise UsageError(
                f"{option} {pair!r} is not of the form name=value (e.g. {option} mode=fan_out)"
            )
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        out[key] = value
    return out


def resolve_target(target: str) -> Any:
    """An object from ``package.module:attr`` or ``package.module.attr``; errors name close
    matches."""
    if target.count(":") > 1:
        raise UsageError(f"{target!r} has {target.count(':')} colons: an import path is"
                         " package.module:attr (one colon; dots inside either side), e.g."
                         " mymodule:my_init or torch.nn.init:kaiming_normal_")
    if ":" in target:
        module_name, _, attr_path = target.partition(":")
    else:
        module_name, _, attr_path = target.rpartition(".")
    if not module_name or not attr_path:
        raise UsageError(f"{target!r} is not an import path: use package.module:attr (e.g."
                         " torch.nn.init:kaiming_normal_) or a built-in name (initcheck list)")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(
            0, os.getcwd()
        )  # modules in the current directory, as `python -m` finds them
    try:
        module = _module(module_name)
    except UsageError:
        raise
    except ModuleNotFoundError as exc:
        raise UsageError(_not_found(module_name, exc)) from None
    except Exception as exc:  # the module itself fails to import: the user's code
        raise UserCodeError(f"raised by importing {module_name} at {raised_at(exc)}:"
                            f" {type(exc).__name__}: {exc}") from None
    obj = module
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(obj) if not n.startswith("_")]
            close = difflib.get_close_matches(part, names, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"{module_name!r} has no attribute {attr_path!r}.{hint}")
        obj = getattr(obj, part)
    return obj


def _not_found(module_name: str, exc: ModuleNotFoundError) -> str:
    """Why ``module_name`` did not import: a framework initcheck has an extra for is not
    installed (the command that installs it), the module the user's module imports is
    missing (where), or no module of that name exists (close matches)."""
    missing = exc.name or module_name
    top = missing.split(".")[0]
    extra = EXTRAS.get(top)
    install = f" (pip install 'initcheck[{extra}]')" if extra else ""
    if module_name != missing and not module_name.startswith(missing + "."):
        return (f"cannot import {module_name!r}: it imports {missing!r} at {raised_at(exc)},"
                f" which is not installed{install}")
    if extra:
        return f"cannot import {module_name!r}: {top} is not installed{install}"
    known = [m.name for m in pkgutil.iter_modules()]
    close = difflib.get_close_matches(top, known, n=3)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    return f"cannot import {module_name!r}: no module named {missing!r}.{hint}"


def _module(name: str) -> Any:
    """A module by its import name, or by its file's path (``path/to/mod.py``)."""
    if not name.endswith(".py"):
        return importlib.import_module(name)
    path = os.path.abspath(name)
    if not os.path.isfile(path):
        raise UsageError(f"{name}: no such file. Give an existing .py file, or the module's"
                         " import name (package.module:attr)")
    module_name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # so pickling and dataclasses find it
    spec.loader.exec_module(module)
    return module


def is_import_path(target: str) -> bool:
    return ":" in target or "." in target


def target_initializer(args: argparse.Namespace) -> Any:
    """The initializer TARGET names: a built-in (its --kwarg values are its parameters) or an
    import path (--kwarg values bound at each call, or passed to a --factory)."""
    from initcheck.claims import initializers
    kwargs = parse_pairs(args.kwarg, "--kwarg")
    target = args.target
    if not is_import_path(target):
        if target not in initializers.names():
            close = difflib.get_close_matches(target, initializers.names(), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"{target!r} is neither a built-in initializer nor an import path"
                             f" (package.module:attr).{hint}")
        return initializers.get(target, layout=args.layout or DEFAULT_LAYOUT, **kwargs)
    obj = resolve_target(target)
    if args.factory:
        return call(target, obj, kwargs, "a factory that returns the initializer (--factory)")
    if kwargs:
        return functools.partial(obj, **kwargs)
    return obj
