"""Built-in policies: what a framework itself promises about the modules it builds. A model
whose modules were never re-initialized passes its framework's policy; one whose own init
code ran fails it, tensor by tensor. A built-in rule that matches nothing is no error (one
policy covers many module types). Sources: each module's ``reset_parameters`` (torch),
``param`` defaults (flax linen and nnx), ``build`` defaults (keras); docs/models.md."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from initcheck.claims.laws import TRUNCATED_STD_2
from initcheck.claims.specs import Spec, spec
from initcheck.core import _validate
from initcheck.core.fans import EMBEDDING, LAYOUTS
from initcheck.models.policy import Except, Policy, Relative, Rule, Split, claim, load, rule
from initcheck.models.transformers_preset import transformers

#: torch modules that reset as Linear does (kaiming_uniform_(a=sqrt(5)), bias from fan_in).
_TORCH_AFFINE = ("Linear", "_ConvNd")
#: torch normalization modules: weight ones, bias zeros.
_TORCH_NORMS = ("_NormBase", "LayerNorm", "GroupNorm", "RMSNorm")


def _inverse_sqrt_fan_in() -> Spec:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)), torch's and equinox's bias (and equinox's weight)
    bound: U(-r, r) with r^2 = 3 * (1/3) / fan_in."""
    return spec("variance_scaling", scale=1 / 3, mode="fan_in", distribution="uniform")


def torch() -> Policy:
    """torch.nn's documented defaults: Linear and Conv*/ConvTranspose* (grouped too) weights
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) through kaiming_uniform_(a=sqrt(5)), biases the same
    bound from the weight's fan_in (torch's own fans); Embedding N(0, 1) with the padding
    row zero; norms' weights ones and biases zeros, BatchNorm's running statistics 0 and 1;
    MultiheadAttention's projections xavier_uniform_, its biases zeros; RNN/LSTM/GRU and
    their cells U(-1/sqrt(hidden), 1/sqrt(hidden)); PReLU 0.25."""
    # gain sqrt(2 / (1 + 5)) = sqrt(1/3): bound gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in)
    kaiming = spec("he_uniform", nonlinearity="leaky_relu", a=math.sqrt(5))
    bound = _inverse_sqrt_fan_in()
    zeros, ones = spec("zeros"), spec("ones")
    rules = (
        rule("*proj_weight", "xavier_uniform", module="MultiheadAttention", convention="torch"),
        rule("*in_proj_bias", zeros, module="MultiheadAttention"),
        rule("*bias_[kv]", "xavier_normal", module="MultiheadAttention", convention="torch"),
        rule("*.bias", zeros, module="NonDynamicallyQuantizableLinear"),  # MHA's out_proj
        rule("*.weight", kaiming, module=_TORCH_AFFINE, convention="torch"),
        rule("*.bias", Relative(bound, of="weight"), module=_TORCH_AFFINE, convention="torch"),
        rule("*.weight", Except(spec("normal"), {"padding_idx": zeros}),
             module=("Embedding", "EmbeddingBag")),
        rule("*.weight", ones, module=_TORCH_NORMS),
        rule("*.bias", zeros, module=_TORCH_NORMS),
        rule("*.running_mean", zeros, module="_NormBase"),
        rule("*.running_var", ones, module="_NormBase"),
        rule("*.num_batches_tracked", zeros, module="_NormBase"),
        # every weight and bias of an RNN: bound 1/sqrt(hidden_size): the fan_in of weight_hh,
        # or of weight_hr (hidden_size in) when an LSTM projects to proj_size < hidden_size
        rule("*", Relative(bound, of=("weight_hr_l0", "weight_hh_l0")), module="RNNBase",
             convention="torch"),
        # RNNCell/LSTMCell/GRUCell: the same bound, weight_hh being (gates x hidden, hidden)
        rule("*", Relative(bound, of="weight_hh"), module="RNNCellBase", convention="torch"),
        rule("*.weight", spec("constant", value=0.25), module="PReLU"),
    )
    return Policy(rules, "torch", optional=True, builtin=True)


