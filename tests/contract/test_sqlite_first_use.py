"""The embedded stores on a new SQLite file opened by several threads at once: SQLite refuses
the switch to WAL at once ("database is locked") when another connection holds a lock at that
moment; every adapter waits its turn instead of failing."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from core.adapters.queue_bus import SqliteQueueBus
from core.adapters.sql_store import SqlStore
from core.adapters.sqlite_connections import use_wal
from core.adapters.sqlite_documents import SqliteDocumentStore
from core.ports import Message

THREADS = 8
FRESH_FILES = 100  # the race showed on about one new file in 60 before the retry


def _together(work: Callable[[int], None]) -> list[BaseException]:
    """`work(i)` on THREADS threads released at the same moment; the errors raised."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_the_queue_bus_publishes_from_threads_opening_a_new_file(tmp_path: Path) -> None:
    for n in range(FRESH_FILES):
        bus = SqliteQueueBus(tmp_path / f"queue{n}.db")
        errors = _together(lambda i: bus.publish("t", [Message(key=f"w{i}", value={"i": i})]))  # noqa: B023
        assert errors == []
        consumer = bus.consumer("g", ["t"])
        assert len(consumer.poll(max_records=100, timeout_s=1)) == THREADS
        consumer.close()
        bus.close()


def test_the_document_store_writes_from_threads_opening_a_new_file(tmp_path: Path) -> None:
    for n in range(FRESH_FILES):
        store = SqliteDocumentStore(tmp_path / f"documents{n}.db")
        errors = _together(lambda i: store.upsert("notes", [{"_id": f"d{i}", "i": i}]))  # noqa: B023
        assert errors == []
        assert len(store.find("notes", limit=100)) == THREADS
        store.close()


def test_the_relational_store_starts_from_threads_opening_a_new_file(tmp_path: Path) -> None:
    for n in range(10):  # each start creates the whole schema: slower
        url = f"sqlite:///{tmp_path / f'store{n}.db'}"
        shared = SqlStore(url)  # its threads create the schema once
        errors = _together(lambda i: shared.count_rows("customers"))  # noqa: B023
        assert errors == []
        shared.close()

    for n in range(10):  # a store each, as separate processes have
        stores = [SqlStore(f"sqlite:///{tmp_path / f'own{n}.db'}") for _ in range(THREADS)]
        errors = _together(lambda i: stores[i].count_rows("customers"))  # noqa: B023
        assert errors == []
        for store in stores:
            store.close()


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "closed.db")
    conn.close()
    with pytest.raises(sqlite3.ProgrammingError):
        use_wal(conn, timeout_s=5)
