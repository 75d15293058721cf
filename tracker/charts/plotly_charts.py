"""Interactive Plotly figures for the app, built from :mod:`tracker.analysis` results.

Every figure has a transparent background and takes its text and grid colours from ``theme``
(``"light"`` or ``"dark"``), so it reads well on either page. Hover labels show exact money; the
money axis has round ticks labelled with the currency (``-$500``, ``€1.000``), computed here rather
than by Plotly so that negative amounts and every number format come out right. In Streamlit, call
``st.plotly_chart(fig, theme=None)`` to keep these colours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from tracker.analysis import Granularity, MonthToDate
from tracker.charts.colors import BALANCE_COLOR, CURRENT_COLOR, EXPENSE_COLOR, INCOME_COLOR, PREVIOUS_COLOR
from tracker.charts.common import (
    GRANULARITY_AXIS,
    MAX_SLICES,
    MIN_LABEL_PERCENT,
    donut_slices,
    major,
    money,
    money_ticks,
    percent_text,
    plotly_separators,
    text_color_on,
    theme_for,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

HEIGHT = 360


def _layout(fig: go.Figure, theme: str, number_format: str, title: str | None, **extra: Any) -> go.Figure:
    colors = theme_for(theme)
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"} if title else None,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"color": colors.text, "size": 13},
        separators=plotly_separators(number_format),
        margin={"l": 10, "r": 10, "t": 48 if title else 16, "b": 10},
        height=HEIGHT,
        hoverlabel={"font": {"size": 13}},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0, "title": None},
        **extra,
    )
    # no template (Streamlit's Plotly has none): the axes must make room for their labels themselves
    fig.update_xaxes(
        gridcolor=colors.grid, linecolor=colors.grid, zerolinecolor=colors.grid, color=colors.muted, automargin=True
    )
    fig.update_yaxes(
        gridcolor=colors.grid, linecolor=colors.grid, zerolinecolor=colors.muted, color=colors.muted, automargin=True
    )
    return fig


def _money_axis(
    fig: go.Figure, low: int, high: int, currency: str, number_format: str, title: str | None, include_zero: bool = True
) -> None:
    ticks, labels = money_ticks(low, high, currency, number_format, include_zero=include_zero)
    fig.update_yaxes(
        tickmode="array",
        tickvals=[major(t, currency) for t in ticks],
        ticktext=labels,
        range=[major(ticks[0], currency), major(ticks[-1], currency)],
        title=title,
    )


def _money_trace(
    x: Sequence[Any],
    minor: Sequence[int],
    currency: str,
    number_format: str,
    name: str,
    *,
    line: dict[str, Any],
    hover_x: str = "%{x|%b %d, %Y}",
    mode: str | None = None,
    **extra: Any,
) -> go.Scatter:
    """A line of amounts (minor units) named ``name``, hovered as exact money (``line``: its colour, dash...;
    markers only for a single point unless ``mode`` says)."""
    import plotly.graph_objects as go

    return go.Scatter(
        x=list(x),
        y=[major(v, currency) for v in minor],
        customdata=[money(v, currency, number_format) for v in minor],
        hovertemplate=f"{hover_x}<br>{name}: <b>%{{customdata}}</b><extra></extra>",
        mode=mode or ("lines+markers" if len(minor) <= 1 else "lines"),
        line={"width": 2.5, **line},
        name=name,
        **extra,
    )


def _money_over_dates(fig: go.Figure, minor: Sequence[int], currency: str, number_format: str) -> None:
    """The axes of money lines over dates: the money axis from the amounts shown (a zero line when it crosses
    zero) and a date axis."""
    low, high = min(minor, default=0), max(minor, default=0)
    _money_axis(fig, low, high, currency, number_format, None, include_zero=False)
    fig.update_yaxes(zeroline=low <= 0 <= high, zerolinewidth=1.5)
    fig.update_xaxes(type="date")


def _empty(fig: go.Figure, message: str) -> None:
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 15})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)


def spending_donut(
    table: pd.DataFrame,
    currency: str,
    colors: Mapping[str, str] | None = None,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = None,
    max_slices: int = MAX_SLICES,
) -> go.Figure:
    """A donut of spending by category (a :func:`tracker.analysis.by_category` table).

    The largest ``max_slices - 1`` categories get a slice each, the rest one grey "Other" slice; the
    percent labels are the table's (they add up to exactly 100 %); the centre shows the total.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    slices = donut_slices(table, colors, max_slices)
    if not slices:
        _empty(fig, "No expenses in this period")
        return _layout(fig, theme, number_format, title)
    total = sum(s.minor for s in slices)
    fig.add_trace(
        go.Pie(
            labels=[s.label for s in slices],
            values=[major(s.minor, currency) for s in slices],
            customdata=[[money(s.minor, currency, number_format), percent_text(s.percent)] for s in slices],
            text=[percent_text(s.percent) if s.percent >= MIN_LABEL_PERCENT else "" for s in slices],
            texttemplate="%{text}",
            insidetextfont={"color": [text_color_on(s.color) for s in slices]},
            textposition="inside",
            insidetextorientation="horizontal",
            hovertemplate="<b>%{label}</b><br>%{customdata[0]} · %{customdata[1]}<extra></extra>",
            marker={"colors": [s.color for s in slices], "line": {"color": "rgba(0,0,0,0)", "width": 0}},
            hole=0.58,
            sort=False,
            direction="clockwise",
            name="Spending",
        )
    )
    fig.add_annotation(
        text=f"Spent<br><b>{money(total, currency, number_format)}</b>",
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font={"size": 15},
    )
    _layout(fig, theme, number_format, title)
    fig.update_layout(legend={"orientation": "v", "y": 0.5, "yanchor": "middle", "x": 1.02, "xanchor": "left"})
    return fig


