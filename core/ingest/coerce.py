"""Raw cell values -> typed values for one field kind, with a reason for every bad cell.

Works a column at a time. A raw column is float64 (numeric cells), str (text), datetime64
(date cells) or object (mixed cells); a mixed column is split by value type and each part goes
through the same vectorised path as a pure column. Empty cells become missing values, never
errors: whether a field may be empty is the validator's business.

    code     text as written; integral numbers lose their '.0' (1.0 -> '1'); '0001' stays
    text     as code, without the '.0' rule for text cells
    integer  nullable Int64; decimals, text and dates are errors
    decimal  float64; decimal commas and thousands separators accepted in text
             (`1 234,56`, `1.234,56`, `1,234.56`), other text is an error
    date     datetime.date; date cells, Excel serial numbers, yyyymmdd numbers, and text in
             ISO (yyyy-mm-dd), day-first (dd/mm/yyyy, dd.mm.yy) or dd-Mon-yy form
    time     'HH:MM:SS' text; time cells, fractions of a day, HH:MM[:SS] text
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.domain.schemas import Kind
from core.ingest import textcells
from core.ingest.dates import parse_date_text, parse_time_text, serial_days
from core.messages import MAX_CODE_LENGTH

Group = Literal["number", "text", "moment", "time", "duration", "boolean", "other"]

MAX_EXACT_INTEGER = 2**53
SECONDS_PER_DAY = 86_400
_THOUSANDS = r"[\s\u00a0\u202f\u2009'’]"
_NOT_NUMBER_REASONS = {"boolean": "TRUE/FALSE where a number is expected"}
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_COMMA_DECIMAL = r",\d{1,2}$|,\d{4,}$|\.\d{3},|\d\.\d{3}\.\d{3}"
_DOT_DECIMAL = r"\.\d{1,2}$|\.\d{4,}$|,\d{3}\.|\d,\d{3},\d{3}"
_LEADING_ZERO = re.compile(r"^\s*0\d+\s*$")
_INFERRED_KINDS: tuple[Kind, ...] = ("integer", "decimal", "date")
_INTEGRAL_TEXT = r"^([+-]?\d+)\.0+$"
_CLOCK_TEXT = r"[0-9]{2}:[0-9]{2}:[0-9]{2}"
_ARROW_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # dtype "str"
NOT_A_NUMBER = "text in a number column"
NOT_WHOLE = "not a whole number"
NOT_A_DATE = "not a date (expected dd/mm/yyyy or yyyy-mm-dd)"
NOT_A_TIME = "not a time of day (expected HH:MM or HH:MM:SS)"
DATE_NOT_NUMBER = "a date where a number is expected"
TIME_NOT_DATE = "a time of day where a date is expected"
CODE_TOO_LONG = f"longer than {MAX_CODE_LENGTH} characters"


# Per cell of a part, why it is invalid (missing where valid); None when no cell is.
Reasons: TypeAlias = pd.Series | None


@dataclass(frozen=True)
class Coerced:
    """Typed values (missing where empty or invalid), per invalid cell the reason, and
    which cells are invalid."""

    values: pd.Series
    errors: pd.Series
    bad: pd.Series

    @classmethod
    def valid(cls, values: pd.Series) -> Coerced:
        """Every cell valid: most columns, so the reasons are never looked through."""
        index = values.index
        return cls(values, pd.Series(None, index=index, dtype=object), _no_cells(index))


def coerce(raw: pd.Series, kind: Kind) -> Coerced:
    """The values of one raw column as `kind`; same index as `raw`."""
    parts = _split(raw) if raw.dtype == object else [(_group_of(raw), raw)]
    values, errors = [], []
    for group, part in parts:
        typed, reasons = _COERCERS[kind](group, part)
        values.append(typed)
        errors.append(reasons)
    value = _combine(values, raw.index, _DTYPES[kind])
    if kind == "date":
        value = _as_dates(value)
    found = [reasons for reasons in errors if reasons is not None]
    if not found:
        return Coerced.valid(value)
    if len(found) == 1 and found[0].index is raw.index:
        error = found[0]  # a column of one kind: nothing to put back in order
    else:
        error = pd.concat(found).reindex(raw.index)
    bad = error.notna()
    return Coerced(value, error.astype(object).where(bad, None), bad)


def infer_kind(raw: pd.Series) -> Kind:
    """The narrowest kind every non-empty cell fits: integer, decimal, date, else text.

    Text with a leading zero ('0012') stays text: it is a code, not a number.
    """
    if raw.dropna().empty:
        return "text"
    if raw.dtype != "float64" and raw.dtype.kind != "M":
        leading_zero = raw.map(lambda v: isinstance(v, str) and bool(_LEADING_ZERO.match(v)))
        if leading_zero.any():
            return "text"
    for kind in _INFERRED_KINDS:
        if not coerce(raw, kind).bad.any():
            return kind
    return "text"


def display(value: object) -> str:
    """A raw cell as the report shows it ('' for empty)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < MAX_EXACT_INTEGER:
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


