"""Small read-only summaries for the home page."""

from __future__ import annotations

from core.bootstrap import Services


def stored_counts(svc: Services) -> dict[str, int]:
    return {
        "Stock movements": svc.sql.count_rows("stock_movements"),
        "Delivery notes": svc.sql.count_rows("delivery_notes"),
        "Customers": svc.sql.count_rows("customers"),
    }
