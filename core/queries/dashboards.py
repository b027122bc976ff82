"""Aggregations behind the dashboards, computed in the relational store (SQL GROUP BY over
the stock movements, the customers and the delivery projection); each returns a small
DataFrame ready for a chart.

Filters: a `Period` (inclusive days), and optional families, movement types and customers
(empty means all). Movements and delivery lines without a parsed family count under
`UNCLASSIFIED`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Table, func, select

from core.adapters import sql_schema as s
from core.adapters.sql_store import SqlStore
from core.queries.periods import Period

UNCLASSIFIED = "Unclassified"
UNKNOWN_COUNTRY = "Unknown"
DEFAULT_TOP = 10
MEASURES = ("quantity", "amount")

_m = s.stock_movements.c
_n = s.delivery_notes
_l = s.delivery_lines


def movements_over_time(
    sql: SqlStore,
    *,
    period: Period,
    families: Sequence[str] = (),
    movement_types: Sequence[str] = (),
    customers: Sequence[str] = (),
) -> pd.DataFrame:
    """Per month, movement type and family: the signed quantity and number of movements.
    Columns: month ('YYYY-MM'), type_mouvement, family, quantity, movements."""
    month = _month(_m.date_creation, postgres=sql.is_postgres).label("month")
    family = _family()
    stmt = (
        select(
            month,
            _m.type_mouvement,
            family,
            func.coalesce(func.sum(_m.quantite), 0).label("quantity"),
            func.count().label("movements"),
        )
        .where(*_movement_conditions(period, families, movement_types, customers))
        .group_by(month, _m.type_mouvement, family)
        .order_by(month, _m.type_mouvement, family)
    )
    frame = _frame(sql, stmt)
    if sql.is_postgres and not frame.empty:
        frame["month"] = [m.strftime("%Y-%m") for m in frame["month"]]
    return frame


def stock_on_hand(
    sql: SqlStore, *, as_of: dt.date | None = None, families: Sequence[str] = ()
) -> pd.DataFrame:
    """Stock on hand: the sum of signed quantities of every movement up to `as_of`
    (all of them when None), per family and DN. Columns: family, dn, quantity, movements."""
    family = _family()
    conditions: list[ColumnElement[bool]] = []
    if as_of is not None:
        conditions.append(_m.date_creation <= as_of)
    if families:
        conditions.append(_family_in(s.stock_movements, families))
    stmt = (
        select(
            family,
            _m.dn,
            func.coalesce(func.sum(_m.quantite), 0).label("quantity"),
            func.count().label("movements"),
        )
        .where(*conditions)
        .group_by(family, _m.dn)
        .order_by(family, _m.dn)
    )
    return _frame(sql, stmt)


def deliveries_by_customer_month(
    sql: SqlStore,
    *,
    period: Period,
    customers: Sequence[str] = (),
    families: Sequence[str] = (),
) -> pd.DataFrame:
    """Delivered quantity and amount per customer and month. With families, only the lines
    of those families count. Columns: customer, month, quantity, amount."""
    if families:
        source, quantity, amount = _l, _l.c.quantity, _l.c.amount
        conditions = [*_delivery_conditions(_l, period, customers), _family_in(_l, families)]
    else:
        source, quantity, amount = _n, _n.c.total_quantity, _n.c.total_amount
        conditions = _delivery_conditions(_n, period, customers)
    stmt = (
        select(
            source.c.customer,
            source.c.month,
            func.coalesce(func.sum(quantity), 0).label("quantity"),
            func.coalesce(func.sum(amount), 0).label("amount"),
        )
        .where(*conditions)
        .group_by(source.c.customer, source.c.month)
        .order_by(source.c.customer, source.c.month)
    )
    return _frame(sql, stmt)


def top_products(
    sql: SqlStore,
    *,
    period: Period,
    customers: Sequence[str] = (),
    families: Sequence[str] = (),
    measure: str = "quantity",
    limit: int = DEFAULT_TOP,
) -> pd.DataFrame:
    """The `limit` articles delivered most (by quantity or amount) in the period.
    Columns: article, designation, family, quantity, amount, lines."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}")
    family = _family(_l)
    conditions = _delivery_conditions(_l, period, customers)
    if families:
        conditions.append(_family_in(_l, families))
    totals = {
        "quantity": func.coalesce(func.sum(_l.c.quantity), 0),
        "amount": func.coalesce(func.sum(_l.c.amount), 0),
    }
    stmt = (
        select(
            _l.c.article,
            func.min(_l.c.designation).label("designation"),
            family,
            totals["quantity"].label("quantity"),
            totals["amount"].label("amount"),
            func.count().label("lines"),
        )
        .where(*conditions)
        .group_by(_l.c.article, family)
        .order_by(totals[measure].desc(), _l.c.article.asc().nulls_last())
        .limit(limit)
    )
    return _frame(sql, stmt)


