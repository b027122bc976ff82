"""The embedded `DocumentStore`: one SQLite file, one table per collection.

Each table holds `_id TEXT PRIMARY KEY, doc TEXT` (the document as JSON). Filters and sorts
compile to SQL over `json_extract`/`json_type`, with every value bound as a parameter, so the
store does the work and Python only receives the rows asked for. The file is in WAL mode with
a busy timeout, and each thread of each process gets its own connection, so several workers
and pages can share it.

The rules every adapter of the port applies identically (document values, field paths,
collection names, the filter language, the total order of `find`) are defined at the top of
this module and reused by `core.adapters.mongo_documents`.
"""

from __future__ import annotations

import json
import math
import numbers
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from core.adapters.sqlite_connections import ThreadConnections, use_wal
from core.codec import dumps, loads
from core.errors import StoreUnavailable
from core.ports import DocumentStore, Filter, Sort

DEFAULT_SETTING = "PIPEWORKS_DATA_DIR"
DEFAULT_BUSY_TIMEOUT_MS = 10_000
SERVICE = "SQLite document store"
ID = "_id"
MAX_NAME_LENGTH = 100

# --------------------------------------------------------------- rules shared by adapters
_COLLECTION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_RESERVED_PREFIXES = ("sqlite_", "system.")
_SEGMENT = re.compile(r"[^.$\"\x00][^.\"\x00]*")
RANGE_OPERATORS = ("$gt", "$gte", "$lt", "$lte")
OPERATORS = ("$in", "$contains", *RANGE_OPERATORS)


@dataclass(frozen=True)
class Condition:
    """One parsed filter term: `op` is "$eq" or one of `OPERATORS`."""

    path: str
    op: str
    value: Any


def check_collection(name: str) -> str:
    """Return `name` if it is a valid collection name, else raise `ValueError`."""
    if (
        not isinstance(name, str)
        or len(name) > MAX_NAME_LENGTH
        or not _COLLECTION.fullmatch(name)
        or name.startswith(_RESERVED_PREFIXES)
    ):
        raise ValueError(f"invalid collection name {name!r}")
    return name


def split_path(path: str) -> list[str]:
    """The segments of a dotted field path; a segment may not be empty or start with `$`."""
    segments = path.split(".") if isinstance(path, str) else []
    if not segments or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise ValueError(f"invalid field path {path!r}")
    return segments


