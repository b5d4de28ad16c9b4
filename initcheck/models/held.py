"""The record of one tensor a model holds (``Held``) and of each name it is held under
(``Owner``): what the collectors of ``initcheck.models.collect`` produce and policies match."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from initcheck.core.fans import Layout
from initcheck.sharding.array import ShardedArray


@dataclass(frozen=True)
class Owner:
    """One name a tensor is held under, as the module holding it there sees it: the dotted
    name, the module's class names (and its bases'), the module, the tensor's name in it, and
    the layout that module stores it in. A tied tensor has one per name."""

    name: str
    module_types: tuple[str, ...]
    module: Any
    local: str
    layout: Layout
    #: class names (and bases) of the modules enclosing that module, outermost first
    enclosing: tuple[str, ...] = ()


@dataclass
class Held:
    """One tensor of a model: every name it is held under (tied tensors have several), the
    class names of its module and that module's bases, the module (for attributes such as
    ``groups`` and ``padding_idx``; None in a bare pytree), its name in the module, the
    layout its framework stores it in, and a loader that returns it as NumPy."""

    names: list[str]
    module_types: tuple[str, ...]
    module: Any
    local: str
    framework: str
    layout: Layout
    shape: tuple[int, ...]
    dtype: str
    load: Callable[[], np.ndarray | ShardedArray] = field(repr=False)
    #: The module's other tensors by local name (for claims relative to a sibling).
    siblings: dict[str, Held] = field(default_factory=dict, repr=False)
    #: Held in shards (a DTensor, a jax array over several devices): ``load`` gives a
    #: ``ShardedArray`` of this process's blocks.
    sharded: bool = False
    #: Every name's owner, in ``names`` order (the first is the module fields above).
    owners: list[Owner] = field(default_factory=list, repr=False)
    #: The siblings seen from each owner's module, by owner name.
    sibling_maps: dict[str, dict[str, Held]] = field(default_factory=dict, repr=False)
    #: Class names (and bases) of the modules enclosing its module (torch, flax, equinox).
    enclosing: tuple[str, ...] = ()
    #: Not state: a torch non-persistent buffer (a causal mask, rotary frequencies), computed
    #: rather than drawn; a rule may claim it, but none has to.
    transient: bool = False

    def __post_init__(self) -> None:
        if not self.owners:
            self.owners = [Owner(self.names[0], self.module_types, self.module, self.local,
                                 self.layout, self.enclosing)]

    @property
    def name(self) -> str:
        return self.names[0]

    def through(self, name: str) -> Held:
        """This tensor as the module holding it under ``name`` sees it (its module, type,
        local name, layout and siblings); the names stay in registration order."""
        owner = next((o for o in self.owners if o.name == name), None)
        if owner is None or owner is self.owners[0]:
            return self
        return replace(self, module_types=owner.module_types, module=owner.module,
                       local=owner.local, layout=owner.layout,
                       siblings=self.sibling_maps.get(name, self.siblings))

    def attribute(self, attr: str) -> Any:
        return getattr(self.module, attr, None)

    def whole(self, reader: str) -> np.ndarray:
        """This tensor as one NumPy array, for a ``reader`` that reads whole tensors (a
        sharded one held in several places is refused, named)."""
        x = self.load()
        if isinstance(x, ShardedArray):
            if x.single is None:
                raise ValueError(f"{self.name} is sharded: {reader} reads whole tensors. Run it"
                                 " on the model unsharded (a small config), or on one process.")
            x = x.single
        return np.asarray(x)


def types_of(obj: Any) -> tuple[str, ...]:
    """The class names of ``obj``'s class and its bases (what ``module=`` globs match)."""
    return tuple(c.__name__ for c in type(obj).__mro__ if c is not object)


__all__ = ["Held", "Owner", "types_of"]
