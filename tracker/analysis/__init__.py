"""Pure analysis over a transactions frame: totals, breakdowns and series for the dashboard and reports.

How to call it:

* Filter the ledger's frame by everything **except** the dates (categories, tags, type, text...),
  and pass the dates separately as a :class:`Period`. The functions need the rows before the period
  too: for the previous period of equal length (the KPI deltas, the growing categories) and for the
  opening balance.
* Pass the currency to report in. Amounts in different currencies cannot be added, so every number
  is computed over the rows in that currency only; the rows of the period in other currencies are
  counted as ``excluded`` so that the screen can say so. :func:`currencies` lists the currencies in
  use, most used first; :func:`choose_currency` falls back from the default currency to the one in use.
* Money stays in integer minor units (``int`` / ``int64``) everywhere; turn it into text for display
  with :func:`tracker.money.format_money`. Ratios (percent changes, shares) are the only non-integer
  numbers; percentages shown as a breakdown are ``Decimal`` with one decimal that add up to exactly 100.
* Nothing raises on an empty frame, a single transaction or a one-day period: totals are zero, ratios
  whose denominator is zero are ``None``, series are filled with zeros.

:func:`dashboard` computes everything at once (what the Dashboard page and the reports use).
"""

from __future__ import annotations

from tracker.analysis.breakdown import (
    NO_TAG,
    OTHER,
    by_category,
    by_tag,
    category_growth,
    collapse_other,
    largest_expenses,
    largest_remainder,
)
from tracker.analysis.kpi import Change, Comparison, Totals, compare, percent_change, totals
from tracker.analysis.overview import Dashboard, dashboard
from tracker.analysis.period import Granularity, Period
from tracker.analysis.prepared import choose_currency, currencies
from tracker.analysis.series import MonthToDate, cash_flow, month_to_date, running_balance

__all__ = [
    "NO_TAG",
    "OTHER",
    "Change",
    "Comparison",
    "Dashboard",
    "Granularity",
    "MonthToDate",
    "Period",
    "Totals",
    "by_category",
    "by_tag",
    "cash_flow",
    "category_growth",
    "choose_currency",
    "collapse_other",
    "compare",
    "currencies",
    "dashboard",
    "largest_expenses",
    "largest_remainder",
    "month_to_date",
    "percent_change",
    "running_balance",
    "totals",
]
