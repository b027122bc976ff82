"""`prepare` in child processes: the worker decodes the next batches there while its own
threads store the last one, so a worker uses the other core.

Decoding and routing a batch is pure Python under the GIL; storing it mostly waits for the
stores. The child is a fresh interpreter running this module (not a `multiprocessing` spawn,
which would first run the parent's main script again, a Streamlit page for instance), and it
holds nothing of the worker but its end of one socket pair: when the worker dies, even by
SIGKILL, the child reads end-of-file and exits. A child that fails or disappears is replaced
on the next batch, and the batch is prepared in the worker's own process meanwhile: nothing
depends on the child for correctness.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection

from core.adapters.sql_store import utcnow
from core.consume import Prepared, prepare
from core.processes import child_env

log = logging.getLogger("pipeworks.worker")

_STOP_S = 5.0


class DecoderProcess:
    """A child process running `prepare` for one batch at a time (thread-safe)."""

    def __init__(self, *, copy: bool) -> None:
        self.copy = copy
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None

    def prepare(self, values: Sequence[bytes], *, now: dt.datetime | None = None) -> Prepared:
        """`prepare(values, copy=..., now=...)` done by the child; in this process when the
        child cannot do it (it is then replaced for the next batch)."""
        now = now or utcnow()
        with self._lock:
            try:
                conn = self._connection()
                conn.send((list(values), now))
                result = conn.recv()
            except (EOFError, OSError) as exc:
                log.warning("the decoding process failed (%s); decoding here", exc)
                self._stop()
                return prepare(values, copy=self.copy, now=now)
        if isinstance(result, BaseException):  # a bug, not bad data: decode turns that to poison
            raise result
        return result  # type: ignore[no-any-return]

    def start(self) -> None:
        """Start the child now rather than on the first batch (nothing when it runs)."""
        with self._lock:
            self._connection()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _connection(self) -> Connection:
        if self._conn is None or self._process is None or self._process.poll() is not None:
            self._stop()
            parent, child = socket.socketpair()
            with child:
                mode = "copy" if self.copy else "rows"
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "background.decoder", str(child.fileno()), mode],
                    pass_fds=[child.fileno()],
                    stdin=subprocess.DEVNULL,
                    env=child_env(),
                )
            self._conn = Connection(parent.detach())
        return self._conn

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()  # the child reads end-of-file and exits
            self._conn = None
        if self._process is not None:
            try:
                self._process.wait(_STOP_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(_STOP_S)
            self._process = None


class DecoderPool:
    """`size` decoding processes: as many batches decoded at once (thread-safe). The worker
    polls the next batch while one is decoded, so with two the backlog left when publishing
    ends is decoded on both cores while the last batches are stored."""

    def __init__(self, size: int, *, copy: bool) -> None:
        self._decoders = [DecoderProcess(copy=copy) for _ in range(size)]
        self._free: queue.SimpleQueue[DecoderProcess] = queue.SimpleQueue()
        for decoder in self._decoders:
            self._free.put(decoder)

    def prepare(self, values: Sequence[bytes], *, now: dt.datetime | None = None) -> Prepared:
        """`DecoderProcess.prepare` by a free process (waiting for one when all are busy)."""
        decoder = self._free.get()
        try:
            return decoder.prepare(values, now=now)
        finally:
            self._free.put(decoder)

    def start(self) -> None:
        for decoder in self._decoders:
            decoder.start()

    @property
    def pids(self) -> list[int]:
        return [d.pid for d in self._decoders if d.pid is not None]

    def close(self) -> None:
        for decoder in self._decoders:
            decoder.close()


def serve(conn: Connection, copy: bool) -> None:
    """The child's loop: a batch's values in, its `Prepared` (or the exception) out, until
    the worker closes its end of the socket pair or dies."""
    while True:
        try:
            values, now = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result: Prepared | BaseException = prepare(values, copy=copy, now=now)
        except Exception as exc:  # sent back, raised in the worker
            result = exc
        try:
            conn.send(result)
        except (EOFError, OSError):
            return


if __name__ == "__main__":  # the child: python -m background.decoder FD copy|rows
    serve(Connection(int(sys.argv[1])), sys.argv[2] == "copy")
