"""Dashboards: stock movements over time, stock on hand, deliveries per customer and month,
top products and customers by country, each following the period, family and customer
chosen at the top."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.express as px
import streamlit as st

from core.adapters.sql_store import SqlStore
from core.queries import dashboards
from core.queries.periods import Period
from core.ui import browse, runtime

KEY = "dashboards"
TOP_CUSTOMERS = 10
OTHER_CUSTOMERS = "Other customers"
NO_DN = "no DN"

st.set_page_config(page_title="Dashboards · Pipeworks", page_icon="📊", layout="wide")
st.title("Dashboards")
svc = runtime.start()
if svc is None:
    st.stop()
store = browse.store_key(svc)


@st.cache_data(ttl=browse.CACHE_TTL_S, show_spinner=False)
def movements(
    _sql: SqlStore,
    store: str,
    period: Period,
    families: Sequence[str],
    types: Sequence[str],
    customers: Sequence[str],
) -> pd.DataFrame:
    return dashboards.movements_over_time(
        _sql, period=period, families=families, movement_types=types, customers=customers
    )


@st.cache_data(ttl=browse.CACHE_TTL_S, show_spinner=False)
def on_hand(_sql: SqlStore, store: str, period: Period, families: Sequence[str]) -> pd.DataFrame:
    return dashboards.stock_on_hand(_sql, as_of=period.end, families=families)


@st.cache_data(ttl=browse.CACHE_TTL_S, show_spinner=False)
def per_customer(
    _sql: SqlStore,
    store: str,
    period: Period,
    customers: Sequence[str],
    families: Sequence[str],
) -> pd.DataFrame:
    return dashboards.deliveries_by_customer_month(
        _sql, period=period, customers=customers, families=families
    )


@st.cache_data(ttl=browse.CACHE_TTL_S, show_spinner=False)
def top(
    _sql: SqlStore,
    store: str,
    period: Period,
    customers: Sequence[str],
    families: Sequence[str],
    measure: str,
) -> pd.DataFrame:
    return dashboards.top_products(
        _sql, period=period, customers=customers, families=families, measure=measure
    )


@st.cache_data(ttl=browse.CACHE_TTL_S, show_spinner=False)
def countries(
    _sql: SqlStore, store: str, statuses: Sequence[str], customers: Sequence[str]
) -> pd.DataFrame:
    return dashboards.customers_by_country(_sql, statuses=statuses, customers=customers)


_, latest = browse.date_bounds(svc.sql, store, "stock_movements", "date_creation")
left, middle, right = st.columns(3)
with left:
    period = browse.period_picker(key=f"{KEY}.period", latest=latest)
family_options = [
    *browse.pick_list(svc.sql, store, "stock_movements", "family"),
    dashboards.UNCLASSIFIED,
]
families = tuple(middle.multiselect("Families", family_options, key=f"{KEY}.families"))
customer_options = browse.delivery_pick_list(svc.sql, store, "customer")
customers = tuple(right.multiselect("Customers", customer_options, key=f"{KEY}.customers"))
if period is None:
    st.stop()

tab_moves, tab_stock, tab_deliveries, tab_top, tab_countries = st.tabs(
    ["Stock movements", "Stock on hand", "Deliveries", "Top products", "Customers by country"]
)

with tab_moves:
    type_options = browse.pick_list(svc.sql, store, "stock_movements", "type_mouvement")
    types = tuple(st.multiselect("Movement types", type_options, key=f"{KEY}.types"))
    colour = st.radio(
        "Colour by",
        ["type_mouvement", "family"],
        horizontal=True,
        key=f"{KEY}.colour",
        format_func={"type_mouvement": "Movement type", "family": "Family"}.get,
    )
    frame = movements(svc.sql, store, period, families, types, customers)
    if frame.empty:
        st.info("No stock movement in this period.")
    else:
        chart = frame.groupby(["month", colour], as_index=False)["quantity"].sum()
        figure = px.bar(
            chart,
            x="month",
            y="quantity",
            color=colour,
            barmode="relative",
            labels={"month": "Month", "quantity": "Signed quantity", colour: "Legend"},
        )
        st.plotly_chart(figure, width="stretch", key=f"{KEY}.moves")

with tab_stock:
    frame = on_hand(svc.sql, store, period, families)
    st.caption(f"Sum of signed quantities of every movement up to {period.end}.")
    if frame.empty:
        st.info("No stock movement stored.")
    else:
        frame = frame.assign(dn=frame["dn"].map(lambda d: NO_DN if pd.isna(d) else str(int(d))))
        order = sorted(set(frame["dn"]), key=lambda d: (d == NO_DN, int(d) if d != NO_DN else 0))
        figure = px.bar(
            frame,
            x="dn",
            y="quantity",
            color="family",
            barmode="group",
            category_orders={"dn": order},
            labels={"dn": "DN (mm)", "quantity": "On hand", "family": "Family"},
        )
        st.plotly_chart(figure, width="stretch", key=f"{KEY}.stock")

with tab_deliveries:
    frame = per_customer(svc.sql, store, period, customers, families)
    if frame.empty:
        st.info("No delivery in this period.")
    else:
        chart = dashboards.top_and_rest(
            frame, category="customer", value="quantity", keep=TOP_CUSTOMERS, rest=OTHER_CUSTOMERS
        )
        figure = px.bar(
            chart,
            x="month",
            y="quantity",
            color="customer",
            labels={"month": "Month", "quantity": "Delivered quantity", "customer": "Customer"},
        )
        st.plotly_chart(figure, width="stretch", key=f"{KEY}.deliveries")

with tab_top:
    measure = st.radio(
        "Rank by",
        list(dashboards.MEASURES),
        horizontal=True,
        key=f"{KEY}.measure",
        format_func=str.capitalize,
    )
    frame = top(svc.sql, store, period, customers, families, measure)
    if frame.empty:
        st.info("No delivery in this period.")
    else:
        figure = px.bar(
            frame.iloc[::-1],
            x=measure,
            y="article",
            color="family",
            orientation="h",
            hover_data=["designation", "lines"],
            labels={"article": "Article", measure: measure.capitalize(), "family": "Family"},
        )
        st.plotly_chart(figure, width="stretch", key=f"{KEY}.top")

with tab_countries:
    statuses = tuple(
        st.multiselect(
            "Customer status",
            browse.pick_list(svc.sql, store, "customers", "status"),
            key=f"{KEY}.statuses",
        )
    )
    frame = countries(svc.sql, store, statuses, customers)
    if frame.empty:
        st.info("No customer stored.")
    else:
        figure = px.pie(frame, names="country", values="customers", hole=0.3)
        st.plotly_chart(figure, width="stretch", key=f"{KEY}.countries")
