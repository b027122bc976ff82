"""The worker's decoding process: it prepares a batch exactly as the worker would, a child
that dies is replaced without losing the batch, and it never outlives the worker."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from background.decoder import DecoderPool, DecoderProcess
from core.consume import prepare
from core.domain.schemas import CUSTOMERS, STOCK_MOVEMENTS
from core.messages import encode_frame

ROOT = Path(__file__).resolve().parents[2]
HANG_LIMIT_S = 30


def _values() -> list[bytes]:
    movements = pd.DataFrame(
        {
            "row": [2, 3, 4],
            "piece": ["BL-001", "BL-001", "BL-002"],
            "no_ligne": [1, 2, 1],
            "article": ["0101", "MP-9", "0102"],
            "lot": ["L1", None, "L3"],
            "type_mouvement": ["Livraison client"] * 3,
            "tiers": ["C1", "C1", "C2"],
            "quantite": [1.5, 2.0, -0.0],
            "date_creation": pd.to_datetime(["2024-01-31", "2024-02-01", None]),
        }
    )
    customers = pd.DataFrame({"row": [2], "customer_id": ["C1"], "name": ["Acme"]})
    values = [
        m.value
        for m in encode_frame(STOCK_MOVEMENTS, movements, upload_id="u1", sheet="Mouvements")
    ]
    values += [m.value for m in encode_frame(CUSTOMERS, customers, upload_id="u2", sheet="C")]
    return [*values, b"not json", b'{"v": 1, "dataset": "stock_movements"}']


NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize("copy", [False, True])
def test_the_child_prepares_a_batch_as_the_worker_would(copy: bool) -> None:
    decoder = DecoderProcess(copy=copy)
    try:
        prepared = decoder.prepare(_values(), now=NOW)
    finally:
        decoder.close()
    assert prepared == prepare(_values(), copy=copy, now=NOW)
    assert prepared.uploads == ["u1", "u1", "u1", "u2", None, None]
    assert set(prepared.errors) == {4, 5}
    assert ("stock_movements" in prepared.copied) is copy
    assert [line["delivery_no"] for line in prepared.lines] == ["BL-001", "BL-002"]  # no MP


def test_a_pool_decodes_batches_at_once_in_separate_processes() -> None:
    pool = DecoderPool(2, copy=True)
    expected = prepare(_values(), copy=True, now=NOW)
    try:
        with ThreadPoolExecutor(2) as threads:
            results = list(threads.map(lambda _: pool.prepare(_values(), now=NOW), range(4)))
        assert results == [expected] * 4
        pids = pool.pids
        assert len(set(pids)) == 2 and all(_alive(pid) for pid in pids)
    finally:
        pool.close()
    assert pool.pids == []
    for pid in pids:
        _wait_gone(pid)


def test_the_child_does_not_run_the_parents_main_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Streamlit runs each page as the __main__ module of the app's process
    marker = tmp_path / "page ran"
    page = tmp_path / "page.py"
    page.write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit('a page')\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(page)
    monkeypatch.setitem(sys.modules, "__main__", main)
    decoder = DecoderProcess(copy=True)
    try:
        assert decoder.prepare(_values(), now=NOW) == prepare(_values(), copy=True, now=NOW)
        assert decoder.pid is not None and _alive(decoder.pid)  # prepared by the child
    finally:
        decoder.close()
    assert not marker.exists()


def test_a_child_that_died_is_replaced_and_the_batch_is_not_lost() -> None:
    decoder = DecoderProcess(copy=True)
    try:
        decoder.prepare([])
        first = decoder.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        _wait_gone(first)
        expected = prepare(_values(), copy=True, now=NOW)
        assert decoder.prepare(_values(), now=NOW) == expected  # decoded here meanwhile
        assert decoder.prepare(_values(), now=NOW) == expected  # by a new child
        assert decoder.pid not in (None, first)
    finally:
        decoder.close()
    assert decoder.pid is None


def test_the_child_exits_when_the_worker_is_killed() -> None:
    script = (
        "import sys, time\n"
        "from background.decoder import DecoderPool, DecoderProcess\n"
        "if __name__ == '__main__':\n"
        "    decoder = DecoderProcess(copy=True)\n"
        "    decoder.prepare([])\n"
        "    print(decoder.pid, flush=True)\n"
        "    time.sleep(600)\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None
        child = int(worker.stdout.readline())
        assert _alive(child)
        worker.send_signal(signal.SIGKILL)
        worker.wait(HANG_LIMIT_S)
        _wait_gone(child)
    finally:
        worker.kill()
        worker.wait()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited (its parent has not reaped it yet)


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + HANG_LIMIT_S
    while _alive(pid):
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.05)
