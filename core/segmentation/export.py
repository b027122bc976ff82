"""The table a user downloads: one row per customer with its segment and features."""

from __future__ import annotations

import pandas as pd

from core.segmentation.errors import SegmentationError
from core.segmentation.preprocessing import Prepared
from core.segmentation.result import SegmentationResult

CUSTOMER_ID = "customer_id"
SEGMENT = "segment"
SEGMENT_NAME = "segment_name"


def segments_frame(
    result: SegmentationResult, data: Prepared | pd.DataFrame | None = None
) -> pd.DataFrame:
    """customer_id, segment, segment_name, then the run's feature columns, in the run's order.

    Feature values come from `data`: the `Prepared` customers of the run (values as
    clustered: missing ones filled, before log and scaling) or the customer table itself (as
    written there). Without `data` only the first three columns are returned. Writing the
    frame to CSV or Excel is the export module's job (formula-injection safe).
    """
    frame = pd.DataFrame(
        {
            CUSTOMER_ID: list(result.customer_ids),
            SEGMENT: list(result.labels),
            SEGMENT_NAME: [result.segment_name(v) for v in result.labels],
        }
    )
    if data is None:
        return frame
    if isinstance(data, Prepared):
        values = data.values
    else:
        missing = [c for c in result.features if c not in data.columns]
        if missing:
            raise SegmentationError(f"Columns missing from the customers: {', '.join(missing)}")
        keys = result.state.ids(data)
        present = keys.notna().to_numpy()
        values = data.loc[present, list(result.features)]
        values.index = pd.Index(keys[present].tolist(), name=CUSTOMER_ID)
        values = values[~values.index.duplicated(keep="first")]
    features = values.reindex(pd.Index(result.customer_ids)).reset_index(drop=True)
    return pd.concat([frame, features[list(result.features)]], axis=1)
