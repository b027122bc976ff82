"""Segmentation: group customers by master data and delivery behaviour, judge and name the
segments, save runs, reopen and compare them, and score new customers with a saved run."""

from __future__ import annotations

import hashlib

import streamlit as st

from core.segmentation import (
    ALGORITHMS,
    Prepared,
    SegmentationError,
    choose_k,
    default_min_cluster_size,
    default_min_samples,
    describe_columns,
    prepare,
    run,
    suggest_dbscan,
)
from core.segmentation.transform import SCALINGS
from core.ui import browse, runtime, segment_view
from core.ui import segment_charts as charts
from core.ui import segment_keys as K
from core.ui.segment_view import ALGORITHM_LABELS, cached, kept, put_result
from core.usecases import segmentation as uc

DEFAULT_K = 4
MAX_K = 50
MAX_MIN_SAMPLES = 1_000
BEHAVIOUR_LABELS = {
    "none": "Master data only",
    "deliveries": "Delivery notes (document store)",
    "movements": "Stock movements (relational store)",
}


def digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:12]


def kmeans_params(prepared: Prepared, token: str, seed: int) -> dict[str, int]:
    low, high = st.slider("Values of k to try", 2, 20, (2, 10), key=K.K_RANGE)
    if st.button("Compare k values", key=K.CHOOSE_K):
        with st.status("Trying each k…", expanded=True) as status:
            bar = st.progress(0.0)

            def progress(done: int, total: int) -> None:
                bar.progress(done / total, f"k {done} of {total}")

            choice = choose_k(prepared, k_range=range(low, high + 1), seed=seed, progress=progress)
            state[K.K_CHOICE] = (token, choice)
            status.update(label="Values of k compared", state="complete")
    choice = kept(K.K_CHOICE, token)
    if choice is not None:
        st.plotly_chart(charts.k_choice_figure(choice), key=K.keyed("k_choice", token))
        st.caption(choice.note)
    suggested = choice.suggested_k if choice is not None else DEFAULT_K
    k = st.number_input(
        "Number of segments (k)",
        2,
        MAX_K,
        suggested,
        key=K.keyed(K.K, token, suggested),
        help="The suggested k is preset once values of k are compared.",
    )
    return {"k": int(k)}


def dbscan_params(prepared: Prepared, token: str, seed: int) -> dict[str, float]:
    min_samples = st.number_input(
        "min_samples",
        2,
        MAX_MIN_SAMPLES,
        default_min_samples(prepared.dims),
        key=K.keyed(K.MIN_SAMPLES, token),
        help="Preset to twice the number of feature columns, at least 4.",
    )
    guide = cached(
        K.DBSCAN_GUIDE,
        (token, min_samples, seed),
        lambda: suggest_dbscan(prepared, min_samples=int(min_samples), seed=seed),
    )
    eps = st.number_input(
        "eps",
        1e-6,
        None,
        float(guide.eps),
        format="%.4f",
        key=K.keyed(K.EPS, token, min_samples),
        help="Preset at the knee of the k-distance curve; adjust it here.",
    )
    st.plotly_chart(charts.kdistance_figure(guide, eps=eps), key=K.keyed("kdist", token))
    st.caption(guide.note)
    return {"eps": float(eps), "min_samples": int(min_samples)}


def hdbscan_params(prepared: Prepared, token: str, seed: int) -> dict[str, int]:
    largest = max(prepared.n, 2)
    size = st.number_input(
        "min_cluster_size",
        2,
        largest,
        min(default_min_cluster_size(prepared.n), largest),
        key=K.keyed(K.MIN_CLUSTER_SIZE, token),
        help="Preset to 1 % of the customers (5 to 1,000).",
    )
    min_samples = st.number_input(
        "min_samples", 1, size, min(10, size), key=K.keyed(K.MIN_SAMPLES, token, size)
    )
    return {"min_cluster_size": int(size), "min_samples": int(min_samples)}


st.set_page_config(page_title="Segmentation · Pipeworks", page_icon="🧩", layout="wide")
st.title("Customer segmentation")
svc = runtime.start()
if svc is None:
    st.stop()
state = st.session_state

