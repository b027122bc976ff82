"""Realistic stored data for tests: stock movements of a GRP-pipe maker, customers and
delivery notes (documents and their relational projection), written through the real store
adapters.

Everything is generated from a seed, so a test can recompute what it expects from the
returned rows.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.adapters.sql_store import SqlStore, StoreBatch, utcnow
from core.consume import DELIVERIES_COLLECTION as COLLECTION
from core.consume import project
from core.domain import deliveries
from core.domain.countries import normalize_country
from core.domain.designation import parse_designations
from core.domain.schemas import STOCK_MOVEMENT_FIELDS
from core.ports import DocumentStore

DELIVERY = "Livraison client"
PRODUCTION = "Entrée production"
CONSUMPTION = "Consommation production"
RECEIPT = "Réception fournisseur"
TRANSFER = "Transfert"
ADJUSTMENT = "Ajustement inventaire"
MOVEMENT_TYPES = (DELIVERY, PRODUCTION, CONSUMPTION, RECEIPT, TRANSFER, ADJUSTMENT)
_TYPE_WEIGHTS = (30, 30, 15, 10, 10, 5)
START = dt.date(2024, 1, 1)
DAYS = 365
COUNTRIES = ("Allemagne", "Germany", "France", "États-Unis", "USA", "Maroc", "Morocco", "Suède")
SITES = ("S01", "S02")

# (article, designation, unit, unit price)
_FINISHED: tuple[tuple[str, str, str, float], ...] = (
    ("C0500-10-5OB", "C/500/10/5/O/B", "ML", 95.0),
    ("C0600-10-5IB", "C/600/10/5/I/B", "ML", 120.0),
    ("C0800-16-10VU", "C/800/16/10/V/U", "ML", 210.0),
    ("C1000-6-5OB", "C/1000/6/5/O/B", "ML", 260.0),
    ("SP0500-10-5", "Short pipe 500 10 5 O B", "PC", 180.0),
    ("CD30-0500", "Coude 30°/500/10/5/O", "PC", 340.0),
    ("CD90-0600", "Coude 90°/600/10/5/I", "PC", 520.0),
    ("TC0600-200", "Té Concentrique/600/200/10/5", "PC", 610.0),
    ("CR0800-600", "Cone Réduction/800/600/6/5", "PC", 450.0),
    ("RA0500-10", "Raccord/500/10", "PC", 75.0),
    ("RA0800-16", "Raccord/800/16", "PC", 130.0),
    ("KIT-LUB-1", "Kit lubrifiant 1 kg", "PC", 12.0),
    ("JT-REKA-500", "Joint REKA EPDM DN500", "PC", 22.0),
    ("ST-0500", "Stoppeur DN500", "PC", 40.0),
)
_RAW: tuple[tuple[str, str, str, float], ...] = (
    ("MP-RES-ORTHO", "Résine orthophtalique", "KG", 2.1),
    ("MP-FV-2400", "Fibre de verre roving 2400 tex", "KG", 1.4),
    ("MP-SABLE", "Sable silice", "KG", 0.1),
)


@dataclass
class Seeded:
    """What was written, for tests to compute their expectations from."""

    movements: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)


def movement_rows(
    n: int = 300,
    *,
    seed: int = 7,
    customer_ids: Sequence[str] = ("C0001",),
    start: dt.date = START,
    days: int = DAYS,
) -> list[dict[str, Any]]:
    """`n` stock movements as stored rows (all 58 ERP fields, parsed attributes, source).

    Movements come in documents of 1 to 4 lines sharing type, day, site and customer."""
    rng = random.Random(seed)
    upload_id = str(uuid.UUID(int=rng.getrandbits(128)))
    now = utcnow()
    rows: list[dict[str, Any]] = []
    document = 0
    while len(rows) < n:
        document += 1
        kind = rng.choices(MOVEMENT_TYPES, _TYPE_WEIGHTS)[0]
        raw = kind in (CONSUMPTION, RECEIPT)
        day = start + dt.timedelta(days=rng.randrange(days))
        site = rng.choice(SITES)
        customer = rng.choice(customer_ids) if kind == DELIVERY else None
        prefix = {DELIVERY: "BL", PRODUCTION: "OF", CONSUMPTION: "OF", RECEIPT: "BR"}.get(
            kind, "MV"
        )
        for line in range(1, min(rng.randint(1, 4), n - len(rows)) + 1):
            article, designation, unit, price = rng.choice(_RAW if raw else _FINISHED)
            quantity = float(rng.randint(1, 40) * (25 if raw else 1))
            if kind in (DELIVERY, CONSUMPTION) or (kind != PRODUCTION and rng.random() < 0.4):
                quantity = -quantity
            machine = rng.choice(("A1", "B2", "C3"))
            lot = "" if raw else f"{machine}{day:%y%m}{rng.randrange(1000):03d}{rng.randrange(10)}"
            row: dict[str, Any] = {f.name: None for f in STOCK_MOVEMENT_FIELDS}
            row.update(
                site=site,
                depot="D1",
                article=article,
                designation_1=designation,
                lot=lot,
                quantite=quantity,
                uc=unit,
                statut="A",
                emplacement=_location(kind, rng),
                type_mouvement=kind,
                tiers=customer,
                type_piece=prefix,
                piece=f"{prefix}{day:%y}{document:06d}",
                no_ligne=line,
                devise="EUR",
                montant_mouvement=round(quantity * price, 2),
                operateur_creation=rng.choice(("JDUPONT", "MMARTIN")),
                date_creation=day,
                heure=f"{rng.randrange(6, 20):02d}:{rng.randrange(60):02d}:00",
            )
            rows.append(row)
    attributes = parse_designations(
        [r["designation_1"] for r in rows],
        [r["lot"] for r in rows],
        [r["article"] for r in rows],
        [r["emplacement"] for r in rows],
    )
    for row, values in zip(rows, attributes.to_dict("records"), strict=True):
        row.update({k: _plain(v) for k, v in values.items()})
        row.update(upload_id=upload_id, sheet="Mouvements", row_number=None, stored_at=now)
    return rows


def customer_rows(n: int = 60, *, seed: int = 7) -> list[dict[str, Any]]:
    """`n` customers with extra attributes; one has a name a spreadsheet would run."""
    rng = random.Random(seed)
    now = utcnow()
    rows = []
    for i in range(1, n + 1):
        country = COUNTRIES[i % len(COUNTRIES)]
        attributes: dict[str, Any] = {
            "Annual Income ($)": float(rng.randrange(15_000, 190_000, 1_000)),
            "Spending Score (1-100)": float(rng.randint(1, 100)),
            "Customer size": rng.randint(1, 5),
            "Founded": rng.randint(1950, 2020),
        }
        if i % 4 == 0:
            attributes["Note"] = rng.choice(("key account", "new", "-discount", "=1+1"))
        rows.append(
            {
                "customer_id": f"C{i:04d}",
                "name": '=HYPERLINK("http://x")' if i == 3 else f"Client {i:04d}",
                "country": country,
                "country_name": normalize_country(country),
                "city": rng.choice(("Lyon", "Hamburg", "Casablanca", "Houston")),
                "status": rng.choice(("Private", "Public")),
                "attributes": attributes,
                "upload_id": "customers-upload",
                "sheet": "Customers",
                "row_number": i + 1,
                "stored_at": now,
            }
        )
    return rows


def delivery_documents(movements: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Delivery documents built from the customer deliveries, as the worker builds them."""
    lines = [
        deliveries.line_from_movement(m) for m in movements if deliveries.is_customer_delivery(m)
    ]
    return deliveries.merge({}, lines)