def cash_flow_bars(
    table: pd.DataFrame,
    currency: str,
    *,
    granularity: Granularity | None = None,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = None,
) -> go.Figure:
    """Grouped bars of income and expenses per period (a :func:`tracker.analysis.cash_flow` table)."""
    import plotly.graph_objects as go

    unit = granularity or table.attrs.get("granularity", "month")
    fig = go.Figure()
    labels = [str(v) for v in table["label"]]
    for column, name, color in (("income", "Income", INCOME_COLOR), ("expenses", "Expenses", EXPENSE_COLOR)):
        values = [int(v) for v in table[column]]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[major(v, currency) for v in values],
                customdata=[money(v, currency, number_format) for v in values],
                hovertemplate=f"%{{x}}<br>{name}: <b>%{{customdata}}</b><extra></extra>",
                name=name,
                marker={"color": color},
            )
        )
    _layout(fig, theme, number_format, title, barmode="group", bargap=0.25, bargroupgap=0.05)
    high = max([int(table["income"].max()), int(table["expenses"].max())]) if len(table) else 0
    _money_axis(fig, 0, high, currency, number_format, None)
    fig.update_xaxes(title=GRANULARITY_AXIS.get(unit, ""), type="category", showgrid=False)
    return fig


def balance_line(
    table: pd.DataFrame,
    currency: str,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = None,
) -> go.Figure:
    """The running balance per day (a :func:`tracker.analysis.running_balance` table)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    values = [int(v) for v in table["balance"]]
    dates = [d.date().isoformat() for d in table["date"]]
    fig.add_trace(_money_trace(dates, values, currency, number_format, "Balance", line={"color": BALANCE_COLOR}))
    _layout(fig, theme, number_format, title, showlegend=False)
    _money_over_dates(fig, values, currency, number_format)
    return fig


def month_to_date_lines(
    mtd: MonthToDate,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = None,
) -> go.Figure:
    """Cumulative spending this month so far against last month, by day of month."""
    import plotly.graph_objects as go

    currency = mtd.currency
    fig = go.Figure()
    series = (
        (f"Last month ({mtd.last_month.start:%b %Y})", mtd.previous, PREVIOUS_COLOR, "dash"),
        (f"This month ({mtd.month.start:%b %Y})", mtd.current, CURRENT_COLOR, "solid"),
    )
    for name, curve, color, dash in series:
        values = [int(v) for v in curve]
        days = list(range(1, len(values) + 1))
        style = {"color": color, "dash": dash}
        fig.add_trace(_money_trace(days, values, currency, number_format, name, line=style, hover_x="Day %{x}"))
    _layout(fig, theme, number_format, title)
    high = max(int(mtd.current.max()), int(mtd.previous.max()))
    _money_axis(fig, 0, high, currency, number_format, None)
    fig.update_xaxes(title="Day of month", range=[0.5, 31.5], dtick=5, tick0=1)
    return fig


def net_worth_line(
    days: Sequence[dt.date],
    values: Sequence[int],
    currency: str,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = None,
) -> go.Figure:
    """Net worth in one currency at the end of each of ``days`` (:func:`tracker.accounts.net_worth_over_time`)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if not days:
        _empty(fig, "No accounts in this currency")
        return _layout(fig, theme, number_format, title)
    minor = [int(v) for v in values]
    trace = _money_trace([d.isoformat() for d in days], minor, currency, number_format, "Net worth",
                         line={"color": BALANCE_COLOR}, mode="lines+markers", marker={"size": 6})  # fmt: skip
    fig.add_trace(trace)
    _layout(fig, theme, number_format, title, showlegend=False)
    _money_over_dates(fig, minor, currency, number_format)
    if len(days) == 1:  # one point: a month around it, not an axis of milliseconds
        fig.update_xaxes(
            range=[(days[0] - dt.timedelta(days=15)).isoformat(), (days[0] + dt.timedelta(days=15)).isoformat()]
        )
    return fig


