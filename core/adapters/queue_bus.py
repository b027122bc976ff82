"""The embedded message bus: durable topics in one SQLite file.

Several processes may share the file (the app publishes while the worker consumes): it runs
in WAL mode with a busy timeout, every publish is one `BEGIN IMMEDIATE` transaction, and
offsets are handed out under that write lock, so every topic's offsets run 0, 1, 2, ...
without gaps. Each topic has one partition (0), as a Kafka topic created by `KafkaBus` does.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any

from core.adapters.sqlite_connections import ThreadConnections, use_wal
from core.codec import dumps
from core.errors import BusUnavailable, PublishError
from core.ports import Consumer, Message, MessageBus, Record

SERVICE = "Embedded queue"
DEFAULT_SETTING = "PIPEWORKS_DATA_DIR"
PARTITION = 0
PUBLISH_CHUNK = 5_000  # rows per executemany: memory stays flat for any iterable
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's transaction
FIRST_WAIT_S = 0.02  # poll: first sleep when nothing is there, doubled up to MAX_WAIT_S
MAX_WAIT_S = 0.25

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    topic TEXT PRIMARY KEY,
    next_offset INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    topic TEXT NOT NULL,
    "offset" INTEGER NOT NULL,
    key TEXT,
    value BLOB NOT NULL,
    headers TEXT NOT NULL,
    ts INTEGER NOT NULL,
    PRIMARY KEY (topic, "offset")
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    "group" TEXT NOT NULL,
    topic TEXT NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY ("group", topic)
) WITHOUT ROWID;
"""


def encode_value(value: Mapping[str, Any] | bytes) -> bytes:
    """The wire form of a message value: compact UTF-8 JSON (`core.codec.dumps`); a value
    given as bytes is already that JSON.

    Shared by every bus adapter. Raises `PublishError` for a value JSON cannot hold.
    """
    if isinstance(value, bytes):
        return value
    try:
        return dumps(value)
    except (TypeError, ValueError) as exc:
        raise PublishError(f"message value is not JSON-serialisable: {exc}") from exc


class SqliteQueueBus(MessageBus):
    """A `MessageBus` in one SQLite file; the parent directory must exist.

    Thread-safe: each thread gets its own connection. Nothing is opened before first use.
    """

    def __init__(self, path: Path, *, setting: str = DEFAULT_SETTING) -> None:
        self._path = Path(path)
        self._setting = setting
        self._connections = ThreadConnections(self._open)

    # ------------------------------------------------------------------ MessageBus
    def publish(self, topic: str, messages: Iterable[Message]) -> int:
        conn = self._connection()
        count = 0
        with self._translate(), _write_transaction(conn):
            conn.execute("INSERT OR IGNORE INTO topics VALUES (?, 0)", (topic,))
            (next_offset,) = conn.execute(
                "SELECT next_offset FROM topics WHERE topic = ?", (topic,)
            ).fetchone()
            now_ms = int(time.time() * 1000)
            for chunk in _chunks(messages, PUBLISH_CHUNK):
                rows = [
                    (
                        topic,
                        next_offset + i,
                        m.key,
                        encode_value(m.value),
                        json.dumps(dict(m.headers), separators=(",", ":")),
                        now_ms,
                    )
                    for i, m in enumerate(chunk)
                ]
                conn.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)", rows)
                next_offset += len(rows)
                count += len(rows)
            conn.execute("UPDATE topics SET next_offset = ? WHERE topic = ?", (next_offset, topic))
        return count

    def consumer(self, group: str, topics: Sequence[str]) -> Consumer:
        conn = self._open()
        return SqliteQueueConsumer(conn, group, topics, translate=self._translate)

    def lag(self, group: str, topics: Sequence[str]) -> dict[str, int]:
        conn = self._connection()
        with self._translate():
            return {topic: _lag(conn, group, topic) for topic in topics}

    def reset_group(self, group: str, topics: Sequence[str]) -> None:
        conn = self._connection()
        with self._translate(), _write_transaction(conn):
            conn.executemany(
                'DELETE FROM group_offsets WHERE "group" = ? AND topic = ?',
                [(group, topic) for topic in topics],
            )

    def ping(self) -> None:
        conn = self._connection()
        with self._translate():
            conn.execute("SELECT count(*) FROM topics").fetchone()

    def close(self) -> None:
        self._connections.close_all()

    # ------------------------------------------------------------------ connections
    def _connection(self) -> sqlite3.Connection:
        return self._connections.get()

    def _open(self) -> sqlite3.Connection:
        with self._translate():
            conn = sqlite3.connect(
                self._path,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,  # explicit BEGIN/COMMIT below
                check_same_thread=False,  # a consumer may be handed to its owner thread
            )
            try:
                use_wal(conn, timeout_s=BUSY_TIMEOUT_S)
                conn.execute("PRAGMA synchronous=FULL")  # durable on return from publish
                conn.executescript(_SCHEMA)
            except BaseException:
                conn.close()
                raise
            return conn

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise BusUnavailable(SERVICE, self._setting, f"{self._path}: {exc}") from exc


