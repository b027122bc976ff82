"""The outcome of one segmentation run, serialisable to plain JSON types and back.

`to_dict()` gives lists, dicts, strings, numbers, booleans and None only (no NaN), so it can
be stored as JSON; `from_dict(to_dict())` gives an equal result. A K-means run scores new
customers from the dict alone (centroids and preprocessing state are in it). DBSCAN and
HDBSCAN need their fitted model too: `model_bytes()` is a pickle to store beside the dict and
`load_model(bytes)` puts it back, after checking it is the model this run recorded.

Security: unpickling runs code chosen by whoever wrote the bytes. Only load models that this
application wrote to its own store; never bytes from an upload or any other outside source.
The recorded sha256 catches a model mixed up with another run's, not a forged one.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import InitVar, dataclass, field
from typing import Any

import pandas as pd

from core.segmentation.algorithms import ALGORITHMS, NOISE, Algorithm
from core.segmentation.errors import SegmentationError
from core.segmentation.profiles import SegmentProfile
from core.segmentation.projection import Projection
from core.segmentation.quality import Quality
from core.segmentation.report import PreprocessingReport
from core.segmentation.transform import PreprocessingState

RESULT_FORMAT = 1


@dataclass
class SegmentationResult:
    """Labels, quality, warnings, profiles, names and projections of one run.

    `labels[i]` is the segment of `customer_ids[i]` (0 is the largest segment, -1 noise).
    `names` maps each segment (and -1 when present) to its readable name. `params` are the
    parameters actually used, defaults filled in. `notes` state any sampling done. `fitted`
    (constructor only) is the fitted DBSCAN/HDBSCAN model that `model_bytes` will return.
    """

    algorithm: Algorithm
    params: dict[str, Any]
    seed: int
    customer_ids: tuple[str, ...]
    labels: tuple[int, ...]
    names: dict[int, str]
    quality: Quality
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    profiles: tuple[SegmentProfile, ...]
    projection: Projection | None
    preprocessing: PreprocessingReport
    state: PreprocessingState
    data_hash: str
    centroids: tuple[tuple[float, ...], ...] | None = None
    label_map: dict[int, int] = field(default_factory=dict)
    model_sha256: str | None = None
    fitted: InitVar[Any] = None
    _model: Any = field(default=None, init=False, repr=False, compare=False)
    _model_blob: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self, fitted: Any) -> None:
        if fitted is None:
            return
        blob = pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL)
        self._model, self._model_blob = fitted, blob
        self.model_sha256 = hashlib.sha256(blob).hexdigest()

    @property
    def n(self) -> int:
        return len(self.customer_ids)

    @property
    def features(self) -> tuple[str, ...]:
        """The input columns the segments were built on."""
        return self.state.features

    @property
    def needs_model(self) -> bool:
        """Whether scoring needs `load_model` first (DBSCAN and HDBSCAN runs)."""
        return self.model_sha256 is not None

    @property
    def fitted_model(self) -> Any:
        """The fitted model (None for K-means or before `load_model`)."""
        return self._model

    def assignments(self) -> pd.Series:
        """Segment per customer, indexed by customer ID."""
        return pd.Series(
            list(self.labels),
            index=pd.Index(self.customer_ids, name="customer_id"),
            name="segment",
            dtype="int64",
        )

    def segment_name(self, segment: int) -> str:
        return self.names.get(segment, "unassigned (noise)" if segment == NOISE else "")

    def model_bytes(self) -> bytes | None:
        """The fitted model as a pickle to store (None for K-means, which needs none)."""
        return self._model_blob

    def load_model(self, data: bytes) -> None:
        """Attach a stored model. Only ever pass bytes this application stored itself.

        Raises SegmentationError when the run needs no model or the bytes are not the model
        it recorded.
        """
        if self.model_sha256 is None:
            raise SegmentationError(f"A {self.algorithm} run has no model to load")
        if hashlib.sha256(data).hexdigest() != self.model_sha256:
            raise SegmentationError("These model bytes do not belong to this segmentation run")
        # Safe only because the bytes come from the application's own store (see above).
        self._model = pickle.loads(data)
        self._model_blob = data

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RESULT_FORMAT,
            "algorithm": self.algorithm,
            "params": dict(self.params),
            "seed": self.seed,
            "customer_ids": list(self.customer_ids),
            "labels": list(self.labels),
            "names": {str(k): v for k, v in self.names.items()},
            "quality": self.quality.to_dict(),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "profiles": [p.to_dict() for p in self.profiles],
            "projection": None if self.projection is None else self.projection.to_dict(),
            "preprocessing": self.preprocessing.to_dict(),
            "state": self.state.to_dict(),
            "data_hash": self.data_hash,
            "centroids": None if self.centroids is None else [list(c) for c in self.centroids],
            "label_map": {str(k): v for k, v in self.label_map.items()},
            "model_sha256": self.model_sha256,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentationResult:
        """Rebuild a result from `to_dict()` output; raises SegmentationError if malformed."""
        if data.get("format") != RESULT_FORMAT:
            raise SegmentationError(f"Unknown segmentation result format {data.get('format')!r}")
        if data["algorithm"] not in ALGORITHMS:
            raise SegmentationError(f"Unknown algorithm {data['algorithm']!r}")
        centroids = data["centroids"]
        projection = data["projection"]
        return cls(
            algorithm=data["algorithm"],
            params=dict(data["params"]),
            seed=int(data["seed"]),
            customer_ids=tuple(str(i) for i in data["customer_ids"]),
            labels=tuple(int(v) for v in data["labels"]),
            names={int(k): str(v) for k, v in data["names"].items()},
            quality=Quality.from_dict(data["quality"]),
            warnings=tuple(data["warnings"]),
            notes=tuple(data["notes"]),
            profiles=tuple(SegmentProfile.from_dict(p) for p in data["profiles"]),
            projection=None if projection is None else Projection.from_dict(projection),
            preprocessing=PreprocessingReport.from_dict(data["preprocessing"]),
            state=PreprocessingState.from_dict(data["state"]),
            data_hash=str(data["data_hash"]),
            centroids=None
            if centroids is None
            else tuple(tuple(float(v) for v in c) for c in centroids),
            label_map={int(k): int(v) for k, v in data["label_map"].items()},
            model_sha256=data["model_sha256"],
        )
