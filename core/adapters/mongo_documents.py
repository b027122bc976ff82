"""The server `DocumentStore`: MongoDB through pymongo (FerretDB 1.x in the tests).

Every call uses what FerretDB 1.24 also implements: `find` with a filter, sort, skip and
limit; `count`; `insertMany`, then bulk `ReplaceOne` upserts of the ids already stored;
`createIndexes`. Document values, field paths, the filter language and the total order of
`find` follow the rules shared with the embedded store (`core.adapters.sqlite_documents`), so
both adapters answer alike.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pymongo import ASCENDING, MongoClient, ReplaceOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, ConfigurationError, ConnectionFailure

from core.adapters.sqlite_documents import (
    ID,
    check_collection,
    check_page,
    parse_filter,
    plain_documents,
    split_path,
    total_order,
)
from core.errors import ConfigError, StoreUnavailable
from core.ports import DocumentStore, Filter, Sort

DEFAULT_SETTING = "PIPEWORKS_MONGO_URL"
DEFAULT_TIMEOUT_MS = 5_000  # server selection and connection
DEFAULT_SOCKET_TIMEOUT_MS = 120_000  # one reply, so a hung server cannot block forever
DEFAULT_CHUNK_SIZE = 1_000  # documents per bulk write, ids per lookup
SERVICE = "MongoDB"
DUPLICATE_KEY = 11_000
APP_NAME = "pipeworks"


class MongoDocumentStore(DocumentStore):
    """Collections of documents in one MongoDB database.

    Document values follow `plain_value`: dates and datetimes are stored as ISO 8601 text,
    NaN as None; `_id` must be text. Filters and sorts apply to scalar fields (an array field
    is only read whole). The client is created on first use; raises
    `StoreUnavailable` when the server cannot be reached within `timeout_ms`, `ConfigError`
    when the URL is malformed.
    """

    def __init__(
        self,
        url: str,
        database: str,
        *,
        setting: str = DEFAULT_SETTING,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self._url = url
        self._database = database
        self._setting = setting
        self._timeout_ms = timeout_ms
        self._chunk_size = chunk_size
        self._lock = threading.Lock()
        self._client: MongoClient[dict[str, Any]] | None = None
        self._pid = os.getpid()

    # ------------------------------------------------------------------ port methods
    def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> None:
        name, docs = check_collection(collection), plain_documents(documents)
        latest = list({d[ID]: d for d in docs}.values())  # the last of repeated ids wins
        with self._translate():
            target = self._db()[name]
            for start in range(0, len(latest), self._chunk_size):
                _insert_or_replace(target, latest[start : start + self._chunk_size])

    def get_many(self, collection: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        name, wanted = check_collection(collection), list(dict.fromkeys(ids))
        found: dict[str, dict[str, Any]] = {}
        with self._translate():
            target = self._db()[name]
            for start in range(0, len(wanted), self._chunk_size):
                chunk = wanted[start : start + self._chunk_size]
                found.update((d[ID], d) for d in target.find({ID: {"$in": chunk}}))
        return found

    def find(
        self,
        collection: str,
        where: Filter | None = None,
        *,
        sort: Sort = (),
        skip: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        check_page(skip, limit)
        name, query, order = check_collection(collection), _query(where), total_order(sort)
        if limit == 0:
            return []  # pymongo reads a limit of 0 as "no limit"
        with self._translate():
            cursor = self._db()[name].find(query, sort=order, skip=skip, limit=limit)
            return list(cursor)

    def count(self, collection: str, where: Filter | None = None) -> int:
        name, query = check_collection(collection), _query(where)
        with self._translate():
            return self._db()[name].count_documents(query)

    def drop(self, collection: str) -> None:
        name = check_collection(collection)
        with self._translate():
            self._db().drop_collection(name)

    def ping(self) -> None:
        with self._translate():
            self._db().client.admin.command("ping")

    def ensure_index(self, collection: str, fields: Sequence[str], *, unique: bool = False) -> None:
        """Create (if missing) an ascending index on the fields."""
        name = check_collection(collection)
        if not fields:
            raise ValueError("an index needs at least one field")
        keys = [(path, ASCENDING) for path in fields if split_path(path)]
        with self._translate():
            self._db()[name].create_index(keys, unique=unique)

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None and self._pid == os.getpid():
            client.close()

    # --------------------------------------------------------------------- plumbing
    def _db(self) -> Database[dict[str, Any]]:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                # A forked child opens its own client: pymongo clients are not fork-safe.
                self._pid, self._client = os.getpid(), self._connect()
            return self._client[self._database]

    def _connect(self) -> MongoClient[dict[str, Any]]:
        try:
            return MongoClient(
                self._url,
                serverSelectionTimeoutMS=self._timeout_ms,
                connectTimeoutMS=self._timeout_ms,
                socketTimeoutMS=DEFAULT_SOCKET_TIMEOUT_MS,
                appname=APP_NAME,
            )
        except ConfigurationError as exc:
            raise ConfigError(f"{self._setting} is not a valid MongoDB URL: {exc}") from exc

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except ConnectionFailure as exc:  # also AutoReconnect, ServerSelectionTimeoutError
            raise StoreUnavailable(SERVICE, self._setting, _first_line(exc)) from exc


def _insert_or_replace(target: Collection[dict[str, Any]], docs: list[dict[str, Any]]) -> None:
    """Insert the documents; those whose `_id` is stored already (or was inserted meanwhile by
    another writer) fail with a duplicate key and are replaced whole instead.

    Inserting first is what FerretDB 1.x does fast: a replacement there reads the whole
    collection (about 25 ms a document in a collection of 1,000 delivery notes, 130 ms in one
    of 10,000), an insert does not. MongoDB finds either through the `_id` index."""
    try:
        target.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        stored = [docs[e["index"]] for e in _duplicate_keys(exc)]
        operations = [ReplaceOne({ID: d[ID]}, d, upsert=True) for d in stored]
        try:
            target.bulk_write(operations, ordered=False)
        except BulkWriteError as again:
            # two writers upserting one new `_id`: the loser succeeds when retried
            retried = [operations[e["index"]] for e in _duplicate_keys(again)]
            target.bulk_write(retried, ordered=False)


def _duplicate_keys(exc: BulkWriteError) -> list[dict[str, Any]]:
    """The write errors of a bulk write, all of them duplicate keys; otherwise re-raised."""
    errors = exc.details.get("writeErrors", [])
    if not errors or any(e.get("code") != DUPLICATE_KEY for e in errors):
        raise exc
    return errors


def _query(where: Filter | None) -> dict[str, Any]:
    """The MongoDB query of a filter of the port's language."""
    query: dict[str, dict[str, Any]] = {}
    for condition in parse_filter(where):
        terms = query.setdefault(condition.path, {})
        if condition.op == "$contains":
            terms.update({"$regex": re.escape(condition.value), "$options": "i"})
        else:
            terms[condition.op] = condition.value
    return query


def _first_line(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0].split(", Timeout:", 1)[0]
