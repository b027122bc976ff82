"""The real app for browser tests and screenshots: a demo data folder seeded through the real
ingest path, a `streamlit run` server on a free loopback port, and a headless Chromium.

    data_dir = seed_demo(tmp / "data", work_dir=tmp / "files")
    with running_app(data_dir) as url, sync_playwright() as pw:
        browser = launch_chromium(pw)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from playwright.sync_api import Browser, Playwright

from background.worker import ConsumeJob
from core import demo
from core.adapters.sql_store import SqlStore
from core.bootstrap import build_services
from core.ingest.limits import ParseLimits
from core.settings import Settings, load_settings
from core.usecases.ingest_file import check_file, commit_check

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
DEMO_MOVEMENTS = 1_500
DEMO_CUSTOMERS = 300
DEMO_SEED = 1
DRAIN_BUDGET_S = 60.0
DRAIN_ROUNDS = 20
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0
_HEALTH_POLL_S = 0.25


@dataclass(frozen=True)
class DemoFiles:
    """The workbooks written for a demo data folder."""

    movements: Path
    customers: Path


@dataclass(frozen=True)
class DemoApp:
    """The running app and the data behind it, for tests to compute their expectations."""

    url: str
    data_dir: Path
    files: DemoFiles
    settings: Settings
    sql: SqlStore

    def page_url(self, name: str) -> str:
        """URL of a page of `pages/` by its name after the number, e.g. `Stock_movements`."""
        return f"{self.url}/{name}"


def write_demo_files(
    work_dir: Path,
    *,
    movements: int = DEMO_MOVEMENTS,
    customers: int = DEMO_CUSTOMERS,
    seed: int = DEMO_SEED,
    days: int = demo.DEFAULT_DAYS,
) -> DemoFiles:
    """Demo workbooks whose movement `Tiers` codes are all among the customers written."""
    work_dir.mkdir(parents=True, exist_ok=True)
    return DemoFiles(
        movements=demo.write_stock_movements(
            work_dir / "stock_movements.xlsx",
            rows=movements,
            seed=seed,
            days=days,
            customers=customers,
        ),
        customers=demo.write_customers(work_dir / "customers.xlsx", rows=customers, seed=seed),
    )


def seed_demo(
    data_dir: Path,
    *,
    work_dir: Path,
    movements: int = DEMO_MOVEMENTS,
    customers: int = DEMO_CUSTOMERS,
    seed: int = DEMO_SEED,
    days: int = demo.DEFAULT_DAYS,
) -> DemoFiles:
    """Fill an embedded data folder the way users do: check and commit each demo workbook,
    then let the consume job store everything published. Raises `RuntimeError` when rows
    are rejected or not all stored."""
    files = write_demo_files(
        work_dir, movements=movements, customers=customers, seed=seed, days=days
    )
    settings = load_settings(
        {"PIPEWORKS_DATA_DIR": str(data_dir), "PIPEWORKS_EMBEDDED_WORKER": "false"},
        secrets_file=None,
    )
    services = build_services(settings)
    try:
        services.sql.ensure_schema()
        limits = ParseLimits.from_settings(settings)
        for dataset, path in (("customers", files.customers), ("stock_movements", files.movements)):
            check = check_file(path, dataset=dataset, sql=services.sql, limits=limits)
            if check.report.rejected:
                raise RuntimeError(f"{path.name}: {check.report.rejected} rows rejected")
            commit_check(check, services, source="test")
        job = ConsumeJob(services, threading.Event(), budget_s=DRAIN_BUDGET_S)
        try:
            for _ in range(DRAIN_ROUNDS):
                if job() == 0:
                    break
        finally:
            job.close()
        unfinished = [u for u in services.sql.list_uploads() if u["status"] != "stored"]
        if unfinished:
            raise RuntimeError(f"uploads not stored: {unfinished}")
    finally:
        services.close()
    return files


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_environment(data_dir: Path) -> dict[str, str]:
    """This process's environment without any PIPEWORKS_* setting, on the embedded stack
    in `data_dir` (the app then starts its own worker)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEWORKS_")}
    env["PIPEWORKS_DATA_DIR"] = str(Path(data_dir).resolve())
    return env


@contextmanager
def running_app(
    data_dir: Path, *, log: Path | None = None, options: Sequence[str] = ()
) -> Iterator[str]:
    """`streamlit run streamlit_app.py` on a free loopback port, until the block ends; yields
    its base URL once `/_stcore/health` answers. `options` are further `streamlit run`
    options (such as `--client.toolbarMode viewer`); `log` receives the server's output.
    The server runs in its own process group, which is terminated (with the worker it
    started) on exit."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        *options,
    ]  # fmt: skip
    out: IO[bytes] | int = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=app_environment(data_dir),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        _stop_group(process)
        if not isinstance(out, int):
            out.close()


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless (Playwright's own browser downloads are not used)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
    )


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(_HEALTH_POLL_S)
    raise RuntimeError(f"streamlit did not answer on {url} within {START_TIMEOUT_S:.0f} s")


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _group_alive(process) and time.monotonic() < deadline:
        time.sleep(_HEALTH_POLL_S)
    if _group_alive(process):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _group_alive(process: subprocess.Popen[bytes]) -> bool:
    """Whether any process of the server's group (the server or its worker) still runs."""
    process.poll()  # reap the server itself, or it lingers as a zombie of the group
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True
