"""Customers: the customer master data with every extra column kept from the files."""

from __future__ import annotations

import streamlit as st

from core.queries import tables
from core.queries.columns import CUSTOMER_COLUMNS
from core.ui import browse, runtime

KEY = "customers"
DATASET = "customers"
PICKABLE = ("country", "country_name", "city", "status")

st.set_page_config(page_title="Customers · Pipeworks", page_icon="👥", layout="wide")
st.title("Customers")
svc = runtime.start()
if svc is None:
    st.stop()
store = browse.store_key(svc)

extra = browse.customer_attributes(svc.sql, store)
columns = (*CUSTOMER_COLUMNS, *extra)
attributes = tuple(c.label for c in extra)
filters = browse.filter_panel(
    columns,
    key=KEY,
    choices=lambda column: browse.pick_list(svc.sql, store, DATASET, column),
    pickable=PICKABLE,
    default=("country_name",),
)
sort, size = browse.table_settings(
    CUSTOMER_COLUMNS, key=KEY, default_sort=("customer_id", 1), reset_on=filters
)
fixed = tuple(c.name for c in CUSTOMER_COLUMNS)
page = browse.fetch_in_range(
    KEY,
    lambda number: browse.table_page(
        svc.sql, store, DATASET, filters, tuple(sort), number, size, fixed, attributes
    ),
)
browse.show_table(page.rows, CUSTOMER_COLUMNS)
browse.pager(page, key=KEY)
browse.download_buttons(
    lambda: tables.iter_frames(
        svc.sql, DATASET, filters=filters, sort=sort, columns=fixed, attributes=attributes
    ),
    file_stem="customers",
    key=KEY,
    rows=page.total,
)
