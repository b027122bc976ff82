"""Browse the relational tables: filtered, sorted pages, counts, pick lists and chunked reads.

Every function works in the store (WHERE, ORDER BY, LIMIT/OFFSET, GROUP BY); only the rows
asked for reach Python, and `iter_frames` streams any result in chunks through a
server-side cursor, so nothing here loads a whole table.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, Table, TextClause, func, select, text

from core.adapters import sql_schema as s
from core.adapters.sql_store import SqlStore
from core.queries.columns import (
    ATTRIBUTE_PREFIX,
    ColumnInfo,
    attribute_column,
    column_map,
    columns_of,
)
from core.queries.filters import Between, ColumnFilter, OneOf, column_expression, sql_conditions

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1_000
DEFAULT_CHUNK_SIZE = 10_000
DEFAULT_DISTINCT_LIMIT = 500
Sort = Sequence[tuple[str, int]]  # (column, 1 ascending | -1 descending)

_TABLES: dict[str, tuple[Table, str]] = {  # dataset -> (table, unique tie-break column)
    "stock_movements": (s.stock_movements, "id"),
    "customers": (s.customers, "customer_id"),
    "deliveries": (s.delivery_notes, "delivery_no"),
}


@dataclass(frozen=True)
class Page:
    """One page of a filtered, sorted result. `number` counts from 1."""

    rows: pd.DataFrame
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_row(self) -> int:
        return 0 if self.rows.empty else (self.number - 1) * self.size + 1

    @property
    def last_row(self) -> int:
        return 0 if self.rows.empty else self.first_row + len(self.rows) - 1


def fetch_page(
    sql: SqlStore,
    dataset: str,
    *,
    filters: Sequence[ColumnFilter] = (),
    sort: Sort = (),
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    columns: Sequence[str] | None = None,
    attributes: Sequence[str] = (),
) -> Page:
    """Page `page` of the rows matching every filter, with the total count.

    `columns` picks the fixed columns returned (all by default); `attributes` names keys of
    the customers' JSON attributes returned as extra columns. A page past the end comes
    back empty with the right total.
    """
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page must be >= 1 and page_size within 1..{MAX_PAGE_SIZE}")
    query = _Query(sql, dataset, filters)
    stmt = query.rows(columns, sort).limit(page_size).offset((page - 1) * page_size)
    with sql.begin() as conn:
        total = conn.execute(query.count()).scalar_one()
        result = conn.execute(stmt)
        frame = pd.DataFrame.from_records([tuple(r) for r in result], columns=list(result.keys()))
    return Page(rows=query.flatten(frame, attributes), total=total, number=page, size=page_size)


def count(sql: SqlStore, dataset: str, *, filters: Sequence[ColumnFilter] = ()) -> int:
    """How many rows match every filter."""
    query = _Query(sql, dataset, filters)
    with sql.begin() as conn:
        return conn.execute(query.count()).scalar_one()


def distinct_values(
    sql: SqlStore,
    dataset: str,
    column: str,
    *,
    filters: Sequence[ColumnFilter] = (),
    limit: int = DEFAULT_DISTINCT_LIMIT,
) -> list[Any]:
    """The first `limit` distinct non-empty values of a column, in order (a pick list).

    On PostgreSQL an unfiltered list of a column that leads an index walks the index from
    value to value (a handful of probes instead of reading the whole table)."""
    query = _Query(sql, dataset, filters)
    if sql.is_postgres and not filters and column in _leading_index_columns(query.table):
        with sql.begin() as conn:
            return list(conn.scalars(_index_walk(query.table, column), {"limit": limit}))
    expr = query.expression(column)
    stmt = (
        select(expr.label("value"))
        .where(expr.is_not(None), *query.conditions)
        .group_by(expr)
        .order_by(expr)
        .limit(limit)
    )
    with sql.begin() as conn:
        return [row.value for row in conn.execute(stmt)]


def value_range(
    sql: SqlStore, dataset: str, column: str, *, filters: Sequence[ColumnFilter] = ()
) -> tuple[Any, Any]:
    """The smallest and largest values of a column (None, None when it is empty)."""
    query = _Query(sql, dataset, filters)
    expr = query.expression(column)
    with sql.begin() as conn:
        row = conn.execute(select(func.min(expr), func.max(expr)).where(*query.conditions)).one()
    return row[0], row[1]


def iter_frames(
    sql: SqlStore,
    dataset: str,
    *,
    filters: Sequence[ColumnFilter] = (),
    sort: Sort = (),
    columns: Sequence[str] | None = None,
    attributes: Sequence[str] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[pd.DataFrame]:
    """Every matching row, as DataFrames of at most `chunk_size` rows, read through a
    server-side cursor (memory stays flat whatever the size of the result)."""
    query = _Query(sql, dataset, filters)
    for chunk in stream_frames(sql, query.rows(columns, sort), chunk_size=chunk_size):
        yield query.flatten(chunk, attributes)


def stream_frames(
    sql: SqlStore, stmt: Select[Any], *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[pd.DataFrame]:
    """The rows of any SELECT as DataFrames of at most `chunk_size` rows, fetched through a
    server-side cursor (PostgreSQL) or SQLite's lazy cursor."""
    with sql.begin() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk_size).execute(stmt)
        keys = list(result.keys())
        for part in result.partitions():
            yield pd.DataFrame.from_records([tuple(row) for row in part], columns=keys)


