"""The consume path against real adapters: committed rows reach the stores exactly once."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pandas as pd
from sqlalchemy import select

from core.adapters import sql_schema as s
from core.bootstrap import Services
from core.consume import DELIVERIES_COLLECTION
from core.ports import Message
from core.usecases.commit import commit_upload

from .conftest import drain, facts


def _customers(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"CL{i:05d}" for i in range(n)],
            "name": [f"Customer {i}" for i in range(n)],
            "country": ["Allemagne" if i % 2 else "Germany" for i in range(n)],
            "city": None,
            "status": "active",
            "income": [1000.0 * i for i in range(n)],
            "sheet": "Sheet1",
            "row": list(range(2, n + 2)),
        }
    )


def _movements(n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        delivery = i % 3 == 0
        rows.append(
            {
                "site": "001",
                "article": f"C05001{i % 7:02d}",
                "designation_1": "C/500/10/5/O/B",
                "lot": f"M1250{i % 9}0{i:03d}",
                "quantite": -2.0 if delivery else 5.0,
                "uc": "ML",
                "emplacement": "A01",
                "type_mouvement": "Livraison client" if delivery else "Production",
                "tiers": f"CL{(i // 5) % 4:05d}" if delivery else None,
                "piece": f"BL{i // 5:05d}",
                "no_ligne": i % 5 + 1,
                "devise": "EUR",
                "montant_mouvement": -100.0 if delivery else 250.0,
                "date_creation": dt.date(2026, 1 + i % 3, 1 + i % 28),
                "heure": "08:30:00",
                "sheet": "Mouvements",
                "row": i + 2,
            }
        )
    return pd.DataFrame(rows)


def test_committed_customers_are_stored_once_with_their_upload_counted(stack: Services) -> None:
    topic = stack.settings.topic("customers")
    result = commit_upload(
        facts("customers", _customers(50)),
        _customers(50),
        sql=stack.sql,
        bus=stack.bus,
        topic=topic,
    )
    assert result.published == 50
    drain(stack)
    assert stack.sql.count_rows("customers") == 50
    upload = stack.sql.get_upload(result.upload_id)
    assert (upload["status"], upload["stored"], upload["published"]) == ("stored", 50, 50)
    with stack.sql.begin() as conn:
        row = conn.execute(select(s.customers).where(s.customers.c.customer_id == "CL00003")).one()
    assert row.country_name == "Germany"
    assert row.attributes["income"] == 3000.0


def test_the_same_file_committed_twice_adds_nothing(stack: Services) -> None:
    topic = stack.settings.topic("customers")
    first = commit_upload(
        facts("customers", _customers(10)),
        _customers(10),
        sql=stack.sql,
        bus=stack.bus,
        topic=topic,
    )
    again = commit_upload(
        facts("customers", _customers(10)),
        _customers(10),
        sql=stack.sql,
        bus=stack.bus,
        topic=topic,
    )
    assert again.already_loaded is not None and again.already_loaded["id"] == first.upload_id
    assert again.published == 0
    drain(stack)
    assert stack.sql.count_rows("customers") == 10


def _checksum(services: Services) -> str:
    """A digest of every stored movement (all columns but the surrogate id and timestamp)."""
    columns = [c for c in s.stock_movements.c if c.name not in {"id", "stored_at"}]
    key = [s.stock_movements.c[k] for k in ("piece", "no_ligne", "article", "lot")]
    digest = hashlib.sha256()
    with services.sql.begin() as conn:
        for row in conn.execute(select(*columns).order_by(*key)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_replaying_every_topic_leaves_the_stores_and_counters_unchanged(stack: Services) -> None:
    topic = stack.settings.topic("stock_movements")
    movements = _movements(60)
    result = commit_upload(
        facts("stock_movements", movements), movements, sql=stack.sql, bus=stack.bus, topic=topic
    )
    drain(stack)
    before_sum = _checksum(stack)
    before_docs = stack.documents.find(DELIVERIES_COLLECTION, sort=[("_id", 1)], limit=1000)
    stack.bus.reset_group(stack.settings.consumer_group, [topic])
    assert stack.bus.lag(stack.settings.consumer_group, [topic])[topic] == 60
    drain(stack)
    assert stack.bus.lag(stack.settings.consumer_group, [topic])[topic] == 0
    assert stack.sql.count_rows("stock_movements") == 60
    assert _checksum(stack) == before_sum
    after_docs = stack.documents.find(DELIVERIES_COLLECTION, sort=[("_id", 1)], limit=1000)
    assert after_docs == before_docs
    assert stack.sql.get_upload(result.upload_id)["stored"] == 60


def test_customer_deliveries_among_movements_become_delivery_documents(stack: Services) -> None:
    topic = stack.settings.topic("stock_movements")
    movements = _movements(30)
    commit_upload(
        facts("stock_movements", movements), movements, sql=stack.sql, bus=stack.bus, topic=topic
    )
    drain(stack)
    expected = movements[movements.type_mouvement == "Livraison client"]
    docs = stack.documents.find(DELIVERIES_COLLECTION, sort=[("_id", 1)], limit=100)
    assert sorted(d["_id"] for d in docs) == sorted(expected.piece.unique())
    assert sum(d["line_count"] for d in docs) == len(expected)
    first = next(d for d in docs if d["_id"] == "BL00000")
    lines = expected[expected.piece == "BL00000"]
    assert first["customer"] == "CL00000"
    assert first["total_quantity"] == -lines.quantite.sum() == 2.0 * len(lines)
    assert first["month"] == first["delivery_date"][:7]


def test_a_poison_message_is_dead_lettered_and_the_loop_goes_on(stack: Services) -> None:
    topic = stack.settings.topic("customers")
    stack.bus.publish(topic, [Message(key="x", value={"v": 99, "nonsense": True})])
    customers = _customers(5)
    commit_upload(
        facts("customers", customers, sha="b" * 64),
        customers,
        sql=stack.sql,
        bus=stack.bus,
        topic=topic,
    )
    drain(stack)
    assert stack.sql.count_rows("customers") == 5
    dead = stack.sql.dead_letter_list()
    assert len(dead) == 1 and "version" in dead[0]["error"]
    assert stack.bus.lag(stack.settings.consumer_group, [topic])[topic] == 0
    consumer = stack.bus.consumer("dlq-reader", [topic + ".dlq"])
    records = consumer.poll(max_records=10, timeout_s=5)
    consumer.close()
    assert len(records) == 1 and json.loads(records[0].value)["error"] == dead[0]["error"]


def test_a_refused_row_is_counted_against_its_upload(stack: Services) -> None:
    topic = stack.settings.topic("customers")
    customers = _customers(3)
    result = commit_upload(
        facts("customers", customers, sha="c" * 64),
        customers,
        sql=stack.sql,
        bus=stack.bus,
        topic=topic,
    )
    refused = {"v": 1, "dataset": "customers", "upload_id": result.upload_id, "data": {}}
    stack.bus.publish(topic, [Message(key="", value=refused)])  # no key: refused
    drain(stack)
    upload = stack.sql.get_upload(result.upload_id)
    assert (upload["stored"], upload["dead_lettered"]) == (3, 1)
    assert "key field customer_id is empty" in stack.sql.dead_letter_list()[0]["error"]