def customers_by_country(
    sql: SqlStore, *, statuses: Sequence[str] = (), customers: Sequence[str] = ()
) -> pd.DataFrame:
    """Number of customers per normalised country name (the raw name where none was
    recognised). Columns: country, customers."""
    c = s.customers.c
    country = func.coalesce(c.country_name, c.country, UNKNOWN_COUNTRY).label("country")
    conditions: list[ColumnElement[bool]] = []
    if statuses:
        conditions.append(c.status.in_(list(statuses)))
    if customers:
        conditions.append(c.customer_id.in_(list(customers)))
    stmt = (
        select(country, func.count().label("customers"))
        .where(*conditions)
        .group_by(country)
        .order_by(func.count().desc(), country)
    )
    return _frame(sql, stmt)


def top_and_rest(
    frame: pd.DataFrame, *, category: str, value: str, keep: int, rest: str
) -> pd.DataFrame:
    """`frame` with every `category` outside the `keep` largest (by total `value`) renamed
    `rest` and summed, so a chart keeps a readable number of colours."""
    if frame.empty:
        return frame
    totals = frame.groupby(category, dropna=False)[value].sum().sort_values(ascending=False)
    if len(totals) <= keep:
        return frame
    kept = set(totals.index[:keep])
    out = frame.copy()
    out[category] = out[category].where(out[category].isin(kept), rest)
    keys = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    return out.groupby(keys, dropna=False, as_index=False).sum(numeric_only=True)


# --------------------------------------------------------------------------- internals
def _month(column: ColumnElement[Any], *, postgres: bool) -> ColumnElement[Any]:
    """The month of a date: 'YYYY-MM' text on SQLite; on PostgreSQL its first day (cheaper to
    compute than text; `movements_over_time` formats the few groups afterwards)."""
    return func.date_trunc("month", column) if postgres else func.strftime("%Y-%m", column)


def _family(table: Table = s.stock_movements) -> ColumnElement[str]:
    return func.coalesce(table.c.family, UNCLASSIFIED).label("family")


def _family_in(table: Table, families: Sequence[str]) -> ColumnElement[bool]:
    named = [f for f in families if f != UNCLASSIFIED]
    condition = table.c.family.in_(named)
    return condition | table.c.family.is_(None) if UNCLASSIFIED in families else condition


def _movement_conditions(
    period: Period,
    families: Sequence[str],
    movement_types: Sequence[str],
    customers: Sequence[str],
) -> list[ColumnElement[bool]]:
    conditions = [_m.date_creation >= period.start, _m.date_creation <= period.end]
    if families:
        conditions.append(_family_in(s.stock_movements, families))
    if movement_types:
        conditions.append(_m.type_mouvement.in_(list(movement_types)))
    if customers:
        conditions.append(_m.tiers.in_(list(customers)))
    return conditions


def _delivery_conditions(
    table: Table, period: Period, customers: Sequence[str]
) -> list[ColumnElement[bool]]:
    date = table.c.delivery_date
    conditions = [date >= period.start, date <= period.end]
    if customers:
        conditions.append(table.c.customer.in_(list(customers)))
    return conditions


def _frame(sql: SqlStore, stmt: Any) -> pd.DataFrame:
    with sql.begin() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame.from_records([tuple(r) for r in result], columns=list(result.keys()))
