"""A user's typed test file: what someone writing typed tests against initcheck would write.
tests/test_package.py runs ``mypy --strict`` on it (it must type-check against the installed
package's annotations, py.typed included), and runs it as code."""

from __future__ import annotations

import numpy as np

import initcheck as ic
from initcheck.core.results import CheckResult, Report


def my_init(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    fans: ic.Fans = ic.compute_fans(shape, layout="torch")
    std: float = (2.0 / fans.fan_in) ** 0.5
    return rng.normal(0.0, std, shape)


def test_my_init_is_he_normal() -> None:
    report: Report = ic.verify(my_init, expect="he_normal", layout="torch", shapes=[(64, 128)])
    std: CheckResult = report.check("std")
    assert report.passed and std.pvalue > 0.0 and std.mde < 0.1


def test_a_builtin_and_its_law() -> None:
    init: ic.Initializer = ic.initializers.get("xavier_uniform")
    w: np.ndarray = init((100, 50), rng=np.random.default_rng(0))
    law: ic.Law = init.law((100, 50))
    assert abs(float(w.std()) - law.std) < 0.01
    claim: ic.Spec = ic.spec("normal", std=0.02)
    tensor_report: Report = ic.check_tensor(
        np.random.default_rng(1).normal(0, 0.02, (256, 64)), claim
    )
    assert tensor_report.passed


def test_gain_and_simulation() -> None:
    g: float = float(ic.gain("relu"))
    trace: ic.Trace = ic.simulate("he_normal", activation="relu", depth=3, width=64, batch=256)
    assert abs(g - 2**0.5) < 1e-9 and len(trace.layers) == 3
