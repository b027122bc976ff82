"""CSV text: encoding and separator detection, then rows of strings.

Encodings: a BOM decides (UTF-8, UTF-16); otherwise UTF-8, where any byte that is not valid
UTF-8 is read as cp1252 (files saved by Excel on Windows, or UTF-8 files with a few cp1252
bytes pasted in). Separators: `;`, `,`, tab or `|`, whichever gives the most rows of one
consistent width. Line ends: LF, CRLF or CR alone.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

DELIMITERS = (";", ",", "\t", "|")
SAMPLE_LINES = 50
_FALLBACK_HANDLER = "pipeworks-cp1252"


@dataclass(frozen=True)
class CsvText:
    text: str
    encoding: str
    delimiter: str


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error(_FALLBACK_HANDLER, _cp1252_fallback)


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the name of the encoding it was read with."""
    if data.startswith(codecs.BOM_UTF8):
        body, encoding = data[len(codecs.BOM_UTF8) :], "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    else:
        body, encoding = data, "utf-8"
    try:
        return body.decode("utf-8"), encoding
    except UnicodeDecodeError:
        return body.decode("utf-8", errors=_FALLBACK_HANDLER), "cp1252"


def read_text(data: bytes) -> CsvText:
    text, encoding = decode(data)
    return CsvText(text, encoding, detect_delimiter(text))


def detect_delimiter(text: str) -> str:
    """The separator that splits the first lines into the most rows of one width (> 1)."""
    sample = list(_first_lines(text, SAMPLE_LINES))
    best, best_score = ",", (False, 0, 0)
    for delimiter in DELIMITERS:
        widths = [len(r) for r in csv.reader(sample, delimiter=delimiter) if any(r)]
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        score = (width > 1, count, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_lines(text: str, count: int) -> Iterator[str]:
    for n, line in enumerate(io.StringIO(text, newline=None)):
        if n >= count:
            return
        yield line


def rows(csv_text: CsvText) -> Iterator[list[str]]:
    """The records of the text, ragged as they come (title lines are often shorter)."""
    return csv.reader(io.StringIO(csv_text.text, newline=""), delimiter=csv_text.delimiter)
