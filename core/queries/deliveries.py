"""Browse delivery notes: pages of notes with their lines, pick lists and chunked exports.

Reads the relational projection of the delivery documents (`delivery_notes`,
`delivery_lines`): the store filters, sorts, counts and pages; Python receives one page of
notes and their lines (or one chunk while exporting) at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, select

from core.adapters import sql_schema as s
from core.adapters.sql_store import SqlStore
from core.queries import tables
from core.queries.columns import DELIVERY_COLUMNS, DELIVERY_LINE_COLUMNS, column_map
from core.queries.filters import ColumnFilter, sql_conditions
from core.queries.tables import MAX_PAGE_SIZE, Page, Sort, stream_frames

DATASET = "deliveries"
DEFAULT_PAGE_SIZE = 20
DEFAULT_CHUNK_SIZE = 10_000  # lines per read while exporting
DEFAULT_SORT: Sort = (("delivery_date", -1),)
HEADER_COLUMNS = tuple(c.name for c in DELIVERY_COLUMNS)
_TOTALS = ("line_count", "total_quantity", "total_amount")
EXPORT_HEADER_COLUMNS = tuple(c for c in HEADER_COLUMNS if c not in ("delivery_no", *_TOTALS))
_COLUMNS = column_map(DELIVERY_COLUMNS)
_notes = s.delivery_notes
_lines = s.delivery_lines


@dataclass(frozen=True)
class DeliveryPage:
    """A page of delivery notes (one row each) and the lines of each, by delivery note."""

    headers: Page
    lines: dict[str, pd.DataFrame]


def fetch_deliveries(
    sql: SqlStore,
    *,
    filters: Sequence[ColumnFilter] = (),
    sort: Sort = DEFAULT_SORT,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> DeliveryPage:
    """Page `page` of the delivery notes matching every filter, with their lines."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page must be >= 1 and page_size within 1..{MAX_PAGE_SIZE}")
    headers = tables.fetch_page(
        sql, DATASET, filters=filters, sort=sort, page=page, page_size=page_size
    )
    numbers = list(headers.rows["delivery_no"])
    lines = lines_of(sql, numbers)
    return DeliveryPage(
        headers=headers,
        lines={
            no: lines.get(no, pd.DataFrame(columns=list(DELIVERY_LINE_COLUMNS))) for no in numbers
        },
    )


def lines_of(sql: SqlStore, numbers: Sequence[str]) -> dict[str, pd.DataFrame]:
    """The lines of the given delivery notes, in line order, by delivery note."""
    if not numbers:
        return {}
    stmt = (
        select(_lines.c.delivery_no, *(_lines.c[c] for c in DELIVERY_LINE_COLUMNS))
        .where(_lines.c.delivery_no.in_(list(numbers)))
        .order_by(_lines.c.delivery_no, *_line_order())
    )
    with sql.begin() as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame.from_records([tuple(r) for r in result], columns=list(result.keys()))
    return {
        str(no): group.drop(columns="delivery_no").reset_index(drop=True)
        for no, group in frame.groupby("delivery_no", sort=False)
    }


def distinct_values(
    sql: SqlStore,
    column: str,
    *,
    filters: Sequence[ColumnFilter] = (),
    limit: int = tables.DEFAULT_DISTINCT_LIMIT,
) -> list[Any]:
    """The first `limit` distinct non-empty values of a header column (a pick list)."""
    if column not in _COLUMNS:
        raise ValueError(f"unknown column {column!r}")
    return tables.distinct_values(sql, DATASET, column, filters=filters, limit=limit)


def iter_line_frames(
    sql: SqlStore,
    *,
    filters: Sequence[ColumnFilter] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[pd.DataFrame]:
    """Every line of every matching delivery note, one row per line with its header fields,
    in delivery-note and line order, streamed `chunk_size` lines at a time."""
    conditions = sql_conditions(_notes, filters, _COLUMNS, postgres=sql.is_postgres)
    stmt = (
        select(
            _lines.c.delivery_no,
            *(_notes.c[c] for c in EXPORT_HEADER_COLUMNS),
            *(_lines.c[c] for c in DELIVERY_LINE_COLUMNS),
        )
        .join(_notes, _notes.c.delivery_no == _lines.c.delivery_no)
        .where(*conditions)
        .order_by(_lines.c.delivery_no, *_line_order())
    )
    yield from stream_frames(sql, stmt, chunk_size=chunk_size)


def _line_order() -> list[ColumnElement[Any]]:
    """Lines by number (those without one last), then by key: the documents' order."""
    return [_lines.c.line_no.is_(None), _lines.c.line_no, _lines.c.line_key]
