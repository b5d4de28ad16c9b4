"""Haiku, flax (linen and nnx) and equinox: their initializers and module defaults against
the specs they document, on several seeds each, and a broken twin that fails. CI installs all
three (the test extra), so nothing here is skipped there. Each verify spends at most 1e-6;
the ~200 calls here fail a correct initializer with probability below 2e-4."""

import math

import pytest
from helpers import seeds

import initcheck as ic
from initcheck.audit import runner as audit

jax = pytest.importorskip("jax")
hk = pytest.importorskip("haiku")
pytest.importorskip("flax")
pytest.importorskip("equinox")

SEEDS = seeds(ci=1, wide=5)
SAMPLES = 200_000
FAMILY = ("haiku", "flax", "equinox")
ENTRIES = {(fw, e.name): e for fw in FAMILY for e in audit.CATALOGUES[fw]()}


def _verify(entry, seed):
    """The entry's own verify, without the propagation check."""
    return entry.verify(seed=seed, samples=SAMPLES, propagation=False)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("key", list(ENTRIES), ids=lambda k: f"{k[0]}:{k[1]}")
def test_documented_initializers_and_module_defaults_pass(key, seed):
    report = _verify(ENTRIES[key], seed)
    assert report.passed, report


@pytest.mark.parametrize("catalogue", FAMILY)
def test_audit_of_each_runs_end_to_end(catalogue):
    result = audit.run(catalogue, propagation=False)
    assert result.passed and len(result.entries) == len(audit.CATALOGUES[catalogue]())


class _FanOutByMistake(hk.initializers.Initializer):
    """A haiku initializer that means He normal but divides by fan_out."""

    def __call__(self, shape, dtype):
        fan_out = ic.compute_fans(tuple(shape)).fan_out
        return jax.random.normal(hk.next_rng_key(), shape, dtype) * math.sqrt(2.0 / fan_out)


def test_a_plain_function_drawing_in_haiku_is_called_as_haikus():
    """Recognised by what it does (no haiku module defines it): it draws for (shape, dtype)
    with hk.next_rng_key, which only haiku's transform provides."""
    def he_by_hand(shape, dtype):
        return jax.random.normal(hk.next_rng_key(), shape, dtype) * math.sqrt(2.0 / shape[0])

    assert ic.frameworks.dispatch.detect_framework(he_by_hand) == "haiku"
    assert ic.verify(he_by_hand, expect="he_normal", samples=SAMPLES).framework == "haiku"


def test_broken_twins_fail():
    he = ic.verify(_FanOutByMistake(), expect="he_normal", samples=SAMPLES)
    assert he.framework == "haiku" and "std" in {c.name for c in he.failures}

    dense = ENTRIES[("flax", "linen Dense default kernel")]
    untruncated = ic.verify(dense.make(), expect="lecun_normal", framework="jax",
                            shapes=list(dense.shapes))
    assert not untruncated.passed
    assert any("truncated_normal" in m for m in untruncated.meta["matches"])

    linear = ENTRIES[("equinox", "nn.Linear default weight")]
    as_he = ic.verify(linear.make(), expect="he_uniform", framework="jax", layout="torch",
                      shapes=list(linear.shapes))
    assert "std" in {c.name for c in as_he.failures}


@pytest.mark.parametrize("shape, axes", [((3, 3, 16, 32), (0, 1)), ((8, 4, 3, 3), (0,)),
                                         ((2, 5, 7, 3, 4), (1, 3)), ((6, 9, 4), (2,))])
def test_haiku_fan_in_axes_is_a_layout_with_every_other_axis_out(shape, axes):
    """Against haiku's own fan function, for kernels of rank >= 3 (where it applies them)."""
    from haiku._src.initializers import _compute_fans

    from initcheck.frameworks.haiku_adapter import own_layout
    layout = own_layout(hk.initializers.VarianceScaling(fan_in_axes=axes))
    fans = ic.compute_fans(shape, layout)
    assert (fans.fan_in, fans.fan_out) == tuple(int(f) for f in _compute_fans(shape, axes))
    with pytest.raises(ValueError, match="no axis of a rank-2 shape is left for the outputs"):
        ic.compute_fans((4, 4), ic.Layout("all in", in_axis=(0, 1), out_axis=None))
