"""The outline of an xlsx/xlsm workbook without parsing its sheets: names and row counts.

Row counts come from each sheet's used range (`guard.sheet_extents`) less the rows down to
its header, which is found from the first rows' cell types alone (text cells count as
labels), read from the start of the sheet's XML.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from core.errors import FileRejected
from core.ingest import guard
from core.ingest.header import HEADER_SCAN_ROWS, column_number, find_header_row
from core.ingest.limits import ParseLimits
from core.ingest.tables import SheetInfo

PEEK_BYTES = 1 << 20
NO_CELLS = "This is a chart or macro sheet: it has no cells to read."
_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"[^>]*?(?:/>|>(.*?)</(?:\w+:)?row>)', re.S)
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_CELL_REF = re.compile(rb'\sr="([A-Z]{1,3})\d+"')
_TEXT_TYPE = re.compile(rb'\st="(?:s|inlineStr|str)"')
_LABEL, _VALUE = "label", 0.0


def workbook_sheets(path: Path, *, name: str, limits: ParseLimits) -> tuple[SheetInfo, ...]:
    """Every sheet in workbook order with its estimated data rows and, if any, its problem."""
    extents = guard.sheet_extents(path, name=name)
    try:
        return _outline(path, extents, limits=limits)
    except guard.DAMAGED_ZIP_ERRORS as exc:
        raise FileRejected(
            f"{name} is damaged or incomplete (a sheet cannot be unpacked): "
            "save it again from Excel and upload the new copy."
        ) from exc


def _outline(
    path: Path, extents: list[guard.SheetExtent], *, limits: ParseLimits
) -> tuple[SheetInfo, ...]:
    sheets = []
    with zipfile.ZipFile(path) as archive:
        for extent in extents:
            if extent.part is None:
                sheets.append(SheetInfo(extent.name, None, None, NO_CELLS))
                continue
            problem = guard.extent_problem(extent, limits=limits)
            rows = None
            if extent.last_row is not None:
                header = 1 if problem else _header_row(archive, extent.part)
                rows = max(extent.last_row - header, 0)
            sheets.append(SheetInfo(extent.name, rows, extent.last_column, problem))
    return tuple(sheets)


def _header_row(archive: zipfile.ZipFile, part: str) -> int:
    """The 1-based row number of the header among the sheet's first rows (1 if unsure)."""
    with archive.open(part) as fh:
        head = fh.read(PEEK_BYTES)
    numbers, rows = [], []
    for found in _ROW.finditer(head):
        numbers.append(int(found.group(1)))
        rows.append(_row_kinds(found.group(2) or b""))
        if len(rows) >= HEADER_SCAN_ROWS:
            break
    if not rows:
        return 1
    # Rows absent from the XML are blank rows: keep positions as Excel numbers them.
    first = numbers[0]
    grid: list[list[object]] = [[] for _ in range(numbers[-1] - first + 1)]
    for number, row in zip(numbers, rows, strict=True):
        grid[number - first] = row
    index = find_header_row(grid)
    return 1 if index is None else first + index


def _row_kinds(row_xml: bytes) -> list[object]:
    cells: dict[int, object] = {}
    for found in _CELL.finditer(row_xml):
        attributes, body = found.group(1), found.group(2)
        ref = _CELL_REF.search(attributes)
        if ref is None or not body or (b"<v" not in body and b"<t" not in body):
            continue
        column = column_number(ref.group(1).decode()) - 1
        cells[column] = _LABEL if _TEXT_TYPE.search(attributes) else _VALUE
    width = max(cells, default=-1) + 1
    return [cells.get(c, "") for c in range(width)]
