"""The filter sidebar: the period presets, accounts, categories, tags, kind and search, and the rows they select.

Also the account picker of the add forms and the quick entry (:func:`account_select`): the same accounts the
filter lists, the open ones only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from tracker.accounts import Account, default_account, list_accounts
from tracker.analysis.period import Period, month_end, month_start, previous_month_start
from tracker.filters import Filter, apply_filter
from tracker.ledger import Ledger
from tracker.ui.caches import cached
from tracker.ui.formatting import md

PRESETS = ("This month", "Last month", "Last 30 days", "This year", "All time", "Custom range")
KINDS = {"Income and expenses": None, "Income only": "income", "Expenses only": "expense", "Transfers only": "transfer"}
"""The "Show" choices and the transaction type each keeps (``None``: every type, transfers too)."""
KIND_WORDS = {"income": "income only", "expense": "expenses only", "transfer": "transfers only"}


@dataclasses.dataclass(frozen=True)
class View:
    """What the user chose in the sidebar: a filter without dates, and the period (``None``: all time)."""

    filter: Filter
    period: Period | None
    preset: str

    @property
    def dated(self) -> Filter:
        """The filter with the period's dates."""
        if self.period is None:
            return self.filter
        return dataclasses.replace(self.filter, start=self.period.start, end=self.period.end)

    @property
    def account(self) -> str | None:
        """The one account chosen (``None`` when all or several are shown)."""
        chosen = self.filter.accounts or ()
        return chosen[0] if len(chosen) == 1 else None

    def key(self) -> str:
        """A stable text key for caching."""
        return repr((self.filter, self.period))


def preset_period(preset: str, today: dt.date) -> Period | None:
    """The date range of a preset (``None`` for all time; custom ranges come from the date input)."""
    if preset == "This month":
        return Period(month_start(today), month_end(today))
    if preset == "Last month":
        start = previous_month_start(today)
        return Period(start, month_end(start))
    if preset == "Last 30 days":
        return Period(today - dt.timedelta(days=29), today)
    if preset == "This year":
        return Period(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))
    return None


def filter_sidebar(prefix: str, led: Ledger, today: dt.date | None = None) -> View:
    """The filter widgets in the sidebar (keys ``{prefix}_...``, kept across page switches)."""
    today = today or dt.date.today()
    sb = st.sidebar
    sb.subheader("Filters")
    preset = sb.selectbox("Period", PRESETS, key=f"{prefix}_period", persist_state="session")
    period = preset_period(preset, today)
    if preset == "Custom range":
        chosen = sb.date_input(
            "From – to",
            value=(month_start(today), today),
            key=f"{prefix}_date_range",
            persist_state="session",
        )
        days = [d for d in (chosen if isinstance(chosen, tuple | list) else (chosen,)) if d is not None]
        if days:
            period = Period(min(days), max(days))
        else:
            period = None
    accounts = sb.multiselect(
        "Accounts",
        [a.name for a in list_accounts(led)],
        key=f"{prefix}_accounts",
        placeholder="All accounts",
        persist_state="session",
    )
    categories = sb.multiselect(
        "Categories",
        led.categories(),
        key=f"{prefix}_categories",
        placeholder="All categories",
        persist_state="session",
    )
    tags = sb.multiselect("Tags", led.tags(), key=f"{prefix}_tags", placeholder="Any tags", persist_state="session")
    tag_mode = "any"
    if len(tags) > 1:
        mode = sb.radio(
            "Rows with",
            ("any of these tags", "all of these tags"),
            horizontal=True,
            key=f"{prefix}_tag_mode",
            persist_state="session",
        )
        tag_mode = "all" if mode.startswith("all") else "any"
    kind = sb.radio("Show", tuple(KINDS), key=f"{prefix}_type", persist_state="session")
    text = sb.text_input(
        "Search", key=f"{prefix}_search", placeholder="Text in the note or category", persist_state="session"
    )
    flt = Filter.build(
        accounts=accounts or None,
        categories=categories or None,
        tags=tags or None,
        tag_mode=tag_mode,
        type=KINDS.get(kind),
        text=text or None,
    )
    return View(flt, period, preset)


def filtered_frame(led: Ledger, view: View) -> pd.DataFrame:
    """The ledger's rows that match the whole view (dates included); cached per revision."""
    return cached("filtered", led, view.key(), lambda: apply_filter(led.frame(), view.dated))


def undated_frame(led: Ledger, view: View) -> pd.DataFrame:
    """The lines (:meth:`Ledger.lines`) that match the view except for its dates (what the analysis functions take)."""
    return cached("undated", led, repr(view.filter), lambda: apply_filter(led.lines(), view.filter))


def describe_view(view: View) -> str:
    """One line (Markdown-escaped) saying what is shown: ``This month (2026-11-01 – 2026-11-30) · Food, Rent``."""
    parts = [view.preset if view.period is None else f"{view.preset} ({view.period.label()})"]
    flt = view.filter
    if flt.accounts:
        parts.append(("account " if len(flt.accounts) == 1 else "accounts ") + ", ".join(flt.accounts))
    if flt.categories:
        parts.append(", ".join(flt.categories))
    if flt.tags:
        joined = " and ".join if flt.tag_mode == "all" else " or ".join
        parts.append("tagged " + joined(f"#{t}" for t in flt.tags))
    if flt.type:
        parts.append(KIND_WORDS.get(flt.type, flt.type))
    if flt.text:
        parts.append(f"matching “{flt.text}”")
    return md(" · ".join(parts))


# -- choosing an account --------------------------------------------------------------------------


def open_accounts(led: Ledger) -> list[Account]:
    """The accounts new transactions can go into: the open ones, in account order (a new ledger: its default)."""
    found = [a for a in list_accounts(led) if not a.closed]
    return found or [default_account(led)]


def account_select(
    where: Any, led: Ledger, label: str, key: str, *, default: str | None = None, help: str | None = None
) -> Account:
    """A selectbox of the open accounts (``where``: ``st`` or a column), remembered in the session under ``key``;
    first shown on ``default`` (a name), else on the default account. Returns the chosen account.

    With accounts in several currencies each option says its currency (``Savings (EUR)``).
    """
    choices = open_accounts(led)
    names = [a.name for a in choices]
    wanted = (default or default_account(led).name).casefold()
    index = next((i for i, n in enumerate(names) if n.casefold() == wanted), 0)
    currency_of = {a.name: a.currency for a in choices}
    several = len(set(currency_of.values())) > 1
    chosen = where.selectbox(
        label,
        names,
        index=index,
        key=key,
        format_func=(lambda n: f"{n} ({currency_of.get(n, '?')})") if several else str,
        help=help,
        persist_state="session",
    )
    return choices[names.index(chosen)] if chosen in names else choices[index]
