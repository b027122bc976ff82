"""Explicit partitions: the Java client's choice by key, so every message of a key stays in
one partition (and in order) however many partitions an operator gave the topic."""

from __future__ import annotations

from kafka.partitioner import DefaultPartitioner

from core.adapters.kafka_bus import partition_for


class _Cluster:
    def __init__(self, partitions: set[int]) -> None:
        self._partitions = partitions

    def topics(self) -> set[str]:
        return {"t"}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return self._partitions

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return self._partitions


KEYS = [f"BL{i:05d}|{i % 7}|C0500{i % 13}|M12{i:04d}".encode() for i in range(2_000)]


def test_keys_go_where_the_default_partitioner_sends_them() -> None:
    default = DefaultPartitioner()
    for count in (2, 3, 6, 12):
        cluster, partitions = _Cluster(set(range(count))), list(range(count))
        expected = [default.partition("t", k, k, None, None, cluster) for k in KEYS]
        assert [partition_for(k, partitions) for k in KEYS] == expected
        assert len(set(expected)) == count  # the keys spread over every partition


def test_every_message_of_a_key_goes_to_one_partition() -> None:
    partitions = [0, 1, 2, 3, 4]
    assert all(len({partition_for(k, partitions) for _ in range(3)}) == 1 for k in KEYS)


def test_a_single_partition_needs_no_hash_and_a_missing_key_lets_the_producer_choose() -> None:
    assert {partition_for(k, [0]) for k in KEYS} == {0}
    assert partition_for(None, [0, 1]) is None
