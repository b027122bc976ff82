"""Reading CSV text and sheets: encodings, separators, headers, rows numbered as in Excel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.errors import FileRejected
from core.ingest.limits import ParseLimits
from core.ingest.reader import inspect_file, read_sheet
from tests.ingest.builders import xls, xlsx


def write(path: Path, text: str, encoding: str, newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def test_a_cp1252_csv_with_semicolons_keeps_its_accents_and_decimal_commas(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = write(
        tmp_path / "stock.csv",
        "Désignation;Quantité;Montant\nCoude 45°;1 234,5;-12,30\nTé égal;7;0,5\n",
        "cp1252",
    )
    info = inspect_file(path, limits=limits)
    assert (info.format, info.encoding, info.delimiter) == ("csv", "cp1252", ";")
    assert info.sheets[0].name == "stock" and info.sheets[0].rows == 2
    table = read_sheet(path, sheet=None, limits=limits)
    assert table.headers == ("Désignation", "Quantité", "Montant")
    assert table.frame["A"].tolist() == ["Coude 45°", "Té égal"]
    assert table.frame["B"].tolist() == ["1 234,5", "7"]


def test_a_utf8_csv_with_bom_and_cr_only_line_ends_is_split_into_records(
    tmp_path: Path, limits: ParseLimits
) -> None:
    text = 'ID,Country,Item\n1,Côte d\'Ivoire,"HIV, test kit"\n2,Vietnam,Nevirapine\n'
    path = write(tmp_path / "deliveries.csv", text, "utf-8-sig", newline="\r")
    table = read_sheet(path, sheet=None, limits=limits)
    assert (table.encoding, table.delimiter) == ("utf-8-sig", ",")
    assert table.headers == ("ID", "Country", "Item")
    assert table.frame["B"].tolist() == ["Côte d'Ivoire", "Vietnam"]
    assert table.frame["C"].tolist() == ["HIV, test kit", "Nevirapine"]
    assert table.excel_rows.tolist() == [2, 3]


def test_a_tab_separated_utf16_export_is_read(tmp_path: Path, limits: ParseLimits) -> None:
    path = write(tmp_path / "unicode.txt", "Article\tLot\nA1\t0007\n", "utf-16")
    table = read_sheet(path, sheet=None, limits=limits)
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.frame["B"].tolist() == ["0007"]


def test_utf8_text_with_stray_cp1252_bytes_keeps_both(tmp_path: Path, limits: ParseLimits) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes("Name,Note\nCafé,".encode() + b"Lisbon\xa0\n")
    table = read_sheet(path, sheet=None, limits=limits)
    assert table.encoding == "cp1252"
    assert table.frame["A"].tolist() == ["Café"]
    assert table.frame["B"].tolist() == ["Lisbon"]  # the no-break space is trimmed


def test_title_rows_above_a_csv_header_are_skipped_and_rows_keep_their_numbers(
    tmp_path: Path, limits: ParseLimits
) -> None:
    text = "Stock report\n\nArticle;Lot;Quantite\n0001;L1;3\n\n0002;L2;4\n"
    path = write(tmp_path / "report.csv", text, "utf-8")
    table = read_sheet(path, sheet=None, limits=limits)
    assert table.header_row == 3
    assert table.headers == ("Article", "Lot", "Quantite")
    assert table.excel_rows.tolist() == [4, 6]  # the blank row 5 is not data
    assert table.notes == ("Rows 1-2 above the header were skipped (Stock report).",)


def test_title_rows_above_a_workbook_header_are_skipped(
    tmp_path: Path, limits: ParseLimits
) -> None:
    rows = [
        ["Mouvements par date", None, None],
        ["Edité le 02/01/2024", None, None],
        [None, None, None],
        ["Article", "Quantite", "Date_creation"],
        ["0001", 2.5, dt.date(2024, 1, 31)],
        ["0002", 3, dt.date(2024, 2, 1)],
    ]
    path = xlsx(tmp_path / "movements.xlsx", rows, start="B2")
    assert inspect_file(path, limits=limits).sheets[0].rows == 2
    table = read_sheet(path, sheet=None, limits=limits)
    assert table.header_row == 5
    assert table.headers == ("Article", "Quantite", "Date_creation")
    assert table.letters == ("B", "C", "D")
    assert table.excel_rows.tolist() == [6, 7]
    assert table.frame["B"].tolist() == ["0001", "0002"]
    assert table.frame["C"].tolist() == [2.5, 3.0]
    assert table.frame["D"].dt.date.tolist() == [dt.date(2024, 1, 31), dt.date(2024, 2, 1)]
    assert "Rows 1-4 above the header were skipped" in table.notes[0]


def test_every_sheet_is_listed_with_its_rows_and_the_chosen_one_travels_with_the_table(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = xlsx(
        tmp_path / "book.xlsx",
        [["Name"], ["a"], ["b"]],
        sheet="Customers",
        more_sheets={"Orders": [["Order", "Qty"], ["1", 2], ["2", 3], ["3", 4]], "Empty": []},
    )
    info = inspect_file(path, limits=limits)
    assert [(s.name, s.rows) for s in info.sheets] == [
        ("Customers", 2),
        ("Orders", 3),
        ("Empty", 0),
    ]
    assert len(info.sha256) == 64
    table = read_sheet(path, sheet="Orders", limits=limits)
    assert (table.sheet, table.row_count, table.headers) == ("Orders", 3, ("Order", "Qty"))
    with pytest.raises(FileRejected, match=r"Sheet 'Empty' of book\.xlsx is empty\."):
        read_sheet(path, sheet="Empty", limits=limits)


def test_an_unknown_sheet_name_is_refused_listing_the_sheets(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = xlsx(tmp_path / "book.xlsx", [["Name"], ["a"]], sheet="Customers")
    with pytest.raises(FileRejected, match=r"no sheet named 'Nope' \(sheets: 'Customers'\)"):
        read_sheet(path, sheet="Nope", limits=limits)


def test_a_merged_two_row_header_is_joined_and_reported(
    tmp_path: Path, limits: ParseLimits
) -> None:
    rows = [
        ["Article", "Quantity", None, "Date"],
        [None, "Ordered", "Delivered", None],
        ["A1", 10, 8, dt.date(2024, 1, 2)],
    ]
    path = xlsx(tmp_path / "two.xlsx", rows, merged=["B1:C1", "A1:A2", "D1:D2"])
    table = read_sheet(path, sheet=None, limits=limits)
    assert table.headers == ("Article", "Quantity Ordered", "Quantity Delivered", "Date")
    assert table.excel_rows.tolist() == [3]
    [problem] = table.problems
    assert problem.kind == "two_rows" and problem.columns == ("B", "C")
    assert "two rows (1 and 2)" in problem.message
    assert "Unnamed" not in " ".join(table.headers)


def test_a_two_row_header_without_merge_information_is_recognised_in_csv(
    tmp_path: Path, limits: ParseLimits
) -> None:
    text = "Article,Quantity,,Date\n,Ordered,Delivered,\nA1,10,8,2024-01-02\n"
    table = read_sheet(write(tmp_path / "two.csv", text, "utf-8"), sheet=None, limits=limits)
    assert table.headers == ("Article", "Quantity Ordered", "Quantity Delivered", "Date")
    assert table.problems[0].kind == "two_rows"


def test_merged_header_cells_without_sub_labels_are_reported_by_cell_and_column(
    tmp_path: Path, limits: ParseLimits
) -> None:
    rows = [["Article", "Quantity", None], ["A1", 10, 8], ["A2", 11, 9]]
    path = xlsx(tmp_path / "merged.xlsx", rows, merged=["B1:C1"])
    table = read_sheet(path, sheet=None, limits=limits)
    assert table.headers == ("Article", "Quantity")
    [problem] = table.problems
    assert problem.kind == "merged" and problem.columns == ("C",)
    assert "Header cells B1:C1 are merged ('Quantity')" in problem.message
    assert "Unmerge the cells" in problem.message


def test_empty_and_repeated_header_cells_are_reported_by_column_letter(
    tmp_path: Path, limits: ParseLimits
) -> None:
    rows = [
        ["Article", None, "Date", "Date", None],
        ["A1", "note", "2024-01-01", "2024-01-02", None],
    ]
    table = read_sheet(xlsx(tmp_path / "gaps.xlsx", rows), sheet=None, limits=limits)
    assert table.headers == ("Article", "Date", "Date (D)")
    assert table.letters == ("A", "C", "D")
    kinds = {p.kind: p for p in table.problems}
    assert kinds["empty"].columns == ("B",)
    assert kinds["empty"].message.startswith("Column B has no header in row 1")
    assert kinds["duplicate"].columns == ("C", "D")


def test_a_header_row_can_be_forced(tmp_path: Path, limits: ParseLimits) -> None:
    rows = [["Article", "Qty"], ["Code", "Quantity"], ["A1", 1]]
    table = read_sheet(xlsx(tmp_path / "f.xlsx", rows), sheet=None, limits=limits, header_row=2)
    assert table.headers == ("Code", "Quantity") and table.excel_rows.tolist() == [3]


def test_leading_zero_codes_stay_text_and_numbers_stay_numbers_in_a_workbook(
    tmp_path: Path, limits: ParseLimits
) -> None:
    rows = [["Code", "Qty", "When"], ["0001", 1.0, dt.datetime(2024, 1, 2, 8, 30)]]
    table = read_sheet(xlsx(tmp_path / "c.xlsx", rows), sheet=None, limits=limits)
    assert table.frame["A"].tolist() == ["0001"]
    assert table.frame["B"].tolist() == [1.0]
    assert table.frame["C"].tolist()[0].to_pydatetime() == dt.datetime(2024, 1, 2, 8, 30)


def test_an_excel_97_workbook_is_listed_and_read_like_the_others(
    tmp_path: Path, limits: ParseLimits
) -> None:
    rows = [["Stock report"], [], ["Code", "Qty"], ["0001", 2.5], ["A2", 3]]
    path = xls(tmp_path / "old.xls", rows, sheet="Stock")
    info = inspect_file(path, limits=limits)
    assert info.format == "xls" and info.notes == ()
    assert [(s.name, s.rows) for s in info.sheets] == [("Stock", 2)]
    table = read_sheet(path, sheet="Stock", limits=limits)
    assert (table.sheet, table.header_row, table.headers) == ("Stock", 3, ("Code", "Qty"))
    assert table.excel_rows.tolist() == [4, 5]
    assert table.frame["A"].tolist() == ["0001", "A2"]
    assert table.frame["B"].tolist() == [2.5, 3.0]


@pytest.mark.parametrize("space", [" ", "\x1f", "\u00a0", "\u3000"])
def test_text_cells_lose_whitespace_at_either_end_and_nothing_else(
    tmp_path: Path, limits: ParseLimits, space: str
) -> None:
    rows = [f"A1;{space}Coude 45°", f"A2;Té égal{space}", f"A3;{space}", "A4;°C", "A5;a  b"]
    path = write(tmp_path / "trim.csv", "\n".join(["Code;Name", *rows]) + "\n", "utf-8")
    table = read_sheet(path, sheet=None, limits=limits)
    names = table.frame["B"]
    assert names.isna().tolist() == [False, False, True, False, False]
    assert names.dropna().tolist() == ["Coude 45°", "Té égal", "°C", "a  b"]
    assert table.frame["A"].tolist() == ["A1", "A2", "A3", "A4", "A5"]


def test_a_text_column_of_empty_cells_and_codes_needs_no_trimming(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = write(tmp_path / "codes.csv", "Code;Lot\nA1;\nA2;L7\nA3;\n", "utf-8")
    lots = read_sheet(path, sheet=None, limits=limits).frame["B"]
    assert lots.isna().tolist() == [True, False, True]
    assert lots.iloc[1] == "L7"
