"""How good a segmentation is, in numbers and in plain-English warnings.

Noise (-1) is its own group: it counts in the sizes and the noise share but is left out of the
three scores, which judge the segments only. The silhouette costs O(n²), so above
`QUALITY_SAMPLE` segmented customers it is computed on a seeded sample of that size (stated in
`silhouette_sample_size`); Davies-Bouldin and Calinski-Harabasz use every segmented customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from core.segmentation.algorithms import NOISE
from core.segmentation.sampling import sample_rows

QUALITY_SAMPLE = 5_000
SMALL_SEGMENT_SHARE = 0.01
SMALL_SEGMENT_SIZE = 5
NOISE_WARNING_SHARE = 0.5
# Below this the usual reading of the silhouette is "no substantial structure".
WEAK_SILHOUETTE = 0.25


@dataclass(frozen=True)
class Quality:
    """Scores of one segmentation.

    silhouette: -1..1, higher is better; davies_bouldin: ≥ 0, lower is better;
    calinski_harabasz: ≥ 0, higher is better. Each is None where undefined (fewer than two
    segments). `sizes` maps each segment, and -1 for noise when present, to its customers.
    """

    n: int
    n_segments: int
    sizes: dict[int, int]
    noise_share: float
    silhouette: float | None
    davies_bouldin: float | None
    calinski_harabasz: float | None
    silhouette_sample_size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_segments": self.n_segments,
            "sizes": {str(k): v for k, v in self.sizes.items()},
            "noise_share": self.noise_share,
            "silhouette": self.silhouette,
            "davies_bouldin": self.davies_bouldin,
            "calinski_harabasz": self.calinski_harabasz,
            "silhouette_sample_size": self.silhouette_sample_size,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Quality:
        def optional(value: Any) -> float | None:
            return None if value is None else float(value)

        return cls(
            n=int(data["n"]),
            n_segments=int(data["n_segments"]),
            sizes={int(k): int(v) for k, v in data["sizes"].items()},
            noise_share=float(data["noise_share"]),
            silhouette=optional(data["silhouette"]),
            davies_bouldin=optional(data["davies_bouldin"]),
            calinski_harabasz=optional(data["calinski_harabasz"]),
            silhouette_sample_size=int(data["silhouette_sample_size"]),
        )


def evaluate(
    x: np.ndarray, labels: np.ndarray, *, seed: int = 0, sample_size: int = QUALITY_SAMPLE
) -> Quality:
    """Scores of `labels` over the matrix `x` (rows aligned)."""
    values, counts = np.unique(labels, return_counts=True)
    sizes = {int(v): int(c) for v, c in zip(values, counts, strict=True)}
    n = len(labels)
    noise = sizes.get(NOISE, 0)
    segments = [v for v in sizes if v != NOISE]
    kept = labels != NOISE
    xs, ls = x[kept], labels[kept]
    silhouette = davies = calinski = None
    sample_used = 0
    if 2 <= len(segments) < len(ls):
        rows = sample_rows(len(ls), sample_size, seed=seed)
        xs_s, ls_s = (xs, ls) if rows is None else (xs[rows], ls[rows])
        if 2 <= len(np.unique(ls_s)) < len(ls_s):
            silhouette = float(silhouette_score(xs_s, ls_s))
            sample_used = len(ls_s)
        davies = float(davies_bouldin_score(xs, ls))
        calinski = float(calinski_harabasz_score(xs, ls))
    return Quality(
        n=n,
        n_segments=len(segments),
        sizes=dict(sorted(sizes.items())),
        noise_share=noise / n if n else 0.0,
        silhouette=silhouette,
        davies_bouldin=davies,
        calinski_harabasz=calinski,
        silhouette_sample_size=sample_used,
    )


def warnings_for(quality: Quality, *, names: dict[int, str] | None = None) -> list[str]:
    """Plain-English warnings when the segmentation is degenerate (empty when it is not)."""
    names = names or {}
    found: list[str] = []
    if quality.n_segments == 0:
        found.append(
            "No segment was found: every customer is noise. Try a larger eps or a smaller "
            "min_samples / min_cluster_size."
        )
    elif quality.n_segments == 1:
        found.append(
            "Only one segment was found: with these settings the customers do not split into "
            "groups, so the segmentation says nothing. Try other settings or features."
        )
    if quality.silhouette is not None and quality.silhouette < WEAK_SILHOUETTE:
        found.append(
            f"The segments overlap a lot (silhouette {quality.silhouette:.2f}, where 1 is "
            "perfectly separated): treat them as rough groupings, not distinct kinds of customer."
        )
    if quality.noise_share > NOISE_WARNING_SHARE:
        found.append(
            f"More than half of the customers ({quality.noise_share:.0%}) are noise (-1): they "
            "belong to no dense group. Try a larger eps or a smaller min_samples."
        )
    for segment, size in quality.sizes.items():
        if segment == NOISE:
            continue
        share = size / quality.n
        if size < SMALL_SEGMENT_SIZE or share < SMALL_SEGMENT_SHARE:
            named = f" ('{names[segment]}')" if segment in names else ""
            found.append(
                f"Segment {segment}{named} has only {size:,} "
                f"customer{'s' if size != 1 else ''} "
                f"({share:.1%}): too small to act on; consider fewer segments."
            )
    return found
