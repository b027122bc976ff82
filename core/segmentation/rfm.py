"""Behaviour features per customer from invoice or delivery lines (recency, frequency, money).

Choices, each reported with its row count in `RfmFeatures.steps`:

1. Exact duplicate lines (every column equal) are dropped: an export glitch, not a purchase.
2. Lines without a customer, or whose date or amount cannot be read, are dropped.
3. Lines dated after `as_of` are ignored (`as_of` defaults to the latest date in the lines).
4. A line is a *return* when its invoice starts with 'C' (a cancellation), or its quantity or
   amount is negative; every other line is a *purchase*. Returns are subtracted from the
   money and quantity (net figures, so a refund cancels its sale) but are not visits: they
   count neither in frequency nor in recency.
5. Customers with returns only in the period (their purchase is older) are dropped: they
   have no recency and no frequency to cluster on.

Features: `recency_days` (days from the last purchase to `as_of`), `frequency` (distinct
purchase invoices; distinct purchase days without an invoice column), `monetary` (net
amount), `quantity` (net quantity, when a quantity column is given), and with a family
column `share_<family>`: each family's share of the customer's purchase amount (0 to 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date

import numpy as np
import pandas as pd

from core.segmentation.columns import customer_keys, tidy
from core.segmentation.errors import SegmentationError

CUSTOMER_ID = "customer_id"
RECENCY = "recency_days"
FREQUENCY = "frequency"
MONETARY = "monetary"
QUANTITY = "quantity"
SHARE_PREFIX = "share_"
CANCELLATION_PREFIX = "C"
NO_FAMILY = "(none)"


@dataclass(frozen=True, eq=False)
class RfmFeatures:
    """One row per customer (`customer_id` column, sorted) and what was done to the lines.

    `dropped` maps each reason to a number of lines, except "customers with returns only",
    which counts customers.
    """

    frame: pd.DataFrame
    steps: tuple[str, ...]
    dropped: dict[str, int]
    as_of: Date

    @property
    def features(self) -> tuple[str, ...]:
        """The feature columns (every column but the customer ID)."""
        return tuple(c for c in self.frame.columns if c != CUSTOMER_ID)


def rfm_features(
    lines: pd.DataFrame,
    *,
    customer: str,
    date: str,
    amount: str,
    quantity: str | None = None,
    invoice: str | None = None,
    family: str | None = None,
    as_of: Date | None = None,
) -> RfmFeatures:
    """Recency, frequency, net money, net quantity and family shares per customer.

    See the module docstring for how duplicates, cancellations and negative quantities are
    treated. Raises SegmentationError for a missing column or when no purchase remains.
    """
    named = {"customer": customer, "date": date, "amount": amount}
    named |= {"quantity": quantity, "invoice": invoice, "family": family}
    missing = [c for c in named.values() if c is not None and c not in lines.columns]
    if missing:
        raise SegmentationError(f"Columns missing from the lines: {', '.join(missing)}")

    steps: list[str] = []
    dropped: dict[str, int] = {}

    def drop(frame: pd.DataFrame, bad: pd.Series, reason: str) -> pd.DataFrame:
        count = int(bad.sum())
        dropped[reason] = count
        if count:
            steps.append(f"{count:,} {reason} dropped.")
        return frame.loc[~bad.to_numpy()]

    steps.append(f"{len(lines):,} lines read.")
    work = drop(lines, lines.duplicated(keep="first"), "exact duplicate lines")
    keys = customer_keys(work[customer])
    work = drop(work.assign(_customer=keys), keys.isna(), "lines without a customer")
    when = pd.to_datetime(work[date], errors="coerce")
    work = drop(work.assign(_when=when), when.isna(), "lines with an unreadable date")
    money = pd.to_numeric(tidy(work[amount]), errors="coerce").astype(float)
    work = drop(work.assign(_amount=money), money.isna(), "lines with an unreadable amount")
    if work.empty:
        raise SegmentationError("No usable line remains to compute customer features from")

    day = pd.Timestamp(as_of) if as_of is not None else work["_when"].max().normalize()
    work = drop(work, work["_when"].dt.normalize() > day, "lines dated after the reference day")
    qty = (
        pd.to_numeric(tidy(work[quantity]), errors="coerce").fillna(0.0).astype(float)
        if quantity
        else pd.Series(0.0, index=work.index)
    )
    cancelled = (
        work[invoice].astype(str).str.strip().str.upper().str.startswith(CANCELLATION_PREFIX)
        if invoice
        else pd.Series(False, index=work.index)
    )
    is_return = cancelled | (qty < 0) | (work["_amount"] < 0)
    negative = int((is_return & ~cancelled).sum())
    steps.append(
        f"{int(is_return.sum()):,} return lines ({int(cancelled.sum()):,} on cancellation "
        f"invoices starting with '{CANCELLATION_PREFIX}', {negative:,} others with a negative "
        "quantity or amount) are subtracted from money and quantity but are not visits."
    )
    work = work.assign(
        _net_amount=np.where(is_return, -work["_amount"].abs(), work["_amount"]),
        _net_qty=np.where(is_return, -qty.abs(), qty),
        _return=is_return.to_numpy(),
    )
    purchases = work.loc[~work["_return"]]
    if purchases.empty:
        raise SegmentationError("No purchase line remains (every line is a return)")

    by_customer = purchases.groupby("_customer")
    visit = purchases[invoice].astype(str) if invoice else purchases["_when"].dt.normalize()
    frame = pd.DataFrame(
        {
            RECENCY: (day - by_customer["_when"].max().dt.normalize()).dt.days.astype("int64"),
            FREQUENCY: visit.groupby(purchases["_customer"]).nunique().astype("int64"),
        }
    )
    totals = work.groupby("_customer")[["_net_amount", "_net_qty"]].sum()
    frame[MONETARY] = totals["_net_amount"].reindex(frame.index).astype(float)
    if quantity:
        frame[QUANTITY] = totals["_net_qty"].reindex(frame.index).astype(float)
    returns_only = int(work["_customer"].nunique() - len(frame))
    dropped["customers with returns only"] = returns_only
    if returns_only:
        steps.append(f"{returns_only:,} customers with returns only in the period dropped.")
    if family:
        frame = frame.join(_family_shares(purchases, family))
        steps.append(
            f"Family shares are each family's share of the customer's purchase amount "
            f"({frame.columns.str.startswith(SHARE_PREFIX).sum()} families)."
        )
    frame = frame.sort_index().rename_axis(CUSTOMER_ID).reset_index()
    steps.append(
        f"{len(frame):,} customers; recency counted in days up to {day.date().isoformat()}."
    )
    return RfmFeatures(frame=frame, steps=tuple(steps), dropped=dropped, as_of=day.date())


def _family_shares(purchases: pd.DataFrame, family: str) -> pd.DataFrame:
    names = tidy(purchases[family]).astype(object)
    names = names.where(names.notna(), NO_FAMILY).astype(str)
    spend = purchases["_amount"].clip(lower=0)
    table = spend.groupby([purchases["_customer"], names]).sum().unstack(fill_value=0.0)
    totals = table.sum(axis=1)
    shares = table.div(totals.where(totals > 0), axis=0).fillna(0.0)
    shares.columns = [f"{SHARE_PREFIX}{c}" for c in shares.columns]
    return shares.sort_index(axis=1)
