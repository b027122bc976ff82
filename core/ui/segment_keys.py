"""Session-state and widget keys of the segmentation screen, in one place.

Widgets whose options depend on earlier choices get a key with a suffix (`keyed(...)`), so
changing the data or the features starts them afresh instead of keeping stale values.
"""

from __future__ import annotations

from core.ui.keys import SEGMENT_PREPARED, SEGMENT_RESULT, SEGMENT_RUN_ID

# What the screen holds between reruns.
PREPARED = SEGMENT_PREPARED  # (token, Prepared) of the features last chosen
RESULT = SEGMENT_RESULT  # the SegmentationResult on screen (new or reopened)
RUN_ID = SEGMENT_RUN_ID  # its saved run ID, None while not saved
RESULT_TOKEN = "segment.result_token"  # changes with every new result on screen
RESULT_PREPARED = "segment.result_prepared"  # the Prepared customers of a new result
RESULT_SOURCE = "segment.result_source"  # the FeatureSource of the result on screen
K_CHOICE = "segment.k_choice"  # (token, KChoice)
DBSCAN_GUIDE = "segment.dbscan_guide"  # (token, min_samples, DbscanGuide)
COMPARISON = "segment.comparison"  # RunComparison last computed
SCORED = "segment.scored"  # (run ID, DataFrame) of the last scoring
FIGURE = "segment.figure"  # per projection: ((token, names), figure)

# Widgets.
BEHAVIOUR = "segment.behaviour"
SINCE = "segment.since"
FEATURES = "segment.features"
LOG = "segment.log"
SCALING = "segment.scaling"
ALGORITHM = "segment.algorithm"
SEED = "segment.seed"
K_RANGE = "segment.k_range"
CHOOSE_K = "segment.choose_k"
K = "segment.k"
EPS = "segment.eps"
MIN_SAMPLES = "segment.min_samples"
MIN_CLUSTER_SIZE = "segment.min_cluster_size"
RUN = "segment.run"
SEGMENT_NAME = "segment.name"
DISTRIBUTION = "segment.distribution"
RUN_NAME = "segment.run_name"
SAVE = "segment.save"
CSV = "segment.csv"
XLSX = "segment.xlsx"
OPEN_PICK = "segment.open_pick"
OPEN = "segment.open"
COMPARE_A = "segment.compare_a"
COMPARE_B = "segment.compare_b"
COMPARE = "segment.compare"
SCORE_SCOPE = "segment.score_scope"
SCORE = "segment.score"


def keyed(key: str, *parts: object) -> str:
    """`key` made specific to `parts`: 'segment.k' + ('ab12',) -> 'segment.k.ab12'."""
    return ".".join([key, *(str(p) for p in parts)])
