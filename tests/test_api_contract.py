"""The public API over its whole input space (issue 14): every built-in with its parameters,
every layout (named, custom, multi-axis, grouped, transposed), every registered activation
(one registered by the tests) with its parameters, every dtype, names and objects, shapes and
sample counts. Each call either returns a right answer or raises ValueError naming an
argument it was given (``api_space.contract``); a correct built-in never FAILs.

False alarms: every verify here runs at the default family-wise alpha 1e-6, so over the ci
profile's draws (a few hundred calls) a false FAIL has probability < 1e-3; the draws are
derandomized, so a run that passes passes again.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import event, example, given, strategies as st

import initcheck as ic
from initcheck.claims.initializers import Initializer
from initcheck.theory import activations
from tests.api_space import (
    CONVENTIONS,
    CRITERIA,
    NUMPY_DTYPES,
    VECTOR_POLICIES,
    activations_,
    builtins,
    contract,
    examples,
    layer_shapes,
    layouts,
)


def _failed(report) -> list:
    return [c for c in report.checks if not c.passed]


def _propagation_ok(check) -> bool:
    """A propagation FAIL is right only where the theory itself says the design leaves the
    band (or the signal dies); the simulation must agree with the theory in every case."""
    if check.extra.get("fit_ok") is False:
        return False
    return check.passed or check.extra.get("design_ok") is False or math.isnan(check.statistic) \
        or math.isinf(check.statistic)


def _single_axis(layout) -> bool:
    lay = ic.get_layout("keras" if layout is None else layout)
    return lay.out_axis is not None and len(lay.axis_sets(4)[0]) == 1 == len(lay.axis_sets(4)[1])


@st.composite
def verify_calls(draw):
    """(target, kwargs of verify, argument names given) for a correct built-in."""
    name, canonical, params = draw(builtins())
    layout = draw(st.one_of(st.none(), layouts()))
    made_in = draw(st.one_of(st.just(layout), layouts()))  # the layout the object is made in
    shapes, groups, transposed = draw(layer_shapes(layout if layout is not None else made_in))
    if (groups or transposed) and not _single_axis(made_in):
        made_in = layout  # a grouped or transposed layer is made in a single-axis layout
    where = {"layout": made_in} if made_in is not None else {}
    if groups:
        where["groups"] = groups
    if transposed:
        where["transposed"] = transposed
    form = draw(st.sampled_from(["name", "get", "factory", "object"]))
    if form == "name" and not params and not where:
        target = name
    elif form == "factory":
        target = getattr(ic.initializers, name)(**params, **where)
    elif form == "object":
        target = Initializer(ic.spec(name, **params), **where)
    else:
        target = ic.initializers.get(name, **params, **where)
    kwargs = {}
    if layout is not None:
        kwargs["layout"] = layout
    # shapes, or the default shapes rescaled to a sample count; rarely both (refused)
    given_how = draw(st.sampled_from(["shapes"] * 6 + ["samples"] * 3 + ["both"]))
    if given_how != "samples":
        kwargs["shapes"] = shapes
    if given_how != "shapes":
        kwargs["samples"] = draw(st.integers(1000, 20_000))
    if draw(st.booleans()):
        kwargs["dtype"] = draw(st.sampled_from(NUMPY_DTYPES))
    if draw(st.booleans()):
        kwargs["expect"] = draw(st.sampled_from([ic.spec(name, **params),
                                                 *([name] if not params else [])]))
    if draw(st.integers(0, 3)) == 0:
        act, _, _ = draw(activations_())
        if draw(st.booleans()):
            kwargs["activation"] = act
        else:
            kwargs["propagation"] = ic.PropagationOptions(
                act, depth=draw(st.integers(2, 6)), width=draw(st.integers(8, 48)),
                batch=draw(st.integers(16, 128)), bias=draw(st.sampled_from([0.0, 0.1, 0.5])))
    kwargs["seed"] = draw(st.integers(0, 2**32))
    given_names = [*kwargs, *params, *where, "shape", "initializer"]
    return target, kwargs, given_names


@examples(60)
@given(verify_calls())
# what the wide run found (each fixed): a 1x1 orthogonal is +-gain, so two draws coincide
# half the time and its KS needs the randomized transform; a transposed built-in re-bound
# to a named layout lost its transposition (and a grouped one its groups); a mean of 1e-126
# overflowed scipy's moments; identify ranked a law with -inf log-likelihood
@example(("orthogonal", {"shapes": [(1, 1)], "seed": 0}, ["shapes"]))
@example(("orthogonal", {"shapes": [(1, 1)], "seed": 2}, ["shapes"]))
@example((ic.initializers.he_normal(layout="flax", transposed=True),
          {"layout": "flax", "shapes": [(1, 1, 1), (1, 6, 1)], "seed": 0}, ["layout", "shapes"]))
@example((ic.initializers.he_normal(layout="torch", groups=2),
          {"layout": "torch", "shapes": [(32, 4, 3, 3)], "seed": 0}, ["layout", "shapes"]))
@example((ic.initializers.truncated_normal(mean=2.35e-126), {"samples": 1000, "seed": 0}, ["mean"]))
@example(("truncated_normal", {"samples": 1000, "seed": 28, "propagation": ic.PropagationOptions(
    "api_space_scaled_tanh", depth=2, width=8, batch=16)}, ["propagation"]))
def test_verify_on_a_correct_builtin_passes_or_names_the_argument(call):
    target, kwargs, names = call
    with contract(*names) as refused:
        report = ic.verify(target, **kwargs)
    if refused:
        event(f"refused: {str(refused[0])[:60]}")
        return
    event("propagation" if "propagation" in kwargs or "activation" in kwargs else "verified")
    wrong = [c for c in _failed(report) if c.name != "propagation" or not _propagation_ok(c)]
    if isinstance(target, Initializer) and not isinstance(kwargs.get("layout"), ic.Layout):
        # a named layout moves the axes; the layer's groups and transposition stay the target's
        lay = target.layout
        assert (f"groups={lay.groups}" in report.initializer) == (lay.groups > 1), (
            report.initializer
        )
        assert ("transposed=True" in report.initializer) == lay.transposed, report.initializer
    assert not wrong, f"a correct built-in FAILED {[c.name for c in wrong]}:\n{report}"


@examples(60)
@given(builtins())
def test_every_name_is_one_spec_whichever_way_it_is_made(drawn):
    name, _, params = drawn
    with contract(*params, "name") as refused:
        made = ic.spec(name, **params)
    if refused:
        return
    assert ic.initializers.get(name, **params).spec == made
    assert getattr(ic.initializers, name)(**params).spec == made
    assert ic.spec(repr(made).split("'")[1], **made.params) == made  # its repr rebuilds it


# -------------------------------------------------------------------------------- fans


_SMALL_SHAPES = st.lists(st.integers(1, 12), min_size=0, max_size=5).map(tuple)


@examples(120)
@given(shape=_SMALL_SHAPES, layout=layouts(), groups=st.sampled_from([None, 1, 2, 3]),
       transposed=st.sampled_from([None, False, True]), convention=st.sampled_from(CONVENTIONS),
       vectors=st.sampled_from([None, *VECTOR_POLICIES]))
def test_compute_fans_counts_every_connection_once(
    shape, layout, groups, transposed, convention, vectors
):
    with contract("shape", "layout", "groups", "transposed", "convention", "vectors") as refused:
        fans = ic.compute_fans(shape, layout, groups=groups, transposed=transposed,
                               convention=convention, vectors=vectors)
    if refused:
        return
    assert all(isinstance(f, int) and f >= 1 for f in fans)
    if len(shape) < 2 or convention != "logical":
        return
    # from first principles: each weight joins one input channel to one output channel, so
    # fan_in x (output channels) = fan_out x (input channels) = weights per batch copy
    lay = ic.get_layout(layout, groups=groups, transposed=transposed)
    ins, outs, batch = lay.axis_sets(len(shape))
    weights = math.prod(shape) // math.prod(shape[a] for a in batch)
    g = lay.groups  # the axis that stores a per-group count: in (plain), out (transposed)
    c_in = math.prod(shape[a] for a in ins) * (1 if lay.transposed else g)
    c_out = math.prod(shape[a] for a in outs) * (g if lay.transposed else 1)
    assert fans.fan_in * c_out == weights == fans.fan_out * c_in, (fans, c_in, c_out, weights)


@examples(60)
@given(shape=_SMALL_SHAPES.filter(lambda s: len(s) >= 2), layout=layouts(),
       transposed=st.booleans(), data=st.data())
def test_fans_do_not_depend_on_the_order_axes_are_stored_in(shape, layout, transposed, data):
    lay = ic.get_layout(layout)
    with contract("shape", "layout", "transposed") as refused:
        before = ic.compute_fans(shape, lay, transposed=transposed)
    if refused:
        return
    ins, outs, batch = lay.axis_sets(len(shape))  # untransposed: transposition comes after
    perm = data.draw(st.permutations(range(len(shape))))  # new axis j holds old axis perm[j]
    where = {old: new for new, old in enumerate(perm)}
    moved = ic.Layout(
        "moved",
        in_axis=tuple(where[a] for a in ins),
        out_axis=tuple(where[a] for a in outs),
        batch_axes=tuple(where[a] for a in batch),
    )
    after = ic.compute_fans(tuple(shape[p] for p in perm), moved, transposed=transposed)
    assert after == before


@examples(60)
@given(shape=_SMALL_SHAPES.filter(lambda s: len(s) >= 2))
def test_framework_conventions_are_the_frameworks_own_fans(shape):
    torch = pytest.importorskip("torch")
    pytest.importorskip("jax")
    from jax._src.nn.initializers import _compute_fans

    t_in, t_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape, device="meta"))
    assert ic.compute_fans(shape, "torch", convention="torch")[:2] == (t_in, t_out)
    j_in, j_out = _compute_fans(shape, in_axis=-2, out_axis=-1)
    assert ic.compute_fans(shape, "jax", convention="jax")[:2] == (int(j_in), int(j_out))


# -------------------------------------------------------------------------- specs, laws


@examples(120)
@given(drawn=builtins(), shape=_SMALL_SHAPES, layout=layouts(),
       convention=st.sampled_from(CONVENTIONS), vectors=st.sampled_from([None, *VECTOR_POLICIES]))
def test_a_law_agrees_with_scipy_on_its_own_moments(drawn, shape, layout, convention, vectors):
    name, _, params = drawn
    with contract(*params, "shape", "layout", "convention", "vectors", "name") as refused:
        law = ic.spec(name, **params).law(shape, layout, convention=convention, vectors=vectors)
    if refused:
        return
    assert math.isfinite(law.mean) and math.isfinite(law.std) and law.std >= 0
    assert law.low <= law.mean <= law.high
    if law.dist is None:
        assert law.family == "constant" and law.std == 0
        return
    mean, var = (float(v) for v in law.dist.stats(moments="mv"))
    assert mean == pytest.approx(law.mean, abs=1e-9 * max(1.0, law.std))
    assert math.sqrt(var) == pytest.approx(law.std, rel=1e-9)
    lo, hi = law.dist.support()
    assert (lo, hi) == (pytest.approx(law.low), pytest.approx(law.high))
    if law.std > 0 and not hasattr(law.dist, "pk"):
        assert law.kurtosis == pytest.approx(float(law.dist.stats(moments="k")) + 3, rel=1e-6)


# ------------------------------------------------------------------------------- gains


def _gaussian(f, q: float, kinks: tuple[float, ...]) -> float:
    """E[f(sqrt(q) z)], z ~ N(0, 1), by adaptive quadrature split at the kinks: an oracle
    independent of initcheck.theory.meanfield's Gauss-Hermite rules."""
    from scipy import integrate

    s = math.sqrt(q)
    cuts = sorted({-12.0, 12.0, *(k / s for k in kinks if abs(k / s) < 12)})
    def density(z):
        return f(np.asarray(s * z)) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    return sum(
        integrate.quad(lambda z: float(density(z)), a, b, epsabs=1e-13, epsrel=1e-11, limit=200)[0]
        for a, b in zip(cuts, cuts[1:])
    )


