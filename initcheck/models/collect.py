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
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from initcheck.core.fans import LAYOUTS, Layout
from initcheck.frameworks.sharding import as_checkable, is_sharded
from initcheck.models.collect_keras import keras_held
from initcheck.models.held import Held, Owner, types_of

#: Frameworks ``check_model`` reads, and the layout each stores weights in.
FRAMEWORK_LAYOUTS = {"torch": "torch", "flax": "flax", "jax": "flax", "equinox": "torch",
                     "keras": "keras"}


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
    reader = {"torch": _torch, "flax": _nnx, "keras": keras_held, "equinox": _pytree,
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


# ---------------------------------------------------------------------------------- torch


def _torch(model: Any, framework: str) -> Iterator[Held]:
    seen: dict[int, Held] = {}
    modules = dict(model.named_modules(remove_duplicate=False))
    for prefix, module in modules.items():
        parts = prefix.split(".") if prefix else []
        outer = tuple(t for k in range(len(parts))
                      for t in types_of(modules.get(".".join(parts[:k]), None)))
        transient: set[str] = getattr(module, "_non_persistent_buffers_set", set())
        for local, t in [*module._parameters.items(), *module._buffers.items()]:
            if t is None:
                continue
            full = f"{prefix}.{local}" if prefix else local
            if type(t).__name__.startswith("Uninitialized"):  # a Lazy* module's, unbuilt
                raise ValueError(f"{full} is an uninitialized parameter of a lazy module"
                                 f" ({type(module).__name__}): it has no shape or values yet."
                                 " Run one forward pass (model(example_input)) before checking.")
            layout = replace(LAYOUTS["torch"], groups=int(getattr(module, "groups", 1) or 1),
                             transposed=bool(getattr(module, "transposed", False)))
            if id(t) in seen:  # tied: one more name, with its own module
                if full not in seen[id(t)].names:
                    seen[id(t)].names.append(full)
                    seen[id(t)].owners.append(Owner(full, types_of(module), module, local, layout,
                                                    outer))
                continue
            seen[id(t)] = h = Held([full], types_of(module), module, local, framework, layout,
                                   tuple(t.shape), str(t.dtype).replace("torch.", ""),
                                   functools.partial(as_checkable, t), sharded=is_sharded(t),
                                   enclosing=outer, transient=local in transient)
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
        outer = tuple(t for k in range(len(path) - 1) if isinstance(nodes.get(path[:k]), nnx.Module)
                      for t in types_of(nodes[path[:k]]))
        yield Held([".".join(map(str, path))], types_of(owner), owner, str(path[-1]), framework,
                   layout, tuple(value.shape), str(value.dtype),
                   functools.partial(as_checkable, value), sharded=is_sharded(value),
                   enclosing=outer)


def _count(value: Any) -> int:
    return len(value) if isinstance(value, (tuple, list, dict)) or hasattr(value, "keys") else 1


def _general_layout(module: Any) -> Layout | None:
    """The kernel axes of flax's general dense layers (nnx ``LinearGeneral``, linen
    ``DenseGeneral``, so ``MultiHeadAttention``'s projections): kernel (batch, in..., out...),
    drawn by flax as the flat (prod(batch) * prod(in), prod(out)) matrix, so the batch and in
    axes are its fan_in's and the out axes its fan_out's. None for any other module."""
    types = types_of(module) if module is not None else ()
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
    def walk(node: Any, path: tuple[str, ...], owner: Any, types: tuple[str, ...],
             outer: tuple[str, ...] = ()):
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
                enclosing=outer,
            )
            return
        if isinstance(node, dict) or (hasattr(node, "items") and hasattr(node, "keys")):
            sub = _key_types(path[-1]) if path else ()
            for k, v in node.items():
                yield from walk(v, (*path, str(k)), None if sub else owner, sub or types,
                                outer + types if sub else outer)
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                yield from walk(v, (*path, str(i)), owner, types, outer)
        elif hasattr(node, "__dataclass_fields__"):  # a module: its owner encloses it
            for name in node.__dataclass_fields__:
                yield from walk(getattr(node, name, None), (*path, name), node, types_of(node),
                                outer + types)

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
        if module is None:  # a compact submodule: the modules known above it enclose it
            yield replace(held, owners=[], enclosing=tuple(
                t for k in range(len(module_path)) if module_path[:k] in known
                for t in types_of(known[module_path[:k]])))
            continue
        layout = (_general_layout(module) if path[-1] == "kernel" else None) or held.layout
        outer = tuple(t for k in range(len(module_path)) if module_path[:k] in known
                      for t in types_of(known[module_path[:k]]))
        yield replace(held, module_types=types_of(module), layout=layout, owners=[],
                      enclosing=outer)


__all__ = ["FRAMEWORK_LAYOUTS", "Held", "Owner", "collect", "framework_of", "model_name"]
