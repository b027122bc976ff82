"""Customer features for segmentation, read from the stores.

Master data: every stored customer, its fixed columns and every key of its JSON
`attributes`. Behaviour (optional): `rfm_features` over customer deliveries, read either from
the delivery notes (their relational projection) or from the stock movements of type
'Livraison client' (customer = `tiers`, raw materials left out), optionally from a start
date, and never more than `DEFAULT_MAX_LINES` lines. Every choice is stated in the steps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from sqlalchemy import func, or_, select

from core.adapters import sql_schema as s
from core.adapters.sql_store import SqlStore
from core.bootstrap import Services
from core.domain.deliveries import CUSTOMER_DELIVERY
from core.domain.designation import RAW_MATERIAL_PREFIX
from core.queries import deliveries as delivery_queries
from core.queries.filters import Between
from core.queries.tables import stream_frames
from core.segmentation import SegmentationError, customer_key, rfm_features
from core.segmentation.rfm import RECENCY

Behaviour = Literal["none", "deliveries", "movements"]
BEHAVIOURS: tuple[Behaviour, ...] = ("none", "deliveries", "movements")

CUSTOMER_ID = "customer_id"
MASTER_COLUMNS = ("customer_id", "name", "country", "country_name", "city", "status")
# Shown per segment and on hover; never offered as features (the name identifies a customer,
# `country` is the raw spelling of `country_name`).
DETAIL_COLUMNS = ("name", "country_name", "city")
NOT_FEATURES = frozenset({CUSTOMER_ID, "name", "country"})
DEFAULT_MAX_LINES = 500_000
READ_CHUNK = 5_000
LINE = "line"
LINE_COLUMNS = (LINE, CUSTOMER_ID, "delivery_date", "amount", "quantity", "family")
ATTRIBUTE_CLASH_SUFFIX = " (attribute)"


@dataclass(frozen=True)
class FeatureSource:
    """Where a run's customer features came from, so scoring can read them the same way."""

    behaviour: Behaviour = "none"
    since: dt.date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"behaviour": self.behaviour, "since": self.since and self.since.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSource:
        since = data.get("since")
        behaviour = data.get("behaviour", "none")
        if behaviour not in BEHAVIOURS:
            raise SegmentationError(f"Unknown behaviour source {behaviour!r}")
        return cls(behaviour, dt.date.fromisoformat(since) if since else None)


@dataclass(frozen=True, eq=False)
class CustomerFeatures:
    """One row per customer: `customer_id`, master columns, attributes, behaviour columns.

    `behaviour` names the behaviour columns; `steps` says how they were computed;
    `stored_at` is when each customer's master record was last written (UTC).
    """

    frame: pd.DataFrame
    source: FeatureSource
    behaviour: tuple[str, ...]
    steps: tuple[str, ...]
    stored_at: pd.Series
    fingerprint: str
    id_column: str = CUSTOMER_ID

    @property
    def details(self) -> pd.DataFrame:
        """The descriptive columns (name, country, city) indexed by customer ID."""
        present = [c for c in DETAIL_COLUMNS if c in self.frame.columns]
        return self.frame.set_index(self.id_column)[present]


def load_customer_features(
    services: Services,
    *,
    behaviour: Behaviour = "none",
    since: dt.date | None = None,
    max_lines: int = DEFAULT_MAX_LINES,
) -> CustomerFeatures:
    """Every stored customer with its attributes and, unless `behaviour` is "none", recency,
    frequency (distinct delivery days), money, quantity and family shares from the deliveries
    dated `since` or later (at most `max_lines` lines are read; the steps say so when the
    limit cut the reading short). Customers without a delivery get 0 for frequency, money,
    quantity and shares, and a recency one day longer than the whole period."""
    if behaviour not in BEHAVIOURS:
        raise SegmentationError(f"Unknown behaviour source {behaviour!r}")
    source = FeatureSource(behaviour, since)
    master, stored_at = _master(services.sql)
    steps: list[str] = [f"{len(master):,} customers read from the customer master data."]
    behaviour_columns: tuple[str, ...] = ()
    if behaviour != "none":
        lines, read_steps = _lines(services, behaviour=behaviour, since=since, limit=max_lines)
        steps.extend(read_steps)
        master, behaviour_columns = _with_behaviour(master, lines, steps)
    fingerprint = hashlib.sha256(
        pd.util.hash_pandas_object(master.astype(str), index=False).to_numpy().tobytes()
    ).hexdigest()
    return CustomerFeatures(
        frame=master.reset_index(drop=True),
        source=source,
        behaviour=behaviour_columns,
        steps=tuple(steps),
        stored_at=stored_at,
        fingerprint=fingerprint,
    )


def _master(sql: SqlStore) -> tuple[pd.DataFrame, pd.Series]:
    c = s.customers.c
    stmt = select(*(c[name] for name in MASTER_COLUMNS), c.attributes, c.stored_at).order_by(
        c.customer_id
    )
    records: list[dict[str, Any]] = []
    stamps: list[Any] = []
    for chunk in stream_frames(sql, stmt, chunk_size=READ_CHUNK):
        for row in chunk.to_dict("records"):
            attributes = row.pop("attributes") or {}
            stamps.append(row.pop("stored_at"))
            for key, value in attributes.items() if isinstance(attributes, dict) else ():
                name = key + ATTRIBUTE_CLASH_SUFFIX if key in MASTER_COLUMNS else key
                row[name] = value
            records.append(row)
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        frame = pd.DataFrame(columns=list(MASTER_COLUMNS))
    frame[CUSTOMER_ID] = frame[CUSTOMER_ID].map(customer_key).astype(object)
    frame.index = pd.Index(frame[CUSTOMER_ID].to_numpy(), dtype=object)
    stored = pd.Series(pd.to_datetime(stamps, utc=True), index=frame.index, name="stored_at")
    return frame, stored


