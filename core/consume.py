"""The consume use case: one polled batch of row messages into the stores.

The worker's loop calls `store_batch` and commits the bus offsets only after it returns.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.adapters import sql_schema as s
from core.adapters.sql_store import CopyRows, SqlStore, StoreBatch, copy_rows, utcnow
from core.domain import deliveries
from core.domain.schemas import CUSTOMERS, DELIVERIES, STOCK_MOVEMENTS
from core.errors import PoisonMessage
from core.messages import Decoded, decode_value, upload_of
from core.ports import DocumentStore, Message, MessageBus, Record

log = logging.getLogger(__name__)

DELIVERIES_COLLECTION = "deliveries"
DLQ_SUFFIX = ".dlq"
_LINE_FIELDS = tuple(c.name for c in s.delivery_lines.c)


@dataclass(frozen=True)
class BatchOutcome:
    """What one batch did, and the seconds spent decoding (with routing), on documents and
    on the relational transaction."""

    stored: int
    dead_lettered: int
    decode_s: float = 0.0
    documents_s: float = 0.0
    relational_s: float = 0.0

    def __add__(self, other: BatchOutcome) -> BatchOutcome:
        return BatchOutcome(
            self.stored + other.stored,
            self.dead_lettered + other.dead_lettered,
            self.decode_s + other.decode_s,
            self.documents_s + other.documents_s,
            self.relational_s + other.relational_s,
        )


@dataclass
class Prepared:
    """A batch decoded and routed, ready to be written: the pure, CPU-bound part of storing it,
    which needs no store and can run in another process (`prepare`). Indexes are the
    records' positions in the batch."""

    now: dt.datetime  # the rows' `stored_at`
    uploads: list[str | None] = field(default_factory=list)  # None: cannot be stored
    errors: dict[int, str] = field(default_factory=dict)  # why a record can never be stored
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # table -> rows
    copied: dict[str, CopyRows] = field(default_factory=dict)  # table -> rendered for COPY
    lines: list[dict[str, Any]] = field(default_factory=list)  # delivery lines to merge


def prepare(
    values: Sequence[bytes], *, copy: bool = False, now: dt.datetime | None = None
) -> Prepared:
    """Decode and route the values of a batch's records, stamped `now` (by default the current
    time); with `copy`, the stock movements are also rendered for PostgreSQL's COPY
    (deduplicated by key, see `copy_rows`)."""
    now = now or utcnow()
    prepared = Prepared(now)
    for index, value in enumerate(values):
        try:
            item = decode_value(value)
        except PoisonMessage as exc:
            prepared.errors[index] = str(exc)
            prepared.uploads.append(None)
            continue
        _route(item, prepared.rows, prepared.lines, now=now)
        prepared.uploads.append(item.upload_id)
    movements = prepared.rows.get(s.stock_movements.name)
    if copy and movements:
        prepared.copied[s.stock_movements.name] = copy_rows(s.stock_movements.name, movements)
        del prepared.rows[s.stock_movements.name]
    return prepared


def store_batch(
    records: Sequence[Record],
    *,
    group: str,
    sql: SqlStore,
    documents: DocumentStore,
    bus: MessageBus,
    prepared: Prepared | None = None,
) -> BatchOutcome:
    """Store one batch idempotently (`prepared`: the batch's `prepare`, when done ahead).
    Transient store errors propagate (nothing is recorded, the caller retries the same batch);
    a row the store refuses is isolated by splitting the batch and dead-lettered alone."""
    started = time.perf_counter()
    try:
        if prepared is None:
            prepared = prepare([r.value for r in records], copy=sql.is_postgres)
        return _store(
            records, prepared, group=group, sql=sql, documents=documents, bus=bus, started=started
        )
    except SQLAlchemyError as exc:
        if len(records) == 1:
            refused = _refused(exc)
            return _store(
                records,
                refused,
                group=group,
                sql=sql,
                documents=documents,
                bus=bus,
                started=started,
            )
        middle = len(records) // 2
        first = store_batch(records[:middle], group=group, sql=sql, documents=documents, bus=bus)
        second = store_batch(records[middle:], group=group, sql=sql, documents=documents, bus=bus)
        return first + second


def _refused(exc: SQLAlchemyError) -> Prepared:
    """A single record the relational store refused, as prepared for dead-lettering."""
    error = f"refused by the store: {_first_line(exc)}"
    return Prepared(utcnow(), uploads=[None], errors={0: error})


