"""How a command's run is set up and named again: output paths checked before the run, the
seed a model's factory is built under (an int, ``random`` or ``last``, as the pytest plugin
takes it), the frameworks seeded from it, and the command line that reruns the run."""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import os
import random
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from initcheck.cli.inputs import UsageError
from initcheck.core.text import text_width
from initcheck.frameworks import EXTRAS

#: The options whose value is a file initcheck writes.
OUTPUT_OPTIONS = ("json", "toml", "python", "plot", "profile")
#: The output options whose file needs an optional module to be drawn.
NEEDS = {"plot": "matplotlib", "profile": "matplotlib"}


def cache_file() -> Path:
    """Where ``--seed last`` finds the last seed: initcheck's cache directory."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "initcheck" / "last_seed"


def parse_seed(text: str) -> int:
    """``--seed``: a non-negative int, ``random`` (drawn, then printed) or ``last`` (the
    previous run's)."""
    if text == "random":
        return random.SystemRandom().randrange(2**31)
    if text == "last":
        try:
            return int(cache_file().read_text().strip())
        except (OSError, ValueError):
            raise argparse.ArgumentTypeError(
                f"--seed last: no previous seed in {cache_file()}; give a number") from None
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seed {text!r}: give a non-negative integer, 'random' or 'last'") from None
    if seed < 0:
        raise argparse.ArgumentTypeError(f"--seed {seed}: give a non-negative integer")
    return seed


def remember_seed(seed: int) -> None:
    """Keep ``seed`` for ``--seed last`` (best effort: an unwritable cache is no error)."""
    try:
        cache_file().parent.mkdir(parents=True, exist_ok=True)
        cache_file().write_text(f"{seed}\n")
    except OSError:
        pass


def seed_frameworks(seed: int) -> None:
    """Seed every random source a factory may draw from: Python's, NumPy's global one, and
    torch's and keras's where the user's module imported them."""
    random.seed(seed)
    import numpy as np

    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed % 2**32)


def seeded_kwargs(factory: Callable[..., Any], kwargs: dict[str, Any], seed: int) -> dict[str, Any]:
    """``kwargs`` plus the seed where the factory takes one that it was not given and has
    no default for (or a default of None): ``seed`` (an int), ``key`` or ``rng`` (a jax
    key), ``rngs`` (flax ``nnx.Rngs``). A parameter with a default of its own is left alone."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return kwargs
    out = dict(kwargs)
    for name in ("seed", "key", "rng", "rngs"):
        if name not in params or name in out or params[name].default not in (
                inspect.Parameter.empty, None):
            continue
        if name == "seed":
            out[name] = seed
        elif name == "rngs":
            from flax import nnx

            out[name] = nnx.Rngs(seed)
        else:
            import jax

            out[name] = jax.random.key(seed)
    return out


def check_outputs(args: argparse.Namespace) -> None:
    """Every file the command will write can be written (and drawn: a plot needs matplotlib):
    checked before the run, so a long run never ends in a failed write."""
    for option in OUTPUT_OPTIONS:
        path = getattr(args, option, None)
        if not isinstance(path, str) or path == "-":
            continue
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise UsageError(f"--{option} {path}: is a directory; give a file name in it")
        if not os.path.isdir(folder):
            raise UsageError(f"--{option} {path}: the directory {folder} does not exist;"
                             " create it first")
        if not os.access(folder, os.W_OK) or (os.path.exists(path)
                                              and not os.access(path, os.W_OK)):
            raise UsageError(f"--{option} {path}: not writable; choose another place")
        needed = NEEDS.get(option)
        if needed and importlib.util.find_spec(needed) is None:
            raise UsageError(f"--{option} {path} needs {needed}, which is not installed:"
                             f" pip install 'initcheck[{EXTRAS[needed]}]'"
                             f" (or leave out --{option})")


def rerun(argv: Sequence[str], seed: int) -> str:
    """The command line that reruns this one with ``seed`` (``--seed random``/``last``
    replaced by the number)."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
            continue
        if token == "--seed":
            skip = True
            continue
        if token.startswith("--seed="):
            continue
        out.append(token)
    return "initcheck " + shlex.join([*out, "--seed", str(seed)])


def shell_lines(command: str, *, prefix: str = "", width: int | None = None) -> str:
    """A shell command within ``width`` columns: broken between arguments with ``\\``
    continuations (so it still pastes into a shell as one command), never inside one."""
    width = width or text_width()
    lines, line = [], prefix.rstrip()
    for token in shlex.split(command):
        piece = shlex.quote(token)
        if line.strip() and len(line) + 1 + len(piece) + 2 > width:
            lines.append(line + " \\")
            line = "    " + piece
        else:
            line = f"{line} {piece}" if line else piece
    return "\n".join([*lines, line])


def joined_negatives(argv: Sequence[str]) -> list[str]:
    """``--shape -1,3`` as ``--shape=-1,3``: argparse would read ``-1,3`` as an option and
    report a missing value instead of the bad shape."""
    out: list[str] = []
    for token in argv:
        if (out and out[-1].startswith("--") and "=" not in out[-1]
                and re.fullmatch(r"-\d[\d,x.e+-]*", token)):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


__all__ = ["check_outputs", "joined_negatives", "parse_seed", "remember_seed", "rerun",
           "seed_frameworks", "seeded_kwargs", "shell_lines"]
