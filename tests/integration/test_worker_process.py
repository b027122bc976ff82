"""The worker as a process: starts, stores, refuses to double up, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from core.bootstrap import build_services
from core.settings import load_settings
from core.usecases.commit import UploadFacts, commit_upload

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEWORKS_")}
    env["PIPEWORKS_POLL_INTERVAL_S"] = "0.2"
    return env | extra


def _worker(data_dir: Path, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "background"],
        cwd=ROOT,
        env=_env(PIPEWORKS_DATA_DIR=str(data_dir), **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_an_unreachable_database_stops_the_worker_with_one_line(tmp_path: Path) -> None:
    proc = _worker(tmp_path, PIPEWORKS_DATABASE_URL="postgresql+psycopg2://u@127.0.0.1:1/x")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "PostgreSQL" in lines[0] and "PIPEWORKS_DATABASE_URL" in lines[0]


def test_the_worker_stores_committed_rows_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = _worker(tmp_path)
    try:
        settings = load_settings(_env(PIPEWORKS_DATA_DIR=str(tmp_path)), secrets_file=None)
        services = build_services(settings)
        rows = pd.DataFrame({"customer_id": [f"C{i}" for i in range(20)], "sheet": "s", "row": 2})
        facts = UploadFacts(
            dataset="customers",
            file_name="c.csv",
            sha256="c" * 64,
            sheet=None,
            layout=None,
            mapping={},
            total_rows=20,
            rejected_rows=0,
            duplicate_rows=0,
        )
        result = commit_upload(
            facts, rows, sql=services.sql, bus=services.bus, topic=settings.topic("customers")
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if services.sql.get_upload(result.upload_id)["status"] == "stored":
                break
            time.sleep(0.2)
        assert services.sql.count_rows("customers") == 20
        assert services.sql.get_upload(result.upload_id)["stored"] == 20

        second = _worker(tmp_path)
        _, err = second.communicate(timeout=30)
        assert second.returncode == 0 and "another worker" in err
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
