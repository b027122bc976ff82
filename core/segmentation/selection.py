"""Guides for choosing parameters: the number of K-means segments, DBSCAN's eps and min_samples.

Both are bounded for large tables: one K-means fit per k on every customer (cheap), but the
silhouette, which costs O(n²), on one seeded sample of at most `DEFAULT_SILHOUETTE_SAMPLE`
customers shared by every k; DBSCAN's k-distance curve from at most `DEFAULT_KDIST_SAMPLE`
customers, each measured against every customer (so the densities are those of the full data).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.neighbors import NearestNeighbors

from core.segmentation.errors import SegmentationError
from core.segmentation.preprocessing import Prepared
from core.segmentation.sampling import distinct_rows, knee_index, sample_rows
from core.segmentation.threads import limited_threads

DEFAULT_K_RANGE = range(2, 11)
DEFAULT_SILHOUETTE_SAMPLE = 5_000
# Four restarts find the same partition as ten on well-separated data at under half the cost.
KMEANS_N_INIT = 4
DEFAULT_KDIST_SAMPLE = 5_000
MIN_DBSCAN_SAMPLES = 4
CURVE_POINTS = 200


@dataclass(frozen=True)
class KChoice:
    """Inertia and silhouette for each k, with the suggested k and why.

    `silhouette[i]` is None where undefined. `sample_size` is how many customers the
    silhouette was computed on (all `n` when small enough).
    """

    k_values: tuple[int, ...]
    inertia: tuple[float, ...]
    silhouette: tuple[float | None, ...]
    suggested_k: int
    elbow_k: int
    sample_size: int
    n: int
    seed: int
    n_init: int
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "k_values": list(self.k_values),
            "inertia": list(self.inertia),
            "silhouette": list(self.silhouette),
            "suggested_k": self.suggested_k,
            "elbow_k": self.elbow_k,
            "sample_size": self.sample_size,
            "n": self.n,
            "seed": self.seed,
            "n_init": self.n_init,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KChoice:
        return cls(
            k_values=tuple(int(k) for k in data["k_values"]),
            inertia=tuple(float(v) for v in data["inertia"]),
            silhouette=tuple(None if v is None else float(v) for v in data["silhouette"]),
            suggested_k=int(data["suggested_k"]),
            elbow_k=int(data["elbow_k"]),
            sample_size=int(data["sample_size"]),
            n=int(data["n"]),
            seed=int(data["seed"]),
            n_init=int(data["n_init"]),
            note=str(data["note"]),
        )


@dataclass(frozen=True)
class DbscanGuide:
    """Suggested DBSCAN parameters and the sorted k-distance curve they come from.

    `curve` holds at most `CURVE_POINTS` values of the sorted distances to each customer's
    `min_samples`-th nearest neighbour (itself included), evenly spaced over the sorted
    sample; `knee` is the position of the knee in `curve`, where `eps` is read.
    """

    eps: float
    min_samples: int
    curve: tuple[float, ...]
    knee: int
    sample_size: int
    n: int
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "eps": self.eps,
            "min_samples": self.min_samples,
            "curve": list(self.curve),
            "knee": self.knee,
            "sample_size": self.sample_size,
            "n": self.n,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DbscanGuide:
        return cls(
            eps=float(data["eps"]),
            min_samples=int(data["min_samples"]),
            curve=tuple(float(v) for v in data["curve"]),
            knee=int(data["knee"]),
            sample_size=int(data["sample_size"]),
            n=int(data["n"]),
            note=str(data["note"]),
        )


def choose_k(
    prepared: Prepared,
    *,
    k_range: Sequence[int] = DEFAULT_K_RANGE,
    sample_size: int = DEFAULT_SILHOUETTE_SAMPLE,
    seed: int = 0,
    n_init: int = KMEANS_N_INIT,
    progress: Callable[[int, int], None] | None = None,
) -> KChoice:
    """Fit K-means for each k in `k_range` and suggest the k with the best silhouette.

    k values that are not below the number of distinct customers are skipped. The note says
    when the elbow of the inertia curve points elsewhere. `progress(done, total)` is called
    after each k (for a progress bar). Raises SegmentationError when no k of the range can be
    tried.
    """
    x = prepared.matrix
    distinct = distinct_rows(x, enough=max(k_range, default=2) + 1, seed=seed)
    ks = sorted({int(k) for k in k_range if 2 <= k < distinct})
    if not ks:
        raise SegmentationError(
            f"No k of the range can be tried on {distinct} distinct customers (need k ≥ 2 "
            "and fewer segments than distinct customers)"
        )
    sample = sample_rows(len(x), sample_size, seed=seed)
    rows = np.arange(len(x)) if sample is None else sample
    inertia: list[float] = []
    silhouette: list[float | None] = []
    with limited_threads():
        for k in ks:
            model = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(x)
            inertia.append(float(model.inertia_))
            labels = model.labels_[rows]
            defined = 1 < len(np.unique(labels)) < len(rows)
            silhouette.append(float(silhouette_score(x[rows], labels)) if defined else None)
            if progress is not None:
                progress(len(inertia), len(ks))

    scored = [(s, k) for s, k in zip(silhouette, ks, strict=True) if s is not None]
    suggested = max(scored)[1] if scored else ks[0]
    elbow = ks[knee_index(inertia)] if len(ks) >= 3 else suggested
    best = f"{max(scored)[0]:.2f}" if scored else "undefined"
    if elbow == suggested:
        note = f"Silhouette ({best}) and the elbow of the inertia curve agree on k={suggested}."
    else:
        note = (
            f"Silhouette is best at k={suggested} ({best}); the elbow of the inertia curve is "
            f"at k={elbow}: compare both before choosing."
        )
    size = len(rows)
    if sample is not None:
        note += f" Silhouette computed on a random sample of {size:,} of {len(x):,} customers."
    return KChoice(
        k_values=tuple(ks),
        inertia=tuple(inertia),
        silhouette=tuple(silhouette),
        suggested_k=suggested,
        elbow_k=elbow,
        sample_size=size,
        n=len(x),
        seed=seed,
        n_init=n_init,
        note=note,
    )


def default_min_samples(dims: int) -> int:
    """DBSCAN's min_samples rule of thumb: twice the number of dimensions, at least 4."""
    return max(MIN_DBSCAN_SAMPLES, 2 * dims)


