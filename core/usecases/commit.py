"""Commit a validated upload: record it, then publish its valid rows to the dataset's topic.

Nothing is reported published unless the bus acknowledged it; a file whose content was
already loaded is recognised and adds nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.adapters.sql_store import SqlStore
from core.domain.schemas import CUSTOMERS, DATASETS, DELIVERIES, STOCK_MOVEMENTS
from core.errors import PipeworksError
from core.messages import encode_frame
from core.ports import MessageBus

PUBLISH_CHUNK = 5_000
Progress = Callable[[int, int], None]  # (published so far, total)


@dataclass(frozen=True)
class CommitResult:
    upload_id: str
    published: int
    already_loaded: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class UploadFacts:
    """What is known of the file and its validation when the user commits."""

    dataset: str
    file_name: str
    sha256: str
    sheet: str | None
    layout: str | None
    mapping: Mapping[str, str]
    total_rows: int
    rejected_rows: int
    duplicate_rows: int
    source: str = "app"


def commit_upload(
    facts: UploadFacts,
    valid: pd.DataFrame,
    *,
    sql: SqlStore,
    bus: MessageBus,
    topic: str,
    progress: Progress | None = None,
    force: bool = False,
) -> CommitResult:
    """Record the upload and publish its valid rows. Raises `PublishError` or
    `ServiceUnavailable` (the upload is then marked failed with the reason)."""
    if not force:
        previous = sql.find_loaded(facts.dataset, facts.sha256)
        if previous is not None:
            return CommitResult(upload_id=previous["id"], published=0, already_loaded=previous)
    upload_id = str(uuid.uuid4())
    sql.create_upload(
        id=upload_id,
        dataset=facts.dataset,
        file_name=facts.file_name,
        sha256=facts.sha256,
        sheet=facts.sheet,
        layout=facts.layout,
        mapping=dict(facts.mapping),
        source=facts.source,
        total_rows=facts.total_rows,
        valid_rows=len(valid),
        rejected_rows=facts.rejected_rows,
        duplicate_rows=facts.duplicate_rows,
        status="publishing",
    )
    published = 0
    try:
        for chunk in enriched_chunks(facts.dataset, valid, PUBLISH_CHUNK):
            messages = encode_frame(facts.dataset, chunk, upload_id=upload_id, sheet=facts.sheet)
            published += bus.publish(topic, messages)
            sql.update_upload(upload_id, published=published)
            if progress:
                progress(published, len(valid))
    except PipeworksError as exc:
        sql.update_upload(upload_id, status="failed", message=str(exc), published=published)
        raise
    sql.mark_published(upload_id, published)
    return CommitResult(upload_id=upload_id, published=published)


def enriched_chunks(dataset: str, valid: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    """`enrich` of the rows, `size` rows at a time. Derived fields of one row alone are
    computed a chunk at a time, so the first messages go out (and the worker starts) without
    waiting for those of the whole file (a second per 100,000 movements); delivery line
    numbers, counted across the file, are computed first."""
    rows = valid.reset_index(drop=True)
    if dataset == DELIVERIES:
        rows = enrich(dataset, rows)
    for start in range(0, len(rows), size):
        chunk = rows.iloc[start : start + size]
        yield chunk if dataset == DELIVERIES else enrich(dataset, chunk)


def enrich(dataset: str, valid: pd.DataFrame) -> pd.DataFrame:
    """Derived fields stored with each row: product attributes, country names, line numbers,
    customer attributes."""
    rows = valid.reset_index(drop=True)
    if dataset == STOCK_MOVEMENTS:
        from core.domain.designation import parse_designations

        attributes = parse_designations(
            rows["designation_1"].tolist(),
            rows["lot"].tolist(),
            rows["article"].tolist(),
            rows["emplacement"].tolist(),
        )
        rows = pd.concat([rows, attributes.reset_index(drop=True)], axis=1)
    elif dataset == CUSTOMERS:
        from core.domain.countries import normalize_country

        known = set(DATASETS[CUSTOMERS].field_names) | {"sheet", "row", "attributes"}
        extra = [c for c in rows.columns if c not in known]
        rows["country_name"] = [
            normalize_country(c) if isinstance(c, str) and c.strip() else None
            for c in rows.get("country", pd.Series([None] * len(rows)))
        ]
        if "attributes" not in rows.columns:
            rows["attributes"] = rows[extra].to_dict("records") if extra else [{}] * len(rows)
        rows = rows.drop(columns=extra)
    elif dataset == DELIVERIES and rows["line_no"].isna().any():
        rows["line_no"] = _line_numbers(rows["delivery_no"], rows["line_no"])
    return rows


def _line_numbers(notes: pd.Series, given: pd.Series) -> pd.Series:
    """Line numbers for the lines of a delivery list that have none: their place in their note,
    in file order. In a note where a place is already another line's number, the lines without
    one are numbered after its highest number instead, so no line takes another's key."""
    numbered = given.fillna(notes.groupby(notes, sort=False).cumcount() + 1)
    clash = pd.DataFrame({"note": notes, "line": numbered}).duplicated(keep=False)
    if clash.any():
        missing = given.isna() & notes.isin(set(notes[clash]))
        after = given.groupby(notes, sort=False).transform("max").fillna(0)
        following = missing.astype(int).groupby(notes, sort=False).cumsum()
        numbered = numbered.where(~missing, after + following)
    return numbered
