"""The real type of a file, read from its first bytes rather than trusted from its name."""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from core.errors import FileRejected
from core.ingest.tables import Format

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
SNIFF_BYTES = 64 * 1024
MACRO_CONTENT_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
VBA_PROJECT = "xl/vbaProject.bin"
_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x09\x08\x10\x00", "an old Excel 2.x-4.0 sheet"),
)
_TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_EXPECTED_EXTENSIONS: dict[Format, tuple[str, ...]] = {
    "xlsx": (".xlsx",),
    "xlsm": (".xlsm",),
    "xls": (".xls",),
    "csv": (".csv", ".txt", ".tsv"),
}

_DESCRIPTIONS: dict[Format, str] = {
    "xlsx": "an Excel workbook (xlsx)",
    "xlsm": "a macro-enabled Excel workbook (xlsm)",
    "xls": "an Excel 97-2003 workbook (xls)",
    "csv": "CSV text",
}


@dataclass(frozen=True)
class Sniffed:
    format: Format
    notes: tuple[str, ...] = ()


def sniff(path: Path, *, file_name: str | None = None) -> Sniffed:
    """The format of the file at `path`; raises `FileRejected` for anything unreadable.

    A CSV saved under an Excel name (or the reverse) is read for what it is, with a note.
    """
    name = file_name or path.name
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head:
        raise FileRejected(f"{name} is empty (0 bytes).")
    if head.startswith(ZIP_SIGNATURES):
        found = _zip_format(path, name)
    elif head.startswith(OLE_SIGNATURE):
        found = _ole_format(path, name)
    else:
        found = _text_format(head, name)
    notes: tuple[str, ...] = ()
    extension = Path(name).suffix.lower()
    if extension and extension not in _EXPECTED_EXTENSIONS[found]:
        notes = (f"{name} is named {extension} but holds {_DESCRIPTIONS[found]}: read as such.",)
    if found == "xlsm":
        notes = (*notes, "Macros in this workbook are ignored: only cell values are read.")
    return Sniffed(found, notes)


def _zip_format(path: Path, name: str) -> Format:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                types = _small_member(archive, "[Content_Types].xml")
                macros = MACRO_CONTENT_TYPE.encode() in types or VBA_PROJECT in names
                return "xlsm" if macros else "xlsx"
            if "xl/workbook.bin" in names:
                raise FileRejected(
                    f"{name} is an Excel binary workbook (xlsb), which is not supported: "
                    "open it in Excel and save it as .xlsx."
                )
            if "mimetype" in names and b"opendocument" in _small_member(archive, "mimetype"):
                raise FileRejected(
                    f"{name} is an OpenDocument file, which is not supported: "
                    "open it and save it as .xlsx."
                )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError) as exc:
        raise FileRejected(
            f"{name} is damaged or incomplete (its ZIP structure cannot be read): "
            "save it again from Excel and upload the new copy."
        ) from exc
    raise FileRejected(f"{name} is a ZIP archive but not an Excel workbook.")


def _small_member(archive: zipfile.ZipFile, member: str, limit: int = 1 << 20) -> bytes:
    try:
        with archive.open(member) as fh:
            return fh.read(limit)
    except KeyError:
        return b""


def _ole_format(path: Path, name: str) -> Format:
    # Stream names sit in the compound file's directory as UTF-16LE text.
    data = path.read_bytes()
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise FileRejected(
            f"{name} is password-protected (encrypted): remove the password in Excel "
            "(File > Info > Protect Workbook) and upload it again."
        )
    if any(s.encode("utf-16-le") in data for s in ("Workbook", "Book")):
        return "xls"
    raise FileRejected(f"{name} is an Office document but not an Excel workbook.")


def _text_format(head: bytes, name: str) -> Format:
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise FileRejected(f"{name} is {what}, not a spreadsheet.")
    if not head.startswith(_TEXT_BOMS) and b"\x00" in head:
        raise FileRejected(f"{name} is not a spreadsheet (binary content of an unknown kind).")
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html", b"<table")):
        raise FileRejected(
            f"{name} is a web page (HTML) saved under a spreadsheet name: "
            "open it in Excel and save it as .xlsx."
        )
    if start.startswith(b"<?xml"):
        raise FileRejected(
            f"{name} is an XML file (perhaps an Excel 2003 XML spreadsheet): "
            "open it in Excel and save it as .xlsx."
        )
    return "csv"
