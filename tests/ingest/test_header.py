"""Header detection on raw rows, without any file."""

from __future__ import annotations

import datetime as dt

from core.ingest.header import cell_text, column_letter, column_number, find_header_row, layout


def test_a_title_above_a_narrow_table_is_not_taken_for_the_header() -> None:
    rows = [["Stock report", ""], ["", ""], ["Code", "Qty"], ["0001", 2.5], ["A2", 3.0]]
    assert find_header_row(rows) == 2


def test_a_report_date_and_a_title_above_a_wide_header_are_skipped() -> None:
    rows = [
        ["Mouvements par date", "", "", ""],
        ["Du 01/01/2024 au 31/01/2024", "", "", "Page 1"],
        ["Article", "Lot", "Quantite", "Date"],
        ["0001", "L1", 3.0, dt.date(2024, 1, 2)],
    ]
    assert find_header_row(rows) == 2


def test_the_header_may_lack_a_name_or_two() -> None:
    data = ["0001", "L1", 3.0, dt.date(2024, 1, 2)]
    assert find_header_row([["Article", "Lot", "", "Date"], data, data, data]) == 0


def test_data_without_any_header_is_reported_and_its_first_row_used() -> None:
    rows = [[1.0, 2.0], [3.0, 4.0]]
    head = layout(rows, width=2)
    assert head is not None and head.header_index == 0
    assert [p.kind for p in head.problems] == ["no_header"]


def test_all_blank_rows_have_no_header() -> None:
    assert find_header_row([["", ""], []]) is None
    assert layout([["", ""]], width=2) is None


def test_column_letters_and_numbers_round_trip() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 16383)] == ["A", "Z", "AA", "XFD"]
    assert [column_number(x) for x in ("A", "Z", "AA", "XFD")] == [1, 26, 27, 16384]


def test_header_cells_become_tidy_text() -> None:
    assert [cell_text(v) for v in ("  Daily  Capacity ", 2023.0, True, None)] == [
        "Daily Capacity",
        "2023",
        "TRUE",
        "",
    ]
