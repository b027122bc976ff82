"""The worker: an APScheduler scheduler whose consume job polls the bus and stores batches.

One loop (`ConsumeJob.__call__`): poll a batch, store it, and only then commit its offsets;
the next batch is polled, and decoded in a child process (with PostgreSQL, see
`background.decoder`; two batches at once), while the previous one is being stored. A
transient store failure retries the same batch with backoff and commits nothing.
Before its first batch the job makes sure the delivery projection exists (built from the
delivery documents of an install that predates it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from background.decoder import DecoderPool
from core.bootstrap import Services
from core.consume import Prepared, store_batch
from core.domain.schemas import DATASET_NAMES
from core.errors import ServiceUnavailable
from core.ports import Consumer, Record
from core.usecases.delivery_projection import ensure_projection

log = logging.getLogger("pipeworks.worker")

DEFAULT_MAX_RECORDS = 10_000  # a batch: one COPY, one upsert, one transaction
DECODERS = 2  # batches decoded at once, each by its own process
DEFAULT_BUDGET_S = 30.0  # the job runs this long while records keep coming
MAX_BACKOFF_S = 10.0


@dataclass
class ConsumeJob:
    """Owns the one consumer of the group (by default the settings' `consumer_group`);
    APScheduler runs it with max_instances=1."""

    services: Services
    stop: threading.Event
    group: str = ""
    max_records: int = DEFAULT_MAX_RECORDS
    budget_s: float = DEFAULT_BUDGET_S
    decode_in_child: bool | None = None  # by default with PostgreSQL
    _consumer: Consumer | None = field(default=None, init=False)
    _projection_ready: bool = field(default=False, init=False)
    _storer: ThreadPoolExecutor = field(init=False)
    _decoding: ThreadPoolExecutor = field(init=False)
    _decoder: DecoderPool | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.group = self.group or self.services.settings.consumer_group
        # one thread stores while the job's own thread polls: the consumer keeps one owner
        self._storer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipeworks-store")
        # a thread per decoding process hands it a batch as soon as the batch is polled
        self._decoding = ThreadPoolExecutor(
            max_workers=DECODERS, thread_name_prefix="pipeworks-decode"
        )
        postgres = self.services.sql is not None and self.services.sql.is_postgres
        in_child = postgres if self.decode_in_child is None else self.decode_in_child
        if in_child:
            self._decoder = DecoderPool(DECODERS, copy=postgres)

    @property
    def topics(self) -> list[str]:
        return [self.services.settings.topic(name) for name in DATASET_NAMES]

    def __call__(self) -> int:
        """Consume until nothing comes, the budget is spent or the worker stops; the number of
        records handled. The next batch is polled while the previous one is being stored."""
        if not self._ensure_projection():
            return 0
        deadline = time.monotonic() + self.budget_s
        total = 0
        storing: tuple[Future[bool], list[Record]] | None = None
        while True:
            # 1. poll the next batch and have the child decode it (the previous one is being
            #    stored meanwhile)
            records: list[Record] | None = []
            if not self.stop.is_set() and time.monotonic() < deadline:
                records = self._poll(timeout_s=0.5)
            prepared = None
            if records and self._decoder is not None:
                prepared = self._decoding.submit(self._decoder.prepare, [r.value for r in records])
            # 2. commit the previous batch's offsets, only after its store write
            if storing is not None:
                if not self._commit_stored(*storing):
                    return total  # the batch just polled is redelivered to the next consumer
                total += len(storing[1])
                storing = None
            if records is None:  # the bus is unreachable: start again with a new consumer
                self._drop_consumer()
            if not records:
                if records is not None and self._decoder is not None and total == 0:
                    # idle: have the decoding processes ready (their imports take a CPU second)
                    # before the first batch, without slowing the consumer's group join
                    self._decoding.submit(self._decoder.start)
                return total
            # 3. store this batch (retried with backoff while the store is unreachable)
            storing = (self._storer.submit(self._store_with_retry, records, prepared), records)

    def _poll(self, *, timeout_s: float) -> list[Record] | None:
        """The next batch (empty when nothing came), or None when the bus is unreachable."""
        try:
            consumer = self._consumer or self.services.bus.consumer(self.group, self.topics)
            self._consumer = consumer
            return consumer.poll(max_records=self.max_records, timeout_s=timeout_s)
        except ServiceUnavailable as exc:
            log.warning("%s; retrying", exc)
            return None

    def _commit_stored(self, stored: Future[bool], records: list[Record]) -> bool:
        """Wait for a batch's store write, then commit its offsets; False (and the consumer
        dropped, so that nothing uncommitted is skipped) when either did not happen."""
        try:
            if not stored.result():
                self._drop_consumer()  # stopping: the batch is redelivered to the next consumer
                return False
        except BaseException:
            self._drop_consumer()
            raise
        if self._consumer is None:  # closed meanwhile: the next consumer gets the batch again
            return False
        try:
            self._consumer.commit(records)
        except ServiceUnavailable as exc:
            # The stores already hold the batch; redelivery is harmless (idempotent upserts).
            log.warning("offset commit failed (%s); the batch will be redelivered", exc)
            self._drop_consumer()
            return False
        return True

    def _ensure_projection(self) -> bool:
        """Build the delivery projection once, before consuming (retried on the next run
        while a store is unreachable)."""
        if not self._projection_ready:
            try:
                ensure_projection(self.services.sql, self.services.documents)
            except ServiceUnavailable as exc:
                log.warning("%s; the delivery projection will be built on the next run", exc)
                return False
            self._projection_ready = True
        return True

    def _store_with_retry(
        self, records: list[Record], preparing: Future[Prepared] | None = None
    ) -> bool:
        prepared, began = None, time.perf_counter()
        if preparing is not None:
            try:
                prepared = preparing.result()
            except Exception:  # store_batch decodes the batch itself
                log.exception("decoding a batch in a child process failed")
        waited = time.perf_counter() - began
        delay = 0.5
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                outcome = store_batch(
                    records,
                    group=self.group,
                    sql=self.services.sql,
                    documents=self.services.documents,
                    bus=self.services.bus,
                    prepared=prepared,
                )
            except ServiceUnavailable as exc:
                log.warning("%s; retrying the batch in %.1f s", exc, delay)
                self.stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
                continue
            log.info(
                "stored %d rows, dead-lettered %d in %.2f s "
                "(decode %.2f s, documents %.2f s, relational %.2f s; "
                "waited %.2f s for the decoding process)",
                outcome.stored,
                outcome.dead_lettered,
                time.perf_counter() - started,
                outcome.decode_s,
                outcome.documents_s,
                outcome.relational_s,
                waited,
            )
            return True
        return False

    def _drop_consumer(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()
            except Exception:
                log.debug("closing the consumer failed", exc_info=True)
            self._consumer = None

    def close(self) -> None:
        self._storer.shutdown(wait=True)
        self._decoding.shutdown(wait=True)
        if self._decoder is not None:
            self._decoder.close()
        self._drop_consumer()


def build_scheduler(
    services: Services,
    stop: threading.Event,
    *,
    extra_jobs: list[tuple[Callable[[], object], dict]] | None = None,  # type: ignore[type-arg]
) -> tuple[BlockingScheduler, ConsumeJob]:
    """The scheduler with the consume job (and any extra jobs, e.g. inbox and reports)."""
    scheduler = BlockingScheduler(executors={"default": JobExecutor(max_workers=3)})
    job = ConsumeJob(services, stop)
    scheduler.add_job(
        job,
        "interval",
        seconds=services.settings.poll_interval_s,
        id="consume",
        max_instances=1,
        coalesce=True,
        next_run_time=None,
    )
    scheduler.get_job("consume").modify(next_run_time=_now())
    for func, trigger in extra_jobs or []:
        scheduler.add_job(func, max_instances=1, coalesce=True, **trigger)
    return scheduler, job


def _now():  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime.now(dt.UTC)
