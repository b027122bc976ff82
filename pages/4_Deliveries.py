"""Deliveries: delivery notes with their customer, date and totals; each expands to its lines."""

from __future__ import annotations

import streamlit as st

from core.queries import deliveries
from core.queries.columns import DELIVERY_COLUMNS
from core.ui import browse, runtime

KEY = "deliveries"
PICKABLE = ("customer", "month", "site", "currency", "country", "carrier")

st.set_page_config(page_title="Deliveries · Pipeworks", page_icon="🚚", layout="wide")
st.title("Deliveries")
st.caption("Delivery notes built from customer deliveries and from delivery lists.")
svc = runtime.start()
if svc is None:
    st.stop()
store = browse.store_key(svc)

filters = browse.filter_panel(
    DELIVERY_COLUMNS,
    key=KEY,
    choices=lambda column: browse.delivery_pick_list(svc.sql, store, column),
    pickable=PICKABLE,
    default=("customer", "delivery_date"),
)
sort, size = browse.table_settings(
    DELIVERY_COLUMNS, key=KEY, default_sort=("delivery_date", -1), reset_on=filters
)
result: dict[str, deliveries.DeliveryPage] = {}


def fetch(number: int) -> browse.Page:
    result["page"] = browse.delivery_page(
        svc.sql, store, filters, tuple(sort), number, min(size, 100)
    )
    return result["page"].headers


page = browse.fetch_in_range(KEY, fetch)
labels = {c.name: c.label for c in DELIVERY_COLUMNS}
for header in page.rows.to_dict("records"):
    title = (
        f"**{header['delivery_no']}** · {header['customer'] or 'no customer'} · "
        f"{header['delivery_date'] or 'no date'} · {header['line_count']} lines · "
        f"quantity {header['total_quantity'] or 0:,.2f}"
    )
    with st.expander(title):
        details = {labels[k]: v for k, v in header.items() if v is not None and k != "delivery_no"}
        st.caption(" · ".join(f"{k}: {v}" for k, v in details.items()))
        st.dataframe(result["page"].lines[header["delivery_no"]], hide_index=True, width="stretch")
browse.pager(page, key=KEY)
browse.download_buttons(
    lambda: deliveries.iter_line_frames(svc.sql, filters=filters),
    file_stem="delivery_lines",
    key=KEY,
    rows=page.total,
)
