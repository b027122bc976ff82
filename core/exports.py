"""Safe CSV and Excel files from a DataFrame or from an iterator of DataFrame chunks.

Safe against formula injection: a text cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return would run as a formula when the file is opened in a spreadsheet. In CSV such
text is prefixed with `'`; in Excel it is written as text with the cell's quote-prefix flag
(the value stays exactly as stored and cannot become a formula). Real numbers stay numbers,
negative ones included; column headers are text and are neutralised the same way.

Large results are written chunk by chunk: CSV is produced as a stream of byte blocks, Excel
through xlsxwriter's constant-memory mode, so memory stays flat whatever the number of rows.
Sheets past Excel's row limit continue on a new sheet ("Name (2)").
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_PREFIX = "'"
CSV_ENCODING = "utf-8-sig"  # the BOM makes Excel read accents correctly
CSV_LINE_END = "\r\n"  # RFC 4180; cells holding a CR or LF are then quoted
CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_SHEET_NAME = 31
XLSX_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
}
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_FORBIDDEN_IN_SHEET_NAMES = str.maketrans({c: "_" for c in "[]:*?/\\"})

Frames = pd.DataFrame | Iterable[pd.DataFrame]
Target = Path | str | IO[bytes]


def is_dangerous(text: str) -> bool:
    """True for text a spreadsheet would read as a formula (or a command)."""
    return text.startswith(DANGEROUS_PREFIXES)


def neutralise(value: Any) -> Any:
    """The CSV-safe form of one cell: dangerous text gets a leading `'`; other values as is."""
    if isinstance(value, str) and is_dangerous(value):
        return CSV_PREFIX + value
    return value


def frames(data: Frames) -> Iterator[pd.DataFrame]:
    """The chunks of `data` (a single DataFrame is one chunk)."""
    if isinstance(data, pd.DataFrame):
        yield data
    else:
        yield from data


# ---------------------------------------------------------------------------------- CSV
def csv_chunks(data: Frames, *, encoding: str = CSV_ENCODING) -> Iterator[bytes]:
    """The CSV file as byte blocks, one per chunk (header from the first chunk's columns;
    a result without any chunk gives an empty file)."""
    columns: list[str] | None = None
    for chunk in frames(data):
        if columns is None:
            columns = [str(c) for c in chunk.columns]
            header = pd.DataFrame(columns=[neutralise(c) for c in columns])
            yield header.to_csv(index=False, lineterminator=CSV_LINE_END).encode(encoding)
            encoding = encoding.removesuffix("-sig")  # the BOM only once, at the very start
        if chunk.empty:
            continue
        body = _neutralise_frame(chunk).to_csv(
            index=False, header=False, lineterminator=CSV_LINE_END
        )
        yield body.encode(encoding)


def write_csv(data: Frames, target: Target, *, encoding: str = CSV_ENCODING) -> int:
    """Write `data` as CSV to a path or binary file; returns the number of data rows."""
    rows = 0

    def counted() -> Iterator[pd.DataFrame]:
        nonlocal rows
        for chunk in frames(data):
            rows += len(chunk)
            yield chunk

    with _open(target) as out:
        for block in csv_chunks(counted(), encoding=encoding):
            out.write(block)
    return rows


def csv_bytes(data: Frames, *, encoding: str = CSV_ENCODING) -> bytes:
    return b"".join(csv_chunks(data, encoding=encoding))


def _neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame
    for name in frame.columns:
        column = frame[name]
        if not (column.dtype == object or pd.api.types.is_string_dtype(column)):
            continue  # numbers, booleans, datetimes cannot hold formulas
        mask = column.map(lambda v: isinstance(v, str) and is_dangerous(v)).astype(bool)
        if mask.any():
            if out is frame:
                out = frame.copy()
            out[name] = column.astype(object).where(~mask, CSV_PREFIX + column[mask].astype(str))
    return out


# -------------------------------------------------------------------------------- Excel
class XlsxBook:
    """An xlsx workbook written sheet by sheet, chunk by chunk (constant memory by default).

    `append(sheet, chunk)` may interleave sheets; rows of one sheet keep their order. The
    header of a sheet is the first chunk's columns (or `columns=` given to `add_sheet`).
    """

    def __init__(self, target: Target, *, constant_memory: bool = True) -> None:
        options = {**XLSX_OPTIONS, "constant_memory": constant_memory}
        self._book = xlsxwriter.Workbook(_xlsx_target(target), options)
        self._bold = self._book.add_format({"bold": True})
        self._bold_text = self._book.add_format({"bold": True, "quote_prefix": True})
        self._text = self._book.add_format({"quote_prefix": True})
        self._date = self._book.add_format({"num_format": DATE_FORMAT})
        self._datetime = self._book.add_format({"num_format": DATETIME_FORMAT})
        self._sheets: dict[str, _Sheet] = {}
        self._names: set[str] = set()
        self.rows = 0

    def add_sheet(self, name: str, *, columns: Sequence[str] | None = None) -> None:
        """Create a sheet now (it keeps its place even if no row comes)."""
        if name not in self._sheets:
            self._sheets[name] = _Sheet(name, None, [])
        if columns is not None and self._sheets[name].worksheet is None:
            self._start(self._sheets[name], [str(c) for c in columns])

    def append(self, name: str, chunk: pd.DataFrame) -> None:
        self.add_sheet(name)
        sheet = self._sheets[name]
        if sheet.worksheet is None:
            self._start(sheet, [str(c) for c in chunk.columns])
        for values in chunk.itertuples(index=False, name=None):
            if sheet.row >= XLSX_MAX_ROWS:
                sheet.part += 1
                self._start(sheet, sheet.columns)
            for col, value in enumerate(values):
                self._cell(sheet.worksheet, sheet.row, col, value)  # type: ignore[arg-type]
            sheet.row += 1
        self.rows += len(chunk)

    def close(self) -> None:
        for sheet in self._sheets.values():
            if sheet.worksheet is None:
                self._start(sheet, [])
        self._book.close()

    def __enter__(self) -> XlsxBook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self, sheet: _Sheet, columns: list[str]) -> None:
        title = sheet.name if sheet.part == 1 else f"{sheet.name} ({sheet.part})"
        sheet.worksheet = self._book.add_worksheet(self._unique_name(title))
        sheet.columns, sheet.row = columns, 1
        for col, name in enumerate(columns):
            self._text_cell(sheet.worksheet, 0, col, name, header=True)
        if columns:
            sheet.worksheet.freeze_panes(1, 0)

    def _unique_name(self, title: str) -> str:
        base = (title.translate(_FORBIDDEN_IN_SHEET_NAMES).strip("'") or "Sheet")[
            :XLSX_MAX_SHEET_NAME
        ]
        name, n = base, 1
        while name.lower() in self._names:
            n += 1
            suffix = f" ~{n}"
            name = base[: XLSX_MAX_SHEET_NAME - len(suffix)] + suffix
        self._names.add(name.lower())
        return name

    def _cell(self, ws: Worksheet, row: int, col: int, value: Any) -> None:
        if value is None or value is pd.NaT or value is pd.NA:
            return
        if isinstance(value, str):
            self._text_cell(ws, row, col, value)
        elif isinstance(value, bool | np.bool_):
            ws.write_boolean(row, col, bool(value))
        elif isinstance(value, numbers.Integral):
            ws.write_number(row, col, int(value))
        elif isinstance(value, numbers.Real | decimal.Decimal):
            number = float(value)
            if math.isfinite(number):
                ws.write_number(row, col, number)
        elif isinstance(value, dt.datetime):
            ws.write_datetime(row, col, value, self._datetime)
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, value, self._date)
        else:
            self._text_cell(ws, row, col, str(value))

    def _text_cell(
        self, ws: Worksheet, row: int, col: int, text: str, *, header: bool = False
    ) -> None:
        if header:
            fmt = self._bold_text if is_dangerous(text) else self._bold
        else:
            fmt = self._text if is_dangerous(text) else None
        ws.write_string(row, col, text, fmt)


class _Sheet:
    def __init__(self, name: str, worksheet: Worksheet | None, columns: list[str]) -> None:
        self.name, self.worksheet, self.columns = name, worksheet, columns
        self.row, self.part = 0, 1


def write_xlsx(
    data: Frames | Mapping[str, Frames],
    target: Target,
    *,
    sheet: str = "Data",
    constant_memory: bool = True,
) -> int:
    """Write one sheet (`data` chunks) or several (a mapping of sheet name to chunks) to a
    path or binary file; returns the number of data rows written."""
    sheets = data if isinstance(data, Mapping) else {sheet: data}
    with XlsxBook(target, constant_memory=constant_memory) as book:
        for name, content in sheets.items():
            book.add_sheet(name)
            for chunk in frames(content):
                book.append(name, chunk)
    return book.rows


def xlsx_bytes(data: Frames | Mapping[str, Frames], *, sheet: str = "Data") -> bytes:
    buffer = io.BytesIO()
    write_xlsx(data, buffer, sheet=sheet)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- plumbing
class _open:
    """A binary output: a path opened for writing (and closed), or a file left open."""

    def __init__(self, target: Target) -> None:
        self._target, self._file = target, None

    def __enter__(self) -> IO[bytes]:
        if isinstance(self._target, str | Path):
            self._file = Path(self._target).open("wb")
            return self._file
        return self._target

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()


def _xlsx_target(target: Target) -> Any:
    return str(target) if isinstance(target, Path) else target
