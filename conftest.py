"""Hypothesis profiles: ``dev`` (fast, random) locally, ``ci`` (derandomized, no deadline, no
database, print_blob) whenever the ``CI`` environment variable is set, as CI systems do.
``wide`` (1000 examples) runs the API property suite longer by hand. Choose explicitly with
``--hypothesis-profile=NAME``."""

import os

from hypothesis import HealthCheck, settings

# keras 3 runs on jax here (the project installs jax, not tensorflow)
os.environ.setdefault("KERAS_BACKEND", "jax")
# The test suite draws from jax initializers at many new shapes, and jax compiles each
# operation per shape: at XLA's default optimization the first draws of truncated_normal()
# at verify's 10 shapes take 13 s, at level 0 4 s. Only compile speed changes (tests only;
# users' jax keeps its defaults).
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "ci",
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# By hand: the API property suite (tests/test_api_*.py) at ~17x the ci profile's examples.
settings.register_profile("wide", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")
