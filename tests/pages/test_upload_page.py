"""The upload screen in AppTest: a real file in, a validation report, a commit."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.bootstrap import build_services
from core.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
CSV = "text/csv"


def _upload(name: str, data: bytes) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "1_Upload.py"), default_timeout=120).run()
    assert not at.exception
    at.file_uploader[0].set_value((name, data, CSV))
    return at.run()


def test_a_customer_file_is_understood_validated_and_committed(app_env: Path, shared_data) -> None:
    at = _upload("seed_customers.csv", (shared_data / "seed_customers.csv").read_bytes())
    assert not at.exception, at.exception
    assert at.radio[0].value == "customers"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Rows": "2,000",
        "Valid": "2,000",
        "Rejected": "0",
        "Duplicates in the file": "0",
    }
    commit = next(b for b in at.button if b.label.startswith("Commit"))
    at = commit.click().run()
    assert not at.exception
    assert any("Published 2,000 rows" in s.value for s in at.success)
    services = build_services(load_settings(secrets_file=None))
    [record] = services.sql.list_uploads()
    assert (record["published"], record["file_name"], record["status"]) == (
        2000,
        "seed_customers.csv",
        "published",
    )
    assert services.sql.load_mapping("customers", record["layout"])["customer_id"] == "CustomerID"


def test_rejected_rows_are_listed_with_sheet_row_and_column(app_env: Path) -> None:
    data = b"CustomerID;Name;Founded\n1;Alpha;1999\n;Beta;2001\n3;Gamma;2005\n"
    at = _upload("clients.csv", data)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Valid"], metrics["Rejected"]) == ("2", "1")
    [issues] = [d.value for d in at.dataframe if "reason" in d.value.columns]
    row = issues.iloc[0]
    assert (row["row"], row["column"]) == (3, "CustomerID")
    assert "missing" in row["reason"]


def test_an_unreadable_file_gets_one_clear_line_and_the_page_survives(app_env: Path) -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "1_Upload.py"), default_timeout=60).run()
    at.file_uploader[0].set_value(
        ("stock.xlsx", b"PK\x03\x04 truncated", "application/octet-stream")
    )
    at = at.run()
    assert not at.exception
    [error] = at.error
    assert error.value.startswith("**stock.xlsx** cannot be read:")
