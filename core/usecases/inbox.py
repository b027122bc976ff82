"""The inbox: workbooks dropped in `<data>/inbox/<dataset>/` are ingested with the mapping
saved for their layout (like the replaced system's daily job) and moved to `processed/` with
their validation report, or to `failed/` with the reason."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from core.bootstrap import Services
from core.domain.schemas import DATASET_NAMES
from core.errors import FileRejected, MappingIncomplete, PublishError, ServiceUnavailable
from core.ingest.limits import ParseLimits
from core.ingest.validate import report_csv
from core.usecases.ingest_file import check_file, commit_check

log = logging.getLogger(__name__)

PROCESSED = "processed"
FAILED = "failed"
SETTLE_S = 2.0  # a file still being copied in is left for the next scan


@dataclass(frozen=True)
class InboxOutcome:
    file: str
    dataset: str
    moved_to: Path
    published: int
    message: str


def inbox_folder(services: Services, dataset: str) -> Path:
    return services.settings.inbox_dir / dataset


def process_inbox(services: Services, *, settle_s: float = SETTLE_S) -> list[InboxOutcome]:
    """Ingest every settled file of every dataset folder; returns what was done."""
    outcomes = []
    limits = ParseLimits.from_settings(services.settings)
    for dataset in DATASET_NAMES:
        folder = inbox_folder(services, dataset)
        for sub in ("", PROCESSED, FAILED):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.iterdir()):
            if not _ready(path, settle_s):
                continue
            try:
                outcomes.append(_ingest(services, dataset, path, limits))
            except (ServiceUnavailable, PublishError) as exc:
                log.warning("inbox: %s stays in the inbox: %s", path.name, exc)
    return outcomes


def _ingest(services: Services, dataset: str, path: Path, limits: ParseLimits) -> InboxOutcome:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    try:
        check = check_file(path, dataset=dataset, sql=services.sql, limits=limits)
    except (FileRejected, MappingIncomplete) as exc:
        target = _move(path, path.parent / FAILED, stamp)
        target.with_name(target.name + ".error.txt").write_text(f"{exc}\n", encoding="utf-8")
        log.warning("inbox: %s failed: %s", path.name, exc)
        return InboxOutcome(path.name, dataset, target, 0, str(exc))
    result = commit_check(check, services, source="inbox")
    target = _move(path, path.parent / PROCESSED, stamp)
    target.with_name(target.name + ".report.csv").write_bytes(report_csv(check.report))
    message = (
        f"already loaded on {result.already_loaded['created_at']:%Y-%m-%d %H:%M}"
        if result.already_loaded
        else f"published {result.published} valid rows of {check.report.total}"
    )
    log.info("inbox: %s %s", path.name, message)
    return InboxOutcome(path.name, dataset, target, result.published, message)


def _ready(path: Path, settle_s: float) -> bool:
    if not path.is_file() or path.name.startswith((".", "~$")):
        return False
    return time.time() - path.stat().st_mtime >= settle_s


def _move(path: Path, folder: Path, stamp: str) -> Path:
    target = folder / f"{stamp}_{path.name}"
    shutil.move(str(path), target)
    return target
