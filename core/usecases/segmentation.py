"""Segmentation use cases over the stores: customer features in, saved runs out.

    features = load_customer_features(services, behaviour="deliveries")
    prepared = prepare(features.frame, id_column=features.id_column, features=[...], ...)
    result = run(prepared, algorithm="kmeans", params={"k": 4})      # core.segmentation
    run_id = save_run(services.sql, result, name="Q3 customers", source=features.source)
    list_runs(sql); load_run(sql, run_id); rename_segment(sql, run_id, 0, "Key accounts")
    compare_runs(sql, run_a, run_b); score_customers(services, saved_run, scope="new")

Features come from `core.usecases.customer_features` (imported here for the pages). A run is
saved in one transaction: one `segmentation_runs` row (the whole result as JSON, the model
pickle, the segment names as last renamed, metrics, features, preprocessing, seed, data hash)
and one `segment_assignments` row per customer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update

from core.adapters import sql_schema as s
from core.adapters.sql_store import SqlStore, utcnow
from core.bootstrap import Services
from core.segmentation import (
    Comparison,
    Prepared,
    SegmentationError,
    SegmentationResult,
    compare,
    score,
    segments_frame,
)
from core.usecases.customer_features import (
    BEHAVIOURS,
    CUSTOMER_ID,
    Behaviour,
    CustomerFeatures,
    FeatureSource,
    describe_with,
    feature_options,
    load_customer_features,
)

__all__ = [
    "BEHAVIOURS",
    "SCOPES",
    "Behaviour",
    "CustomerFeatures",
    "FeatureSource",
    "RunComparison",
    "RunSummary",
    "SavedRun",
    "Scope",
    "assignments",
    "check_rename",
    "compare_runs",
    "describe_with",
    "export_frame",
    "feature_options",
    "list_runs",
    "load_customer_features",
    "load_run",
    "rename_segment",
    "save_run",
    "score_customers",
]

Scope = Literal["new", "changed", "all"]
SCOPES: tuple[Scope, ...] = ("new", "changed", "all")
INSERT_CHUNK = 5_000


@dataclass(frozen=True)
class RunSummary:
    """One saved run as the list of runs shows it (without its result or model)."""

    id: int
    name: str
    algorithm: str
    params: dict[str, Any]
    features: tuple[str, ...]
    source: FeatureSource
    n_customers: int
    n_segments: int
    silhouette: float | None
    created_at: dt.datetime


@dataclass(eq=False)
class SavedRun:
    """A reopened run: its summary and the stored result (names as renamed, model loaded)."""

    summary: RunSummary
    result: SegmentationResult


@dataclass(frozen=True, eq=False)
class RunComparison:
    """Two saved runs compared on their common customers (`crosstab`: rows a, columns b)."""

    a: RunSummary
    b: RunSummary
    names_a: dict[int, str]
    names_b: dict[int, str]
    comparison: Comparison


def export_frame(
    result: SegmentationResult, data: Prepared | CustomerFeatures | None
) -> pd.DataFrame:
    """customer_id, segment, segment_name and the run's features: the values clustered (from
    `Prepared`) or the current stored values (from `CustomerFeatures`, for a reopened run);
    without data, or when a feature is no longer stored, the first three columns only."""
    if isinstance(data, CustomerFeatures):
        if any(f not in data.frame.columns for f in result.features):
            return segments_frame(result)
        return segments_frame(result, data.frame)
    return segments_frame(result, data)


# ------------------------------------------------------------------------------ runs
def save_run(sql: SqlStore, result: SegmentationResult, *, name: str, source: FeatureSource) -> int:
    """Store `result` (with its current segment names) and its assignments in one
    transaction; returns the new run's ID. Nothing is stored when any write fails."""
    title = " ".join(name.split())
    if not title:
        raise SegmentationError("Give the run a name")
    names = _names(result)
    row = {
        "name": title,
        "algorithm": result.algorithm,
        "params": _plain(result.params),
        "features": {"columns": list(result.features), "source": source.to_dict()},
        "preprocessing": result.preprocessing.to_dict(),
        "seed": result.seed,
        "data_hash": result.data_hash,
        "metrics": result.quality.to_dict(),
        "segment_names": {str(k): v for k, v in names.items()},
        "result": result.to_dict(),
        "model": result.model_bytes(),
        "n_customers": result.n,
        "created_at": utcnow(),
    }
    with sql.begin() as conn:
        run_id = int(
            conn.execute(insert(s.segmentation_runs).values(**row)).inserted_primary_key[0]
        )
        rows = [
            {"run_id": run_id, "customer_id": customer, "segment": segment}
            for customer, segment in zip(result.customer_ids, result.labels, strict=True)
        ]
        for start in range(0, len(rows), INSERT_CHUNK):
            conn.execute(insert(s.segment_assignments), rows[start : start + INSERT_CHUNK])
    return run_id


