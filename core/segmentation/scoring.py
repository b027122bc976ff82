"""Using saved runs: score new or changed customers, and compare two runs' assignments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import hdbscan
import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from core.segmentation.algorithms import NOISE, DbscanModel
from core.segmentation.columns import customer_key
from core.segmentation.errors import SegmentationError
from core.segmentation.result import SegmentationResult

Assignments = pd.Series | Mapping[str, int] | SegmentationResult


@dataclass(frozen=True, eq=False)
class Comparison:
    """How two runs' assignments agree on the customers they share.

    `ari` is the adjusted Rand index (1 identical up to renumbering, about 0 for chance; None
    with no customer in common). `crosstab` counts customers by segment in run a (rows) and
    in run b (columns).
    """

    ari: float | None
    common: int
    only_in_a: int
    only_in_b: int
    crosstab: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {
            "ari": self.ari,
            "common": self.common,
            "only_in_a": self.only_in_a,
            "only_in_b": self.only_in_b,
            "a_segments": [int(v) for v in self.crosstab.index],
            "b_segments": [int(v) for v in self.crosstab.columns],
            "counts": [[int(v) for v in row] for row in self.crosstab.to_numpy()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        crosstab = pd.DataFrame(
            data["counts"],
            index=pd.Index(data["a_segments"], name="a"),
            columns=pd.Index(data["b_segments"], name="b"),
            dtype="int64",
        )
        return cls(
            ari=None if data["ari"] is None else float(data["ari"]),
            common=int(data["common"]),
            only_in_a=int(data["only_in_a"]),
            only_in_b=int(data["only_in_b"]),
            crosstab=crosstab,
        )


def compare(a: Assignments, b: Assignments) -> Comparison:
    """Agreement of two assignments (customer ID -> segment) on their common customers."""
    left, right = _series(a), _series(b)
    common = left.index.intersection(right.index, sort=False)
    common = pd.Index(sorted(common))
    la, lb = left.loc[common], right.loc[common]
    crosstab = pd.crosstab(
        pd.Series(la.to_numpy(), name="a"), pd.Series(lb.to_numpy(), name="b")
    ).astype("int64")
    return Comparison(
        ari=float(adjusted_rand_score(la.to_numpy(), lb.to_numpy())) if len(common) else None,
        common=len(common),
        only_in_a=len(left) - len(common),
        only_in_b=len(right) - len(common),
        crosstab=crosstab,
    )


def score(result: SegmentationResult, customers: pd.DataFrame) -> pd.Series:
    """Segments of `customers` under a saved run, indexed by customer ID.

    The customers go through the run's own preprocessing state, then: K-means takes the
    nearest centroid; DBSCAN the segment of the nearest core customer within eps (noise
    otherwise); HDBSCAN `hdbscan.approximate_predict` (noise -1 possible). DBSCAN and HDBSCAN
    runs need `result.load_model(...)` first (a fresh run has its model already). Rows without
    a customer ID are skipped. Raises SegmentationError when a feature column is missing or
    the model is not loaded.
    """
    transformed = result.state.transform(customers)
    x = transformed.matrix
    index = pd.Index(transformed.ids, name="customer_id")
    if len(x) == 0:
        return pd.Series([], index=index, name="segment", dtype="int64")
    if result.algorithm == "kmeans":
        if result.centroids is None:
            raise SegmentationError("This K-means run has no centroids to score with")
        labels = _nearest_centroid(x, np.asarray(result.centroids, dtype=float))
    else:
        model = result.fitted_model
        if model is None:
            raise SegmentationError("Load the run's model first (load_model)")
        if isinstance(model, DbscanModel):
            labels = model.predict(x)
        else:
            raw, _ = hdbscan.approximate_predict(model, x)
            labels = np.array([result.label_map.get(int(v), NOISE) for v in raw], dtype=int)
    return pd.Series(labels, index=index, name="segment", dtype="int64")


def _nearest_centroid(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    best = np.full(len(x), np.inf)
    labels = np.zeros(len(x), dtype=int)
    for segment, centre in enumerate(centroids):
        distance = ((x - centre) ** 2).sum(axis=1)
        closer = distance < best
        best[closer] = distance[closer]
        labels[closer] = segment
    return labels


def _series(assignments: Assignments) -> pd.Series:
    if isinstance(assignments, SegmentationResult):
        series = assignments.assignments()
    elif isinstance(assignments, pd.Series):
        series = assignments
    else:
        series = pd.Series(dict(assignments))
    keys = [customer_key(v) for v in series.index]
    series = pd.Series(series.to_numpy(), index=pd.Index(keys, dtype=object), name="segment")
    if series.index.has_duplicates:
        raise SegmentationError("A customer appears twice in one assignment")
    return series.astype("int64")