def _store(
    records: Sequence[Record],
    prepared: Prepared,
    *,
    group: str,
    sql: SqlStore,
    documents: DocumentStore,
    bus: MessageBus,
    started: float,
) -> BatchOutcome:
    applied = sql.checkpoints(group)
    batch = StoreBatch(rows=dict(prepared.rows), copied=dict(prepared.copied))
    dead: list[tuple[Record, str]] = []
    now = prepared.now
    for index, record in enumerate(records):
        position = (record.topic, record.partition)
        is_new = record.offset >= applied.get(position, 0)
        batch.checkpoints[position] = max(batch.checkpoints.get(position, 0), record.offset + 1)
        upload_id = prepared.uploads[index]
        if upload_id is None:
            error = prepared.errors[index]
            dead.append((record, error))
            batch.dead_letters.append(_dead_letter(record, error, counted=is_new, now=now))
        elif is_new:
            batch.stored[upload_id] = batch.stored.get(upload_id, 0) + 1
    # 1. dead letters to <topic>.dlq, so operators see them on the bus too
    for topic in {r.topic for r, _ in dead}:
        bus.publish(
            topic + DLQ_SUFFIX,
            [
                Message(key=r.key or "", value=_dlq_value(r, error))
                for r, error in dead
                if r.topic == topic
            ],
        )
    decoded = time.perf_counter()
    documents_s = 0.0

    def merge_documents() -> dict[str, list[dict[str, Any]]]:
        """2. documents: merge delivery lines into their delivery notes (idempotent); the
        merged notes go to the relational projection too, in the transaction of step 3."""
        nonlocal documents_s
        began, projection = time.perf_counter(), StoreBatch()
        if prepared.lines:
            numbers = sorted({str(x["delivery_no"]) for x in prepared.lines})
            existing = documents.get_many(DELIVERIES_COLLECTION, numbers)
            merged = deliveries.merge(existing, prepared.lines)
            documents.upsert(DELIVERIES_COLLECTION, merged)
            project(merged, projection)
        documents_s = time.perf_counter() - began
        return projection.rows

    # 3. relational rows, upload counters, dead letters and checkpoints in one transaction;
    #    the documents are merged while PostgreSQL loads the rows, and the projection of the
    #    merged notes joins the same transaction
    sql.write_batch(group, batch, meanwhile=merge_documents)
    return BatchOutcome(
        sum(batch.stored.values()),
        len(dead),
        decode_s=decoded - started,
        documents_s=documents_s,
        relational_s=time.perf_counter() - decoded - documents_s,
    )


def project(documents: Sequence[Mapping[str, Any]], batch: StoreBatch) -> None:
    """Add the projection rows of merged delivery documents to a batch: each note and every
    line it holds, so the rows always carry the document's totals."""
    notes = batch.rows.setdefault(s.delivery_notes.name, [])
    lines = batch.rows.setdefault(s.delivery_lines.name, [])
    for doc in documents:
        notes.append(deliveries.note_row(doc))
        lines.extend(deliveries.line_rows(doc, _LINE_FIELDS))


def _route(
    item: Decoded,
    rows: dict[str, list[dict[str, Any]]],
    lines: list[dict[str, Any]],
    *,
    now: Any,
) -> None:
    source = {"upload_id": item.upload_id, "sheet": item.sheet, "row_number": item.row_number}
    if item.dataset == STOCK_MOVEMENTS:
        row = item.data  # the decoded fields become the row (`decode` made the dict)
        row["lot"] = row.get("lot") or ""
        row.update(source, stored_at=now)
        rows.setdefault("stock_movements", []).append(row)
        if deliveries.is_customer_delivery(row):
            lines.append(deliveries.line_from_movement(row))
    elif item.dataset == CUSTOMERS:
        rows.setdefault("customers", []).append({**item.data, **source, "stored_at": now})
    elif item.dataset == DELIVERIES:
        lines.append(deliveries.line_from_delivery_row(item.data))


def _dead_letter(record: Record, error: str, *, counted: bool, now: Any) -> dict[str, Any]:
    upload_id = upload_of(record)
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key,
        "upload_id": upload_id,
        "error": error,
        "payload": record.value.decode("utf-8", "replace")[:10_000],
        "created_at": now,
        "counted": counted and bool(upload_id),
    }


def _dlq_value(record: Record, error: str) -> dict[str, Any]:
    return {
        "error": error,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "payload": record.value.decode("utf-8", "replace"),
        "headers": dict(record.headers),
    }


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
