"""Shared pieces of the consume-path tests: the services of an isolated stack (embedded and
servers), committing rows as the upload page does, and draining the bus as the worker does."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from background.worker import ConsumeJob
from core.bootstrap import Services, build_services
from core.usecases.commit import UploadFacts


@pytest.fixture
def stack(stack_settings) -> Services:
    services = build_services(stack_settings)
    yield services
    services.close()


def facts(dataset: str, valid: pd.DataFrame, sha: str = "a" * 64) -> UploadFacts:
    """What the upload page knows of a validated file of `valid` rows."""
    return UploadFacts(
        dataset=dataset,
        file_name=f"{dataset}.xlsx",
        sha256=sha,
        sheet="Sheet1",
        layout=None,
        mapping={},
        total_rows=len(valid),
        rejected_rows=0,
        duplicate_rows=0,
    )


def drain(services: Services, *, timeout_s: float = 120.0) -> None:
    """Run the worker's consume job until it handles nothing and its group has no lag left
    (a first poll can come back empty while the consumer is still joining its group)."""
    job = ConsumeJob(services, threading.Event(), budget_s=30)
    deadline = time.monotonic() + timeout_s
    try:
        while job() or any(services.bus.lag(job.group, job.topics).values()):
            assert time.monotonic() < deadline, f"the bus was not drained in {timeout_s:.0f} s"
    finally:
        job.close()
