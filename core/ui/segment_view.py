"""Widgets of the segmentation screen that show a result: quality, profile cards with
renaming, charts, downloads, saving and scoring. The figures come from `segment_charts`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from core import exports
from core.bootstrap import Services
from core.segmentation import (
    NOISE,
    Prepared,
    SegmentationError,
    SegmentationResult,
    SegmentProfile,
)
from core.ui import browse
from core.ui import segment_charts as charts
from core.ui import segment_keys as K
from core.usecases import segmentation as uc

ALGORITHM_LABELS = {"kmeans": "K-means", "dbscan": "DBSCAN", "hdbscan": "HDBSCAN"}
SCOPE_LABELS = {
    "new": "Customers not in the run",
    "changed": "Not in the run, or updated since",
    "all": "Every customer",
}
NUMBER = st.column_config.NumberColumn(format="%.2f")
PROFILE_FORMATS = {
    **dict.fromkeys(("Mean", "Overall mean", "Median", "Overall median"), NUMBER),
    "Difference (sd)": st.column_config.NumberColumn(format="%+.2f"),
}
T = TypeVar("T")


@st.cache_data(ttl=browse.CACHE_TTL_S, show_spinner="Reading customers…")
def customer_features(
    _svc: Services, store: str, behaviour: uc.Behaviour, since: dt.date | None
) -> uc.CustomerFeatures:
    return uc.load_customer_features(_svc, behaviour=behaviour, since=since)


def cached(key: str, token: object, compute: Callable[[], T]) -> T:
    """The value this session keeps under `key` for `token`, computed once per token."""
    kept = st.session_state.get(key)
    if kept is None or kept[0] != token:
        st.session_state[key] = (token, compute())
    return st.session_state[key][1]


def kept(key: str, token: object) -> Any:
    """What `cached` holds under `key` for `token`, else None."""
    value = st.session_state.get(key)
    return value[1] if value is not None and value[0] == token else None


def put_result(
    result: SegmentationResult,
    *,
    run_id: int | None,
    prepared: Prepared | None,
    source: uc.FeatureSource,
) -> None:
    """Show `result` from now on (a new run with its prepared customers, or a reopened one)."""
    state = st.session_state
    state[K.RESULT], state[K.RUN_ID], state[K.RESULT_PREPARED] = result, run_id, prepared
    state[K.RESULT_SOURCE], state[K.RESULT_TOKEN] = source, uuid.uuid4().hex[:8]


def show(svc: Services) -> None:
    """The result on screen, if any: quality, profiles, charts, downloads, save and score."""
    state = st.session_state
    result: SegmentationResult | None = state.get(K.RESULT)
    if result is None:
        return
    token, source = state[K.RESULT_TOKEN], state[K.RESULT_SOURCE]
    prepared: Prepared | None = state.get(K.RESULT_PREPARED)
    if prepared is not None:  # a new run: the values it clustered
        data: Prepared | uc.CustomerFeatures = prepared
        details = prepared.described
    else:  # a reopened run: the customers as stored now
        data = customer_features(svc, browse.store_key(svc), source.behaviour, source.since)
        details = data.details
    table = uc.export_frame(result, data)
    st.divider()
    _quality(result, state.get(K.RUN_ID), token)
    st.subheader("Segment profiles")
    for profile in result.profiles:
        _card(svc, result, profile, token)
    _charts(result, token, details, table)
    _downloads(table, state.get(K.RUN_ID))
    _save_or_score(svc, result, token, source)


def _quality(result: SegmentationResult, run_id: int | None, token: str) -> None:
    where = f"run #{run_id}" if run_id else "not saved yet"
    st.header(f"{ALGORITHM_LABELS[result.algorithm]} segments · {where}")
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    st.caption(f"{params} · seed {result.seed} · {result.n:,} customers")
    q = result.quality
    noise = f"noise {q.noise_share:.0%}" if NOISE in q.sizes else None
    left, middle, right, last = st.columns(4)
    left.metric("Segments", q.n_segments, noise, "off")
    middle.metric("Silhouette (−1 to 1, higher is better)", _fmt(q.silhouette, ".3f"))
    right.metric("Davies-Bouldin (lower is better)", _fmt(q.davies_bouldin, ".3f"))
    last.metric("Calinski-Harabasz (higher is better)", _fmt(q.calinski_harabasz, ",.0f"))
    if q.silhouette_sample_size:
        st.caption(f"Silhouette computed on {q.silhouette_sample_size:,} of {q.n:,} customers.")
    for warning in result.warnings:
        st.warning(warning)
    for note in result.notes:
        st.info(note)
    st.plotly_chart(charts.sizes_figure(result), key=K.keyed("sizes", token))


def _card(svc: Services, result: SegmentationResult, profile: SegmentProfile, token: str) -> None:
    segment = profile.segment
    with st.container(border=True):
        title, size = st.columns([3, 1])
        name = title.text_input(
            f"Name of segment {segment}",
            value=result.names.get(segment, ""),
            key=K.keyed(K.SEGMENT_NAME, token, segment),
        )
        if name != result.names.get(segment):
            run_id = st.session_state.get(K.RUN_ID)
            try:
                result.names = (
                    uc.rename_segment(svc.sql, run_id, segment, name)
                    if run_id
                    else uc.check_rename(result.names, segment, name)
                )
            except SegmentationError as exc:
                title.error(str(exc))
        size.metric("Customers", f"{profile.size:,}", f"{profile.share:.1%} of all", "off")
        apart = charts.distinguishing(profile)
        st.markdown("**Sets it apart:** " + ("; ".join(apart) or "nothing stands out"))
        st.dataframe(
            charts.profile_table(profile),
            hide_index=True,
            width="stretch",
            column_config=PROFILE_FORMATS,
        )


def _charts(
    result: SegmentationResult, token: str, details: pd.DataFrame, table: pd.DataFrame
) -> None:
    two, three, heat, spread, where = st.tabs(
        ["PCA 2-D", "PCA 3-D", "Feature profiles", "Distributions", "Countries"]
    )
    names = tuple(sorted(result.names.items()))
    for tab, dims in ((two, 2), (three, 3)):
        # Up to 20,000 points with their hover text: built once per result and names.
        figure = cached(
            K.keyed(K.FIGURE, dims),
            (token, names),
            lambda dims=dims: charts.projection_figure(result, details, dims=dims),
        )
        if figure is None:
            tab.info("Fewer than 3 feature columns: no 3-D projection.")
        else:
            tab.plotly_chart(figure, key=K.keyed("pca", dims, token))
    heat.plotly_chart(charts.profile_heatmap(result), key=K.keyed("heat", token))
    numeric = [f.feature for f in result.profiles[0].features] if result.profiles else []
    if not numeric:
        spread.info("This run has no numeric feature to compare.")
    elif all(f in table.columns for f in numeric):
        feature = spread.selectbox("Feature to compare", numeric, key=K.DISTRIBUTION)
        figure = charts.distribution_figure(table, feature, result.names)
        spread.plotly_chart(figure, key=K.keyed("spread", token))
    else:
        spread.info("The features of this run are no longer stored for its customers.")
    countries = charts.countries_figure(result)
    if countries is None:
        where.info("This run kept no country column.")
    else:
        where.plotly_chart(countries, key=K.keyed("countries", token))


def _downloads(table: pd.DataFrame, run_id: int | None) -> None:
    stem = f"segments-run-{run_id or 'unsaved'}"
    csv, xlsx, _ = st.columns([1, 1, 3])
    csv.download_button(
        "Download CSV",
        data=lambda: exports.csv_bytes(table),
        file_name=f"{stem}.csv",
        mime=exports.CSV_MIME,
        key=K.CSV,
        on_click="ignore",
    )
    xlsx.download_button(
        "Download Excel",
        data=lambda: exports.xlsx_bytes(table, sheet="Segments"),
        file_name=f"{stem}.xlsx",
        mime=exports.XLSX_MIME,
        key=K.XLSX,
        on_click="ignore",
    )


def _save_or_score(
    svc: Services, result: SegmentationResult, token: str, source: uc.FeatureSource
) -> None:
    state = st.session_state
    run_id = state.get(K.RUN_ID)
    st.subheader("Save and score")
    if run_id is None:
        default = (
            f"{ALGORITHM_LABELS[result.algorithm]}, {result.quality.n_segments} segments, "
            f"{dt.date.today().isoformat()}"
        )
        name = st.text_input("Run name", value=default, key=K.keyed(K.RUN_NAME, token))
        if st.button("Save run", type="primary", key=K.SAVE):
            try:
                state[K.RUN_ID] = uc.save_run(svc.sql, result, name=name, source=source)
                st.rerun()
            except SegmentationError as exc:
                st.error(str(exc))
        st.caption("Save the run to score new or changed customers with it.")
        return
    st.success(f"Saved as run #{run_id}; renamed segments are saved with it.")
    scope = st.radio(
        "Customers to score",
        list(SCOPE_LABELS),
        format_func=SCOPE_LABELS.get,
        horizontal=True,
        key=K.SCORE_SCOPE,
    )
    if st.button("Score customers", key=K.SCORE):
        with st.status("Scoring customers…") as status:
            try:
                scored = uc.score_customers(svc, uc.load_run(svc.sql, run_id), scope=scope)
            except SegmentationError as exc:
                status.update(label="Scoring failed", state="error")
                st.error(str(exc))
            else:
                state[K.SCORED] = (run_id, scored)
                status.update(label=f"{len(scored):,} customers scored", state="complete")
    scored = kept(K.SCORED, run_id)
    if scored is not None:
        st.caption(f"{len(scored):,} customers scored with run #{run_id}.")
        st.dataframe(scored, hide_index=True)


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)
