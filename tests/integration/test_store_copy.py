"""The PostgreSQL bulk path (COPY in text format into staging, then one upsert) stores every
value exactly as given, whatever characters the text holds."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.adapters import sql_schema as s
from core.adapters.sql_store import COPY_THRESHOLD, SqlStore, StoreBatch

pytestmark = pytest.mark.servers

AWKWARD = ["tab\there", "line\nbreak\r\n", "back\\slash", "\\N", "", '"quoted", comma', "Ø 600 °"]
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


def _customers(n: int) -> list[dict]:
    return [
        {
            "customer_id": f"C{i:04d}",
            "name": AWKWARD[i % len(AWKWARD)] if i % 3 else None,
            "country": "Maroc",
            "country_name": "Morocco",
            "city": None,
            "status": "active",
            "attributes": {"note": AWKWARD[i % len(AWKWARD)], "n": i, "none": None},
            "upload_id": "u1",
            "sheet": "Clients",
            "row_number": i + 2,
            "stored_at": NOW,
        }
        for i in range(n)
    ]


def _movements(n: int) -> list[dict]:
    return [
        {
            "piece": f"BL{i:05d}",
            "no_ligne": i,
            "article": "A\\1" if i % 2 else "A1",
            "lot": "",
            "designation_1": AWKWARD[i % len(AWKWARD)],
            "quantite": [-0.0, 1.5, 1e16, 1 / 3, None][i % 5],
            "dn": [None, 600, 2**40][i % 3],
            "date_creation": dt.date(2024, 1, 1 + i % 28) if i % 4 else None,
            "heure": "08:30:00",
            "upload_id": "u1",
            "sheet": "Mouvements",
            "row_number": i + 2,
            "stored_at": NOW,
        }
        for i in range(n)
    ]


def test_copied_rows_read_back_exactly_as_written(fresh_postgres_url: str) -> None:
    store = SqlStore(fresh_postgres_url)
    customers, movements = _customers(COPY_THRESHOLD + 50), _movements(COPY_THRESHOLD + 50)
    batch = StoreBatch(rows={"customers": customers, "stock_movements": movements})
    store.write_batch("g", batch)
    store.write_batch("g", batch)  # again: upserts, nothing doubles
    with store.begin() as conn:
        stored_customers = [
            {k: r._mapping[k] for k in customers[0]}
            for r in conn.execute(select(s.customers).order_by(s.customers.c.customer_id))
        ]
        order = s.stock_movements.c.piece
        stored_movements = [
            {k: r._mapping[k] for k in movements[0]}
            for r in conn.execute(select(s.stock_movements).order_by(order))
        ]
    store.close()
    assert stored_customers == customers
    assert stored_movements == movements
    signs = [str(m["quantite"]) for m in stored_movements[:1]]
    assert signs == ["-0.0"]