def plain_value(value: Any) -> Any:
    """The storable form of a document value, the same for every adapter.

    Kept: str, int, float, bool, None, lists (and tuples, stored as lists) and mappings with
    text keys (without `.` and not starting with `$`). Converted: `date`/`datetime` to ISO 8601
    text (`isoformat()`; no date type is stored), NaN to None (a missing value), other
    integral and real numbers (e.g. numpy's) to int and float. Rejected with `ValueError` or
    `TypeError`: infinities and anything else.
    """
    if value.__class__ in _KEPT or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ValueError("infinite numbers cannot be stored")
        return value
    if isinstance(value, date):
        return value.isoformat()
    # Containers: their plain members kept without a call (documents hold many).
    if isinstance(value, Mapping):
        return {
            (k if k in _CHECKED_KEYS else _plain_key(k)): (
                v
                if v.__class__ in _KEPT or (v.__class__ is float and v - v == 0.0)
                else plain_value(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            v if v.__class__ in _KEPT or (v.__class__ is float and v - v == 0.0) else plain_value(v)
            for v in value
        ]
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return plain_value(float(value))
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


_KEPT = frozenset({str, bool, int, type(None)})  # stored as they are
_CHECKED_KEYS: set[str] = set()  # field names found valid (documents repeat a few)
_CHECKED_KEYS_MAX = 10_000


def _plain_key(key: Any) -> str:
    if not isinstance(key, str) or "." in key or key.startswith("$") or "\x00" in key:
        raise ValueError(f"invalid field name {key!r}")
    if key.__class__ is str and len(_CHECKED_KEYS) < _CHECKED_KEYS_MAX:
        _CHECKED_KEYS.add(key)
    return key


def plain_documents(documents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Documents in storable form, each with a text `_id`; the last of repeated ids wins."""
    latest: dict[str, dict[str, Any]] = {}
    for document in documents:
        doc = plain_value(document)
        if not isinstance(doc, dict) or not isinstance(doc.get(ID), str):
            raise ValueError("every document must be a mapping with a text `_id`")
        latest.pop(doc[ID], None)
        latest[doc[ID]] = doc
    return list(latest.values())


def parse_filter(where: Filter | None) -> list[Condition]:
    """Check a filter (see `core.ports`) and return its terms; values in storable form.

    Conditions apply to scalar fields: equality and range values are scalars (None matches a
    missing field too), range bounds are numbers or text (a bound only matches values of its
    kind), `$contains` takes text. Anything else raises `ValueError` or `TypeError`.
    """
    conditions: list[Condition] = []
    for path, condition in (where or {}).items():
        split_path(path)
        if not isinstance(condition, Mapping) or not all(
            isinstance(op, str) and op.startswith("$") for op in condition
        ):
            conditions.append(Condition(path, "$eq", _scalar(condition)))
            continue
        if not condition:
            raise ValueError(f"empty condition for {path!r}")
        for op, operand in condition.items():
            conditions.append(Condition(path, op, _operand(op, operand)))
    return conditions


def _operand(op: str, operand: Any) -> Any:
    if op == "$in":
        if isinstance(operand, str | bytes | Mapping) or not isinstance(operand, Sequence):
            raise TypeError("$in takes a list of values")
        return [_scalar(v) for v in operand]
    if op == "$contains":
        if not isinstance(operand, str):
            raise TypeError("$contains takes text")
        return operand
    if op in RANGE_OPERATORS:
        bound = _scalar(operand)
        if isinstance(bound, bool) or not isinstance(bound, str | int | float):
            raise TypeError(f"{op} takes a number or text")
        return bound
    raise ValueError(f"unknown filter operator {op!r}")


def _scalar(value: Any) -> Any:
    plain = plain_value(value)
    if isinstance(plain, dict | list):
        raise TypeError("filter values must be scalars")
    return plain


def total_order(sort: Sort) -> list[tuple[str, int]]:
    """The sort completed with `_id`, so that equal keys still page in one stable order."""
    order: list[tuple[str, int]] = []
    for path, direction in sort:
        split_path(path)
        if direction not in (1, -1):
            raise ValueError(f"sort direction must be 1 or -1, got {direction!r}")
        order.append((path, direction))
    if all(path != ID for path, _ in order):
        order.append((ID, 1))
    return order


def check_page(skip: int, limit: int) -> None:
    if skip < 0 or limit < 0:
        raise ValueError("skip and limit must not be negative")


# ------------------------------------------------------------------------- the adapter
_NUMBER_TYPES = "('integer', 'real')"
_RANK = (
    "CASE {t} WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 WHEN 'object' THEN 3"
    " WHEN 'array' THEN 4 WHEN 'true' THEN 5 WHEN 'false' THEN 5 ELSE 0 END"
)  # the order MongoDB gives to mixed types: null, numbers, text, objects, arrays, booleans


@dataclass(frozen=True)
class _Field:
    """SQL expressions reading one field of the row."""

    value: str  # SQL value (booleans read as 1/0, objects and arrays as JSON text)
    type: str  # json_type: 'null', 'true', 'integer', 'text', ... or NULL when missing

    @property
    def rank(self) -> str:
        return _RANK.format(t=self.type)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json_path(segments: Sequence[str]) -> str:
    return "".join(f'."{s}"' for s in segments)


def _field(path: str) -> _Field:
    if path == ID:
        return _Field("_id", "'text'")
    location = _literal("$" + _json_path(split_path(path)))
    return _Field(f"json_extract(doc, {location})", f"json_type(doc, {location})")


def _table(collection: str) -> str:
    return '"' + check_collection(collection) + '"'


def _where(conditions: Sequence[Condition], params: list[Any]) -> str:
    terms = [_term(c, params) for c in conditions]
    return " AND ".join(terms) if terms else "1"


def _term(condition: Condition, params: list[Any]) -> str:
    f, op, value = _field(condition.path), condition.op, condition.value
    if op == "$eq":
        return _equals(f, value, params)
    if op == "$in":
        texts = [v for v in value if isinstance(v, str)]
        terms = [_equals(f, v, params) for v in value if not isinstance(v, str)]
        if texts:
            terms.append(f"{f.value} IN ({', '.join('?' * len(texts))})")
            params.extend(texts)
        return "(" + " OR ".join(terms) + ")" if terms else "0"
    if op == "$contains":
        params.append(value.lower())
        return f"({f.type} = 'text' AND pipeworks_contains({f.value}, ?))"
    sign = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}[op]
    params.append(value)
    kinds = "('text')" if isinstance(value, str) else _NUMBER_TYPES
    return f"({f.type} IN {kinds} AND {f.value} {sign} ?)"


def _equals(f: _Field, value: Any, params: list[Any]) -> str:
    if value is None:
        return f"coalesce({f.type}, 'null') = 'null'"
    if isinstance(value, bool):
        return f"{f.type} = '{'true' if value else 'false'}'"
    params.append(value)
    if isinstance(value, str):
        return f"{f.value} = ?"  # text never equals a number in SQLite
    return f"({f.type} IN {_NUMBER_TYPES} AND {f.value} = ?)"


def _order_by(order: Sequence[tuple[str, int]]) -> str:
    terms = []
    for path, direction in order:
        f, way = _field(path), "ASC" if direction == 1 else "DESC"
        if path != ID:
            terms.append(f"{f.rank} {way}")  # kinds of values first, as MongoDB orders them
        terms.append(f"{f.value} {way}")
    return ", ".join(terms)


def _contains(text: str | None, needle: str) -> bool:
    return text is not None and needle in text.lower()


class SqliteDocumentStore(DocumentStore):
    """Collections of JSON documents in one SQLite file (see the module docstring).

    Document values follow `plain_value`: dates and datetimes are stored as ISO 8601 text,
    NaN as None; `_id` must be text. Filters and sorts apply to scalar fields (an array field
    is only read whole). Raises `StoreUnavailable` when the file cannot be opened, created or
    locked in time.
    """

    def __init__(
        self,
        path: Path,
        *,
        setting: str = DEFAULT_SETTING,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> None:
        self._path = Path(path)
        self._setting = setting
        self._busy_timeout_ms = busy_timeout_ms
        self._connections = ThreadConnections(self._open)

    # ------------------------------------------------------------------ port methods
    def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> None:
        table, rows = _table(collection), plain_documents(documents)
        if not rows:
            return
        values = [(d[ID], dumps(d).decode()) for d in rows]  # plain: finite, text keys
        with self._transaction() as conn:
            _create_table(conn, table)
            conn.executemany(
                f"INSERT INTO {table} (_id, doc) VALUES (?, ?)"
                " ON CONFLICT(_id) DO UPDATE SET doc = excluded.doc",
                values,
            )

    def get_many(self, collection: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        table = _table(collection)
        sql = f"SELECT _id, doc FROM {table} WHERE _id IN (SELECT value FROM json_each(?))"
        rows = self._select(sql, [json.dumps(list(ids), ensure_ascii=False)])
        return {row[0]: loads(row[1]) for row in rows}

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
        params: list[Any] = []
        sql = (
            f"SELECT doc FROM {_table(collection)} WHERE {_where(parse_filter(where), params)}"
            f" ORDER BY {_order_by(total_order(sort))} LIMIT ? OFFSET ?"
        )
        return [json.loads(row[0]) for row in self._select(sql, [*params, limit, skip])]

    def count(self, collection: str, where: Filter | None = None) -> int:
        params: list[Any] = []
        sql = (
            f"SELECT count(*) FROM {_table(collection)} WHERE {_where(parse_filter(where), params)}"
        )
        rows = self._select(sql, params)
        return rows[0][0] if rows else 0

    def drop(self, collection: str) -> None:
        with self._transaction() as conn:
            conn.execute(f"DROP TABLE IF EXISTS {_table(collection)}")

    def ping(self) -> None:
        with self._translate():
            self._connection().execute("SELECT 1").fetchall()

    def ensure_index(self, collection: str, fields: Sequence[str], *, unique: bool = False) -> None:
        """Create (if missing) an index on the fields; filters and `_id` then use it."""
        table = _table(collection)
        if not fields:
            raise ValueError("an index needs at least one field")
        name = _literal_identifier(f"ix_{collection}_{'_'.join(fields)}")
        expressions = ", ".join(_field(path).value for path in fields)
        with self._transaction() as conn:
            _create_table(conn, table)
            conn.execute(
                f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {name}"
                f" ON {table} ({expressions})"
            )

    def close(self) -> None:
        self._connections.close_all()

    # --------------------------------------------------------------------- plumbing
    def _connection(self) -> sqlite3.Connection:
        return self._connections.get()

    def _open(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout_ms / 1000,
            isolation_level=None,  # explicit transactions only
            check_same_thread=False,  # one connection per thread; `close` may run elsewhere
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            use_wal(conn, timeout_s=self._busy_timeout_ms / 1000)
            conn.create_function("pipeworks_contains", 2, _contains, deterministic=True)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except (sqlite3.OperationalError, OSError) as exc:
            raise StoreUnavailable(SERVICE, self._setting, f"{self._path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # integrity, programming errors
                raise
            raise StoreUnavailable(SERVICE, self._setting, f"{self._path}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._translate():
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")  # take the write lock now, waiting busy_timeout
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _select(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._translate():
            try:
                return self._connection().execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if str(exc).startswith("no such table"):
                    return []  # a collection that was never written is empty
                raise


def _create_table(conn: sqlite3.Connection, table: str) -> None:
    # `doc` is TEXT: a column declared JSON would get numeric affinity.
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (_id TEXT PRIMARY KEY, doc TEXT NOT NULL)")


def _literal_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
