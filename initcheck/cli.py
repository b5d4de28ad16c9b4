"""The ``initcheck`` command. Exit codes: 0 pass, 1 a check failed, 2 usage or input error
(a message naming the fix, never a bare traceback)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from initcheck import __version__, initializers, specs
from initcheck.fans import LAYOUTS, compute_fans

#: The article's experiment: 100 x 100 weights (node_num = 100).
ARTICLE_SHAPE = (100, 100)


def _shape(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.replace("x", ",").split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"shape {text!r}: give integers separated by commas or x, e.g. 784,256 or 3x3x64x128"
        ) from None


def _list(args: argparse.Namespace) -> int:
    """Every built-in initializer: its claim, and its law at the given shape."""
    shape, layout = args.shape, args.layout
    fans = compute_fans(shape, layout)
    print(f"shape {shape} in layout {layout!r}: fan_in={fans.fan_in}, fan_out={fans.fan_out},"
          f" receptive_field={fans.receptive_field}")
    rows = [("name", "claims", "std", "support")]
    for name in specs.SPECS:
        init = initializers.get(name, layout=layout)
        law = init.law(shape)
        support = ("(-inf, inf)" if not law.bounded else f"[{law.low:.4g}, {law.high:.4g}]")
        rows.append((name, init.spec.formula, f"{law.std:.4g}", support))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    aliases = ", ".join(f"{a} -> {c}" for a, c in specs.ALIASES.items())
    print(f"aliases: {aliases}")
    print("article methods: " + ", ".join(f"{m} -> {n}" for m, n in initializers.ARTICLE_METHODS.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="initcheck", description="Verifiable neural-network weight initialization.")
    parser.add_argument("--version", action="version", version=f"initcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("list", help="list the built-in initializers and their laws at a shape")
    p.add_argument("--shape", type=_shape, default=ARTICLE_SHAPE,
                   help="weight shape, e.g. 784,256 (default: the article's 100,100)")
    p.add_argument("--layout", default="keras", choices=list(LAYOUTS),
                   help="which axes hold in and out (default keras: (*k, in, out))")
    p.set_defaults(run=_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except ValueError as exc:
        print(f"initcheck: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head & co: stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep interpreter exit quiet
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
