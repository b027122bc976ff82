"""Browse delivery documents: pages of delivery notes, their lines, and chunked exports.

The document store filters, sorts, skips and limits; Python receives one page of
documents (or one chunk while exporting) at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.ports import DocumentStore
from core.queries.columns import DELIVERY_COLUMNS, DELIVERY_LINE_COLUMNS, column_map
from core.queries.filters import ColumnFilter, document_filter, merge_filters
from core.queries.tables import MAX_PAGE_SIZE, Page, Sort

COLLECTION = "deliveries"
DEFAULT_PAGE_SIZE = 20
DEFAULT_CHUNK_SIZE = 2_000  # documents per read while exporting
DEFAULT_SORT: Sort = (("delivery_date", -1),)
HEADER_COLUMNS = tuple(c.name for c in DELIVERY_COLUMNS)
_HEADER_FIELDS = ("customer", "delivery_date", "month", "site", "currency", "country", "carrier")
_COLUMNS = column_map(DELIVERY_COLUMNS)


@dataclass(frozen=True)
class DeliveryPage:
    """A page of delivery notes (one row each) and the lines of each, by delivery note."""

    headers: Page
    lines: dict[str, pd.DataFrame]


def where(filters: Sequence[ColumnFilter]) -> dict[str, Any]:
    """The document filter for filters on the delivery header columns."""
    return document_filter(filters, _COLUMNS)


def fetch_deliveries(
    documents: DocumentStore,
    *,
    filters: Sequence[ColumnFilter] = (),
    sort: Sort = DEFAULT_SORT,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> DeliveryPage:
    """Page `page` of the delivery notes matching every filter, with their lines."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page must be >= 1 and page_size within 1..{MAX_PAGE_SIZE}")
    for column, _ in sort:
        if column not in _COLUMNS:
            raise ValueError(f"unknown column {column!r}")
    condition = where(filters)
    total = documents.count(COLLECTION, condition)
    docs = documents.find(
        COLLECTION, condition, sort=sort, skip=(page - 1) * page_size, limit=page_size
    )
    headers = pd.DataFrame.from_records(
        [{c: d.get(c) for c in HEADER_COLUMNS} for d in docs], columns=list(HEADER_COLUMNS)
    )
    return DeliveryPage(
        headers=Page(rows=headers, total=total, number=page, size=page_size),
        lines={d["_id"]: lines_frame(d) for d in docs},
    )


def lines_frame(document: Mapping[str, Any]) -> pd.DataFrame:
    """The lines of one delivery document, in line order."""
    lines = document.get("lines") or []
    return pd.DataFrame.from_records(
        [{c: line.get(c) for c in DELIVERY_LINE_COLUMNS} for line in lines],
        columns=list(DELIVERY_LINE_COLUMNS),
    )


def distinct_values(
    documents: DocumentStore, column: str, *, filters: Sequence[ColumnFilter] = ()
) -> list[Any]:
    """The distinct non-empty values of a header column (a pick list)."""
    if column not in _COLUMNS:
        raise ValueError(f"unknown column {column!r}")
    return documents.distinct(COLLECTION, column, where(filters))


def iter_line_frames(
    documents: DocumentStore,
    *,
    filters: Sequence[ColumnFilter] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[pd.DataFrame]:
    """Every line of every matching delivery note, one row per line with its header fields,
    read `chunk_size` documents at a time in delivery-note order (keyset paging on `_id`)."""
    condition = where(filters)
    columns = ["delivery_no", *_HEADER_FIELDS, *DELIVERY_LINE_COLUMNS]
    last: str | None = None
    while True:
        after = {"_id": {"$gt": last}} if last is not None else None
        docs = documents.find(
            COLLECTION, merge_filters(condition, after), sort=(("_id", 1),), limit=chunk_size
        )
        if not docs:
            return
        rows = [
            {
                "delivery_no": d["_id"],
                **{f: d.get(f) for f in _HEADER_FIELDS},
                **{c: line.get(c) for c in DELIVERY_LINE_COLUMNS},
            }
            for d in docs
            for line in d.get("lines") or []
        ]
        yield pd.DataFrame.from_records(rows, columns=columns)
        last = docs[-1]["_id"]
        if len(docs) < chunk_size:
            return
