"""`SqlStore`: the relational store over SQLAlchemy (SQLite file or PostgreSQL).

Write side for the worker (idempotent upserts, counters and checkpoints in one transaction)
and the bookkeeping of uploads and saved column mappings. Reads for the screens live in
`core.queries`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import operator
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Table, create_engine, event, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from core.adapters import sql_schema as s
from core.adapters.sqlite_connections import use_wal
from core.errors import StoreUnavailable

VALUES_CHUNK = 500  # rows per multi-row INSERT on PostgreSQL below the COPY threshold
SCHEMA_ATTEMPTS = 5  # creating the schema while another process does the same
SCHEMA_RETRY_S = 0.1
SQLITE_BUSY_TIMEOUT_S = 30.0  # how long a SQLite writer waits for another's transaction
COPY_THRESHOLD = 200  # from this many rows PostgreSQL loads through COPY into a staging table

UPLOAD_STATUSES = ("validated", "publishing", "published", "stored", "failed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CopyRows:
    """Rows of a table rendered for COPY, deduplicated by the table's key: what PostgreSQL
    loads as it is (see `copy_rows`). `csv`: in CSV with `null` for NULL (`_copy_csv`), else
    in COPY's text format."""

    columns: tuple[str, ...]
    data: bytes
    count: int
    csv: bool = False


def copy_rows(table_name: str, rows: Sequence[Mapping[str, Any]]) -> CopyRows:
    """`rows` of a table (every row with the same fields) deduplicated by the table's key
    (the last wins) and rendered for COPY: the slow, pure part of a bulk load, which can be
    done ahead of the write (even in another process)."""
    unique = _unique(rows, _KEYS[table_name])
    if not unique:
        return CopyRows((), b"", 0)
    return _rendered(s.metadata.tables[table_name], unique)