class SqliteQueueConsumer(Consumer):
    """A consumer of one group: reads after its position, which starts at the committed one."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        group: str,
        topics: Sequence[str],
        *,
        translate: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self._conn = conn
        self._group = group
        self._topics = list(dict.fromkeys(topics))
        self._translate = translate
        self._positions: dict[str, int] | None = None
        self._turn = 0  # which topic is read first, so no topic starves the others
        self._closed = False

    def poll(self, *, max_records: int, timeout_s: float) -> list[Record]:
        if self._closed:
            raise RuntimeError("poll on a closed consumer")
        deadline = time.monotonic() + max(timeout_s, 0.0)
        wait = FIRST_WAIT_S
        while True:
            with self._translate():
                records = self._fetch(max(max_records, 1))
            remaining = deadline - time.monotonic()
            if records or remaining <= 0:
                return records
            time.sleep(min(wait, remaining))
            wait = min(wait * 2, MAX_WAIT_S)

    def commit(self, records: Sequence[Record]) -> None:
        if self._closed:
            raise RuntimeError("commit on a closed consumer")
        positions: dict[str, int] = {}
        for record in records:
            positions[record.topic] = max(positions.get(record.topic, 0), record.offset + 1)
        if not positions:
            return
        with self._translate(), _write_transaction(self._conn):
            self._conn.executemany(
                'INSERT INTO group_offsets VALUES (?, ?, ?) ON CONFLICT ("group", topic) '
                "DO UPDATE SET next_offset = excluded.next_offset",
                [(self._group, topic, offset) for topic, offset in positions.items()],
            )

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._conn.close()

    def _fetch(self, max_records: int) -> list[Record]:
        if self._positions is None:
            self._positions = {t: _committed(self._conn, self._group, t) for t in self._topics}
        records: list[Record] = []
        count = len(self._topics)
        for i in range(count):
            topic = self._topics[(self._turn + i) % count]
            if len(records) >= max_records:
                break
            rows = self._conn.execute(
                'SELECT "offset", key, value, headers FROM messages '
                'WHERE topic = ? AND "offset" >= ? ORDER BY "offset" LIMIT ?',
                (topic, self._positions[topic], max_records - len(records)),
            ).fetchall()
            records.extend(
                Record(topic, PARTITION, offset, key, bytes(value), json.loads(headers))
                for offset, key, value, headers in rows
            )
            if rows:
                self._positions[topic] = rows[-1][0] + 1
        self._turn = (self._turn + 1) % max(count, 1)
        return records


# ---------------------------------------------------------------------- helpers
@contextmanager
def _write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlocks
    try:
        yield
    except BaseException:
        with suppress(sqlite3.Error):  # a failed ROLLBACK must not hide the first error
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _committed(conn: sqlite3.Connection, group: str, topic: str) -> int:
    row = conn.execute(
        'SELECT next_offset FROM group_offsets WHERE "group" = ? AND topic = ?', (group, topic)
    ).fetchone()
    return row[0] if row else 0


def _lag(conn: sqlite3.Connection, group: str, topic: str) -> int:
    row = conn.execute("SELECT next_offset FROM topics WHERE topic = ?", (topic,)).fetchone()
    end = row[0] if row else 0
    return max(end - _committed(conn, group, topic), 0)


def _chunks(items: Iterable[Message], size: int) -> Iterator[list[Message]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
