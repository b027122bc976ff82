"""Flat pictures of the segments: PCA in 2-D and 3-D, and optionally t-SNE on a sample.

PCA is fitted on every customer; coordinates are kept for at most `PROJECTION_MAX_POINTS`
customers (a seeded sample beyond that, which is all a chart can show legibly). t-SNE is
slow (seconds per thousand customers), optional, and only ever runs on a seeded sample of at
most `TSNE_MAX_POINTS` customers. Coordinates are rounded to `DECIMALS` places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from core.segmentation.sampling import sample_rows

PROJECTION_MAX_POINTS = 20_000
TSNE_MAX_POINTS = 2_000
DECIMALS = 5


@dataclass(frozen=True)
class Projection:
    """Chart coordinates for some customers.

    `rows` are positions in the run's customer list, aligned with each coordinate list.
    `explained_variance` is the share of variance of each PCA axis (first 2 for the 2-D
    chart, 3 for the 3-D one). `pca3` is empty when the data has fewer than 3 columns;
    `tsne` is empty unless asked for, and then covers `tsne_rows` only.
    """

    rows: tuple[int, ...]
    pca2: tuple[tuple[float, float], ...]
    pca3: tuple[tuple[float, float, float], ...]
    explained_variance: tuple[float, ...]
    tsne_rows: tuple[int, ...] = ()
    tsne: tuple[tuple[float, float], ...] = ()
    note: str = ""

    @property
    def explained_2d(self) -> float:
        return float(sum(self.explained_variance[:2]))

    @property
    def explained_3d(self) -> float:
        return float(sum(self.explained_variance[:3]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": list(self.rows),
            "pca2": [list(p) for p in self.pca2],
            "pca3": [list(p) for p in self.pca3],
            "explained_variance": list(self.explained_variance),
            "tsne_rows": list(self.tsne_rows),
            "tsne": [list(p) for p in self.tsne],
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Projection:
        return cls(
            rows=tuple(int(r) for r in data["rows"]),
            pca2=tuple((float(a), float(b)) for a, b in data["pca2"]),
            pca3=tuple((float(a), float(b), float(c)) for a, b, c in data["pca3"]),
            explained_variance=tuple(float(v) for v in data["explained_variance"]),
            tsne_rows=tuple(int(r) for r in data["tsne_rows"]),
            tsne=tuple((float(a), float(b)) for a, b in data["tsne"]),
            note=str(data["note"]),
        )


def project(x: np.ndarray, *, seed: int = 0, tsne: bool = False) -> Projection:
    """PCA coordinates (and t-SNE ones when asked) for the customers of matrix `x`."""
    n, dims = x.shape
    components = min(3, dims, n)
    pca = PCA(n_components=components, random_state=seed).fit(x)
    sample = sample_rows(n, PROJECTION_MAX_POINTS, seed=seed)
    rows = np.arange(n) if sample is None else sample
    coords = np.round(pca.transform(x[rows]), DECIMALS)
    if components < 2:
        coords = np.hstack([coords, np.zeros((len(rows), 2 - components))])
    explained = tuple(float(v) for v in pca.explained_variance_ratio_)
    notes = [
        f"PCA keeps {sum(explained[:2]):.0%} of the variance in 2-D"
        + (f" and {sum(explained[:3]):.0%} in 3-D." if components >= 3 else ".")
    ]
    if sample is not None:
        notes.append(f"Charts show a random sample of {len(rows):,} of {n:,} customers.")
    tsne_rows: np.ndarray = np.empty(0, dtype=int)
    tsne_coords: np.ndarray = np.empty((0, 2))
    if tsne and n >= 4:
        picked = sample_rows(n, TSNE_MAX_POINTS, seed=seed)
        tsne_rows = np.arange(n) if picked is None else picked
        perplexity = float(min(30.0, (len(tsne_rows) - 1) / 3))
        embedded = TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=seed
        ).fit_transform(x[tsne_rows])
        tsne_coords = np.round(embedded, DECIMALS)
        notes.append(f"t-SNE drawn for {len(tsne_rows):,} customers.")
    return Projection(
        rows=tuple(int(r) for r in rows),
        pca2=tuple((float(a), float(b)) for a, b in coords[:, :2]),
        pca3=tuple((float(a), float(b), float(c)) for a, b, c in coords[:, :3])
        if components >= 3
        else (),
        explained_variance=explained,
        tsne_rows=tuple(int(r) for r in tsne_rows),
        tsne=tuple((float(a), float(b)) for a, b in tsne_coords),
        note=" ".join(notes),
    )