@dataclass
class StoreBatch:
    """Everything one consumed batch writes to the relational store, in one transaction."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # table -> rows
    copied: dict[str, CopyRows] = field(default_factory=dict)  # table -> rendered rows
    stored: dict[str, int] = field(default_factory=dict)  # upload id -> newly stored rows
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: dict[tuple[str, int], int] = field(default_factory=dict)  # -> next offset


class SqlStore:
    """The relational store. Connects lazily; raises `StoreUnavailable` when unreachable."""

    def __init__(self, url: str, *, setting: str = "PIPEWORKS_DATABASE_URL") -> None:
        self.url = url
        self.setting = setting
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    # ------------------------------------------------------------------ connection
    @property
    def service(self) -> str:
        return "PostgreSQL" if self.is_postgres else "SQLite"

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = self._create_engine()
            return self._engine

    def _create_engine(self) -> Engine:
        if self.is_postgres:
            return create_engine(
                self.url,
                pool_pre_ping=True,
                pool_size=5,
                connect_args={"connect_timeout": 5},
            )
        if self.url.startswith("sqlite:///"):
            from pathlib import Path

            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(self.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def unavailable(self, exc: BaseException) -> StoreUnavailable:
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else ""
        return StoreUnavailable(self.service, self.setting, detail)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction; connection failures become `StoreUnavailable`."""
        self.ensure_schema()
        try:
            with self.engine.begin() as conn:
                yield conn
        except (OperationalError, DBAPIError) as exc:
            if _is_transient(exc):
                raise self.unavailable(exc) from exc
            raise

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise self.unavailable(exc) from exc

    def ensure_schema(self) -> None:
        """Create what is missing of the schema, once per store (its threads wait for it)."""
        if self._schema_ready:
            return
        with self._schema_lock:
            for attempt in range(1, SCHEMA_ATTEMPTS + 1):
                if self._schema_ready:
                    return
                try:
                    s.ensure_schema(self.engine)
                except SQLAlchemyError as exc:
                    # Another process creating the schema at the same moment makes a statement
                    # fail ("already exists"); the next attempt finds what it made.
                    if attempt == SCHEMA_ATTEMPTS or not _schema_race(exc):
                        raise self.unavailable(exc) from exc
                    time.sleep(SCHEMA_RETRY_S * attempt)
                else:
                    self._schema_ready = True

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # ------------------------------------------------------------------ uploads
    def create_upload(self, **values: Any) -> None:
        values.setdefault("created_at", utcnow())
        with self.begin() as conn:
            conn.execute(s.uploads.insert().values(**values))

    def update_upload(self, upload_id: str, **values: Any) -> None:
        with self.begin() as conn:
            conn.execute(update(s.uploads).where(s.uploads.c.id == upload_id).values(**values))

    def get_upload(self, upload_id: str) -> dict[str, Any] | None:
        with self.begin() as conn:
            row = conn.execute(select(s.uploads).where(s.uploads.c.id == upload_id)).first()
        return dict(row._mapping) if row else None

    def find_loaded(self, dataset: str, sha256: str) -> dict[str, Any] | None:
        """The latest upload of this dataset with the same content that reached the bus."""
        query = (
            select(s.uploads)
            .where(
                s.uploads.c.dataset == dataset,
                s.uploads.c.sha256 == sha256,
                s.uploads.c.status.in_(("published", "stored")),
            )
            .order_by(s.uploads.c.created_at.desc())
            .limit(1)
        )
        with self.begin() as conn:
            row = conn.execute(query).first()
        return dict(row._mapping) if row else None

    def list_uploads(self, *, limit: int = 200) -> list[dict[str, Any]]:
        query = select(s.uploads).order_by(s.uploads.c.created_at.desc()).limit(limit)
        with self.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # ------------------------------------------------------------------ mappings
    def save_mapping(
        self, dataset: str, layout: str, mapping: Mapping[str, str], *, sheet: str | None = None
    ) -> None:
        values = {"mapping": dict(mapping), "sheet": sheet, "updated_at": utcnow()}
        with self.begin() as conn:
            _upsert(
                conn,
                s.column_mappings,
                [{"dataset": dataset, "layout": layout, **values}],
                key=("dataset", "layout"),
                postgres=self.is_postgres,
            )

    def load_mapping(self, dataset: str, layout: str) -> dict[str, str] | None:
        query = select(s.column_mappings.c.mapping).where(
            s.column_mappings.c.dataset == dataset, s.column_mappings.c.layout == layout
        )
        with self.begin() as conn:
            return conn.execute(query).scalar()

    # ------------------------------------------------------------------ worker writes
    def checkpoints(self, group: str) -> dict[tuple[str, int], int]:
        """Next offset already applied, per (topic, partition), for a consumer group."""
        c = s.consumer_checkpoints.c
        with self.begin() as conn:
            rows = conn.execute(
                select(c.topic, c.partition, c.next_offset).where(c.group_id == group)
            )
            return {(r.topic, r.partition): r.next_offset for r in rows}

    def write_batch(
        self,
        group: str,
        batch: StoreBatch,
        *,
        meanwhile: Callable[[], Mapping[str, list[dict[str, Any]]]] | None = None,
    ) -> None:
        """Apply one consumed batch atomically: upserts, upload counters, dead letters and
        the group's checkpoints. Idempotent for the rows; counters move once per offset.

        `meanwhile` runs in this thread while the batch's rows are loaded (on a second
        thread with PostgreSQL, whose client waits for the server without the GIL); the rows
        it returns (table -> rows) are written in the same transaction. An exception from it
        rolls everything back."""
        late: Mapping[str, list[dict[str, Any]]] = {}
        with self.begin() as conn:
            if meanwhile is not None and self.is_postgres:
                with ThreadPoolExecutor(1, thread_name_prefix="pipeworks-load") as loader:
                    loading = loader.submit(self._write_rows, conn, batch)
                    try:
                        late = meanwhile()
                    finally:
                        futures.wait([loading])  # the connection is free again
                    loading.result()
            else:  # SQLite: one connection, one thread
                self._write_rows(conn, batch)
                late = meanwhile() if meanwhile is not None else {}
            self._write_rows(conn, StoreBatch(rows=dict(late)))
            for upload_id, n in batch.stored.items():
                self._count(conn, upload_id, stored=n)
            if batch.dead_letters:
                _insert_ignore(conn, s.dead_letters, batch.dead_letters, postgres=self.is_postgres)
                per_upload: dict[str, int] = {}
                for d in batch.dead_letters:
                    if d.get("upload_id") and d.get("counted", True):
                        per_upload[d["upload_id"]] = per_upload.get(d["upload_id"], 0) + 1
                for upload_id, n in per_upload.items():
                    self._count(conn, upload_id, dead_lettered=n)
            _upsert(
                conn,
                s.consumer_checkpoints,
                [
                    {"group_id": group, "topic": t, "partition": p, "next_offset": o}
                    for (t, p), o in batch.checkpoints.items()
                ],
                key=("group_id", "topic", "partition"),
                postgres=self.is_postgres,
            )

    def _write_rows(self, conn: Connection, batch: StoreBatch) -> None:
        for table_name, rows in batch.rows.items():
            table = s.metadata.tables[table_name]
            _upsert(conn, table, rows, key=_KEYS[table_name], postgres=self.is_postgres)
        for table_name, copied in batch.copied.items():
            if not self.is_postgres:
                raise ValueError("rows rendered for COPY need PostgreSQL")
            if copied.count:
                _load_copy(conn, s.metadata.tables[table_name], copied, key=_KEYS[table_name])

    def projection_built(self, name: str) -> bool:
        """Whether the projection `name` was built (or found nothing to build) once."""
        c = s.projection_builds.c
        with self.begin() as conn:
            return conn.execute(select(c.name).where(c.name == name)).first() is not None

    def mark_projection_built(self, name: str, *, documents: int) -> None:
        row = {"name": name, "documents": documents, "built_at": utcnow()}
        with self.begin() as conn:
            _upsert(conn, s.projection_builds, [row], key=("name",), postgres=self.is_postgres)

    def mark_published(self, upload_id: str, published: int) -> None:
        """Publishing finished: 'published', or 'stored' if the worker was quicker."""
        with self.begin() as conn:
            conn.execute(
                update(s.uploads)
                .where(s.uploads.c.id == upload_id)
                .values(status="published", published=published, committed_at=utcnow())
            )
            self._count(conn, upload_id)

    def _count(self, conn: Connection, upload_id: str, **increments: int) -> None:
        u = s.uploads.c
        values: dict[str, Any] = {name: getattr(u, name) + n for name, n in increments.items()}
        if values:
            conn.execute(update(s.uploads).where(u.id == upload_id).values(**values))
        done = (u.stored + u.dead_lettered >= u.published) & (u.status == "published")
        conn.execute(
            update(s.uploads)
            .where(u.id == upload_id, done)
            .values(status="stored", finished_at=utcnow())
        )

    def dead_letter_list(self, *, limit: int = 200) -> list[dict[str, Any]]:
        query = select(s.dead_letters).order_by(s.dead_letters.c.id.desc()).limit(limit)
        with self.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def count_rows(self, table_name: str) -> int:
        with self.begin() as conn:
            return conn.execute(
                select(func.count()).select_from(s.metadata.tables[table_name])
            ).scalar_one()


