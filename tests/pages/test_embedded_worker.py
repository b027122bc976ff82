"""In embedded mode the app starts the worker itself, once, however many sessions run."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.worker_lock import LOCK_FILE, is_worker_running

ROOT = Path(__file__).resolve().parents[2]


def _holder(data_dir: Path) -> int:
    return int((data_dir / LOCK_FILE).read_text() or 0)


def test_sessions_and_reruns_share_one_worker_process(app_env: Path, monkeypatch) -> None:
    monkeypatch.setenv("PIPEWORKS_EMBEDDED_WORKER", "true")
    first = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not first.exception
    deadline = time.monotonic() + 30
    while not is_worker_running(app_env) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert is_worker_running(app_env)
    pid = _holder(app_env)
    try:
        second = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
        first.run()
        assert not second.exception and not first.exception
        time.sleep(1)
        assert _holder(app_env) == pid
        workers = [
            p
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _cmdline(p).endswith(f"-m background --parent {os.getpid()}")
        ]
        assert [int(p.name) for p in workers] == [pid]
        assert any("worker is running" in s.value for s in second.success)
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while is_worker_running(app_env) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not is_worker_running(app_env)


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


@pytest.fixture(autouse=True)
def _no_leftover_worker(app_env: Path):
    yield
    if (app_env / LOCK_FILE).exists() and is_worker_running(app_env):
        os.kill(_holder(app_env), signal.SIGKILL)
