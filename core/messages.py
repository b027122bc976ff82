"""The wire format of committed rows: one JSON message per row, keyed by its natural key.

    {"v": 1, "dataset": "...", "upload_id": "...", "seq": 17, "sheet": "...", "row": 19,
     "data": {field: value, ...}}

`decode` checks a consumed message completely and raises `PoisonMessage` for anything that
can never be stored, so the consume loop can dead-letter it and go on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from core.codec import encode_row, from_json_value
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
EXTRA_FIELDS: dict[str, tuple[Field, ...]] = {
    STOCK_MOVEMENTS: PRODUCT_ATTRIBUTE_FIELDS,
    CUSTOMERS: (Field("country_name", "text"),),
    DELIVERIES: (),
}


_FIELD_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    name: tuple((f.name, f.kind) for f in (*spec.fields, *EXTRA_FIELDS[name]))
    for name, spec in DATASETS.items()
}


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
            headers={"upload_id": upload_id, "dataset": dataset},
        )


def decode(record: Record) -> Decoded:
    """Parse and type-check one consumed message; raises `PoisonMessage`."""
    try:
        payload = json.loads(record.value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoisonMessage(f"not JSON: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise PoisonMessage("not a Pipeworks row message (missing or unknown version)")
    dataset = payload.get("dataset")
    if dataset not in DATASETS:
        raise PoisonMessage(f"unknown dataset {dataset!r}")
    upload_id, data = payload.get("upload_id"), payload.get("data")
    if not isinstance(upload_id, str) or not isinstance(data, dict):
        raise PoisonMessage("message without upload_id or data")
    spec = DATASETS[dataset]
    typed: dict[str, Any] = {}
    for name, kind in _FIELD_KINDS[dataset]:
        value = data.get(name)
        if value is None or value == "":
            typed[name] = None
            continue
        if kind == "text" and isinstance(value, str):
            typed[name] = value
            continue
        if kind == "code" and isinstance(value, str):
            if len(value) > MAX_CODE_LENGTH:
                raise PoisonMessage(f"field {name}: longer than {MAX_CODE_LENGTH} characters")
            typed[name] = value
            continue
        try:
            typed[name] = from_json_value(value, kind)
        except (TypeError, ValueError) as exc:
            raise PoisonMessage(f"field {name}: {exc}") from exc
        if kind == "code" and len(typed[name]) > MAX_CODE_LENGTH:
            raise PoisonMessage(f"field {name}: longer than {MAX_CODE_LENGTH} characters")
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