def flax() -> Policy:
    """flax's defaults, linen and nnx alike: Dense/Linear and Conv kernels lecun_normal
    (truncated at 2 std and corrected; jax's fans), biases zeros; Embed N(0, 1/features);
    norms' scales ones and biases zeros, BatchNorm's mean 0 and var 1; recurrent cells'
    hidden-to-hidden kernels orthogonal; nnx LoRA's A he_uniform and B zeros; PReLU's slope
    0.01. In a linen params dict the module type is the key
    without its index (``Dense_0`` is a ``Dense``)."""
    lecun = spec("variance_scaling", scale=1.0, mode="fan_in", distribution="truncated_normal")
    zeros, ones = spec("zeros"), spec("ones")
    affine = ("Dense", "Linear", "Conv", "ConvTranspose", "DenseGeneral", "LinearGeneral",
              "ConvLocal", "Einsum")
    norms = ("LayerNorm", "RMSNorm", "BatchNorm", "GroupNorm", "InstanceNorm")
    cells = ("LSTMCell", "OptimizedLSTMCell", "GRUCell", "SimpleCell", "MGUCell")
    orthogonal = spec("orthogonal")
    rules = (
        # recurrent cells: hidden-to-hidden kernels orthogonal (nnx dense_h / hi..ho, linen's
        # compact hi..ho, hr/hz/hn, h), input kernels lecun_normal, biases zeros
        rule("*.h[ifgorzn].kernel", orthogonal, inside=cells),
        rule("*.dense_h.kernel", orthogonal, inside=cells),
        rule("*.h.kernel", orthogonal, inside="SimpleCell"),
        rule("*.kernel", lecun, inside=cells),
        rule("*.if.bias", ones, inside="MGUCell"),  # its forget gate's bias: ones
        rule("*.bias", zeros, inside=cells),
        # ConvLocal's kernel (output positions, in x k, features) too: jax reads the
        # positions as a receptive field, so its fan_in counts them
        rule("*.kernel", lecun, module=("Dense", "Linear", "Conv", "ConvTranspose", "ConvLocal",
                                         "Einsum"), convention="jax"),
        # nnx LoRA: A he_uniform (in, rank), B zeros
        rule("*.lora_a", spec("he_uniform"), module="LoRA"),
        rule("*.lora_b", zeros, module="LoRA"),
        # general dense kernels (MultiHeadAttention's projections): flax draws them as the flat
        # (batch x in, out) matrix; the layout collect reads from the module says which axes
        rule("*.kernel", lecun, module=("DenseGeneral", "LinearGeneral")),
        rule("*.bias", zeros, module=affine),
        rule(
            "*.embedding",
            spec("variance_scaling", scale=1.0, mode="fan_in", distribution="normal"),
            module="Embed",
            layout=EMBEDDING,
        ),
        rule("*.scale", ones, module=norms),
        rule("*.bias", zeros, module=norms),
        rule("*.mean", zeros, module="BatchNorm"),
        rule("*.var", ones, module="BatchNorm"),
        rule("*.negative_slope", spec("constant", value=0.01), module="PReLU"),
    )
    return Policy(rules, "flax", optional=True, builtin=True)


def _keras_einsum_axes() -> bool:
    """Whether the installed keras gives EinsumDense kernels' initializers their axes (its
    VarianceScaling takes input_axes); False where keras is not installed."""
    try:
        from keras.initializers import VarianceScaling
    except ImportError:
        return False
    return "input_axes" in VarianceScaling.__init__.__code__.co_varnames


