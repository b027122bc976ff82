"""The running app driven in real Chromium: what users see and download matches the stores.

Streamlit draws its tables on a canvas, so counts are read from the captions and metrics the
pages print, and file contents from real downloads.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Download, Page, expect
from sqlalchemy import and_, func, not_, or_, select

from core import demo
from core.adapters import sql_schema as s
from tests.browser.harness import DEMO_CUSTOMERS, DEMO_MOVEMENTS, DemoApp

pytestmark = pytest.mark.browser

DELIVERY = "Livraison client"
# The deliveries report has one sheet per family, in this order, even when a family is empty;
# a further "Autres" sheet only when a delivery's designation gives no known family.
FAMILY_SHEETS = ["Conduit", "Pièces spéciales", "Raccords", "Matériel", "Joints", "Stoppeurs"]
OTHER_SHEET = "Autres"
# The demo customer file's columns after ID, name, country, city and status: its numeric
# attributes, which the segmentation page offers as features by default.
CUSTOMER_FEATURES = list(demo.CUSTOMER_COLUMNS[5:])
SEGMENTS = 3
_m = s.stock_movements.c


def test_home_shows_the_stored_counts(page: Page, demo_app: DemoApp) -> None:
    page.goto(demo_app.url)
    metrics = page.get_by_test_id("stMetric")
    expect(metrics).to_have_count(3)
    shown = dict(_metric(text) for text in metrics.all_inner_texts())
    assert shown == {
        "Stock movements": f"{DEMO_MOVEMENTS:,}",
        "Delivery notes": f"{_delivery_notes(demo_app):,}",
        "Customers": f"{DEMO_CUSTOMERS:,}",
    }
    _no_exception_shown(page)


def test_filtering_stock_movements_by_type_narrows_the_rows_counted_and_downloaded(
    page: Page, demo_app: DemoApp
) -> None:
    deliveries = _count(demo_app, _m.type_mouvement == DELIVERY)
    assert 0 < deliveries < DEMO_MOVEMENTS
    page.goto(demo_app.page_url("Stock_movements"))
    expect(page.get_by_text(f"of {DEMO_MOVEMENTS:,} · page 1 of")).to_be_visible()

    page.get_by_role("combobox", name="Type_mouvement").click()
    page.get_by_role("option", name=DELIVERY, exact=True).click()
    page.keyboard.press("Escape")
    expect(page.get_by_text(f"Rows 1–50 of {deliveries:,} · page 1 of")).to_be_visible()

    rows = list(csv.DictReader(io.StringIO(_download(page, "Download CSV").decode("utf-8-sig"))))
    assert len(rows) == deliveries
    assert {row["type_mouvement"] for row in rows} == {DELIVERY}
    _no_exception_shown(page)


def test_deliveries_report_has_a_sheet_per_family_holding_only_customer_deliveries(
    page: Page, demo_app: DemoApp, tmp_path: Path
) -> None:
    page.goto(demo_app.page_url("Reports"))
    page.get_by_text("Deliveries by family", exact=True).click()
    page.get_by_role("button", name="Write report").click()
    written = page.get_by_text(re.compile(r"^Deliveries by family for .* rows written\.$"))
    expect(written).to_be_visible()

    download = _download_event(page, "Download deliveries_by_family_")
    name = download.suggested_filename
    start, end = (dt.date.fromisoformat(d) for d in name.split("_")[3:5])
    expected = _delivery_lines(demo_app, start, end)
    assert expected, "the report's default period holds no delivery"
    assert f"{len(expected):,} rows written" in written.inner_text()

    path = tmp_path / name
    download.save_as(path)
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames[: len(FAMILY_SHEETS)] == FAMILY_SHEETS
    assert set(book.sheetnames) <= {*FAMILY_SHEETS, OTHER_SHEET}
    lines: list[tuple[Any, ...]] = []
    for sheet in book.worksheets:
        header, *rows = sheet.iter_rows(values_only=True)
        record = [dict(zip(header, row, strict=True)) for row in rows]
        if sheet.title != OTHER_SHEET:
            assert {r["Family"] for r in record} <= {sheet.title}, sheet.title
        assert all(r["Tiers"] for r in record), f"a row of {sheet.title} has no customer"
        lines += [_key(r["Piece"], r["No_ligne"], r["Article"], r["Lot"]) for r in record]
    book.close()
    assert len(lines) == len(set(lines))
    assert set(lines) == expected
    _no_exception_shown(page)


def test_kmeans_segmentation_downloads_every_customer_with_its_segment_and_features(
    page: Page, demo_app: DemoApp
) -> None:
    customers = _customer_workbook(demo_app.files.customers)
    with demo_app.sql.begin() as conn:
        stored = set(conn.execute(select(s.customers.c.customer_id)).scalars())
    assert stored == set(customers)
    page.goto(demo_app.page_url("Segmentation"))
    k = page.get_by_role("spinbutton", name="Number of segments (k)")
    k.fill(str(SEGMENTS))
    k.press("Enter")
    expect(k).to_have_value(str(SEGMENTS))
    page.get_by_role("button", name="Run segmentation").click()
    expect(page.get_by_text("K-means segments · not saved yet")).to_be_visible()
    expect(page.get_by_text(f"k={SEGMENTS},")).to_contain_text(f"{len(stored):,} customers")

    download = _download_event(page, "Download CSV")
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header == ["customer_id", "segment", "segment_name", *CUSTOMER_FEATURES]
    assert len(rows) == len(stored)
    table = [dict(zip(header, row, strict=True)) for row in rows]
    assert {r["customer_id"] for r in table} == stored
    assert {r["segment"] for r in table} == {str(n) for n in range(SEGMENTS)}
    names = {(r["segment"], r["segment_name"]) for r in table}
    assert len(names) == SEGMENTS and all(name for _, name in names)
    for row in table:
        source = customers[row["customer_id"]]
        for feature in CUSTOMER_FEATURES:
            if source[feature] is not None:
                assert float(row[feature]) == pytest.approx(float(source[feature])), feature
    _no_exception_shown(page)


# ------------------------------------------------------------------------------- helpers
def _metric(text: str) -> tuple[str, str]:
    label, value = (part.strip() for part in text.strip().split("\n", 1))
    return label, value


def _no_exception_shown(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


def _download_event(page: Page, label: str) -> Download:
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    return info.value


def _download(page: Page, label: str) -> bytes:
    return Path(_download_event(page, label).path()).read_bytes()


def _count(demo_app: DemoApp, condition: Any) -> int:
    with demo_app.sql.begin() as conn:
        stmt = select(func.count()).select_from(s.stock_movements).where(condition)
        return conn.execute(stmt).scalar_one()


def _delivery_notes(demo_app: DemoApp) -> int:
    """Distinct delivery documents (Piece) among the stored customer deliveries."""
    with demo_app.sql.begin() as conn:
        stmt = select(func.count(func.distinct(_m.piece))).where(_m.type_mouvement == DELIVERY)
        return conn.execute(stmt).scalar_one()


def _delivery_lines(demo_app: DemoApp, start: dt.date, end: dt.date) -> set[tuple[Any, ...]]:
    """Keys of the customer deliveries of finished goods (no MP article or location) dated
    from `start` to `end`, read straight from the relational store."""
    raw = or_(
        func.coalesce(_m.article, "").like("MP%"), func.coalesce(_m.emplacement, "").like("MP%")
    )
    stmt = select(_m.piece, _m.no_ligne, _m.article, _m.lot).where(
        and_(
            _m.type_mouvement == DELIVERY,
            not_(raw),
            _m.date_creation >= start,
            _m.date_creation <= end,
        )
    )
    with demo_app.sql.begin() as conn:
        return {_key(*row) for row in conn.execute(stmt)}


def _key(piece: Any, line: Any, article: Any, lot: Any) -> tuple[Any, ...]:
    return (str(piece), int(line), str(article), lot or "")


def _customer_workbook(path: Path) -> dict[str, dict[str, Any]]:
    """The demo customer file's rows by customer ID, as written."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        header, *rows = book.worksheets[0].iter_rows(values_only=True)
    finally:
        book.close()
    records = [dict(zip(header, row, strict=True)) for row in rows]
    return {r["CustomerID"]: r for r in records}
