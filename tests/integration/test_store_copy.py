"""The PostgreSQL bulk path (COPY into staging, then one upsert) stores every value exactly as
given, whatever characters the text holds, in each of its renderings: CSV as JSON writes the
values (lines without escapes, lines written again because a text needs quoting), or COPY's
text format (JSON columns, values JSON cannot hold). Rows rendered ahead (`copy_rows`) store
the same, and work done `meanwhile` joins the write's transaction."""

from __future__ import annotations

import datetime as dt
import decimal
import threading

import pytest
from sqlalchemy import select

from core.adapters import sql_schema as s
from core.adapters.sql_store import COPY_THRESHOLD, SqlStore, StoreBatch, copy_rows

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


def _stored_movements(store: SqlStore, fields: list[str]) -> list[dict]:
    with store.begin() as conn:
        rows = conn.execute(select(s.stock_movements).order_by(s.stock_movements.c.piece))
        return [{k: r._mapping[k] for k in fields} for r in rows]


PLAIN = ["null", "NULL", "a],[b", "x,y", "Ø 600 °", "1e5", " spaced ", "]", "["]


def test_rows_without_escapes_are_copied_as_json_writes_them(fresh_postgres_url: str) -> None:
    store = SqlStore(fresh_postgres_url)
    movements = [
        {**m, "article": "A1", "designation_1": PLAIN[i % len(PLAIN)]}
        for i, m in enumerate(_movements(COPY_THRESHOLD + 20))
    ]
    rendered = copy_rows("stock_movements", movements)
    assert rendered.csv and b"\\" not in rendered.data  # the path without any escape
    store.write_batch("g", StoreBatch(copied={"stock_movements": rendered}))
    assert _stored_movements(store, list(movements[0])) == movements  # "null" stays text
    store.close()


def test_values_json_cannot_hold_are_copied_in_text_format(fresh_postgres_url: str) -> None:
    store = SqlStore(fresh_postgres_url)
    movements = _movements(COPY_THRESHOLD + 20)
    movements[3]["quantite"] = decimal.Decimal("2.5")  # not a JSON value: COPY's text format
    rendered = copy_rows("stock_movements", movements)
    assert not rendered.csv
    store.write_batch("g", StoreBatch(copied={"stock_movements": rendered}))
    movements[3]["quantite"] = 2.5
    assert _stored_movements(store, list(movements[0])) == movements
    store.close()


def test_rows_rendered_ahead_store_like_rows_given_as_they_are(fresh_postgres_url: str) -> None:
    store = SqlStore(fresh_postgres_url)
    movements = _movements(50)  # below the COPY threshold: given as they are, a VALUES upsert
    older = [{**m, "designation_1": "older"} for m in movements[:5]]
    rendered = copy_rows("stock_movements", [*older, *movements])  # the last of a key wins
    assert rendered.count == len(movements)

    store.write_batch("g", StoreBatch(copied={"stock_movements": rendered}))
    store.write_batch("g", StoreBatch(copied={"stock_movements": rendered}))  # nothing doubles
    assert _stored_movements(store, list(movements[0])) == movements
    store.close()


def test_rows_returned_meanwhile_join_the_transaction(fresh_postgres_url: str) -> None:
    store = SqlStore(fresh_postgres_url)
    movements, customers = _movements(COPY_THRESHOLD + 10), _customers(3)
    batch = StoreBatch(copied={"stock_movements": copy_rows("stock_movements", movements)})
    threads: list[str] = []

    def meanwhile() -> dict[str, list[dict]]:
        threads.append(threading.current_thread().name)
        return {"customers": customers}

    store.write_batch("g", batch, meanwhile=meanwhile)
    assert threads == [threading.current_thread().name]  # the caller's thread
    assert _stored_movements(store, list(movements[0])) == movements
    assert store.count_rows("customers") == 3
    store.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_failure_meanwhile_writes_nothing(engine: str, tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    if engine == "sqlite":
        store = SqlStore(f"sqlite:///{tmp_path / 'store.db'}")
        batch = StoreBatch(rows={"stock_movements": _movements(20)})
    else:
        store = SqlStore(request.getfixturevalue("fresh_postgres_url"))
        copied = copy_rows("stock_movements", _movements(COPY_THRESHOLD + 10))
        batch = StoreBatch(copied={"stock_movements": copied})
    batch.checkpoints[("t", 0)] = 7

    def meanwhile() -> dict[str, list[dict]]:
        raise RuntimeError("the document store failed")

    with pytest.raises(RuntimeError, match="document store"):
        store.write_batch("g", batch, meanwhile=meanwhile)
    assert store.count_rows("stock_movements") == 0
    assert store.checkpoints("g") == {}
    store.write_batch("g", batch)  # the connection is usable again
    assert store.count_rows("stock_movements") > 0
    assert store.checkpoints("g") == {("t", 0): 7}
    store.close()
