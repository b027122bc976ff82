"""The relational projection of the delivery documents, written by the worker: equal to the
documents after ingest from both sources, unchanged by replays, duplicate uploads and a crash
between the document write and the SQL commit, and rebuilt from the documents of an install
that predates it. Embedded and server stacks."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import delete, event, select

from background.worker import ConsumeJob
from core.adapters import sql_schema as s
from core.bootstrap import Services
from core.consume import DELIVERIES_COLLECTION
from core.usecases.commit import commit_upload
from core.usecases.delivery_projection import PROJECTION, ensure_projection
from core.worker_lock import acquire_lock
from tests import seeding

from .conftest import drain, facts

ROOT = Path(__file__).resolve().parents[2]
NOTE_FIELDS = ("customer", "month", "site", "currency", "country", "carrier", "line_count")
LINE_FIELDS = ("line_no", "article", "designation", "lot", "unit", "source", "family", "dn")


def _commit(stack: Services, dataset: str, rows: pd.DataFrame, *, sha: str) -> str:
    result = commit_upload(
        facts(dataset, rows, sha),
        rows,
        sql=stack.sql,
        bus=stack.bus,
        topic=stack.settings.topic(dataset),
    )
    assert result.published == len(rows)
    return result.upload_id


def _movements(pieces: range, lines: range) -> pd.DataFrame:
    """Customer deliveries (and a production movement per note), `lines` of each piece."""
    rows = []
    for p in pieces:
        for n in lines:
            rows.append(
                {
                    "site": "001",
                    "article": f"C05001{n:02d}",
                    "designation_1": "C/500/10/5/O/B" if n % 2 else "Raccord/500/10",
                    "lot": f"M12501{p:03d}{n}",
                    "quantite": -1.5 * n,
                    "uc": "ML",
                    "emplacement": "EXP01",
                    "type_mouvement": "Livraison client",
                    "tiers": f"CL{p % 3:05d}",
                    "piece": f"BL{p:05d}",
                    "no_ligne": n,
                    "devise": "EUR",
                    "montant_mouvement": -40.0 * n,
                    "date_creation": dt.date(2026, 1 + p % 3, 1 + p % 28),
                    "heure": "08:30:00",
                }
            )
        rows.append({**rows[-1], "type_mouvement": "Production", "piece": f"OF{p:05d}"})
    frame = pd.DataFrame(rows)
    frame["sheet"], frame["row"] = "Mouvements", range(2, len(frame) + 2)
    return frame


def _delivery_list(notes: range, lines: range) -> pd.DataFrame:
    rows = [
        {
            "delivery_no": f"DL{d:04d}",
            "line_no": n,
            "customer": f"CL{d % 4:05d}",
            "delivery_date": dt.date(2025, 6, 1 + d % 28),
            "article": f"RA0500-{n:02d}",
            "designation": "Raccord/500/10",
            "quantity": float(n),
            "unit": "PC",
            "amount": 75.0 * n,
            "currency": "EUR",
            "weight_kg": 12.5,
            "country": "Maroc",
            "carrier": "Truck",
            "site": "S01",
            "lot": None,
        }
        for d in notes
        for n in lines
    ]
    frame = pd.DataFrame(rows)
    frame["sheet"], frame["row"] = "Deliveries", range(2, len(frame) + 2)
    return frame


def _documents(stack: Services) -> list[dict[str, Any]]:
    return stack.documents.find(DELIVERIES_COLLECTION, sort=[("_id", 1)], limit=10_000)


def _projection(stack: Services) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    n, line = s.delivery_notes, s.delivery_lines
    with stack.sql.begin() as conn:
        notes = [dict(r._mapping) for r in conn.execute(select(n).order_by(n.c.delivery_no))]
        lines = [
            dict(r._mapping)
            for r in conn.execute(select(line).order_by(line.c.delivery_no, line.c.line_key))
        ]
    return notes, lines


def _assert_projection_equals_documents(stack: Services) -> list[dict[str, Any]]:
    docs = _documents(stack)
    notes, lines = _projection(stack)
    assert [x["delivery_no"] for x in notes] == [d["_id"] for d in docs]
    expected_lines = sorted(((d["_id"], x["line_key"]), d, x) for d in docs for x in d["lines"])
    assert [(x["delivery_no"], x["line_key"]) for x in lines] == [k for k, _, _ in expected_lines]
    for note, doc in zip(notes, docs, strict=True):
        assert {f: note[f] for f in NOTE_FIELDS} == {f: doc[f] for f in NOTE_FIELDS}
        assert note["delivery_date"].isoformat() == doc["delivery_date"][:10]
        assert note["total_quantity"] == pytest.approx(doc["total_quantity"])
        assert note["total_amount"] == pytest.approx(doc["total_amount"])
    for row, (_, doc, line) in zip(lines, expected_lines, strict=True):
        assert {f: row[f] for f in LINE_FIELDS} == {f: line.get(f) for f in LINE_FIELDS}
        assert (row["quantity"], row["amount"]) == (line["quantity"], line["amount"])
        assert (row["customer"], row["month"]) == (doc["customer"], doc["month"])
    return docs


def test_deliveries_from_movements_and_from_delivery_lists_are_projected_as_documented(
    stack: Services,
) -> None:
    movements = _movements(range(12), range(1, 4))
    listed = _delivery_list(range(8), range(1, 6))
    _commit(stack, "stock_movements", movements, sha="a" * 64)
    _commit(stack, "deliveries", listed, sha="b" * 64)
    drain(stack)
    docs = _assert_projection_equals_documents(stack)
    assert len(docs) == 12 + 8
    listed_note = next(d for d in docs if d["_id"] == "DL0003")
    assert (listed_note["line_count"], listed_note["total_amount"]) == (5, 75.0 * 15)
    assert stack.sql.count_rows("delivery_lines") == 12 * 3 + 8 * 5


def test_a_note_merged_from_several_uploads_has_the_totals_of_its_document(stack: Services):
    _commit(stack, "stock_movements", _movements(range(5), range(1, 3)), sha="c" * 64)
    drain(stack)
    _commit(stack, "stock_movements", _movements(range(3, 7), range(2, 6)), sha="d" * 64)
    drain(stack)
    docs = _assert_projection_equals_documents(stack)
    merged = next(d for d in docs if d["_id"] == "BL00004")
    assert merged["line_count"] == 5  # lines 1-2, then 2-5 (line 2 replaced, not repeated)
    assert merged["total_quantity"] == pytest.approx(1.5 * (1 + 2 + 3 + 4 + 5))


def test_replays_and_the_same_rows_uploaded_again_change_nothing(stack: Services) -> None:
    movements = _movements(range(10), range(1, 4))
    topic = stack.settings.topic("stock_movements")
    _commit(stack, "stock_movements", movements, sha="e" * 64)
    drain(stack)
    before = _projection(stack)
    _commit(stack, "stock_movements", movements, sha="f" * 64)  # same rows, another file
    stack.bus.reset_group(stack.settings.consumer_group, [topic])  # and every message replayed
    drain(stack)
    assert stack.bus.lag(stack.settings.consumer_group, [topic])[topic] == 0
    assert _projection(stack) == before
    _assert_projection_equals_documents(stack)


class _Crash(BaseException):
    """The worker dying in the middle of the relational transaction."""


def test_a_crash_between_the_document_write_and_the_sql_commit_loses_and_repeats_nothing(
    stack: Services,
) -> None:
    movements = _movements(range(6), range(1, 4))
    upload_id = _commit(stack, "stock_movements", movements, sha="g" * 64)

    def crash(_conn, _cursor, statement, *_args) -> None:
        if "delivery_notes" in statement and not statement.lstrip().upper().startswith("SELECT"):
            raise _Crash

    stack.sql.ensure_schema()
    event.listen(stack.sql.engine, "before_cursor_execute", crash)
    job = ConsumeJob(stack, threading.Event(), budget_s=30)
    try:
        with pytest.raises(_Crash):
            job()
    finally:
        event.remove(stack.sql.engine, "before_cursor_execute", crash)
        job.close()
    assert len(_documents(stack)) == 6  # the documents were written ...
    assert _projection(stack) == ([], [])  # ... and the transaction was not
    assert stack.sql.count_rows("stock_movements") == 0
    drain(stack)
    _assert_projection_equals_documents(stack)
    upload = stack.sql.get_upload(upload_id)
    assert (upload["status"], upload["stored"]) == ("stored", len(movements))


def test_an_install_with_documents_only_gets_its_projection_built_by_the_worker(
    stack: Services,
) -> None:
    rows = seeding.movement_rows(300, seed=5, customer_ids=["C1", "C2", "C3"])
    docs = seeding.delivery_documents(rows)
    stack.documents.upsert(DELIVERIES_COLLECTION, docs)  # stored before the projection existed
    assert stack.sql.count_rows("delivery_notes") == 0
    drain(stack)
    assert stack.sql.projection_built(PROJECTION)
    assert len(_assert_projection_equals_documents(stack)) == len(docs) > 20
    assert ensure_projection(stack.sql, stack.documents) is None  # once only


def test_the_rebuild_command_rebuilds_a_lost_projection_identically(
    stack: Services, stack_env: dict[str, str]
) -> None:
    _commit(stack, "stock_movements", _movements(range(15), range(1, 4)), sha="h" * 64)
    drain(stack)
    before = _projection(stack)
    with stack.sql.begin() as conn:
        conn.execute(delete(s.delivery_lines))
        conn.execute(delete(s.delivery_notes).where(s.delivery_notes.c.delivery_no < "BL00007"))
    for _ in range(2):  # twice: the second run changes nothing
        done = _rebuild_command(stack_env)
        assert done.returncode == 0, done.stderr
        assert "rebuilt from 15 delivery documents" in done.stdout
        assert _projection(stack) == before


def test_the_rebuild_command_refuses_while_a_worker_holds_the_data_folder(
    stack: Services, stack_env: dict[str, str]
) -> None:
    _commit(stack, "stock_movements", _movements(range(4), range(1, 3)), sha="i" * 64)
    drain(stack)
    with stack.sql.begin() as conn:
        conn.execute(delete(s.delivery_lines))
    lock = acquire_lock(stack.settings.data_dir)  # as a running worker holds it
    assert lock is not None
    with lock:
        done = _rebuild_command(stack_env)
    assert done.returncode == 1
    assert "a worker runs on the data folder" in done.stderr
    assert stack.sql.count_rows("delivery_lines") == 0  # nothing rebuilt behind its back


def _rebuild_command(stack_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEWORKS_")} | stack_env
    return subprocess.run(
        [sys.executable, "-m", "core", "rebuild-deliveries"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