# --------------------------------------------------------------------------- splitting
def _group_of(raw: pd.Series) -> Group:
    if raw.dtype == "float64":
        return "number"
    if raw.dtype.kind == "M":
        return "moment"
    return "text"


def _value_group(value: object) -> Group | None:
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return "boolean"
    if isinstance(value, int | float | np.integer | np.floating):
        return None if value != value else "number"  # NaN is an empty cell
    if isinstance(value, str):
        return "text" if value.strip() else None
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return "moment"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, dt.timedelta):
        return "duration"
    return "other"


def _split(raw: pd.Series) -> list[tuple[Group, pd.Series]]:
    groups = raw.map(_value_group)
    parts: list[tuple[Group, pd.Series]] = []
    for group in groups.dropna().unique():
        part = raw[groups == group]
        if group == "number":
            part = part.astype("float64")
        elif group == "text":
            part = part.astype("str").str.strip()
        elif group == "moment":
            part = pd.Series(
                np.array([pd.Timestamp(v).to_datetime64() for v in part], dtype="datetime64[us]"),
                index=part.index,
            )
        parts.append((group, part))
    return parts


def _combine(values: list[pd.Series], index: pd.Index, dtype: str) -> pd.Series:
    if not values:
        return pd.Series(index=index, dtype=dtype)
    if len(values) == 1 and values[0].index is index:
        return values[0].astype(dtype)
    combined = values[0] if len(values) == 1 else pd.concat(values)
    return combined.astype(dtype).reindex(index)


def _errors(index: pd.Index, bad: np.ndarray | pd.Series, reason: str) -> Reasons:
    mask = np.asarray(bad, dtype=bool)
    if not mask.any():
        return None
    return pd.Series(np.where(mask, reason, None), index=index, dtype=object)


def _no_cells(index: pd.Index) -> pd.Series:
    return pd.Series(np.zeros(len(index), dtype=bool), index=index)


def _reject_all(part: pd.Series, reason: str, dtype: str) -> tuple[pd.Series, Reasons]:
    return pd.Series(index=part.index, dtype=dtype), _errors(part.index, part.notna(), reason)


# --------------------------------------------------------------------------- code, text
def _as_text(group: Group, part: pd.Series, *, code: bool) -> tuple[pd.Series, Reasons]:
    if group == "text":
        text = _trimmed(part)
        if code and _may_hold(text, b"."):
            dotted = text.str.contains(".", regex=False).to_numpy()
            if dotted.any():
                text = text.where(~dotted, text.str.replace(_INTEGRAL_TEXT, r"\1", regex=True))
    elif group == "number":
        text = pd.Series(_numbers_as_text(part.to_numpy()), index=part.index, dtype="str")
    elif group == "moment":
        midnight = part == part.dt.normalize()
        text = part.dt.strftime("%Y-%m-%dT%H:%M:%S").where(~midnight, part.dt.strftime("%Y-%m-%d"))
    else:
        text = part.map(display).astype("str")
    if code:
        too_long = _longer_than(text, MAX_CODE_LENGTH)
        if too_long.any():
            return text.where(~too_long), _errors(part.index, too_long, CODE_TOO_LONG)
    return text, None


def _trimmed(part: pd.Series) -> pd.Series:
    """The text trimmed of whitespace at both ends, missing where nothing is left; columns
    of the usual dtype skip the trimming when no cell needs it (`textcells`)."""
    cells = pa.array(part.array) if part.dtype == _ARROW_TEXT else None
    if isinstance(cells, pa.StringArray | pa.LargeStringArray):
        trimmed = pd.array(textcells.trimmed(cells), dtype="str")
        return pd.Series(trimmed, index=part.index, name=part.name)
    text = part.str.strip()
    return text.where(text != "")


