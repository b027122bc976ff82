"""Small read-only summaries for the home page."""

from __future__ import annotations

from core.bootstrap import Services
from core.consume import DELIVERIES_COLLECTION


def stored_counts(svc: Services) -> dict[str, int]:
    return {
        "Stock movements": svc.sql.count_rows("stock_movements"),
        "Delivery notes": svc.documents.count(DELIVERIES_COLLECTION),
        "Customers": svc.sql.count_rows("customers"),
    }
