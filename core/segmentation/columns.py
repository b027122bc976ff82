"""What each column of a customer table can be used for: a numeric or category feature, or not.

Identifier columns are never features: a column is taken for an identifier when its name says
so (`id`, `CustomerID`, `customer_no`, `uuid`, ...) or when its values look like one (every
value distinct and either text, or whole numbers running nearly consecutively). Customer IDs
themselves are normalised by `customer_key`, so `1.0` (a number read back from Excel) and
`'1'` are the same customer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from core.domain.schemas import normalize_header

ColumnKind = Literal["numeric", "category", "id", "date", "empty"]

SKEW_THRESHOLD = 1.0
# A column missing for more than this share of customers is left out rather than imputed.
MAX_MISSING_SHARE = 0.5
# Uniqueness says "identifier" only with enough rows to mean something.
MIN_ROWS_FOR_UNIQUENESS = 20
# Distinct whole numbers are an identifier when they span at most this many times their count
# (12346..18287 for 4,372 customers); spending amounts are distinct too but spread far wider.
ID_SPAN_FACTOR = 5

_ID_TOKENS = frozenset({"id", "ids", "uuid", "guid", "identifier", "identifiant", "ident"})
_ID_COMPOUND = re.compile(
    r"^(customer|client|cust|user|account|member|tiers|company)"
    r"(id|no|nr|num|number|code|key|ref|reference)$"
)
_ID_PHRASES = frozenset(
    {"code client", "numero client", "no client", "n client", "client no", "customer code"}
)
_COUNTRY_HEADERS = frozenset({"country", "pays", "country name", "nom pays", "land"})


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the feature picker sees it.

    `kind` is how the column would be used; `reason` explains an `id`, `date` or `empty`
    (empty or mostly empty) kind in a sentence. `suggest_log` is true for a non-negative
    numeric column whose skewness exceeds `SKEW_THRESHOLD`.
    """

    name: str
    kind: ColumnKind
    distinct: int
    missing: int
    skewness: float | None = None
    suggest_log: bool = False
    reason: str = ""


def customer_key(value: object) -> str | None:
    """The canonical text of a customer ID, or None when missing.

    Whole floats lose their `.0` (`1.0` -> `'1'`), text is stripped.

    >>> customer_key(1.0), customer_key(" C042 "), customer_key(float("nan"))
    ('1', 'C042', None)
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
        return repr(float(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    text = str(value).strip()
    return text or None


def customer_keys(values: pd.Series) -> pd.Series:
    """`customer_key` over a column, keeping the index; missing IDs become None."""
    return values.map(customer_key).astype(object)


def is_country_column(name: str) -> bool:
    """Whether a header names a country (its values then go through `normalize_country`)."""
    return normalize_header(name) in _COUNTRY_HEADERS


def _name_tokens(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(name))
    return normalize_header(spaced).split()


def id_reason(name: str, values: pd.Series) -> str | None:
    """Why the column looks like an identifier, or None when it does not."""
    tokens = _name_tokens(name)
    if any(t in _ID_TOKENS for t in tokens):
        return f"'{name}' is an identifier (its name says so), not a customer trait"
    joined = "".join(tokens)
    if _ID_COMPOUND.match(joined) or " ".join(tokens) in _ID_PHRASES:
        return f"'{name}' is an identifier (its name says so), not a customer trait"
    present = values.dropna()
    if len(present) < MIN_ROWS_FOR_UNIQUENESS or present.nunique() != len(present):
        return None
    if pd.api.types.is_bool_dtype(present):
        return None
    if pd.api.types.is_numeric_dtype(present):
        numbers = present.astype(float)
        if not np.all(np.isfinite(numbers)) or not np.all(numbers == np.round(numbers)):
            return None
        span = float(numbers.max() - numbers.min()) + 1
        if span <= ID_SPAN_FACTOR * len(numbers):
            return (
                f"'{name}' is an identifier: every value is a distinct whole number "
                "running nearly consecutively"
            )
        return None
    if _is_text(present):
        return f"'{name}' is an identifier: every value is distinct text"
    return None


def _is_text(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values) or values.dtype == object


def tidy(values: pd.Series) -> pd.Series:
    """Text stripped, blank text made missing; other columns unchanged."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values
    if not _is_text(values):
        return values
    stripped = values.map(lambda v: v.strip() if isinstance(v, str) else v).astype(object)
    return stripped.where(stripped.notna() & (stripped != ""), None)


def as_numbers(values: pd.Series) -> pd.Series | None:
    """The column as floats when every present value is a number, else None."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    present = values.dropna()
    if present.empty:
        return None
    converted = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    if converted.isna().any():
        return None
    return converted.astype(float).reindex(values.index)


def skewness(values: pd.Series) -> float | None:
    """Sample skewness of the present values, None when undefined (under 3 values, constant)."""
    present = values.dropna()
    if len(present) < 3 or present.nunique() < 2:
        return None
    result = float(present.skew())
    return result if math.isfinite(result) else None


def suggests_log(values: pd.Series) -> bool:
    """Skewed (> `SKEW_THRESHOLD`) and never negative: log1p would even it out."""
    skew = skewness(values)
    present = values.dropna()
    return skew is not None and skew > SKEW_THRESHOLD and bool((present >= 0).all())


def describe_columns(df: pd.DataFrame, *, id_column: str | None = None) -> list[ColumnInfo]:
    """How each column of `df` would be used, in the frame's order.

    The `id_column` is reported as `id`; so is any other column that looks like an identifier.
    Numeric columns carry their skewness and whether log1p is suggested.
    """
    infos: list[ColumnInfo] = []
    for name in df.columns:
        values = tidy(df[name])
        missing = int(values.isna().sum())
        distinct = int(values.nunique(dropna=True))
        if name == id_column:
            reason = f"'{name}' is the customer ID"
            infos.append(ColumnInfo(str(name), "id", distinct, missing, reason=reason))
            continue
        if missing == len(values):
            reason = f"'{name}' is empty"
            infos.append(ColumnInfo(str(name), "empty", distinct, missing, reason=reason))
            continue
        if missing > MAX_MISSING_SHARE * len(values):
            reason = f"'{name}' is missing for {missing / len(values):.0%} of customers"
            infos.append(ColumnInfo(str(name), "empty", distinct, missing, reason=reason))
            continue
        if pd.api.types.is_datetime64_any_dtype(values):
            reason = f"'{name}' holds dates: derive a number from it (e.g. days since) first"
            infos.append(ColumnInfo(str(name), "date", distinct, missing, reason=reason))
            continue
        reason_id = id_reason(str(name), values)
        if reason_id:
            infos.append(ColumnInfo(str(name), "id", distinct, missing, reason=reason_id))
            continue
        numbers = as_numbers(values)
        if numbers is None:
            infos.append(ColumnInfo(str(name), "category", distinct, missing))
            continue
        infos.append(
            ColumnInfo(
                str(name),
                "numeric",
                distinct,
                missing,
                skewness=skewness(numbers),
                suggest_log=suggests_log(numbers),
            )
        )
    return infos
