"""Small files built on the spot for the ingest tests: odd, hostile and ordinary ones."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import openpyxl

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_OPEN = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
BILLION_LAUGHS_DTD = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
)
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def xlsx(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    sheet: str = "Data",
    merged: Iterable[str] = (),
    more_sheets: Mapping[str, Sequence[Sequence[object]]] | None = None,
    start: str = "A1",
) -> Path:
    """An xlsx written by openpyxl, `rows` placed from `start` (None leaves a cell empty)."""
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = sheet
    _fill(first, rows, start)
    for ref in merged:
        first.merge_cells(ref)
    for name, more in (more_sheets or {}).items():
        _fill(workbook.create_sheet(name), more, "A1")
    workbook.save(path)
    return path


def _fill(worksheet, rows: Sequence[Sequence[object]], start: str) -> None:  # type: ignore[no-untyped-def]
    origin = worksheet[start]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                worksheet.cell(row=origin.row + r, column=origin.column + c, value=value)


def handmade_xlsx(path: Path, sheet_xml: str, *, parts: Mapping[str, str] | None = None) -> Path:
    """A minimal workbook around one sheet's XML (and any part replaced or added)."""
    members = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/worksheets/sheet1.xml": sheet_xml,
        **(parts or {}),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def sheet_xml(cells: Mapping[str, str], *, dimension: str | None) -> str:
    """Sheet XML with inline-string cells, e.g. {"A1": "x", "XFD1048576": "y"}."""
    by_row: dict[int, list[str]] = {}
    for ref, text in cells.items():
        row = int("".join(ch for ch in ref if ch.isdigit()))
        by_row.setdefault(row, []).append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
    rows = "".join(f'<row r="{r}">{"".join(c)}</row>' for r, c in sorted(by_row.items()))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f"{SHEET_OPEN}{dim}<sheetData>{rows}</sheetData></worksheet>"


def fake_ole(path: Path, stream_names: Iterable[str]) -> Path:
    """A compound-file lookalike: the OLE signature and directory names in UTF-16LE."""
    body = b"".join(name.encode("utf-16-le") + b"\x00" * 16 for name in stream_names)
    path.write_bytes(OLE_SIGNATURE + b"\x00" * 504 + body + b"\x00" * 1024)
    return path


def xls(path: Path, rows: Sequence[Sequence[object]], *, sheet: str = "Data") -> Path:
    """A minimal Excel 97-2003 workbook (BIFF8 in a compound file): text and number cells."""
    globals_end = _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0x41, 6))
    name = sheet.encode("latin-1")
    boundsheet_size = 4 + 8 + len(name)
    offset = len(globals_end) + boundsheet_size + 4  # BOF, BOUNDSHEET, EOF
    stream = (
        globals_end
        + _biff(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name), 0) + name)
        + _biff(0x000A, b"")
    )
    width = max((len(r) for r in rows), default=0)
    cells = b""
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str):
                text = value.encode("latin-1")
                cells += _biff(0x0204, struct.pack("<HHHHB", r, c, 0, len(text), 0) + text)
            elif value is not None:
                cells += _biff(0x0203, struct.pack("<HHHd", r, c, 0, float(value)))
    stream += (
        _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0x41, 6))
        + _biff(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        + cells
        + _biff(0x000A, b"")
    )
    path.write_bytes(_compound_file({"Workbook": stream}))
    return path


def _biff(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


_SECTOR = 512
_FREE, _END, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_MINI_CUTOFF = 4096


def _compound_file(streams: Mapping[str, bytes]) -> bytes:
    """A version 3 compound file: one FAT sector, one directory sector, then the streams."""
    [(stream_name, data)] = streams.items()
    data = data.ljust(max(len(data), _MINI_CUTOFF), b"\x00")  # past the mini-stream cutoff
    padded = data.ljust(-(-len(data) // _SECTOR) * _SECTOR, b"\x00")
    count = len(padded) // _SECTOR
    fat = [_FAT_SECTOR, _END] + [3 + i for i in range(count - 1)] + [_END]
    fat += [_FREE] * (_SECTOR // 4 - len(fat))
    difat = [0] + [_FREE] * 108
    header = (
        OLE_SIGNATURE
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIII", 0, 1, 1, 0, _MINI_CUTOFF, _END, 0, _END)
        + struct.pack("<I", 0)
        + struct.pack("<109I", *difat)
    )
    directory = _entry("Root Entry", 5, child=1, start=_END, size=0)
    directory += _entry(stream_name, 2, child=_NO_STREAM, start=2, size=len(data))
    directory = directory.ljust(_SECTOR, b"\x00")
    return header + struct.pack(f"<{_SECTOR // 4}I", *fat) + directory + padded


def _entry(name: str, kind: int, *, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le")
    return (
        encoded.ljust(64, b"\x00")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", _NO_STREAM, _NO_STREAM, child)
        + b"\x00" * 16
        + struct.pack("<I", 0)
        + b"\x00" * 16
        + struct.pack("<IQ", start, size)
    )
