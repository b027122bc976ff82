"""How many threads the numerical libraries may use while segmenting.

The machine has 2 cores shared by every user of the app. With their default of one thread per
core, OpenBLAS and OpenMP threads spin against each other as soon as anything else runs: the
choice of k at 100,000 customers took 18.9 s with default threads and 6.6 s with one thread
each under the same load (a 5,000-point silhouette alone: 2.1 s against 0.33 s). One thread
per computation also leaves the other core to the next user.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

COMPUTE_THREADS = 1


@contextmanager
def limited_threads() -> Iterator[None]:
    """Limit BLAS and OpenMP pools to `COMPUTE_THREADS` for the duration of the block."""
    with threadpool_limits(limits=COMPUTE_THREADS):
        yield
