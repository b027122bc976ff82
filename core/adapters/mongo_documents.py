"""The server `DocumentStore`: MongoDB through pymongo (FerretDB 1.x in the tests).

Every call uses what FerretDB 1.24 also implements: `find` with a filter, sort, skip and
limit; `count`; bulk `ReplaceOne` upserts; `createIndexes`; and aggregation pipelines of
`$match`, `$unwind` and `$group` with `$sum` (groups are sorted here, they are few). FerretDB
1.x gets `group` wrong in two ways, so on that server it runs as several simpler pipelines
(see `_group_on_ferretdb_1`). Document values, field paths, the filter language and the total
order of `find` follow the rules shared with the embedded store
(`core.adapters.sqlite_documents`), so both adapters answer alike.
"""

from __future__ import annotations

import json
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
    COUNT,
    ID,
    check_collection,
    check_page,
    group_names,
    parse_filter,
    plain_documents,
    split_path,
    total_order,
)
from core.errors import ConfigError, StoreUnavailable
from core.ports import DocumentStore, Filter, GroupSpec, Sort

DEFAULT_SETTING = "PIPEWORKS_MONGO_URL"
DEFAULT_TIMEOUT_MS = 5_000  # server selection and connection
DEFAULT_SOCKET_TIMEOUT_MS = 120_000  # one reply, so a hung server cannot block forever
DEFAULT_CHUNK_SIZE = 1_000  # documents per bulk write, ids per lookup
SERVICE = "MongoDB"
DUPLICATE_KEY = 11_000
APP_NAME = "pipeworks"
FERRETDB_FIXED = re.compile(r"v?([2-9]|\d\d)\.")  # FerretDB 2 aggregates like MongoDB


class MongoDocumentStore(DocumentStore):
    """Collections of documents in one MongoDB database.

    Document values follow `plain_value`: dates and datetimes are stored as ISO 8601 text,
    NaN as None; `_id` must be text. Filters, sorts and groups apply to scalar fields (an
    array field is only read whole, except by `GroupSpec.unwind`). In `group`, a missing field
    and a null one fall in the same group. The client is created on first use; raises
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
        self._ferretdb_1: bool | None = None  # learnt from the server on first `group`
        self._pid = os.getpid()

    # ------------------------------------------------------------------ port methods
    def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> None:
        name, docs = check_collection(collection), plain_documents(documents)
        with self._translate():
            target = self._db()[name]
            for start in range(0, len(docs), self._chunk_size):
                chunk = docs[start : start + self._chunk_size]
                operations = [ReplaceOne({ID: d[ID]}, d, upsert=True) for d in chunk]
                try:
                    target.bulk_write(operations, ordered=False)
                except BulkWriteError as exc:
                    # Two concurrent upserts of a new `_id` may both try to insert; the loser
                    # fails with a duplicate key and succeeds as a replacement when retried.
                    errors = exc.details.get("writeErrors", [])
                    if not errors or any(e.get("code") != DUPLICATE_KEY for e in errors):
                        raise
                    target.bulk_write([operations[e["index"]] for e in errors], ordered=False)

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

    def group(
        self, collection: str, spec: GroupSpec, where: Filter | None = None
    ) -> list[dict[str, Any]]:
        name, names, query = check_collection(collection), group_names(spec), _query(where)
        keys = {output: path for path, output in names.items()}
        totals = {COUNT: 1, **{output: "$" + path for output, path in spec.sums.items()}}
        with self._translate():
            target = self._db()[name]
            if self._is_ferretdb_1():
                rows = _group_on_ferretdb_1(target, query, spec.unwind, keys, totals)
            else:
                rows = _aggregate(target, query, spec.unwind, keys, totals)
        merged = _merge(rows, list(keys), list(totals))
        return sorted(merged, key=lambda row: [_order_key(row[k]) for k in keys])

    def distinct(self, collection: str, path: str, where: Filter | None = None) -> list[Any]:
        """The distinct non-null values of a field, in the store's sort order."""
        name, query = check_collection(collection), _query(where)
        with self._translate():
            rows = _aggregate(self._db()[name], query, None, {"v": path}, {})
        values = [row["v"] for row in _merge(rows, ["v"], []) if row["v"] is not None]
        return sorted(values, key=_order_key)

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
                self._ferretdb_1 = None
            return self._client[self._database]

    def _is_ferretdb_1(self) -> bool:
        """True when the server is FerretDB 1.x (see `_group_on_ferretdb_1`)."""
        if self._ferretdb_1 is None:
            info = self._db().client.admin.command("buildInfo")
            version = str(info.get("ferretdbVersion", ""))
            self._ferretdb_1 = "ferretdbVersion" in info and not FERRETDB_FIXED.match(version)
        return self._ferretdb_1

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


