"""CSV and Excel exports: formula injection is neutralised, numbers stay numbers, and
large results are written chunk by chunk."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from core import exports

DANGEROUS = ["=1+1", "+33 6 12", "-cmd", "@SUM(A1:A2)", "\tTAB", "\rCR", "-5"]


def _sample() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": [*DANGEROUS, "plain", None],
            "number": [1, -2.5, 0, 3, -4, 5, 6, 7.25, float("nan")],
            "day": [dt.date(2024, 5, 17)] * 9,
        }
    )


def _read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_prefixes_text_a_spreadsheet_would_run_with_a_quote():
    rows = _read_csv(exports.csv_bytes(_sample()))
    texts = [r[0] for r in rows[1:]]
    assert texts[: len(DANGEROUS)] == ["'" + t for t in DANGEROUS]
    assert texts[len(DANGEROUS) :] == ["plain", ""]


def test_csv_keeps_numbers_as_numbers_negative_ones_included():
    rows = _read_csv(exports.csv_bytes(_sample()))
    numbers = [r[1] for r in rows[1:]]
    assert numbers[:3] == ["1.0", "-2.5", "0.0"]
    assert numbers[4] == "-4.0"
    assert numbers[-1] == ""
    assert rows[1][2] == "2024-05-17"


def test_csv_neutralises_dangerous_column_headers():
    frame = pd.DataFrame({"=cmd|'/c calc'!A0": ["x"], "ok": [1]})
    header = _read_csv(exports.csv_bytes(frame))[0]
    assert header == ["'=cmd|'/c calc'!A0", "ok"]


def test_csv_from_chunks_has_one_header_one_bom_and_every_row_in_order(tmp_path):
    chunks = (pd.DataFrame({"n": range(i, i + 10), "t": ["=x"] * 10}) for i in range(0, 50, 10))
    target = tmp_path / "out.csv"
    assert exports.write_csv(chunks, target) == 50
    data = target.read_bytes()
    assert data.count(b"\xef\xbb\xbf") == 1 and data.startswith(b"\xef\xbb\xbf")
    rows = _read_csv(data)
    assert rows[0] == ["n", "t"]
    assert [int(r[0]) for r in rows[1:]] == list(range(50))
    assert {r[1] for r in rows[1:]} == {"'=x"}


def test_csv_of_no_chunks_is_empty():
    assert exports.csv_bytes(iter(())) == b""


def test_xlsx_keeps_dangerous_text_as_text_that_cannot_become_a_formula():
    sheet = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(_sample()))).active
    for row, text in enumerate(DANGEROUS, start=2):
        cell = sheet.cell(row=row, column=1)
        assert cell.data_type == "s"
        assert cell.value.replace("_x000D_", "\r") == text  # openpyxl leaves CR escaped
        assert cell.quotePrefix
    plain = sheet.cell(row=len(DANGEROUS) + 2, column=1)
    assert plain.value == "plain" and not plain.quotePrefix
    assert sheet.cell(row=len(DANGEROUS) + 3, column=1).value is None


def test_xlsx_keeps_numbers_and_dates_typed():
    sheet = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(_sample()))).active
    numbers = [sheet.cell(row=r, column=2) for r in range(2, 11)]
    assert [c.data_type for c in numbers[:8]] == ["n"] * 8
    assert [c.value for c in numbers[:8]] == [1, -2.5, 0, 3, -4, 5, 6, 7.25]
    assert numbers[8].value is None  # NaN is an empty cell
    day = sheet.cell(row=2, column=3)
    assert day.is_date and day.value.date() == dt.date(2024, 5, 17)
    assert [c.value for c in sheet[1]] == ["text", "number", "day"]


def test_xlsx_formula_text_in_a_header_stays_text():
    frame = pd.DataFrame({"=1+1": [1]})
    sheet = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame))).active
    assert sheet["A1"].value == "=1+1" and sheet["A1"].data_type == "s"


def test_xlsx_from_chunks_writes_every_row_in_order(tmp_path):
    chunks = (pd.DataFrame({"n": range(i, i + 100)}) for i in range(0, 1_000, 100))
    target = tmp_path / "out.xlsx"
    assert exports.write_xlsx(chunks, target, sheet="Numbers") == 1_000
    book = openpyxl.load_workbook(target, read_only=True)
    assert book.sheetnames == ["Numbers"]
    values = [row[0] for row in book["Numbers"].iter_rows(min_row=2, values_only=True)]
    assert values == list(range(1_000))


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(monkeypatch, tmp_path):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 4)  # header + 3 rows per sheet
    target = tmp_path / "out.xlsx"
    exports.write_xlsx(pd.DataFrame({"n": range(7)}), target, sheet="Data")
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Data", "Data (2)", "Data (3)"]
    values = [c.value for name in book.sheetnames for c in book[name]["A"][1:]]
    assert values == list(range(7))
    assert all(book[name]["A1"].value == "n" for name in book.sheetnames)


def test_xlsx_writes_one_sheet_per_mapping_entry_with_safe_distinct_names(tmp_path):
    target = tmp_path / "out.xlsx"
    sheets = {
        "Pièces spéciales": pd.DataFrame({"a": [1]}),
        "a/b:c": pd.DataFrame({"a": [2]}),
        "A/B:C": pd.DataFrame({"a": [3]}),
        "Empty": iter(()),
    }
    assert exports.write_xlsx(sheets, target) == 3
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Pièces spéciales", "a_b_c", "A_B_C ~2", "Empty"]
    assert book["A_B_C ~2"]["A2"].value == 3


@pytest.mark.parametrize("value", ["=1+1", "-", "+", "@", "\t", "\r"])
def test_every_dangerous_first_character_is_detected(value):
    assert exports.is_dangerous(value)
    assert exports.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "1-2", " =x", "", -3, 2.5, None])
def test_safe_values_are_left_alone(value):
    assert exports.neutralise(value) == value or (value != value)
