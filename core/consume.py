"""The consume use case: one polled batch of row messages into the stores.

The worker's loop calls `store_batch` and commits the bus offsets only after it returns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.adapters import sql_schema as s
from core.adapters.sql_store import SqlStore, StoreBatch, utcnow
from core.domain import deliveries
from core.domain.schemas import CUSTOMERS, DELIVERIES, STOCK_MOVEMENTS
from core.errors import PoisonMessage
from core.messages import Decoded, decode, upload_of
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


def store_batch(
    records: Sequence[Record],
    *,
    group: str,
    sql: SqlStore,
    documents: DocumentStore,
    bus: MessageBus,
) -> BatchOutcome:
    """Store one batch idempotently. Transient store errors propagate (nothing is recorded,
    the caller retries the same batch); a row the store refuses is isolated by splitting the
    batch and dead-lettered alone."""
    try:
        return _store(records, group=group, sql=sql, documents=documents, bus=bus, refused=None)
    except SQLAlchemyError as exc:
        if len(records) == 1:
            return _store(records, group=group, sql=sql, documents=documents, bus=bus, refused=exc)
        middle = len(records) // 2
        first = store_batch(records[:middle], group=group, sql=sql, documents=documents, bus=bus)
        second = store_batch(records[middle:], group=group, sql=sql, documents=documents, bus=bus)
        return first + second


def _store(
    records: Sequence[Record],
    *,
    group: str,
    sql: SqlStore,
    documents: DocumentStore,
    bus: MessageBus,
    refused: SQLAlchemyError | None,
) -> BatchOutcome:
    started = time.perf_counter()
    applied = sql.checkpoints(group)
    batch = StoreBatch()
    lines: list[dict[str, Any]] = []
    dead: list[tuple[Record, str]] = []
    now = utcnow()
    for record in records:
        position = (record.topic, record.partition)
        is_new = record.offset >= applied.get(position, 0)
        batch.checkpoints[position] = max(batch.checkpoints.get(position, 0), record.offset + 1)
        try:
            if refused is not None:
                raise PoisonMessage(f"refused by the store: {_first_line(refused)}")
            item = decode(record)
        except PoisonMessage as exc:
            dead.append((record, str(exc)))
            batch.dead_letters.append(_dead_letter(record, str(exc), counted=is_new, now=now))
            continue
        _route(item, batch, lines, now=now)
        if is_new:
            batch.stored[item.upload_id] = batch.stored.get(item.upload_id, 0) + 1
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
    # 2. documents: merge delivery lines into their delivery notes (idempotent); the merged
    #    notes also go to the relational projection, written with the checkpoints in step 3
    if lines:
        numbers = sorted({str(x["delivery_no"]) for x in lines})
        existing = documents.get_many(DELIVERIES_COLLECTION, numbers)
        merged = deliveries.merge(existing, lines)
        documents.upsert(DELIVERIES_COLLECTION, merged)
        project(merged, batch)
    documented = time.perf_counter()
    # 3. relational rows (with the delivery projection), upload counters, dead letters and
    #    checkpoints in one transaction
    sql.write_batch(group, batch)
    return BatchOutcome(
        sum(batch.stored.values()),
        len(dead),
        decode_s=decoded - started,
        documents_s=documented - decoded,
        relational_s=time.perf_counter() - documented,
    )


def project(documents: Sequence[Mapping[str, Any]], batch: StoreBatch) -> None:
    """Add the projection rows of merged delivery documents to a batch: each note and every
    line it holds, so the rows always carry the document's totals."""
    notes = batch.rows.setdefault(s.delivery_notes.name, [])
    lines = batch.rows.setdefault(s.delivery_lines.name, [])
    for doc in documents:
        notes.append(deliveries.note_row(doc))
        lines.extend(deliveries.line_rows(doc, _LINE_FIELDS))


def _route(item: Decoded, batch: StoreBatch, lines: list[dict[str, Any]], *, now: Any) -> None:
    source = {"upload_id": item.upload_id, "sheet": item.sheet, "row_number": item.row_number}
    if item.dataset == STOCK_MOVEMENTS:
        row = {**item.data, "lot": item.data.get("lot") or "", **source, "stored_at": now}
        batch.rows.setdefault("stock_movements", []).append(row)
        if deliveries.is_customer_delivery(row):
            lines.append(deliveries.line_from_movement(row))
    elif item.dataset == CUSTOMERS:
        batch.rows.setdefault("customers", []).append({**item.data, **source, "stored_at": now})
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