def _aggregate(
    target: Collection[dict[str, Any]],
    query: Mapping[str, Any],
    unwind: str | None,
    keys: Mapping[str, str],
    totals: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Rows of `$match`, `$unwind`, `$group` on the key paths with a `$sum` per total."""
    pipeline: list[dict[str, Any]] = [{"$match": query}] if query else []
    if unwind is not None:
        pipeline.append({"$unwind": "$" + unwind})
    key = {output: "$" + path for output, path in keys.items()} if keys else None
    pipeline.append({"$group": {"_id": key, **{t: {"$sum": a} for t, a in totals.items()}}})
    rows = []
    for row in target.aggregate(pipeline):
        found = row["_id"] or {}  # MongoDB leaves a missing field out of a compound key
        rows.append({**{k: found.get(k) for k in keys}, **{t: row[t] for t in totals}})
    return rows


def _group_on_ferretdb_1(
    target: Collection[dict[str, Any]],
    query: Mapping[str, Any],
    unwind: str | None,
    keys: Mapping[str, str],
    totals: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """`_aggregate` within the limits of FerretDB 1.x, whose `$group` computes only its first
    accumulator (FerretDB#4616) and whose `$unwind` keeps only `_id` and the unwound field.

    One pipeline per total; with an unwind, document-level keys are read first and each of
    their combinations is then matched, unwound and grouped on its own. The rows, one total
    each, are added up by `_merge`.
    """
    if unwind is not None and any(a != 1 and not _within(a[1:], unwind) for a in totals.values()):
        raise NotImplementedError("FerretDB 1.x cannot sum a document field over unwound lines")
    outer = {k: p for k, p in keys.items() if unwind is not None and not _within(p, unwind)}
    inner = {k: _unwound(p, unwind) for k, p in keys.items() if k not in outer}
    sums = {t: a if a == 1 else "$" + _unwound(a[1:], unwind) for t, a in totals.items()}
    combos = _merge(_aggregate(target, query, None, outer, {}), list(outer), []) if outer else [{}]
    rows = []
    for combo in combos:
        matched = [query, {outer[k]: {"$eq": v} for k, v in combo.items()}]
        where = {"$and": [q for q in matched if q]} if combo else query
        for total, argument in sums.items():
            found = _aggregate(target, where, unwind, inner, {total: argument})
            rows += [{**combo, **row} for row in found]
    return rows


def _within(path: str, unwind: str) -> bool:
    return path == unwind or path.startswith(unwind + ".")


def _unwound(path: str, unwind: str | None) -> str:
    """Where FerretDB 1.x puts a field of the unwound array: under its last segment."""
    if unwind is None or not _within(path, unwind):
        return path
    return split_path(unwind)[-1] + path[len(unwind) :]


def _merge(
    rows: list[dict[str, Any]], keys: Sequence[str], totals: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per key, totals added up: joins what MongoDB keeps apart (a missing key field
    and a null one) and the partial rows of `_group_on_ferretdb_1`."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = json.dumps([_order_key(row[k]) for k in keys])
        if key not in merged:
            merged[key] = {**{k: row[k] for k in keys}, **dict.fromkeys(totals, 0)}
        for total in totals:
            merged[key][total] += row.get(total, 0)
    return list(merged.values())


def _order_key(value: Any) -> tuple[int, Any]:
    """MongoDB's order of values: null, numbers, text, objects, arrays, booleans."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (5, value)
    if isinstance(value, int | float):
        return (1, float(value))
    if isinstance(value, str):
        return (2, value)
    return (3 if isinstance(value, dict) else 4, json.dumps(value, sort_keys=True))


def _first_line(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0].split(", Timeout:", 1)[0]
