"""Policies: what a model's tensors claim. An ordered list of rules, first match wins; a rule
matches a tensor's dotted name (a glob) and optionally its module's type, and claims a spec,
an exact value (``zeros``, ``ones``, ``constant``: a constant spec), ``"skip"``, or one of the
composite claims real models need:

- ``Except(claim, {index: claim}, axis=0)``: exceptions by index (an embedding's padding
  row); an index may name an attribute of the module (``"padding_idx"``);
- ``Split(axis, (claim, ...), sizes=None)``: a claim per slice along an axis (a fused qkv
  projection, a gated MLP's halves); each piece's fans are the piece's own;
- ``Relative(spec, of="weight")``: the spec resolved at a sibling tensor's shape (torch's
  bias ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` from its weight's fan_in).

Policies load from TOML for the CLI (``load``); the built-in ones, and ``as_policy`` which
resolves any of these forms, are in ``initcheck.models.presets`` (docs/models.md).
"""

from __future__ import annotations

import difflib
import fnmatch
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from initcheck.claims.specs import Spec, spec
from initcheck.core import _validate
from initcheck.core.fans import CONVENTIONS, LAYOUTS, Layout
from initcheck.frameworks.declared import Declared, declared

#: The claim that excludes a tensor from the check (it is reported as skipped).
SKIP = "skip"


@dataclass(frozen=True)
class Except:
    """``claim`` everywhere except the given indices along ``axis``, which claim their own
    (usually an exact value). An index may be a module attribute's name, read per tensor
    (``"padding_idx"``; ``None`` there means no exception). Fans are the whole tensor's."""

    claim: Spec
    index: Mapping[int | str, Spec]
    axis: int = 0


@dataclass(frozen=True)
class Split:
    """One claim per slice along ``axis``: equal parts, or the given ``sizes`` (which sum
    to the axis length). Each piece is judged as a tensor of its own shape."""

    axis: int
    claims: tuple[Any, ...]
    sizes: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Relative:
    """``claim`` resolved at the shape of the sibling tensor ``of`` (same module), applied
    element-wise to this tensor: a bias whose bound comes from its weight's fan_in. ``of`` may
    name several siblings: the first the module holds is read."""

    claim: Spec
    of: str | tuple[str, ...] = "weight"


Claim = Spec | Except | Split | Relative | str


@dataclass(frozen=True)
class Rule:
    """One line of a policy: tensors whose dotted name matches ``match`` (a glob; the root
    module's tensors match as if prefixed by a dot, so ``*.weight`` matches ``weight``) and,
    if given, whose module's class or one of its bases matches ``module`` (a glob or several)
    claim ``claim``. ``layout`` and ``convention`` say how fans are read (default: the
    framework's layout, logical fans); ``framework`` limits the rule to one framework."""

    match: str
    claim: Claim
    module: tuple[str, ...] = ()
    layout: str | Layout | None = None
    convention: str = "logical"
    framework: str | None = None
    #: it may match no tensor without error (a rule for modules a model may not have)
    optional: bool = False
    #: globs over the classes of the modules enclosing the tensor's module (any one)
    inside: tuple[str, ...] = ()

    def matches(self, name: str, module_types: Sequence[str], framework: str,
                enclosing: Sequence[str] = ()) -> bool:
        if self.framework is not None and self.framework != framework:
            return False
        if not (
            fnmatch.fnmatchcase(name, self.match) or fnmatch.fnmatchcase("." + name, self.match)
        ):
            return False
        if self.inside and not any(fnmatch.fnmatchcase(t, m)
                                   for m in self.inside for t in enclosing):
            return False
        return not self.module or any(fnmatch.fnmatchcase(t, m)
                                      for m in self.module for t in module_types)

    def describe(self) -> str:
        where = f" in {'/'.join(self.module)}" if self.module else ""
        within = f" inside {'/'.join(self.inside)}" if self.inside else ""
        return f"{self.match}{where}{within}"


@dataclass(frozen=True)
class Policy:
    """An ordered list of rules; the first that matches a tensor claims it."""

    rules: tuple[Rule, ...]
    name: str = "policy"
    #: Rules that may match nothing without error (built-in policies cover many modules).
    optional: bool = field(default=False, compare=False)
    #: A built-in preset: a model checked against it must have every float tensor claimed.
    builtin: bool = field(default=False, compare=False)

    def extended(self, *rules: Rule) -> Policy:
        """This policy with ``rules`` first (first match wins, so they take precedence): a
        built-in preset extended for a model's own modules and parameters.

        >>> from initcheck.models import rule
        >>> from initcheck.models.presets import as_policy
        >>> as_policy("torch").extended(rule("*.bias", "zeros", module="MyHead")).name
        'torch+1'
        """
        for r in rules:
            if not isinstance(r, Rule):
                raise ValueError(f"extended() takes rules made by initcheck.models.rule(...), got"
                                 f" {r!r}.")
        return replace(self, rules=(*rules, *self.rules), name=f"{self.name}+{len(rules)}")

    def rule_for(self, name: str, module_types: Sequence[str], framework: str) -> int | None:
        """The index of the first rule that claims the tensor, or None."""
        for i, r in enumerate(self.rules):
            if r.matches(name, module_types, framework):
                return i
        return None