def statement(
    sql: SqlStore,
    dataset: str,
    *,
    filters: Sequence[ColumnFilter] = (),
    sort: Sort = (),
    columns: Sequence[str] | None = None,
) -> Select[Any]:
    """The SELECT behind `fetch_page`/`iter_frames`, for EXPLAIN and benchmarks."""
    return _Query(sql, dataset, filters).rows(columns, sort)


# --------------------------------------------------------------------------- internals
def _leading_index_columns(table: Table) -> set[str]:
    return {index.expressions[0].name for index in table.indexes if index.expressions}


def _index_walk(table: Table, column: str) -> TextClause:
    """Distinct values by repeated 'next value after' index probes (a loose index scan)."""
    c, t = f'"{table.c[column].name}"', f'"{table.name}"'
    return text(
        f"WITH RECURSIVE walk(v) AS ("
        f" (SELECT {c} FROM {t} WHERE {c} IS NOT NULL ORDER BY {c} LIMIT 1)"
        f" UNION ALL"
        f" SELECT (SELECT {c} FROM {t} WHERE {c} > walk.v ORDER BY {c} LIMIT 1)"
        f" FROM walk WHERE walk.v IS NOT NULL)"
        f" SELECT v FROM walk WHERE v IS NOT NULL LIMIT :limit"
    )


class _Query:
    """Filters and sorts of one dataset compiled for one store."""

    def __init__(self, sql: SqlStore, dataset: str, filters: Sequence[ColumnFilter]) -> None:
        if dataset not in _TABLES:
            raise ValueError(f"{dataset!r} is not a relational dataset")
        self.table, self.tie_break = _TABLES[dataset]
        self.postgres = sql.is_postgres
        self.columns = column_map(columns_of(dataset))
        for f in filters:
            if f.column.startswith(ATTRIBUTE_PREFIX) and f.column not in self.columns:
                self.columns[f.column] = _attribute_info(f)
        self.conditions = sql_conditions(self.table, filters, self.columns, postgres=self.postgres)

    def expression(self, column: str) -> ColumnElement[Any]:
        info = self.columns.get(column)
        if info is None:
            raise ValueError(f"unknown column {column!r}")
        return column_expression(self.table, info, postgres=self.postgres)

    def count(self) -> Select[Any]:
        return select(func.count()).select_from(self.table).where(*self.conditions)

    def rows(self, columns: Sequence[str] | None, sort: Sort) -> Select[Any]:
        names = [c for c in (columns or self.columns) if not c.startswith(ATTRIBUTE_PREFIX)]
        unknown = [c for c in names if c not in self.table.c]
        if unknown:
            raise ValueError(f"unknown columns {unknown}")
        selected = [self.table.c[c] for c in names]
        if "attributes" in self.table.c:
            selected.append(self.table.c.attributes)
        return select(*selected).where(*self.conditions).order_by(*self._order(sort))

    def _order(self, sort: Sort) -> list[ColumnElement[Any]]:
        terms: list[ColumnElement[Any]] = []
        for column, direction in sort:
            if direction not in (1, -1):
                raise ValueError(f"sort direction must be 1 or -1, got {direction!r}")
            expr = self.expression(column)
            term = expr.asc() if direction == 1 else expr.desc()
            if not self.postgres:  # empty cells sort as the largest values, as in PostgreSQL
                term = term.nulls_last() if direction == 1 else term.nulls_first()
            terms.append(term)
        last = sort[-1][1] if sort else 1
        tie = self.table.c[self.tie_break]
        if all(column != self.tie_break for column, _ in sort):
            terms.append(tie.asc() if last == 1 else tie.desc())
        return terms

    def flatten(self, frame: pd.DataFrame, attributes: Sequence[str]) -> pd.DataFrame:
        """The JSON `attributes` column replaced by one column per requested key."""
        if "attributes" not in frame.columns:
            return frame
        frame = frame.copy()
        values = frame.pop("attributes")
        for key in attributes:
            name = key if key not in frame.columns else f"{ATTRIBUTE_PREFIX}{key}"
            frame[name] = [_attribute(v, key) for v in values]
        return frame


def _attribute(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _attribute_info(f: ColumnFilter) -> ColumnInfo:
    key = f.column.removeprefix(ATTRIBUTE_PREFIX)
    numeric = isinstance(f, Between) or (
        isinstance(f, OneOf)
        and bool(f.values)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in f.values)
    )
    return attribute_column(key, "decimal" if numeric else "text")
