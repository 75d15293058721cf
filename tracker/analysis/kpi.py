"""Headline numbers of a period (income, expenses, net, savings rate, ...) and their change."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from tracker.analysis.period import Period
from tracker.analysis.prepared import Prepared, prepare
from tracker.money import Minor, format_plain
from tracker.rows import Sums, sums


def percent_change(current: int, previous: int) -> float | None:
    """Relative change in percent; ``None`` when ``previous`` is 0 (there is nothing to compare with).

    The denominator is ``abs(previous)``, so a net that goes from -100 to -50 is +50 %.
    """
    if previous == 0:
        return None
    return (current - previous) * 100 / abs(previous)


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """How a number moved against the previous period."""

    absolute: int
    """``current - previous`` (minor units for money, a plain number for counts)."""
    percent: float | None
    """Relative change in percent, ``None`` when the previous value was 0."""

    @classmethod
    def between(cls, current: int, previous: int) -> Change:
        """The change from ``previous`` to ``current``."""
        return cls(current - previous, percent_change(current, previous))


@dataclasses.dataclass(frozen=True, slots=True)
class Totals:
    """Totals of one period in one currency. Money in integer minor units.

    Only rows in ``currency`` are counted; ``excluded`` says how many rows of the period were in
    another currency and so were left out (amounts in different currencies cannot be added).
    """

    period: Period
    currency: str
    income: Minor
    expenses: Minor
    """Sum of the expenses, as a positive number."""
    count: int
    """Transactions counted (income and expenses)."""
    excluded: int = 0

    @property
    def net(self) -> Minor:
        """``income - expenses`` (negative when more went out than came in)."""
        return self.income - self.expenses

    @property
    def savings_percent(self) -> float | None:
        """Net as a percentage of income (may be negative); ``None`` when there was no income."""
        if self.income == 0:
            return None
        return self.net * 100 / self.income

    @property
    def average_daily_spend(self) -> Minor:
        """Expenses divided by the calendar days of the period, rounded half up to the minor unit."""
        days = self.period.days
        return (2 * self.expenses + days) // (2 * days)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: amounts as decimal strings (``"12.50"``)."""
        cur = self.currency
        return {
            "period": self.period.to_json(),
            "currency": cur,
            "income": format_plain(self.income, cur),
            "expenses": format_plain(self.expenses, cur),
            "net": format_plain(self.net, cur),
            "savings_percent": self.savings_percent,
            "count": self.count,
            "average_daily_spend": format_plain(self.average_daily_spend, cur),
            "excluded": self.excluded,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Comparison:
    """The totals of a period next to those of the previous period of equal length."""

    current: Totals
    previous: Totals

    @property
    def income(self) -> Change:
        """Change of income."""
        return Change.between(self.current.income, self.previous.income)

    @property
    def expenses(self) -> Change:
        """Change of expenses (positive: more was spent)."""
        return Change.between(self.current.expenses, self.previous.expenses)

    @property
    def net(self) -> Change:
        """Change of net."""
        return Change.between(self.current.net, self.previous.net)

    @property
    def count(self) -> Change:
        """Change of the number of transactions."""
        return Change.between(self.current.count, self.previous.count)

    @property
    def average_daily_spend(self) -> Change:
        """Change of the average daily spend."""
        return Change.between(self.current.average_daily_spend, self.previous.average_daily_spend)

    @property
    def savings_points(self) -> float | None:
        """Change of the savings rate in percentage points; ``None`` unless both periods had income."""
        now, before = self.current.savings_percent, self.previous.savings_percent
        if now is None or before is None:
            return None
        return now - before

    def to_json(self) -> dict[str, Any]:
        """Both periods' totals and every change (money changes as decimal strings)."""
        cur = self.current.currency

        def money(change: Change) -> dict[str, Any]:
            return {"absolute": format_plain(change.absolute, cur), "percent": change.percent}

        return {
            "current": self.current.to_json(),
            "previous": self.previous.to_json(),
            "change": {
                "income": money(self.income),
                "expenses": money(self.expenses),
                "net": money(self.net),
                "average_daily_spend": money(self.average_daily_spend),
                "count": {"absolute": self.count.absolute, "percent": self.count.percent},
                "savings_points": self.savings_points,
            },
        }


def _totals(prep: Prepared, period: Period) -> Totals:
    found = sums(prep.cols, prep.rows(period)) if len(prep.frame) else Sums(0, 0, 0)
    return Totals(
        period=period,
        currency=prep.currency,
        income=found.income,
        expenses=found.expenses,
        count=found.count,
        excluded=prep.excluded(period),
    )


def _compare(prep: Prepared, period: Period) -> Comparison:
    return Comparison(_totals(prep, period), _totals(prep, period.previous()))


def totals(frame: pd.DataFrame, period: Period, currency: str) -> Totals:
    """Income, expenses, net, savings rate, count and average daily spend of ``period`` in ``currency``.

    Args:
        frame: transactions filtered by everything except the dates (the period does the dates).
        period: the inclusive date range.
        currency: only rows in this currency are added up; the others are counted in ``excluded``.
    """
    return _totals(prepare(frame, currency), period)


def compare(frame: pd.DataFrame, period: Period, currency: str) -> Comparison:
    """:func:`totals` of ``period`` and of the previous period of equal length, with the changes.

    ``frame`` must not be cut to ``period`` already, or the previous period would look empty.
    """
    return _compare(prepare(frame, currency), period)
