"""The parsing itself, run inside the child process (see `sandbox`): no pandas here.

Workbooks are read with python-calamine, about eight times faster than openpyxl's streaming
reader, but it loads a whole sheet at once on one core, at a few KB of memory per row. So a
large sheet is cut into slices of rows (`split`) that worker processes, forked from this one
and so under the same limits, read side by side; a small one is read whole here. CSV is
decoded and split here too. Rows come back as columns in forms that pickle fast (`columns`).
"""

from __future__ import annotations

import csv
import itertools
import multiprocessing
import tempfile
import zipfile
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import python_calamine

from core.errors import FileRejected
from core.ingest import columns, csvtext, split
from core.ingest.header import HEADER_SCAN_ROWS, HeaderLayout, column_letter, layout, name_problems
from core.ingest.tables import SheetInfo

PARSE_WORKERS = 2
SLICES_AHEAD = 2 * PARSE_WORKERS
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
        rows, (top, left) = _calamine_rows(sheet, request)
        width = left + len(rows[0]) if rows else 0
        from_a1 = [[""] * width for _ in range(top)] + [[""] * left + row for row in rows]
        sheets.append(_sheet_info(name, from_a1, _merged(sheet)))
    return {"sheets": sheets}


def read_task(request: dict[str, Any]) -> dict[str, Any]:
    """One sheet: header layout, column names and letters, Excel row numbers, column arrays."""
    forced = request["header_index"]
    scan = HEADER_SCAN_ROWS if forced is None else max(HEADER_SCAN_ROWS, forced + 2)
    encoding = delimiter = None
    if request["format"] == "csv":
        text = _csv_text(request)
        encoding, delimiter = text.encoding, text.delimiter
        sheet_name = request["sheet_name"]
        pieces, merged = [_piece(_csv_rows(text, request), (0, 0), scan)], []
    else:
        sheet_name = request["sheet"] or _open_workbook(request).sheet_names[0]
        pieces, merged = _read_pieces(request, sheet_name, scan)
    height = max((p["first"] + p["height"] for p in pieces), default=0)
    width = max((p["width"] for p in pieces), default=0)
    rows = [[""] * width for _ in range(min(scan, height))]
    for piece in pieces:
        for i, row in enumerate(piece["head"]):
            rows[piece["first"] + i][: len(row)] = row
    head = layout(rows, width=width, merged=merged, header_index=forced)
    if head is None:
        raise FileRejected(f"Sheet '{sheet_name}' of {request['name']} is empty.")
    _check_row_count(height - head.data_start, sheet_name, request)
    spans = _column_spans(rows[head.data_start :], pieces, width=width, start=len(rows))
    # Only unnamed columns need to know whether they hold anything.
    has_data = [not name and any(part for _, part in spans[c]) for c, name in enumerate(head.names)]
    names, problems = name_problems(
        head.names, has_data=has_data, header_row=head.header_index + 1, ignore=head.merged_away
    )
    encoded = [
        (name, column_letter(c), *columns.join(spans[c])) for c, name in enumerate(names) if name
    ]
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


def _read_pieces(
    request: dict[str, Any], sheet_name: str, scan: int
) -> tuple[list[dict[str, Any]], list]:
    """The sheet read as pieces (row ranges) and its merged cells: in slices by worker
    processes when it is large, else whole in this process."""
    if request.get("part") and _part_size(request) > request["slice_bytes"]:
        try:
            return _read_slices(request, sheet_name, scan)
        except split.Unsplittable:
            pass
    sheet = _sheet(_open_workbook(request), sheet_name, request)
    return [_piece(*_calamine_rows(sheet, request), scan)], _merged(sheet)


def _part_size(request: dict[str, Any]) -> int:
    with zipfile.ZipFile(request["path"]) as archive:
        return archive.getinfo(request["part"]).file_size


