"""Upload progress for the ingestion screen, read from the stores and the bus."""

from __future__ import annotations

from typing import Any

from core.bootstrap import Services
from core.domain.schemas import DATASET_NAMES
from core.errors import ServiceUnavailable


def uploads_table(svc: Services, *, limit: int = 200) -> list[dict[str, Any]]:
    rows = []
    for u in svc.sql.list_uploads(limit=limit):
        valid = u["valid_rows"] or 0
        done = (u["stored"] + u["dead_lettered"]) / u["published"] if u["published"] else 0.0
        rows.append(
            {
                "When": u["created_at"],
                "File": u["file_name"],
                "Dataset": u["dataset"],
                "Sheet": u["sheet"],
                "Status": u["status"],
                "Rows": u["total_rows"],
                "Valid": valid,
                "Rejected": u["rejected_rows"],
                "Duplicates": u["duplicate_rows"],
                "Published": u["published"],
                "Stored": u["stored"],
                "Dead-lettered": u["dead_lettered"],
                "Progress": min(done, 1.0),
                "Source": u["source"],
                "Message": u["message"] or "",
                "SHA-256": u["sha256"][:12],
            }
        )
    return rows


def consumer_lag(svc: Services) -> dict[str, int] | None:
    """Messages not yet stored, per dataset; None when the bus cannot be reached."""
    topics = {svc.settings.topic(name): name for name in DATASET_NAMES}
    try:
        lag = svc.bus.lag(svc.settings.consumer_group, list(topics))
    except ServiceUnavailable:
        return None
    return {topics[t]: n for t, n in lag.items() if t in topics}