def seed(
    sql: SqlStore,
    documents: DocumentStore | None = None,
    *,
    movements: int = 300,
    customers: int = 60,
    seed: int = 7,
) -> Seeded:
    """Write movements, customers and their delivery notes (the relational projection, and
    the documents too when a document store is given)."""
    people = customer_rows(customers, seed=seed)
    rows = movement_rows(movements, seed=seed, customer_ids=[c["customer_id"] for c in people])
    write_rows(sql, movements=rows, customers=people)
    docs = delivery_documents(rows)
    write_deliveries(sql, documents, docs)
    return Seeded(movements=rows, customers=people, deliveries=docs)


def write_deliveries(
    sql: SqlStore, documents: DocumentStore | None, docs: Sequence[dict[str, Any]]
) -> None:
    """Delivery documents into the document store (when given) and their rows into the
    relational projection, as the worker writes them."""
    if documents is not None:
        documents.upsert(COLLECTION, docs)
    batch = StoreBatch()
    project(docs, batch)
    sql.ensure_schema()
    sql.write_batch("seeding", batch)


def write_rows(
    sql: SqlStore,
    *,
    movements: Sequence[dict[str, Any]] = (),
    customers: Sequence[dict[str, Any]] = (),
) -> None:
    tables = {"stock_movements": list(movements), "customers": list(customers)}
    sql.ensure_schema()
    sql.write_batch("seeding", StoreBatch(rows={k: v for k, v in tables.items() if v}))


def _location(kind: str, rng: random.Random) -> str:
    if kind in (CONSUMPTION, RECEIPT):
        return rng.choice(("MP01", "MP02"))
    if kind == DELIVERY:
        return "EXP01"
    return rng.choice(("A01", "A02", "B01"))


def _plain(value: Any) -> Any:
    if value is None or pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh database on the test server, dropped on exit."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = "q" + uuid.uuid4().hex[:10]
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def mongo_database(server_url: str) -> Iterator[DocumentStore]:
    """A document store on a fresh MongoDB database, dropped on exit."""
    from pymongo import MongoClient

    from core.adapters.mongo_documents import MongoDocumentStore

    name = "q" + uuid.uuid4().hex[:10]
    store = MongoDocumentStore(server_url, name)
    try:
        yield store
    finally:
        store.close()
        client: MongoClient = MongoClient(server_url, serverSelectionTimeoutMS=5_000)
        client.drop_database(name)
        client.close()