def suggest_dbscan(
    prepared: Prepared,
    *,
    min_samples: int | None = None,
    sample_size: int = DEFAULT_KDIST_SAMPLE,
    seed: int = 0,
) -> DbscanGuide:
    """Suggest DBSCAN's eps at the knee of the k-distance curve, with k = min_samples.

    min_samples defaults to `default_min_samples` of the matrix's columns (capped below the
    number of customers). Raises SegmentationError with fewer than 3 customers or when every
    customer sits on the same point.
    """
    x = prepared.matrix
    if len(x) < 3:
        raise SegmentationError("DBSCAN needs at least 3 customers")
    wanted = min_samples if min_samples is not None else default_min_samples(x.shape[1])
    k = max(2, min(int(wanted), len(x) - 1))
    sample = sample_rows(len(x), sample_size, seed=seed)
    queries = x if sample is None else x[sample]
    with limited_threads():
        distances, _ = NearestNeighbors(n_neighbors=k).fit(x).kneighbors(queries)
    kdist = np.sort(distances[:, -1])
    knee = knee_index(kdist)
    eps = float(kdist[knee])
    if eps <= 0:
        positive = kdist[kdist > 0]
        if positive.size == 0:
            raise SegmentationError("Every customer has the same feature values")
        eps = float(positive[0])
    positions = np.unique(np.linspace(0, len(kdist) - 1, min(CURVE_POINTS, len(kdist))).round())
    positions = positions.astype(int)
    curve_knee = int(np.argmin(np.abs(positions - knee)))
    note = (
        f"eps={eps:.3g} read at the knee of the distance to each customer's {_ordinal(k)} "
        f"nearest neighbour ({knee / max(len(kdist) - 1, 1):.0%} of customers are closer); "
        f"min_samples={k}"
        + (" (twice the number of dimensions, at least 4)." if min_samples is None else ".")
    )
    if sample is not None:
        note += f" Curve drawn from a random sample of {len(queries):,} of {len(x):,} customers."
    return DbscanGuide(
        eps=eps,
        min_samples=k,
        curve=tuple(float(v) for v in kdist[positions]),
        knee=curve_knee,
        sample_size=len(queries),
        n=len(x),
        note=note,
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _distinct_rows(x: np.ndarray, *, enough: int, seed: int) -> int:
    """Distinct rows of `x`, or a lower bound of at least `enough` (from a sample: cheaper)."""
    rows = sample_rows(len(x), DEFAULT_SILHOUETTE_SAMPLE, seed=seed)
    if rows is not None:
        found = len(np.unique(x[rows], axis=0))
        if found >= enough:
            return found
    return len(np.unique(x, axis=0))