# ------------------------------------------------------------------------- construction


def claim(value: Any, where: str) -> Claim:
    """A claim from what a user writes: a Spec or a spec's name, ``"skip"``, or a composite
    whose parts are those (validated and made Specs now)."""
    if isinstance(value, Except):
        if not isinstance(value.index, Mapping) or not value.index:
            raise ValueError(f"{where}: Except needs a mapping of index -> claim, e.g."
                             " Except(spec, {'padding_idx': 'zeros'}).")
        return Except(
            _spec(value.claim, where),
            {k: _spec(v, where) for k, v in value.index.items()},
            value.axis,
        )
    if isinstance(value, Split):
        parts = tuple(SKIP if c == SKIP else _spec(c, where) for c in value.claims)
        if len(parts) < 2:
            raise ValueError(f"{where}: Split needs two or more claims, one per slice.")
        return Split(value.axis, parts, None if value.sizes is None else tuple(value.sizes))
    if isinstance(value, Relative):
        of = value.of if isinstance(value.of, str) else tuple(value.of)
        if not of or not all(isinstance(n, str) and n for n in ((of,) if isinstance(of, str)
                                                                 else of)):
            raise ValueError(f"{where}: Relative(of={value.of!r}): name the sibling tensor"
                             " (or several, the first present is read), e.g. of='weight'.")
        return Relative(_spec(value.claim, where), of)
    if value == SKIP:
        return SKIP
    return _spec(value, where)


def _spec(value: Any, where: str) -> Spec:
    if isinstance(value, Spec):
        return value
    if isinstance(value, str):
        try:
            return spec(value)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    found = _declared(value, where)
    if found is not None:
        return found.spec
    raise ValueError(f"{where}: claim={value!r} is not a claim. Pass initcheck.spec(name,"
                     " **params), a spec's name, a torch, jax or keras initializer, 'skip',"
                     " or Except/Split/Relative.")


def _declared(value: Any, where: str) -> Declared | None:
    """What a framework initializer given as a claim declares (None for anything else)."""
    if isinstance(value, (str, Spec)):
        return None
    try:
        return declared(value)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _module_name(value: Any, where: str) -> str:
    """A module glob from a class name, a dotted one (``torch.nn.Linear``: its last part) or
    a class (``torch.nn.Conv2d``: its name)."""
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, str) and value:
        return value.rpartition(".")[2]
    raise ValueError(f"{where}: module={value!r}: pass a class ('torch.nn.Linear' or the class"
                     " itself), a class name ('Linear', a glob), or a list of them.")


def rule(match: str, claim_: Any, *, module: Any = None,
         layout: str | Layout | None = None, convention: str | None = None,
         framework: str | None = None, optional: bool = False, inside: Any = None) -> Rule:
    """A validated ``Rule``: ``rule("*.c_proj.weight", ic.spec("normal", std=0.02))``.

    The claim may be a framework's initializer as the model's code writes it
    (``keras.initializers.HeNormal()``, ``jax.nn.initializers.lecun_normal()``,
    ``functools.partial(torch.nn.init.normal_, std=0.02)``): its spec is read from its
    configuration, and ``convention`` defaults to the fans that framework computes.
    ``module`` limits it to tensors of modules of a class (or a base): a class, a class name
    or glob, a dotted name (its last part), or a list of them; ``inside`` (the same forms)
    to tensors whose module sits inside a module of such a class (torch, flax and equinox
    models say what encloses what; a flax GRUCell's hidden Linear is a Linear inside a
    GRUCell). An ``optional`` rule may match no tensor (a policy for several models); any
    other that matches none is an error.
    """
    if not isinstance(match, str) or not match:
        raise ValueError(f"rule match={match!r}: pass a glob over dotted tensor names, e.g."
                         " '*.attn.c_proj.weight'.")
    where = f"rule {match!r}"
    modules = _module_names(module, where)
    within = _module_names(inside, where)
    if layout is not None and not isinstance(layout, Layout):
        _validate.choice(f"{where}: layout", layout, LAYOUTS)
    if convention is None:
        found = _declared(claim_, where)
        convention = found.convention if found is not None else "logical"
    _validate.choice(f"{where}: convention", convention, CONVENTIONS)
    return Rule(match, claim(claim_, where), modules, layout, convention, framework,
                bool(optional), within)


