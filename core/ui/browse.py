"""Shared widgets of the browse screens: a type-aware filter panel, a period picker, a paged
and sortable table, and download buttons; plus the cached reads behind them.

Widget keys derive from the `key` each page passes, so several tables can share a page.
Query results are cached for `CACHE_TTL_S` per store (the store's address is part of the
cache key; the adapters themselves are passed with a leading underscore, unhashed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core import exports
from core.adapters.sql_store import SqlStore
from core.bootstrap import Services
from core.queries import deliveries, tables
from core.queries.columns import ColumnInfo
from core.queries.customers import attribute_columns
from core.queries.filters import Between, ColumnFilter, Contains, OneOf
from core.queries.periods import Period
from core.queries.tables import Page, Sort

CACHE_TTL_S = 30
PICK_LIST_LIMIT = 500
PAGE_SIZES = (25, 50, 100, 250)
DEFAULT_PERIOD_MONTHS = 12

Frames = Callable[[], Iterable[pd.DataFrame]]


def store_key(svc: Services) -> str:
    """Identifies the stores in cache keys (two apps on two stores never share results)."""
    settings = svc.settings
    return f"{settings.relational_url}|{settings.mongo_url or settings.documents_path}"


# ------------------------------------------------------------------------- cached reads
@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def table_page(
    _sql: SqlStore,
    store: str,
    dataset: str,
    filters: tuple[ColumnFilter, ...],
    sort: tuple[tuple[str, int], ...],
    page: int,
    page_size: int,
    columns: tuple[str, ...] | None = None,
    attributes: tuple[str, ...] = (),
) -> Page:
    return tables.fetch_page(
        _sql,
        dataset,
        filters=filters,
        sort=sort,
        page=page,
        page_size=page_size,
        columns=columns,
        attributes=attributes,
    )


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def pick_list(_sql: SqlStore, store: str, dataset: str, column: str) -> list[Any]:
    return tables.distinct_values(_sql, dataset, column, limit=PICK_LIST_LIMIT + 1)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def date_bounds(_sql: SqlStore, store: str, dataset: str, column: str) -> tuple[Any, Any]:
    return tables.value_range(_sql, dataset, column)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def customer_attributes(_sql: SqlStore, store: str) -> tuple[ColumnInfo, ...]:
    return attribute_columns(_sql)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def delivery_page(
    _sql: SqlStore,
    store: str,
    filters: tuple[ColumnFilter, ...],
    sort: tuple[tuple[str, int], ...],
    page: int,
    page_size: int,
) -> deliveries.DeliveryPage:
    return deliveries.fetch_deliveries(
        _sql, filters=filters, sort=sort, page=page, page_size=page_size
    )


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def delivery_pick_list(_sql: SqlStore, store: str, column: str) -> list[Any]:
    return deliveries.distinct_values(_sql, column, limit=PICK_LIST_LIMIT + 1)


# ------------------------------------------------------------------------------ widgets
def filter_panel(
    columns: Sequence[ColumnInfo],
    *,
    key: str,
    choices: Callable[[str], Sequence[Any]] | None = None,
    pickable: Iterable[str] = (),
    default: Sequence[str] = (),
) -> tuple[ColumnFilter, ...]:
    """Let the user choose columns to filter on, then show one widget per chosen column by
    kind: values to pick (for `pickable` columns with a short list of `choices`), text to
    search, a number range or a date range. Returns the filters that are set."""
    by_label = {c.label: c for c in columns}
    chosen = st.multiselect(
        "Filter on",
        list(by_label),
        default=[c.label for c in columns if c.name in default],
        key=f"{key}.filter_on",
        placeholder="Choose columns to filter on",
    )
    pickable = set(pickable)
    filters: list[ColumnFilter] = []
    widgets = st.columns(min(max(len(chosen), 1), 3))
    for index, label in enumerate(chosen):
        info = by_label[label]
        with widgets[index % len(widgets)]:
            values = choices(info.name) if choices and info.name in pickable else None
            condition = _filter_widget(info, key=f"{key}.filter.{info.name}", values=values)
        if condition is not None:
            filters.append(condition)
    return tuple(filters)


def _filter_widget(
    info: ColumnInfo, *, key: str, values: Sequence[Any] | None
) -> ColumnFilter | None:
    if info.kind in ("integer", "decimal"):
        low_col, high_col = st.columns(2)
        low = low_col.number_input(f"{info.label} from", value=None, key=f"{key}.low")
        high = high_col.number_input(f"{info.label} to", value=None, key=f"{key}.high")
        return Between(info.name, low, high) if low is not None or high is not None else None
    if info.kind == "date":
        picked = st.date_input(info.label, value=(), key=key, format="YYYY-MM-DD")
        days = tuple(picked) if isinstance(picked, tuple | list) else (picked,)
        if not days:
            return None
        return Between(info.name, days[0], days[-1])
    if values is not None and len(values) <= PICK_LIST_LIMIT:
        picked = st.multiselect(info.label, list(values), key=key)
        return OneOf(info.name, tuple(picked)) if picked else None
    text = st.text_input(f"{info.label} contains", key=key)
    return Contains(info.name, text) if text.strip() else None


def period_picker(
    *, key: str, latest: dt.date | None = None, months: int = DEFAULT_PERIOD_MONTHS
) -> Period | None:
    """A date range; by default the `months` months up to `latest` (the newest data)."""
    default = Period.last_months(months, today=latest or dt.date.today())
    picked = st.date_input(
        "Period", value=(default.start, default.end), key=key, format="YYYY-MM-DD"
    )
    days = tuple(picked) if isinstance(picked, tuple | list) else (picked,)
    if len(days) < 2:
        st.caption("Choose the last day of the period.")
        return None
    return Period(days[0], days[1])


def table_settings(
    columns: Sequence[ColumnInfo],
    *,
    key: str,
    default_sort: tuple[str, int],
    reset_on: Any = None,
) -> tuple[Sort, int]:
    """Sort column, direction and page size; going back to page 1 when `reset_on` changes."""
    by_name = {c.name: c for c in columns}
    left, middle, right = st.columns([3, 1, 1])
    names = list(by_name)
    column = left.selectbox(
        "Sort by",
        names,
        index=names.index(default_sort[0]),
        format_func=lambda n: by_name[n].label,
        key=f"{key}.sort",
    )
    descending = middle.toggle("Descending", value=default_sort[1] == -1, key=f"{key}.desc")
    size = right.selectbox("Rows per page", PAGE_SIZES, index=1, key=f"{key}.size")
    signature = repr((reset_on, column, descending, size))
    if st.session_state.get(f"{key}.signature") != signature:
        st.session_state[f"{key}.signature"] = signature
        st.session_state[f"{key}.page"] = 1
    return ((column, -1 if descending else 1),), size


def current_page(key: str) -> int:
    return int(st.session_state.get(f"{key}.page", 1))


def fetch_in_range(key: str, fetch: Callable[[int], Page]) -> Page:
    """Fetch the current page; past the end (the data shrank), fetch the last one."""
    page = fetch(current_page(key))
    if page.rows.empty and page.total and page.number > page.pages:
        st.session_state[f"{key}.page"] = page.pages
        page = fetch(page.pages)
    return page


def pager(page: Page, *, key: str) -> None:
    """Rows shown, total, and the page number to go to."""
    left, right = st.columns([3, 1])
    if page.total:
        left.caption(
            f"Rows {page.first_row:,}–{page.last_row:,} of {page.total:,} · "
            f"page {page.number:,} of {page.pages:,}"
        )
    else:
        left.caption("No rows match.")
    right.number_input("Page", min_value=1, max_value=page.pages, step=1, key=f"{key}.page")


def show_table(frame: pd.DataFrame, columns: Sequence[ColumnInfo]) -> None:
    labels = {c.name: c.label for c in columns}
    st.dataframe(frame.rename(columns=labels), hide_index=True, width="stretch")


def download_buttons(frames: Frames, *, file_stem: str, key: str, rows: int) -> None:
    """CSV and Excel downloads of every matching row, generated only when clicked, chunk by
    chunk, with formula-looking text neutralised."""
    left, right, _ = st.columns([1, 1, 3])
    help_text = f"{rows:,} rows" + (
        " · Excel continues on further sheets past 1,048,575 rows"
        if rows >= exports.XLSX_MAX_ROWS
        else ""
    )
    left.download_button(
        "Download CSV",
        data=lambda: exports.csv_bytes(frames()),
        file_name=f"{file_stem}.csv",
        mime=exports.CSV_MIME,
        key=f"{key}.csv",
        help=help_text,
        disabled=rows == 0,
        on_click="ignore",
    )
    right.download_button(
        "Download Excel",
        data=lambda: exports.xlsx_bytes(frames(), sheet=file_stem[:31]),
        file_name=f"{file_stem}.xlsx",
        mime=exports.XLSX_MIME,
        key=f"{key}.xlsx",
        help=help_text,
        disabled=rows == 0,
        on_click="ignore",
    )
