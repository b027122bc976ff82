"""Reports: the stock status and deliveries-by-family workbooks, on demand for a period, and
every run recorded (manual or daily) with its file."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core import exports, reports
from core.errors import ServiceUnavailable
from core.ui import browse, runtime

KEY = "reports"

st.set_page_config(page_title="Reports · Pipeworks", page_icon="📑", layout="wide")
st.title("Reports")
svc = runtime.start()
if svc is None:
    st.stop()
store = browse.store_key(svc)


def _file(path: Path) -> bytes:
    return path.read_bytes()


st.subheader("Write a report")
left, right = st.columns([1, 2])
with left:
    kind = st.radio(
        "Report", list(reports.REPORTS), format_func=reports.REPORTS.get, key=f"{KEY}.kind"
    )
with right:
    _, latest = browse.date_bounds(svc.sql, store, "stock_movements", "date_creation")
    period = browse.period_picker(key=f"{KEY}.period", latest=latest, months=1)
st.caption(
    "Stock status: pipe movements other than customer deliveries, with DN, PN, SN, resin, "
    "reinforcement and lot details. Deliveries by family: customer deliveries without raw "
    "materials, one sheet per product family."
)
if st.button("Write report", type="primary", disabled=period is None, key=f"{KEY}.write"):
    with st.spinner("Writing the workbook…"):
        try:
            run = reports.write_report(kind, period, svc.sql, svc.settings.reports_dir)
        except ServiceUnavailable as exc:
            st.error(f"The report could not be written: {exc}")
        else:
            st.session_state[f"{KEY}.last"] = run.id
            st.success(f"{run.title} for {run.period.label}: {run.rows:,} rows written.")

runs = reports.list_runs(svc.sql)
last = next((r for r in runs if r.id == st.session_state.get(f"{KEY}.last")), None)
if last is not None and last.file.is_file():
    st.download_button(
        f"Download {last.file.name}",
        data=lambda: _file(last.file),
        file_name=last.file.name,
        mime=exports.XLSX_MIME,
        key=f"{KEY}.download_last",
        on_click="ignore",
    )

st.subheader("Recorded runs")
if not runs:
    st.info("No report written yet. The daily job writes both reports each morning.")
    st.stop()
st.dataframe(
    [
        {
            "When": r.created_at,
            "Report": r.title,
            "From": r.period.start,
            "To": r.period.end,
            "Rows": r.rows,
            "Trigger": r.trigger,
            "File": r.file.name,
        }
        for r in runs
    ],
    hide_index=True,
    width="stretch",
    column_config={"When": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
)
by_id = {r.id: r for r in runs}
chosen = by_id[
    st.selectbox(
        "Run to download",
        list(by_id),
        format_func=lambda i: (
            f"{by_id[i].title} · {by_id[i].period.label} · {by_id[i].trigger}"
            f" · {by_id[i].created_at:%Y-%m-%d %H:%M}"
        ),
        key=f"{KEY}.run",
    )
]
if chosen.file.is_file():
    st.download_button(
        "Download the chosen run",
        data=lambda: _file(chosen.file),
        file_name=chosen.file.name,
        mime=exports.XLSX_MIME,
        key=f"{KEY}.download_run",
        on_click="ignore",
    )
else:
    st.warning(f"The file {chosen.file.name} is no longer in the reports folder.")
