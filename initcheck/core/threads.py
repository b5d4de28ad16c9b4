"""BLAS and OpenMP threads within the cores a process is given.

Every NumPy process starts one BLAS thread per core it sees; two pytest-xdist workers on two
cores then run four threads that fight over two cores, and a parallel run gets slower than a
serial one. ``limit`` caps the pools: through the environment, for libraries not loaded yet
and for child processes, and through threadpoolctl for the ones already loaded. A limit the
user set in the environment is always kept.
"""

from __future__ import annotations

import os

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
