"""Periods: inclusive date ranges chosen on screens, in reports and by the daily job."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    """The days from `start` to `end`, both included."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    @property
    def end_exclusive(self) -> dt.date:
        return self.end + dt.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = dt.date(year, month, 1)
        return cls(first, _next_month(first) - dt.timedelta(days=1))

    @classmethod
    def month_to_date(cls, day: dt.date) -> Period:
        """From the first of `day`'s month to `day`."""
        return cls(day.replace(day=1), day)

    @classmethod
    def last_months(cls, months: int, *, today: dt.date) -> Period:
        """The `months` calendar months ending with `today`'s month (to `today`)."""
        if months < 1:
            raise ValueError("months must be at least 1")
        first = today.replace(day=1)
        for _ in range(months - 1):
            first = (first - dt.timedelta(days=1)).replace(day=1)
        return cls(first, today)


def _next_month(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
