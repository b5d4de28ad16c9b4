"""What a model holds: its tensors with their dotted names, their owning module's types and
attributes, and the layout their framework stores weights in. torch ``nn.Module``s
(parameters and buffers; a tensor held under several names, tied, appears once with all of
them), flax nnx modules, jax parameter pytrees (linen ``params`` dicts, equinox modules) and
keras models. Frameworks are recognised by their classes and imported only when found.

Tensors reach NumPy lazily (``Held.array``), one rule group at a time: a CPU tensor is a
view, not a copy; nothing copies the model as a whole.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from initcheck.core.fans import LAYOUTS, Layout
from initcheck.frameworks.sharding import as_checkable, is_sharded
from initcheck.sharding.array import ShardedArray

#: Frameworks ``check_model`` reads, and the layout each stores weights in.
FRAMEWORK_LAYOUTS = {"torch": "torch", "flax": "flax", "jax": "flax", "equinox": "torch",
                     "keras": "keras"}


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

    def __post_init__(self) -> None:
        if not self.owners:
            self.owners = [Owner(self.names[0], self.module_types, self.module, self.local,
                                 self.layout)]

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


def framework_of(model: Any) -> str:
    """``torch``, ``flax`` (nnx), ``keras``, ``equinox`` or ``jax`` (a pytree of arrays), from
    the model's classes; else a ValueError that says what a model is."""
    mro = [f"{c.__module__}.{c.__name__}" for c in type(model).__mro__]
    if "torch.nn.modules.module.Module" in mro:
        return "torch"
    if any(m.startswith("keras.") and m.endswith((".Layer", ".Model")) for m in mro):
        return "keras"
    if any(m.startswith("flax.nnx.") and m.endswith(".Module") for m in mro):
        return "flax"
    if any(m.startswith("equinox.") and m.endswith(".Module") for m in mro):
        return "equinox"
    if isinstance(model, dict) or hasattr(model, "items"):
        return "jax"
    raise ValueError(
        f"a {type(model).__name__} is not a model initcheck can read. Pass a torch nn.Module, a"
        " flax nnx Module, a jax/flax parameter pytree (dict), an equinox Module or a keras"
        " model; for one tensor use initcheck.check_tensor.")


def collect(model: Any, framework: str = "auto") -> list[Held]:
    """Every tensor ``model`` holds, tied ones once, in the model's own order. A flax linen
    module comes with its variables, as ``(module, variables)`` or bound
    (``module.bind(variables)``): its submodules' types are read from it."""
    linen = _linen(model)
    if linen is not None:
        model = _LinenVariables(*linen)
    found = framework_of(model) if framework == "auto" else framework
    reader = {"torch": _torch, "flax": _nnx, "keras": _keras, "equinox": _pytree,
              "jax": _pytree}.get(found)
    if isinstance(model, _LinenVariables):
        reader = _linen_pytree
    if reader is None:
        raise ValueError(f"framework={framework!r} is not supported. Allowed values: 'auto',"
                         f" {', '.join(repr(f) for f in FRAMEWORK_LAYOUTS)}.")
    held = list(reader(model, found))
    if not held:
        raise ValueError(f"the {type(model).__name__} holds no tensors: nothing to check. Pass"
                         " the model after it is built (flax: its params; keras: after build).")
    by_module: dict[int, dict[str, Held]] = {}

    def key(o: Owner) -> int:
        return id(o.module) if o.module is not None else hash(_parent(o.name))

    for h in held:
        for o in h.owners:
            by_module.setdefault(key(o), {})[o.local] = h
    for h in held:
        h.sibling_maps = {o.name: by_module[key(o)] for o in h.owners}
        h.siblings = h.sibling_maps[h.owners[0].name]
    return held


def _parent(name: str) -> str:
    return name.rpartition(".")[0]


def _types(obj: Any) -> tuple[str, ...]:
    return tuple(c.__name__ for c in type(obj).__mro__ if c is not object)


# ---------------------------------------------------------------------------------- torch


def _torch(model: Any, framework: str) -> Iterator[Held]:
    seen: dict[int, Held] = {}
    for prefix, module in model.named_modules(remove_duplicate=False):
        for local, t in [*module._parameters.items(), *module._buffers.items()]:
            if t is None:
                continue
            full = f"{prefix}.{local}" if prefix else local
            layout = replace(LAYOUTS["torch"], groups=int(getattr(module, "groups", 1) or 1),
                             transposed=bool(getattr(module, "transposed", False)))
            if id(t) in seen:  # tied: one more name, with its own module
                if full not in seen[id(t)].names:
                    seen[id(t)].names.append(full)
                    seen[id(t)].owners.append(Owner(full, _types(module), module, local, layout))
                continue
            seen[id(t)] = h = Held([full], _types(module), module, local, framework, layout,
                                   tuple(t.shape), str(t.dtype).replace("torch.", ""),
                                   functools.partial(as_checkable, t), sharded=is_sharded(t))
            yield h


