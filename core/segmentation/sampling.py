"""Seeded row samples, distinct-row counts and knee detection, shared by the algorithms."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def sample_rows(n: int, size: int, *, seed: int) -> np.ndarray | None:
    """Sorted positions of a seeded sample of `size` rows out of `n`; None when `n <= size`."""
    if n <= size:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=size, replace=False))


def distinct_rows(x: np.ndarray, *, enough: int, seed: int, probe: int = 5_000) -> int:
    """How many distinct rows `x` has, or a lower bound of at least `enough`.

    A seeded sample of `probe` rows answers when it already holds `enough` distinct rows,
    which spares sorting every row of a large table.
    """
    rows = sample_rows(len(x), probe, seed=seed)
    if rows is not None:
        found = len(np.unique(x[rows], axis=0))
        if found >= enough:
            return found
    return len(np.unique(x, axis=0))


def knee_index(values: Sequence[float] | np.ndarray) -> int:
    """Position of the knee (or elbow) of a monotone curve: the point farthest from the chord.

    Both axes are scaled to [0, 1] first, so the answer does not depend on units. A curve of
    fewer than three points, or a flat one, has its knee at 0.
    """
    y = np.asarray(values, dtype=float)
    if y.size < 3 or y.max() == y.min():
        return 0
    x = np.linspace(0.0, 1.0, y.size)
    y = (y - y.min()) / (y.max() - y.min())
    # Distance to the line through the first and last points (unnormalised: argmax is enough).
    dx, dy = x[-1] - x[0], y[-1] - y[0]
    distance = np.abs(dy * (x - x[0]) - dx * (y - y[0]))
    return int(np.argmax(distance))