def list_runs(sql: SqlStore) -> list[RunSummary]:
    """Every saved run, newest first."""
    r = s.segmentation_runs.c
    stmt = select(
        r.id, r.name, r.algorithm, r.params, r.features, r.metrics, r.n_customers, r.created_at
    ).order_by(r.created_at.desc(), r.id.desc())
    with sql.begin() as conn:
        return [_summary(row._mapping) for row in conn.execute(stmt)]


def load_run(sql: SqlStore, run_id: int) -> SavedRun:
    """Reopen a saved run exactly as stored: same labels, metrics and profiles, the names as
    last renamed, and its model loaded for scoring. Raises SegmentationError when missing."""
    r = s.segmentation_runs.c
    stmt = select(s.segmentation_runs).where(r.id == run_id)
    with sql.begin() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        raise SegmentationError(f"Run #{run_id} does not exist")
    values = row._mapping
    result = SegmentationResult.from_dict(values["result"])
    result.names = {int(k): str(v) for k, v in values["segment_names"].items()}
    if result.needs_model:
        if values["model"] is None:
            raise SegmentationError(f"Run #{run_id} has lost its model")
        result.load_model(bytes(values["model"]))
    return SavedRun(summary=_summary(values), result=result)


def rename_segment(sql: SqlStore, run_id: int, segment: int, name: str) -> dict[int, str]:
    """Rename one segment of a saved run; returns the run's names. Raises SegmentationError
    for an unknown run or segment, an empty name, or one another segment already has."""
    r = s.segmentation_runs.c
    with sql.begin() as conn:
        stored = conn.execute(select(r.segment_names).where(r.id == run_id)).scalar()
        if stored is None:
            raise SegmentationError(f"Run #{run_id} does not exist")
        names = check_rename({int(k): str(v) for k, v in stored.items()}, segment, name)
        conn.execute(
            update(s.segmentation_runs)
            .where(r.id == run_id)
            .values(segment_names={str(k): v for k, v in names.items()})
        )
    return names


def check_rename(names: Mapping[int, str], segment: int, name: str) -> dict[int, str]:
    """`names` with `segment` renamed; raises SegmentationError when the name cannot be used."""
    title = " ".join(name.split())
    if segment not in names:
        raise SegmentationError(f"There is no segment {segment}")
    if not title:
        raise SegmentationError("A segment name cannot be empty")
    clash = [k for k, v in names.items() if k != segment and v.casefold() == title.casefold()]
    if clash:
        raise SegmentationError(f"Segment {clash[0]} is already called '{title}'")
    return {**names, segment: title}


def assignments(sql: SqlStore, run_id: int) -> pd.Series:
    """The stored segment of each customer of a run, indexed by customer ID."""
    a = s.segment_assignments.c
    stmt = select(a.customer_id, a.segment).where(a.run_id == run_id).order_by(a.customer_id)
    with sql.begin() as conn:
        rows = conn.execute(stmt).all()
    index = pd.Index([row.customer_id for row in rows], name=CUSTOMER_ID, dtype=object)
    return pd.Series([row.segment for row in rows], index=index, name="segment", dtype="int64")