_KEYS: dict[str, tuple[str, ...]] = {
    "stock_movements": ("piece", "no_ligne", "article", "lot"),
    "customers": ("customer_id",),
    "delivery_notes": ("delivery_no",),
    "delivery_lines": ("delivery_no", "line_key"),
}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    use_wal(dbapi_conn, timeout_s=SQLITE_BUSY_TIMEOUT_S)
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def _schema_race(exc: SQLAlchemyError) -> bool:
    """Whether creating the schema failed on what another process was creating meanwhile."""
    if not isinstance(exc, DBAPIError):
        return False
    return "already exists" in str(exc.orig) or not _is_transient(exc)


def _is_transient(exc: DBAPIError) -> bool:
    """Connection-level failures (server down, network) as opposed to bad data."""
    if exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        message = str(exc.orig).lower()
        # SQLite reports bad data as OperationalError too (e.g. "too many SQL variables").
        return not any(word in message for word in ("syntax", "no such", "too many"))
    return False


def _upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    postgres: bool,
) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE, rows deduplicated by key (last wins)."""
    if not rows:
        return
    unique = _unique(rows, key)
    columns = list(unique[0].keys())
    if postgres and len(unique) >= COPY_THRESHOLD:
        _load_copy(conn, table, _rendered(table, unique), key=key)
        return
    if not postgres:
        # One single-row statement executed for every row: SQLAlchemy compiles a multi-row
        # VALUES statement far more slowly than SQLite runs it (10x at 25 columns).
        conn.execute(_on_conflict(sqlite.insert(table), columns=columns, key=key), unique)
        return
    for start in range(0, len(unique), VALUES_CHUNK):
        chunk = unique[start : start + VALUES_CHUNK]
        conn.execute(_on_conflict(postgresql.insert(table).values(chunk), columns=columns, key=key))


def _on_conflict(stmt: Any, *, columns: Sequence[str], key: Sequence[str]) -> Any:
    """`stmt` (a dialect's INSERT) updating every non-key column of a row that exists."""
    updates = {c: stmt.excluded[c] for c in columns if c not in key}
    if updates:
        return stmt.on_conflict_do_update(index_elements=list(key), set_=updates)
    return stmt.on_conflict_do_nothing(index_elements=list(key))


def _insert_ignore(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, postgres: bool
) -> None:
    dialect = postgresql if postgres else sqlite
    clean = [{k: v for k, v in r.items() if k in table.c} for r in rows]
    conn.execute(dialect.insert(table).values(clean).on_conflict_do_nothing())


def _unique(rows: Sequence[Mapping[str, Any]], key: Sequence[str]) -> list[Mapping[str, Any]]:
    """The rows deduplicated by key, the last one of a key winning."""
    key_of = operator.itemgetter(*key)
    return list({key_of(r): r for r in rows}.values())


def _rendered(table: Table, unique: Sequence[Mapping[str, Any]]) -> CopyRows:
    """Rows of a table, unique by key and all with the same fields, rendered for COPY: in CSV
    when every value is one JSON writes plainly, else in COPY's text format."""
    columns = tuple(unique[0].keys())
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    if not json_columns and (data := _copy_csv(unique, columns)) is not None:
        return CopyRows(columns, data, len(unique), csv=True)
    text = _copy_text(unique, columns, json_columns=json_columns)
    return CopyRows(columns, text.encode(), len(unique))


def _load_copy(conn: Connection, table: Table, rows: CopyRows, *, key: Sequence[str]) -> None:
    """Bulk load into a temporary staging table with COPY, then one INSERT ... ON CONFLICT."""
    staging = f"staging_{table.name}"
    columns = rows.columns
    quoted = ", ".join(f'"{c}"' for c in columns)
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table.name} INCLUDING DEFAULTS) "
        "ON COMMIT DELETE ROWS"
    )
    options = f" WITH (FORMAT csv, NULL '{_CSV_NULL}')" if rows.csv else ""
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.copy_expert(f"COPY {staging} ({quoted}) FROM STDIN{options}", io.BytesIO(rows.data))
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns if c not in key)
    conflict = ", ".join(f'"{k}"' for k in key)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({quoted}) SELECT {quoted} FROM {staging} "
        f"ON CONFLICT ({conflict}) {action}"
    )
    conn.exec_driver_sql(f"TRUNCATE {staging}")


