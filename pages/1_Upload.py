"""Upload: drop a workbook, check what was understood and what is wrong, then commit."""

from __future__ import annotations

import streamlit as st

from core.domain.schemas import DATASETS
from core.errors import FileRejected, PipeworksError
from core.ingest.mapping import make_mapping
from core.ingest.validate import report_csv, validate
from core.ui import keys, runtime, upload
from core.usecases.ingest_file import FileCheck, commit_check

st.set_page_config(page_title="Upload · Pipeworks", page_icon="📤", layout="wide")
st.title("Upload a workbook")
svc = runtime.start()
if svc is None:
    st.stop()

st.caption(
    "Excel (xlsx, xlsm, xls) or CSV. Nothing is stored until you commit; only valid rows are "
    f"committed. Largest file: {svc.settings.max_upload_mb} MB."
)
file = st.file_uploader("Workbook", type=["xlsx", "xlsm", "xls", "csv"], key="upload.file")
upload.prepare_reader(svc)
if file is None:
    st.stop()

stored = upload.save_upload(svc, file.name, file.getvalue())
try:
    info = upload.inspect(svc, stored)
except FileRejected as exc:
    st.error(f"**{file.name}** cannot be read: {exc}")
    st.stop()

for note in info.notes:
    st.info(note)

left, right = st.columns(2)
sheet_labels = {
    s.name: f"{s.name} ({s.rows:,} rows)" if s.rows is not None else s.name for s in info.sheets
}
sheet_name = left.selectbox(
    "Sheet", list(sheet_labels), format_func=sheet_labels.__getitem__, key="upload.sheet"
)
try:
    raw = upload.sheet(svc, stored, sheet_name)
except FileRejected as exc:
    st.error(f"Sheet **{sheet_name}** of {file.name} cannot be read: {exc}")
    st.stop()

names = list(DATASETS)
dataset = right.radio(
    "What is in it?",
    names,
    index=names.index(upload.guess_dataset(raw.headers)),
    format_func=lambda n: DATASETS[n].title,
    horizontal=True,
    key="upload.dataset",
)

st.caption(f"Header found on row {raw.header_row}; {len(raw.frame):,} data rows.")
for problem in raw.problems:
    st.warning(problem.message)

# -- mapping
start_mapping, origin = upload.starting_mapping(svc, dataset, raw)
st.subheader("Columns")
st.caption(
    "The mapping saved for files of this layout was applied."
    if origin == "saved"
    else "Matched by name; adjust any column, the choice is remembered for this layout."
)
edited = st.data_editor(
    upload.mapping_table(dataset, start_mapping),
    column_config={
        "Column in the file": st.column_config.SelectboxColumn(
            options=upload.column_choices(dataset, raw), required=True
        ),
    },
    disabled=["Field", "Required", "Type"],
    hide_index=True,
    key=f"upload.mapping.{dataset}.{start_mapping.signature}",
)
try:
    mapping = make_mapping(DATASETS[dataset], raw.headers, upload.assignments_from(dataset, edited))
except ValueError as exc:
    st.error(str(exc))
    st.stop()
if mapping.unexpected:
    kept = " They are kept as extra attributes." if DATASETS[dataset].keeps_extra_columns else ""
    st.info("Columns not used: " + ", ".join(mapping.unexpected) + "." + kept)
if mapping.missing_required:
    titles = [DATASETS[dataset].field(n).title for n in mapping.missing_required]
    st.error("Required fields without a column: " + ", ".join(titles))
    st.stop()

# -- validation report
report = validate(DATASETS[dataset], raw, mapping, file_name=info.file_name)
check = FileCheck(
    info=info,
    raw=raw,
    mapping=mapping,
    mapping_source="chosen",
    report=report,
    already_loaded=svc.sql.find_loaded(dataset, info.sha256),
)
st.subheader("Validation")
a, b, c, d = st.columns(4)
a.metric("Rows", f"{report.total:,}")
b.metric("Valid", f"{report.valid:,}")
c.metric("Rejected", f"{report.rejected:,}")
d.metric("Duplicates in the file", f"{report.duplicates:,}")
st.dataframe(report.preview, hide_index=True)
if len(report.issues):
    st.markdown(f"**Problems** ({len(report.issues):,} cells in {report.rejected:,} rows)")
    st.dataframe(report.issues.head(1000), hide_index=True)
if len(report.duplicates_list):
    with st.expander(f"Duplicates dropped ({report.duplicates:,})"):
        st.caption(
            "Each row listed repeats the kept row: the same key, or, in a file without line "
            "numbers, the same value in every column (same: values)."
        )
        st.dataframe(report.duplicates_list.head(1000), hide_index=True)
st.download_button(
    "Download the validation report (CSV)",
    report_csv(report),
    file_name=f"{info.file_name}.report.csv",
    mime="text/csv",
)

# -- commit
if check.already_loaded:
    when = check.already_loaded["created_at"]
    st.warning(
        f"This file was already loaded on {when:%Y-%m-%d %H:%M}; committing it again adds nothing."
    )
if report.valid == 0:
    st.error("No valid row to commit.")
    st.stop()
if st.button(
    f"Commit {report.valid:,} valid rows", type="primary", disabled=bool(check.already_loaded)
):
    bar = st.progress(0.0, text="Publishing…")
    try:
        result = commit_check(
            check,
            svc,
            source="app",
            progress=lambda done, total: bar.progress(
                done / total, text=f"Published {done:,} of {total:,}"
            ),
        )
    except PipeworksError as exc:
        st.error(f"Nothing was reported published: {exc}")
        st.stop()
    st.session_state[keys.UPLOAD_RESULT] = result.upload_id
    st.success(f"Published {result.published:,} rows. The worker is storing them.")


@st.fragment(run_every=1.0)
def storing() -> None:
    upload_id = st.session_state.get(keys.UPLOAD_RESULT)
    record = svc.sql.get_upload(upload_id) if upload_id else None
    if record is None or record["published"] == 0:
        return
    done = record["stored"] + record["dead_lettered"]
    st.progress(
        min(done / record["published"], 1.0),
        text=f"Stored {record['stored']:,} of {record['published']:,}",
    )
    if record["status"] == "stored":
        st.success(f"All rows of {record['file_name']} are stored.")


storing()