def keras() -> Policy:
    """keras 3's defaults: Dense, Conv and EinsumDense kernels glorot_uniform (keras's fans),
    biases zeros; recurrent cells' (ConvLSTM's too) recurrent kernels orthogonal and an
    LSTM's forget-gate bias ones; Embedding U(-0.05, 0.05); norms' gamma/scale ones and beta
    zeros, moving mean 0 and variance 1; Normalization's statistics before adapt() 0 and 1;
    PReLU's alpha 0; AdditiveAttention's scale glorot_uniform, Attention's scalars 1."""
    zeros, ones = spec("zeros"), spec("ones")
    affine = ("Dense", "BaseConv", "EinsumDense", "BaseConvTranspose", "BaseDepthwiseConv",
              "BaseSeparableConv")
    cells = ("LSTMCell", "GRUCell", "SimpleRNNCell", "ConvLSTMCell")
    norms = ("LayerNormalization", "BatchNormalization", "GroupNormalization",
             "RMSNormalization")
    rules = (
        # EinsumDense (MultiHeadAttention's projections): keras >= 3.7 passes the kernel's
        # input and output axes to its VarianceScaling, so fans are logical over them (the
        # layout collect reads from the equation); before, keras read the shape literally
        rule("*.kernel", "xavier_uniform", module="EinsumDense",
             convention="logical" if _keras_einsum_axes() else "keras"),
        rule("*.kernel", "xavier_uniform", module=(*affine, *cells), convention="keras"),
        rule("*.depthwise_kernel", "xavier_uniform", module="BaseSeparableConv",
             convention="keras"),
        rule("*.pointwise_kernel", "xavier_uniform", module="BaseSeparableConv",
             convention="keras"),
        # recurrent kernels: keras's Orthogonal, rows orthonormal where units < 4 x units
        rule("*.recurrent_kernel", spec("orthogonal"), module=cells),
        # LSTMCell(unit_forget_bias=True), its default: the forget gate's quarter is ones
        rule("*.bias", Split(0, (zeros, ones, zeros, zeros)), module=("LSTMCell", "ConvLSTMCell")),
        rule("*.bias", zeros, module=(*affine, *cells)),
        rule("*.embeddings", spec("uniform", low=-0.05, high=0.05), module="Embedding"),
        rule("*.gamma", ones, module=norms),
        rule("*.beta", zeros, module=norms),
        rule("*.moving_mean", zeros, module="BatchNormalization"),
        rule("*.moving_variance", ones, module="BatchNormalization"),
        rule("*.scale", ones, module="RMSNormalization"),
        # Normalization before adapt(): its statistics are built zeros and ones
        rule("*.mean", zeros, module="Normalization"),
        rule("*.variance", ones, module="Normalization"),
        rule("*.count", zeros, module="Normalization"),
        rule("*.alpha", zeros, module="PReLU"),
        # AdditiveAttention's scale (dim,): glorot_uniform, keras's fans of a vector
        rule("*.scale", "xavier_uniform", module="AdditiveAttention", convention="keras"),
        rule("*", ones, module="Attention"),  # use_scale / score_mode="concat" scalars
    )
    return Policy(rules, "keras", optional=True, builtin=True)


def equinox() -> Policy:
    """equinox's defaults: Linear, Conv and ConvTranspose weights and biases U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) with the weight's fan_in (groups counted), stored (out, in/groups, *k);
    GRUCell/LSTMCell U(+-1/sqrt(hidden)); Embedding N(0, 1); LayerNorm and RMSNorm weight
    ones, bias zeros; PReLU 0.25. MultiheadAttention is Linears."""
    bound = _inverse_sqrt_fan_in()
    # ConvTranspose stores (out, in/groups, *k) and bounds by (in/groups) x k, as Conv does
    affine = ("Linear", "Conv", "ConvTranspose")
    norms = ("LayerNorm", "RMSNorm")
    rules = (
        rule("*.weight", bound, module=affine),
        rule("*.bias", Relative(bound, of="weight"), module=affine),
        # GRUCell/LSTMCell: every tensor U(+-1/sqrt(hidden)), weight_hh being (gates x hidden,
        # hidden)
        rule("*", Relative(bound, of="weight_hh"), module=("GRUCell", "LSTMCell")),
        rule("*.weight", spec("normal"), module="Embedding"),
        rule("*.weight", spec("ones"), module=norms),
        rule("*.bias", spec("zeros"), module=norms),
        rule("*.negative_slope", spec("constant", value=0.25), module="PReLU"),
    )
    return Policy(rules, "equinox", optional=True, builtin=True)


