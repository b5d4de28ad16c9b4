"""BLAS and OpenMP threads within the cores a process is given.

Every NumPy process starts one BLAS thread per core it sees; two pytest-xdist workers on two
cores then run four threads that fight over two cores, and a parallel run gets slower than a
serial one. ``limit`` caps the pools: through the environment, for libraries not loaded yet
and for child processes, and through threadpoolctl for the ones already loaded. A limit the
user set in the environment is always kept.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: The variables BLAS and OpenMP builds read for their pool size.
THREAD_VARIABLES: tuple[str, ...] = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def user_limit() -> int | None:
    """The thread count the user set in the environment, if any."""
    for name in THREAD_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def limit(threads: int) -> int:
    """Cap BLAS/OpenMP pools at ``threads`` unless the user set a limit; returns the limit
    in force."""
    chosen = user_limit()
    if chosen is not None:
        return chosen
    threads = max(1, int(threads))
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the environment alone then governs libraries loaded from now on
        return threads
    threadpool_limits(limits=threads)
    return threads


def per_worker(workers: int) -> int:
    """Threads per process when ``workers`` processes share this machine's cores."""
    return max(1, available_cores() // max(1, workers))


_controller: Any = None


def one_blas_thread(fn: F) -> F:
    """Run ``fn`` with NumPy's and SciPy's BLAS on one thread (restored after). A check's
    matrix products are many and small (Gram matrices of 128 slices, power iterations): a
    pool of BLAS threads gains little on them idle and stalls when the cores are shared
    (GPT-2 small beside two busy processes: 16.4 s with the default pool, 2.0 s with one
    thread; benchmarks/load.py). Only BLAS: the frameworks' own pools are left alone."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _controller
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # nothing to limit with: run as it is
            return fn(*args, **kwargs)
        if _controller is None:  # once: scanning the loaded libraries costs ~0.3 ms
            _controller = ThreadpoolController()
        with _controller.limit(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
