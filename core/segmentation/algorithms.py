"""The three clustering algorithms, each bounded so that a large table cannot exhaust the machine.

    kmeans   every customer; cheap (one fit is about 0.1 s at 100,000 customers).
    dbscan   sklearn's DBSCAN holds every customer's neighbourhood in memory and took 21 s at
             100,000 customers. It runs on a seeded sample of at most `DBSCAN_MAX_POINTS`
             customers, smaller still when eps is wide enough that the neighbourhoods would
             exceed `DBSCAN_MAX_PAIRS` customer pairs. The sample is sparser than the table,
             so eps is widened by (n / sample)^(1 / dimensions) to keep the same density
             threshold (scaling min_samples down instead made small groups of customers into
             spurious segments), and the other customers take the segment of their nearest
             core customer within that eps (noise otherwise). The note says so.
    hdbscan  the `hdbscan` package with `prediction_data=True` (new customers are scored with
             `approximate_predict`) and an explicit small min_samples: its default equals
             min_cluster_size and asks for gigabytes on large tables. Its cost grows faster
             than n (72 s at 100,000 customers of 10 features here, against 4 s at 20,000), so above
             `HDBSCAN_MAX_POINTS` customers it is fitted on a seeded sample (min_cluster_size
             scaled by the sample share) and each other customer takes the segment of its
             nearest sampled customer, as `approximate_predict` would; the note says so.

Segments are numbered by size, largest first (0, 1, ...); -1 is noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import hdbscan
import numpy as np
from sklearn.cluster import DBSCAN, KMeans
from sklearn.neighbors import KDTree, NearestNeighbors

from core.segmentation.errors import SegmentationError
from core.segmentation.sampling import distinct_rows, sample_rows

Algorithm = Literal["kmeans", "dbscan", "hdbscan"]
ALGORITHMS: tuple[Algorithm, ...] = ("kmeans", "dbscan", "hdbscan")
NOISE = -1

PARAMETERS: dict[str, tuple[str, ...]] = {
    "kmeans": ("k", "n_init"),
    "dbscan": ("eps", "min_samples"),
    "hdbscan": ("min_cluster_size", "min_samples"),
}

DBSCAN_MAX_POINTS = 20_000
DBSCAN_MAX_PAIRS = 20_000_000
_DENSITY_PROBE = 500
HDBSCAN_MAX_POINTS = 20_000
HDBSCAN_MIN_SAMPLES = 10
HDBSCAN_MIN_CLUSTER_SHARE = 0.01
HDBSCAN_MIN_CLUSTER_FLOOR = 5
HDBSCAN_MIN_CLUSTER_CAP = 1_000
HDBSCAN_CORE_JOBS = 1


@dataclass(frozen=True)
class DbscanModel:
    """What scoring needs from a DBSCAN run: its core customers, their segments and eps."""

    core: np.ndarray
    core_labels: np.ndarray
    eps: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The segment of the nearest core customer within eps, noise otherwise."""
        return _nearest_core(self.core, self.core_labels, self.eps, x)


@dataclass
class Fit:
    """Labels (segments by size, -1 noise), the effective parameters and what scoring needs.

    `label_map` maps the fitted model's own labels to segment numbers (HDBSCAN).
    """

    labels: np.ndarray
    params: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    centroids: np.ndarray | None = None
    model: Any = None
    label_map: dict[int, int] = field(default_factory=dict)


def default_min_cluster_size(n: int) -> int:
    """1 % of the customers, at least 5 and at most `HDBSCAN_MIN_CLUSTER_CAP`."""
    share = round(HDBSCAN_MIN_CLUSTER_SHARE * n)
    return int(min(HDBSCAN_MIN_CLUSTER_CAP, max(HDBSCAN_MIN_CLUSTER_FLOOR, share)))


def check_params(algorithm: str, params: dict[str, Any]) -> None:
    """Raise SegmentationError for an unknown algorithm or parameter."""
    if algorithm not in ALGORITHMS:
        raise SegmentationError(
            f"Unknown algorithm '{algorithm}': use one of {', '.join(ALGORITHMS)}"
        )
    unknown = sorted(set(params) - set(PARAMETERS[algorithm]))
    if unknown:
        allowed = ", ".join(PARAMETERS[algorithm])
        raise SegmentationError(
            f"Unknown {algorithm} parameters: {', '.join(unknown)} (allowed: {allowed})"
        )


def fit_kmeans(x: np.ndarray, *, k: int, n_init: int, seed: int) -> Fit:
    """K-means with `k` segments; centroids are kept (in matrix units) for scoring."""
    distinct = distinct_rows(x, enough=k, seed=seed)
    if not 1 <= k <= distinct:
        raise SegmentationError(f"k={k} needs at least {k} distinct customers ({distinct} here)")
    model = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(x)
    labels, mapping = relabel(model.labels_)
    order = sorted(mapping, key=mapping.__getitem__)
    return Fit(
        labels=labels,
        params={"k": k, "n_init": n_init},
        centroids=model.cluster_centers_[order],
    )