FORECAST_NAME = "Forecast (entered and recurring)"
ESTIMATE_NAME = "Estimate (also takes off the usual spending)"
"""The legend entry of a forecast's estimate: never mistaken for what is known."""


def balance_forecast_lines(
    history: Sequence[tuple[dt.date, int]],
    points: Sequence[tuple[dt.date, int, int]],
    currency: str,
    *,
    theme: str = "light",
    number_format: str = "1,234.56",
    title: str | None = None,
) -> go.Figure:
    """An account's balance so far (``history``: ``(day, balance)``) and its forecast (``points``:
    :meth:`tracker.forecast.Forecast.points`): what is known as a dashed line, the estimate dotted and labelled."""
    import plotly.graph_objects as go

    fig = go.Figure()
    series = (
        ("Balance", [(d, int(b)) for d, b in history], BALANCE_COLOR, "solid", "linear"),
        (FORECAST_NAME, [(d, int(p)) for d, p, _ in points], CURRENT_COLOR, "dash", "hv"),  # steps: known changes
        (ESTIMATE_NAME, [(d, int(e)) for d, _, e in points], PREVIOUS_COLOR, "dot", "linear"),
    )
    shown = [v for _, line, _, _, _ in series for _, v in line]
    if not shown:
        _empty(fig, "Nothing to show yet")
        return _layout(fig, theme, number_format, title)
    for name, line, color, dash, shape in series:
        if not line:
            continue
        style = {"color": color, "dash": dash, "shape": shape}
        x, minor = [d.isoformat() for d, _ in line], [v for _, v in line]
        fig.add_trace(_money_trace(x, minor, currency, number_format, name, line=style))
    if points:
        last_day, _, estimated = points[-1]
        fig.add_annotation(
            x=last_day.isoformat(),
            y=major(int(estimated), currency),
            text=f"estimate: {money(int(estimated), currency, number_format)}",
            showarrow=False,
            xanchor="right",
            yanchor="top",
            font={"color": theme_for(theme).muted, "size": 12},
        )
    _layout(fig, theme, number_format, title)
    _money_over_dates(fig, shown, currency, number_format)
    return fig