@examples(40)
@given(
    act=activations_(),
    criterion=st.sampled_from(CRITERIA),
    sigma_b=st.sampled_from([0.0, 0.05, 0.3, 0.9, 1.2]),
)
def test_a_gain_meets_its_own_definition(act, criterion, sigma_b):
    activation, name, params = act
    with contract("activation", "criterion", "sigma_b", *params) as refused:
        if isinstance(activation, str) and params:
            g = ic.gain(activation, criterion, sigma_b=sigma_b, **params)
        else:
            g = ic.gain(activation, criterion, sigma_b=sigma_b)
    if refused:
        return
    value = float(g)
    assert isinstance(value, float)
    if math.isnan(value):
        assert g.note, "a gain with no solution says why"
        return
    assert value > 0
    phi = activations.get(activation) if isinstance(activation, str) else activation
    sw2, sb2 = value * value, sigma_b * sigma_b
    if criterion == "forward":  # q = 1 is a fixed point
        assert sw2 * _gaussian(lambda u: phi.phi(u) ** 2, 1.0, phi.kinks) + sb2 == pytest.approx(
            1, rel=1e-6
        )
    elif criterion == "backward":  # chi_1 = 1 at q = 1
        assert sw2 * _gaussian(lambda u: phi.dphi(u) ** 2, 1.0, phi.kinks) == pytest.approx(
            1, rel=1e-6
        )
    elif not g.degenerate:  # a fixed point q* with chi_1(q*) = 1
        q = g.q_star
        assert sw2 * _gaussian(lambda u: phi.phi(u) ** 2, q, phi.kinks) + sb2 == pytest.approx(
            q, rel=1e-5
        )
        assert sw2 * _gaussian(lambda u: phi.dphi(u) ** 2, q, phi.kinks) == pytest.approx(
            1, rel=1e-5
        )