build, saved = st.tabs(["New segmentation", "Saved runs"])
with build:
    st.subheader("1 · Customers and features")
    left, right = st.columns([2, 1])
    behaviour = left.radio(
        "Behaviour features from",
        list(BEHAVIOUR_LABELS),
        format_func=BEHAVIOUR_LABELS.get,
        horizontal=True,
        key=K.BEHAVIOUR,
    )
    since = right.date_input(
        "Deliveries from",
        value=None,
        key=K.SINCE,
        disabled=behaviour == "none",
        help="Empty: every delivery stored.",
    )
    since = since if behaviour != "none" else None
    features = segment_view.customer_features(svc, browse.store_key(svc), behaviour, since)
    with st.expander("How the customer features were read"):
        st.markdown("\n".join(f"- {step}" for step in features.steps))
    prepared = None
    if features.frame.empty:
        st.info("No customer is stored yet: load a customer file on the Upload page.")
    else:
        columns = describe_columns(features.frame, id_column=features.id_column)
        kinds = {c.name: c.kind for c in columns}
        options = uc.feature_options(features, kinds)
        chosen = st.multiselect(
            "Features",
            options,
            default=[c for c in options if kinds[c] == "numeric"],
            key=K.keyed(K.FEATURES, behaviour),
            help="Customer IDs, names and other identifiers are never features.",
        )
        logged = st.multiselect(
            "Log transform (log1p)",
            [c for c in chosen if kinds[c] == "numeric"],
            default=[c.name for c in columns if c.suggest_log and c.name in chosen],
            key=K.keyed(K.LOG, behaviour, digest(chosen)),
            help="Suggested for skewed columns (skewness above 1, never negative).",
        )
        scaling = st.radio("Scaling", SCALINGS, horizontal=True, key=K.SCALING)
        with st.expander("Columns found"):
            st.dataframe([c.__dict__ for c in columns], hide_index=True)
        token = digest((features.fingerprint, chosen, logged, scaling))
        try:
            prepared = cached(
                K.PREPARED,
                token,
                lambda: prepare(
                    features.frame,
                    id_column=features.id_column,
                    features=chosen,
                    scaling=scaling,
                    log_features=logged,
                    describe=uc.describe_with(features),
                ),
            )
        except SegmentationError as exc:
            st.error(str(exc))

    if prepared is not None:
        with st.expander("Preprocessing", expanded=True):
            st.markdown("\n".join(f"- {step}" for step in prepared.report.steps))
        st.subheader("2 · Clustering")
        algorithm = st.radio(
            "Algorithm",
            ALGORITHMS,
            format_func=ALGORITHM_LABELS.get,
            horizontal=True,
            key=K.ALGORITHM,
        )
        seed = int(st.number_input("Random seed", 0, 2**31 - 1, 0, key=K.SEED))
        pick_params = {"kmeans": kmeans_params, "dbscan": dbscan_params}.get(
            algorithm, hdbscan_params
        )
        try:
            params = pick_params(prepared, token, seed)
        except SegmentationError as exc:
            st.error(str(exc))
            params = None
        if st.button("Run segmentation", type="primary", key=K.RUN, disabled=params is None):
            with st.status(f"Running {ALGORITHM_LABELS[algorithm]}…", expanded=True) as status:
                st.write(f"{prepared.n:,} customers × {prepared.dims} columns")
                try:
                    result = run(prepared, algorithm=algorithm, params=params, seed=seed)
                except SegmentationError as exc:
                    status.update(label="Segmentation failed", state="error")
                    st.error(str(exc))
                else:
                    put_result(result, run_id=None, prepared=prepared, source=features.source)
                    status.update(label="Segmentation done", state="complete")

with saved:
    runs = uc.list_runs(svc.sql)
    if not runs:
        st.info("No run saved yet.")
    else:
        st.dataframe(charts.runs_table(runs), hide_index=True)
        titles = {r.id: f"#{r.id} · {r.name}" for r in runs}
        picked = st.selectbox("Saved run", list(titles), format_func=titles.get, key=K.OPEN_PICK)
        if st.button("Open run", key=K.OPEN):
            try:
                opened = uc.load_run(svc.sql, picked)
            except SegmentationError as exc:
                st.error(str(exc))
            else:
                source = opened.summary.source
                put_result(opened.result, run_id=picked, prepared=None, source=source)
        st.subheader("Compare two runs")
        first, second = st.columns(2)
        run_a = first.selectbox("Run A", list(titles), format_func=titles.get, key=K.COMPARE_A)
        run_b = second.selectbox(
            "Run B",
            list(titles),
            index=min(1, len(titles) - 1),
            format_func=titles.get,
            key=K.COMPARE_B,
        )
        if st.button("Compare runs", key=K.COMPARE):
            state[K.COMPARISON] = uc.compare_runs(svc.sql, run_a, run_b)
        compared = state.get(K.COMPARISON)
        if compared is not None:
            c = compared.comparison
            ari = "n/a" if c.ari is None else f"{c.ari:.3f}"
            st.metric("Adjusted Rand index", ari, help="1: the same grouping; about 0: chance.")
            st.caption(
                f"{c.common:,} customers in both runs; {c.only_in_a:,} only in run A, "
                f"{c.only_in_b:,} only in run B. Rows: run A's segments; columns: run B's."
            )
            st.plotly_chart(charts.crosstab_figure(compared), key="segment.crosstab")

segment_view.show(svc)