def _lines(
    services: Services, *, behaviour: Behaviour, since: dt.date | None, limit: int
) -> tuple[pd.DataFrame, list[str]]:
    chunks = (
        _delivery_lines(services, since)
        if behaviour == "deliveries"
        else _movement_lines(services.sql, since)
    )
    where = (
        "delivery lines of the delivery notes"
        if behaviour == "deliveries"
        else f"'{CUSTOMER_DELIVERY}' stock movements (raw materials left out)"
    )
    kept: list[pd.DataFrame] = []
    total = 0
    capped = False
    for chunk in chunks:
        if total + len(chunk) > limit:
            kept.append(chunk.iloc[: limit - total])
            total, capped = limit, True
            break
        kept.append(chunk)
        total += len(chunk)
    period = f" dated {since.isoformat()} or later" if since else ""
    steps = [f"{total:,} {where}{period} read."]
    if capped:
        steps.append(
            f"Reading stopped at {limit:,} lines: choose a later start date to cover every "
            "customer's whole period."
        )
    empty = pd.DataFrame(columns=list(LINE_COLUMNS))
    return (pd.concat(kept, ignore_index=True) if kept else empty), steps


def _delivery_lines(services: Services, since: dt.date | None) -> Iterator[pd.DataFrame]:
    filters = (Between("delivery_date", low=since),) if since else ()
    for frame in delivery_queries.iter_line_frames(
        services.sql, filters=filters, chunk_size=READ_CHUNK
    ):
        frame = frame.rename(columns={"customer": CUSTOMER_ID})
        frame[LINE] = _line_keys(frame, ("delivery_no", "line_no", "article", "lot"))
        yield frame[list(LINE_COLUMNS)]


def _movement_lines(sql: SqlStore, since: dt.date | None) -> Iterator[pd.DataFrame]:
    m = s.stock_movements.c
    prefix = RAW_MATERIAL_PREFIX.upper() + "%"
    not_raw = [
        or_(col.is_(None), ~func.upper(func.trim(col)).like(prefix))
        for col in (m.article, m.emplacement)
    ]
    stmt = select(
        m.piece,
        m.no_ligne,
        m.article,
        m.lot,
        m.tiers.label(CUSTOMER_ID),
        m.date_creation.label("delivery_date"),
        func.abs(m.montant_mouvement).label("amount"),
        func.abs(m.quantite).label("quantity"),
        m.family,
    ).where(func.lower(func.trim(m.type_mouvement)) == CUSTOMER_DELIVERY.lower(), *not_raw)
    if since is not None:
        stmt = stmt.where(m.date_creation >= since)
    for frame in stream_frames(sql, stmt.order_by(m.id), chunk_size=READ_CHUNK):
        frame[LINE] = _line_keys(frame, ("piece", "no_ligne", "article", "lot"))
        yield frame[list(LINE_COLUMNS)]


def _line_keys(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """One text key per line, so that two identical-looking lines are not taken for duplicates."""
    parts = [frame[c].astype(object).where(frame[c].notna(), "").astype(str) for c in columns]
    return parts[0].str.cat(parts[1:], sep="|")


def _with_behaviour(
    master: pd.DataFrame, lines: pd.DataFrame, steps: list[str]
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    try:
        rfm = rfm_features(
            lines,
            customer=CUSTOMER_ID,
            date="delivery_date",
            amount="amount",
            quantity="quantity",
            family="family",
        )
    except SegmentationError as exc:
        steps.append(f"No behaviour features: {exc}.")
        return master, ()
    steps.extend(rfm.steps)
    behaviour = rfm.frame.set_index(CUSTOMER_ID)
    last_days = int(behaviour[RECENCY].max()) + 1
    zero = [c for c in behaviour.columns if c != RECENCY]  # frequency, money, quantity, shares
    if master.empty:
        steps.append("The customer master data is empty: customers are those with deliveries.")
        return behaviour.reset_index(), tuple(behaviour.columns)
    unknown = behaviour.index.difference(master.index)
    if len(unknown):
        steps.append(
            f"{len(unknown):,} customers with deliveries are not in the customer master data "
            "and are left out."
        )
    absent = ~master.index.isin(behaviour.index)
    behaviour = behaviour.reindex(master.index)
    behaviour.loc[absent, zero] = 0.0
    behaviour.loc[absent, RECENCY] = last_days
    if absent.any():
        steps.append(
            f"{int(absent.sum()):,} customers have no delivery in the period: frequency, money, "
            f"quantity and family shares set to 0, recency to {last_days:,} days (longer "
            "than any delivery read)."
        )
    behaviour.columns = [c if c not in master.columns else f"{c} (deliveries)" for c in behaviour]
    return master.join(behaviour), tuple(behaviour.columns)


def feature_options(features: CustomerFeatures, kinds: Mapping[str, str]) -> list[str]:
    """Columns a user may pick as features: numeric or category kinds, IDs and names excluded.

    `kinds` maps column names to `describe_columns` kinds.
    """
    return [
        c
        for c in features.frame.columns
        if c not in NOT_FEATURES and kinds.get(c) in ("numeric", "category")
    ]


def describe_with(features: CustomerFeatures) -> list[str]:
    """Descriptive columns to carry through `prepare` (shown per segment, not clustered)."""
    return [c for c in DETAIL_COLUMNS if c in features.frame.columns]