def _module_names(value: Any, where: str) -> tuple[str, ...]:
    """Module globs from one class, name or glob, or a list of them (None: none)."""
    several = isinstance(value, (list, tuple, set, frozenset))
    return tuple(_module_name(m, where) for m in (value if several else
                                                 () if value is None else (value,)))


# ----------------------------------------------------------------------------------- TOML

_RULE_KEYS = ("match", "module", "layout", "convention", "framework", "skip", "spec", "params",
              "except", "split", "relative_to", "optional", "inside")


def load(path: str | Path) -> Policy:
    """A policy from a TOML file: a ``name`` and ``[[rule]]`` tables (docs/models.md)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the same parser as a package
        import tomli as tomllib

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"policy file {str(path)!r} does not exist. Pass the path of a TOML"
                         " policy, or a built-in policy's name ('torch', 'flax').")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"policy file {str(path)!r} is not valid TOML: {exc}") from None
    _validate.keywords(f"policy file {str(path)!r}", data, ("name", "optional", "rule"))
    rules = data.get("rule")
    if not isinstance(rules, list) or not rules:
        raise ValueError(f"policy file {str(path)!r} has no [[rule]] tables: add one per group"
                         " of tensors (match = '...', spec = '...').")
    return Policy(tuple(_toml_rule(r, i, path) for i, r in enumerate(rules)),
                  str(data.get("name", path.stem)), optional=bool(data.get("optional", False)))


def _toml_rule(table: dict[str, Any], i: int, path: Path) -> Rule:
    where = f"{path.name} rule {i + 1}"
    _validate.keywords(where, table, _RULE_KEYS)
    if "match" not in table:
        raise ValueError(f"{where} has no match: add match = '<glob over tensor names>'.")
    where = f"{path.name} rule {i + 1} ({table['match']!r})"
    kinds = [k for k in ("skip", "spec", "split") if k in table]
    if len(kinds) != 1:
        raise ValueError(f"{where}: give exactly one of skip = true, spec = '<name>' or"
                         f" split = {{...}}; got {kinds or 'none'}.")
    if "skip" in table:
        c: Any = SKIP
    elif "split" in table:
        c = _toml_split(table["split"], where)
    else:
        c = _toml_spec(table, where)
        if "except" in table:
            c = Except(c, {_index(e, where): _toml_spec(e, where) for e in table["except"]},
                       _axis(table["except"], where))
        if "relative_to" in table:
            to = table["relative_to"]
            c = Relative(c, tuple(map(str, to)) if isinstance(to, list) else str(to))
    return rule(table["match"], c, module=table.get("module"), layout=table.get("layout"),
                convention=table.get("convention", "logical"), framework=table.get("framework"),
                optional=bool(table.get("optional", False)), inside=table.get("inside"))


def _toml_spec(table: Mapping[str, Any], where: str) -> Spec:
    params = table.get("params", {})
    if not isinstance(params, Mapping):
        raise ValueError(f"{where}: params must be a table, e.g. params = {{std = 0.02}}.")
    name = table.get("spec")
    if not isinstance(name, str):
        raise ValueError(f"{where}: spec must be a name, e.g. spec = \"normal\"; got {name!r}.")
    try:
        return spec(name, **params)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _index(entry: Mapping[str, Any], where: str) -> int | str:
    index = entry.get("index")
    if isinstance(index, bool) or not isinstance(index, (int, str)):
        raise ValueError(f"{where}: each except entry needs index = <int> or a module"
                         " attribute's name ('padding_idx').")
    return index


def _axis(entries: Sequence[Mapping[str, Any]], where: str) -> int:
    axes = {int(e.get("axis", 0)) for e in entries}
    if len(axes) != 1:
        raise ValueError(
            f"{where}: all except entries of a rule share one axis, got {sorted(axes)}."
        )
    return axes.pop()


def _toml_split(table: Mapping[str, Any], where: str) -> Split:
    parts = table.get("parts")
    if not isinstance(parts, list) or len(parts) < 2:
        raise ValueError(f"{where}: split needs parts = [{{spec = ...}}, ...] with two or more"
                         " entries.")
    sizes = table.get("sizes")
    return Split(int(table.get("axis", 0)),
                 tuple(SKIP if p.get("skip") else _toml_spec(p, where) for p in parts),
                 None if sizes is None else tuple(int(s) for s in sizes))


def closest(pattern: str, names: Sequence[str], n: int = 3) -> list[str]:
    """The tensor names closest to a glob that matched none (for the error message)."""
    stem = pattern.replace("*", "").replace("?", "")
    return difflib.get_close_matches(stem, names, n=n, cutoff=0.3) or list(names[:n])


__all__ = ["SKIP", "Claim", "Except", "Policy", "Relative", "Rule", "Split", "claim", "closest",
           "load", "rule"]
