"""AppTest page tests for the home page and the ingestion screen."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from core.bootstrap import build_services
from core.settings import load_settings
from core.usecases.commit import UploadFacts, commit_upload

ROOT = Path(__file__).resolve().parents[2]


def _app(page: str) -> AppTest:
    return AppTest.from_file(str(ROOT / page), default_timeout=60)


def test_home_page_shows_the_stored_counts_on_an_empty_embedded_stack(app_env: Path) -> None:
    at = _app("streamlit_app.py").run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert labels == {"Stock movements": "0", "Delivery notes": "0", "Customers": "0"}
    assert "embedded" in " ".join(m.value for m in at.markdown)


def test_home_page_names_an_unreachable_server_and_its_setting(app_env: Path, monkeypatch) -> None:
    monkeypatch.setenv("PIPEWORKS_DATABASE_URL", "postgresql+psycopg2://u@127.0.0.1:1/x")
    at = _app("streamlit_app.py").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "PostgreSQL is unreachable" in errors and "PIPEWORKS_DATABASE_URL" in errors
    assert not at.metric


def test_ingestion_page_lists_uploads_with_their_counts(app_env: Path) -> None:
    settings = load_settings(secrets_file=None)
    services = build_services(settings)
    rows = pd.DataFrame({"customer_id": ["A", "B"], "sheet": "s", "row": [2, 3]})
    facts = UploadFacts(
        dataset="customers",
        file_name="clients.xlsx",
        sha256="d" * 64,
        sheet="s",
        layout=None,
        mapping={},
        total_rows=3,
        rejected_rows=1,
        duplicate_rows=0,
    )
    commit_upload(
        facts, rows, sql=services.sql, bus=services.bus, topic=settings.topic("customers")
    )
    at = _app("pages/2_Ingestion.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["File"]) == ["clients.xlsx"]
    assert (table["Published"].iloc[0], table["Rejected"].iloc[0]) == (2, 1)
    lag = {m.label: m.value for m in at.metric}
    assert lag["Waiting to be stored · customers"] == "2"