def compare_runs(sql: SqlStore, run_a: int, run_b: int) -> RunComparison:
    """Adjusted Rand index and crosstab of two saved runs' stored assignments."""
    summaries = {run.id: run for run in list_runs(sql) if run.id in (run_a, run_b)}
    for run_id in (run_a, run_b):
        if run_id not in summaries:
            raise SegmentationError(f"Run #{run_id} does not exist")
    return RunComparison(
        a=summaries[run_a],
        b=summaries[run_b],
        names_a=_stored_names(sql, run_a),
        names_b=_stored_names(sql, run_b),
        comparison=compare(assignments(sql, run_a), assignments(sql, run_b)),
    )


def score_customers(
    services: Services,
    run: SavedRun,
    *,
    scope: Scope = "new",
    customers: CustomerFeatures | None = None,
) -> pd.DataFrame:
    """Predicted segments of current customers under a saved run (nearest centroid for
    K-means, HDBSCAN's approximate prediction, DBSCAN's nearest core customer).

    scope "new": customers not in the run; "changed": those and customers whose master
    record was written after the run; "all": every current customer. `customers` defaults to
    the features read as the run read them. Columns: customer_id, segment, segment_name,
    in_run, run_segment (the segment in the run, empty for new customers).
    """
    if scope not in SCOPES:
        raise SegmentationError(f"Unknown scope {scope!r}: use one of {', '.join(SCOPES)}")
    result = run.result
    data = customers
    if data is None:
        source = run.summary.source
        data = load_customer_features(services, behaviour=source.behaviour, since=source.since)
    frame = data.frame
    in_run = frame[CUSTOMER_ID].isin(set(result.customer_ids))
    if scope == "new":
        frame = frame.loc[~in_run.to_numpy()]
    elif scope == "changed":
        created = pd.Timestamp(run.summary.created_at)
        created = created.tz_localize("UTC") if created.tzinfo is None else created
        stamps = data.stored_at.reindex(frame[CUSTOMER_ID].to_numpy())
        frame = frame.loc[(~in_run).to_numpy() | (stamps > created).to_numpy()]
    segments = score(result, frame)
    previous = result.assignments()
    return pd.DataFrame(
        {
            CUSTOMER_ID: segments.index.astype(object),
            "segment": segments.to_numpy(),
            "segment_name": [result.segment_name(int(v)) for v in segments],
            "in_run": segments.index.isin(previous.index),
            "run_segment": previous.reindex(segments.index).astype("Int64").to_numpy(),
        }
    )


def _summary(values: Mapping[str, Any]) -> RunSummary:
    metrics = values["metrics"]
    features = values["features"]
    silhouette = metrics.get("silhouette")
    return RunSummary(
        id=int(values["id"]),
        name=str(values["name"]),
        algorithm=str(values["algorithm"]),
        params=dict(values["params"]),
        features=tuple(features.get("columns", ())),
        source=FeatureSource.from_dict(features.get("source", {})),
        n_customers=int(values["n_customers"]),
        n_segments=int(metrics["n_segments"]),
        silhouette=None if silhouette is None else float(silhouette),
        created_at=values["created_at"],
    )


def _stored_names(sql: SqlStore, run_id: int) -> dict[int, str]:
    r = s.segmentation_runs.c
    with sql.begin() as conn:
        stored = conn.execute(select(r.segment_names).where(r.id == run_id)).scalar() or {}
    return {int(k): str(v) for k, v in stored.items()}


def _names(result: SegmentationResult) -> dict[int, str]:
    return {k: result.segment_name(k) or f"segment {k}" for k in sorted(set(result.labels))}


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as JSON types (numpy numbers become Python numbers)."""
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()}
