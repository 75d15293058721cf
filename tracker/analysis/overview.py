"""Everything the dashboard and the reports show, computed in one pass over the frame."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from tracker.analysis.breakdown import _by_category, _by_tag, _category_growth, _largest_expenses
from tracker.analysis.kpi import Comparison, _compare
from tracker.analysis.period import Granularity, Period
from tracker.analysis.prepared import prepare
from tracker.analysis.series import MonthToDate, _cash_flow, _month_to_date, _running_balance

if TYPE_CHECKING:
    from tracker.conversion import LeftOut
    from tracker.rates import RateBook


@dataclasses.dataclass(frozen=True, eq=False)
class Dashboard:
    """Every KPI and every chart's data for one period in one currency (see the functions named alike)."""

    period: Period
    currency: str
    comparison: Comparison
    """Totals of the period and of the previous period of equal length, with the changes."""
    by_category: pd.DataFrame
    income_by_category: pd.DataFrame
    by_tag: pd.DataFrame
    cash_flow: pd.DataFrame
    granularity: Granularity
    balance: pd.DataFrame
    month_to_date: MonthToDate
    largest: pd.DataFrame
    growth: pd.DataFrame
    left_out: LeftOut = dataclasses.field(default_factory=lambda: _nothing_left_out())
    """Converted (a rate book was given): the period's rows per currency without a rate, or with a stale one."""

    @property
    def excluded(self) -> int:
        """Transactions of the period in other currencies, left out of every number."""
        return self.comparison.current.excluded

    @property
    def empty(self) -> bool:
        """True when the period has no transaction in the currency."""
        return self.comparison.current.count == 0


def dashboard(
    frame: pd.DataFrame,
    period: Period,
    currency: str,
    *,
    as_of: dt.date | None = None,
    granularity: Granularity | None = None,
    top: int = 10,
    rates: RateBook | None = None,
) -> Dashboard:
    """Compute every KPI and chart series of ``period`` at once (the columns are read only once).

    Args:
        frame: transactions filtered by everything except the dates (categories, tags, type, text...).
        period: the dates shown; the previous period of equal length is compared with it.
        currency: the currency shown; rows in other currencies are only counted (``excluded``).
        as_of: the day the month-to-date curve runs to (default ``period.end``; pass today when the
            period reaches into the future).
        granularity: bucket size of the income/expense series (default chosen by the period's span).
        top: how many largest expenses (and half as many growing categories) to list.
        rates: convert every row into ``currency`` with these rates (:mod:`tracker.conversion`); rows without a
            rate are left out and counted per currency in ``left_out``.
    """
    prep = prepare(frame, currency, rates)
    flow = _cash_flow(prep, period, granularity)
    return Dashboard(
        period=period,
        currency=currency,
        comparison=_compare(prep, period),
        by_category=_by_category(prep, period, "expense"),
        income_by_category=_by_category(prep, period, "income"),
        by_tag=_by_tag(prep, period),
        cash_flow=flow,
        granularity=flow.attrs["granularity"],
        balance=_running_balance(prep, period),
        month_to_date=_month_to_date(prep, as_of or period.end),
        largest=_largest_expenses(prep, period, top),
        growth=_category_growth(prep, period, max(top // 2, 1)),
        left_out=prep.left_out(period),
    )


def _nothing_left_out() -> LeftOut:
    from tracker.conversion import LeftOut

    return LeftOut("")
