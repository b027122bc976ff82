"""Dates and times as spreadsheet users write them: Excel serials, yyyymmdd, day-first text.

Day-first is the rule for ambiguous text (`01/02/2024` is 1 February), as in the French ERP
exports; ISO text (`2024-02-01`) and month names (`2-Jun-06`, `15 janv. 2024`) are read too.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np

EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
EXCEL_LEAP_BUG_SERIAL = 61  # Excel counts a 29 February 1900 that never was
MAX_EXCEL_SERIAL = 2_958_465  # 9999-12-31
YYYYMMDD_RANGE = (19_000_101, 29_991_231)
_TIME_TEXT = re.compile(r"(?:^|[ T])(\d{1,2})[:hH](\d{2})(?::(\d{2})(?:[.,]\d+)?)?$")
_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[ T].*)?$")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})[-\s/.]+([^\W\d_]+)\.?[-\s/.]+(\d{2}|\d{4})$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTHS = {
    "jan": 1, "janv": 1, "january": 1, "janvier": 1,
    "feb": 2, "fev": 2, "fevr": 2, "february": 2, "fevrier": 2,
    "mar": 3, "mars": 3, "march": 3,
    "apr": 4, "avr": 4, "april": 4, "avril": 4,
    "may": 5, "mai": 5,
    "jun": 6, "juin": 6, "june": 6,
    "jul": 7, "juil": 7, "july": 7, "juillet": 7,
    "aug": 8, "aou": 8, "aout": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "septembre": 9,
    "oct": 10, "october": 10, "octobre": 10,
    "nov": 11, "november": 11, "novembre": 11,
    "dec": 12, "december": 12, "decembre": 12,
}  # fmt: skip


def serial_days(numbers: np.ndarray) -> np.ndarray:
    """Days of Excel serial numbers (and of yyyymmdd numbers); NaT where neither fits."""
    days = np.full(len(numbers), np.datetime64("NaT"), dtype="datetime64[D]")
    finite = np.isfinite(numbers)
    whole = np.floor(np.where(finite, numbers, 0)).astype(np.int64)
    compact = finite & (numbers == whole) & (whole >= YYYYMMDD_RANGE[0])
    compact &= whole <= YYYYMMDD_RANGE[1]
    for i in np.flatnonzero(compact):
        days[i] = _ymd(whole[i] // 10_000, whole[i] // 100 % 100, whole[i] % 100)
    serial = finite & ~compact & (whole >= 1) & (whole <= MAX_EXCEL_SERIAL)
    offset = np.where(whole < EXCEL_LEAP_BUG_SERIAL, whole + 1, whole)
    days[serial] = EXCEL_EPOCH + offset[serial].astype("timedelta64[D]")
    return days


def _ymd(year: int, month: int, day: int) -> np.datetime64:
    try:
        return np.datetime64(dt.date(int(year), int(month), int(day)), "D")
    except ValueError:
        return np.datetime64("NaT")


def parse_date_text(text: str) -> dt.date | None:
    """The date written in `text` (ISO, day first, month name or yyyymmdd), else None."""
    text = text.strip()
    iso, day_first = _ISO_DATE.match(text), _DAY_FIRST.match(text)
    compact, named = _COMPACT_DATE.match(text), _DAY_MONTH_NAME.match(text)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if day_first:
            return dt.date(_year(day_first[3]), int(day_first[2]), int(day_first[1]))
        if compact:
            return dt.date(int(compact[1]), int(compact[2]), int(compact[3]))
        if named:
            month = _MONTHS.get(_fold(named[2]))
            return dt.date(_year(named[3]), month, int(named[1])) if month else None
    except ValueError:
        return None
    return None


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # as Excel and strptime read two-digit years
        year += 2000 if year < 69 else 1900
    return year


def _fold(word: str) -> str:
    raw = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii")
    return raw.lower()


def parse_time_text(text: str) -> str | None:
    """'HH:MM:SS' for `text` written as HH:MM[:SS] (or 14h30), else None."""
    found = _TIME_TEXT.search(text.strip())
    if not found:
        return None
    hour, minute, second = int(found[1]), int(found[2]), int(found[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return f"{hour:02d}:{minute:02d}:{second:02d}"
