"""One segmentation run: cluster prepared customers, then measure, profile, name and project.

    run(prepared, algorithm="kmeans", params={"k": 4})
    run(prepared, algorithm="dbscan")                      # eps, min_samples suggested
    run(prepared, algorithm="hdbscan", params={"min_cluster_size": 50})

Parameters left out take the documented defaults, and the result records the values used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.segmentation.algorithms import (
    HDBSCAN_MIN_SAMPLES,
    Algorithm,
    Fit,
    check_params,
    default_min_cluster_size,
    fit_dbscan,
    fit_hdbscan,
    fit_kmeans,
)
from core.segmentation.errors import SegmentationError
from core.segmentation.preprocessing import Prepared
from core.segmentation.profiles import build_profiles
from core.segmentation.projection import project
from core.segmentation.quality import evaluate, warnings_for
from core.segmentation.result import SegmentationResult
from core.segmentation.selection import KMEANS_N_INIT, suggest_dbscan
from core.segmentation.threads import limited_threads


def run(
    prepared: Prepared,
    *,
    algorithm: Algorithm,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    projection: bool = True,
    tsne: bool = False,
) -> SegmentationResult:
    """Segment `prepared` customers with `algorithm` and describe the outcome.

    params — kmeans: `k` (required), `n_init` (default 4); dbscan: `eps`, `min_samples`
    (default: `suggest_dbscan`); hdbscan: `min_cluster_size` (default 1 % of customers, 5 to
    1,000), `min_samples` (default 10, at most min_cluster_size). `projection` adds PCA
    coordinates, `tsne` t-SNE ones on a sample. Raises SegmentationError for unknown or
    invalid parameters and for fewer than 2 customers.
    """
    given = dict(params or {})
    check_params(algorithm, given)
    if prepared.n < 2:
        raise SegmentationError("Segmentation needs at least 2 customers")
    with limited_threads():
        fit = _fit(prepared, algorithm, given, seed=seed)
        labels = fit.labels
        quality = evaluate(prepared.matrix, labels, seed=seed)
        profiles = build_profiles(prepared.values, prepared.described, labels)
        names = {p.segment: p.name for p in profiles}
        coordinates = project(prepared.matrix, seed=seed, tsne=tsne) if projection else None
    return SegmentationResult(
        algorithm=algorithm,
        params=fit.params,
        seed=seed,
        customer_ids=prepared.ids,
        labels=tuple(int(v) for v in labels),
        names=names,
        quality=quality,
        warnings=tuple(warnings_for(quality, names=names)),
        notes=tuple(fit.notes),
        profiles=profiles,
        projection=coordinates,
        preprocessing=prepared.report,
        state=prepared.state,
        data_hash=prepared.data_hash,
        centroids=None
        if fit.centroids is None
        else tuple(tuple(float(v) for v in row) for row in fit.centroids),
        label_map=fit.label_map,
        fitted=fit.model,
    )


def _fit(prepared: Prepared, algorithm: Algorithm, given: dict[str, Any], *, seed: int) -> Fit:
    x = prepared.matrix
    if algorithm == "kmeans":
        if "k" not in given:
            raise SegmentationError("K-means needs k, the number of segments (see choose_k)")
        k = _integer(given["k"], "k", minimum=1)
        n_init = _integer(given.get("n_init", KMEANS_N_INIT), "n_init", minimum=1)
        return fit_kmeans(x, k=k, n_init=n_init, seed=seed)
    if algorithm == "dbscan":
        notes: list[str] = []
        if "eps" in given and "min_samples" in given:
            eps = _number(given["eps"], "eps")
            min_samples = _integer(given["min_samples"], "min_samples", minimum=1)
        else:
            wanted = given.get("min_samples")
            guide = suggest_dbscan(
                prepared,
                min_samples=None if wanted is None else _integer(wanted, "min_samples", 1),
                seed=seed,
            )
            eps = _number(given["eps"], "eps") if "eps" in given else guide.eps
            min_samples = guide.min_samples
            notes.append(guide.note)
        fit = fit_dbscan(x, eps=eps, min_samples=min_samples, seed=seed)
        fit.notes[:0] = notes
        return fit
    size = _integer(
        given.get("min_cluster_size", default_min_cluster_size(len(x))), "min_cluster_size", 2
    )
    min_samples = _integer(
        given.get("min_samples", min(HDBSCAN_MIN_SAMPLES, size)), "min_samples", minimum=1
    )
    return fit_hdbscan(x, min_cluster_size=size, min_samples=min_samples, seed=seed)


def _integer(value: Any, name: str, minimum: int) -> int:
    number = _as_float(value)
    if number is None or not number.is_integer() or number < minimum:
        raise SegmentationError(f"{name} must be a whole number of at least {minimum}")
    return int(number)


def _number(value: Any, name: str) -> float:
    number = _as_float(value)
    if number is None or not number > 0 or number == float("inf"):
        raise SegmentationError(f"{name} must be a positive number")
    return number


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
