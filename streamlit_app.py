"""Pipeworks home: what is stored, what is happening, where to go next."""

from __future__ import annotations

import streamlit as st

from core.ui import runtime
from core.ui.status import stored_counts

st.set_page_config(page_title="Pipeworks", page_icon="🧮", layout="wide")
st.title("Pipeworks")
st.caption(
    "Turn the ERP's stock-movement exports, delivery lists and customer files into clean "
    "stores, live reports and customer segments."
)

svc = runtime.start()
if svc is None:
    st.stop()

counts = stored_counts(svc)
columns = st.columns(len(counts))
for column, (label, value) in zip(columns, counts.items(), strict=True):
    column.metric(label, f"{value:,}")

settings = svc.settings
mode = "embedded (files in the data folder)" if settings.is_embedded else "servers"
st.markdown(f"**Mode:** {mode} · **Relational store:** {svc.sql.service}")
if settings.is_embedded:
    if runtime.worker_running():
        st.success("The background worker is running: committed uploads are stored automatically.")
    else:
        st.warning("The background worker is not running yet; it starts with the app.")

st.subheader("Start here")
st.page_link("pages/1_Upload.py", label="Upload a workbook", icon="📤")
st.page_link("pages/2_Ingestion.py", label="Follow uploads and errors", icon="🛰️")

recent = svc.sql.list_uploads(limit=5)
if recent:
    st.subheader("Latest uploads")
    st.dataframe(
        [
            {
                "File": u["file_name"],
                "Dataset": u["dataset"],
                "Status": u["status"],
                "Valid": u["valid_rows"],
                "Stored": u["stored"],
                "When": u["created_at"],
            }
            for u in recent
        ],
        hide_index=True,
    )
