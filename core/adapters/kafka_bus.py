"""The server message bus: Kafka through kafka-python.

Topics are created on first use with one partition (so a topic keeps one total order, as in
the embedded queue) and a replication factor of 1. The producer is idempotent with
`acks="all"`; `publish` sends a chunk without waiting, flushes, then checks every future.
Offsets are committed explicitly, only for the records the caller hands to `commit`.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any, TypeVar

import kafka.errors as kafka_errors
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, OffsetSpec
from kafka.net.compat import KafkaNetClient
from kafka.partitioner.default import murmur2
from kafka.structs import OffsetAndMetadata

from core.adapters.queue_bus import encode_value
from core.errors import BusUnavailable, ConfigError, PublishError
from core.ports import Consumer, Message, MessageBus, Record

SERVICE = "Kafka"
DEFAULT_SETTING = "PIPEWORKS_KAFKA_BOOTSTRAP"
DEFAULT_CLIENT_ID = "pipeworks"
DEFAULT_PORT = 9092
PARTITIONS = 1
REPLICATION_FACTOR = 1
MAX_POLL_RECORDS = 10_000
MAX_PARTITION_FETCH_BYTES = 8 * 1024 * 1024
PUBLISH_CHUNK = 50_000  # messages sent before one flush and check: memory stays flat
LINGER_MS = 20
BATCH_SIZE = 768 * 1024  # fewer, larger requests; under the brokers' default 1 MB limit
CONNECT_TIMEOUT_S = 3.0  # the TCP probe made before any client is built
BOOTSTRAP_TIMEOUT_MS = 5_000
REQUEST_TIMEOUT_MS = 10_000
MAX_BLOCK_MS = 10_000  # how long `send` may wait for topic metadata
DELIVERY_TIMEOUT_MS = 30_000  # a message is retried this long, then its future fails
ACK_TIMEOUT_S = DELIVERY_TIMEOUT_MS / 1000 + 5
SESSION_TIMEOUT_MS = 10_000  # a dead consumer's partitions move on after this
HEARTBEAT_INTERVAL_MS = 3_000
COORDINATOR_RETRY_S = 10.0  # a fresh cluster creates its offsets topic on the first lookup
COORDINATOR_BACKOFF_S = 0.2
TOPIC_ALREADY_EXISTS = kafka_errors.TopicAlreadyExistsError.errno
_UNREACHABLE = (kafka_errors.KafkaTimeoutError, kafka_errors.KafkaConnectionError)
_COORDINATOR_MOVING = (
    kafka_errors.CoordinatorNotAvailableError,
    kafka_errors.CoordinatorLoadInProgressError,
    kafka_errors.NotCoordinatorError,
)
_T = TypeVar("_T")


class KafkaBus(MessageBus):
    """A `MessageBus` on a Kafka cluster. Thread-safe; clients are created on first use.

    `publish` is at-least-once: when it raises, some messages may already be stored, so
    consumers must write idempotently (they do: upserts by key).
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        setting: str = DEFAULT_SETTING,
    ) -> None:
        self._bootstrap = bootstrap
        self._servers = [s.strip() for s in bootstrap.split(",") if s.strip()]
        self._client_id = client_id
        self._setting = setting
        self._lock = threading.Lock()  # lazy client creation
        self._admin_lock = threading.Lock()  # one admin request at a time
        self._producer: KafkaProducer | None = None
        self._admin: KafkaAdminClient | None = None
        self._topics: set[str] = set()

    # ------------------------------------------------------------------ MessageBus
    def publish(self, topic: str, messages: Iterable[Message]) -> int:
        acknowledged = 0
        with self._translate(publishing=True):
            self._probe()  # a stopped broker is reported now, not after the delivery timeout
            self._ensure_topics([topic])
            producer = self._get_producer()
            partitions = sorted(producer.partitions_for(topic))
            iterator = iter(messages)
            while chunk := list(itertools.islice(iterator, PUBLISH_CHUNK)):
                futures = []
                for m in chunk:
                    key = _encode_text(m.key)
                    futures.append(
                        producer.send(
                            topic,
                            key=key,
                            value=encode_value(m.value),
                            headers=[(k, v.encode()) for k, v in m.headers.items()],
                            partition=partition_for(key, partitions),
                        )
                    )
                producer.flush(timeout=ACK_TIMEOUT_S)
                _check_acknowledged(futures)
                acknowledged += len(futures)
        return acknowledged

    def consumer(self, group: str, topics: Sequence[str]) -> Consumer:
        with self._translate():
            self._ensure_topics(topics)
            self._probe()
            client = _build(
                KafkaConsumer,
                *topics,
                bootstrap_servers=self._servers,
                client_id=self._client_id,
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                allow_auto_create_topics=False,
                max_poll_records=MAX_POLL_RECORDS,
                max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
                bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                request_timeout_ms=REQUEST_TIMEOUT_MS,
                session_timeout_ms=SESSION_TIMEOUT_MS,
                heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
            )
        return KafkaGroupConsumer(client, translate=self._translate)

    def lag(self, group: str, topics: Sequence[str]) -> dict[str, int]:
        lags = dict.fromkeys(topics, 0)
        with self._translate():
            partitions = self._partitions(topics)
            if not partitions:
                return lags
            admin = self._get_admin()
            with self._admin_lock:
                latest = admin.list_partition_offsets(dict.fromkeys(partitions, OffsetSpec.LATEST))
                earliest = admin.list_partition_offsets(
                    dict.fromkeys(partitions, OffsetSpec.EARLIEST)
                )
                committed = _retry_coordinator(
                    lambda: admin.list_group_offsets({group: partitions})
                )[group]
        for tp in partitions:
            start = earliest[tp].offset
            done = committed[tp].offset if tp in committed else -1
            lags[tp.topic] += max(latest[tp].offset - max(done, start), 0)
        return lags

    def reset_group(self, group: str, topics: Sequence[str]) -> None:
        with self._translate():
            partitions = self._partitions(topics)
            if not partitions:
                return
            admin = self._get_admin()
            try:
                with self._admin_lock:
                    results = _retry_coordinator(
                        lambda: admin.delete_group_offsets(group, partitions)
                    )
            except kafka_errors.GroupIdNotFoundError:
                return  # nothing committed, nothing to forget
            except kafka_errors.NonEmptyGroupError as exc:
                raise self._busy(group) from exc
        for error in results.values():
            if error is kafka_errors.GroupSubscribedToTopicError:
                raise self._busy(group)
            if error not in (kafka_errors.NoError, kafka_errors.UnknownTopicOrPartitionError):
                raise BusUnavailable(SERVICE, self._setting, f"reset of {group}: {error.__name__}")

    def ping(self) -> None:
        with self._translate():
            self._probe()
            admin = self._get_admin()
            with self._admin_lock:
                admin.list_topics()

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
            admin, self._admin = self._admin, None
        if producer is not None:
            with suppress(kafka_errors.KafkaError):
                producer.close(timeout=REQUEST_TIMEOUT_MS / 1000)
        if admin is not None:
            with suppress(kafka_errors.KafkaError):
                admin.close()

    # ------------------------------------------------------------------ clients
    def _get_producer(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                self._probe()
                self._producer = _build(
                    KafkaProducer,
                    bootstrap_servers=self._servers,
                    client_id=self._client_id,
                    acks="all",
                    enable_idempotence=True,
                    linger_ms=LINGER_MS,
                    batch_size=BATCH_SIZE,
                    allow_auto_create_topics=False,
                    bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                    request_timeout_ms=REQUEST_TIMEOUT_MS,
                    max_block_ms=MAX_BLOCK_MS,
                    delivery_timeout_ms=DELIVERY_TIMEOUT_MS,
                )
            return self._producer

    def _get_admin(self) -> KafkaAdminClient:
        with self._lock:
            if self._admin is None:
                self._probe()
                self._admin = _build(
                    KafkaAdminClient,
                    bootstrap_servers=self._servers,
                    client_id=self._client_id,
                    bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                    request_timeout_ms=REQUEST_TIMEOUT_MS,
                )
            return self._admin

    def _probe(self) -> None:
        """Raise `BusUnavailable` unless some bootstrap server accepts a TCP connection.

        A refused connection is then reported at once, not after the bootstrap timeout.
        """
        problems = []
        for server in self._servers:
            host, _, port = server.rpartition(":") if ":" in server else (server, "", "")
            try:
                address = (host.strip("[]"), int(port or DEFAULT_PORT))
                with socket.create_connection(address, timeout=CONNECT_TIMEOUT_S):
                    return
            except (OSError, ValueError) as exc:
                problems.append(f"{server}: {exc}")
        raise BusUnavailable(SERVICE, self._setting, "; ".join(problems) or "no server given")

    # ------------------------------------------------------------------ topics
    def _ensure_topics(self, topics: Sequence[str]) -> None:
        """Create the missing topics (also `<topic>.dlq` ones, when first published to)."""
        missing = sorted(set(topics) - self._topics)
        if not missing:
            return
        admin = self._get_admin()
        spec = {"num_partitions": PARTITIONS, "replication_factor": REPLICATION_FACTOR}
        with self._admin_lock:
            result = admin.create_topics(dict.fromkeys(missing, spec), raise_errors=False)
            created = []
            for entry in result["topics"]:
                if entry["error_code"] == 0:
                    created.append(entry["name"])
                elif entry["error_code"] != TOPIC_ALREADY_EXISTS:
                    error = kafka_errors.for_code(entry["error_code"])
                    if issubclass(error, kafka_errors.RetriableError):
                        raise error(entry["error_message"] or entry["name"])
                    raise ConfigError(
                        f"Kafka refused topic {entry['name']!r}: "
                        f"{entry['error_message'] or error.__name__}"
                    )
            admin.wait_for_topics(created, timeout_ms=REQUEST_TIMEOUT_MS)
        self._topics.update(missing)

    def _partitions(self, topics: Sequence[str]) -> list[TopicPartition]:
        """The partitions of those topics that exist."""
        admin = self._get_admin()
        with self._admin_lock:
            described = admin.describe_topics(list(dict.fromkeys(topics)))
        return [
            TopicPartition(entry["name"], partition["partition_index"])
            for entry in described
            if entry["error_code"] == 0
            for partition in entry["partitions"]
        ]

    # ------------------------------------------------------------------ errors
    def _busy(self, group: str) -> BusUnavailable:
        detail = f"group {group} still has active consumers; stop them and retry"
        return BusUnavailable(SERVICE, self._setting, detail)

    @contextmanager
    def _translate(self, *, publishing: bool = False) -> Iterator[None]:
        try:
            yield
        except _UNREACHABLE as exc:
            raise BusUnavailable(SERVICE, self._setting, f"{self._bootstrap}: {exc}") from exc
        except kafka_errors.KafkaError as exc:
            if publishing:
                raise PublishError(f"Kafka did not accept the messages: {exc}") from exc
            raise BusUnavailable(SERVICE, self._setting, f"{self._bootstrap}: {exc}") from exc


class KafkaGroupConsumer(Consumer):
    """One member of a Kafka consumer group; offsets are committed only by `commit`."""

    def __init__(
        self,
        client: KafkaConsumer,
        *,
        translate: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self._client = client
        self._translate = translate

    def poll(self, *, max_records: int, timeout_s: float) -> list[Record]:
        """Up to `max_records`: waits up to `timeout_s` for the first records, then keeps
        fetching while more are immediately available (one fetch holds about 1 MB)."""
        records: list[Record] = []
        timeout_ms = int(max(timeout_s, 0.0) * 1000)
        with self._translate():
            while len(records) < max_records:
                batches = self._client.poll(
                    timeout_ms=timeout_ms if not records else 0,
                    max_records=max(max_records - len(records), 1),
                )
                fetched = [_record(r) for part in batches.values() for r in part]
                if not fetched:
                    break
                records.extend(fetched)
        return records

    def commit(self, records: Sequence[Record]) -> None:
        positions: dict[TopicPartition, int] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            positions[tp] = max(positions.get(tp, 0), record.offset + 1)
        if not positions:
            return
        offsets = {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in positions.items()}
        with self._translate():
            self._client.commit(offsets, timeout_ms=REQUEST_TIMEOUT_MS)

    def close(self) -> None:
        with suppress(kafka_errors.KafkaError):
            self._client.close(autocommit=False, timeout_ms=REQUEST_TIMEOUT_MS)


# ---------------------------------------------------------------------- helpers
def partition_for(key: bytes | None, partitions: Sequence[int]) -> int | None:
    """The partition of a keyed message, as the Java client's default partitioner chooses it
    (murmur2 of the key), so every message of a key goes to one partition; with a single
    partition nothing is hashed. None (the producer chooses) for a message without key."""
    if len(partitions) == 1:
        return partitions[0]
    if key is None:
        return None
    return partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]


def _build(cls: Callable[..., _T], *args: Any, **configs: Any) -> _T:
    """Create a kafka-python client, closing its network client if bootstrap fails.

    A client whose constructor raises would otherwise leave its network thread running,
    one more for each failed attempt.
    """
    made: list[KafkaNetClient] = []

    def net_client(**kwargs: Any) -> KafkaNetClient:
        made.append(KafkaNetClient(**kwargs))
        return made[-1]

    try:
        return cls(*args, kafka_client=net_client, **configs)
    except BaseException:
        for client in made:
            with suppress(Exception):
                client.close()
        raise


def _encode_text(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def _decode_text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", errors="replace")


def _record(raw: Any) -> Record:
    headers = {k: _decode_text(v) or "" for k, v in raw.headers or ()}
    value = raw.value if raw.value is not None else b""
    return Record(raw.topic, raw.partition, raw.offset, _decode_text(raw.key), value, headers)


def _check_acknowledged(futures: Sequence[Any]) -> None:
    """Raise `PublishError` unless every send future succeeded (all are done after flush)."""
    failed = 0
    first: BaseException | None = None
    for future in futures:
        try:
            future.get(timeout=ACK_TIMEOUT_S)
        except Exception as exc:
            failed += 1
            first = first or exc
    if failed:
        raise PublishError(
            f"Kafka did not acknowledge {failed} of {len(futures)} messages: {first}"
        ) from first


def _retry_coordinator(call: Callable[[], _T]) -> _T:
    """Run a group request, retrying while the group coordinator is not yet available."""
    deadline = time.monotonic() + COORDINATOR_RETRY_S
    while True:
        try:
            return call()
        except _COORDINATOR_MOVING:
            if time.monotonic() >= deadline:
                raise
            time.sleep(COORDINATOR_BACKOFF_S)
