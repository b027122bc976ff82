"""One column's cells in the compact forms that travel out of the parsing child, part by part.

A sheet may be read in parts (row ranges, see `split`). Each part's columns are encoded on
their own (`encode`), then a column's parts are joined (`join`) into exactly the form the
whole column would have had. The forms pickle far faster than lists of objects:

    text     one string, the cells joined with NUL (which neither XML nor the csv module lets
             into a cell), '' for an empty cell
    number   float64 array, NaN for an empty cell
    days     int32 day ordinals, 0 for an empty cell
    moment   datetime64[us] array, NaT for an empty cell
    mixed    list of the cells' values, None for an empty cell

A column is text when it holds text only, mixed as soon as some text sits among other values,
else number, days or moment after the other values' types, else mixed. No pandas here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NUMBER, TEXT, DAYS, MOMENT, MIXED = "number", "text", "days", "moment", "mixed"
TEXT_SEPARATOR = "\x00"
_UNIX_EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()
_NUMBER_TYPES = frozenset({float, int})
_DATE_TYPES = frozenset({dt.date, dt.datetime})


@dataclass(frozen=True)
class Part:
    """A column's cells over a range of rows that are not all empty.

    `others` holds the types of the cells that are not text; `text` says whether some cell
    holds text other than ''. A moment part holding dates too marks them in `dates`, so that
    its cells come back as they were when the column turns out mixed (text in another part).
    """

    kind: str
    payload: object
    size: int
    others: frozenset[type]
    text: bool
    dates: np.ndarray | None = None


# One part of a column: how many rows it spans and its cells (None when all are empty).
Span = tuple[int, Part | None]


def encode(values: Sequence[object]) -> Part | None:
    """The cells of one column over some rows ('' marks an empty cell); None if all empty."""
    values = list(values)
    empty = values.count("")
    if empty == len(values):
        return None
    try:
        joined = TEXT_SEPARATOR.join(values)  # type: ignore[arg-type]
    except TypeError:
        pass
    else:
        return Part(TEXT, joined, len(values), frozenset(), True)
    kinds = list(map(type, values))
    others = frozenset(kinds) - {str}
    text = kinds.count(str) != empty
    kind = _kind(others, text)
    dates = None
    if kind == MOMENT and dt.date in others:
        dates = np.fromiter((k is dt.date for k in kinds), dtype=bool, count=len(kinds))
    return Part(kind, _payload(kind, values, empty), len(values), others, text, dates)


def join(spans: Sequence[Span]) -> tuple[str, object]:
    """The kind and payload of a whole column from its parts, in row order."""
    spans = [(size, part) for size, part in spans if size]
    if not spans:
        return TEXT, ""
    parts = [part for _, part in spans if part is not None]
    if not parts:
        return TEXT, TEXT_SEPARATOR * (sum(size for size, _ in spans) - 1)
    if len(spans) == 1:
        return parts[0].kind, parts[0].payload
    others = frozenset().union(*(p.others for p in parts))
    kind = _kind(others, any(p.text for p in parts))
    joinable = {kind, DAYS} if kind == MOMENT else {kind}
    if kind != MIXED and all(p.kind in joinable for p in parts):
        return kind, _concatenated(kind, spans)
    # Rare: parts of different kinds (text in one, numbers in another). Redo it cell by cell.
    values: list[object] = []
    for size, part in spans:
        values.extend(_cells(size, part))
    whole = encode(values)
    assert whole is not None  # some part holds a value
    return whole.kind, whole.payload


def _kind(others: frozenset[type], text: bool) -> str:
    if not others:
        return TEXT
    if text:
        return MIXED
    if others <= _NUMBER_TYPES:
        return NUMBER
    if others == {dt.date}:
        return DAYS
    if others <= _DATE_TYPES:
        return MOMENT
    return MIXED


def _payload(kind: str, values: list[object], empty: int) -> object:
    if kind == NUMBER:
        if not empty:
            return np.array(values, dtype=np.float64)
        return np.array([np.nan if v == "" else v for v in values], dtype=np.float64)
    if kind == DAYS:
        return np.array([0 if v == "" else v.toordinal() for v in values], dtype=np.int32)  # type: ignore[attr-defined]
    if kind == MOMENT:
        return np.array([None if v == "" else v for v in values], dtype="datetime64[us]")
    return [None if v == "" else v for v in values]


def _concatenated(kind: str, spans: list[Span]) -> object:
    if kind == TEXT:
        return TEXT_SEPARATOR.join(
            TEXT_SEPARATOR * (size - 1) if part is None else part.payload  # type: ignore[misc]
            for size, part in spans
        )
    arrays = []
    for size, part in spans:
        if part is None:
            arrays.append(_empty_array(kind, size))
        elif kind == MOMENT and part.kind == DAYS:
            arrays.append(days_as_moments(part.payload))  # type: ignore[arg-type]
        else:
            arrays.append(part.payload)
    return np.concatenate(arrays)


def _empty_array(kind: str, size: int) -> np.ndarray:
    if kind == NUMBER:
        return np.full(size, np.nan)
    if kind == DAYS:
        return np.zeros(size, dtype=np.int32)
    return np.full(size, np.datetime64("NaT"), dtype="datetime64[us]")


def days_as_moments(ordinals: Sequence[int] | np.ndarray) -> np.ndarray:
    """Day ordinals (0 for none) as datetime64[us] at midnight (NaT for none)."""
    ordinals = np.asarray(ordinals, dtype=np.int64)
    moments = (ordinals - _UNIX_EPOCH_ORDINAL).astype("datetime64[D]").astype("datetime64[us]")
    moments[ordinals == 0] = np.datetime64("NaT")
    return moments


def _cells(size: int, part: Part | None) -> list[object]:
    """The cells of a part back as values, '' for empty."""
    if part is None:
        return [""] * size
    if part.kind == TEXT:
        return part.payload.split(TEXT_SEPARATOR)  # type: ignore[attr-defined]
    if part.kind == MIXED:
        return ["" if v is None else v for v in part.payload]  # type: ignore[attr-defined]
    if part.kind == DAYS:
        return ["" if o == 0 else dt.date.fromordinal(o) for o in part.payload.tolist()]  # type: ignore[attr-defined]
    values = part.payload.tolist()  # type: ignore[attr-defined]
    if part.dates is not None:  # datetimes at midnight that were dates
        return [
            "" if v is None else v.date() if is_date else v
            for v, is_date in zip(values, part.dates.tolist(), strict=True)
        ]
    return ["" if v is None or v != v else v for v in values]
