"""Deterministic seeds: every sample comes from a ``SeedSequence`` over a stable hash of what
it is for (a base seed, a test id, a shape, a check), never from global state, worker id or
test order. Python's ``hash`` is salted per process, so a cryptographic hash is used.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np


def stable_hash(*parts: Any) -> int:
    """A 128-bit integer from the ``repr`` of ``parts``, identical in every process."""
    text = "\x1f".join(repr(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=16).digest(), "little")


def seed_sequence(seed: int, *parts: Any) -> np.random.SeedSequence:
    """The ``SeedSequence`` for (seed, *parts): same inputs, same stream, anywhere."""
    return np.random.SeedSequence([int(seed) & (2**64 - 1), stable_hash(*parts)])


def generator(seed: int, *parts: Any) -> np.random.Generator:
    """A ``Generator`` on ``seed_sequence(seed, *parts)``."""
    return np.random.default_rng(seed_sequence(seed, *parts))


def int_seed(seed: int, *parts: Any) -> int:
    """A 32-bit int seed for (seed, *parts), for APIs that take an int (torch, jax, keras)."""
    return int(seed_sequence(seed, *parts).generate_state(1, dtype=np.uint32)[0])
