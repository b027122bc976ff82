"""The replaced system's two reports, for a chosen period, written as Excel workbooks.

- Stock status: pipe movements (family `Conduit`) other than customer deliveries, with the
  product attributes parsed from the designation and the lot.
- Deliveries by family: customer deliveries of finished goods, one sheet per product family.
  Raw materials (`Article` or `Emplacement` starting with `MP`) are left out with explicit
  parentheses: `delivery AND NOT (article MP OR location MP)`.

Rows stream from the store in chunks into a constant-memory workbook; each run is recorded
in `report_runs` (when, period, rows, file, trigger).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, func, insert, not_, or_, select

from core.adapters import sql_schema as s
from core.adapters.sql_store import SqlStore, utcnow
from core.bootstrap import Services
from core.domain.deliveries import CUSTOMER_DELIVERY, RAW_MATERIAL_PREFIX
from core.domain.designation import (
    CONDUIT,
    COUPLINGS,
    GASKETS,
    KITS,
    SPECIAL_FITTINGS,
    STOPPERS,
    canonical_family,
)
from core.domain.schemas import PRODUCT_ATTRIBUTE_FIELDS, STOCK_MOVEMENT_FIELDS
from core.exports import XlsxBook
from core.queries.periods import Period
from core.queries.tables import stream_frames

STOCK_STATUS = "stock_status"
DELIVERIES_BY_FAMILY = "deliveries_by_family"
REPORTS: dict[str, str] = {
    STOCK_STATUS: "Stock status",
    DELIVERIES_BY_FAMILY: "Deliveries by family",
}
MANUAL, DAILY = "manual", "daily"
TRIGGERS = (MANUAL, DAILY)
PIPE_FAMILY = CONDUIT
DELIVERY_FAMILIES = (CONDUIT, SPECIAL_FITTINGS, COUPLINGS, KITS, GASKETS, STOPPERS)
OTHER_SHEET = "Autres"  # deliveries whose designation gave no known family
DEFAULT_CHUNK_SIZE = 5_000
DEFAULT_RUN_LIST = 100

_m = s.stock_movements.c
_LABELS = {f.name: f.label for f in STOCK_MOVEMENT_FIELDS} | {
    f.name: f.title for f in PRODUCT_ATTRIBUTE_FIELDS
}
_PRODUCT_COLUMNS = (
    "family",
    "product_type",
    "dn",
    "dn2",
    "pn",
    "sn",
    "resin",
    "reinforcement",
    "angle",
    "lot_machine",
    "lot_year",
    "lot_month",
    "lot_serial",
)
STOCK_STATUS_COLUMNS = (
    "date_creation",
    "heure",
    "site",
    "depot",
    "type_mouvement",
    "piece",
    "no_ligne",
    "article",
    "designation_1",
    "lot",
    "quantite",
    "uc",
    "emplacement",
    "statut",
    *_PRODUCT_COLUMNS,
)
DELIVERY_COLUMNS = (
    "date_creation",
    "heure",
    "piece",
    "no_ligne",
    "tiers",
    "article",
    "designation_1",
    "lot",
    "quantite",
    "uc",
    "emplacement",
    "montant_mouvement",
    "devise",
    *_PRODUCT_COLUMNS,
)


@dataclass(frozen=True)
class ReportRun:
    """One written report: what, for which period, how many rows, where, and why."""

    id: int
    report: str
    period: Period
    rows: int
    file: Path
    trigger: str
    created_at: dt.datetime

    @property
    def title(self) -> str:
        return REPORTS.get(self.report, self.report)


# ------------------------------------------------------------------------------ filters
def is_customer_delivery() -> ColumnElement[bool]:
    """The movement is a customer delivery (case and surrounding spaces ignored)."""
    kind = func.lower(func.trim(func.coalesce(_m.type_mouvement, "")))
    return kind == CUSTOMER_DELIVERY.lower()


def is_raw_material() -> ColumnElement[bool]:
    """`Article` or `Emplacement` starts with MP (an empty one does not)."""
    prefix = f"{RAW_MATERIAL_PREFIX}%"
    return or_(
        func.upper(func.coalesce(_m.article, "")).like(prefix),
        func.upper(func.coalesce(_m.emplacement, "")).like(prefix),
    )


def stock_status_statement(period: Period) -> Select[Any]:
    """Pipe movements of the period other than customer deliveries, in time order."""
    return (
        select(*(_m[c] for c in STOCK_STATUS_COLUMNS))
        .where(
            _m.date_creation >= period.start,
            _m.date_creation <= period.end,
            _m.family == PIPE_FAMILY,
            not_(is_customer_delivery()),
        )
        .order_by(_m.date_creation, _m.heure, _m.piece, _m.no_ligne, _m.id)
    )


def deliveries_statement(period: Period) -> Select[Any]:
    """Customer deliveries of finished goods in the period, in time order."""
    return (
        select(*(_m[c] for c in DELIVERY_COLUMNS))
        .where(
            _m.date_creation >= period.start,
            _m.date_creation <= period.end,
            and_(is_customer_delivery(), not_(is_raw_material())),
        )
        .order_by(_m.date_creation, _m.heure, _m.piece, _m.no_ligne, _m.id)
    )


def family_sheet(family: str | None) -> str:
    """The sheet of the deliveries report a product family goes to."""
    canonical = canonical_family(family)
    return canonical if canonical in DELIVERY_FAMILIES else OTHER_SHEET


# ------------------------------------------------------------------------------ writing
def write_report(
    kind: str,
    period: Period,
    sql: SqlStore,
    out_dir: Path,
    *,
    trigger: str = MANUAL,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ReportRun:
    """Write report `kind` for `period` into `out_dir` and record the run.

    The workbook is written under a temporary name and renamed when complete, so a listed
    file is always whole. Raises `ValueError` for an unknown report or trigger and
    `StoreUnavailable` when the store cannot be reached (nothing is recorded then)."""
    if kind not in REPORTS:
        raise ValueError(f"unknown report {kind!r}; expected one of {sorted(REPORTS)}")
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger must be one of {TRIGGERS}")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    created = utcnow()
    stem = f"{kind}_{period.start}_{period.end}_{created:%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"
    final = out_dir / f"{stem}.xlsx"
    partial = out_dir / f".{stem}.xlsx.part"
    try:
        with XlsxBook(partial) as book:
            if kind == STOCK_STATUS:
                book.add_sheet(REPORTS[STOCK_STATUS], columns=_headers(STOCK_STATUS_COLUMNS))
                for chunk in stream_frames(
                    sql, stock_status_statement(period), chunk_size=chunk_size
                ):
                    book.append(REPORTS[STOCK_STATUS], _labelled(chunk))
            else:
                for family in DELIVERY_FAMILIES:
                    book.add_sheet(family, columns=_headers(DELIVERY_COLUMNS))
                for chunk in stream_frames(
                    sql, deliveries_statement(period), chunk_size=chunk_size
                ):
                    sheets = chunk["family"].map(family_sheet)
                    for sheet, rows in chunk.groupby(sheets, sort=False):
                        book.append(str(sheet), _labelled(rows))
        partial.replace(final)
    finally:
        partial.unlink(missing_ok=True)
    values = {
        "report": kind,
        "period_from": period.start,
        "period_to": period.end,
        "rows": book.rows,
        "file": str(final),
        "trigger": trigger,
        "created_at": created,
    }
    with sql.begin() as conn:
        run_id = conn.execute(insert(s.report_runs).values(**values)).inserted_primary_key[0]
    return ReportRun(run_id, kind, period, book.rows, final, trigger, created)


def list_runs(
    sql: SqlStore, *, report: str | None = None, limit: int = DEFAULT_RUN_LIST
) -> list[ReportRun]:
    """The latest recorded runs, newest first."""
    r = s.report_runs.c
    stmt = select(s.report_runs).order_by(r.created_at.desc(), r.id.desc()).limit(limit)
    if report is not None:
        stmt = stmt.where(r.report == report)
    with sql.begin() as conn:
        return [_run(row._mapping) for row in conn.execute(stmt)]


def daily_reports(services: Services, *, today: dt.date | None = None) -> list[ReportRun]:
    """The scheduled job: both reports for the month to date as of yesterday, once a day.

    A report the daily job already wrote for the same period is not written again, so a
    restarted scheduler does not duplicate files. Returns the runs written."""
    today = today or dt.date.today()
    period = Period.month_to_date(today - dt.timedelta(days=1))
    done = {
        run.report
        for run in list_runs(services.sql, limit=DEFAULT_RUN_LIST)
        if run.trigger == DAILY and run.period == period
    }
    return [
        write_report(kind, period, services.sql, services.settings.reports_dir, trigger=DAILY)
        for kind in REPORTS
        if kind not in done
    ]


# --------------------------------------------------------------------------- internals
def _headers(columns: Sequence[str]) -> list[str]:
    return [_LABELS.get(c, c) for c in columns]


def _labelled(chunk: pd.DataFrame) -> pd.DataFrame:
    return chunk.rename(columns=_LABELS)


def _run(row: Any) -> ReportRun:
    created = row["created_at"]
    if created.tzinfo is None:  # SQLite hands back naive UTC
        created = created.replace(tzinfo=dt.UTC)
    return ReportRun(
        id=row["id"],
        report=row["report"],
        period=Period(row["period_from"], row["period_to"]),
        rows=row["rows"],
        file=Path(row["file"]),
        trigger=row["trigger"],
        created_at=created,
    )
