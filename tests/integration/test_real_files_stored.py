"""The public files of shared/data, checked, committed and stored through the real stack:
the stores hold what each file's README counts, and committing a file again adds nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.adapters import sql_schema as s
from core.bootstrap import Services
from core.consume import DELIVERIES_COLLECTION
from core.ingest.limits import ParseLimits
from core.usecases.ingest_file import check_file, commit_check

from .conftest import drain

LIMITS = ParseLimits(max_rows=1_048_576, memory_mb=2_048, timeout_s=120)

# file, dataset, sheet, sha256 (shared/data/README.md), rows read, rejected, duplicates
FILES = [
    (
        "seed_customers.csv", "customers", None,
        "1d46acecacece4e905b220143170d7f5f6bb3bd574c728e1d4584c9321a64cff", 2000, 0, 0,
    ),
    (
        "supply_chain_logistics.xlsx", "deliveries", "OrderList",
        "0956bb1bd55c5b95fd3943e796aca800c400bd14644f605468f35aae1f848c4d", 9215, 0, 0,
    ),
    # text in the weight column (`Weight Captured Separately`, `See ASN-…`) rejects its row
    (
        "scms_delivery_history.csv", "deliveries", None,
        "918b992dd3e8d4b64d2a727b2c4ea607603d0c58f19484e73f7b78528c6a8673", 10324, 3952, 0,
    ),
    # invoice lines without line numbers: the 72 exact duplicate rows are the only duplicates
    (
        "online_retail_ii_head6000.csv", "deliveries", None,
        "0668e394106187592373a9a1ac7caa7205b658d1b245b87900f313522c46c181", 6000, 0, 72,
    ),
]  # fmt: skip


def _upload_count(services: Services) -> int:
    return len(services.sql.list_uploads())


def _lines_and_notes(services: Services) -> tuple[int, int]:
    with services.sql.begin() as conn:
        lines = conn.execute(select(func.count()).select_from(s.delivery_lines)).scalar_one()
        notes = conn.execute(select(func.count()).select_from(s.delivery_notes)).scalar_one()
    return lines, notes


@pytest.mark.parametrize(
    ("name", "dataset", "sheet", "sha256", "total", "rejected", "duplicates"),
    FILES,
    ids=[f[0] for f in FILES],
)
def test_a_public_file_is_stored_with_the_counts_of_its_readme(
    stack: Services,
    shared_data: Path,
    name: str,
    dataset: str,
    sheet: str | None,
    sha256: str,
    total: int,
    rejected: int,
    duplicates: int,
) -> None:
    path = shared_data / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256, f"{name} changed"
    check = check_file(path, dataset=dataset, sql=stack.sql, limits=LIMITS, sheet=sheet)
    report = check.report
    assert (report.total, report.rejected, report.duplicates) == (total, rejected, duplicates)
    valid = total - rejected - duplicates
    result = commit_check(check, stack, source="test")
    assert result.published == valid
    drain(stack)
    upload = stack.sql.get_upload(result.upload_id)
    assert (upload["status"], upload["stored"], upload["dead_lettered"]) == ("stored", valid, 0)
    if dataset == "customers":
        assert stack.sql.count_rows("customers") == valid
    else:
        notes = report.valid_rows["delivery_no"].nunique()
        assert _lines_and_notes(stack) == (valid, notes)
        assert stack.documents.count(DELIVERIES_COLLECTION) == notes
        documents = stack.documents.find(DELIVERIES_COLLECTION, limit=notes)
        assert sum(len(d["lines"]) for d in documents) == valid

    again = check_file(path, dataset=dataset, sql=stack.sql, limits=LIMITS, sheet=sheet)
    assert again.already_loaded is not None and again.already_loaded["id"] == result.upload_id
    assert commit_check(again, stack, source="test").published == 0
    assert _upload_count(stack) == 1


def test_invoice_lines_without_line_numbers_are_numbered_within_their_invoice(
    stack: Services, shared_data: Path
) -> None:
    path = shared_data / "online_retail_ii_head6000.csv"
    check = check_file(path, dataset="deliveries", sql=stack.sql, limits=LIMITS)
    assert check.mapping_source == "suggested"
    assert check.mapping.fields["delivery_no"] == "Invoice"
    assert check.mapping.fields["delivery_date"] == "InvoiceDate"
    assert check.mapping.fields["article"] == "StockCode"
    assert check.mapping.unexpected == ("Price",)
    listed = check.report.duplicates_list
    assert set(listed["same"]) == {"values"}
    frame = check.raw.frame
    for row, kept in zip(listed["row"], listed["kept_row"], strict=True):
        assert kept < row and frame.loc[row].equals(frame.loc[kept])
    commit_check(check, stack, source="test")
    drain(stack)
    assert _lines_and_notes(stack) == (5928, 274)
    [invoice] = stack.documents.find(DELIVERIES_COLLECTION, where={"_id": "489434"}, limit=1)
    assert [line["line_no"] for line in invoice["lines"]] == list(range(1, 9))
    assert invoice["lines"][0]["article"] == "85048" and invoice["customer"] == "13085"
    cancelled = stack.documents.find(DELIVERIES_COLLECTION, where={"_id": "C489449"}, limit=1)
    assert cancelled and all(line["quantity"] < 0 for line in cancelled[0]["lines"])
