"""Column filters chosen on screens, compiled for the store that answers them.

A filter names a column (see `core.queries.columns`) and a condition that fits its kind:
`Contains` for text and codes, `OneOf` for picked values, `Between` for numbers, dates and
times (bounds included, either optional). `sql_conditions` compiles them to SQLAlchemy for
SQLite and PostgreSQL alike. Values are always bound as parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, false, func, or_

from core.queries.columns import ATTRIBUTE_PREFIX, ColumnInfo

_TEXT_KINDS = frozenset({"code", "text", "time"})
_RANGE_KINDS = frozenset({"integer", "decimal", "date", "time"})


@dataclass(frozen=True)
class Contains:
    """Case-insensitive substring of a text or code column."""

    column: str
    text: str


@dataclass(frozen=True)
class OneOf:
    """The column equals one of `values` (None among them matches an empty cell)."""

    column: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Between:
    """`low <= column <= high`; a None bound is open."""

    column: str
    low: Any = None
    high: Any = None


ColumnFilter = Contains | OneOf | Between


def check(filters: Sequence[ColumnFilter], columns: Mapping[str, ColumnInfo]) -> None:
    """Raise `ValueError` for a filter on an unknown column or one that does not fit its kind."""
    for f in filters:
        info = columns.get(f.column)
        if info is None:
            raise ValueError(f"unknown column {f.column!r}")
        if isinstance(f, Contains) and info.kind not in _TEXT_KINDS:
            raise ValueError(f"{f.column} is a {info.kind} column: filter it by range")
        if isinstance(f, Between) and info.kind not in _RANGE_KINDS:
            raise ValueError(f"{f.column} is a {info.kind} column: it has no range")


# ----------------------------------------------------------------------------- SQL side
def column_expression(table: Table, info: ColumnInfo, *, postgres: bool) -> ColumnElement[Any]:
    """The SQL expression reading a column; attributes read from the JSON object by kind
    (a number attribute reads as NULL where a row holds text, so comparisons stay safe)."""
    if not info.is_attribute:
        return table.c[info.name]
    key = info.name.removeprefix(ATTRIBUTE_PREFIX)
    element = table.c.attributes[key]
    if not info.is_numeric:
        return element.as_string()
    if postgres:
        is_number = func.json_typeof(element) == "number"
    else:
        path = '$."' + key.replace('"', '\\"') + '"'
        is_number = func.json_type(table.c.attributes, path).in_(("integer", "real"))
    return case((is_number, element.as_float()), else_=None)


def sql_conditions(
    table: Table,
    filters: Sequence[ColumnFilter],
    columns: Mapping[str, ColumnInfo],
    *,
    postgres: bool,
) -> list[ColumnElement[bool]]:
    """One SQLAlchemy condition per filter (to be AND-ed)."""
    check(filters, columns)
    conditions: list[ColumnElement[bool]] = []
    for f in filters:
        info = columns[f.column]
        expr = column_expression(table, info, postgres=postgres)
        if isinstance(f, Contains):
            if f.text.strip():
                conditions.append(expr.icontains(f.text.strip(), autoescape=True))
        elif isinstance(f, OneOf):
            conditions.append(_one_of(expr, [_coerce(v, info) for v in f.values]))
        else:
            if f.low is not None:
                conditions.append(expr >= _coerce(f.low, info))
            if f.high is not None:
                conditions.append(expr <= _coerce(f.high, info))
    return conditions


def _one_of(expr: ColumnElement[Any], values: list[Any]) -> ColumnElement[bool]:
    present = [v for v in values if v is not None]
    terms: list[ColumnElement[bool]] = []
    if present:
        terms.append(expr.in_(present))
    if len(present) < len(values):
        terms.append(expr.is_(None))
    if not terms:
        return false()
    return or_(*terms) if len(terms) > 1 else terms[0]


def _coerce(value: Any, info: ColumnInfo) -> Any:
    if value is None:
        return None
    if info.kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    if info.kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if info.kind in ("code", "text") and not isinstance(value, str):
        return str(value)
    return value


def all_of(conditions: Sequence[ColumnElement[bool]]) -> ColumnElement[bool] | None:
    return and_(*conditions) if conditions else None
