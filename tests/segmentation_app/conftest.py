"""A stack (embedded files, or the real servers) holding the shared seed customers: loaded
through the real ingest path (check the file, commit it, drain the bus with the worker's job),
or, where a test is about what comes after, written straight to the store as the worker
writes them (much faster on the servers, where each test has its own topics)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from background.worker import ConsumeJob
from core.adapters.sql_store import utcnow
from core.bootstrap import Services, build_services
from core.domain.countries import normalize_country
from core.ingest.limits import ParseLimits
from core.segmentation import customer_key
from core.usecases.ingest_file import check_file, commit_check
from tests import seeding

SEED_FILE = "seed_customers.csv"
SEED_CUSTOMERS = 2000
DRAIN_ROUNDS = 40


def ingest(services: Services, path: Path, *, dataset: str = "customers") -> int:
    """Check and commit a file, then run the consume job until its rows are stored."""
    check = check_file(
        path, dataset=dataset, sql=services.sql, limits=ParseLimits.from_settings(services.settings)
    )
    result = commit_check(check, services, source="test")
    job = ConsumeJob(services, threading.Event(), budget_s=10)
    try:
        for _ in range(DRAIN_ROUNDS):
            job()
            upload = services.sql.get_upload(result.upload_id)
            if upload["status"] == "stored":
                break
    finally:
        job.close()
    upload = services.sql.get_upload(result.upload_id)
    assert upload["status"] == "stored", upload
    return result.published


@pytest.fixture
def stack(stack_settings) -> Iterator[Services]:
    services = build_services(stack_settings)
    yield services
    services.close()


@pytest.fixture
def seed_file(shared_data: Path) -> Path:
    return shared_data / SEED_FILE


@pytest.fixture
def seeded(stack: Services, seed_file: Path) -> Services:
    """The stack with the 2,000 seed customers stored."""
    assert ingest(stack, seed_file) == SEED_CUSTOMERS
    return stack


@pytest.fixture(scope="session")
def seed_rows(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / SEED_FILE)


@pytest.fixture
def stored(stack: Services, seed_rows: pd.DataFrame) -> Services:
    """The stack with the 2,000 seed customers written directly, as the worker stores them."""
    now = utcnow()
    rows = []
    for number, record in enumerate(seed_rows.to_dict("records"), start=2):
        country, status = record.pop("Country"), record.pop("Status")
        rows.append(
            {
                "customer_id": customer_key(record.pop("CustomerID")),
                "name": None,
                "country": country,
                "country_name": normalize_country(country),
                "city": None,
                "status": status,
                "attributes": record,
                "upload_id": "seed-customers",
                "sheet": "seed_customers",
                "row_number": number,
                "stored_at": now,
            }
        )
    seeding.write_rows(stack.sql, customers=rows)
    return stack
