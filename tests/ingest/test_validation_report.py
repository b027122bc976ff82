"""The validation report: counts, rejected cells with their place, duplicates, typed rows, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest

from core.domain.schemas import CUSTOMERS_DATASET, DELIVERIES_DATASET
from core.ingest.limits import ParseLimits
from core.ingest.mapping import make_mapping, suggest_mapping
from core.ingest.reader import read_sheet
from core.ingest.tables import RawTable
from core.ingest.validate import report_csv, validate
from tests.ingest.builders import xlsx

HEADERS = ["Delivery note", "Line", "Date", "Quantity", "Amount"]


def deliveries(tmp_path: Path, limits: ParseLimits, rows: list[list[object]]) -> RawTable:
    path = xlsx(tmp_path / "deliveries.xlsx", [["Deliveries of January"], [], HEADERS, *rows])
    return read_sheet(path, sheet=None, limits=limits)


def test_counts_add_up_and_only_valid_rows_go_forward(tmp_path: Path, limits: ParseLimits) -> None:
    table = deliveries(
        tmp_path,
        limits,
        [
            ["BL1", 1, dt.date(2024, 1, 2), 5, "1 234,50"],
            ["BL1", 2, "not yet", 5, 10],  # bad date
            ["BL2", 1, dt.date(2024, 1, 3), "Freight Included", 10],  # text in a number
            [None, 1, dt.date(2024, 1, 3), 1, 1],  # required delivery note missing
            ["BL1", 1, dt.date(2024, 1, 4), 6, 12],  # same key as row 4: kept, row 4 dropped
        ],
    )
    mapping = suggest_mapping(DELIVERIES_DATASET, table.headers)
    report = validate(DELIVERIES_DATASET, table, mapping, file_name="deliveries.xlsx")
    assert (report.total, report.valid, report.rejected, report.duplicates) == (5, 1, 3, 1)
    assert report.total == report.valid + report.rejected + report.duplicates
    assert report.rejected_rows == (5, 6, 7)
    assert report.issues.to_dict("records") == [
        {
            "sheet": "Data",
            "row": 5,
            "column": "Date",
            "letter": "C",
            "value": "not yet",
            "reason": "not a date (expected dd/mm/yyyy or yyyy-mm-dd)",
        },
        {
            "sheet": "Data",
            "row": 6,
            "column": "Quantity",
            "letter": "D",
            "value": "Freight Included",
            "reason": "text in a number column",
        },
        {
            "sheet": "Data",
            "row": 7,
            "column": "Delivery note",
            "letter": "A",
            "value": "",
            "reason": "required value is missing",
        },
    ]
    assert report.duplicates_list.to_dict("records") == [
        {"sheet": "Data", "row": 4, "kept_row": 8, "key": "BL1 | 1", "same": "key"}
    ]
    [kept] = list(report.records())
    assert kept["delivery_date"] == dt.date(2024, 1, 4) and kept["row"] == 8


def test_without_line_numbers_only_rows_repeated_in_every_column_are_duplicates(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = xlsx(
        tmp_path / "lines.xlsx",
        [
            ["Delivery note", "Date", "Article", "Quantity", "Price"],
            ["BL1", dt.date(2024, 1, 2), "A", 5, 1.5],
            ["BL1", dt.date(2024, 1, 2), "A", 5, 2.5],  # another price: another line
            ["BL1", dt.date(2024, 1, 2), "B", 1, 1.0],
            ["BL1", dt.date(2024, 1, 2), "A", 5, 1.5],  # a copy of row 2
            ["BL2", dt.date(2024, 1, 3), "A", 5, 1.5],
        ],
    )
    table = read_sheet(path, sheet=None, limits=limits)
    mapping = suggest_mapping(DELIVERIES_DATASET, table.headers)
    assert "line_no" not in mapping.fields and mapping.unexpected == ("Price",)
    report = validate(DELIVERIES_DATASET, table, mapping, file_name="lines.xlsx")
    assert (report.total, report.valid, report.rejected, report.duplicates) == (5, 4, 0, 1)
    assert report.valid_rows["row"].tolist() == [2, 3, 4, 6]
    assert report.duplicates_list.to_dict("records") == [
        {"sheet": "Data", "row": 5, "kept_row": 2, "key": "BL1 | ", "same": "values"}
    ]
    lines = list(csv.DictReader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert [line["reason"] for line in lines] == ["duplicate of row 2 (same values); row 2 is kept"]


def test_valid_rows_have_typed_columns_with_sheet_and_row(
    tmp_path: Path, limits: ParseLimits
) -> None:
    table = deliveries(tmp_path, limits, [["0042", 1.0, "31/01/2024", 2, "1 234,56"]])
    mapping = suggest_mapping(DELIVERIES_DATASET, table.headers)
    rows = validate(DELIVERIES_DATASET, table, mapping, file_name="d.xlsx").valid_rows
    assert str(rows["delivery_no"].dtype) == "str" and rows["delivery_no"][0] == "0042"
    assert str(rows["line_no"].dtype) == "Int64" and rows["line_no"][0] == 1
    assert rows["quantity"].dtype == "float64" and rows["amount"][0] == pytest.approx(1234.56)
    assert rows["delivery_date"][0] == dt.date(2024, 1, 31)
    assert pd.isna(rows["customer"][0])
    assert rows[["sheet", "row"]].to_dict("records") == [{"sheet": "Data", "row": 4}]


def test_records_carry_plain_python_values_and_none_for_missing(
    tmp_path: Path, limits: ParseLimits
) -> None:
    table = deliveries(tmp_path, limits, [["BL9", None, dt.date(2024, 1, 2), None, 3]])
    mapping = suggest_mapping(DELIVERIES_DATASET, table.headers)
    [record] = validate(DELIVERIES_DATASET, table, mapping, file_name="d.xlsx").records()
    assert record["line_no"] is None and record["quantity"] is None and record["site"] is None
    assert record["amount"] == 3.0 and type(record["amount"]) is float


def test_a_mapping_missing_a_required_field_cannot_validate(
    tmp_path: Path, limits: ParseLimits
) -> None:
    table = deliveries(tmp_path, limits, [["BL1", 1, dt.date(2024, 1, 2), 5, 1]])
    mapping = make_mapping(DELIVERIES_DATASET, table.headers, {"delivery_no": "Delivery note"})
    with pytest.raises(ValueError, match="required fields not mapped: delivery_date"):
        validate(DELIVERIES_DATASET, table, mapping, file_name="d.xlsx")


def test_the_report_downloads_as_csv_with_every_rejected_cell_and_duplicate(
    tmp_path: Path, limits: ParseLimits
) -> None:
    table = deliveries(
        tmp_path,
        limits,
        [
            ["BL1", 1, dt.date(2024, 1, 2), "@SUM(A1)", 1],
            ["BL2", 1, "bientôt", 1, 1],
            ["BL3", 1, dt.date(2024, 1, 2), 1, 1],
            ["BL3", 1, dt.date(2024, 1, 2), 1, 1],
        ],
    )
    mapping = suggest_mapping(DELIVERIES_DATASET, table.headers)
    data = report_csv(validate(DELIVERIES_DATASET, table, mapping, file_name="d.xlsx"))
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(line["row"], line["letter"], line["reason"]) for line in lines] == [
        ("4", "D", "text in a number column"),
        ("5", "C", "not a date (expected dd/mm/yyyy or yyyy-mm-dd)"),
        ("6", "", "duplicate of row 7 (same key); row 7 is kept"),
    ]
    assert lines[0]["value"] == "'@SUM(A1)"  # never a live formula in Excel
    assert lines[1]["value"] == "bientôt" and lines[1]["sheet"] == "Data"


def test_customers_keep_unmapped_columns_as_typed_attributes(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(
        "Code client;Nom;Pays;CA 2023;Créé le;Segment\n"
        "0001;Alpha;France;1 200,50;31/01/2020;A\n"
        "0002;Beta;Maroc;;01/02/2021;\n",
        encoding="utf-8",
    )
    table = read_sheet(path, sheet=None, limits=limits)
    mapping = suggest_mapping(CUSTOMERS_DATASET, table.headers)
    assert mapping.unexpected == ("CA 2023", "Créé le", "Segment")
    report = validate(CUSTOMERS_DATASET, table, mapping, file_name="clients.csv")
    assert report.extra_columns == {"CA 2023": "decimal", "Créé le": "date", "Segment": "text"}
    assert report.valid_rows["customer_id"].tolist() == ["0001", "0002"]
    assert report.valid_rows["attributes"].tolist() == [
        {"CA 2023": 1200.5, "Créé le": dt.date(2020, 1, 31), "Segment": "A"},
        {"Créé le": dt.date(2021, 2, 1)},
    ]


def test_the_preview_shows_the_first_coerced_rows(tmp_path: Path, limits: ParseLimits) -> None:
    rows = [[f"BL{n}", 1, dt.date(2024, 1, 2), n, 1] for n in range(30)]
    table = deliveries(tmp_path, limits, rows)
    mapping = suggest_mapping(DELIVERIES_DATASET, table.headers)
    report = validate(DELIVERIES_DATASET, table, mapping, file_name="d.xlsx")
    assert len(report.preview) == 20 and report.preview["quantity"].tolist()[:3] == [0, 1, 2]
