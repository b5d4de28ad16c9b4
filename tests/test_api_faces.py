"""The model wing and the faces over their input space (issue 14): check_tensor on every
built-in's draws in every dtype and array library, check_model on torch and flax models
assembled from random layers, identify on laws inside its space, trace_model on nets
initialized with initcheck's own gains, and the CLI on argument lists built from the same
space: right answers or errors naming the argument; never a traceback from the CLI.

False alarms: every statistical call runs at the default family-wise alpha 1e-6."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import event, example, given, strategies as st

import initcheck as ic
from initcheck.claims.initializers import Initializer
from initcheck.cli import parser as cli
from tests.api_space import (
    activations_,
    builtins,
    contract,
    examples,
    layer_shapes,
    layouts,
)

torch = pytest.importorskip("torch")
nn = torch.nn

TORCH_DTYPES = ["float16", "bfloat16", "float32", "float64"]


def _to(values: np.ndarray, where: str, dtype: str):
    """``values`` (float64) as a NumPy, torch or jax array of ``dtype``: rounded, as a model
    cast after its initialization is."""
    if where == "torch":
        return torch.from_numpy(values).to(getattr(torch, dtype))
    if where == "jax":
        jnp = pytest.importorskip("jax.numpy")

        return jnp.asarray(values.astype(np.float32))
    return values.astype(_numpy_dtype(dtype))


def _numpy_dtype(name: str):
    if name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(name)


# -------------------------------------------------------------------------- check_tensor


@st.composite
def tensors(draw):
    name, canonical, params = draw(builtins())
    layout = draw(layouts())
    shapes, groups, transposed = draw(layer_shapes(layout, max_elements=8192, count=(1, 1)))
    lay = ic.get_layout(layout, groups=groups, transposed=transposed)
    where = draw(st.sampled_from(["numpy", "torch", "jax"]))
    dtype = draw(st.sampled_from(TORCH_DTYPES if where != "jax" else ["float32"]))
    expect = ic.spec(name, **params) if params or draw(st.booleans()) else name
    return name, params, lay, shapes[0], where, dtype, expect, draw(st.integers(0, 2**32))


@examples(60)
@given(tensors())
# found by the wide run: a coarse grid against the claim (U[2, 2.05) in bfloat16), and a
# 1x1 orthogonal whose +-gain is not a bfloat16 value
@example(
    (
        "uniform",
        {"low": 2.0, "high": 2.05},
        ic.get_layout("flax"),
        (12, 14),
        "numpy",
        "bfloat16",
        ic.spec("uniform", low=2.0, high=2.05),
        0,
    )
)
@example(("orthogonal", {"gain": 0.943359375}, ic.get_layout("flax"), (1, 1), "numpy", "bfloat16",
          ic.spec("orthogonal", gain=0.943359375), 0))
def test_check_tensor_passes_every_builtins_draw_in_every_dtype(drawn):
    name, params, lay, shape, where, dtype, expect, seed = drawn
    with contract(*params, "layout", "shape", "expect", "x", "dtype") as refused:
        values = Initializer(ic.spec(name, **params), layout=lay)(shape, rng=seed, dtype=np.float64)
        report = ic.check_tensor(_to(values, where, dtype), expect, layout=lay)
    if refused:
        event(f"refused: {str(refused[0])[:50]}")
        return
    event(f"checked {where}")
    assert report.passed, str(report)


# --------------------------------------------------------------------------- check_model


@st.composite
def torch_layers(draw):
    c = st.integers(1, 24)
    kind = draw(st.sampled_from(["linear", "conv1d", "conv2d", "convt1d", "convt2d", "embedding",
                                 "layernorm", "batchnorm", "mha", "lstm", "gru", "prelu"]))
    bias = draw(st.booleans())
    if kind == "linear":
        return nn.Linear(draw(c), draw(c), bias=bias)
    if kind.startswith("conv"):
        g = draw(st.sampled_from([1, 1, 2, 4]))
        cin, cout = g * draw(st.integers(1, 6)), g * draw(st.integers(1, 6))
        k = draw(st.integers(1, 3))
        make = {"conv1d": nn.Conv1d, "conv2d": nn.Conv2d, "convt1d": nn.ConvTranspose1d,
                "convt2d": nn.ConvTranspose2d}[kind]
        return make(cin, cout, k, groups=g, bias=bias)
    if kind == "embedding":
        n = draw(st.integers(2, 64))
        return nn.Embedding(
            n, draw(c), padding_idx=draw(st.one_of(st.none(), st.integers(0, n - 1)))
        )
    if kind == "layernorm":
        return nn.LayerNorm(draw(c), elementwise_affine=bias)
    if kind == "batchnorm":
        return nn.BatchNorm1d(draw(c))
    if kind == "mha":
        heads = draw(st.integers(1, 3))
        return nn.MultiheadAttention(heads * draw(st.integers(1, 8)), heads, bias=bias)
    if kind in ("lstm", "gru"):
        return (nn.LSTM if kind == "lstm" else nn.GRU)(
            draw(c), draw(c), num_layers=draw(st.integers(1, 2)), bias=bias
        )
    return nn.PReLU(draw(st.integers(1, 4)))


@examples(30)
@given(layers=st.lists(torch_layers(), min_size=1, max_size=5), dtype=st.sampled_from(TORCH_DTYPES),
       seed=st.integers(0, 2**31))
def test_check_model_passes_torch_models_fresh_from_their_constructors(layers, dtype, seed):
    torch.manual_seed(seed)
    for layer in layers:  # re-run each constructor's own init under this seed
        layer.reset_parameters() if hasattr(layer, "reset_parameters") else None
        if isinstance(layer, nn.MultiheadAttention):
            layer._reset_parameters()
    model = nn.Sequential(*layers).to(getattr(torch, dtype))
    with contract("model") as refused:  # a model with no tensors at all is refused
        report = ic.check_model(model, "torch")
    if refused:
        assert not list(model.parameters()) and not list(model.buffers())
        return
    assert report.passed, report.failure_message()
    assert not report.unmatched, report.unmatched


@examples(8)
@given(sizes=st.lists(st.tuples(st.integers(1, 12), st.integers(1, 12)), min_size=1, max_size=3),
       conv=st.booleans(), seed=st.integers(0, 2**31))
def test_check_model_passes_flax_models_fresh_from_their_constructors(sizes, conv, seed):
    nnx = pytest.importorskip("flax.nnx")

    class Net(nnx.Module):
        def __init__(self, rngs):
            self.layers = (
                nnx.List([nnx.Linear(i, o, rngs=rngs) for i, o in sizes])
                if hasattr(nnx, "List")
                else [nnx.Linear(i, o, rngs=rngs) for i, o in sizes]
            )
            self.norm = nnx.LayerNorm(sizes[-1][1], rngs=rngs)
            if conv:
                self.conv = nnx.Conv(sizes[0][0], sizes[0][1], (3,), rngs=rngs)

    report = ic.check_model(Net(nnx.Rngs(seed)), "flax")
    assert report.passed, report.failure_message()


# ------------------------------------------------------------------------------ identify

#: Laws inside identify's space: its families, fan modes and named gains.
_IN_SPACE = st.one_of(
    st.tuples(
        st.sampled_from(["he_normal", "he_uniform"]),
        st.fixed_dictionaries(
            {"mode": st.sampled_from(["fan_in", "fan_out", "fan_avg"])},
            optional={"nonlinearity": st.sampled_from(["relu", "tanh", "linear", "selu"])},
        ),
    ),
    st.tuples(
        st.sampled_from(["xavier_normal", "xavier_uniform", "orthogonal"]),
        st.fixed_dictionaries({}, optional={"gain": st.sampled_from([1.0, math.sqrt(2), 5 / 3])}),
    ),
    st.tuples(st.sampled_from(["lecun_normal", "lecun_uniform", "small_normal"]), st.just({})),
    st.tuples(
        st.just("variance_scaling"),
        st.fixed_dictionaries(
            {
                "scale": st.sampled_from([1.0, 2.0]),
                "mode": st.sampled_from(["fan_in", "fan_out", "fan_avg"]),
                "distribution": st.sampled_from(["normal", "truncated_normal", "uniform"]),
            }
        ),
    ),
)


@examples(20)
@given(drawn=_IN_SPACE, layout=st.sampled_from(["torch", "keras"]), seed=st.integers(0, 2**31),
       shapes=st.lists(st.tuples(st.integers(16, 96), st.integers(16, 96)), min_size=1, max_size=3))
def test_identify_finds_a_law_inside_its_space(drawn, layout, seed, shapes):
    name, params = drawn
    init = ic.initializers.get(name, **params, layout=layout)
    found = ic.identify(init, shapes=shapes, seed=seed)
    assert found, f"{init} was not identified"
    truth = {s: init.law(s) for s in shapes}

    def same_law(c) -> bool:
        laws = {s: c.spec.law(s, c.layout, convention=c.convention) for s in shapes}
        close = (lambda a, b: abs(a / b - 1) < 1e-6) if c.named else \
            (lambda a, b: abs(a / b - 1) < 6 * c.std_ratio_se + 1e-6)
        return all(
            close(laws[s].std, truth[s].std) and laws[s].bounded == truth[s].bounded for s in shapes
        )

    assert any(same_law(c) for c in found), [c.claim for c in found]


# ---------------------------------------------------------------------------- trace_model

_TORCH_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "leaky_relu": nn.LeakyReLU,
    "linear": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
}


@examples(20)
@given(name=st.sampled_from(sorted(_TORCH_ACTIVATIONS)), depth=st.integers(6, 12),
       width=st.integers(48, 128), seed=st.integers(0, 2**31))
def test_a_net_made_with_initchecks_forward_gain_passes_the_forward_trace(name, depth, width, seed):
    g = float(ic.gain(name))
    torch.manual_seed(seed)
    blocks = []
    for _ in range(depth):
        linear = nn.Linear(width, width, bias=False)
        nn.init.normal_(linear.weight, 0.0, g / math.sqrt(width))
        blocks.append(nn.Sequential(linear, _TORCH_ACTIVATIONS[name]()))
    model = nn.Sequential(*blocks)
    trace = ic.trace_model(
        model, torch.randn(256, width, generator=torch.Generator().manual_seed(seed))
    )
    assert trace.forward is not None and trace.forward.passed, str(trace)


@examples(20)
@given(width=st.integers(2, 16), depth=st.integers(2, 5), data=st.data())
def test_trace_model_refuses_inputs_the_model_cannot_take_by_name(width, depth, data):
    model = nn.Sequential(
        *[nn.Sequential(nn.Linear(width, width), nn.ReLU()) for _ in range(depth)]
    )
    bad = data.draw(
        st.sampled_from(
            [
                ("inputs", torch.randn(4, width + 1), {}),
                ("inputs", torch.zeros(4, width, dtype=torch.long), {}),
                ("inputs", "x", {}),
                ("inputs", None, {}),
                ("loss", torch.randn(4, width), {"loss": 3}),
                ("loss", torch.randn(4, width), {"loss": lambda out: out}),
                ("factor", torch.randn(4, width), {"factor": 1.0}),
                ("seed", torch.randn(4, width), {"seed": -2}),
                ("blocks", torch.randn(4, width), {"blocks": "nothing.*"}),
            ]
        )
    )
    argument, inputs, kwargs = bad
    with contract(argument) as refused:
        ic.trace_model(model, inputs, **kwargs)
    assert refused, f"trace_model accepted {argument}"


# ----------------------------------------------------------------------------------- CLI


@st.composite
def cli_calls(draw):
    """An argument list for verify, simulate, gain, list or identify: mostly valid, sometimes
    with one option spoiled."""
    command = draw(st.sampled_from(["verify", "simulate", "gain", "list", "identify"]))
    name, _, params = draw(builtins())
    act, act_name, act_params = draw(activations_())
    argv = [command]
    if command == "gain":
        argv += [act_name, *(f"--param={k}={v}" for k, v in act_params.items())]
        argv += ["--sigma-b", str(draw(st.sampled_from([0.0, 0.3])))]
    elif command == "list":
        argv += [
            "--shape",
            ",".join(map(str, draw(st.lists(st.integers(1, 9), min_size=1, max_size=4)))),
        ]
        argv += ["--layout", draw(st.sampled_from(sorted(ic.LAYOUTS)))]
    else:
        argv += [name, *(f"--kwarg={k}={v}" for k, v in params.items())]
        layout = draw(st.sampled_from(sorted(ic.LAYOUTS)))
        argv += ["--layout", layout]
        if command in ("verify", "identify"):
            shapes, _, _ = draw(layer_shapes(layout, max_elements=4096))
            argv += [a for s in shapes for a in ("--shape", ",".join(map(str, s)))]
        if command == "verify" and draw(st.booleans()):
            argv += [
                "--activation",
                act_name,
                "--dtype",
                draw(st.sampled_from(["float32", "float64"])),
            ]
        if command == "simulate":
            argv += [
                "--activation",
                act_name,
                "--depth",
                str(draw(st.integers(1, 5))),
                "--width",
                str(draw(st.integers(1, 40))),
                "--batch",
                str(draw(st.integers(1, 64))),
            ]
    if draw(st.integers(0, 4)) == 0:  # spoil one option
        argv += draw(st.sampled_from([["--seed", "-1"], ["--alpha", "2"], ["--shape", "3,x"],
                                      ["--layout", "caffe"], ["--depth", "0"], ["--width", "1.5"],
                                      ["--kwarg", "nope"], ["--json"], ["--param", "a=b"],
                                      ["--dtype", "int8"], ["--activation", "swishy"]]))
    return argv


@examples(60)
@given(cli_calls())
def test_the_cli_answers_with_an_exit_code_and_never_a_traceback(argv, ):
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
    text = err.getvalue()
    event(f"{argv[0]} exit {code}")
    assert "Traceback" not in text and "internal error" not in text, (argv, text)
    assert code in (0, 1, 2), (argv, code, text)
    if code == 2:
        assert "error" in text, (argv, text)  # a usage error says what is wrong
    if code == 1 and argv[0] == "identify":  # exit 1: no law of the space fits (documented)
        assert "nothing in the search space" in out.getvalue(), out.getvalue()
    elif code == 1:  # only a propagation property may fail for a correct built-in
        assert argv[0] == "verify" and "--activation" in argv, (argv, out.getvalue())
        assert "FAIL propagation" in out.getvalue() and "FAIL std" not in out.getvalue(), (
            out.getvalue()
        )


_W = np.random.default_rng(0).normal(0, 0.05, (32, 16))
BAD_CALLS = [
    ("x", lambda: ic.check_tensor("weights", "he_normal")),
    ("x", lambda: ic.check_tensor(np.zeros((0, 3)), "he_normal")),
    ("x", lambda: ic.check_tensor(np.array([[1 + 1j]]), "he_normal")),
    ("expect", lambda: ic.check_tensor(_W, 3)),
    ("expect", lambda: ic.check_tensor(_W, "he_norml")),
    ("layout", lambda: ic.check_tensor(_W, "he_normal", layout="caffe")),
    ("alpha", lambda: ic.check_tensor(_W, "he_normal", alpha=2)),
    ("convention", lambda: ic.check_tensor(_W, "he_normal", convention="tf")),
    ("policy", lambda: ic.check_model(nn.Linear(4, 4), "pytorch")),
    ("policy", lambda: ic.check_model(nn.Linear(4, 4), 3)),
    ("framework", lambda: ic.check_model(nn.Linear(4, 4), "torch", framework="tensorflow")),
    ("alpha", lambda: ic.check_model(nn.Linear(4, 4), "torch", alpha=0)),
    ("model", lambda: ic.check_model("a model", "torch")),
    ("subject", lambda: ic.identify(3)),
    ("shapes", lambda: ic.identify("he_normal", shapes=[(0, 4)])),
    ("layout", lambda: ic.identify("he_normal", layout="caffe")),
    ("seed", lambda: ic.identify("he_normal", seed=-1)),
    ("activation", lambda: ic.simulate("he_normal", "swishy")),
    ("depth", lambda: ic.simulate("he_normal", "relu", depth=0)),
    ("width", lambda: ic.simulate("he_normal", "relu", width=[4, 0])),
    ("batch", lambda: ic.simulate("he_normal", "relu", batch=0)),
    ("bias", lambda: ic.simulate("he_normal", "relu", bias=-1)),
    ("dtype", lambda: ic.simulate("he_normal", "relu", dtype=np.int8)),
    ("bins", lambda: ic.simulate("he_normal", "relu", bins=0)),
    ("hist_range", lambda: ic.simulate("he_normal", "relu", hist_range=(1, -1))),
    ("init", lambda: ic.simulate(3, "relu")),
    ("activation", lambda: ic.gain("swishy")),
    ("criterion", lambda: ic.gain("relu", "sideways")),
    ("sigma_b", lambda: ic.gain("relu", sigma_b=-0.1)),
    ("a", lambda: ic.gain("leaky_relu", a="x")),
]


@pytest.mark.parametrize(
    "argument, call", BAD_CALLS, ids=[f"{i}-{a}" for i, (a, _) in enumerate(BAD_CALLS)]
)
def test_the_model_wing_and_simulator_refuse_a_bad_argument_by_name(argument, call):
    with contract(argument) as refused:
        call()
    assert refused, f"accepted a bad {argument}"
