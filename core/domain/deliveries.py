"""Delivery documents: one per delivery note, with its customer, date, totals and lines.

Lines come from two sources: customer deliveries among the stock movements, and standalone
delivery lists. Merging is by line key, so applying the same lines again changes nothing.
`note_row` and `line_rows` flatten a merged document into the rows of its relational
projection (the read model of the screens), so both always hold the same totals.
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from core.domain.designation import RAW_MATERIAL_PREFIX, is_raw_material

__all__ = [
    "CUSTOMER_DELIVERY",
    "LINE_ATTRIBUTES",
    "RAW_MATERIAL_PREFIX",
    "is_customer_delivery",
    "is_raw_material",
    "line_rows",
    "note_row",
]

CUSTOMER_DELIVERY = "Livraison client"
_HEADER_FIELDS = ("customer", "delivery_date", "site", "currency", "country", "carrier")
_NOT_IN_ENTRY = frozenset({"delivery_no", *_HEADER_FIELDS})  # a line's fields kept on its note
LINE_ATTRIBUTES = (
    "family",
    "product_type",
    "dn",
    "dn2",
    "pn",
    "sn",
    "resin",
    "reinforcement",
    "angle",
)

_WHOLE = frozenset({"line_no", "dn", "dn2", "sn"})  # integer columns of the projection


@functools.lru_cache(maxsize=1024)  # a movement type: a handful of distinct values
def _fold(text: str | None) -> str:
    raw = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    return " ".join(raw.lower().split())


_CUSTOMER_DELIVERY_FOLDED = _fold(CUSTOMER_DELIVERY)


def is_customer_delivery(movement: Mapping[str, Any]) -> bool:
    """A customer delivery of finished goods (the replaced report's filter, parenthesised)."""
    return _fold(movement.get("type_mouvement")) == _CUSTOMER_DELIVERY_FOLDED and not (
        is_raw_material(movement.get("article"), movement.get("emplacement"))
    )


def line_from_movement(m: Mapping[str, Any]) -> dict[str, Any]:
    """A delivery line (with its header fields) from one stored stock movement."""
    quantity = m.get("quantite")
    return {
        "delivery_no": m["piece"],
        "line_key": f"{m.get('no_ligne')}|{m.get('article')}|{m.get('lot') or ''}",
        "line_no": m.get("no_ligne"),
        "customer": m.get("tiers"),
        "delivery_date": _iso(m.get("date_creation")),
        "site": m.get("site"),
        "currency": m.get("devise"),
        "country": None,
        "carrier": None,
        "article": m.get("article"),
        "designation": m.get("designation_1"),
        "lot": m.get("lot") or None,
        "quantity": abs(quantity) if isinstance(quantity, int | float) else None,
        "unit": m.get("uc"),
        "amount": _abs(m.get("montant_mouvement")),
        "weight_kg": None,
        "source": "stock_movements",
        **{a: m.get(a) for a in LINE_ATTRIBUTES},
    }


def line_from_delivery_row(r: Mapping[str, Any]) -> dict[str, Any]:
    """A delivery line from one row of a standalone delivery list."""
    return {
        "delivery_no": r["delivery_no"],
        "line_key": str(r.get("line_no")),
        "line_no": r.get("line_no"),
        "customer": r.get("customer"),
        "delivery_date": _iso(r.get("delivery_date")),
        "site": r.get("site"),
        "currency": r.get("currency"),
        "country": r.get("country"),
        "carrier": r.get("carrier"),
        "article": r.get("article"),
        "designation": r.get("designation"),
        "lot": r.get("lot"),
        "quantity": r.get("quantity"),
        "unit": r.get("unit"),
        "amount": r.get("amount"),
        "weight_kg": r.get("weight_kg"),
        "source": "deliveries",
        **{a: r.get(a) for a in LINE_ATTRIBUTES},
    }


def merge(
    existing: Mapping[str, dict[str, Any]], lines: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Documents for the delivery notes touched by `lines`, merged into the stored ones."""
    docs: dict[str, dict[str, Any]] = {}
    for line in lines:
        no = str(line["delivery_no"])
        doc = docs.get(no)
        if doc is None:
            stored = existing.get(no)
            doc = dict(stored) if stored else {"_id": no, "delivery_no": no, "lines": []}
            doc["lines"] = list(doc.get("lines", []))
            docs[no] = doc
        for field in _HEADER_FIELDS:
            if line.get(field) is not None:
                doc[field] = line[field]
        entry = {k: v for k, v in line.items() if k not in _NOT_IN_ENTRY}
        doc["lines"] = [x for x in doc["lines"] if x.get("line_key") != entry["line_key"]]
        doc["lines"].append(entry)
    for doc in docs.values():
        _totals(doc)
    return list(docs.values())


def note_row(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The `delivery_notes` row of a merged delivery document (its date as a `date`)."""
    return {
        **_note_header(doc),
        **{f: doc.get(f) for f in _HEADER_FIELDS if f not in ("customer", "delivery_date")},
        "line_count": doc.get("line_count") or 0,
        "total_quantity": doc.get("total_quantity") or 0,
        "total_amount": doc.get("total_amount") or 0,
    }


def line_rows(doc: Mapping[str, Any], fields: Iterable[str]) -> list[dict[str, Any]]:
    """The `delivery_lines` rows of a merged delivery document: `fields` of each line, with
    the note's number, customer, date and month."""
    header = _note_header(doc)
    names = [f for f in fields if f not in header]
    return [
        {**header, **{f: _whole(line.get(f)) if f in _WHOLE else line.get(f) for f in names}}
        for line in doc.get("lines") or []
    ]


def _note_header(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What a note's projection rows and each of its line rows carry of the note."""
    return {
        "delivery_no": doc["_id"],
        "customer": doc.get("customer"),
        "delivery_date": _day(doc.get("delivery_date")),
        "month": doc.get("month"),
    }


def _totals(doc: dict[str, Any]) -> None:
    lines = sorted(
        doc["lines"], key=lambda x: (x.get("line_no") is None, x.get("line_no") or 0, x["line_key"])
    )
    doc["lines"] = lines
    doc["line_count"] = len(lines)
    doc["total_quantity"] = sum(x.get("quantity") or 0 for x in lines)
    doc["total_amount"] = sum(x.get("amount") or 0 for x in lines)
    doc["month"] = (doc.get("delivery_date") or "")[:7] or None
    for field in _HEADER_FIELDS:
        doc.setdefault(field, None)


def _day(value: Any) -> dt.date | None:
    """The day of an ISO 8601 date or date-time text (None when there is none)."""
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _whole(value: Any) -> Any:
    """A whole number read back from JSON as a float (500.0) becomes an int again."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _abs(value: Any) -> float | None:
    return abs(value) if isinstance(value, int | float) else None
