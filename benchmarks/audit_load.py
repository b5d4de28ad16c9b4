"""``initcheck audit`` idle and on a busy machine, against the frameworks' own sampling in the
same runs: each catalogue's wall time, and the time its initializers spent drawing (each
report's ``draw_seconds``), first idle, then beside ``--busy`` processes spinning on the CPU
that the benchmark starts itself, after one untimed run (jax and keras compile a sampler per
shape once per process; both timed runs reuse it). The audit should degrade under load no
worse than the drawing does. Run by hand: ``python benchmarks/audit_load.py``
(``--catalogues builtin torch`` for some)."""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

from busy import busy  # noqa: E402

import initcheck as ic  # noqa: E402


def audit(names: list[str]) -> dict[str, tuple[float, float, int]]:
    """Per catalogue: (wall seconds, seconds drawing, initializers)."""
    out = {}
    for name in names:
        start = time.perf_counter()
        result = ic.audit.run(name)
        wall = time.perf_counter() - start
        drawn = sum(r.report.draw_seconds or 0.0 for r in result.rows if r.report is not None)
        out[name] = (wall, drawn, len(result.rows))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogues", nargs="+", default=sorted(ic.audit.runner.available()))
    parser.add_argument("--busy", type=int, default=2)
    args = parser.parse_args()
    audit(args.catalogues)  # once untimed: the frameworks compile each shape's sampler once
    idle = audit(args.catalogues)
    with busy(args.busy):
        loaded = audit(args.catalogues)
    print(f"audit idle and beside {args.busy} spinning processes ({os.cpu_count()} cores)")
    print(f"{'catalogue':10} {'inits':>5} {'audit':>7} {'drawing':>8} {'audit*':>7} {'drawing*':>9}"
          f" {'audit x':>8} {'drawing x':>9}")
    total = [0.0, 0.0, 0.0, 0.0]
    for name in args.catalogues:
        (w, d, n), (lw, ld, ln) = idle[name], loaded[name]
        assert n == ln, (name, n, ln)
        total = [a + b for a, b in zip(total, (w, d, lw, ld))]
        print(f"{name:10} {n:5d} {w:6.1f}s {d:7.1f}s {lw:6.1f}s {ld:8.1f}s {lw / w:7.2f}x"
              f" {ld / max(d, 1e-9):8.2f}x")
    w, d, lw, ld = total
    print(f"{'all':10} {'':5} {w:6.1f}s {d:7.1f}s {lw:6.1f}s {ld:8.1f}s {lw / w:7.2f}x"
          f" {ld / max(d, 1e-9):8.2f}x")


if __name__ == "__main__":
    main()