# ------------------------------------------------------------------------------ flax nnx


def _nnx(model: Any, framework: str) -> Iterator[Held]:
    from flax import nnx

    nodes = dict(nnx.iter_graph(model))
    for path, node in nodes.items():
        if not isinstance(node, nnx.Variable) or isinstance(node, nnx.RngState):
            continue
        owner = nodes.get(path[:-1])
        value = node.get_value() if hasattr(node, "get_value") else node.value
        layout = (_general_layout(owner) if str(path[-1]) == "kernel" else None) or LAYOUTS["flax"]
        yield Held([".".join(map(str, path))], _types(owner), owner, str(path[-1]), framework,
                   layout, tuple(value.shape), str(value.dtype),
                   functools.partial(as_checkable, value), sharded=is_sharded(value))


def _count(value: Any) -> int:
    return len(value) if isinstance(value, (tuple, list, dict)) or hasattr(value, "keys") else 1


def _general_layout(module: Any) -> Layout | None:
    """The kernel axes of flax's general dense layers (nnx ``LinearGeneral``, linen
    ``DenseGeneral``, so ``MultiHeadAttention``'s projections): kernel (batch, in..., out...),
    drawn by flax as the flat (prod(batch) * prod(in), prod(out)) matrix, so the batch and in
    axes are its fan_in's and the out axes its fan_out's. None for any other module."""
    types = _types(module) if module is not None else ()
    if "LinearGeneral" in types:  # nnx
        n_batch, n_in, n_out = (len(module.batch_axis), len(module.in_features),
                                len(module.out_features))
    elif "DenseGeneral" in types:  # linen
        n_batch, n_in, n_out = (_count(module.batch_dims), _count(module.axis),
                                _count(module.features))
    else:
        return None
    ins = tuple(range(n_batch + n_in))
    outs = tuple(range(n_batch + n_in, n_batch + n_in + n_out))
    return Layout("general dense", in_axis=ins if len(ins) > 1 else ins[0],
                  out_axis=outs if len(outs) > 1 else outs[0])


# ------------------------------------------------------------------ jax pytrees, equinox

#: flax linen names submodules ``Dense_0``: the class name is the key without its index.
_LINEN_INDEX = re.compile(r"_\d+$")


def _key_types(key: str) -> tuple[str, ...]:
    """The module classes a params-dict key names: flax linen's ``Dense_0`` (``Dense``), and
    haiku's ``mlp/~/linear_0``, its last module's snake-case name (``Linear``; ``conv2_d`` is
    ``Conv2D``)."""
    name = _LINEN_INDEX.sub("", key)
    last = name.rpartition("/")[2]
    camel = "".join(part[:1].upper() + part[1:] for part in last.split("_"))
    return (name, camel) if camel != name else (name,)


def _pytree(tree: Any, framework: str) -> Iterator[Held]:
    """Leaves with a shape and a dtype, walked through dicts, lists, tuples and dataclass
    modules (equinox). The module type is the owning object's class, or for a plain dict
    the key it sits under with flax's ``_<index>`` removed (``Dense_0`` -> ``Dense``)."""
    def walk(node: Any, path: tuple[str, ...], owner: Any, types: tuple[str, ...]):
        if hasattr(node, "shape") and hasattr(node, "dtype") and not isinstance(node, type):
            layout = LAYOUTS["torch" if "Module" in types and owner is not None else "flax"]
            groups = getattr(owner, "groups", 1) if owner is not None else 1
            if isinstance(groups, int) and groups > 1:  # an equinox grouped Conv
                layout = replace(layout, groups=groups)
            yield Held(
                [".".join(path)],
                types,
                owner,
                path[-1] if path else "",
                framework,
                layout,
                tuple(node.shape),
                str(node.dtype),
                functools.partial(as_checkable, node),
                sharded=is_sharded(node),
            )
            return
        if isinstance(node, dict) or (hasattr(node, "items") and hasattr(node, "keys")):
            sub = _key_types(path[-1]) if path else ()
            for k, v in node.items():
                yield from walk(v, (*path, str(k)), None if sub else owner, sub or types)
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                yield from walk(v, (*path, str(i)), owner, types)
        elif hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                yield from walk(getattr(node, name, None), (*path, name), node, _types(node))

    yield from walk(tree, (), None, ())


# ----------------------------------------------------------------------------- flax linen


