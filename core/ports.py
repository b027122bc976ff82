"""Ports: the small abstract interfaces the use cases need from the outside world.

Each port has an embedded adapter (files under the data folder) and a server adapter
(Kafka, MongoDB; the relational store is SQLAlchemy over SQLite or PostgreSQL and needs no
port of its own). One contract test suite per port runs unchanged against every adapter.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


# --------------------------------------------------------------------------- message bus
@dataclass(frozen=True)
class Message:
    """One message to publish. `value` is JSON-serialisable, or already its compact UTF-8
    JSON (bytes); `key` decides ordering."""

    key: str
    value: Mapping[str, Any] | bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    """One consumed message with its position."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class Consumer(abc.ABC):
    """A consumer of one group over some topics. Not thread-safe: one owner.

    Contract:
    - `poll` returns up to `max_records` records in offset order per partition, starting after
      the group's last committed offset (from the earliest offset for a new group);
    - records polled but not committed are delivered again to the next consumer of the group
      (after `close`, or after the process died);
    - `commit` records, for each partition, the position after the highest offset given;
    - raises `BusUnavailable` when the bus cannot be reached.
    """

    @abc.abstractmethod
    def poll(self, *, max_records: int, timeout_s: float) -> list[Record]: ...

    @abc.abstractmethod
    def commit(self, records: Sequence[Record]) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...


class MessageBus(abc.ABC):
    """Durable topics of keyed JSON messages.

    Contract:
    - `publish` returns only when every message is durably stored (acks=all, idempotent
      producer); otherwise it raises `PublishError` (or `BusUnavailable`) and the caller must
      not report the messages as published. Order is kept per key.
    - `lag` is, per topic, the number of messages not yet committed by the group.
    """

    @abc.abstractmethod
    def publish(self, topic: str, messages: Iterable[Message]) -> int:
        """Publish and wait for acknowledgement; returns the number acknowledged."""

    @abc.abstractmethod
    def consumer(self, group: str, topics: Sequence[str]) -> Consumer: ...

    @abc.abstractmethod
    def lag(self, group: str, topics: Sequence[str]) -> dict[str, int]: ...

    @abc.abstractmethod
    def reset_group(self, group: str, topics: Sequence[str]) -> None:
        """Forget the group's committed offsets so it replays every topic from the start."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise `BusUnavailable` unless the bus answers."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


# ------------------------------------------------------------------------ document store
# A filter is a mapping of dotted field path to a condition:
#   value                      equality
#   {"$in": [...]}             one of
#   {"$gte": x, "$lte": y}     range (either bound optional; also $gt, $lt)
#   {"$contains": "text"}      case-insensitive substring of a text field
Filter = Mapping[str, Any]
Sort = Sequence[tuple[str, int]]  # (dotted field path, 1 ascending | -1 descending)


class DocumentStore(abc.ABC):
    """Collections of JSON documents keyed by `_id`.

    Contract:
    - `upsert` replaces or inserts each document by its `_id`, atomically per document;
      calling it again with the same documents changes nothing (idempotent);
    - `get_many` returns the stored documents for the given ids (missing ones absent);
    - `find`/`count` apply the filter language above; `find` sorts, skips and limits in the
      store, never loading the whole collection;
    - raises `StoreUnavailable` when the store cannot be reached.
    """

    @abc.abstractmethod
    def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> None: ...

    @abc.abstractmethod
    def get_many(self, collection: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    @abc.abstractmethod
    def find(
        self,
        collection: str,
        where: Filter | None = None,
        *,
        sort: Sort = (),
        skip: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def count(self, collection: str, where: Filter | None = None) -> int: ...

    @abc.abstractmethod
    def drop(self, collection: str) -> None: ...

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise `StoreUnavailable` unless the store answers."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
