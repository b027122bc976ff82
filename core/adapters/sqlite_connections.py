"""One SQLite connection per thread (and per process after a fork), closed together.

Shared by the embedded adapters that keep their data in SQLite files.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable

_FIRST_RETRY_S = 0.01
_LONGEST_RETRY_S = 0.5


def use_wal(conn: sqlite3.Connection, *, timeout_s: float) -> None:
    """Put the connection's database in WAL mode.

    SQLite answers "database is locked" at once, without waiting on the busy timeout, when
    another connection holds a lock while the journal mode is read or changed: it happens when
    several threads or processes open a new file together. Retried until `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    delay = _FIRST_RETRY_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, _LONGEST_RETRY_S)


class ThreadConnections:
    """Hands each thread its own connection made by `open_`; `close_all` closes them all."""

    def __init__(self, open_: Callable[[], sqlite3.Connection]) -> None:
        self._open = open_
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._pid = os.getpid()

    def get(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:  # a forked child must not reuse its parent's connections
            self._pid, self._local, self._connections = os.getpid(), threading.local(), []
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close_all(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()
