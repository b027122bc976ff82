"""The `MessageBus` contract, run unchanged against the embedded queue and real Kafka."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.errors import BusUnavailable, PublishError
from core.ports import Consumer, Message, MessageBus, Record

DRAIN_DEADLINE_S = 60.0  # a consumer gives up waiting for expected records after this
HANG_LIMIT_S = 60.0  # a call against an unreachable bus must end well before this
POLL_TIMEOUT_S = 1.0
UNREACHABLE_KAFKA = "127.0.0.1:1"


@dataclass(frozen=True)
class BusSpec:
    """How to build a bus; picklable so another process can build the same one."""

    kind: str
    target: str

    def build(self) -> MessageBus:
        if self.kind == "queue":
            from core.adapters.queue_bus import SqliteQueueBus

            return SqliteQueueBus(Path(self.target))
        from core.adapters.kafka_bus import KafkaBus

        return KafkaBus(self.target)


@pytest.fixture(params=["queue", pytest.param("kafka", marks=pytest.mark.servers)])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def spec(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> BusSpec:
    if kind == "queue":
        return BusSpec("queue", str(tmp_path / "queue.db"))
    return BusSpec("kafka", request.getfixturevalue("kafka_bootstrap"))


@pytest.fixture
def bus(spec: BusSpec) -> Iterator[MessageBus]:
    bus = spec.build()
    yield bus
    bus.close()


@pytest.fixture
def topic(unique: str) -> str:
    return f"{unique}.movements"


@pytest.fixture
def open_consumer(bus: MessageBus) -> Iterator[Callable[..., Consumer]]:
    """Opens consumers and closes whichever the test left open."""
    opened: list[Consumer] = []

    def open_(group: str, topics: Sequence[str]) -> Consumer:
        consumer = bus.consumer(group, topics)
        opened.append(consumer)
        return consumer

    yield open_
    for consumer in opened:
        consumer.close()


def _messages(count: int, *, prefix: str = "k") -> list[Message]:
    return [Message(key=f"{prefix}{i:05d}", value={"n": i}) for i in range(count)]


def _drain(
    consumer: Consumer, *, count: int | None = None, until_key: str | None = None
) -> list[Record]:
    """Poll until `count` records arrived or the record keyed `until_key` did."""
    records: list[Record] = []
    deadline = time.monotonic() + DRAIN_DEADLINE_S

    def done() -> bool:
        if until_key is not None:
            return any(r.key == until_key for r in records)
        return count is not None and len(records) >= count

    while not done() and time.monotonic() < deadline:
        records.extend(consumer.poll(max_records=500, timeout_s=POLL_TIMEOUT_S))
    return records


def _keys(records: Sequence[Record]) -> list[str | None]:
    return [r.key for r in records]


def _finishes(call: Callable[[], object]) -> BaseException | None:
    """Run `call` in a thread; return what it raised (None if nothing); fail if it hangs."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            call()
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_LIMIT_S)
    assert not thread.is_alive(), "the call against an unreachable bus hung"
    return outcome[0]


def _publish_from_child(spec: BusSpec, topic: str, count: int) -> None:
    bus = spec.build()
    try:
        bus.publish(topic, _messages(count, prefix="child"))
    finally:
        bus.close()


