"""What both chart libraries share: themes, money on axes and in labels, and the slices of the donut.

Amounts reach a chart as integer minor units. They become floats (major units) only as plot
coordinates; every number a person reads — hover labels, axis ticks, the donut's centre — is
formatted from the exact integer with :func:`tracker.money.format_money`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal

import pandas as pd

from tracker.analysis import OTHER, collapse_other
from tracker.charts.colors import OTHER_COLOR, color_for
from tracker.money import CURRENCY_EXPONENTS, NUMBER_FORMATS, format_money


@dataclasses.dataclass(frozen=True, slots=True)
class Theme:
    """Neutral colours for text, grid and background in light or dark mode."""

    name: str
    text: str
    muted: str
    grid: str
    background: str
    """Page colour for static images; interactive figures are transparent and take the page's."""


THEMES: dict[str, Theme] = {
    "light": Theme("light", text="#262730", muted="#6b6f7b", grid="#e3e5ea", background="#ffffff"),
    "dark": Theme("dark", text="#fafafa", muted="#a3a8b8", grid="#3b3f4a", background="#0e1117"),
}


def theme_for(name: str | None) -> Theme:
    """The theme called ``name`` (``"light"`` or ``"dark"``); anything else is light."""
    return THEMES.get(name or "light", THEMES["light"])


TITLES = {
    "donut": "Spending by category",
    "cash_flow": "Income vs expenses",
    "balance": "Balance",
    "month_to_date": "Spending this month vs last month",
}
GRANULARITY_AXIS = {"day": "Day", "week": "Week (starting Monday)", "month": "Month"}
MAX_SLICES = 9
"""The donut shows the eight largest categories and folds the rest into "Other"."""
MIN_LABEL_PERCENT = Decimal(4)
"""Slices smaller than this carry no percent label (it would not fit); the hover still has it."""


def major(minor: int, currency: str) -> float:
    """A plot coordinate in major units (display only: never add these up)."""
    return minor / 10 ** CURRENCY_EXPONENTS.get(currency, 2)


def money(minor: int, currency: str, number_format: str = "1,234.56") -> str:
    """Exact money for labels: ``$1,234.50``."""
    return format_money(int(minor), currency, number_format)


def short_money(minor: int, currency: str, number_format: str = "1,234.56") -> str:
    """Money for axis ticks: like :func:`money` but without a zero fraction (``$1,200``, ``$2.50``)."""
    text = format_money(int(minor), currency, number_format)
    exp = CURRENCY_EXPONENTS.get(currency, 2)
    if exp and int(minor) % 10**exp == 0:
        point = NUMBER_FORMATS.get(number_format, (",", "."))[1]
        text = text.replace(point + "0" * exp, "", 1)
    return text


def money_ticks(
    low: int,
    high: int,
    currency: str,
    number_format: str = "1,234.56",
    max_ticks: int = 6,
    include_zero: bool = True,
) -> tuple[list[int], list[str]]:
    """Round tick positions (minor units) that cover ``low..high``, and their labels.

    Steps are 1, 2 or 5 times a power of ten minor units, at least one major unit when the range
    allows it; the ticks reach to or past both ends. With ``include_zero`` the range is widened to
    take in 0 (bars and cumulative sums); without it the axis fits the data (a balance far from 0).
    """
    lo, hi = int(low), int(high)
    if include_zero:
        lo, hi = min(lo, 0), max(hi, 0)
    unit = 10 ** CURRENCY_EXPONENTS.get(currency, 2)
    if lo == hi:
        lo, hi = (lo, lo + unit) if lo == 0 or include_zero else (lo - unit, hi + unit)
    power = 1
    while True:
        fitting = [s for s in (power, 2 * power, 5 * power) if -(-hi // s) - (lo // s) <= max_ticks - 1]
        if fitting and (fitting[0] >= unit or hi - lo < unit):
            step = fitting[0]
            break
        power *= 10
    ticks = list(range((lo // step) * step, -(-hi // step) * step + 1, step))
    return ticks, [short_money(t, currency, number_format) for t in ticks]


def plotly_separators(number_format: str) -> str:
    """Plotly's ``layout.separators`` (decimal point, then thousands) for a number format."""
    group, point = NUMBER_FORMATS.get(number_format, (",", "."))
    return point + group


@dataclasses.dataclass(frozen=True, slots=True)
class Slice:
    """One slice of the spending donut."""

    label: str
    minor: int
    percent: Decimal
    color: str


def donut_slices(table: pd.DataFrame, colors: Mapping[str, str] | None, max_slices: int = MAX_SLICES) -> list[Slice]:
    """The slices of a :func:`tracker.analysis.by_category` table, smallest ones folded into "Other"."""
    shown = collapse_other(table, max_slices)
    folded = len(shown) < len(table)
    slices = []
    for name, minor, pct in zip(shown["category"], shown["amount_minor"], shown["percent"], strict=True):
        label = str(name)
        is_other = folded and label == OTHER and not (colors and label in colors)
        color = OTHER_COLOR if is_other else color_for(label, colors)
        slices.append(Slice(label, int(minor), pct, color))
    return slices


def text_color_on(background: str) -> str:
    """Near-black or white, whichever reads better on ``background`` (``#rrggbb``; WCAG luminance)."""
    try:
        channels = [int(background.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    except ValueError:
        return "#1b1b1b"
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#1b1b1b" if luminance > 0.18 else "#ffffff"


def percent_text(value: Decimal) -> str:
    """``12.5%``."""
    return f"{value}%"