def _may_hold(text: pd.Series, needle: bytes) -> bool:
    """Whether some cell may hold `needle`, from the bytes under the whole column at once.

    A cheap test that spares the per-cell one in most columns; it may answer yes for bytes
    of cells sliced away, never no for a cell that holds `needle`.
    """
    cells = pa.array(text.array)
    for chunk in cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return True
        data = chunk.buffers()[2]
        if data is not None and needle in data.to_pybytes():
            return True
    return False


def _longer_than(text: pd.Series, limit: int) -> np.ndarray | pd.Series:
    """Cells of more than `limit` characters. Bytes are counted first (a cell never has
    fewer bytes than characters): counting characters is needed only past `limit` bytes."""
    longest = pc.max(pc.binary_length(pa.array(text.array))).as_py()
    if longest is None or longest <= limit:
        return np.zeros(len(text), dtype=bool)
    return text.str.len() > limit


def _numbers_as_text(numbers: np.ndarray) -> np.ndarray:
    out = np.full(len(numbers), None, dtype=object)
    finite = np.isfinite(numbers)
    integral = finite & (np.floor(numbers) == numbers) & (np.abs(numbers) < MAX_EXACT_INTEGER)
    out[integral] = numbers[integral].astype(np.int64).astype(str)
    other = finite & ~integral
    out[other] = [repr(float(x)) for x in numbers[other]]
    return out


# --------------------------------------------------------------------------- numbers
def parse_numbers(text: pd.Series) -> pd.Series:
    """Numbers written as text (float64, NaN where the text is not a number).

    The decimal separator is decided for the whole column: the comma when more values show a
    decimal comma (`12,5`, `1.234,56`) than a decimal point (`12.5`, `1,234.56`), or when the
    only commas could be either (`1,234` reads 1.234, as French exports mean it); the point
    otherwise. Spaces, no-break spaces and apostrophes are thousands separators; a trailing
    minus (`12,30-`) is a sign.
    """
    cleaned = text.str.replace(_THOUSANDS, "", regex=True)
    cleaned = cleaned.str.replace(r"^(.*\d)-$", r"-\1", regex=True)  # trailing minus (ERP)
    if _decimal_comma(cleaned):
        cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        cleaned = cleaned.str.replace(",", "", regex=False)
    valid = cleaned.str.fullmatch(_NUMBER)
    return pd.to_numeric(cleaned.where(valid), errors="coerce").astype("float64")


def _decimal_comma(text: pd.Series) -> bool:
    comma = text.str.contains(_COMMA_DECIMAL, regex=True).sum()
    dot = text.str.contains(_DOT_DECIMAL, regex=True).sum()
    if comma or dot:
        return bool(comma > dot)
    return bool(text.str.contains(",", regex=False).any())


def _as_number(group: Group, part: pd.Series, *, whole: bool) -> tuple[pd.Series, Reasons]:
    dtype = "Int64" if whole else "float64"
    if group == "number":
        numbers = part.astype("float64")
        bad = np.zeros(len(part), dtype=bool)
    elif group == "text":
        numbers = parse_numbers(part)
        bad = (numbers.isna() & part.notna()).to_numpy(copy=True)
    else:
        return _reject_all(part, _NOT_NUMBER_REASONS.get(group, DATE_NOT_NUMBER), dtype)
    values = numbers.to_numpy()
    bad = bad | np.isinf(values)
    if not whole:
        return numbers.where(~bad).astype(dtype), _errors(part.index, bad, NOT_A_NUMBER)
    fractional = np.isfinite(values) & (
        (np.floor(values) != values) | (np.abs(values) >= MAX_EXACT_INTEGER)
    )
    errors = _errors(part.index, bad, NOT_A_NUMBER)
    if fractional.any():
        not_whole = np.where(fractional, NOT_WHOLE, None)
        errors = pd.Series(np.where(bad, NOT_A_NUMBER, not_whole), index=part.index, dtype=object)
    return numbers.where(~(bad | fractional)).astype(dtype), errors


