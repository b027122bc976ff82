"""Run one parsing task in a child process under memory and time limits.

A crafted workbook can make a native parser allocate hundreds of GiB and abort the process
(python-calamine on a 5 KB xlsx whose one cell sits at XFD1048576): no `try/except` catches
that. So parsing happens in a fresh interpreter (`python -m core.ingest.sandbox`) whose
address space is capped with RLIMIT_AS, whose CPU time is capped with RLIMIT_CPU and which
the parent kills at the deadline. The child pickles its result to a private temporary folder
(in shared memory where there is some), which the parent removes whatever happens; the parent
only ever raises `FileRejected` with one human line.

A child serves one file and exits. Starting one (interpreter, imports) takes about half a
second, so the next child is started ahead and waits, under its limits, for its request on
stdin (`Spare`); it exits when this process goes away (its stdin closes).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from core.errors import FileRejected
from core.processes import child_env

TASKS = ("inspect", "read")
CPU_GRACE_S = 5
STDERR_TAIL = 2_000
SHARED_MEMORY = "/dev/shm"
SCRATCH_MIN_FREE_MB = 2_048
SCRATCH_PREFIX = "pipeworks-parse-"
STALE_SCRATCH_S = 6 * 3600  # far beyond any parse's time limit
_MB = 1 << 20
# Native libraries start no thread pools in the child: threads reserve address space.
_SINGLE_THREAD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "RAYON_NUM_THREADS": "1",
}


def run(task: str, request: dict[str, Any], *, name: str, memory_mb: int, timeout_s: float) -> Any:
    """The result of `extract.<task>_task(request)` computed in a limited child process.

    Raises `FileRejected` when the task rejects the file, when the child exceeds its memory
    or time, or when it dies for any other reason.
    """
    if task not in TASKS:
        raise ValueError(f"unknown parsing task {task!r}")
    root = _scratch_root()
    sweep_stale_scratch(root, older_than_s=max(STALE_SCRATCH_S, 2 * timeout_s))
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX, dir=root) as folder:
        request_path = Path(folder) / "request.pickle"
        result_path = Path(folder) / "result.pickle"
        request = {**request, "scratch": folder}
        request_path.write_bytes(pickle.dumps((task, request), protocol=pickle.HIGHEST_PROTOCOL))
        limits = _limits(memory_mb, timeout_s)
        process = SPARE.take(limits)  # and the next file's child starts while this one is read
        paths = json.dumps([str(request_path), str(result_path)]) + "\n"
        try:
            _, stderr = process.communicate(paths.encode(), timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise FileRejected(_too_slow(name, timeout_s)) from None
        finally:
            _kill_group(process.pid)  # reading processes the child forked never outlive it
        if process.returncode == 0 and result_path.exists():
            outcome, value = pickle.loads(result_path.read_bytes())
            if outcome == "ok":
                return value
            if outcome == "rejected":
                raise FileRejected(value)
            raise FileRejected(_too_big(name, memory_mb))
        raise FileRejected(_died(name, process.returncode, stderr, memory_mb, timeout_s))


class Spare:
    """At most one child started ahead, waiting for its request (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: tuple[tuple[Any, ...], subprocess.Popen[bytes]] | None = None
        atexit.register(self.discard)

    def take(self, limits: tuple[int, int]) -> subprocess.Popen[bytes]:
        """The waiting child if it was started with these limits and is alive, else a new one;
        either way another is started to wait for the next request."""
        key = _key(limits)
        with self._lock:
            waiting, self._waiting = self._waiting, (key, _start(limits))
        if waiting is not None:
            started_for, process = waiting
            if started_for == key and process.poll() is None:
                return process
            _kill(process)
        return _start(limits)

    def prepare(self, limits: tuple[int, int]) -> None:
        """Start a child for the next request unless one with these limits waits already."""
        key = _key(limits)
        with self._lock:
            if self._waiting is not None and self._waiting[0] == key:
                return
            replaced, self._waiting = self._waiting, (key, _start(limits))
        if replaced is not None:
            _kill(replaced[1])

    def discard(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, None
        if waiting is not None:
            _kill(waiting[1])


def _key(limits: tuple[int, int]) -> tuple[Any, ...]:
    return (*limits, sys.executable, tuple(sorted(child_env(**_SINGLE_THREAD_ENV).items())))


def _start(limits: tuple[int, int]) -> subprocess.Popen[bytes]:
    memory_mb, cpu_s = limits
    return subprocess.Popen(
        [sys.executable, "-m", "core.ingest.sandbox", str(memory_mb), str(cpu_s)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=child_env(**_SINGLE_THREAD_ENV),
        start_new_session=True,
    )


SPARE = Spare()


def prepare(*, memory_mb: int, timeout_s: float) -> None:
    """Have a child wait for the next `run` with these limits (nothing when one does)."""
    SPARE.prepare(_limits(memory_mb, timeout_s))


def _limits(memory_mb: int, timeout_s: float) -> tuple[int, int]:
    """A child's limits: its memory in MB and its CPU seconds."""
    return memory_mb, int(timeout_s) + CPU_GRACE_S


def sweep_stale_scratch(root: str | None, *, older_than_s: float) -> None:
    """Remove the scratch folders of parses that ended long ago: an app killed in the middle
    of a parse leaves its folder behind, and in shared memory that holds RAM."""
    cutoff = time.time() - older_than_s
    for folder in Path(root or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        with contextlib.suppress(OSError):
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


def _scratch_root() -> str | None:
    """Shared memory when the system has plenty (files there are written several times
    faster than on disk; containers often get only 64 MB of it), else the usual folder."""
    try:
        stats = os.statvfs(SHARED_MEMORY)
    except OSError:
        return None
    roomy = stats.f_bavail * stats.f_frsize >= SCRATCH_MIN_FREE_MB * _MB
    return SHARED_MEMORY if roomy and os.access(SHARED_MEMORY, os.W_OK) else None


def _kill(process: subprocess.Popen[bytes]) -> None:
    _kill_group(process.pid)
    process.communicate()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _too_big(name: str, memory_mb: int) -> str:
    return (
        f"{name} needs more memory than allowed to read (limit {memory_mb:,} MB, setting "
        "PIPEWORKS_PARSE_MEMORY_MB): the file may be damaged or crafted, or simply too large; "
        "split it into smaller files."
    )


def _too_slow(name: str, timeout_s: float) -> str:
    return (
        f"Reading {name} took longer than the {timeout_s:g} s allowed (setting "
        "PIPEWORKS_PARSE_TIMEOUT_S): split it into smaller files."
    )


def _died(name: str, code: int, stderr: bytes, memory_mb: int, timeout_s: float) -> str:
    tail = stderr[-STDERR_TAIL:].decode("utf-8", "replace")
    if code == -signal.SIGXCPU:
        return _too_slow(name, timeout_s)
    if code < 0 or "MemoryError" in tail or "memory allocation" in tail:
        return _too_big(name, memory_mb)
    last = (tail.strip().splitlines() or ["no detail"])[-1][:200]
    return f"{name} could not be read: the reader stopped unexpectedly ({last})."


# ----------------------------------------------------------------------------- child side
def _limit_resources(memory_mb: int, cpu_s: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * _MB, memory_mb * _MB))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + CPU_GRACE_S))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str]) -> int:
    """Limit this process, import the parsers, then wait for one line on stdin: the JSON list
    [request path, result path]. End of input (the parent is gone): exit."""
    memory_mb, cpu_s = argv
    _limit_resources(int(memory_mb), int(cpu_s))
    from core.ingest import extract

    line = sys.stdin.readline()
    if not line:
        return 0
    request_path, result_path = json.loads(line)
    try:
        task, request = pickle.loads(Path(request_path).read_bytes())
        outcome: tuple[str, Any] = ("ok", getattr(extract, f"{task}_task")(request))
    except FileRejected as exc:
        outcome = ("rejected", str(exc))
    except MemoryError:
        outcome = ("memory", None)
    partial = Path(result_path + ".partial")
    with partial.open("wb") as fh:
        pickle.dump(outcome, fh, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(result_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
