"""Customer segmentation: pure functions over pandas DataFrames (no stores, no Streamlit).

The path a page follows:

    columns = describe_columns(customers, id_column="CustomerID")   # what can be a feature
    prepared = prepare(customers, id_column="CustomerID", features=[...],
                       log_features="suggested", describe=["Country"])
    prepared.report.steps                                  # what preprocessing did, in words
    choice = choose_k(prepared)                            # inertia and silhouette per k
    result = run(prepared, algorithm="kmeans", params={"k": choice.suggested_k})
    guide = suggest_dbscan(prepared)                       # eps from the k-distance knee
    result = run(prepared, algorithm="hdbscan")
    result.quality, result.warnings, result.profiles, result.names, result.projection
    stored = result.to_dict(); blob = result.model_bytes() # plain JSON + model pickle
    again = SegmentationResult.from_dict(stored); again.load_model(blob)
    score(again, changed_customers)                        # segments of new customers
    compare(result_a, result_b)                            # adjusted Rand index, crosstab
    segments_frame(result, prepared)                       # the table to export

Behaviour features from invoice or delivery lines: `rfm_features(lines, customer=..., ...)`.
Every error raised on purpose is a `SegmentationError` with a one-line message.
"""

from __future__ import annotations

from core.segmentation.algorithms import ALGORITHMS, NOISE, Algorithm, default_min_cluster_size
from core.segmentation.columns import ColumnInfo, customer_key, describe_columns
from core.segmentation.datahash import data_hash
from core.segmentation.engine import run
from core.segmentation.errors import SegmentationError
from core.segmentation.export import segments_frame
from core.segmentation.preprocessing import Prepared, prepare
from core.segmentation.profiles import FeatureProfile, SegmentProfile
from core.segmentation.projection import Projection
from core.segmentation.quality import Quality
from core.segmentation.report import PreprocessingReport
from core.segmentation.result import SegmentationResult
from core.segmentation.rfm import RfmFeatures, rfm_features
from core.segmentation.scoring import Comparison, compare, score
from core.segmentation.selection import (
    DbscanGuide,
    KChoice,
    choose_k,
    default_min_samples,
    suggest_dbscan,
)
from core.segmentation.transform import PreprocessingState

__all__ = [
    "ALGORITHMS",
    "NOISE",
    "Algorithm",
    "ColumnInfo",
    "Comparison",
    "DbscanGuide",
    "FeatureProfile",
    "KChoice",
    "Prepared",
    "PreprocessingReport",
    "PreprocessingState",
    "Projection",
    "Quality",
    "RfmFeatures",
    "SegmentProfile",
    "SegmentationError",
    "SegmentationResult",
    "choose_k",
    "compare",
    "customer_key",
    "data_hash",
    "default_min_cluster_size",
    "default_min_samples",
    "describe_columns",
    "prepare",
    "rfm_features",
    "run",
    "score",
    "segments_frame",
    "suggest_dbscan",
]
