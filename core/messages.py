"""The wire format of committed rows: one JSON message per row, keyed by its natural key.

    {"v": 1, "dataset": "...", "upload_id": "...", "seq": 17, "sheet": "...", "row": 19,
     "data": {field: value, ...}}

`data` is sparse: a field whose value is missing is left out (a receiver reads it as null).
Row messages carry no headers: everything, the upload included, is in the value.
`decode` checks a consumed message completely and raises `PoisonMessage` for anything that
can never be stored, so the consume loop can dead-letter it and go on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from core.codec import dumps, encode_row, from_json_value, loads, to_json_value
from core.domain.schemas import (
    CUSTOMERS,
    DATASETS,
    DELIVERIES,
    PRODUCT_ATTRIBUTE_FIELDS,
    STOCK_MOVEMENTS,
    Field,
)
from core.errors import PoisonMessage
from core.ports import Message, Record

VERSION = 1
MAX_CODE_LENGTH = 64
KEY_SEPARATOR = "|"
_SOURCE_COLUMNS = ("row", "sheet")  # where a row came from, beside its fields
_MISSING = object()
_EXACT_INTEGER = 2**53  # up to here int(float(n)) == n
EXTRA_FIELDS: dict[str, tuple[Field, ...]] = {
    STOCK_MOVEMENTS: PRODUCT_ATTRIBUTE_FIELDS,
    CUSTOMERS: (Field("country_name", "text"),),
    DELIVERIES: (),
}


_FIELD_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    name: tuple((f.name, f.kind) for f in (*spec.fields, *EXTRA_FIELDS[name]))
    for name, spec in DATASETS.items()
}
_FIELD_NAMES = {name: tuple(n for n, _ in kinds) for name, kinds in _FIELD_KINDS.items()}
_KINDS = {name: dict(kinds) for name, kinds in _FIELD_KINDS.items()}
_NONE_ROWS = {name: dict.fromkeys(names) for name, names in _FIELD_NAMES.items()}


@dataclass(frozen=True)
class Decoded:
    dataset: str
    upload_id: str
    seq: int
    sheet: str | None
    row_number: int | None
    data: dict[str, Any]


def natural_key(dataset: str, row: Mapping[str, Any]) -> str:
    return KEY_SEPARATOR.join(
        "" if row.get(k) is None else str(row[k]) for k in DATASETS[dataset].key
    )


def encode(
    dataset: str,
    rows: Iterator[Mapping[str, Any]],
    *,
    upload_id: str,
    sheet: str | None,
) -> Iterator[Message]:
    """Messages for rows that carry `row` (Excel row number) beside the dataset's fields."""
    for seq, row in enumerate(rows):
        data = encode_row({k: v for k, v in row.items() if k not in {"row", "sheet"}})
        data = {k: v for k, v in data.items() if v is not None}
        yield Message(
            key=natural_key(dataset, data),
            value={
                "v": VERSION,
                "dataset": dataset,
                "upload_id": upload_id,
                "seq": seq,
                "sheet": row.get("sheet", sheet),
                "row": row.get("row"),
                "data": data,
            },
        )


def encode_frame(
    dataset: str, frame: pd.DataFrame, *, upload_id: str, sheet: str | None
) -> Iterator[Message]:
    """The messages `encode` gives for the frame's rows, their values already JSON (bytes),
    built a column at a time: each distinct value of a column is converted and encoded once,
    and a row's JSON is the join of its cells' pieces."""
    names = [c for c in frame.columns if c not in _SOURCE_COLUMNS]
    count = len(frame)
    key_names = [k for k in DATASETS[dataset].key if k in names]
    keys = _keys(dataset, {k: _json_values(frame[k]) for k in key_names}, count)
    pieces = [_json_pieces(name, frame[name]) for name in names]
    rows = frame["row"].tolist() if "row" in frame.columns else [None] * count
    sheets = frame["sheet"].tolist() if "sheet" in frame.columns else [sheet] * count
    cells = zip(*pieces, strict=True) if pieces else itertools.repeat((), count)
    head = b'{"v":%d,"dataset":%s,"upload_id":%s,"seq":' % (
        VERSION,
        dumps(dataset),
        dumps(upload_id),
    )
    sheet_json = {s: dumps(s) for s in set(sheets)}
    for seq, (row_pieces, row, row_sheet, key) in enumerate(
        zip(cells, rows, sheets, keys, strict=True)
    ):
        data = b",".join(filter(None, row_pieces))
        value = b'%s%d,"sheet":%s,"row":%s,"data":{%s}}' % (
            head,
            seq,
            sheet_json[row_sheet],
            dumps(row),
            data,
        )
        yield Message(key=key, value=value)


