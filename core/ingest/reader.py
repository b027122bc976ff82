"""Reading an uploaded file: its outline (`inspect_file`) and one sheet (`read_sheet`).

Both first check the file in this process (real format from magic bytes, size, ZIP limits,
XML prologs, sheet dimensions), then parse it in a limited child process (`sandbox`), and
raise `FileRejected` with one human line whenever the file cannot be read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from core.errors import FileRejected
from core.ingest import guard, sandbox, textcells
from core.ingest.columns import DAYS, MIXED, MOMENT, NUMBER, TEXT, TEXT_SEPARATOR, days_as_moments
from core.ingest.limits import ParseLimits
from core.ingest.outline import workbook_sheets
from core.ingest.sniff import Sniffed, sniff
from core.ingest.tables import Format, RawTable, WorkbookInfo

HASH_CHUNK = 1 << 20
_MB = 1 << 20


def inspect_file(path: Path, *, file_name: str | None = None, limits: ParseLimits) -> WorkbookInfo:
    """The file's real format, its sheets with their data-row counts, and its sha256."""
    path = Path(path)
    name = file_name or path.name
    found = _checked_format(path, name=name, limits=limits)
    encoding = delimiter = None
    if found.format in ("xlsx", "xlsm"):
        sheets = workbook_sheets(path, name=name, limits=limits)
    else:
        outline = _in_child("inspect", path, name=name, format=found.format, limits=limits)
        sheets = tuple(outline["sheets"])
        encoding, delimiter = outline.get("encoding"), outline.get("delimiter")
    if not sheets:
        raise FileRejected(f"{name} has no sheets.")
    return WorkbookInfo(
        file_name=name,
        format=found.format,
        sheets=sheets,
        sha256=_sha256(path),
        size_bytes=path.stat().st_size,
        encoding=encoding,
        delimiter=delimiter,
        notes=found.notes,
    )


def read_sheet(
    path: Path,
    *,
    sheet: str | None,
    limits: ParseLimits,
    file_name: str | None = None,
    header_row: int | None = None,
) -> RawTable:
    """One sheet's header and raw values (`sheet=None`: the first sheet; ignored for CSV).

    `header_row` (1-based) forces the header row instead of detecting it.
    """
    path = Path(path)
    name = file_name or path.name
    found = _checked_format(path, name=name, limits=limits)
    if found.format in ("xlsx", "xlsm"):
        extents = [e for e in guard.sheet_extents(path, name=name) if e.part]
        if not extents:
            raise FileRejected(f"{name} has no worksheet with cells to read.")
        chosen = next((e for e in extents if e.name == sheet), None) if sheet else extents[0]
        if chosen is None:
            listed = ", ".join(f"'{e.name}'" for e in extents)
            raise FileRejected(f"{name} has no sheet named '{sheet}' (sheets: {listed}).")
        problem = guard.extent_problem(chosen, limits=limits)
        if problem:
            raise FileRejected(problem)
        sheet, part = chosen.name, chosen.part
    else:
        part = None
    payload = _in_child(
        "read",
        path,
        name=name,
        format=found.format,
        limits=limits,
        sheet=sheet,
        header_index=None if header_row is None else header_row - 1,
        part=part,
        slice_bytes=limits.slice_bytes,
    )
    return _raw_table(
        payload, name=name, format=found.format, notes=found.notes, max_rows=limits.max_rows
    )


def prepare_reader(limits: ParseLimits) -> None:
    """Start the child that will read the next file now (its start takes half a second), so
    it waits ready while the user chooses one."""
    sandbox.prepare(memory_mb=limits.memory_mb, timeout_s=limits.timeout_s)


def csv_sheet_name(name: str) -> str:
    """The one sheet of a CSV file is named after the file."""
    return Path(name).stem or name


def _checked_format(path: Path, *, name: str, limits: ParseLimits) -> Sniffed:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileRejected(f"{name} cannot be opened: {exc.strerror}.") from exc
    if size > limits.max_file_mb * _MB:
        raise FileRejected(
            f"{name} is {size / _MB:,.0f} MB, more than the {limits.max_file_mb:,} MB allowed "
            "(setting PIPEWORKS_MAX_UPLOAD_MB)."
        )
    found = sniff(path, file_name=name)
    if found.format in ("xlsx", "xlsm"):
        guard.check_archive(path, name=name, limits=limits)
    return found


def _in_child(
    task: str, path: Path, *, name: str, format: Format, limits: ParseLimits, **more: Any
) -> dict[str, Any]:
    request = {
        "path": str(path.resolve()),
        "name": name,
        "format": format,
        "sheet_name": csv_sheet_name(name),
        "max_rows": limits.max_rows,
        **more,
    }
    return sandbox.run(
        task, request, name=name, memory_mb=limits.memory_mb, timeout_s=limits.timeout_s
    )


def _raw_table(
    payload: dict[str, Any], *, name: str, format: Format, notes: tuple[str, ...], max_rows: int
) -> RawTable:
    data = {letter: _series(kind, values) for _, letter, kind, values in payload["columns"]}
    frame = pd.DataFrame(data) if data else pd.DataFrame(index=range(0))
    frame.index = pd.RangeIndex(payload["first_row"], payload["first_row"] + len(frame), name="row")
    # Blank rows (cells empty or only spaces) are not data.
    if len(frame.columns):
        frame = frame[frame.notna().any(axis=1).to_numpy()]
    if len(frame) > max_rows:
        raise FileRejected(
            f"Sheet '{payload['sheet']}' of {name} has {len(frame):,} data rows, more than the "
            f"{max_rows:,} allowed (setting PIPEWORKS_MAX_ROWS)."
        )
    return RawTable(
        file_name=name,
        format=format,
        sheet=payload["sheet"],
        header_row=payload["header_row"],
        headers=tuple(h for h, *_ in payload["columns"]),
        letters=tuple(letter for _, letter, *_ in payload["columns"]),
        frame=frame,
        problems=tuple(payload["problems"]),
        notes=(*notes, *payload["notes"]),
        encoding=payload["encoding"],
        delimiter=payload["delimiter"],
    )


def _series(kind: str, values: Any) -> pd.Series:
    if kind == NUMBER:
        return pd.Series(values, dtype="float64", copy=False)
    if kind == TEXT:
        return pd.Series(pd.array(_text_cells(values), dtype="str"))
    if kind == DAYS:
        return pd.Series(days_as_moments(values))
    if kind == MOMENT:
        return pd.Series(np.asarray(values, dtype="datetime64[us]"))
    if kind == MIXED:
        return pd.Series(
            [None if isinstance(v, str) and not v.strip() else v for v in values], dtype=object
        )
    raise ValueError(f"unknown column kind {kind!r}")


def _text_cells(joined: str) -> pa.LargeStringArray:
    """The cells of a text column that travelled joined with NUL, as an Arrow array:
    trimmed of whitespace, missing where nothing is left."""
    data = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    separators = data == ord(TEXT_SEPARATOR)
    ends = np.flatnonzero(separators)
    offsets = np.empty(len(ends) + 2, dtype=np.int64)
    offsets[0] = 0
    offsets[1:-1] = ends - np.arange(len(ends))  # where each cell ends once the NULs are gone
    offsets[-1] = len(data) - len(ends)
    cells = data[~separators]
    array = pa.LargeStringArray.from_buffers(
        len(ends) + 1, pa.py_buffer(offsets), pa.py_buffer(cells)
    )
    return textcells.trimmed(array)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
