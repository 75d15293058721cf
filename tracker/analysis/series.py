"""Money over time: income vs expenses per day/week/month, the running balance, month-to-date spend."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from tracker.analysis.kpi import Change
from tracker.analysis.period import (
    Granularity,
    Period,
    day_number,
    from_day_number,
    month_end,
    month_start,
    previous_month_start,
)
from tracker.analysis.prepared import Prepared, prepare
from tracker.money import Minor, format_plain

# 1970-01-01 was a Thursday: (day + 3) % 7 is the weekday with Monday = 0.
_THURSDAY = 3


def _monday(day: np.ndarray | int) -> Any:
    return day - (day + _THURSDAY) % 7


def _month_number(day: dt.date) -> int:
    return (day.year - 1970) * 12 + day.month - 1


def _bucket_label(start: dt.date, granularity: Granularity) -> str:
    if granularity == "month":
        return f"{start:%b %Y}"
    return f"{start:%b} {start.day}"


def _buckets(days: np.ndarray, period: Period, granularity: Granularity) -> tuple[np.ndarray, list[dt.date]]:
    """Bucket index of each of ``days`` (all inside ``period``) and the first day of every bucket."""
    first, last = day_number(period.start), day_number(period.end)
    if granularity == "day":
        return days - first, [from_day_number(d) for d in range(first, last + 1)]
    if granularity == "week":
        base = int(_monday(first))
        starts = [from_day_number(d) for d in range(base, int(_monday(last)) + 1, 7)]
        return (_monday(days) - base) // 7, starts
    base_month = _month_number(period.start)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    count = _month_number(period.end) - base_month + 1
    starts = [dt.date(1970 + (base_month + k) // 12, (base_month + k) % 12 + 1, 1) for k in range(count)]
    return months - base_month, starts


CASH_FLOW_COLUMNS = ("start", "label", "income", "expenses", "net")


def _cash_flow(prep: Prepared, period: Period, granularity: Granularity | None = None) -> pd.DataFrame:
    unit: Granularity = granularity or period.granularity()
    rows = prep.rows(period)
    index, starts = _buckets(prep.day[rows], period, unit)
    amount, spent = prep.amount[rows], prep.expense[rows]
    income = np.zeros(len(starts), dtype=np.int64)
    expenses = np.zeros(len(starts), dtype=np.int64)
    np.add.at(income, index[~spent], amount[~spent])
    np.add.at(expenses, index[spent], amount[spent])
    table = pd.DataFrame(
        {
            "start": pd.Series(pd.to_datetime(starts), dtype="datetime64[ns]"),
            "label": pd.Series([_bucket_label(s, unit) for s in starts], dtype="string"),
            "income": income,
            "expenses": expenses,
            "net": income - expenses,
        }
    )
    table.attrs["granularity"] = unit
    return table


def cash_flow(
    frame: pd.DataFrame, period: Period, currency: str, granularity: Granularity | None = None
) -> pd.DataFrame:
    """Income and expenses per day, week or month of ``period``, with empty buckets as 0.

    The bucket size defaults to :meth:`Period.granularity` (per day up to 45 days, per week — Monday
    to Sunday — up to about six months, else per calendar month); the first and last bucket may be
    partial, only days inside ``period`` count. ``attrs["granularity"]`` records the size used.

    Returns:
        A frame with ``start`` (datetime64, first day of the bucket), ``label`` (``"Nov 2"`` or
        ``"Nov 2026"``), and ``income``, ``expenses``, ``net`` (int64 minor units), oldest first.
    """
    return _cash_flow(prepare(frame, currency), period, granularity)


def _running_balance(prep: Prepared, period: Period) -> pd.DataFrame:
    first = day_number(period.start)
    before = prep.before(period)
    signed = np.where(prep.expense, -prep.amount, prep.amount)
    opening = int(signed[before].sum(dtype=np.int64))
    rows = prep.rows(period)
    daily = np.zeros(period.days, dtype=np.int64)
    np.add.at(daily, prep.day[rows] - first, signed[rows])
    return pd.DataFrame(
        {
            "date": pd.Series(pd.date_range(period.start, period.end, freq="D"), dtype="datetime64[ns]"),
            "change": daily,
            "balance": opening + np.cumsum(daily),
        }
    )


def running_balance(frame: pd.DataFrame, period: Period, currency: str) -> pd.DataFrame:
    """The balance at the end of every day of ``period``.

    The balance starts from everything in ``frame`` before the period (income minus expenses), so
    pass the frame filtered by everything except the dates. With other filters applied (a category,
    a tag) it is the running total of just those transactions.

    Returns:
        A frame with ``date`` (datetime64), ``change`` (that day's net) and ``balance`` (int64 minor).
    """
    return _running_balance(prepare(frame, currency), period)


@dataclasses.dataclass(frozen=True, eq=False)
class MonthToDate:
    """Cumulative spending in the month so far, next to last month's curve (aligned by day of month)."""

    currency: str
    month: Period
    """From the first of the month to the ``as_of`` day."""
    last_month: Period
    """The whole previous calendar month."""
    current: np.ndarray
    """int64: spent from the 1st up to and including day ``i + 1`` of this month (``month.days`` values)."""
    previous: np.ndarray
    """int64: the same for every day of the previous month (``last_month.days`` values)."""

    @property
    def spent(self) -> Minor:
        """Spent this month up to the ``as_of`` day."""
        return int(self.current[-1])

    @property
    def so_far(self) -> str:
        """``" so far"`` while the month is not over on the ``as_of`` day, ``""`` for a whole month (a title's words)."""
        return " so far" if self.month.end < month_end(self.month.start) else ""

    @property
    def previous_same_day(self) -> Minor:
        """Spent last month up to the same day of the month (its last day if it was shorter)."""
        return int(self.previous[min(self.month.days, self.last_month.days) - 1])

    @property
    def previous_total(self) -> Minor:
        """Spent in the whole previous month."""
        return int(self.previous[-1])

    @property
    def change(self) -> Change:
        """This month so far against last month by the same day."""
        return Change.between(self.spent, self.previous_same_day)

    def to_frame(self) -> pd.DataFrame:
        """One row per day of month: ``day``, ``current`` and ``previous`` (nullable Int64, ``<NA>`` past the end)."""
        length = max(self.month.days, self.last_month.days)
        current = pd.array([*self.current.tolist(), *[None] * (length - len(self.current))], dtype="Int64")
        previous = pd.array([*self.previous.tolist(), *[None] * (length - len(self.previous))], dtype="Int64")
        return pd.DataFrame({"day": np.arange(1, length + 1), "current": current, "previous": previous})

    def to_json(self) -> dict[str, Any]:
        """The two curves as lists of decimal strings, with the summary numbers."""
        cur = self.currency
        return {
            "currency": cur,
            "month": self.month.to_json(),
            "last_month": self.last_month.to_json(),
            "current": [format_plain(int(v), cur) for v in self.current],
            "previous": [format_plain(int(v), cur) for v in self.previous],
            "spent": format_plain(self.spent, cur),
            "previous_same_day": format_plain(self.previous_same_day, cur),
            "previous_total": format_plain(self.previous_total, cur),
        }


def _cumulative_spend(prep: Prepared, period: Period) -> np.ndarray:
    rows = prep.rows(period) & prep.expense
    daily = np.zeros(period.days, dtype=np.int64)
    np.add.at(daily, prep.day[rows] - day_number(period.start), prep.amount[rows])
    return np.cumsum(daily)


def _month_to_date(prep: Prepared, as_of: dt.date) -> MonthToDate:
    month = Period(month_start(as_of), as_of)
    last_start = previous_month_start(as_of)
    last_month = Period(last_start, month.start - dt.timedelta(days=1))
    return MonthToDate(
        prep.currency, month, last_month, _cumulative_spend(prep, month), _cumulative_spend(prep, last_month)
    )


def month_to_date(frame: pd.DataFrame, currency: str, as_of: dt.date) -> MonthToDate:
    """Cumulative spending from the 1st of ``as_of``'s month to ``as_of``, and over all of last month.

    Pass ``as_of`` = the end of the period shown, or today if that is earlier.
    """
    return _month_to_date(prepare(frame, currency), as_of)
