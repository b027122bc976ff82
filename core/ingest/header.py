"""Finding the header row and naming columns, on raw rows (lists of cell values).

The header is the first row, among the first `HEADER_SCAN_ROWS`, whose cells are mostly
labels, cover at least half the columns used by the rows below it and are about as many as
theirs: report titles, dates and blank rows above it are skipped. A header that continues
on a second row (merged cells over sub-labels) gets its names joined and is reported; empty
and repeated names are reported by column letter. Nothing here imports pandas: it runs in
the parsing child.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from core.domain.schemas import normalize_header
from core.ingest.tables import HeaderProblem

HEADER_SCAN_ROWS = 30
LOOKAHEAD_ROWS = 20
HEADER_LABEL_SHARE = 0.6
HEADER_MIN_COVERAGE = 0.5
HEADER_MIN_FULLNESS = 0.75
# (first row, first column), (last row, last column), all 0-based, as python-calamine gives.
MergedRange = tuple[tuple[int, int], tuple[int, int]]
_NUMBER_LIKE = re.compile(r"^[\s(+-]*[\d\s.,'\u00a0\u202f]*\d[\d\s.,'\u00a0\u202f]*[)%-]?\s*$")
_DATE_LIKE = re.compile(r"^\s*\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}([ T].*)?$")


@dataclass(frozen=True)
class HeaderLayout:
    """Where the header is and what each column is called ('' when it has no name)."""

    header_index: int
    data_start: int
    names: list[str]
    problems: list[HeaderProblem]
    notes: list[str]
    merged_away: frozenset[int] = frozenset()


def column_letter(index: int) -> str:
    """Excel's letters for a 0-based column index (0 -> 'A', 27 -> 'AB')."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    """The 1-based column number of Excel letters ('A' -> 1, 'XFD' -> 16384)."""
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: object) -> str:
    """A header cell as text: whitespace folded, integral numbers without '.0'."""
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())


def is_label(value: object) -> bool:
    """Text that is not a number or a date written as text."""
    if not isinstance(value, str) or not value.strip():
        return False
    return not (_NUMBER_LIKE.match(value) or _DATE_LIKE.match(value))


def find_header_row(rows: Sequence[Sequence[object]]) -> int | None:
    """Index of the header among `rows` (the sheet's first rows), None if all are blank.

    The header is the first row whose cells are mostly labels, that covers at least half of
    the columns used below it and is about as full as the rows below (a title in A1 is not).
    Failing that, the first non-blank row.
    """
    filled = [{c for c, v in enumerate(row) if not is_blank(v)} for row in rows]
    first_filled = next((i for i, cols in enumerate(filled) if cols), None)
    for i, cols in enumerate(filled):
        if not cols:
            continue
        labels = sum(1 for c in cols if is_label(rows[i][c]))
        if labels / len(cols) < HEADER_LABEL_SHARE:
            continue
        window = [f for f in filled[i + 1 : i + 1 + LOOKAHEAD_ROWS] if f]
        if not window:
            return i
        below = set().union(*window)
        typical = statistics.median(len(f) for f in window)
        covers = len(cols & below) / len(below) >= HEADER_MIN_COVERAGE
        if covers and len(cols) >= HEADER_MIN_FULLNESS * typical:
            return i
    return first_filled


def layout(
    rows: Sequence[Sequence[object]],
    *,
    width: int,
    merged: Sequence[MergedRange] = (),
    header_index: int | None = None,
) -> HeaderLayout | None:
    """The header layout of a sheet's first rows; None when they are all blank.

    `header_index` forces the header row (0-based) instead of detecting it.
    """
    problems: list[HeaderProblem] = []
    detected = find_header_row(rows) if header_index is None else header_index
    if detected is None:
        return None
    h = detected
    top = _padded([cell_text(v) for v in rows[h]], width)
    if header_index is None and not any(is_label(v) for v in rows[h]):
        problems.append(
            HeaderProblem(
                "no_header",
                (),
                f"No header row was found: row {h + 1} is used as the header. Put the column "
                "names in one row above the data.",
            )
        )
    spans = _horizontal_merges(merged, h, width)
    names, data_start = top, h + 1
    merged_away: set[int] = set()
    second = rows[h + 1] if h + 1 < len(rows) else None
    if second is not None and _is_second_header(top, second, rows[h + 2 :], spans, merged, h):
        names, joined = _joined_names(top, _padded([cell_text(v) for v in second], width), spans)
        data_start = h + 2
        problems.append(
            HeaderProblem(
                "two_rows",
                tuple(column_letter(c) for c in joined),
                f"The header takes two rows ({h + 1} and {h + 2}): "
                + ", ".join(f"column {column_letter(c)} is named '{names[c]}'" for c in joined)
                + " by joining them. Keep a single header row with one name per column to be "
                "sure of the mapping.",
            )
        )
    else:
        for first, last in spans:
            merged_away.update(range(first + 1, last + 1))
            hidden = [column_letter(c) for c in range(first + 1, last + 1)]
            problems.append(
                HeaderProblem(
                    "merged",
                    tuple(hidden),
                    f"Header cells {column_letter(first)}{h + 1}:{column_letter(last)}{h + 1} are "
                    f"merged ('{top[first]}'): column{'s' if len(hidden) > 1 else ''} "
                    f"{', '.join(hidden)} {'have' if len(hidden) > 1 else 'has'} no name of "
                    "its own and its values are ignored. Unmerge the cells and give each column "
                    "its own name.",
                )
            )
    notes = []
    titles = [cell_text(v) for row in rows[:h] for v in row if not is_blank(v)]
    if titles:
        notes.append(
            f"Row{'s' if h > 1 else ''} {'1' if h == 1 else f'1-{h}'} above the header "
            f"{'were' if h > 1 else 'was'} skipped ({'; '.join(titles)[:120]})."
        )
    return HeaderLayout(h, data_start, names, problems, notes, frozenset(merged_away))


