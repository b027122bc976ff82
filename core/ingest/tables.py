"""What reading a file produces: the workbook's outline and one sheet's raw table.

Importable without pandas (the parsing child uses the small types).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

Format = Literal["xlsx", "xlsm", "xls", "csv"]
ProblemKind = Literal["no_header", "merged", "two_rows", "empty", "duplicate"]


@dataclass(frozen=True)
class SheetInfo:
    """One sheet: its name, data rows (rows below the header) and columns in use.

    For xlsx/xlsm the count is estimated without parsing the sheet: its used range less the
    rows down to the header (blank rows inside the data count); `read_sheet` gives the exact
    count. `columns` is the used range's width for xlsx/xlsm and the named columns otherwise.
    `problem` says why the sheet cannot be read, if so.
    """

    name: str
    rows: int | None
    columns: int | None = None
    problem: str | None = None


@dataclass(frozen=True)
class WorkbookInfo:
    """The outline of an uploaded file: its real format, its sheets and its checksum."""

    file_name: str
    format: Format
    sheets: tuple[SheetInfo, ...]
    sha256: str
    size_bytes: int
    encoding: str | None = None
    delimiter: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def sheet_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sheets)


@dataclass(frozen=True)
class HeaderProblem:
    """Something wrong with the header row: which cells or columns, and what to do."""

    kind: ProblemKind
    columns: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class RawTable:
    """One sheet as read: headers and raw cell values, before any mapping or coercion.

    `frame` has one column per kept source column, labelled by its column letter, and is
    indexed by the Excel row number (1-based, counting title rows above the header). Its
    columns hold raw values: float64 for numeric cells, str for text, datetime64 for date
    cells, object when a column mixes kinds. Blank rows are left out.
    """

    file_name: str
    format: Format
    sheet: str
    header_row: int
    headers: tuple[str, ...]
    letters: tuple[str, ...]
    frame: pd.DataFrame
    problems: tuple[HeaderProblem, ...] = ()
    notes: tuple[str, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def row_count(self) -> int:
        return len(self.frame)

    @property
    def excel_rows(self) -> pd.Index:
        return self.frame.index

    def letter_of(self, header: str) -> str:
        """The column letter of a header (the first column of that name)."""
        return self.letters[self.headers.index(header)]

    def column(self, header: str) -> pd.Series:
        """The raw values of the column under `header`."""
        return self.frame[self.letter_of(header)]
