"""Ingestion: every upload with live progress, the consumer lag and dead letters."""

from __future__ import annotations

import streamlit as st

from core.ui import runtime
from core.ui.progress import consumer_lag, uploads_table

st.set_page_config(page_title="Ingestion · Pipeworks", page_icon="🛰️", layout="wide")
st.title("Ingestion")
svc = runtime.start()
if svc is None:
    st.stop()

live = st.toggle("Refresh every 2 seconds", value=False)


@st.fragment(run_every=2 if live else None)
def status() -> None:
    lag = consumer_lag(svc)
    if lag is None:
        st.warning("The message bus cannot be reached: lag unknown.")
    else:
        columns = st.columns(len(lag) or 1)
        for column, (dataset, waiting) in zip(columns, lag.items(), strict=False):
            column.metric(f"Waiting to be stored · {dataset.replace('_', ' ')}", f"{waiting:,}")
    rows = uploads_table(svc)
    if not rows:
        st.info("Nothing uploaded yet. Start on the Upload page.")
        return
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "Progress": st.column_config.ProgressColumn("Stored", min_value=0.0, max_value=1.0),
            "When": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss"),
        },
    )


status()

st.subheader("Dead letters")
st.caption("Messages that could never be stored; each names its topic position and the reason.")
dead = svc.sql.dead_letter_list()
if dead:
    st.dataframe(
        [
            {
                "When": d["created_at"],
                "Topic": d["topic"],
                "Offset": d["offset"],
                "Upload": d["upload_id"],
                "Error": d["error"],
                "Payload": d["payload"][:200] if d["payload"] else "",
            }
            for d in dead
        ],
        hide_index=True,
    )
else:
    st.success("No dead letters.")
