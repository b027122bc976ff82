"""One SQLite connection per thread (and per process after a fork), closed together.

Shared by the embedded adapters that keep their data in SQLite files.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable


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
