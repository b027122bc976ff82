"""Cutting a large worksheet into workbooks of a few thousand rows each, for parallel reading.

python-calamine loads a whole sheet at once, on one core. Streaming the sheet's XML out of the
archive and cutting it between rows gives small workbooks (the original's workbook, styles and
shared strings, and one slice of the rows) that separate processes read side by side, each
with a fraction of the memory. Rows keep their numbers because every slice starts with a row
that states its number (`<row r="...">`); when one does not, or the XML has an unexpected
shape, `Unsplittable` is raised and the sheet is read whole. Runs in the parsing child.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

READ_BLOCK = 4 << 20
PROLOG_LIMIT = 16 << 20
ROW_PREFIX_BYTES = 512
KEPT_SHARE = 8  # a slice's rows: at least this many times the size of the shared strings
# Parts a slice never needs: the other sheets and what only draws or pivots.
_LEFT_OUT = (
    "xl/worksheets/",
    "xl/chartsheets/",
    "xl/media/",
    "xl/drawings/",
    "xl/charts/",
    "xl/embeddings/",
    "xl/pivotCache/",
    "xl/pivotTables/",
)
_SHEET_DATA = re.compile(rb"<((?:\w+:)?)sheetData\b[^>]*?(/?)>")
_ROOT = re.compile(rb"<((?:\w+:)?)worksheet\b")
_NUMBERED_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="\d+"')
_ROW_TAG_END = b" \t\r\n>/"
# Markup whose content may look like a row tag (Excel writes none of it among the rows).
_HIDING = (b"<!", b"<?")
# Second bytes of a marker found in vain before searching for the marker itself.
_FEW_MARKS = 64


class Unsplittable(Exception):
    """The sheet's XML cannot be cut safely: read it whole."""


class SheetSlices:
    """The slices of one sheet, as workbook files written into `folder` while iterating.

    After the iteration, `tail` is a workbook with the sheet's XML around no rows at all
    (what follows the rows, such as merged cells, included).
    """

    def __init__(self, path: Path, *, part: str, folder: Path, slice_bytes: int) -> None:
        self.path = Path(path)
        self.part = part
        self.folder = Path(folder)
        self.slice_bytes = slice_bytes
        self.tail: Path | None = None
        self._count = 0

    def __iter__(self) -> Iterator[Path]:
        with zipfile.ZipFile(self.path) as archive:
            kept = [
                (info.filename, archive.read(info))
                for info in archive.infolist()
                if info.filename != self.part and not info.filename.startswith(_LEFT_OUT)
            ]
            # Every slice's reader parses the shared strings again: slices stay large enough
            # for that to be a small share of their work.
            shared_bytes = sum(len(data) for name, data in kept if _shared_strings(name))
            self.slice_bytes = max(self.slice_bytes, KEPT_SHARE * shared_bytes)
            with archive.open(self.part) as stream:
                yield from self._slices(stream, kept)

    def _slices(self, stream, kept: list[tuple[str, bytes]]) -> Iterator[Path]:  # type: ignore[no-untyped-def]
        buffer = bytearray()
        # 1. the prolog, up to the opening of <sheetData>
        while (found := _SHEET_DATA.search(buffer)) is None:
            block = stream.read(READ_BLOCK)
            if not block or len(buffer) > PROLOG_LIMIT:
                raise Unsplittable("no <sheetData> near the start of the sheet")
            buffer += block
        if found.group(2):
            raise Unsplittable("the sheet has no rows")
        root = _ROOT.search(buffer, 0, found.start())
        if root is None:
            raise Unsplittable("no <worksheet> element")
        prefix = bytes(buffer[: found.end()])
        namespace = found.group(1)
        closing = b"</" + namespace + b"sheetData>"
        ending = closing + b"</" + root.group(1) + b"worksheet>"
        row_open = b"<" + namespace + b"row"
        del buffer[: found.end()]
        # 2. the rows, cut before the first row that starts past `slice_bytes`
        searched = 0  # where the closing tag and markup hiding text are looked for next
        while True:
            if _hiding_markup(buffer, max(0, searched - 1)):
                raise Unsplittable("comments, CDATA or processing instructions among the rows")
            end = buffer.find(closing, searched)
            searched = max(0, len(buffer) - len(closing))
            limit = end if end >= 0 else len(buffer)
            while (cut := _row_start(buffer, row_open, self.slice_bytes, limit)) > 0:
                yield self._write(kept, prefix, buffer, cut, ending)
                del buffer[:cut]
                limit, searched = limit - cut, max(0, searched - cut)
                end = end - cut if end >= 0 else end
                if not _NUMBERED_ROW.match(buffer, 0, ROW_PREFIX_BYTES):
                    raise Unsplittable("a row without its number")
            if end >= 0:
                break
            block = stream.read(READ_BLOCK)
            if not block:
                raise Unsplittable("the rows never end")
            buffer += block
        yield self._write(kept, prefix, buffer, end, ending)
        # 3. what follows the rows, for the merged cells
        suffix = bytes(buffer[end:]) + stream.read()
        self.tail = self._write(kept, prefix, b"", 0, suffix, name="tail")

    def _write(
        self,
        kept: list[tuple[str, bytes]],
        prefix: bytes,
        rows: bytes | bytearray,
        size: int,
        ending: bytes,
        *,
        name: str | None = None,
    ) -> Path:
        path = self.folder / f"{name or f'slice{self._count}'}.xlsx"
        self._count += 1
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as out:
            for member, data in kept:
                out.writestr(member, data)
            with out.open(self.part, "w") as sheet, memoryview(rows) as view:
                sheet.write(prefix)
                with view[:size] as first_rows:
                    sheet.write(first_rows)
                sheet.write(ending)
        return path


def _shared_strings(name: str) -> bool:
    return name.rsplit("/", 1)[-1].lower().startswith("sharedstrings")


def _hiding_markup(buffer: bytearray, start: int) -> bool:
    """Whether a comment, CDATA section or processing instruction opens at or after `start`."""
    return any(_opens(buffer, marker, start) for marker in _HIDING)


def _opens(buffer: bytearray, marker: bytes, start: int) -> bool:
    """Whether the two bytes of `marker` occur at or after `start`.

    Looks for the rare second byte ('!', '?'), several times faster than looking for both
    bytes together, and checks the byte before each one found; after a few found in vain,
    one search for both bytes is cheaper.
    """
    at = buffer.find(marker[1:], start + 1)
    for _ in range(_FEW_MARKS):
        if at < 0:
            return False
        if buffer[at - 1] == marker[0]:
            return True
        at = buffer.find(marker[1:], at + 1)
    return at >= 0 and buffer.find(marker, at - 1) >= 0


def _row_start(buffer: bytearray, row_open: bytes, start: int, limit: int) -> int:
    """Where the first row tag at or after `start` and before `limit` begins (0 if none)."""
    at = start
    while (at := buffer.find(row_open, at, limit)) >= 0:
        following = buffer[at + len(row_open) : at + len(row_open) + 1]
        if following and following in _ROW_TAG_END:
            return at
        at += len(row_open)
    return 0