# ---------------------------------------------------------------------------- tests
def test_published_messages_are_consumed_in_order_with_their_keys_and_values(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    assert bus.publish(topic, _messages(20)) == 20

    records = _drain(open_consumer(f"{unique}-g", [topic]), count=20)

    assert _keys(records) == [f"k{i:05d}" for i in range(20)]
    assert [json.loads(r.value) for r in records] == [{"n": i} for i in range(20)]
    assert [r.offset for r in records] == sorted({r.offset for r in records})
    assert {(r.topic, r.partition) for r in records} == {(topic, 0)}


def test_values_travel_as_compact_json_with_unknown_types_as_text(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    value = {"day": dt.date(2024, 3, 1), "qty": 2.5, "name": "Boru Ø600", "none": None}
    bus.publish(topic, [Message(key="m", value=value)])

    (record,) = _drain(open_consumer(f"{unique}-g", [topic]), count=1)

    assert record.value == b'{"day":"2024-03-01","qty":2.5,"name":"Boru \xc3\x98600","none":null}'


def test_headers_round_trip(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    headers = {"source": "upload-7.xlsx", "schema": "stock_movements/1", "user": "Gül Öztürk"}
    bus.publish(topic, [Message(key="h", value={}, headers=headers), Message(key="n", value={})])

    records = _drain(open_consumer(f"{unique}-g", [topic]), count=2)

    assert [dict(r.headers) for r in records] == [headers, {}]


def test_records_polled_but_not_committed_are_delivered_again_to_the_next_consumer(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    group = f"{unique}-g"
    bus.publish(topic, _messages(10))
    first = open_consumer(group, [topic])
    assert len(_drain(first, count=10)) == 10
    first.close()

    again = _drain(open_consumer(group, [topic]), count=10)

    assert _keys(again) == [f"k{i:05d}" for i in range(10)]


def test_committed_records_are_not_delivered_again(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    group = f"{unique}-g"
    bus.publish(topic, _messages(10))
    first = open_consumer(group, [topic])
    records = _drain(first, count=10)
    first.commit(records[:6])
    first.close()
    bus.publish(topic, [Message(key="sentinel", value={})])

    rest = _drain(open_consumer(group, [topic]), until_key="sentinel")

    assert _keys(rest) == [f"k{i:05d}" for i in range(6, 10)] + ["sentinel"]


def test_successive_polls_advance_without_a_commit(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    bus.publish(topic, _messages(30))
    consumer = open_consumer(f"{unique}-g", [topic])
    records: list[Record] = []
    deadline = time.monotonic() + DRAIN_DEADLINE_S
    while len(records) < 30 and time.monotonic() < deadline:
        records.extend(consumer.poll(max_records=7, timeout_s=POLL_TIMEOUT_S))

    assert _keys(records) == [f"k{i:05d}" for i in range(30)]


def test_two_groups_each_receive_every_message(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    bus.publish(topic, _messages(15))
    first = open_consumer(f"{unique}-a", [topic])
    first.commit(_drain(first, count=15))

    second = _drain(open_consumer(f"{unique}-b", [topic]), count=15)

    assert _keys(second) == [f"k{i:05d}" for i in range(15)]


def test_one_consumer_reads_several_topics(
    bus: MessageBus, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    topics = [f"{unique}.stock", f"{unique}.deliveries"]
    for name in topics:
        bus.publish(name, _messages(5, prefix=name))

    records = _drain(open_consumer(f"{unique}-g", topics), count=10)

    for name in topics:
        assert [r.key for r in records if r.topic == name] == [f"{name}{i:05d}" for i in range(5)]


def test_lag_counts_uncommitted_messages_and_drops_to_zero_after_commit(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    group = f"{unique}-g"
    absent = f"{unique}.absent"
    bus.publish(topic, _messages(10))
    assert bus.lag(group, [topic, absent]) == {topic: 10, absent: 0}

    consumer = open_consumer(group, [topic])
    records = _drain(consumer, count=10)
    assert bus.lag(group, [topic]) == {topic: 10}  # polled is not committed
    consumer.commit(records[:4])
    assert bus.lag(group, [topic]) == {topic: 6}
    consumer.commit(records)
    assert bus.lag(group, [topic]) == {topic: 0}


def test_reset_group_replays_every_topic_from_the_start(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    group = f"{unique}-g"
    bus.publish(topic, _messages(5))
    first = open_consumer(group, [topic])
    first.commit(_drain(first, count=5))
    first.close()
    assert bus.lag(group, [topic]) == {topic: 0}

    bus.reset_group(group, [topic])

    assert bus.lag(group, [topic]) == {topic: 5}
    replay = _drain(open_consumer(group, [topic]), count=5)
    assert _keys(replay) == [f"k{i:05d}" for i in range(5)]


def test_reset_of_a_group_that_never_consumed_is_harmless(
    bus: MessageBus, topic: str, unique: str
) -> None:
    bus.publish(topic, _messages(3))

    bus.reset_group(f"{unique}-never", [topic, f"{unique}.absent"])

    assert bus.lag(f"{unique}-never", [topic]) == {topic: 3}


def test_ten_thousand_messages_are_all_published_and_each_consumed_once(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    count = 10_000
    generated = (Message(key=f"k{i:05d}", value={"n": i, "pad": "x" * 50}) for i in range(count))
    assert bus.publish(topic, generated) == count

    consumer = open_consumer(f"{unique}-g", [topic])
    records: list[Record] = []
    deadline = time.monotonic() + DRAIN_DEADLINE_S
    while len(records) < count and time.monotonic() < deadline:
        batch = consumer.poll(max_records=1_000, timeout_s=POLL_TIMEOUT_S)
        consumer.commit(batch)
        records.extend(batch)
    consumer.close()
    assert bus.lag(f"{unique}-g", [topic]) == {topic: 0}
    bus.publish(topic, [Message(key="sentinel", value={})])
    after = _drain(open_consumer(f"{unique}-g", [topic]), until_key="sentinel")

    assert _keys(records) == [f"k{i:05d}" for i in range(count)]
    assert [json.loads(r.value)["n"] for r in records] == list(range(count))
    assert _keys(after) == ["sentinel"]  # nothing committed is delivered again


def test_concurrent_publishers_lose_nothing_and_keep_each_key_in_order(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    writers, per_writer = 4, 300
    results: list[int] = []

    def write(w: int) -> None:
        for start in range(0, per_writer, 100):
            batch = [Message(key=f"w{w}", value={"n": n}) for n in range(start, start + 100)]
            results.append(bus.publish(topic, batch))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = _drain(open_consumer(f"{unique}-g", [topic]), count=writers * per_writer)

    assert sum(results) == writers * per_writer
    assert len(records) == writers * per_writer
    assert len({r.offset for r in records}) == writers * per_writer
    for w in range(writers):
        values = [json.loads(r.value)["n"] for r in records if r.key == f"w{w}"]
        assert values == list(range(per_writer))


def test_messages_published_by_another_process_are_consumed(
    bus: MessageBus, spec: BusSpec, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    consumer = open_consumer(f"{unique}-g", [topic])
    bus.publish(topic, [Message(key="parent", value={})])
    child = multiprocessing.get_context("spawn").Process(
        target=_publish_from_child, args=(spec, topic, 50)
    )
    child.start()

    records = _drain(consumer, count=51)
    child.join(HANG_LIMIT_S)

    assert child.exitcode == 0
    assert _keys(records) == ["parent"] + [f"child{i:05d}" for i in range(50)]


def test_poll_on_an_empty_topic_returns_nothing(
    bus: MessageBus, topic: str, unique: str, open_consumer: Callable[..., Consumer]
) -> None:
    bus.publish(f"{unique}.other", _messages(1))

    assert open_consumer(f"{unique}-g", [topic]).poll(max_records=10, timeout_s=0.5) == []


def test_ping_answers_on_a_reachable_bus(bus: MessageBus) -> None:
    bus.ping()


def test_an_unreachable_bus_raises_instead_of_reporting_success(
    kind: str, tmp_path: Path, topic: str
) -> None:
    target = UNREACHABLE_KAFKA if kind == "kafka" else str(tmp_path / "missing" / "queue.db")
    bus = BusSpec(kind, target).build()
    try:
        published = _finishes(lambda: bus.publish(topic, _messages(3)))
        pinged = _finishes(bus.ping)
    finally:
        bus.close()

    assert isinstance(published, BusUnavailable | PublishError)
    assert isinstance(pinged, BusUnavailable)
    assert "unreachable" in str(pinged)
