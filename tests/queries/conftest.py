"""Seeded stores for the query tests: each relational test runs on SQLite and PostgreSQL,
each document test on the embedded store and on FerretDB. Data is written once per module
into a database of its own, dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from core.adapters.sql_store import SqlStore
from core.adapters.sqlite_documents import SqliteDocumentStore
from core.ports import DocumentStore
from core.queries.deliveries import COLLECTION
from tests import seeding
from tests.seeding import mongo_database, postgres_database

MOVEMENTS = 400
CUSTOMERS = 60


@dataclass
class SqlCase:
    sql: SqlStore
    seeded: seeding.Seeded


@dataclass
class DocumentCase:
    documents: DocumentStore
    seeded: seeding.Seeded


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.servers)]
)
def sql_case(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqlCase]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sql') / 'pipeworks.db'}"
        with _seeded_store(url) as case:
            yield case
    else:
        server = request.getfixturevalue("postgres_url")
        with postgres_database(server) as url, _seeded_store(url) as case:
            yield case


@pytest.fixture(
    scope="module", params=["embedded", pytest.param("ferretdb", marks=pytest.mark.servers)]
)
def document_case(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DocumentCase]:
    people = seeding.customer_rows(CUSTOMERS)
    rows = seeding.movement_rows(MOVEMENTS, customer_ids=[c["customer_id"] for c in people])
    seeded = seeding.Seeded(movements=rows, deliveries=seeding.delivery_documents(rows))
    if request.param == "embedded":
        store = SqliteDocumentStore(tmp_path_factory.mktemp("docs") / "documents.db")
        store.upsert(COLLECTION, seeded.deliveries)
        yield DocumentCase(store, seeded)
        store.close()
    else:
        with mongo_database(request.getfixturevalue("mongo_url")) as store:
            store.upsert(COLLECTION, seeded.deliveries)
            yield DocumentCase(store, seeded)


@contextmanager
def _seeded_store(url: str) -> Iterator[SqlCase]:
    sql = SqlStore(url)
    try:
        yield SqlCase(sql, seeding.seed(sql, movements=MOVEMENTS, customers=CUSTOMERS))
    finally:
        sql.close()
