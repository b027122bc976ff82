"""The automated paths: the inbox folder and `python -m core ingest`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from core.bootstrap import build_services
from core.usecases.inbox import FAILED, PROCESSED, inbox_folder, process_inbox

ROOT = Path(__file__).resolve().parents[2]


def test_inbox_files_are_ingested_and_moved_with_their_report(stack_settings, shared_data) -> None:
    services = build_services(stack_settings)
    folder = inbox_folder(services, "customers")
    folder.mkdir(parents=True)
    shutil.copy(shared_data / "seed_customers.csv", folder / "clients.csv")
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    outcomes = {o.file: o for o in process_inbox(services, settle_s=0)}
    assert outcomes["clients.csv"].published == 2000
    assert outcomes["clients.csv"].moved_to.parent == folder / PROCESSED
    assert (
        outcomes["clients.csv"]
        .moved_to.with_name(outcomes["clients.csv"].moved_to.name + ".report.csv")
        .is_file()
    )
    failed = outcomes["broken.xlsx"]
    assert failed.moved_to.parent == folder / FAILED and failed.published == 0
    assert failed.moved_to.with_name(failed.moved_to.name + ".error.txt").read_text().strip()
    assert [p.name for p in folder.iterdir() if p.is_file()] == []

    shutil.copy(shared_data / "seed_customers.csv", folder / "clients-again.csv")
    [again] = process_inbox(services, settle_s=0)
    assert again.published == 0 and again.message.startswith("already loaded on")
    assert len(services.sql.list_uploads()) == 1


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEWORKS_")}
    env["PIPEWORKS_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "core", "ingest", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_dry_run_prints_the_json_report_and_commits_nothing(
    tmp_path: Path, shared_data
) -> None:
    source = shared_data / "scms_delivery_history.csv"
    done = _cli(str(source), "--dataset", "deliveries", "--dry-run", "--json", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    counts = report["counts"]
    assert counts["total"] == 10324 == counts["valid"] + counts["rejected"] + counts["duplicates"]
    assert counts["rejected"] > 0
    error = report["errors"][0]
    assert {"sheet", "row", "column", "letter", "reason"} <= set(error)
    assert "commit" not in report
    assert build_services_for(tmp_path).sql.list_uploads() == []


def test_cli_exits_2_with_one_line_for_a_file_it_cannot_read(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "0" * 300_000_000)
    done = _cli(str(bomb), "--dataset", "stock_movements", data_dir=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bomb.xlsx:")


def build_services_for(data_dir: Path):  # type: ignore[no-untyped-def]
    from core.settings import load_settings

    return build_services(load_settings({"PIPEWORKS_DATA_DIR": str(data_dir)}, secrets_file=None))
