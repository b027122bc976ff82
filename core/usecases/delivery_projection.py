"""The relational projection of the delivery documents: built from the document store.

The worker keeps the projection (`delivery_notes`, `delivery_lines`) up to date as it stores
each batch. Installs that stored deliveries before the projection existed hold documents but
no rows: before it consumes anything, the worker calls `ensure_projection`, which rebuilds the
projection from the documents once and records that it did (a build interrupted half-way is
not recorded, so the next start builds again). `python -m core rebuild-deliveries` rebuilds on
demand. Rebuilding is an idempotent upsert of every document's rows.
"""

from __future__ import annotations

import logging

from core.adapters.sql_store import SqlStore, StoreBatch
from core.consume import DELIVERIES_COLLECTION, project
from core.ports import DocumentStore

log = logging.getLogger(__name__)

PROJECTION = "deliveries"
DEFAULT_CHUNK_SIZE = 1_000  # documents per read and per transaction
REBUILD_GROUP = "delivery-projection-rebuild"  # no checkpoints are written under it


def rebuild_projection(
    sql: SqlStore, documents: DocumentStore, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> int:
    """Upsert the projection rows of every delivery document, reading `chunk_size` documents
    at a time in `_id` order; record the build. Returns the number of documents read."""
    last: str | None = None
    total = 0
    while True:
        after = {"_id": {"$gt": last}} if last is not None else None
        docs = documents.find(DELIVERIES_COLLECTION, after, sort=(("_id", 1),), limit=chunk_size)
        if docs:
            batch = StoreBatch()
            project(docs, batch)
            sql.write_batch(REBUILD_GROUP, batch)
            total += len(docs)
            last = docs[-1]["_id"]
        if len(docs) < chunk_size:
            break
    sql.mark_projection_built(PROJECTION, documents=total)
    return total


def ensure_projection(sql: SqlStore, documents: DocumentStore) -> int | None:
    """Build the projection unless it was built once already; the number of documents read,
    or None when there was nothing to do."""
    if sql.projection_built(PROJECTION):
        return None
    total = rebuild_projection(sql, documents)
    if total:
        log.info("delivery projection rebuilt from %d delivery documents", total)
    return total
