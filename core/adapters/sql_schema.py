"""The relational schema, one definition for SQLite (embedded) and PostgreSQL (full).

`ensure_schema` creates what is missing on start; it never drops anything.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeEngine

from core.domain.deliveries import LINE_ATTRIBUTES as DELIVERY_LINE_ATTRIBUTES
from core.domain.schemas import PRODUCT_ATTRIBUTE_FIELDS, STOCK_MOVEMENT_FIELDS, Field

metadata = MetaData()

_KIND_TYPES: dict[str, type[TypeEngine] | TypeEngine] = {
    "code": String(64),
    "text": Text(),
    "integer": BigInteger(),
    "decimal": Double(),
    "date": Date(),
    "time": String(8),
}


def _column(f: Field, *, nullable: bool = True) -> Column:
    return Column(f.name, _KIND_TYPES[f.kind], nullable=nullable)


_KEY_NOT_NULL = {"piece", "no_ligne", "article", "lot"}

stock_movements = Table(
    "stock_movements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *(_column(f, nullable=f.name not in _KEY_NOT_NULL) for f in STOCK_MOVEMENT_FIELDS),
    *(_column(f) for f in PRODUCT_ATTRIBUTE_FIELDS),
    Column("upload_id", String(36), nullable=False),
    Column("sheet", String(128)),
    Column("row_number", Integer),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("piece", "no_ligne", "article", "lot", name="uq_stock_movements_key"),
)
Index("ix_stock_movements_date", stock_movements.c.date_creation)
Index(
    "ix_stock_movements_type_date",
    stock_movements.c.type_mouvement,
    stock_movements.c.date_creation,
)
Index("ix_stock_movements_family", stock_movements.c.family)
Index("ix_stock_movements_tiers", stock_movements.c.tiers)
Index("ix_stock_movements_upload", stock_movements.c.upload_id)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("name", Text),
    Column("country", Text),
    Column("country_name", Text),  # normalised English name
    Column("city", Text),
    Column("status", Text),
    Column("attributes", JSON, nullable=False),
    Column("upload_id", String(36), nullable=False),
    Column("sheet", String(128)),
    Column("row_number", Integer),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)
Index("ix_customers_country_name", customers.c.country_name)

# The relational read model of the delivery documents (one row per delivery note, one per
# line), written by the worker in the transaction of its checkpoints. Lines repeat the note's
# customer, date and month so that the dashboards group lines without a join.
delivery_notes = Table(
    "delivery_notes",
    metadata,
    Column("delivery_no", Text, primary_key=True),
    Column("customer", Text),
    Column("delivery_date", Date),
    Column("month", String(7)),  # 'YYYY-MM'
    Column("site", Text),
    Column("currency", Text),
    Column("country", Text),
    Column("carrier", Text),
    Column("line_count", Integer, nullable=False),
    Column("total_quantity", Double, nullable=False),
    Column("total_amount", Double, nullable=False),
)
# The dashboards read only indexed columns (covering indexes: 3x faster on SQLite at 100k
# notes); browsing sorts by date and filters by customer.
Index(
    "ix_delivery_notes_date",
    *(delivery_notes.c[n] for n in ("delivery_date", "customer", "month")),
    *(delivery_notes.c[n] for n in ("total_quantity", "total_amount")),
)
Index("ix_delivery_notes_customer_date", delivery_notes.c.customer, delivery_notes.c.delivery_date)

delivery_lines = Table(
    "delivery_lines",
    metadata,
    Column("delivery_no", Text, primary_key=True),
    Column("line_key", Text, primary_key=True),
    Column("line_no", BigInteger),
    Column("customer", Text),
    Column("delivery_date", Date),
    Column("month", String(7)),
    Column("article", Text),
    Column("designation", Text),
    Column("lot", Text),
    Column("quantity", Double),
    Column("unit", Text),
    Column("amount", Double),
    Column("weight_kg", Double),
    Column("source", String(16)),
    *(_column(f) for f in PRODUCT_ATTRIBUTE_FIELDS if f.name in DELIVERY_LINE_ATTRIBUTES),
)
Index(
    "ix_delivery_lines_date",
    *(delivery_lines.c[n] for n in ("delivery_date", "article", "family", "quantity", "amount")),
    delivery_lines.c.designation,
)
Index("ix_delivery_lines_customer_date", delivery_lines.c.customer, delivery_lines.c.delivery_date)
Index(
    "ix_delivery_lines_family_date",
    *(delivery_lines.c[n] for n in ("family", "delivery_date", "customer", "month", "article")),
    *(delivery_lines.c[n] for n in ("quantity", "amount")),
)

projection_builds = Table(
    "projection_builds",
    metadata,
    Column("name", String(64), primary_key=True),  # e.g. 'deliveries'
    Column("documents", Integer, nullable=False),  # documents read by the build
    Column("built_at", DateTime(timezone=True), nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("dataset", String(32), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("sheet", String(128)),
    Column("layout", String(64)),
    Column("mapping", JSON),
    Column("source", String(16), nullable=False, default="app"),
    Column("total_rows", Integer, nullable=False, default=0),
    Column("valid_rows", Integer, nullable=False, default=0),
    Column("rejected_rows", Integer, nullable=False, default=0),
    Column("duplicate_rows", Integer, nullable=False, default=0),
    Column("published", Integer, nullable=False, default=0),
    Column("stored", Integer, nullable=False, default=0),
    Column("dead_lettered", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),
    Column("message", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("committed_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
)
Index("ix_uploads_sha", uploads.c.dataset, uploads.c.sha256)

column_mappings = Table(
    "column_mappings",
    metadata,
    Column("dataset", String(32), primary_key=True),
    Column("layout", String(64), primary_key=True),
    Column("mapping", JSON, nullable=False),
    Column("sheet", String(128)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

consumer_checkpoints = Table(
    "consumer_checkpoints",
    metadata,
    Column("group_id", String(128), primary_key=True),
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("key", Text),
    Column("upload_id", String(36)),
    Column("error", Text, nullable=False),
    Column("payload", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("topic", "partition", "offset", name="uq_dead_letters_position"),
)

segmentation_runs = Table(
    "segmentation_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("algorithm", String(16), nullable=False),
    Column("params", JSON, nullable=False),
    Column("features", JSON, nullable=False),
    Column("preprocessing", JSON, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("data_hash", String(64), nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("segment_names", JSON, nullable=False),
    Column("result", JSON, nullable=False),
    Column("model", LargeBinary),
    Column("n_customers", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

segment_assignments = Table(
    "segment_assignments",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("customer_id", String(64), primary_key=True),
    Column("segment", Integer, nullable=False),
)

report_runs = Table(
    "report_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report", String(32), nullable=False),
    Column("period_from", Date),
    Column("period_to", Date),
    Column("rows", Integer, nullable=False),
    Column("file", Text, nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def ensure_schema(engine: Engine) -> None:
    """Create every missing table and index (idempotent, safe from several processes)."""
    metadata.create_all(engine, checkfirst=True)