def name_problems(
    names: Sequence[str], *, has_data: Sequence[bool], header_row: int, ignore: AbstractSet[int]
) -> tuple[list[str], list[HeaderProblem]]:
    """Unique names (repeats get their column letter) and problems for empty or repeated ones.

    Columns without a name but with values are reported (unless in `ignore`, already
    reported as merged); columns without a name or values are dropped silently.
    """
    problems: list[HeaderProblem] = []
    unnamed = [c for c, n in enumerate(names) if not n and has_data[c] and c not in ignore]
    if unnamed:
        letters = [column_letter(c) for c in unnamed]
        several = len(letters) > 1
        problems.append(
            HeaderProblem(
                "empty",
                tuple(letters),
                f"Column{'s' if several else ''} {', '.join(letters)} "
                f"{'have' if several else 'has'} no header in row {header_row} and "
                f"{'their' if several else 'its'} values are ignored: give "
                f"{'them names' if several else 'it a name'} if the values matter.",
            )
        )
    unique = list(names)
    seen: dict[str, int] = {}
    for c, name in enumerate(names):
        if not name:
            continue
        key = normalize_header(name)
        if key in seen:
            unique[c] = f"{name} ({column_letter(c)})"
            problems.append(
                HeaderProblem(
                    "duplicate",
                    (column_letter(seen[key]), column_letter(c)),
                    f"Columns {column_letter(seen[key])} and {column_letter(c)} are both named "
                    f"'{name}': the second one is called '{unique[c]}'. Rename one of them.",
                )
            )
        else:
            seen[key] = c
    return unique, problems


def _padded(values: list[str], width: int) -> list[str]:
    return (values + [""] * width)[:width]


def _horizontal_merges(merged: Sequence[MergedRange], h: int, width: int) -> list[tuple[int, int]]:
    spans = []
    for (r1, c1), (r2, c2) in merged:
        if r1 <= h <= r2 and c2 > c1 and c1 < width:
            spans.append((c1, min(c2, width - 1)))
    return sorted(spans)


def _is_second_header(
    top: list[str],
    second: Sequence[object],
    below: Sequence[Sequence[object]],
    spans: list[tuple[int, int]],
    merged: Sequence[MergedRange],
    h: int,
) -> bool:
    cols = [c for c, v in enumerate(second) if not is_blank(v) and c < len(top)]
    if not cols or not all(is_label(second[c]) for c in cols):
        return False
    if spans or any(r1 == h and r2 > h for (r1, _), (r2, _) in merged):
        return True
    # Without merge information (CSV), sub-labels under empty header cells, above values.
    if all(top[c] for c in cols):
        return False
    sample = below[:LOOKAHEAD_ROWS]
    return any(
        c < len(row) and not is_blank(row[c]) and not is_label(row[c])
        for row in sample
        for c in cols
    )


def _joined_names(
    top: list[str], sub: list[str], spans: list[tuple[int, int]]
) -> tuple[list[str], list[int]]:
    owner = {c: first for first, last in spans for c in range(first, last + 1)}
    names, joined = [], []
    carried = ""
    for c, (upper, lower) in enumerate(zip(top, sub, strict=True)):
        carried = upper or carried
        base = top[owner[c]] if c in owner else upper or (carried if lower else "")
        names.append(f"{base} {lower}".strip() if lower else base)
        if lower:
            joined.append(c)
    return names, joined
