"""Faults lose nothing and duplicate nothing (stock movements, delivery documents and their
relational projection): a worker killed mid-ingest, PostgreSQL stopped for 30 s, against the
real servers."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from core.adapters import sql_schema as s
from core.bootstrap import Services, build_services
from core.settings import Settings, load_settings
from core.usecases.commit import commit_upload

from .conftest import facts

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "tests" / "services" / "services.sh"
ROWS = 100_000

pytestmark = [pytest.mark.servers, pytest.mark.slow]


@pytest.fixture
def env(
    fresh_postgres_url: str, mongo_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path
) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PIPEWORKS_")}
    return base | {
        "PIPEWORKS_DATA_DIR": str(tmp_path / "data"),
        "PIPEWORKS_DATABASE_URL": fresh_postgres_url,
        "PIPEWORKS_MONGO_URL": mongo_url,
        "PIPEWORKS_MONGO_DB": unique,
        "PIPEWORKS_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "PIPEWORKS_TOPIC_PREFIX": f"{unique}.",
        "PIPEWORKS_POLL_INTERVAL_S": "0.2",
        "PIPEWORKS_LOG_LEVEL": "WARNING",
    }


def _movements(n: int) -> pd.DataFrame:
    i = pd.RangeIndex(n)
    # one delivery note in twenty, ten lines each: 500 delivery documents per 100k rows
    delivery = (i // 10) % 20 == 0
    return pd.DataFrame(
        {
            "article": "C" + pd.Series(i % 50).astype(str).str.zfill(7),
            "designation_1": "C/500/10/5/O/B",
            "lot": "M125" + pd.Series(i % 97).astype(str).str.zfill(5),
            "quantite": [-1.0 if d else 2.0 for d in delivery],
            "type_mouvement": ["Livraison client" if d else "Production" for d in delivery],
            "tiers": [f"CL{k % 300:05d}" if d else None for k, d in zip(i, delivery, strict=True)],
            "piece": "P" + pd.Series(i // 10).astype(str).str.zfill(7),
            "no_ligne": i % 10 + 1,
            "emplacement": "A01",
            "date_creation": pd.Timestamp("2026-03-01").date(),
            "sheet": "Mouvements",
            "row": i + 2,
        }
    )


def _commit(services: Services, settings: Settings, rows: pd.DataFrame) -> str:
    result = commit_upload(
        facts("stock_movements", rows, sha="f" * 64),
        rows,
        sql=services.sql,
        bus=services.bus,
        topic=settings.topic("stock_movements"),
    )
    assert result.published == len(rows)
    return result.upload_id


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = Path(env["PIPEWORKS_DATA_DIR"]).parent / "worker.log"
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "background"], cwd=ROOT, env=env, stdout=out, stderr=out
        )


def _alive(worker: subprocess.Popen[bytes], env: dict[str, str]) -> None:
    if worker.poll() is not None:
        log = Path(env["PIPEWORKS_DATA_DIR"]).parent / "worker.log"
        pytest.fail(f"the worker exited with {worker.returncode}:\n{log.read_text()[-3000:]}")


def _wait_stored(
    services: Services, upload_id: str, worker: subprocess.Popen[bytes], env: dict[str, str]
) -> dict:
    deadline = time.monotonic() + 600
    upload = services.sql.get_upload(upload_id)
    while time.monotonic() < deadline and upload["status"] != "stored":
        _alive(worker, env)
        time.sleep(1)
        upload = services.sql.get_upload(upload_id)
    return upload


def _lag_drained(
    services: Services, group: str, topic: str, worker: subprocess.Popen[bytes], env: dict
) -> bool:
    """Whether the group's lag on the topic comes down to 0 within a minute."""
    deadline = time.monotonic() + 60
    while services.bus.lag(group, [topic])[topic] != 0:
        _alive(worker, env)
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def _assert_exact(services: Services, upload: dict, rows: pd.DataFrame) -> None:
    assert upload["status"] == "stored"
    assert (upload["stored"], upload["dead_lettered"]) == (len(rows), 0)
    with services.sql.begin() as conn:
        total = conn.execute(select(func.count()).select_from(s.stock_movements)).scalar_one()
        keys = conn.execute(
            select(func.count()).select_from(
                select(
                    s.stock_movements.c.piece,
                    s.stock_movements.c.no_ligne,
                    s.stock_movements.c.article,
                    s.stock_movements.c.lot,
                )
                .distinct()
                .subquery()
            )
        ).scalar_one()
    assert total == keys == len(rows)
    deliveries = rows[rows.type_mouvement == "Livraison client"]
    notes = deliveries.piece.nunique()
    docs = services.documents.find("deliveries", sort=[("_id", 1)], limit=notes + 1)
    assert len(docs) == notes
    assert sum(len(d["lines"]) for d in docs) == len(deliveries)
    n = s.delivery_notes.c
    with services.sql.begin() as conn:
        projected = {
            r.delivery_no: (r.line_count, r.total_quantity)
            for r in conn.execute(select(n.delivery_no, n.line_count, n.total_quantity))
        }
        lines = conn.execute(select(func.count()).select_from(s.delivery_lines)).scalar_one()
    assert projected == {d["_id"]: (d["line_count"], d["total_quantity"]) for d in docs}
    assert lines == len(deliveries)
    assert services.sql.dead_letter_list() == []


def test_killing_the_worker_five_times_mid_ingest_loses_and_duplicates_nothing(env) -> None:
    settings = load_settings(env, secrets_file=None)
    services = build_services(settings)
    rows = _movements(ROWS)
    upload_id = _commit(services, settings, rows)
    rng = random.Random(7)
    kills = 0
    while kills < 5:
        worker = _worker(env)
        time.sleep(rng.uniform(4.0, 8.0))
        _alive(worker, env)
        progress = services.sql.get_upload(upload_id)["stored"]
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        kills += 1
        assert progress < ROWS or kills > 1, "the ingest finished before the first kill"
    worker = _worker(env)
    try:
        upload = _wait_stored(services, upload_id, worker, env)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    _assert_exact(services, upload, rows)


def test_postgres_down_for_30_seconds_mid_ingest_delays_but_loses_nothing(env) -> None:
    settings = load_settings(env, secrets_file=None)
    services = build_services(settings)
    rows = _movements(ROWS)
    upload_id = _commit(services, settings, rows)
    topic = settings.topic("stock_movements")
    worker = _worker(env)
    try:
        time.sleep(6)
        _alive(worker, env)
        subprocess.run(["bash", str(SERVICES), "pg-stop"], check=True, capture_output=True)
        try:
            lag_during = []
            for _ in range(6):
                time.sleep(5)
                lag_during.append(services.bus.lag(settings.consumer_group, [topic])[topic])
        finally:
            subprocess.run(["bash", str(SERVICES), "pg-start"], check=True, capture_output=True)
        assert lag_during[-1] > 0, "the worker cannot have stored rows while PostgreSQL was down"
        upload = _wait_stored(services, upload_id, worker, env)
        # the offsets of the last batch are committed just after its store write
        assert _lag_drained(services, settings.consumer_group, topic, worker, env)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    _assert_exact(services, upload, rows)
