"""What the screens can show and filter: the columns of each browsable dataset and their kinds.

A column's kind (from `core.domain.schemas`) decides its filter widget and how a filter on it
compiles: text and codes filter by substring or by picking values, numbers and dates by range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.domain.schemas import (
    CUSTOMERS_DATASET,
    PRODUCT_ATTRIBUTE_FIELDS,
    STOCK_MOVEMENT_FIELDS,
    Field,
)

ColumnKind = Literal["code", "text", "integer", "decimal", "date", "time"]
NUMERIC_KINDS = frozenset({"integer", "decimal"})
ATTRIBUTE_PREFIX = "attributes."  # customers' extra columns, kept in a JSON object


@dataclass(frozen=True)
class ColumnInfo:
    """One column a screen can show, sort and filter."""

    name: str
    kind: ColumnKind
    label: str

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def is_attribute(self) -> bool:
        return self.name.startswith(ATTRIBUTE_PREFIX)


def _info(f: Field) -> ColumnInfo:
    return ColumnInfo(f.name, f.kind, f.title)


def attribute_column(key: str, kind: ColumnKind) -> ColumnInfo:
    """A column for one key of the customers' `attributes` object."""
    return ColumnInfo(f"{ATTRIBUTE_PREFIX}{key}", kind, key)


STOCK_MOVEMENT_COLUMNS: tuple[ColumnInfo, ...] = (
    *(_info(f) for f in STOCK_MOVEMENT_FIELDS),
    *(_info(f) for f in PRODUCT_ATTRIBUTE_FIELDS),
    ColumnInfo("upload_id", "code", "Upload"),
)

STOCK_MOVEMENT_DEFAULT_COLUMNS: tuple[str, ...] = (
    "date_creation",
    "heure",
    "type_mouvement",
    "piece",
    "no_ligne",
    "article",
    "designation_1",
    "lot",
    "quantite",
    "uc",
    "emplacement",
    "tiers",
    "family",
    "dn",
    "pn",
    "montant_mouvement",
    "devise",
)

CUSTOMER_COLUMNS: tuple[ColumnInfo, ...] = (
    *(_info(f) for f in CUSTOMERS_DATASET.fields),
    ColumnInfo("country_name", "text", "Country (normalised)"),
)

DELIVERY_COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("delivery_no", "code", "Delivery note"),
    ColumnInfo("customer", "code", "Customer"),
    ColumnInfo("delivery_date", "date", "Delivery date"),
    ColumnInfo("month", "code", "Month"),
    ColumnInfo("site", "code", "Site"),
    ColumnInfo("currency", "code", "Currency"),
    ColumnInfo("country", "text", "Country"),
    ColumnInfo("carrier", "text", "Carrier"),
    ColumnInfo("line_count", "integer", "Lines"),
    ColumnInfo("total_quantity", "decimal", "Total quantity"),
    ColumnInfo("total_amount", "decimal", "Total amount"),
)

DELIVERY_LINE_COLUMNS: tuple[str, ...] = (
    "line_no",
    "article",
    "designation",
    "lot",
    "quantity",
    "unit",
    "amount",
    "family",
    "product_type",
    "dn",
    "pn",
    "sn",
    "source",
)

_CATALOG: dict[str, tuple[ColumnInfo, ...]] = {
    "stock_movements": STOCK_MOVEMENT_COLUMNS,
    "customers": CUSTOMER_COLUMNS,
    "deliveries": DELIVERY_COLUMNS,
}


def columns_of(dataset: str) -> tuple[ColumnInfo, ...]:
    """The fixed columns of a browsable dataset ('stock_movements', 'customers', 'deliveries')."""
    try:
        return _CATALOG[dataset]
    except KeyError:
        raise ValueError(f"unknown dataset {dataset!r}") from None


def column_map(columns: tuple[ColumnInfo, ...]) -> dict[str, ColumnInfo]:
    return {c.name: c for c in columns}
