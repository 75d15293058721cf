"""Reporting periods: an inclusive date range, its previous period, and the bucket size for series."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from typing import Literal

import numpy as np
import pandas as pd

from tracker.errors import ValidationError

Granularity = Literal["day", "week", "month"]
GRANULARITIES: tuple[Granularity, ...] = ("day", "week", "month")

DAILY_MAX_DAYS = 45
"""Ranges up to this many days are shown per day."""
WEEKLY_MAX_DAYS = 186
"""Ranges up to about six months are shown per week (Monday to Sunday); longer ones per calendar month."""

EPOCH = dt.date(1970, 1, 1)


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01 (the integer form the analysis works in)."""
    return (day - EPOCH).days


def from_day_number(number: int | np.integer) -> dt.date:
    """Inverse of :func:`day_number`."""
    return EPOCH + dt.timedelta(days=int(number))


def month_start(day: dt.date) -> dt.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def previous_month_start(day: dt.date) -> dt.date:
    """The first day of the month before ``day``'s month."""
    return month_start(month_start(day) - dt.timedelta(days=1))


@dataclasses.dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of calendar days, ``start`` to ``end``.

    The analysis functions take the period explicitly, together with a frame that is filtered by
    everything *except* the dates, so that they can also look at the previous period (and the opening
    balance) from the same frame.
    """

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValidationError("from", self.start.isoformat(), f"is after the end date {self.end.isoformat()}")

    @property
    def days(self) -> int:
        """Number of calendar days in the period (at least 1)."""
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end)

    def granularity(self) -> Granularity:
        """``"day"`` up to 45 days, ``"week"`` up to about six months, ``"month"`` beyond."""
        if self.days <= DAILY_MAX_DAYS:
            return "day"
        if self.days <= WEEKLY_MAX_DAYS:
            return "week"
        return "month"

    def label(self) -> str:
        """``2026-11-01 – 2026-11-30`` (or a single date)."""
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    def to_json(self) -> dict[str, str]:
        """``{"start": "2026-11-01", "end": "2026-11-30"}``."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def month(cls, day: dt.date) -> Period:
        """The calendar month that contains ``day``."""
        return cls(month_start(day), month_end(day))

    @classmethod
    def covering(
        cls,
        frame: pd.DataFrame,
        start: dt.date | None = None,
        end: dt.date | None = None,
        today: dt.date | None = None,
    ) -> Period:
        """The period a report over ``frame`` covers when the user left a bound open.

        A missing ``start`` is the first date in ``frame``, a missing ``end`` the last one; with no rows
        at all, ``today`` (default: the current date) stands in. The result is never inverted: a lone
        ``start`` after the data gives a one-day period.
        """
        if start is not None and end is not None:
            return cls(start, end)
        if len(frame):
            dates = frame["date"]
            first, last = dates.min().date(), dates.max().date()
        else:
            first = last = today or dt.date.today()
        lo = start if start is not None else min(first, end) if end is not None else first
        hi = end if end is not None else max(last, lo)
        return cls(lo, hi)
