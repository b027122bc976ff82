"""The parsing child started ahead: it waits under its limits, serves the next file, is
replaced when its limits differ or it died, and never outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.ingest import sandbox
from core.ingest.limits import ParseLimits
from core.ingest.reader import read_sheet
from core.processes import PROJECT_ROOT
from tests.ingest.builders import xlsx

EXIT_WAIT_S = 15.0


def _waiting() -> subprocess.Popen[bytes]:
    entry = sandbox.SPARE._waiting
    assert entry is not None, "no child waits for the next file"
    assert entry[1].poll() is None
    return entry[1]


def _limits_of(pid: int) -> dict[str, str]:
    """The soft limits of a child, once it has set them (its first step)."""
    deadline = time.monotonic() + EXIT_WAIT_S
    while True:
        lines = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
        limits = {line[:26].strip(): line[26:47].strip() for line in lines}
        if limits["Max address space"] != "unlimited" or time.monotonic() > deadline:
            return limits
        time.sleep(0.02)


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie has exited; only its parent's wait is missing


@pytest.fixture(autouse=True)
def _no_spare_left() -> object:
    yield
    sandbox.SPARE.discard()


def test_the_next_file_is_read_by_the_child_waiting_under_its_limits(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = xlsx(tmp_path / "a.xlsx", [["Name"], ["x"], ["y"]])
    assert read_sheet(path, sheet=None, limits=limits).row_count == 2
    spare = _waiting()
    assert _limits_of(spare.pid)["Max address space"] == str(limits.memory_mb << 20)
    assert _limits_of(spare.pid)["Max cpu time"] == str(int(limits.timeout_s) + 5)

    assert read_sheet(path, sheet=None, limits=limits).row_count == 2
    assert spare.returncode == 0  # it served this read and exited, not killed
    assert _waiting().pid != spare.pid  # and another one waits for the next


def test_a_child_started_with_other_limits_is_not_used(tmp_path: Path) -> None:
    sandbox.SPARE.prepare((512, 30))
    other = _waiting()
    process = sandbox.SPARE.take((768, 30))
    try:
        assert process.pid != other.pid
        assert other.returncode is not None and other.returncode < 0  # stopped
        assert _limits_of(process.pid)["Max address space"] == str(768 << 20)
    finally:
        process.kill()
        process.communicate()


def test_a_waiting_child_that_died_is_replaced(tmp_path: Path, limits: ParseLimits) -> None:
    path = xlsx(tmp_path / "a.xlsx", [["Name"], ["x"]])
    read_sheet(path, sheet=None, limits=limits)
    spare = _waiting()
    os.kill(spare.pid, signal.SIGKILL)  # say the system's OOM killer chose it
    spare.wait()
    assert read_sheet(path, sheet=None, limits=limits).row_count == 1


def test_a_waiting_child_exits_when_its_parent_is_killed() -> None:
    script = (
        "import os\n"
        "from core.ingest import sandbox\n"
        "sandbox.SPARE.prepare((512, 30))\n"
        "print(sandbox.SPARE._waiting[1].pid, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    pid = int(run.stdout)
    deadline = time.monotonic() + EXIT_WAIT_S
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid), f"the waiting child {pid} outlived its parent"