def fit_dbscan(x: np.ndarray, *, eps: float, min_samples: int, seed: int) -> Fit:
    """DBSCAN, on a sample when the table or the neighbourhoods are large (see module doc)."""
    if eps <= 0 or min_samples < 1:
        raise SegmentationError("DBSCAN needs eps > 0 and min_samples ≥ 1")
    n, dims = x.shape
    probe = sample_rows(n, _DENSITY_PROBE, seed=seed)
    probe_rows = x if probe is None else x[probe]
    # Counting only: a wide eps must not build the neighbour lists it is meant to bound.
    counts = KDTree(x).query_radius(probe_rows, r=eps, count_only=True)
    mean_neighbours = max(1.0, float(np.mean(counts)))
    size = min(n, DBSCAN_MAX_POINTS, int(DBSCAN_MAX_PAIRS / mean_neighbours))
    size = max(size, min(n, min_samples + 1))
    params = {"eps": eps, "min_samples": min_samples}
    if size >= n:
        model = DBSCAN(eps=eps, min_samples=min_samples).fit(x)
        labels, _ = relabel(model.labels_)
        core = model.core_sample_indices_
        return Fit(labels, params, model=DbscanModel(x[core].copy(), labels[core].copy(), eps))

    rows = sample_rows(n, size, seed=seed)
    assert rows is not None
    # A sample is sparser: widen eps so that min_samples neighbours mean the same density.
    wide = eps * (n / len(rows)) ** (1 / max(dims, 1))
    model = DBSCAN(eps=wide, min_samples=min_samples).fit(x[rows])
    core_rows = rows[model.core_sample_indices_]
    core_labels = model.labels_[model.core_sample_indices_]
    raw = np.full(n, NOISE)
    raw[rows] = model.labels_
    others = np.setdiff1d(np.arange(n), rows, assume_unique=True)
    raw[others] = _nearest_core(x[core_rows], core_labels, wide, x[others])
    labels, mapping = relabel(raw)
    mapped_core = np.array([mapping.get(int(v), NOISE) for v in core_labels], dtype=int)
    note = (
        f"DBSCAN ran on a random sample of {len(rows):,} of {n:,} customers, with eps widened "
        f"from {eps:.3g} to {wide:.3g} so that {min_samples} neighbours mean the same density "
        "in the sample; the others were given the segment of their nearest core customer "
        "within that distance, or noise."
    )
    return Fit(labels, params, [note], model=DbscanModel(x[core_rows].copy(), mapped_core, wide))


def fit_hdbscan(x: np.ndarray, *, min_cluster_size: int, min_samples: int, seed: int) -> Fit:
    """HDBSCAN with prediction data, on a sample above `HDBSCAN_MAX_POINTS` customers."""
    if min_cluster_size < 2 or min_samples < 1:
        raise SegmentationError("HDBSCAN needs min_cluster_size ≥ 2 and min_samples ≥ 1")
    n = len(x)
    params = {"min_cluster_size": min_cluster_size, "min_samples": min_samples}
    rows = sample_rows(n, HDBSCAN_MAX_POINTS, seed=seed)
    fitted_size = (
        min_cluster_size if rows is None else max(2, round(min_cluster_size * len(rows) / n))
    )
    train = x if rows is None else x[rows]
    if len(train) <= min_samples:
        raise SegmentationError(f"HDBSCAN needs more than min_samples={min_samples} customers")
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=fitted_size,
        min_samples=min_samples,
        prediction_data=True,
        core_dist_n_jobs=HDBSCAN_CORE_JOBS,
    ).fit(train)
    notes: list[str] = []
    if rows is None:
        raw = clusterer.labels_.astype(int)
    else:
        raw = np.full(n, NOISE)
        raw[rows] = clusterer.labels_
        others = np.setdiff1d(np.arange(n), rows, assume_unique=True)
        raw[others] = _nearest_sampled(clusterer, x[others])
        notes.append(
            f"HDBSCAN was fitted on a random sample of {len(rows):,} of {n:,} customers "
            f"(min_cluster_size scaled from {min_cluster_size} to {fitted_size}); each of the "
            "others took the segment of its nearest sampled customer (noise if that one is)."
        )
    labels, mapping = relabel(raw)
    return Fit(labels, params, notes, model=clusterer, label_map=mapping)


def relabel(raw: np.ndarray) -> tuple[np.ndarray, dict[int, int]]:
    """Renumber clusters by size (largest 0), ties by original label; noise stays -1."""
    values, counts = np.unique(raw[raw != NOISE], return_counts=True)
    order = sorted(zip(values.tolist(), counts.tolist(), strict=True), key=lambda p: (-p[1], p[0]))
    mapping = {int(old): new for new, (old, _) in enumerate(order)}
    raw = np.asarray(raw, dtype=int)
    lookup = np.full(int(raw.max(initial=NOISE)) + 2, NOISE, dtype=int)
    for old, new in mapping.items():
        lookup[old + 1] = new
    return lookup[raw + 1], mapping


def _nearest_sampled(clusterer: hdbscan.HDBSCAN, x: np.ndarray) -> np.ndarray:
    # approximate_predict gives the segment of the nearest sampled customer in mutual
    # reachability distance; plain distance agreed on every customer of 60,000 tested (blobs),
    # and costs 4 s for 80,000 customers here against 17 s for its per-customer Python loop.
    _, nearest = clusterer.prediction_data_.tree.query(x, k=1)
    return clusterer.labels_[nearest[:, 0]].astype(int)


def _nearest_core(core: np.ndarray, core_labels: np.ndarray, eps: float, x: np.ndarray):
    if len(core) == 0 or len(x) == 0:
        return np.full(len(x), NOISE, dtype=int)
    distances, nearest = NearestNeighbors(n_neighbors=1).fit(core).kneighbors(x)
    labels = core_labels[nearest[:, 0]].astype(int)
    labels[distances[:, 0] > eps] = NOISE
    return labels
