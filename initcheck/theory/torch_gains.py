"""PyTorch's ``calculate_gain`` table, as data: the empirical gains torch's ``xavier_*`` and
``kaiming_*`` accept by nonlinearity name. initcheck derives exact gains in ``theory``; this
table is what the frameworks use, kept to reproduce them and to compare.
"""

from __future__ import annotations

import math

from initcheck.core import _validate

#: Value of ``torch.nn.init.calculate_gain(name)``; leaky_relu depends on its slope.
TORCH_GAIN_TABLE: dict[str, float] = {
    "linear": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "leaky_relu": math.nan,  # sqrt(2 / (1 + a^2)): computed from the slope a
    "selu": 3.0 / 4.0,  # torch's documented empirical value, not derived
}
NONLINEARITIES: tuple[str, ...] = tuple(TORCH_GAIN_TABLE)
#: calculate_gain's default slope; kaiming_* pass their own ``a`` (default 0).
DEFAULT_LEAKY_SLOPE = 0.01


def torch_gain(nonlinearity: str, a: float | None = None) -> float:
    """The gain torch's ``calculate_gain(nonlinearity, a)`` returns, validated up front.

    Args:
        nonlinearity: a name of torch's table (``"linear"``, ``"tanh"``, ``"relu"``,
            ``"leaky_relu"``, ``"selu"``, ...).
        a: leaky_relu's negative slope (default 0.01, as torch's).

    Returns:
        The gain, a float.

    Raises:
        ValueError: a name torch's table lacks (the message lists it), or ``a`` where it does
            not apply.

    Example:
        >>> round(torch_gain("leaky_relu", 0.2), 6)
        1.38675
    """
    nonlinearity = _validate.choice("nonlinearity", nonlinearity, NONLINEARITIES)
    if nonlinearity != "leaky_relu":
        if a is not None:
            raise ValueError(
                f"a={a!r} is the negative slope of leaky_relu; nonlinearity={nonlinearity!r}"
                " takes none. Drop a, or pass nonlinearity='leaky_relu'."
            )
        return TORCH_GAIN_TABLE[nonlinearity]
    slope = DEFAULT_LEAKY_SLOPE if a is None else _validate.real("a", a)
    return math.sqrt(2.0 / (1.0 + slope**2))
