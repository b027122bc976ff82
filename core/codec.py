"""Rows on the wire: typed Python values <-> JSON-safe values, driven by field kinds.

Dates travel as ISO text; missing values as null (never the string "nan").
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

import orjson

from core.domain.schemas import Kind

JsonValue = str | int | float | bool | None
MAX_STORED_INTEGER = 2**63  # integer fields are 64-bit in the relational store


def to_json_value(value: Any) -> JsonValue:
    """A JSON-safe form of one cell (NaN/NaT/None -> None, dates -> ISO text)."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dt.datetime):
        if value != value:  # pandas' NaT is a datetime that equals nothing
            return None
        return value.date().isoformat() if _is_midnight(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}  # type: ignore[return-value]
    # numpy / pandas scalars
    if hasattr(value, "item"):
        try:
            return to_json_value(value.item())
        except (ValueError, TypeError):
            pass
    text = str(value)
    return None if text in {"NaT", "nan", "<NA>"} else text


def from_json_value(value: JsonValue, kind: Kind) -> Any:
    """The Python value to store for a JSON value of the given field kind.

    Raises ValueError (or TypeError) when the value does not fit the kind.
    """
    if value is None or value == "":
        return None
    if kind == "date":
        if not isinstance(value, str):
            raise TypeError(f"expected an ISO date, got {value!r}")
        return dt.date.fromisoformat(value[:10])
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError(f"expected an integer, got {value!r}")
        number = float(value)
        if not number.is_integer():
            raise ValueError(f"expected an integer, got {value!r}")
        if abs(number) >= MAX_STORED_INTEGER:
            raise ValueError(f"integer out of the stores' range: {value!r}")
        return int(number)
    if kind == "decimal":
        if isinstance(value, bool):
            raise TypeError(f"expected a number, got {value!r}")
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise ValueError(f"expected a finite number, got {value!r}")
        return number
    text = str(value)[:8] if kind == "time" else str(value)
    if "\x00" in text:
        raise ValueError("text holds a NUL character, which the stores refuse")
    return text


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, unknown types as text: plain values through orjson (a float that is
    not finite becomes null), others (dates, numpy scalars, integers beyond 64 bits) through
    the standard encoder with `str`. Raises TypeError or ValueError for what JSON cannot hold.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:
        pass
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def loads(value: bytes | str) -> Any:
    """Parsed JSON: orjson, and what it refuses (NaN, integers beyond 64 bits, UTF-16 and
    UTF-32) the standard parser decides. Raises ValueError (a JSONDecodeError, or a
    UnicodeDecodeError) for what is not JSON."""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        pass
    return json.loads(value)


def encode_row(row: Mapping[str, Any]) -> dict[str, JsonValue]:
    return {k: to_json_value(v) for k, v in row.items()}


def _is_midnight(value: dt.datetime) -> bool:
    return value.hour == value.minute == value.second == value.microsecond == 0
