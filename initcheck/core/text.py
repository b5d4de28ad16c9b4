"""Text for terminals: the width to lay out in (the terminal's, 80 when output is not a
terminal), lines wrapped at word boundaries (never cut), tables whose last column wraps
within the width, and numbers printed with the precision they carry."""

from __future__ import annotations

import functools
import math
import os
import shutil
import sys
import textwrap
from collections.abc import Sequence

#: Columns when output is not a terminal (a pipe, a CI log, pytest's capture).
DEFAULT_WIDTH = 80
#: Fewest columns laid out in, however narrow the terminal.
MIN_WIDTH = 60
#: ``short`` looks for a ratio with a denominator below this.
SHORT_DENOMINATORS = 10_000


def text_width() -> int:
    """Columns to lay text out in: ``COLUMNS`` if set, else the terminal's width when
    ``sys.stdout`` is a terminal, else ``DEFAULT_WIDTH``; never fewer than ``MIN_WIDTH``.
    ``sys.stdout`` is asked, not the process's first stream: output redirected inside Python
    (``contextlib.redirect_stdout``) is laid out for where it goes."""
    columns = os.environ.get("COLUMNS", "").strip()
    if not columns.isdigit() and not _isatty(sys.stdout):
        return DEFAULT_WIDTH
    return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return callable(isatty) and bool(isatty())


def use_color(stream: object = None) -> bool:
    """Whether to colour: only on a terminal, and never with ``NO_COLOR`` set."""
    return "NO_COLOR" not in os.environ and _isatty(sys.stdout if stream is None else stream)


#: ANSI colours of a verdict line on a terminal.
_COLOURS = {"PASS": "\x1b[32m", "FAIL": "\x1b[31m"}


def paint(text: str, color: bool) -> str:
    """``text`` with its verdict lines (``verdict: PASS``/``FAIL``, ``FAIL ...``) coloured
    where ``color`` (``use_color()``) says so; unchanged otherwise."""
    if not color:
        return text
    out = []
    for line in text.splitlines():
        word = next((w for w in _COLOURS if line.lstrip().startswith((f"verdict: {w}", w))),
                    None)
        out.append(f"{_COLOURS[word]}{line}\x1b[0m" if word else line)
    return "\n".join(out)


def wrap(line: str, *, indent: int = 4, width: int | None = None) -> str:
    """``line`` wrapped at ``width`` columns (default ``text_width()``), continuation lines
    indented by ``indent`` (its own leading spaces are kept); words are never cut."""
    return textwrap.fill(line, width or text_width(), subsequent_indent=" " * indent,
                         break_long_words=False, break_on_hyphens=False)


def last_column_fits(rows: Sequence[Sequence[str]], *, width: int | None = None,
                     indent: int = 2, gap: int = 2) -> bool:
    """Whether ``table`` can wrap the last column beside the others within ``width``."""
    width = width or text_width()
    start = indent + sum(max(len(r[i]) for r in rows) + gap for i in range(len(rows[0]) - 1))
    return width - start >= min(12, max(len(r[-1]) for r in rows))


def table(rows: Sequence[Sequence[str]], *, width: int | None = None, indent: int = 2,
          gap: int = 2, first_max: int | None = None) -> list[str]:
    """Rows laid out in columns within ``width``: every column but the last padded to its
    widest cell, the last wrapped in the room left (or, where fewer than 12 columns are left,
    on lines of its own below the row, indented). A first cell longer than ``first_max``
    (a long name) goes on a line of its own, the row's other cells below it."""
    width = width or text_width()
    if not rows:
        return []
    long = [first_max is not None and len(r[0]) > first_max for r in rows]
    cells = [("", *r[1:]) if is_long else tuple(r) for r, is_long in zip(rows, long)]
    fixed = [max(len(r[i]) for r in cells) for i in range(len(cells[0]) - 1)]
    start = indent + sum(fixed) + gap * len(fixed)
    beside = last_column_fits(cells, width=width, indent=indent, gap=gap)
    lines = []
    for row, cell, is_long in zip(rows, cells, long):
        if is_long:
            lines.append(wrap(" " * indent + row[0], indent=indent + 4, width=width))
        head = " " * indent + (" " * gap).join(c.ljust(w) for c, w in zip(cell[:-1], fixed))
        last = cell[-1]
        if beside:
            parts = textwrap.wrap(last, width - start, break_long_words=False,
                                  break_on_hyphens=False) or [""]
            lines.append((head + " " * gap + parts[0]).rstrip())
            lines += [" " * start + p for p in parts[1:]]
        else:
            lines.append(head.rstrip())
            if last:
                lines.append(wrap(" " * (indent + 4) + last, indent=indent + 4, width=width))
    return lines


def num(x: float | int | None) -> str:
    """A number in a table: 4 significant digits (3 in exponent form), '-' for NaN or
    None, integers as they are."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e6):
        return str(int(x))
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}"
    return f"{x:.3g}"


def short(x: float) -> str:
    """A float as Python that evaluates to exactly that value, shortly: its repr unless that
    looks like rounding noise (15 characters or more), then the shortest exact square root
    (``5 ** 0.5``, ``1 / 3 ** 0.5``) or ratio (``1e-06 / 12`` for 8.333333333333334e-08, as a
    budget split over 12 checks makes it), if any."""
    text = repr(x)
    if len(text) < 15 or not math.isfinite(x):
        return text
    return _shortest_exact(x)


@functools.lru_cache(maxsize=1024)
def _shortest_exact(x: float) -> str:
    """``short``'s search for a finite float whose repr is long (never 0.0 or -0.0, which
    compare equal as cache keys): ~1 ms, and a model report prints the same few values
    thousands of times, so each is searched once."""
    text = repr(x)
    found = [form for k in range(2, 101)
             for form, value in ((f"{k} ** 0.5", k ** 0.5), (f"{k} ** -0.5", k ** -0.5),
                                 (f"1 / {k} ** 0.5", 1 / k ** 0.5)) if value == x]
    for n in range(2, SHORT_DENOMINATORS):
        top = f"{x * n:.6g}"
        if float(top) / n == x:
            found.append(f"{top} / {n}")
            if len(top) == 1 or top.startswith("1e"):
                break
    return min(found, key=lambda f: (not f.startswith("1"), len(f))) if found else text


__all__ = ["DEFAULT_WIDTH", "MIN_WIDTH", "last_column_fits", "num", "paint", "short", "table",
           "text_width", "use_color", "wrap"]
