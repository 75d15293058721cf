"""Static Matplotlib charts for reports and export: the same charts, colours and numbers as the app's.

Figures are built with :class:`matplotlib.figure.Figure` and the Agg canvas directly, never through
``pyplot``, so they need no display and leave no global state behind. ``draw_*`` functions draw into
an existing ``Axes`` (the dashboard image puts four of them on one figure); the other functions
return a new ``Figure`` holding one chart.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from tracker.analysis import Granularity, MonthToDate
from tracker.charts.colors import BALANCE_COLOR, CURRENT_COLOR, EXPENSE_COLOR, INCOME_COLOR, PREVIOUS_COLOR
from tracker.charts.common import (
    GRANULARITY_AXIS,
    MAX_SLICES,
    MIN_LABEL_PERCENT,
    TITLES,
    Theme,
    donut_slices,
    major,
    money,
    money_ticks,
    percent_text,
    text_color_on,
    theme_for,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FIGSIZE = (10.0, 5.6)
"""Inches of a single-chart figure (1000 x 560 pixels at the default 100 dpi)."""
MAX_X_LABELS = 16
NET_WORTH_TITLE = "Net worth"


def new_figure(figsize: tuple[float, float] = FIGSIZE, dpi: float = 100, theme: str = "light") -> Figure:
    """A blank figure on the Agg canvas (no pyplot, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi, facecolor=theme_for(theme).background, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(ax: Axes, colors: Theme, title: str | None, scale: float) -> None:
    ax.set_facecolor(colors.background)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(colors.grid)
    ax.tick_params(colors=colors.muted, labelsize=9 * scale)
    ax.xaxis.label.set_color(colors.muted)
    ax.yaxis.label.set_color(colors.muted)
    ax.grid(axis="y", color=colors.grid, linewidth=0.8)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title, loc="left", color=colors.text, fontsize=13 * scale, fontweight="bold", pad=12)


def _money_axis(ax: Axes, low: int, high: int, currency: str, number_format: str, include_zero: bool = True) -> None:
    from matplotlib.ticker import FixedFormatter, FixedLocator

    ticks, labels = money_ticks(low, high, currency, number_format, include_zero=include_zero)
    ax.yaxis.set_major_locator(FixedLocator([major(t, currency) for t in ticks]))
    ax.yaxis.set_major_formatter(FixedFormatter(labels))
    ax.set_ylim(major(ticks[0], currency), major(ticks[-1], currency))


