"""Checks made on a workbook before any parser sees it: zip bombs, XML entities, sheet sizes.

Everything here reads the ZIP directory and bounded prefixes of members only, so it is safe
to run in the app process. The child process's memory and time limits stay the last line of
defence for whatever these checks cannot see.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from core.errors import FileRejected
from core.ingest.header import column_letter, column_number
from core.ingest.limits import ParseLimits

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
# Address space the child needs per cell of a sheet's used range from A1, on top of a base:
# 100k rows x 58 columns needed 0.6 GB (demo ERP export) to 1.1 GB (every cell a distinct
# string), so these bound the worst case; with the 3 GB default that is about 18M cells
# (some 300k rows of 58 columns).
BYTES_PER_CELL = 160
BASE_MEMORY_MB = 300
RATIO_CHECK_MIN_BYTES = 1 << 20
PROLOG_BYTES = 64 * 1024
SMALL_PART_BYTES = 16 << 20
SCAN_CHUNK = 1 << 20
_MB = 1 << 20
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([^"]*)"')
_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')
_CELL_COLUMN = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]{1,3})\d+"')
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,4})\$?(\d{1,8})$")
_ROOT_OR_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY|<[A-Za-z_]", re.IGNORECASE)
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_NS_DOC_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_WORKSHEET_TYPE = "/worksheet"
# What reading a damaged archive raises, from the directory to a member's deflate stream.
DAMAGED_ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
)
_DAMAGED = DAMAGED_ZIP_ERRORS


@dataclass(frozen=True)
class SheetExtent:
    """A worksheet's name, its XML part and its last used row and column (None if unknown)."""

    name: str
    part: str | None
    last_row: int | None
    last_column: int | None
    ref: str | None = None


