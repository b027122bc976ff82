"""Coercion of raw columns to field kinds, one reason per bad cell."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from core.ingest.coerce import NOT_A_TIME, coerce, display, infer_kind, parse_numbers
from core.ingest.dates import parse_time_text


def text(*values: str | None) -> pd.Series:
    return pd.Series(list(values), dtype="str", index=range(2, 2 + len(values)))


def numbers(*values: float) -> pd.Series:
    return pd.Series(values, dtype="float64", index=range(2, 2 + len(values)))


def mixed(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype=object, index=range(2, 2 + len(values)))


def test_codes_from_integral_numbers_lose_the_trailing_zero() -> None:
    result = coerce(numbers(1.0, 42.0, 1447296446.7, np.nan), "code")
    assert result.values.tolist()[:3] == ["1", "42", "1447296446.7"]
    assert pd.isna(result.values.iloc[3])
    assert not result.bad.any()


def test_codes_written_as_text_keep_leading_zeros_and_drop_a_float_suffix() -> None:
    result = coerce(text("0001", " 007 ", "1.0", "12.50", "AB-1"), "code")
    assert result.values.tolist() == ["0001", "007", "1", "12.50", "AB-1"]


def test_a_code_longer_than_the_wire_allows_is_an_error() -> None:
    result = coerce(text("x" * 65, "ok"), "code")
    assert result.errors.tolist() == ["longer than 64 characters", None]


def test_code_length_counts_characters_not_bytes() -> None:
    result = coerce(text("é" * 64, "é" * 65), "code")
    assert result.values.tolist()[0] == "é" * 64
    assert result.errors.tolist() == [None, "longer than 64 characters"]


def test_codes_of_a_row_subset_drop_the_float_suffix_of_the_rows_kept_only() -> None:
    # The subset shares the whole column's text buffer, dotted cells left out included.
    column = text("1.0", "A", "2.0", "B")
    assert coerce(column[column.index.isin([3, 5])], "code").values.tolist() == ["A", "B"]
    assert coerce(column[column.index.isin([2, 3])], "code").values.tolist() == ["1", "A"]


def test_a_column_without_bad_cells_has_no_reasons() -> None:
    result = coerce(text("A", None, "B"), "code")
    assert result.bad.tolist() == [False, False, False]
    assert result.errors.isna().all()
    assert result.bad.index.equals(result.values.index)


def test_integers_give_one_reason_per_bad_cell() -> None:
    result = coerce(mixed(1.5, "x", 3.0, dt.date(2024, 1, 1)), "integer")
    assert result.errors.tolist() == [
        "not a whole number",
        "text in a number column",
        None,
        "a date where a number is expected",
    ]
    assert result.bad.tolist() == [True, True, False, True]


def test_text_fields_keep_1_0_written_as_text() -> None:
    assert coerce(text("1.0"), "text").values.tolist() == ["1.0"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (("1 234,56", "12,5", "-3,00"), [1234.56, 12.5, -3.0]),
        (("1.234,56", "0,5"), [1234.56, 0.5]),
        (("1,234.56", "2.5"), [1234.56, 2.5]),
        (("1\u202f234,5", "7"), [1234.5, 7.0]),
        (("12,30-", "+4"), [-12.3, 4.0]),
        (("1e3", ".5"), [1000.0, 0.5]),
    ],
)
def test_decimals_written_as_text_accept_local_separators(
    values: tuple[str, ...], expected: list[float]
) -> None:
    result = coerce(text(*values), "decimal")
    assert result.values.tolist() == pytest.approx(expected)
    assert not result.bad.any()


def test_text_in_a_number_column_is_an_error_for_that_cell_only() -> None:
    result = coerce(text("12", "Freight Included in Commodity Cost", None, "n/a"), "decimal")
    assert result.values.tolist()[0] == 12.0
    assert result.errors.tolist() == [
        None,
        "text in a number column",
        None,
        "text in a number column",
    ]


def test_integers_are_nullable_and_refuse_fractions_and_dates() -> None:
    result = coerce(mixed(3.0, "1 200", 2.5, dt.date(2024, 1, 1), None, True), "integer")
    assert str(result.values.dtype) == "Int64"
    assert result.values.tolist()[:2] == [3, 1200]
    assert result.errors.tolist() == [
        None,
        None,
        "not a whole number",
        "a date where a number is expected",
        None,
        "TRUE/FALSE where a number is expected",
    ]


def test_dates_come_from_cells_serials_and_day_first_or_iso_text() -> None:
    cells = mixed(
        dt.datetime(2024, 1, 31, 10, 5),
        45322.0,
        "31/01/2024",
        "2024-01-31",
        "1.2.24",
        "2-Jun-06",
        "15 janv. 2024",
        20240131.0,
    )
    result = coerce(cells, "date")
    assert result.values.tolist() == [
        dt.date(2024, 1, 31),
        dt.date(2024, 1, 31),
        dt.date(2024, 1, 31),
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 1),
        dt.date(2006, 6, 2),
        dt.date(2024, 1, 15),
        dt.date(2024, 1, 31),
    ]
    assert not result.bad.any()


def test_excel_serials_before_march_1900_allow_for_excels_leap_day() -> None:
    result = coerce(numbers(1.0, 59.0, 61.0), "date")
    assert result.values.tolist() == [
        dt.date(1900, 1, 1),
        dt.date(1900, 2, 28),
        dt.date(1900, 3, 1),
    ]


def test_text_that_is_no_date_is_an_error_and_empty_cells_are_not() -> None:
    result = coerce(text("Date Not Captured", "31/02/2024", None, "2024-12-01"), "date")
    assert result.values.tolist()[3] == dt.date(2024, 12, 1)
    assert result.values.tolist()[2] is None
    assert result.errors.tolist() == [
        "not a date (expected dd/mm/yyyy or yyyy-mm-dd)",
        "not a date (expected dd/mm/yyyy or yyyy-mm-dd)",
        None,
        None,
    ]


def test_times_come_from_cells_day_fractions_and_text() -> None:
    cells = mixed(dt.time(13, 5, 7), 0.5, "8:30", "23:59:59", "25:00", dt.timedelta(hours=1))
    result = coerce(cells, "time")
    assert result.values.tolist()[:4] == ["13:05:07", "12:00:00", "08:30:00", "23:59:59"]
    assert result.values.tolist()[5] == "01:00:00"
    assert result.errors.tolist()[4] == "not a time of day (expected HH:MM or HH:MM:SS)"


def test_numbers_parse_as_a_column_with_one_decimal_separator() -> None:
    assert parse_numbers(pd.Series(["1,234", "12,5"], dtype="str")).tolist() == [1.234, 12.5]
    assert parse_numbers(pd.Series(["1,234", "12.5"], dtype="str")).tolist() == [1234.0, 12.5]


def test_extra_columns_get_the_narrowest_kind_that_fits() -> None:
    assert infer_kind(text("15000.0", "39")) == "integer"
    assert infer_kind(text("1,5", "2")) == "decimal"
    assert infer_kind(text("31/01/2024", None)) == "date"
    assert infer_kind(text("0012", "13")) == "text"
    assert infer_kind(text("France", "12")) == "text"
    assert infer_kind(numbers(1.0, 2.5)) == "decimal"


def test_raw_values_are_displayed_as_a_user_typed_them() -> None:
    assert [display(v) for v in (1.0, 2.5, None, np.nan, dt.datetime(2024, 1, 2), True)] == [
        "1",
        "2.5",
        "",
        "",
        "2024-01-02",
        "TRUE",
    ]


def test_a_text_column_of_times_reads_every_cell_as_parse_time_text_does() -> None:
    written = ["08:00:29", "23:59:59", "24:00:00", "12:60:00", "07:30", "14h05", " 09:15:00 "]
    cells = text(*written, None, "١٢:٣٠:٠٠", "noon")
    result = coerce(cells, "time")
    expected = [parse_time_text(v) for v in [*written, None, "١٢:٣٠:٠٠", "noon"] if v is not None]
    values = [None if pd.isna(v) else v for v in result.values.tolist()]
    assert [v for i, v in enumerate(values) if i != 7] == expected
    assert values[:3] == ["08:00:29", "23:59:59", None] and values[5] == "14:05:00"
    assert values[7] is None and result.errors.tolist()[7] is None
    assert result.errors.tolist()[2] == result.errors.tolist()[3] == NOT_A_TIME


def test_a_column_written_all_hh_mm_ss_keeps_its_times_and_refuses_impossible_ones() -> None:
    result = coerce(text("08:00:29", "24:00:00", "23:59:59", "12:60:00", "00:00:61"), "time")
    values = [None if pd.isna(v) else v for v in result.values.tolist()]
    assert values == ["08:00:29", None, "23:59:59", None, None]
    assert result.errors.tolist() == [None, NOT_A_TIME, None, NOT_A_TIME, NOT_A_TIME]