# --------------------------------------------------------------------------- dates, times
def _as_date(group: Group, part: pd.Series) -> tuple[pd.Series, Reasons]:
    if group == "moment":
        return part.dt.floor("D").astype("datetime64[s]"), None
    if group == "number":
        days = serial_days(part.to_numpy())
        dates = pd.Series(days, index=part.index).astype("datetime64[s]")
        return dates, _errors(part.index, np.isnat(days) & part.notna().to_numpy(), NOT_A_DATE)
    if group == "text":
        parsed = _by_unique(part, parse_date_text)
        dates = pd.Series(
            np.array(parsed.tolist(), dtype="datetime64[D]"), index=part.index
        ).astype("datetime64[s]")
        return dates, _errors(part.index, dates.isna() & part.notna(), NOT_A_DATE)
    reason = TIME_NOT_DATE if group in ("time", "duration") else NOT_A_DATE
    return _reject_all(part, reason, "datetime64[s]")


def _as_time(group: Group, part: pd.Series) -> tuple[pd.Series, Reasons]:
    if group == "time":
        text = part.map(lambda t: t.replace(microsecond=0).isoformat())
    elif group == "duration":
        seconds = part.map(lambda d: d.total_seconds())
        return _seconds_as_time(seconds.astype("float64"), NOT_A_TIME)
    elif group == "number":
        numbers = part.astype("float64")
        fraction = numbers - np.floor(numbers)
        seconds = (fraction * SECONDS_PER_DAY).where(numbers >= 0)
        return _seconds_as_time(seconds, NOT_A_TIME)
    elif group == "moment":
        text = part.dt.strftime("%H:%M:%S")
    elif group == "text":
        text = _times_from_text(part)
        return text.astype("str"), _errors(part.index, text.isna() & part.notna(), NOT_A_TIME)
    else:
        return _reject_all(part, NOT_A_TIME, "str")
    return text.astype("str"), None


def _times_from_text(part: pd.Series) -> pd.Series:
    """`parse_time_text` of every cell; cells already written HH:MM:SS are only checked
    (a column of them comes back as it is, missing where no time of day)."""
    clock = part.str.fullmatch(_CLOCK_TEXT).fillna(False).to_numpy(dtype=bool)
    if clock.all():
        return part.where(_times_of_day(part.to_numpy(dtype=object)))
    times = pd.Series(None, index=part.index, dtype=object)
    if clock.any():
        written = part[clock].to_numpy(dtype=object)
        times[clock] = np.where(_times_of_day(written), written, None)
    times[~clock] = _by_unique(part[~clock], parse_time_text)
    return times


def _times_of_day(written: np.ndarray) -> np.ndarray:
    """Whether each HH:MM:SS text is a time of day, from the digits of all of them side by
    side (eight ASCII characters each)."""
    digits = np.frombuffer("".join(written).encode("ascii"), dtype=np.uint8) - ord("0")
    digits = digits.reshape(-1, 8)
    hour, minute, second = (digits[:, at] * 10 + digits[:, at + 1] for at in (0, 3, 6))
    return (hour <= 23) & (minute <= 59) & (second <= 59)


def _seconds_as_time(seconds: pd.Series, reason: str) -> tuple[pd.Series, Reasons]:
    values = np.round(seconds.to_numpy(dtype="float64"))
    valid = np.isfinite(values) & (values >= 0) & (values < SECONDS_PER_DAY)
    whole = np.where(valid, values, 0).astype(np.int64)
    text = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in whole.tolist()]
    series = pd.Series(text, index=seconds.index, dtype="str").where(valid)
    return series, _errors(seconds.index, ~valid & seconds.notna().to_numpy(), reason)


def _by_unique(part: pd.Series, parse: Callable[[str], object]) -> pd.Series:
    """`parse` applied once per distinct value (columns of dates repeat a lot)."""
    codes, distinct = pd.factorize(part)  # missing values get the code -1
    parsed = np.empty(len(distinct) + 1, dtype=object)
    parsed[:-1] = [parse(value) for value in distinct]
    return pd.Series(parsed[codes], index=part.index, dtype=object)


def _as_dates(values: pd.Series) -> pd.Series:
    days = values.to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    return pd.Series(days.astype(object), index=values.index, dtype=object)


_DTYPES: dict[str, str] = {
    "code": "str",
    "text": "str",
    "integer": "Int64",
    "decimal": "float64",
    "date": "datetime64[s]",
    "time": "str",
}
_COERCERS: dict[str, Callable[[Group, pd.Series], tuple[pd.Series, Reasons]]] = {
    "code": lambda g, p: _as_text(g, p, code=True),
    "text": lambda g, p: _as_text(g, p, code=False),
    "integer": lambda g, p: _as_number(g, p, whole=True),
    "decimal": lambda g, p: _as_number(g, p, whole=False),
    "date": _as_date,
    "time": _as_time,
}
