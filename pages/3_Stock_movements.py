"""Stock movements: filter, sort and page through every stored ERP movement; download them."""

from __future__ import annotations

import streamlit as st

from core.queries import tables
from core.queries.columns import STOCK_MOVEMENT_COLUMNS, STOCK_MOVEMENT_DEFAULT_COLUMNS
from core.ui import browse, runtime

KEY = "movements"
DATASET = "stock_movements"
PICKABLE = (
    "type_mouvement",
    "family",
    "product_type",
    "site",
    "depot",
    "uc",
    "statut",
    "devise",
    "resin",
    "reinforcement",
    "lot_machine",
    "type_piece",
    "tiers",
    "emplacement",
    "dn",
    "pn",
)

st.set_page_config(page_title="Stock movements · Pipeworks", page_icon="📦", layout="wide")
st.title("Stock movements")
svc = runtime.start()
if svc is None:
    st.stop()
store = browse.store_key(svc)

filters = browse.filter_panel(
    STOCK_MOVEMENT_COLUMNS,
    key=KEY,
    choices=lambda column: browse.pick_list(svc.sql, store, DATASET, column),
    pickable=PICKABLE,
    default=("type_mouvement", "date_creation"),
)
by_name = {c.name: c for c in STOCK_MOVEMENT_COLUMNS}
shown = st.multiselect(
    "Columns",
    list(by_name),
    default=list(STOCK_MOVEMENT_DEFAULT_COLUMNS),
    format_func=lambda name: by_name[name].label,
    key=f"{KEY}.columns",
)
columns = tuple(shown or STOCK_MOVEMENT_DEFAULT_COLUMNS)
sort, size = browse.table_settings(
    STOCK_MOVEMENT_COLUMNS, key=KEY, default_sort=("date_creation", -1), reset_on=filters
)
page = browse.fetch_in_range(
    KEY,
    lambda number: browse.table_page(
        svc.sql, store, DATASET, filters, tuple(sort), number, size, columns
    ),
)
browse.show_table(page.rows, STOCK_MOVEMENT_COLUMNS)
browse.pager(page, key=KEY)
browse.download_buttons(
    lambda: tables.iter_frames(svc.sql, DATASET, filters=filters, sort=sort, columns=columns),
    file_stem="stock_movements",
    key=KEY,
    rows=page.total,
)