def check_archive(path: Path, *, name: str, limits: ParseLimits) -> None:
    """Refuse zip bombs, oversized archives and XML with a DTD (entity expansion, XXE)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > limits.max_zip_entries:
                raise FileRejected(
                    f"{name} holds {len(entries):,} parts, more than the "
                    f"{limits.max_zip_entries:,} a workbook may have."
                )
            total = sum(e.file_size for e in entries)
            if total > limits.max_unzipped_mb * _MB:
                raise FileRejected(
                    f"{name} expands to {total / _MB:,.0f} MB, more than the "
                    f"{limits.max_unzipped_mb:,} MB allowed."
                )
            for entry in entries:
                _check_entry(archive, entry, name=name, limits=limits)
    except _DAMAGED as exc:
        raise FileRejected(
            f"{name} is damaged or incomplete (a part of it cannot be unpacked): "
            "save it again from Excel and upload the new copy."
        ) from exc


def _check_entry(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, *, name: str, limits: ParseLimits
) -> None:
    if entry.flag_bits & 0x1:
        raise FileRejected(f"{name} contains encrypted parts: remove the password and save again.")
    if entry.file_size > RATIO_CHECK_MIN_BYTES:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise FileRejected(
                f"{name} looks like a zip bomb: its part {entry.filename} expands "
                f"{ratio:,.0f} times (limit {limits.max_compression_ratio:,.0f})."
            )
    if entry.filename.lower().endswith(_XML_SUFFIXES) and _declares_dtd(archive, entry):
        raise FileRejected(
            f"{name} contains an XML document type declaration ({entry.filename}), which Excel "
            "never writes and which can hide entity attacks: the file is refused."
        )


def _declares_dtd(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bool:
    """True when the part's prolog declares a DTD (or no root element starts in the prolog)."""
    with archive.open(entry) as fh:
        head = fh.read(PROLOG_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    first = _ROOT_OR_DOCTYPE.search(head)
    if first is None:
        return len(head) >= PROLOG_BYTES  # a prolog padded past our window is refused too
    return first.group().startswith(b"<!")


def sheet_extents(path: Path, *, name: str) -> list[SheetExtent]:
    """Every sheet of an xlsx/xlsm in workbook order, with its used range.

    The range comes from the sheet's `<dimension>` element; when that is missing or only
    "A1", the sheet's row and cell references are scanned instead.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            targets = _relationship_targets(archive)
            workbook = _parse_small(archive, "xl/workbook.xml")
            extents = []
            for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
                sheet_name = sheet.get("name", "")
                part = targets.get(sheet.get(f"{_NS_DOC_RELS}id", ""))
                if part is None or part not in archive.NameToInfo:
                    extents.append(SheetExtent(sheet_name, None, None, None))
                    continue
                extents.append(_extent(archive, sheet_name, part))
            return extents
    except DefusedXmlException as exc:  # a ValueError: before the damaged-file errors
        raise FileRejected(f"{name} contains forbidden XML constructs: it is refused.") from exc
    except (*_DAMAGED, ElementTree.ParseError, KeyError) as exc:
        raise FileRejected(
            f"{name} is damaged: its list of sheets cannot be read. Save it again from Excel."
        ) from exc


def _relationship_targets(archive: zipfile.ZipFile) -> dict[str, str]:
    rels = _parse_small(archive, "xl/_rels/workbook.xml.rels")
    targets = {}
    for rel in rels.iter(f"{_NS_RELS}Relationship"):
        if not rel.get("Type", "").endswith(_WORKSHEET_TYPE):
            continue
        target = rel.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        targets[rel.get("Id", "")] = posixpath.normpath(part)
    return targets


def _parse_small(archive: zipfile.ZipFile, member: str):  # type: ignore[no-untyped-def]
    with archive.open(member) as fh:
        data = fh.read(SMALL_PART_BYTES + 1)
    if len(data) > SMALL_PART_BYTES:
        raise FileRejected(f"the workbook part {member} is implausibly large: the file is refused.")
    return ElementTree.fromstring(data, forbid_dtd=True)


def _extent(archive: zipfile.ZipFile, sheet_name: str, part: str) -> SheetExtent:
    with archive.open(part) as fh:
        head = fh.read(PROLOG_BYTES)
    found = _DIMENSION.search(head)
    ref = found.group(1).decode("ascii", "replace") if found else None
    if ref and ref.upper() not in {"A1", "A1:A1"}:
        last = ref.split(":")[-1]
        cell = _CELL_REF.match(last)
        if cell:
            return SheetExtent(
                sheet_name, part, int(cell.group(2)), column_number(cell.group(1)), ref
            )
    last_row, last_column = _scan_extent(archive, part)
    return SheetExtent(sheet_name, part, last_row, last_column or None, ref)


def _scan_extent(archive: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """The last row and column numbers found in a sheet's cell references."""
    last_row, columns = 0, set()
    tail = b""
    with archive.open(part) as fh:
        while chunk := fh.read(SCAN_CHUNK):
            data = tail + chunk
            rows = _ROW_NUMBER.findall(data)
            if rows:
                last_row = max(last_row, *map(int, rows))
            columns.update(_CELL_COLUMN.findall(data))
            tail = data[-256:]
    last_column = max((column_number(c.decode()) for c in columns), default=0)
    return last_row, last_column


def extent_problem(extent: SheetExtent, *, limits: ParseLimits) -> str | None:
    """Why this sheet must not be parsed, in one line, or None when it may be."""
    rows, columns = extent.last_row, extent.last_column
    where = f"Sheet '{extent.name}'"
    if rows is None:
        return None
    if rows > EXCEL_MAX_ROWS or (columns or 0) > EXCEL_MAX_COLUMNS:
        return (
            f"{where} claims a size beyond Excel's limits ({extent.ref or rows}): "
            "the file is damaged or crafted."
        )
    if rows - 1 > limits.max_rows:
        return (
            f"{where} has {rows - 1:,} rows, more than the {limits.max_rows:,} allowed "
            "(setting PIPEWORKS_MAX_ROWS)."
        )
    if columns is None:
        return None
    needed_mb = BASE_MEMORY_MB + rows * columns * BYTES_PER_CELL / _MB
    if needed_mb > limits.memory_mb:
        return (
            f"{where} spans A1:{column_letter(columns - 1)}{rows} ({rows * columns:,} cells): "
            f"reading it would need about {needed_mb / 1024:,.1f} GB of memory, more than the "
            f"{limits.memory_mb:,} MB allowed (setting PIPEWORKS_PARSE_MEMORY_MB). If your data "
            "is smaller, a stray cell far from it stretches the sheet: delete the rows and "
            "columns after your data (Ctrl+End shows the last cell) and save again."
        )
    return None