def haiku() -> Policy:
    """haiku's defaults, read from its params dict (``mlp/~/linear_0`` is a ``Linear``):
    Linear and ConvND weights TruncatedNormal(stddev=1/sqrt(fan_in)), cut at 2 stddev and not
    widened (so their std is 0.88/sqrt(fan_in)), transposed ones with fan_in k x in, biases
    zeros; Embed TruncatedNormal(1); norms' scale ones and offset zeros; SpectralNorm's state
    u0 N(0, 1)."""
    narrow = spec("variance_scaling", scale=TRUNCATED_STD_2**2, mode="fan_in",
                  distribution="truncated_normal")
    affine = ("Linear", "Conv*D", "ConvND", "ConvNd")
    transposed = ("Conv*DTranspose", "ConvNDTranspose", "ConvNdTranspose")
    norms = ("LayerNorm", "GroupNorm", "InstanceNorm", "RMSNorm", "RmsNorm")
    rules = (
        # a transposed conv's w is (*k, out, in), its fan_in k x in
        rule("*.w", narrow, module=transposed, layout=replace(LAYOUTS["flax"], transposed=True)),
        rule("*.w", narrow, module=affine),
        rule("*.b", spec("zeros"), module=(*affine, *transposed, "Bias")),
        rule("*.embeddings", spec("truncated_normal", std=1.0, lower=-2.0, upper=2.0),
             module="Embed", layout=EMBEDDING),
        rule("*.scale", spec("ones"), module=norms),
        rule("*.offset", spec("zeros"), module=norms),
        rule("*.u0", spec("normal"), module="SpectralNorm"),  # its power-iteration state
    )
    return Policy(rules, "haiku", optional=True, builtin=True)


#: The built-in policies by name.
POLICIES: dict[str, Callable[[], Policy]] = {"torch": torch, "flax": flax, "keras": keras,
                                             "equinox": equinox, "haiku": haiku}

#: Built-in policies read from the model itself (its config).
MODEL_POLICIES: dict[str, Callable[[Any], Policy]] = {"transformers": transformers}


def as_policy(value: Any, model: Any = None) -> Policy:
    """A ``Policy`` from a Policy, a list of rules, a dict ``{glob: claim}`` (an ordered policy,
    first match wins), a built-in's name (``"torch"``, ``"flax"``; ``"transformers"`` reads
    ``model``'s config) or a TOML file's path."""
    if isinstance(value, Policy):
        return value
    if isinstance(value, Mapping):
        if not value or not all(isinstance(k, str) for k in value):
            raise ValueError(f"policy={value!r}: a dict policy maps globs over tensor names to"
                             " claims, e.g. {'*.weight': 'he_normal', '*.bias': 'zeros'}.")
        return Policy(tuple(rule(match, c) for match, c in value.items()))
    if isinstance(value, (str, Path)):
        if isinstance(value, str) and value in POLICIES:
            return POLICIES[value]()
        if isinstance(value, str) and value in MODEL_POLICIES:
            if model is None:
                raise ValueError(f"the {value!r} policy reads the model's config: use it through"
                                 " check_model(model, ...), which passes the model.")
            return MODEL_POLICIES[value](model)
        path = Path(value)
        if path.suffix == ".toml" or path.exists():
            return load(path)
        _validate.choice("policy", value, [*POLICIES, *MODEL_POLICIES])
    if isinstance(value, Sequence) and value and all(isinstance(r, Rule) for r in value):
        # rules built directly (not through rule()) are validated here
        return Policy(tuple(replace(r, claim=claim(r.claim, f"rule {i + 1} ({r.describe()})"))
                            for i, r in enumerate(value)))
    raise ValueError(f"policy={value!r}: pass a list of initcheck.models.rule(...), a built-in"
                     " policy's name ('torch', 'flax') or a TOML file's path.")


__all__ = ["MODEL_POLICIES", "POLICIES", "as_policy", "equinox", "flax", "haiku", "keras", "torch"]