# ---------------------------------------------------------------------------- simulate


@examples(40)
@given(drawn=builtins(), act=activations_(), depth=st.integers(1, 6),
       width=st.one_of(st.integers(1, 48), st.lists(st.integers(1, 32), min_size=1, max_size=6)),
       batch=st.integers(1, 96), bias=st.sampled_from([0.0, 0.2]), backward=st.booleans(),
       dtype=st.sampled_from(NUMPY_DTYPES), as_name=st.booleans())
def test_simulate_returns_a_trace_of_the_net_asked_for(
    drawn, act, depth, width, batch, bias, backward, dtype, as_name
):
    name, _, params = drawn
    activation, _, act_params = act
    init = name if as_name and not params else ic.initializers.get(name, **params)
    with contract("depth", "width", "batch", "bias", "dtype", "activation", "init", *params,
                  *act_params) as refused:
        trace = ic.simulate(init, activation, depth=depth, width=width, batch=batch, bias=bias,
                            backward=backward, dtype=dtype, seed=3)
    if refused:
        return
    assert trace.depth == depth and trace.batch == batch
    assert len(trace.layers) == depth or trace.notes, "a net that stopped early says why"
    for layer in trace.layers:
        assert (
            layer.width == trace.widths[layer.layer] and len(layer.hist) == len(trace.bin_edges) - 1
        )
        assert math.isfinite(layer.q) and layer.q >= 0
        assert (layer.grad_second is not None) == backward or not trace.complete