def _keys(dataset: str, columns: Mapping[str, list[Any]], count: int) -> list[str]:
    """`natural_key` of every row, from the key's columns."""
    parts = [columns.get(k) or [None] * count for k in DATASETS[dataset].key]
    return [
        KEY_SEPARATOR.join("" if v is None else str(v) for v in values)
        for values in zip(*parts, strict=True)
    ]


def _json_values(column: pd.Series) -> list[Any]:
    """`to_json_value` of every cell of a column, computed once per distinct value."""
    if column.dtype.kind == "f":  # factorize would merge -0.0 with 0.0
        numbers = column.to_numpy(dtype="float64", na_value=np.nan)
        cells = numbers.astype(object)
        cells[np.isnan(numbers)] = None
        return cells.tolist()
    return _per_distinct(column, to_json_value)


def _json_pieces(name: str, column: pd.Series) -> list[bytes | None]:
    """`"name":value` in JSON for each cell of a column, None for a missing one (sparse
    messages leave it out); a distinct value is converted and encoded once."""
    prefix = dumps(name) + b":"
    if column.dtype.kind == "f":  # floats: one encoding of the whole column (no commas inside)
        numbers = column.to_numpy(dtype="float64", na_value=np.nan).tolist()
        if not numbers:
            return []
        return [None if p == b"null" else prefix + p for p in dumps(numbers)[1:-1].split(b",")]

    if isinstance(column.dtype, pd.StringDtype):  # text: each distinct value as it is
        codes, uniques = pd.factorize(column)  # missing values get code -1
        table = [prefix + orjson.dumps(text) for text in uniques.tolist()]
        return np.array([*table, None], dtype=object)[codes].tolist()

    def piece(value: Any) -> bytes | None:
        converted = to_json_value(value)
        return None if converted is None else prefix + dumps(converted)

    return _per_distinct(column, piece)


def _per_distinct(column: pd.Series, convert: Callable[[Any], Any]) -> list[Any]:
    """`convert` of every cell of a column, called once per distinct value (None for the
    missing cells of a typed column)."""
    if column.dtype != object:
        codes, uniques = pd.factorize(column)  # missing values get code -1
        if isinstance(column.dtype, pd.StringDtype):
            uniques = uniques.tolist()  # plain str: far quicker to walk than the array
        table = np.fromiter(
            itertools.chain(map(convert, uniques), [None]), dtype=object, count=len(uniques) + 1
        )
        return table[codes].tolist()
    # Objects of different types may compare equal (1 == 1.0 == True): memo by type too.
    memo: dict[tuple[type, Any], Any] = {}
    values = []
    for value in column:
        try:
            found = memo.get((value.__class__, value), _MISSING)
        except TypeError:  # unhashable, e.g. a dict of attributes
            values.append(convert(value))
            continue
        if found is _MISSING:
            found = memo[(value.__class__, value)] = convert(value)
        values.append(found)
    return values


def decode(record: Record) -> Decoded:
    """Parse and type-check one consumed message; raises `PoisonMessage`."""
    return decode_value(record.value)