def _copy_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes | None:
    """The rows in CSV, `null` for NULL, each line the JSON array of a row's values (orjson,
    at C speed) without its brackets: JSON's numbers, `null`, and strings without escapes are
    CSV fields as they are (ISO dates and times among them). A line holding an escape (a
    string with a quote, a backslash or a control character) is written again by `_csv_line`.
    None when a value is not one JSON holds (an integer beyond 64 bits, say); a float that is
    not finite becomes NULL."""
    cells = _cells(columns)
    try:
        lines = list(map(orjson.dumps, map(cells, rows)))
    except TypeError:  # orjson's JSONEncodeError
        return None
    body = b"\n".join(lines)
    if b"\\" not in body:  # no escapes: no newline in a value either, "]\n[" is a row break
        return body[1:-1].replace(b"]\n[", b"\n") + b"\n"
    return b"".join(
        (_csv_line(cells(row)).encode() if b"\\" in line else line[1:-1]) + b"\n"
        for row, line in zip(rows, lines, strict=True)
    )


def _cells(columns: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values of `columns` in a row, always as a tuple."""
    if len(columns) > 1:
        return operator.itemgetter(*columns)
    return lambda row: (row[columns[0]],)


def _csv_line(values: Sequence[Any]) -> str:
    """One CSV line: text quoted (its quotes doubled; newlines and backslashes as they are),
    other values as JSON writes them."""
    return ",".join(
        '"' + v.replace('"', '""') + '"' if isinstance(v, str) else orjson.dumps(v).decode()
        for v in values
    )


def _copy_text(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, json_columns: set[str]
) -> str:
    """The rows in COPY's text format (tab-separated, \\N for NULL), built a row at a time
    (a row's values sit together in memory; a column's are scattered): plain values as they
    are, then one check of the whole text that no value needs escaping. Only when one does
    are the rows rendered again, every value escaped."""
    cells = _cells(columns)
    dumped = [i for i, name in enumerate(columns) if name in json_columns]
    null = _COPY_NULL
    lines, nulls = [], 0
    for row in rows:
        values = cells(row)
        if dumped:
            values = _dumped(values, dumped)
        nulls += values.count(None)
        lines.append(
            "\t".join([null if v is None else v if v.__class__ is str else str(v) for v in values])
        )
    text = "\n".join(lines) + "\n"
    if (
        text.count("\\") == nulls  # every backslash is a NULL's
        and "\r" not in text
        and text.count("\n") == len(lines)
        and text.count("\t") == len(lines) * (len(columns) - 1)
    ):
        return text
    escapes = _COPY_ESCAPES
    return "".join(
        "\t".join([null if v is None else str(v).translate(escapes) for v in values]) + "\n"
        for values in (_dumped(cells(r), dumped) for r in rows)
    )


def _dumped(values: tuple[Any, ...], positions: Sequence[int]) -> tuple[Any, ...]:
    """`values` with those at `positions` (JSON columns) as JSON text."""
    if not positions:
        return values
    listed = list(values)
    for i in positions:
        if listed[i] is not None:
            listed[i] = json.dumps(listed[i], default=str)
    return tuple(listed)


_COPY_NULL = "\\N"
_CSV_NULL = "null"  # JSON's null, unquoted: a quoted "null" is text
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