@dataclass(frozen=True)
class _LinenVariables:
    """A linen module with its variables: the pytree to read, and the module that says what
    class each submodule path holds."""

    module: Any
    variables: Any

    def items(self) -> Any:  # read as a pytree of variables
        return self.variables.items()


def model_name(model: Any) -> str:
    """The model's class name (a linen module's, given with its variables)."""
    linen = _linen(model)
    return type(linen[0] if linen is not None else model).__name__


def _linen(model: Any) -> tuple[Any, Any] | None:
    """(module, variables) for a linen module given with its variables or bound; else None."""
    def is_linen(obj: Any) -> bool:
        return any(f"{c.__module__}.{c.__name__}" == "flax.linen.module.Module"
                   for c in type(obj).__mro__)

    if isinstance(model, tuple) and len(model) == 2 and is_linen(model[0]):
        return model[0], model[1]
    if is_linen(model) and getattr(model, "scope", None) is not None:  # bound
        return model.unbind()[0] if hasattr(model, "unbind") else model, model.variables
    return None


def _linen_modules(module: Any, variables: Any) -> dict[tuple[str, ...], Any]:
    """Submodule path -> class names, for the submodules ``setup()`` assigns (a compact
    module's are named ``Class_<index>`` in the variables, which the pytree reader reads)."""
    bound = module.bind(variables)
    found: dict[tuple[str, ...], Any] = {(): module}

    def walk(mod: Any, path: tuple[str, ...]) -> None:
        mod._try_setup()
        for name, value in vars(mod).items():
            if name.startswith("_") or name == "parent" or not _is_module(value):
                continue
            sub = (*path, name)
            found[sub] = value
            walk(value, sub)

    def _is_module(obj: Any) -> bool:
        return hasattr(obj, "_try_setup") and hasattr(obj, "scope")

    walk(bound, ())
    return found


def _linen_pytree(model: _LinenVariables, framework: str) -> Iterator[Held]:
    """A linen module's variables (``params`` and the other collections), each tensor with its
    submodule's class where ``setup()`` named it."""
    known = _linen_modules(model.module, model.variables)
    for held in _pytree(model.variables, "jax"):
        path = tuple(held.name.split("."))
        module_path = path[1:-1] if path[0] in model.variables else path[:-1]
        module = known.get(module_path)
        if module is None:
            yield held
            continue
        layout = (_general_layout(module) if path[-1] == "kernel" else None) or held.layout
        yield replace(held, module_types=_types(module), layout=layout, owners=[])


# ---------------------------------------------------------------------------------- keras


def _einsum_layout(layer: Any) -> Layout | None:
    """An EinsumDense kernel's axes, read from its equation as keras reads them: the kernel's
    letters summed over (in the input, not the output) are its in axes, those in the output
    its out axes (``"abc,cde->abde"``: in c, out d and e); None for any other layer."""
    equation = getattr(layer, "equation", None)
    if not isinstance(equation, str) or equation.count("->") != 1 or "," not in equation:
        return None
    inputs, out = equation.replace(" ", "").split("->")
    x, _, kernel = inputs.partition(",")
    ins = tuple(i for i, c in enumerate(kernel) if c in x and c not in out)
    outs = tuple(i for i, c in enumerate(kernel) if c in out and c not in x)
    batch = tuple(i for i, c in enumerate(kernel) if c in x and c in out)
    if not ins or not outs:
        return None
    return Layout(f"einsum {kernel}", in_axis=ins if len(ins) > 1 else ins[0],
                  out_axis=outs if len(outs) > 1 else outs[0], batch_axes=batch)


def _keras(model: Any, framework: str) -> Iterator[Held]:
    from keras import ops

    layers = list(model._flatten_layers(include_self=True, recursive=True))
    inner: dict[int, set[int]] = {}
    for layer in layers:
        inner[id(layer)] = {id(v) for sub in layer._flatten_layers(include_self=False)
                            for v in sub.weights}
    seen: set[int] = set()
    for layer in layers:
        for v in layer.weights:
            if id(v) in inner[id(layer)] or id(v) in seen:
                continue
            seen.add(id(v))
            layout = replace(LAYOUTS["keras"], groups=int(getattr(layer, "groups", 1) or 1))
            name = v.path.replace("/", ".")
            if name.rpartition(".")[2] == "kernel":
                layout = _einsum_layout(layer) or layout
            yield Held([name], _types(layer), layer, name.rpartition(".")[2], framework, layout,
                       tuple(v.shape), str(v.dtype), functools.partial(ops.convert_to_numpy, v))


__all__ = ["FRAMEWORK_LAYOUTS", "Held", "Owner", "collect", "framework_of", "model_name"]
