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


def _audit(args: argparse.Namespace) -> int:
    """Verify every built-in initializer against its own spec; the audit's alpha is split
    evenly over the initializers (Bonferroni)."""
    from initcheck.verify import verify  # the verification stack loads only when used

    names = list(specs.SPECS)
    share = args.alpha / len(names)
    reports = []
    rows = [("initializer", "claims", "verdict", "checks", "finding")]
    for i, name in enumerate(names, 1):
        if args.progress:
            print(f"\r[{i}/{len(names)}] {name:<20}", end="", file=sys.stderr, flush=True)
        report = verify(initializers.get(name), seed=args.seed, alpha=share)
        reports.append(report)
        bad = report.failures
        finding = "; ".join(f"{c.name}: {c.detail}" for c in bad) if bad else (
            f"std within {report.check('std').mde:.1%} (MDE)" if any(
                c.name == "std" for c in report.checks) else "exact")
        rows.append((name, initializers.get(name).spec.formula,
                     "PASS" if report.passed else "FAIL",
                     f"{len(report.checks) - len(bad)}/{len(report.checks)}", finding))
    if args.progress:
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    _table(rows)
    passed = all(r.passed for r in reports)
    print(f"audit builtin: {sum(r.passed for r in reports)}/{len(reports)} pass; seed {args.seed},"
          f" family-wise alpha {args.alpha:g} ({share:.3g} per initializer)")
    if args.json:
        doc = {"schema": "initcheck.audit/1", "target": "builtin", "seed": args.seed,
               "alpha": args.alpha, "passed": passed, "reports": [r.to_dict() for r in reports]}
        _write_json(doc, args.json)
    return 0 if passed else 1


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def _write_json(doc: dict, target: str) -> None:
    import json

    text = json.dumps(doc, indent=2, allow_nan=False)
    if target == "-":
        print(text)
    else:
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


def _alpha(text: str) -> float:
    try:
        a = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"alpha {text!r} is not a number; e.g. 1e-6") from None
    if not 0 < a < 1:
        raise argparse.ArgumentTypeError(f"alpha {a} must lie in (0, 1), e.g. 1e-6")
    return a


def _seed(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed {text!r} is not an integer") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"seed {n} must be >= 0")
    return n


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

    p = sub.add_parser("audit", help="verify every built-in initializer against its spec")
    p.add_argument("target", nargs="?", default="builtin", choices=["builtin"],
                   help="what to audit (default: builtin)")
    p.add_argument("--seed", type=_seed, default=0, help="base seed (default 0)")
    p.add_argument("--alpha", type=_alpha, default=1e-5,
                   help="family-wise false-alarm budget of the whole audit (default 1e-5)")
    p.add_argument("--json", metavar="FILE", help="write the reports as JSON ('-' for stdout)")
    p.set_defaults(run=_audit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.progress = sys.stderr.isatty()
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
