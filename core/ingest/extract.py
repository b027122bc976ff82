"""The parsing itself, run inside the child process (see `sandbox`): no pandas here.

Workbooks are read with python-calamine, which loads a whole sheet at once: about eight times
faster than openpyxl's streaming reader, at the cost of memory (a few KB per row at 58
columns) that the child's memory limit bounds. CSV is decoded and split here too. Rows come
back as columns in forms that pickle fast (see `_encode_column`): float64 arrays for numeric
columns, one NUL-joined string for text, day ordinals or datetime64 for date cells, and lists
of objects only for columns that mix kinds.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import python_calamine

from core.errors import FileRejected
from core.ingest import csvtext
from core.ingest.header import HEADER_SCAN_ROWS, HeaderLayout, column_letter, layout, name_problems
from core.ingest.tables import SheetInfo

# How a column's values travel: see `_encode_column`.
NUMBER, TEXT, DAYS, MOMENT, MIXED = "number", "text", "days", "moment", "mixed"
TEXT_SEPARATOR = "\x00"
ERROR_SNIPPET = 200


def inspect_task(request: dict[str, Any]) -> dict[str, Any]:
    """Sheets and data-row counts of a CSV or xls file (xlsx is outlined without parsing)."""
    if request["format"] == "csv":
        text = _csv_text(request)
        rows = _csv_rows(text, request)
        return {
            "sheets": [_sheet_info(request["sheet_name"], rows, [])],
            "encoding": text.encoding,
            "delimiter": text.delimiter,
        }
    workbook = _open_workbook(request)
    sheets = []
    for name in workbook.sheet_names:
        sheet = _sheet(workbook, name, request)
        sheets.append(_sheet_info(name, _calamine_rows(sheet, request), _merged(sheet)))
    return {"sheets": sheets}


def read_task(request: dict[str, Any]) -> dict[str, Any]:
    """One sheet: header layout, column names and letters, Excel row numbers, column arrays."""
    encoding = delimiter = None
    if request["format"] == "csv":
        text = _csv_text(request)
        encoding, delimiter = text.encoding, text.delimiter
        rows: Sequence[Sequence[object]] = _csv_rows(text, request)
        merged: list = []
        sheet_name = request["sheet_name"]
    else:
        workbook = _open_workbook(request)
        sheet_name = request["sheet"] or workbook.sheet_names[0]
        sheet = _sheet(workbook, sheet_name, request)
        rows = _calamine_rows(sheet, request)
        merged = _merged(sheet)
    width = max((len(r) for r in rows), default=0)
    forced = request["header_index"]
    scan = HEADER_SCAN_ROWS if forced is None else max(HEADER_SCAN_ROWS, forced + 2)
    head = layout(rows[:scan], width=width, merged=merged, header_index=forced)
    if head is None:
        raise FileRejected(f"Sheet '{sheet_name}' of {request['name']} is empty.")
    data = rows[head.data_start :]
    _check_row_count(len(data), sheet_name, request)
    columns = _columns(data)
    # Only unnamed columns need to know whether they hold anything.
    has_data = [
        not name and c < len(columns) and _empty_count(columns[c]) != len(columns[c])
        for c, name in enumerate(head.names)
    ]
    names, problems = name_problems(
        head.names, has_data=has_data, header_row=head.header_index + 1, ignore=head.merged_away
    )
    encoded = []
    for c, name in enumerate(names):
        if not name:
            continue
        values = columns[c] if c < len(columns) else ("",) * len(data)
        encoded.append((name, column_letter(c), *_encode_column(values)))
    return {
        "sheet": sheet_name,
        "header_row": head.header_index + 1,
        "columns": encoded,
        "first_row": head.data_start + 1,
        "problems": [*head.problems, *problems],
        "notes": head.notes,
        "encoding": encoding,
        "delimiter": delimiter,
    }


def _columns(data: Sequence[Sequence[object]]) -> list[Sequence[object]]:
    """The rows turned into columns ('' filling the end of short CSV records)."""
    if data and len(set(map(len, data))) == 1:
        # calamine rows all span the used range: numpy transposes them fastest
        grid = np.array(data, dtype=object)
        return [grid[:, c] for c in range(grid.shape[1])]
    return list(itertools.zip_longest(*data, fillvalue=""))


def _empty_count(values: Sequence[object]) -> int:
    if isinstance(values, np.ndarray):
        return int(np.count_nonzero(values == ""))
    return values.count("")  # type: ignore[attr-defined]


def _sheet_info(name: str, rows: Sequence[Sequence[object]], merged: list) -> SheetInfo:
    width = max((len(r) for r in rows), default=0)
    head: HeaderLayout | None = layout(rows[:HEADER_SCAN_ROWS], width=width, merged=merged)
    if head is None:
        return SheetInfo(name, 0, 0)
    count = sum(1 for r in rows[head.data_start :] if r.count("") != len(r))
    return SheetInfo(name, count, sum(1 for n in head.names if n))


def _check_row_count(count: int, sheet_name: str, request: dict[str, Any]) -> None:
    if count > request["max_rows"]:
        raise FileRejected(
            f"Sheet '{sheet_name}' of {request['name']} has {count:,} data rows, more than the "
            f"{request['max_rows']:,} allowed (setting PIPEWORKS_MAX_ROWS)."
        )


def _encode_column(values: Sequence[object]) -> tuple[str, object]:
    """The most compact faithful form of one column's cells ('' marks an empty cell).

    Text travels as one string joined with NUL (which neither XML nor the csv module lets
    into a cell), dates as day ordinals (0 when empty): both pickle far faster than objects.
    """
    if isinstance(values, np.ndarray):
        values = values.tolist()  # lists iterate, count and join fastest
    kinds = list(map(type, values))
    types = set(kinds)
    if types <= {str}:
        return TEXT, TEXT_SEPARATOR.join(values)  # type: ignore[arg-type]
    others = types - {str}
    if kinds.count(str) != values.count(""):  # some text among other values
        return MIXED, [None if v == "" else v for v in values]
    if others <= {float, int}:
        if str not in types:
            return NUMBER, np.array(values, dtype=np.float64)
        numbers = np.array(values, dtype=object)  # a copy: the grid stays untouched
        numbers[numbers == ""] = np.nan
        return NUMBER, numbers.astype(np.float64)
    if others == {dt.date}:
        return DAYS, np.array([0 if v == "" else v.toordinal() for v in values], dtype=np.int32)
    if others <= {dt.date, dt.datetime}:
        return MOMENT, np.array([None if v == "" else v for v in values], dtype="datetime64[us]")
    return MIXED, [None if v == "" else v for v in values]


def _csv_text(request: dict[str, Any]) -> csvtext.CsvText:
    return csvtext.read_text(Path(request["path"]).read_bytes())


def _csv_rows(text: csvtext.CsvText, request: dict[str, Any]) -> list[list[str]]:
    # Stop early: a file with this many records cannot fit under the row limit.
    ceiling = request["max_rows"] + HEADER_SCAN_ROWS + 1
    rows = []
    try:
        for record in csvtext.rows(text):
            rows.append(record)
            if len(rows) > ceiling:
                raise FileRejected(
                    f"{request['name']} has more than {request['max_rows']:,} rows, the limit "
                    "(setting PIPEWORKS_MAX_ROWS): split it into smaller files."
                )
    except csv.Error as exc:
        raise FileRejected(
            f"{request['name']} is not valid CSV near record {len(rows) + 1}: {exc}."
        ) from exc
    return rows


def _open_workbook(request: dict[str, Any]) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_path(request["path"])
    except python_calamine.PasswordError as exc:
        raise FileRejected(
            f"{request['name']} is password-protected: remove the password and upload it again."
        ) from exc
    except Exception as exc:  # python-calamine raises several unrelated types
        raise FileRejected(_unreadable(request["name"], exc)) from exc


def _sheet(
    workbook: python_calamine.CalamineWorkbook, name: str, request: dict[str, Any]
) -> python_calamine.CalamineSheet:
    if name not in workbook.sheet_names:
        listed = ", ".join(f"'{s}'" for s in workbook.sheet_names)
        raise FileRejected(f"{request['name']} has no sheet named '{name}' (sheets: {listed}).")
    try:
        return workbook.get_sheet_by_name(name)
    except Exception as exc:  # python-calamine raises several unrelated types
        raise FileRejected(_unreadable(request["name"], exc, sheet=name)) from exc


def _calamine_rows(sheet: python_calamine.CalamineSheet, request: dict[str, Any]) -> list[list]:
    try:
        # From A1, so that list positions are Excel rows and columns.
        return sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # python-calamine raises several unrelated types
        raise FileRejected(_unreadable(request["name"], exc, sheet=sheet.name)) from exc


def _merged(sheet: python_calamine.CalamineSheet) -> list:
    try:
        return list(sheet.merged_cell_ranges or [])
    except Exception:  # merge information is optional (xls, odd writers)
        return []


def _unreadable(name: str, exc: Exception, *, sheet: str | None = None) -> str:
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:ERROR_SNIPPET]
    where = f"sheet '{sheet}' of {name}" if sheet else name
    return f"{where} could not be read, the file seems damaged ({detail})."
