"""Seeded stores for the query tests: each test runs on SQLite and PostgreSQL, over stock
movements, customers and the delivery projection of the customer deliveries. Data is written
once per module into a database of its own, dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from core.adapters.sql_store import SqlStore
from tests import seeding
from tests.seeding import postgres_database

MOVEMENTS = 400
CUSTOMERS = 60


@dataclass
class SqlCase:
    sql: SqlStore
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


@contextmanager
def _seeded_store(url: str) -> Iterator[SqlCase]:
    sql = SqlStore(url)
    try:
        yield SqlCase(sql, seeding.seed(sql, movements=MOVEMENTS, customers=CUSTOMERS))
    finally:
        sql.close()
