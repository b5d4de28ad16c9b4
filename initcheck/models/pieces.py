"""Pieces: the part of a held tensor each claim covers. A rule claims a tensor whole, or cuts
it: ``Except`` takes rows out (an embedding's padding row, claimed apart), ``Split`` cuts it
into slices with a claim each (a fused qkv projection), ``Relative`` reads its claim at a
sibling's shape. Sharded tensors are cut in place, never gathered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from initcheck.claims.specs import Spec
from initcheck.core.fans import Layout, get_layout
from initcheck.models.collect import Held
from initcheck.models.policy import SKIP, Except, Relative, Rule, Split
from initcheck.sharding.array import Checkable, ShardedArray


@dataclass
class Piece:
    """A tensor, or a slice of one under a composite claim, with the claim it is judged by:
    ``law_shape`` is the shape the claim's law is resolved at (the tensor's, the piece's or
    a sibling's), ``select`` cuts the piece from the whole tensor."""

    label: str
    held: Held
    claim: Spec
    law_shape: tuple[int, ...]
    layout: Layout
    convention: str
    select: Callable[[Checkable], Checkable]

    @property
    def read_layout(self) -> Layout:
        """The layout the piece's own values are read in (its units, for the structure
        checks): the claim's layout where it fits the tensor's rank; else, for a claim read
        at a sibling's shape (``Relative``: a stacked bias of rank 2 under a stacked weight's
        layout of rank 3), the layout the tensor's framework stores it in."""
        rank = len(self.held.shape)
        for layout in (self.layout, self.held.layout):
            try:
                layout.axis_sets(rank)
                return layout
            except ValueError:
                continue
        return self.layout  # a vector: no structure check reads its units


def _whole(x: Checkable) -> Checkable:
    return x


def _without(x: Checkable, rows: list[int], axis: int) -> Checkable:
    return x.without(axis, rows) if isinstance(x, ShardedArray) else np.delete(x, rows, axis)


def _row(x: Checkable, axis: int, i: int) -> Checkable:
    """Slice ``i`` along ``axis``, keeping the axis (an Except exception)."""
    if isinstance(x, ShardedArray):
        return x.cut(axis, i, i + 1)
    return np.take(x, [i], axis)


def _cut(x: Checkable, axis: int, start: int, stop: int) -> Checkable:
    """The block [start, stop) along ``axis`` (a Split piece)."""
    if isinstance(x, ShardedArray):
        return x.cut(axis, start, stop)
    return x[(slice(None),) * axis + (slice(start, stop),)]


def _layout(rule: Rule, held: Held) -> Layout:
    if rule.layout is None:
        return held.layout
    if isinstance(rule.layout, Layout):
        return rule.layout
    return get_layout(rule.layout, groups=held.layout.groups, transposed=held.layout.transposed)


def pieces(held: Held, rule: Rule, number: int) -> list[Piece]:
    """The pieces a rule's claim cuts a tensor into (one for a plain spec)."""
    where = f"rule {number} ({rule.describe()}) on {held.name} {list(held.shape)}"
    lay, conv, c = _layout(rule, held), rule.convention, rule.claim
    if isinstance(c, Spec):
        return [Piece(held.name, held, c, held.shape, lay, conv, _whole)]
    if isinstance(c, Relative):
        names = (c.of,) if isinstance(c.of, str) else c.of
        sibling = next((held.siblings[n] for n in names if n in held.siblings), None)
        if sibling is None:
            raise ValueError(f"{where}: the claim is relative to {c.of!r}, but the module holds"
                             f" {sorted(held.siblings)}. Name one of them: Relative(spec, of=...).")
        return [Piece(held.name, held, c.claim, sibling.shape, lay, conv, _whole)]
    if isinstance(c, Except):
        return _except(held, c, lay, conv, where)
    if isinstance(c, Split):
        return _split(held, c, lay, conv, where)
    raise AssertionError(f"unknown claim {c!r}")  # claims are validated when the rule is made


def _axis(axis: int, held: Held, where: str) -> int:
    if not -len(held.shape) <= axis < len(held.shape):
        raise ValueError(f"{where}: axis {axis} does not exist in a tensor of rank"
                         f" {len(held.shape)}.")
    return axis % len(held.shape)


def _except(held: Held, c: Except, lay: Layout, conv: str, where: str) -> list[Piece]:
    axis = _axis(c.axis, held, where)
    length = held.shape[axis]
    indices: dict[int, Spec] = {}
    for index, claim in c.index.items():
        i = held.attribute(index) if isinstance(index, str) else index
        if i is None:  # the module has no such row (padding_idx=None)
            continue
        if not -length <= int(i) < length:
            raise ValueError(f"{where}: index {i} is outside axis {axis} of length {length}.")
        indices[int(i) % length] = claim
    at = "" if axis == 0 else f"axis {axis}: "
    out = [Piece(f"{held.name}[{at}{i}]", held, claim, held.shape, lay, conv,
                 functools.partial(_row, axis=axis, i=i)) for i, claim in sorted(indices.items())]
    rest = sorted(indices)
    out.append(Piece(held.name, held, c.claim, held.shape, lay, conv,
                     functools.partial(_without, rows=rest, axis=axis) if rest else _whole))
    return out


def _split(held: Held, c: Split, lay: Layout, conv: str, where: str) -> list[Piece]:
    axis = _axis(c.axis, held, where)
    length, k = held.shape[axis], len(c.claims)
    if c.sizes is None:
        if length % k:
            raise ValueError(f"{where}: axis {axis} of length {length} does not split into {k}"
                             " equal parts; give sizes=(...).")
        sizes = [length // k] * k
    else:
        sizes = list(c.sizes)
        if len(sizes) != k or sum(sizes) != length:
            raise ValueError(f"{where}: sizes {sizes} must be {k} lengths summing to {length}.")
    out, start = [], 0
    for size, claim in zip(sizes, c.claims):
        stop = start + size
        if claim != SKIP:
            shape = held.shape[:axis] + (size,) + held.shape[axis + 1:]
            at = "" if axis == 0 else ":, " * axis
            out.append(Piece(f"{held.name}[{at}{start}:{stop}]", held, claim, shape, lay, conv,
                             functools.partial(_cut, axis=axis, start=start, stop=stop)))
        start = stop
    return out


__all__ = ["Piece", "pieces"]