# ------------------------------------------------------------------------- bad arguments

#: Argument -> values that are wrong for it (type, range or name).
BAD_VALUES = {
    "seed": [-1, 1.5, "0", None],
    "alpha": [0, 1, -0.1, math.nan, "x"],
    "samples": [0, -5, 2.5],
    "shapes": [[(0, 3)], [(3, -1)], "34", [(3.0, 4)], [(2**20, 2**20)]],
    "dtype": [np.int32, "weights", np.complex64],
    "layout": ["caffe", 3],
    "activation": ["swishy", 3],
    "expect": ["he_norml", 3],
    "framework": ["tensorflow"],
    "convention": ["tf"],
}
#: PropagationOptions fields -> wrong values (refused when the options are made).
BAD_OPTIONS = {"depth": [1, 0, 2.5], "width": [0, -3], "batch": [0], "bias": [-0.1, "x"]}


@examples(60)
@given(call=verify_calls(), data=st.data())
def test_one_bad_argument_is_refused_by_name(call, data):
    target, kwargs, _ = call
    argument = data.draw(st.sampled_from(sorted([*BAD_VALUES, *BAD_OPTIONS])))
    if argument in BAD_OPTIONS:
        field = {argument: data.draw(st.sampled_from(BAD_OPTIONS[argument]))}
        with contract(argument) as refused:
            ic.PropagationOptions("tanh", **field)
        assert refused, f"PropagationOptions({field}) was accepted"
        return
    kwargs = {**kwargs, argument: data.draw(st.sampled_from(BAD_VALUES[argument]))}
    if argument != "samples":  # from a valid call: shapes or samples, not both
        kwargs.pop("samples", None) if "shapes" in kwargs else None
    else:
        kwargs.pop("shapes", None)
    if argument == "activation":
        kwargs.pop("propagation", None)
    with contract(argument) as refused:
        ic.verify(target, **kwargs)
    assert refused, f"verify(..., {argument}={kwargs[argument]!r}) was accepted"