def decode_value(value: bytes) -> Decoded:
    """`decode` of a message's value (all a row message is)."""
    payload = _loads(value)
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise PoisonMessage("not a Pipeworks row message (missing or unknown version)")
    dataset = payload.get("dataset")
    if dataset not in DATASETS:
        raise PoisonMessage(f"unknown dataset {dataset!r}")
    upload_id, data = payload.get("upload_id"), payload.get("data")
    if not isinstance(upload_id, str) or not isinstance(data, dict):
        raise PoisonMessage("message without upload_id or data")
    spec = DATASETS[dataset]
    try:
        typed = _typed(dataset, data)
    except PoisonMessage:
        _typed_in_order(dataset, data)  # raises the same error for the first bad field
        raise
    for name in spec.key:
        if typed[name] is None and spec.field(name).required:
            raise PoisonMessage(f"key field {name} is empty")
    if spec.keeps_extra_columns:
        attributes = data.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise PoisonMessage("attributes must be an object")
        typed["attributes"] = attributes
    row_number = payload.get("row")
    return Decoded(
        dataset=dataset,
        upload_id=upload_id,
        seq=int(payload.get("seq") or 0),
        sheet=payload.get("sheet"),
        row_number=row_number if isinstance(row_number, int) else None,
        data=typed,
    )


def upload_of(record: Record) -> str | None:
    """The upload a message belongs to, even one `decode` refuses: its `upload_id` header
    (messages of earlier versions carry one), else the `upload_id` of its JSON object."""
    if record.headers.get("upload_id"):
        return record.headers["upload_id"]
    try:
        payload = _loads(record.value)
    except PoisonMessage:
        return None
    upload_id = payload.get("upload_id") if isinstance(payload, dict) else None
    return upload_id if isinstance(upload_id, str) and upload_id else None


def _loads(value: bytes) -> Any:
    """The parsed JSON (`codec.loads`); raises `PoisonMessage`."""
    try:
        return loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoisonMessage(f"not JSON: {exc}") from exc


def _typed(dataset: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The dataset's fields of `data` as stored (None when missing or empty), visiting only
    the fields present: messages are sparse. Raises `PoisonMessage`."""
    typed: dict[str, Any] = _NONE_ROWS[dataset].copy()  # ten times quicker than fromkeys
    kinds = _KINDS[dataset]
    for name, value in data.items():
        if value is None:
            continue
        kind = kinds.get(name)
        if kind is None:
            continue
        # The common cases first, with the results `from_json_value` gives.
        cls = value.__class__
        if cls is str:
            if not value:
                continue
            plain = "\x00" not in value  # NUL: refused by PostgreSQL, `_converted` says so
            if plain and (kind == "text" or (kind == "code" and len(value) <= MAX_CODE_LENGTH)):
                typed[name] = value
                continue
            if kind == "date":
                with contextlib.suppress(ValueError):
                    typed[name] = dt.date.fromisoformat(value[:10])
                    continue
        elif cls is float:
            if kind == "decimal" and value - value == 0.0:  # finite
                typed[name] = value
                continue
        elif cls is int and -_EXACT_INTEGER <= value <= _EXACT_INTEGER:
            if kind == "integer":
                typed[name] = value
                continue
            if kind == "decimal":
                typed[name] = float(value)
                continue
        typed[name] = _converted(name, value, kind)
    return typed


def _typed_in_order(dataset: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """`_typed`, field after field in the dataset's order (so an error names the first bad
    field)."""
    typed: dict[str, Any] = {}
    for name, kind in _FIELD_KINDS[dataset]:
        value = data.get(name)
        typed[name] = None if value is None or value == "" else _converted(name, value, kind)
    return typed


def _converted(name: str, value: Any, kind: str) -> Any:
    try:
        typed = from_json_value(value, kind)
    except (TypeError, ValueError, OverflowError) as exc:
        raise PoisonMessage(f"field {name}: {exc}") from exc
    if kind == "code" and len(typed) > MAX_CODE_LENGTH:
        raise PoisonMessage(f"field {name}: longer than {MAX_CODE_LENGTH} characters")
    return typed