def _money_over_dates(
    ax: Axes, palette: Theme, minor: Sequence[int], xs: Sequence[Any], currency: str, number_format: str, pad: Any
) -> None:
    """The axes of a money line over dates: the money axis (a zero line when it crosses zero), concise date
    ticks, and the x range of the points (``pad`` either side of a single one)."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    low, high = min(minor, default=0), max(minor, default=0)
    _money_axis(ax, low, high, currency, number_format, include_zero=False)
    if low <= 0 <= high:
        ax.axhline(0, color=palette.muted, linewidth=0.8)
    locator = AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    if len(xs) > 1:
        ax.set_xlim(xs[0], xs[-1])
    elif xs:
        ax.set_xlim(xs[0] - pad, xs[0] + pad)


def _empty(ax: Axes, colors: Theme, message: str, scale: float) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.text(
        0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color=colors.muted, fontsize=12 * scale
    )


def draw_spending_donut(
    ax: Axes,
    table: pd.DataFrame,
    currency: str,
    colors: Mapping[str, str] | None = None,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = TITLES["donut"],
    max_slices: int = MAX_SLICES,
    scale: float = 1.0,
) -> None:
    """Draw the spending donut of a :func:`tracker.analysis.by_category` table into ``ax``."""
    palette = theme_for(theme)
    _style(ax, palette, title, scale)
    slices = donut_slices(table, colors, max_slices)
    if not slices:
        _empty(ax, palette, "No expenses in this period", scale)
        return
    wedges, _ = ax.pie(
        [s.minor for s in slices],
        colors=[s.color for s in slices],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.42, "edgecolor": palette.background, "linewidth": 1.5},
    )
    for wedge, piece in zip(wedges, slices, strict=True):
        if piece.percent < MIN_LABEL_PERCENT:
            continue
        angle = math.radians((wedge.theta1 + wedge.theta2) / 2)
        ax.text(
            0.79 * math.cos(angle),
            0.79 * math.sin(angle),
            percent_text(piece.percent),
            ha="center",
            va="center",
            fontsize=8.5 * scale,
            color=text_color_on(piece.color),
        )
    total = sum(s.minor for s in slices)
    ax.text(0, 0.1, "Spent", ha="center", va="center", fontsize=10 * scale, color=palette.muted)
    ax.text(
        0,
        -0.08,
        money(total, currency, number_format),
        ha="center",
        va="center",
        fontsize=13 * scale,
        color=palette.text,
    )
    ax.set_aspect("equal")
    ax.set_anchor("E")
    legend = ax.legend(
        wedges,
        [f"{s.label}  {money(s.minor, currency, number_format)}  ({percent_text(s.percent)})" for s in slices],
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        frameon=False,
        fontsize=9 * scale,
    )
    for text in legend.get_texts():
        text.set_color(palette.text)


def draw_cash_flow_bars(
    ax: Axes,
    table: pd.DataFrame,
    currency: str,
    *,
    granularity: Granularity | None = None,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = TITLES["cash_flow"],
    scale: float = 1.0,
) -> None:
    """Draw grouped income/expense bars of a :func:`tracker.analysis.cash_flow` table into ``ax``."""
    palette = theme_for(theme)
    _style(ax, palette, title, scale)
    unit = granularity or table.attrs.get("granularity", "month")
    count = len(table)
    positions = list(range(count))
    width = 0.4
    income = [int(v) for v in table["income"]]
    expenses = [int(v) for v in table["expenses"]]
    ax.bar(
        [p - width / 2 for p in positions],
        [major(v, currency) for v in income],
        width,
        color=INCOME_COLOR,
        label="Income",
    )
    ax.bar(
        [p + width / 2 for p in positions],
        [major(v, currency) for v in expenses],
        width,
        color=EXPENSE_COLOR,
        label="Expenses",
    )
    _money_axis(ax, 0, max([*income, *expenses, 0]), currency, number_format)
    every = max(1, math.ceil(count / MAX_X_LABELS))
    shown = [str(v) for v in table["label"]][::every]
    ax.set_xticks(positions[::every], shown)
    if sum(len(label) + 2 for label in shown) > 60:
        ax.tick_params(axis="x", labelrotation=40)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    ax.set_xlim(-0.6, count - 0.4)
    ax.set_xlabel(GRANULARITY_AXIS.get(unit, ""))
    legend = ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9 * scale, ncols=2)
    for text in legend.get_texts():
        text.set_color(palette.text)


def draw_balance_line(
    ax: Axes,
    table: pd.DataFrame,
    currency: str,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = TITLES["balance"],
    scale: float = 1.0,
) -> None:
    """Draw the running balance of a :func:`tracker.analysis.running_balance` table into ``ax``."""
    palette = theme_for(theme)
    _style(ax, palette, title, scale)
    values = [int(v) for v in table["balance"]]
    dates = [d.to_pydatetime() for d in table["date"]]
    ys = [major(v, currency) for v in values]
    ax.plot(dates, ys, color=BALANCE_COLOR, linewidth=2, marker="o" if len(ys) <= 1 else None)
    _money_over_dates(ax, palette, values, dates, currency, number_format, dt.timedelta(days=1))


def draw_month_to_date_lines(
    ax: Axes,
    mtd: MonthToDate,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = TITLES["month_to_date"],
    scale: float = 1.0,
) -> None:
    """Draw this month's cumulative spending against last month's into ``ax``."""
    palette = theme_for(theme)
    _style(ax, palette, title, scale)
    currency = mtd.currency
    series = (
        (f"Last month ({mtd.last_month.start:%b %Y})", mtd.previous, PREVIOUS_COLOR, "--"),
        (f"This month ({mtd.month.start:%b %Y})", mtd.current, CURRENT_COLOR, "-"),
    )
    for name, curve, color, style in series:
        values = [major(int(v), currency) for v in curve]
        days = list(range(1, len(values) + 1))
        ax.plot(days, values, style, color=color, linewidth=2, label=name, marker="o" if len(values) <= 1 else None)
    _money_axis(ax, 0, max(int(mtd.current.max()), int(mtd.previous.max())), currency, number_format)
    ax.set_xlim(0.5, 31.5)
    ax.set_xticks([1, 5, 10, 15, 20, 25, 31])
    ax.set_xlabel("Day of month")
    legend = ax.legend(loc="upper left", frameon=False, fontsize=9 * scale)
    for text in legend.get_texts():
        text.set_color(palette.text)


def draw_net_worth_line(
    ax: Axes,
    days: Sequence[dt.date],
    values: Sequence[int],
    currency: str,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = NET_WORTH_TITLE,
    scale: float = 1.0,
) -> None:
    """Draw net worth in one currency at the end of each of ``days`` into ``ax``
    (:func:`tracker.accounts.net_worth_over_time`)."""
    from matplotlib.dates import date2num

    palette = theme_for(theme)
    _style(ax, palette, title, scale)
    if not days:
        _empty(ax, palette, "No accounts in this currency", scale)
        return
    minor = [int(v) for v in values]
    xs = [float(x) for x in date2num(list(days))]  # matplotlib's day numbers, read by the date locator below
    ys = [major(v, currency) for v in minor]
    ax.plot(xs, ys, color=BALANCE_COLOR, linewidth=2, marker="o", markersize=4)
    ax.annotate(  # the exact figure of the last day: a static chart has no hover
        money(minor[-1], currency, number_format),
        (xs[-1], ys[-1]),
        xytext=(-6, 8),
        textcoords="offset points",
        ha="right",
        color=palette.text,
        fontsize=10 * scale,
    )
    _money_over_dates(ax, palette, minor, xs, currency, number_format, 1)


def _single(draw_theme: str, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    fig = new_figure(figsize, theme=draw_theme)
    return fig, fig.add_subplot()


def spending_donut(
    table: pd.DataFrame,
    currency: str,
    colors: Mapping[str, str] | None = None,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = TITLES["donut"],
    figsize: tuple[float, float] = FIGSIZE,
    scale: float = 1.0,
) -> Figure:
    """A figure with the spending donut (see :func:`draw_spending_donut`)."""
    fig, ax = _single(theme, figsize)
    draw_spending_donut(ax, table, currency, colors, theme=theme, number_format=number_format, title=title, scale=scale)
    return fig


def cash_flow_bars(
    table: pd.DataFrame,
    currency: str,
    *,
    granularity: Granularity | None = None,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = TITLES["cash_flow"],
    figsize: tuple[float, float] = FIGSIZE,
    scale: float = 1.0,
) -> Figure:
    """A figure with the income/expense bars (see :func:`draw_cash_flow_bars`)."""
    fig, ax = _single(theme, figsize)
    draw_cash_flow_bars(
        ax, table, currency, granularity=granularity, theme=theme, number_format=number_format, title=title, scale=scale
    )
    return fig


def balance_line(
    table: pd.DataFrame,
    currency: str,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = TITLES["balance"],
    figsize: tuple[float, float] = FIGSIZE,
    scale: float = 1.0,
) -> Figure:
    """A figure with the running balance (see :func:`draw_balance_line`)."""
    fig, ax = _single(theme, figsize)
    draw_balance_line(ax, table, currency, theme=theme, number_format=number_format, title=title, scale=scale)
    return fig


def month_to_date_lines(
    mtd: MonthToDate,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = TITLES["month_to_date"],
    figsize: tuple[float, float] = FIGSIZE,
    scale: float = 1.0,
) -> Figure:
    """A figure with the month-to-date comparison (see :func:`draw_month_to_date_lines`)."""
    fig, ax = _single(theme, figsize)
    draw_month_to_date_lines(ax, mtd, theme=theme, number_format=number_format, title=title, scale=scale)
    return fig


def net_worth_line(
    days: Sequence[dt.date],
    values: Sequence[int],
    currency: str,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = NET_WORTH_TITLE,
    figsize: tuple[float, float] = FIGSIZE,
    scale: float = 1.0,
) -> Figure:
    """A figure with net worth over time (see :func:`draw_net_worth_line`)."""
    fig, ax = _single(theme, figsize)
    draw_net_worth_line(ax, days, values, currency, theme=theme, number_format=number_format, title=title, scale=scale)
    return fig
