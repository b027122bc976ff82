"""Shared fixtures: the real servers started by `tests/services/services.sh`.

The server fixtures read the same variables as the app. Where a variable is unset the test
is skipped on a developer's machine and FAILS under CI=true: in CI a missing server is an error.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _server(variable: str, what: str) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    message = f"{what} not configured: set {variable} (see tests/services/README.md)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return _server("PIPEWORKS_DATABASE_URL", "PostgreSQL")


@pytest.fixture(scope="session")
def mongo_url() -> str:
    return _server("PIPEWORKS_MONGO_URL", "MongoDB/FerretDB")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return _server("PIPEWORKS_KAFKA_BOOTSTRAP", "Kafka")


@pytest.fixture
def unique() -> str:
    """A short unique name for topics, collections, groups and schemas of one test."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        message = f"shared datasets not found at {SHARED_DATA}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture
def fresh_postgres_url(postgres_url: str, unique: str):
    """A new, empty PostgreSQL database for one test (dropped afterwards)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    # no pooled connection to go stale: fault tests restart the server in between
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{unique}"'))
    yield make_url(postgres_url).set(database=unique).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{unique}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["embedded", pytest.param("servers", marks=pytest.mark.servers)])
def stack_env(request: pytest.FixtureRequest, tmp_path: Path, unique: str) -> dict[str, str]:
    """The PIPEWORKS_* variables of one isolated stack: embedded files in tmp_path, or the
    real servers with a fresh database, a unique MongoDB database and a unique topic prefix."""
    env = {"PIPEWORKS_DATA_DIR": str(tmp_path / "data"), "PIPEWORKS_EMBEDDED_WORKER": "false"}
    if request.param == "servers":
        env |= {
            "PIPEWORKS_DATABASE_URL": request.getfixturevalue("fresh_postgres_url"),
            "PIPEWORKS_MONGO_URL": request.getfixturevalue("mongo_url"),
            "PIPEWORKS_MONGO_DB": unique,
            "PIPEWORKS_KAFKA_BOOTSTRAP": request.getfixturevalue("kafka_bootstrap"),
            "PIPEWORKS_TOPIC_PREFIX": f"{unique}.",
        }
    return env


@pytest.fixture
def stack_settings(stack_env: dict[str, str]):
    """Settings of the isolated stack of `stack_env` (embedded and servers)."""
    from core.settings import load_settings

    return load_settings(stack_env, secrets_file=None)


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Environment for AppTest page tests: an embedded stack in tmp_path, no worker process,
    no server variables inherited from the shell, and Streamlit's caches cleared."""
    import streamlit as st

    for name in list(os.environ):
        if name.startswith("PIPEWORKS_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PIPEWORKS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PIPEWORKS_EMBEDDED_WORKER", "false")
    st.cache_resource.clear()
    st.cache_data.clear()
    yield data_dir
    st.cache_resource.clear()
    st.cache_data.clear()
