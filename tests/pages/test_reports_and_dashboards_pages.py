"""AppTest page tests for the reports and dashboards screens on a seeded embedded stack."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import reports
from core.bootstrap import build_services
from core.queries.periods import Period
from core.settings import load_settings
from tests import seeding

ROOT = Path(__file__).resolve().parents[2]


def _app(page: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60)


@pytest.fixture
def seeded(app_env: Path) -> seeding.Seeded:
    services = build_services(load_settings(secrets_file=None))
    try:
        return seeding.seed(services.sql, services.documents, movements=300, customers=60)
    finally:
        services.close()


def _traces(at: AppTest, key: str) -> list[dict]:
    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id]
    return json.loads(chart.proto.spec)["data"]


def test_reports_page_writes_a_report_for_the_period_and_lists_the_run(seeded, app_env) -> None:
    at = _app("6_Reports.py").run()
    assert not at.exception
    assert "No report written yet" in at.info[0].value
    at.radio(key="reports.kind").set_value(reports.DELIVERIES_BY_FAMILY)
    at.date_input(key="reports.period").set_value((dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
    at.button(key="reports.write").click().run()
    assert not at.exception
    expected = sum(
        m["type_mouvement"] == seeding.DELIVERY for m in seeded.movements
    )  # no delivery in the seed comes from a raw-material article or location
    assert f"{expected:,} rows written" in at.success[0].value
    files = list((app_env / "reports").glob("deliveries_by_family_2024-01-01_2024-12-31_*.xlsx"))
    assert len(files) == 1
    runs = at.dataframe[0].value
    assert list(runs["Report"]) == ["Deliveries by family"]
    assert list(runs["Trigger"]) == ["manual"] and list(runs["Rows"]) == [expected]
    labels = [b.label for b in at.download_button]
    assert f"Download {files[0].name}" in labels and "Download the chosen run" in labels


def test_reports_page_lists_daily_runs_and_warns_about_a_missing_file(seeded, app_env) -> None:
    services = build_services(load_settings(secrets_file=None))
    run = reports.write_report(
        reports.STOCK_STATUS,
        Period.month(2024, 5),
        services.sql,
        services.settings.reports_dir,
        trigger=reports.DAILY,
    )
    services.close()
    run.file.unlink()
    at = _app("6_Reports.py").run()
    assert not at.exception
    assert list(at.dataframe[0].value["Trigger"]) == ["daily"]
    assert "no longer in the reports folder" in at.warning[0].value


def test_dashboards_page_draws_every_chart_without_error(seeded) -> None:
    at = _app("7_Dashboards.py").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 5
    moves = {t["name"] for t in _traces(at, "moves")}
    assert moves == {m["type_mouvement"] for m in seeded.movements}
    pie = _traces(at, "countries")[0]
    assert "Germany" in pie["labels"] and "Allemagne" not in pie["labels"]


def test_choosing_a_family_narrows_the_dashboards(seeded) -> None:
    at = _app("7_Dashboards.py").run()
    at.multiselect(key="dashboards.families").select("Raccords").run()
    at.radio(key="dashboards.colour").set_value("family").run()
    assert not at.exception
    assert {t["name"] for t in _traces(at, "moves")} == {"Raccords"}
    assert {t["name"] for t in _traces(at, "stock")} == {"Raccords"}
    assert {t["name"] for t in _traces(at, "top")} == {"Raccords"}


def test_dashboards_page_on_an_empty_store_explains_there_is_nothing_yet(app_env) -> None:
    at = _app("7_Dashboards.py").run()
    assert not at.exception
    assert not at.get("plotly_chart")
    assert len(at.info) == 5
