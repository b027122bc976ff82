from __future__ import annotations

import csv
import hashlib
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from core.demo import (
    CUSTOMER_COLUMNS,
    DELIVERY_COLUMNS,
    customer_id,
    main,
    write_customers,
    write_deliveries,
    write_stock_movements,
)
from core.domain.designation import (
    CONDUIT,
    COUPLINGS,
    GASKETS,
    KITS,
    RAW_MATERIALS,
    SPECIAL_FITTINGS,
    STOPPERS,
    parse_designations,
)
from core.domain.schemas import ERP_COLUMN_LABELS

ROWS = 700
CUSTOMERS = 60
# Article code prefixes of the demo catalogue and the family their designations must parse to.
FAMILY_BY_ARTICLE = (
    (r"C\d", CONDUIT), (r"SP", CONDUIT), (r"CD|TC|TT|CR|RD", SPECIAL_FITTINGS),
    (r"RC", COUPLINGS), (r"JT", GASKETS), (r"ST", STOPPERS), (r"KT", KITS),
    (r"MP", RAW_MATERIALS),
)  # fmt: skip


def read_sheet(path: Path, *, header_row: int = 1) -> tuple[list[str], list[dict[str, Any]]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    header = list(rows[header_row - 1])
    return header, [dict(zip(header, row, strict=True)) for row in rows[header_row:]]


@pytest.fixture(scope="module")
def movements(tmp_path_factory) -> tuple[Path, list[str], list[dict[str, Any]]]:
    path = tmp_path_factory.mktemp("demo") / "movements.xlsx"
    write_stock_movements(path, rows=ROWS, seed=7, customers=CUSTOMERS)
    header, records = read_sheet(path)
    return path, header, records


def test_stock_movements_have_the_58_erp_headers_in_order(movements):
    _, header, _ = movements
    assert header == list(ERP_COLUMN_LABELS)
    assert len(header) == 58


def test_stock_movements_have_exactly_the_requested_rows(movements):
    assert len(movements[2]) == ROWS


def test_document_line_article_and_lot_identify_each_movement(movements):
    keys = [(r["Piece"], r["No_ligne"], r["Article"], r["Lot"]) for r in movements[2]]
    assert len(set(keys)) == len(keys)
    assert all(isinstance(r["No_ligne"], int) and r["Piece"] for r in movements[2])


def test_codes_are_written_as_text_keeping_leading_zeros(movements):
    records = movements[2]
    assert {r["Site"] for r in records} == {"001", "002"}
    assert {r["Depot"] for r in records} <= {"010", "011", "020"}
    assert all(
        isinstance(r["Imputation"], str) and r["Imputation"].startswith("0") for r in records
    )
    assert any(r["Article"].startswith("C0") for r in records)


def test_dates_are_real_excel_dates_and_times_are_text(movements):
    for r in movements[2]:
        assert isinstance(r["Date_creation"], datetime)
        assert date(2024, 1, 1) <= r["Date_creation"].date() <= date(2024, 3, 30)
        assert re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d", r["Heure"])
    expiry = [r["Peremption"] for r in movements[2] if r["Peremption"] is not None]
    assert expiry and all(isinstance(v, datetime) for v in expiry)


def test_movement_dates_run_forward_through_the_period(movements):
    days = [r["Date_creation"] for r in movements[2]]
    assert days == sorted(days)
    assert days[-1] > days[0]


def test_quantities_carry_the_sign_of_the_movement(movements):
    signs: dict[str, set[int]] = {}
    for r in movements[2]:
        signs.setdefault(r["Type_mouvement"], set()).add(1 if r["Quantite"] > 0 else -1)
        assert r["Montant_mouvement"] * r["Quantite"] >= 0
    assert signs["Livraison client"] == {-1}
    assert signs["Consommation"] == {-1}
    assert signs["Production"] == {1}
    assert signs["Réception achat"] == {1}
    assert signs["Transfert"] == {-1, 1}


def test_deliveries_name_a_customer_and_other_movements_do_not(movements):
    for r in movements[2]:
        if r["Type_mouvement"] in ("Livraison client", "Retour client"):
            assert re.fullmatch(r"CL\d{5}", r["Tiers"])
            assert int(r["Tiers"][2:]) <= CUSTOMERS
            assert r["Devise"] in ("MAD", "EUR")
        elif r["Type_mouvement"] != "Réception achat":
            assert r["Tiers"] is None


def test_many_columns_are_sparse_as_in_an_erp_export(movements):
    records = movements[2]
    filled = {c: sum(r[c] is not None for r in records) for c in ERP_COLUMN_LABELS}
    assert filled["Article"] == filled["Quantite"] == len(records)
    sparse = [c for c, n in filled.items() if 0 < n < len(records) / 2]
    assert len(sparse) >= 10


def test_every_designation_parses_into_the_family_of_its_article(movements):
    records = movements[2]
    parsed = parse_designations(
        [r["Designation_1"] for r in records],
        [r["Lot"] for r in records],
        [r["Article"] for r in records],
        [r["Emplacement"] for r in records],
    )
    seen = set()
    for r, family in zip(records, parsed["family"], strict=True):
        expected = next(f for prefix, f in FAMILY_BY_ARTICLE if re.match(prefix, r["Article"]))
        assert family == expected, r["Designation_1"]
        seen.add(family)
    assert seen == {f for _, f in FAMILY_BY_ARTICLE}
    pipes = parsed[parsed["product_type"] == "Conduit"]
    assert len(pipes) > 0
    assert pipes[["dn", "pn", "sn", "resin", "reinforcement"]].notna().all().all()
    fittings = parsed[parsed["family"] == SPECIAL_FITTINGS]
    assert fittings[["dn", "pn", "sn"]].notna().all().all()
    assert fittings["angle"].notna().any() and fittings["dn2"].notna().any()


def test_production_lots_follow_the_lot_format(movements):
    records = movements[2]
    produced = [r for r in records if r["Type_mouvement"] == "Production"]
    lots = parse_designations(
        [r["Designation_1"] for r in produced],
        [r["Lot"] for r in produced],
        [r["Article"] for r in produced],
    )
    assert lots["lot_machine"].notna().all()
    assert set(lots["lot_year"]) == {2024}
    assert lots["lot_month"].between(1, 3).all()
    for r, month in zip(produced, lots["lot_month"], strict=True):
        assert month == r["Date_creation"].month


def test_raw_materials_have_mp_articles_and_locations(movements):
    raw = [r for r in movements[2] if r["Article"].startswith("MP")]
    assert raw
    assert all(r["Emplacement"].startswith("MP") and r["UC"] in ("KG", "M2") for r in raw)


def test_title_rows_sit_above_the_header(tmp_path):
    path = write_stock_movements(tmp_path / "titled.xlsx", rows=5, title_rows=3, sheet="Export")
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        assert workbook.sheetnames == ["Export"]
        rows = list(workbook["Export"].iter_rows(values_only=True))
    finally:
        workbook.close()
    assert rows[0][0] == "Mouvements de stock par date"
    assert list(rows[3]) == list(ERP_COLUMN_LABELS)
    assert len(rows) == 3 + 1 + 5


def test_the_same_seed_writes_the_same_bytes_and_another_seed_differs(tmp_path):
    def digest(name: str, seed: int) -> str:
        path = write_stock_movements(tmp_path / name, rows=200, seed=seed)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    assert digest("a.xlsx", 3) == digest("b.xlsx", 3)
    assert digest("c.xlsx", 4) != digest("a.xlsx", 3)


def test_zero_rows_writes_only_the_header(tmp_path):
    header, records = read_sheet(write_stock_movements(tmp_path / "empty.xlsx", rows=0))
    assert header == list(ERP_COLUMN_LABELS)
    assert records == []


def test_delivery_lists_have_their_columns_rows_and_unique_lines(tmp_path):
    header, records = read_sheet(write_deliveries(tmp_path / "d.xlsx", rows=300, seed=2))
    assert header == list(DELIVERY_COLUMNS)
    assert len(records) == 300
    keys = [(r["Delivery note"], r["Line"]) for r in records]
    assert len(set(keys)) == len(keys)
    assert all(r["Quantity"] > 0 and isinstance(r["Date"], datetime) for r in records)
    assert {r["Site"] for r in records} <= {"001", "002"}


def test_customers_of_movements_and_deliveries_exist_in_the_customer_file(tmp_path, movements):
    write_customers(tmp_path / "c.csv", rows=CUSTOMERS, seed=7)
    with (tmp_path / "c.csv").open(encoding="utf-8", newline="") as handle:
        customers = {row["CustomerID"]: row for row in csv.DictReader(handle)}
    assert list(customers) == [customer_id(n) for n in range(1, CUSTOMERS + 1)]
    for r in movements[2]:
        if r["Type_mouvement"] == "Livraison client":
            country = customers[r["Tiers"]]["Country"]
            assert r["Devise"] == ("MAD" if country in ("Maroc", "Morocco") else "EUR")
    _, deliveries = read_sheet(
        write_deliveries(tmp_path / "d.xlsx", rows=200, seed=7, customers=CUSTOMERS)
    )
    for r in deliveries:
        assert r["Country"] == customers[r["Customer"]]["Country"]


def test_customer_files_mix_french_and_english_country_names(tmp_path):
    header, records = read_sheet(write_customers(tmp_path / "c.xlsx", rows=400, seed=1))
    assert header == list(CUSTOMER_COLUMNS)
    countries = {r["Country"] for r in records}
    assert {"Maroc", "Morocco"} <= countries
    assert len(countries) > 10
    assert all(1 <= r["Spending Score (1-100)"] <= 100 for r in records)


def test_customer_csv_and_xlsx_hold_the_same_records(tmp_path):
    _, from_xlsx = read_sheet(write_customers(tmp_path / "c.xlsx", rows=50, seed=5))
    with write_customers(tmp_path / "c.csv", rows=50, seed=5).open(encoding="utf-8") as handle:
        from_csv = list(csv.DictReader(handle))
    assert [{k: str(v) for k, v in r.items()} for r in from_xlsx] == from_csv


@pytest.mark.parametrize(
    ("dataset", "name", "columns"),
    [
        ("stock_movements", "m.xlsx", list(ERP_COLUMN_LABELS)),
        ("deliveries", "d.xlsx", list(DELIVERY_COLUMNS)),
        ("customers", "c.xlsx", list(CUSTOMER_COLUMNS)),
    ],
)
def test_the_command_line_writes_each_dataset(tmp_path, capsys, dataset, name, columns):
    out = tmp_path / name
    assert main([dataset, str(out), "--rows", "25", "--seed", "9"]) == 0
    header, records = read_sheet(out)
    assert (header, len(records)) == (columns, 25)
    assert str(out) in capsys.readouterr().out


def test_the_command_line_rejects_a_negative_row_count(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["customers", str(tmp_path / "c.csv"), "--rows", "-1"])
    assert exit_info.value.code == 2
    assert not (tmp_path / "c.csv").exists()