def _read_slices(
    request: dict[str, Any], sheet_name: str, scan: int
) -> tuple[list[dict[str, Any]], list]:
    with tempfile.TemporaryDirectory(prefix="slices-", dir=request.get("scratch")) as folder:
        slices = split.SheetSlices(
            Path(request["path"]),
            part=request["part"],
            folder=Path(folder),
            slice_bytes=request["slice_bytes"],
        )
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(PARSE_WORKERS, mp_context=context) as pool:
            futures: list[Future] = []
            try:
                for path in slices:
                    futures.append(
                        pool.submit(_read_slice, str(path), sheet_name, request["name"], scan)
                    )
                    # Slices are written faster than read: keep only a few on disk.
                    pending = [f for f in futures if not f.done()]
                    if len(pending) > SLICES_AHEAD:
                        wait(pending, return_when=FIRST_COMPLETED)
                pieces = [f.result() for f in futures]
            except BrokenProcessPool:
                raise MemoryError from None  # a worker died: over its memory limit
            finally:
                for f in futures:
                    f.cancel()
        assert slices.tail is not None
        tail = {**request, "path": str(slices.tail)}
        merged = _merged(_sheet(_open_workbook(tail), sheet_name, tail))
    if not _in_order(pieces):
        raise split.Unsplittable("rows out of order across slices")
    return pieces, merged


def _read_slice(path: str, sheet_name: str, name: str, scan: int) -> dict[str, Any]:
    """One slice of a sheet, read in a worker process (the file is removed once loaded)."""
    request = {"path": path, "name": name}
    try:
        sheet = _sheet(_open_workbook(request), sheet_name, request)
        rows, start = _calamine_rows(sheet, request)
    finally:
        Path(path).unlink(missing_ok=True)
    return _piece(rows, start, scan)


def _in_order(pieces: list[dict[str, Any]]) -> bool:
    end = 0
    for piece in pieces:
        if not piece["height"]:
            continue
        if piece["first"] < end:
            return False
        end = piece["first"] + piece["height"]
    return True


def _piece(rows: Sequence[Sequence[object]], start: tuple[int, int], scan: int) -> dict[str, Any]:
    """Rows from (row, column) `start` (0-based): those among the first `scan` rows of the
    sheet as lists (the header is looked for there), the others as encoded columns."""
    first, left = start
    head_count = max(0, min(len(rows), scan - first))
    pad = [""] * left
    body = rows[head_count:]
    return {
        "first": first,
        "height": len(rows),
        "width": left + max(map(len, rows), default=0),
        "head": [pad + list(row) for row in rows[:head_count]],
        "body_first": first + head_count,
        "body": {left + c: (len(body), columns.encode(v)) for c, v in enumerate(_columns(body))},
    }


def _column_spans(
    head_data: list[list[object]], pieces: list[dict[str, Any]], *, width: int, start: int
) -> list[list[columns.Span]]:
    """Each column's parts in row order: the data rows among the first rows, then every
    piece's rows (rows between pieces are blank)."""
    spans: list[list[columns.Span]] = [[] for _ in range(width)]
    if head_data:
        for c, values in enumerate(zip(*head_data, strict=True)):
            spans[c].append((len(head_data), columns.encode(values)))
    at = start
    for piece in pieces:
        count = piece["height"] - (piece["body_first"] - piece["first"])
        if count <= 0:
            continue
        gap = piece["body_first"] - at
        for c in range(width):
            if gap > 0:
                spans[c].append((gap, None))
            spans[c].append(piece["body"].get(c, (count, None)))
        at = piece["body_first"] + count
    return spans


def _columns(data: Sequence[Sequence[object]]) -> list[Sequence[object]]:
    """The rows turned into columns ('' filling the end of short CSV records)."""
    if data and len(set(map(len, data))) == 1:
        # calamine rows all span the used range: laid end to end, every width-th cell is
        # a column (three times faster than transposing through numpy)
        width = len(data[0])
        cells = list(itertools.chain.from_iterable(data))
        return [cells[c::width] for c in range(width)]
    return list(itertools.zip_longest(*data, fillvalue=""))


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


def _calamine_rows(
    sheet: python_calamine.CalamineSheet, request: dict[str, Any]
) -> tuple[list[list], tuple[int, int]]:
    """The sheet's used range and where it starts (row, column, 0-based)."""
    try:
        rows = sheet.to_python(skip_empty_area=True)
        return rows, tuple(sheet.start or (0, 0)) if rows else (0, 0)  # type: ignore[return-value]
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
