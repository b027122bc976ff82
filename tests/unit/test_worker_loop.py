"""The consume loop: the next batch is polled while the previous one is stored, and a
batch's offsets are committed only after its store write."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import background.worker as worker
from background.worker import ConsumeJob
from core.bootstrap import Services
from core.consume import BatchOutcome
from core.ports import Consumer, Record
from core.settings import load_settings


class _Consumer(Consumer):
    def __init__(self, batches: list[list[Record]], events: list[str]) -> None:
        self.batches, self.events = batches, events
        self.closed = False

    def poll(self, *, max_records: int, timeout_s: float) -> list[Record]:
        batch = self.batches.pop(0) if self.batches else []
        self.events.append(f"poll {batch[0].offset if batch else '-'}")
        return batch

    def commit(self, records) -> None:  # type: ignore[no-untyped-def]
        self.events.append(f"commit {records[0].offset}")

    def close(self) -> None:
        self.closed = True


class _Bus:
    def __init__(self, consumer: _Consumer) -> None:
        self._consumer = consumer

    def consumer(self, group: str, topics: list[str]) -> _Consumer:
        return self._consumer


def _batches(count: int, size: int = 3) -> list[list[Record]]:
    return [[Record("t", 0, b * size + i, "k", b"{}") for i in range(size)] for b in range(count)]


def _job(tmp_path: Path, consumer: _Consumer) -> ConsumeJob:
    settings = load_settings({"PIPEWORKS_DATA_DIR": str(tmp_path)}, secrets_file=None)
    services = Services(settings=settings, sql=None, documents=None, bus=_Bus(consumer))  # type: ignore[arg-type]
    job = ConsumeJob(services, threading.Event(), budget_s=30)
    job._projection_ready = True  # no stores here: the loop alone is under test
    return job


def test_the_next_batch_is_polled_while_the_last_is_stored_and_committed_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    first_stored = threading.Event()
    polled_second = threading.Event()

    def store(records, **_):  # type: ignore[no-untyped-def]
        if records[0].offset == 0:
            assert polled_second.wait(5), "the second batch was not polled during the store"
            first_stored.set()
        events.append(f"stored {records[0].offset}")
        return BatchOutcome(stored=len(records), dead_lettered=0)

    consumer = _Consumer(_batches(3), events)
    original_poll = consumer.poll

    def poll(**kwargs):  # type: ignore[no-untyped-def]
        batch = original_poll(**kwargs)
        if batch and batch[0].offset == 3:
            polled_second.set()
        return batch

    consumer.poll = poll  # type: ignore[method-assign]
    monkeypatch.setattr(worker, "store_batch", store)
    job = _job(tmp_path, consumer)
    assert job() == 9
    job.close()
    for offset in (0, 3, 6):
        assert events.index(f"stored {offset}") < events.index(f"commit {offset}")
    assert events.index("poll 3") < events.index("stored 0")


def test_a_batch_not_stored_is_not_committed_and_the_consumer_is_let_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    consumer = _Consumer(_batches(2), events)
    job = _job(tmp_path, consumer)

    def store(records, **_):  # type: ignore[no-untyped-def]
        job.stop.set()  # the worker stops: the store gives up without writing
        raise worker.ServiceUnavailable("PostgreSQL", "PIPEWORKS_DATABASE_URL")

    monkeypatch.setattr(worker, "store_batch", store)
    assert job() == 0
    job.close()
    assert not [e for e in events if e.startswith("commit")]
    assert consumer.closed


def test_the_next_batch_is_decoded_while_the_last_is_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    decoded_second = threading.Event()

    class _Decoder:
        calls = 0

        def prepare(self, values: list[bytes]) -> str:
            self.calls += 1
            events.append(f"decoded {self.calls}")
            if self.calls == 2:
                decoded_second.set()
            return f"prepared {self.calls}"

        def close(self) -> None:
            events.append("decoder closed")

    def store(records, *, prepared, **_):  # type: ignore[no-untyped-def]
        if records[0].offset == 0:
            assert decoded_second.wait(5), "the second batch was not decoded during the store"
        events.append(f"stored {records[0].offset} with {prepared}")
        return BatchOutcome(stored=len(records), dead_lettered=0)

    monkeypatch.setattr(worker, "store_batch", store)
    job = _job(tmp_path, _Consumer(_batches(2), events))
    job._decoder = _Decoder()  # type: ignore[assignment]
    assert job() == 6
    job.close()
    assert "stored 0 with prepared 1" in events
    assert "stored 3 with prepared 2" in events
    assert events.index("decoded 2") < events.index("stored 0 with prepared 1")
    assert events[-1] == "decoder closed"
