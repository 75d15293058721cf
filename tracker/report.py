"""Reports on disk: a multi-page PDF (KPIs, then one chart per page) or one PNG image of the dashboard.

* ``.pdf``: page 1 is the KPI table (this period, the previous period of equal length, the change),
  the top categories and the largest expenses, all exact money; pages 2-5 are the dashboard's charts
  (:data:`tracker.charts.dashboard.CHARTS`: the spending donut, the income vs expense bars, the running
  balance and this month's spending against last month's), A4 landscape; with ``net_worth`` (see
  :func:`tracker.conversion.net_worth_in` at :func:`tracker.accounts.net_worth_days`) a last page charts net worth over time, every account, month by month.
* ``.png``: one image of :data:`PNG_SIZE` pixels (1600 x 1000) with the headline numbers and the
  same four charts in a 2 x 2 grid.

The file is written next to its final name and renamed into place, so a failed report never leaves
a half-written file (and, like the data files, it is readable by its owner only: mode 0600). An unknown extension or a folder that cannot be written is a ``ValidationError``
raised before any work is done.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tracker.analysis import Change, Dashboard, Period, collapse_other, dashboard
from tracker.charts.dashboard import CHARTS
from tracker.errors import ValidationError
from tracker.filters import Filter
from tracker.money import format_money

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from tracker.rates import RateBook


FORMATS = (".pdf", ".png")
PAGE_SIZE = (11.69, 8.27)
"""A4 landscape, in inches."""
PNG_SIZE = (1600, 1000)
"""Pixel size of the dashboard image."""
PNG_DPI = 100
PAGE_TEXT_SCALE = 1.35
"""Chart text on an A4 page is larger than in the dashboard image."""
TOP_CATEGORIES = 10
TOP_EXPENSES = 8
DASH = "—"
NET_WORTH_TITLE = "Net worth, every account (end of each month)"

NetWorth = tuple[Sequence[dt.date], Sequence[int]]
"""Net worth in the report's currency at the end of each day: (days, minor units); see
:func:`tracker.conversion.net_worth_in` at :func:`tracker.accounts.net_worth_days`."""


def check_output(path: str | os.PathLike[str]) -> Path:
    """The report's target path, or a ``ValidationError`` if it cannot be a report.

    The name must end in ``.pdf`` or ``.png`` (any case), must not be a folder, and its folder must
    exist and be writable.
    """
    target = Path(path).expanduser()
    shown = str(path)
    if target.suffix.lower() not in FORMATS:
        raise ValidationError("output", shown, "must end in .pdf or .png")
    if target.is_dir():
        raise ValidationError("output", shown, "is a folder; give a file name ending in .pdf or .png")
    folder = target.parent.resolve()
    if not folder.is_dir():
        raise ValidationError("output", shown, f"cannot be written: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ValidationError("output", shown, "cannot be written: permission denied")
    return target


def describe_filter(flt: Filter) -> str:
    """One line naming the filters other than the dates (``""`` when there are none)."""
    parts = []
    if flt.categories:
        parts.append("categories: " + ", ".join(flt.categories))
    if flt.tags:
        parts.append(f"tags ({flt.tag_mode}): " + ", ".join(flt.tags))
    if flt.type:
        parts.append(f"only {flt.type}")
    if flt.text:
        parts.append(f"text: “{flt.text}”")
    if flt.min_amount is not None:
        parts.append(f"amount ≥ {flt.min_amount}")
    if flt.max_amount is not None:
        parts.append(f"amount ≤ {flt.max_amount}")
    return "; ".join(parts)


# --- KPI texts --------------------------------------------------------------------------------------------------


def _pct(value: float | None, suffix: str = " %") -> str:
    if value is None:
        return DASH
    return f"{value:+.1f}{suffix}"


def _rate(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f} %"


def kpi_rows(board: Dashboard, number_format: str = "1,234.56") -> list[tuple[str, str, str, str]]:
    """Rows ``(name, this period, previous period, change)`` of the KPI table, as display text."""
    cmp = board.comparison
    cur, prev = cmp.current, cmp.previous
    code = board.currency

    def money(minor: int) -> str:
        return format_money(minor, code, number_format)

    def money_change(change: Change) -> str:
        sign = "+" if change.absolute > 0 else ""
        return f"{sign}{money(change.absolute)} ({_pct(change.percent)})"

    points = cmp.savings_points
    return [
        ("Income", money(cur.income), money(prev.income), money_change(cmp.income)),
        ("Expenses", money(cur.expenses), money(prev.expenses), money_change(cmp.expenses)),
        ("Net", money(cur.net), money(prev.net), money_change(cmp.net)),
        ("Savings rate", _rate(cur.savings_percent), _rate(prev.savings_percent), _pct(points, " pts")),
        ("Transactions", str(cur.count), str(prev.count), f"{cmp.count.absolute:+d} ({_pct(cmp.count.percent)})"),
        (
            "Average daily spend",
            money(cur.average_daily_spend),
            money(prev.average_daily_spend),
            money_change(cmp.average_daily_spend),
        ),
    ]


def _table(
    ax: Axes,
    top: float,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    xs: Sequence[float],
    text: str,
    right: Sequence[bool],
) -> float:
    """Draw a simple ruled table in axes coordinates from ``top`` down; returns where it ends.

    ``xs`` holds each column's anchor (its left edge, or its right edge where ``right``) and, last,
    the right end of the rule under the headers.
    """
    line = 0.045
    for i, head in enumerate(headers):
        ax.text(
            xs[i], top, head, ha="right" if right[i] else "left", va="top", fontsize=10, fontweight="bold", color=text
        )
    y = top - line
    ax.plot([xs[0], xs[-1]], [y + 0.012, y + 0.012], color="#c8cbd2", linewidth=0.8)
    for row in rows:
        for i, cell in enumerate(row):
            ax.text(xs[i], y, cell, ha="right" if right[i] else "left", va="top", fontsize=10, color=text)
        y -= line
    return y


def _kpi_page(fig: Figure, board: Dashboard, number_format: str, description: str, generated: dt.date) -> None:
    ax = fig.add_axes((0.06, 0.04, 0.88, 0.9))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    text, muted = "#262730", "#6b6f7b"
    cmp = board.comparison
    ax.text(0, 1.0, "Expense report", fontsize=22, fontweight="bold", va="top", color=text)
    subtitle = f"{board.period.label()}  ·  {board.currency}  ·  compared with {cmp.previous.period.label()}"
    ax.text(0, 0.93, subtitle, fontsize=11, va="top", color=muted)
    notes = [f"Filters: {description}" if description else "All transactions"]
    if board.excluded and not board.left_out:
        notes.append(f"{board.excluded} transaction(s) in other currencies are not included")
    notes.append(f"Generated {generated.isoformat()} by Expense Tracker")
    ax.text(0, 0.885, "  ·  ".join(notes), fontsize=9, va="top", color=muted)
    for n, line in enumerate(board.left_out.messages()[:3]):  # what conversion left out, and how to add a rate
        ax.text(0, 0.86 - 0.018 * n, _clip(line.replace("`", ""), 150), fontsize=7.5, va="top", color="#b45309")

    # The KPI table: one xs entry per column plus the right edge of the rule.
    y = _table(
        ax,
        0.8,
        ["", "This period", "Previous period", "Change"],
        kpi_rows(board, number_format),
        [0.0, 0.42, 0.62, 0.98, 0.98],
        text,
        [False, True, True, True],
    )
    code = board.currency
    top = y - 0.05
    categories = collapse_other(board.by_category, TOP_CATEGORIES)
    cat_rows = [
        (str(c), format_money(int(m), code, number_format), f"{p} %")
        for c, m, p in zip(categories["category"], categories["amount_minor"], categories["percent"], strict=True)
    ] or [("No expenses", "", "")]
    ax.text(0, top + 0.045, "Spending by category", fontsize=12, fontweight="bold", va="top", color=text)
    _table(ax, top, ["Category", "Spent", "Share"], cat_rows, [0.0, 0.3, 0.4, 0.4], text, [False, True, True])
    largest = board.largest.head(TOP_EXPENSES)
    big_rows = [
        (d.date().isoformat(), _clip(str(c), 18), _clip(str(n), 24), format_money(int(m), code, number_format))
        for d, c, n, m in zip(
            largest["date"], largest["category"], largest["note"], largest["amount_minor"], strict=True
        )
    ] or [("No expenses", "", "", "")]
    ax.text(0.5, top + 0.045, "Largest expenses", fontsize=12, fontweight="bold", va="top", color=text)
    _table(
        ax,
        top,
        ["Date", "Category", "Note", "Amount"],
        big_rows,
        [0.5, 0.61, 0.75, 0.98, 0.98],
        text,
        [False, False, False, True],
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _headline(ax: Axes, board: Dashboard, number_format: str) -> None:
    ax.set_axis_off()
    cur = board.comparison.current
    code = board.currency
    ax.text(0, 0.95, "Expense Tracker", fontsize=20, fontweight="bold", va="top", color="#262730")
    ax.text(0, 0.35, f"{board.period.label()}  ·  {code}", fontsize=11, va="top", color="#6b6f7b")
    items = [
        ("Income", format_money(cur.income, code, number_format)),
        ("Expenses", format_money(cur.expenses, code, number_format)),
        ("Net", format_money(cur.net, code, number_format)),
        ("Savings rate", _rate(cur.savings_percent)),
        ("Transactions", str(cur.count)),
    ]
    for i, (name, value) in enumerate(items):
        x = 0.32 + i * 0.14
        ax.text(x, 0.95, name, fontsize=10, va="top", color="#6b6f7b")
        ax.text(x, 0.6, value, fontsize=15, fontweight="bold", va="top", color="#262730")


# --- writing ----------------------------------------------------------------------------------------------------


def _chart_pages(board: Dashboard, colors: Mapping[str, str] | None, number_format: str) -> list[Figure]:
    return [
        chart.figure(board, colors, number_format=number_format, figsize=PAGE_SIZE, scale=PAGE_TEXT_SCALE)
        for chart in CHARTS
    ]


def _write_pdf(
    handle: object,
    board: Dashboard,
    colors: Mapping[str, str] | None,
    number_format: str,
    description: str,
    net_worth: NetWorth | None,
) -> None:
    from matplotlib import rc_context
    from matplotlib.backends.backend_pdf import PdfPages

    from tracker.charts.mpl_charts import new_figure

    generated = dt.date.today()
    metadata = {"Title": f"Expense report {board.period.label()}", "Creator": "Expense Tracker"}
    # Type 3 fonts (matplotlib's default, pinned against a user's matplotlibrc): the text stays searchable and
    # extractable, and writing is about a second faster than with TrueType (42) subsetting.
    with rc_context({"pdf.fonttype": 3}), PdfPages(handle, metadata=metadata) as pdf:
        first = new_figure(PAGE_SIZE)
        first.set_layout_engine("none")
        _kpi_page(first, board, number_format, description, generated)
        pdf.savefig(first)
        for page in _chart_pages(board, colors, number_format):
            pdf.savefig(page)
        if net_worth is not None:
            from tracker.charts.mpl_charts import net_worth_line

            days, values = net_worth
            pdf.savefig(
                net_worth_line(
                    days,
                    values,
                    board.currency,
                    number_format=number_format,
                    title=NET_WORTH_TITLE,
                    figsize=PAGE_SIZE,
                    scale=PAGE_TEXT_SCALE,
                )
            )


def dashboard_figure(board: Dashboard, colors: Mapping[str, str] | None, number_format: str = "1,234.56") -> Figure:
    """The dashboard image: headline numbers over the four charts, :data:`PNG_SIZE` pixels at 100 dpi."""
    from tracker.charts import mpl_charts as mc

    fig = mc.new_figure((PNG_SIZE[0] / PNG_DPI, PNG_SIZE[1] / PNG_DPI), dpi=PNG_DPI)
    parts = fig.subfigures(2, 1, height_ratios=(0.09, 0.91), squeeze=False)
    top, body = parts[0, 0], parts[1, 0]
    _headline(top.add_axes((0.03, 0.0, 0.95, 1.0)), board, number_format)
    for ax, chart in zip(body.subplots(2, 2).flat, CHARTS, strict=True):
        chart.draw(ax, board, colors, number_format=number_format)
    return fig


def write_report(
    output: str | os.PathLike[str],
    frame: pd.DataFrame,
    period: Period,
    currency: str,
    *,
    colors: Mapping[str, str] | None = None,
    number_format: str = "1,234.56",
    description: str = "",
    as_of: dt.date | None = None,
    net_worth: NetWorth | None = None,
    rates: RateBook | None = None,
) -> Path:
    """Write a PDF or PNG report of ``period`` and return its path.

    Args:
        output: a path ending in ``.pdf`` or ``.png``.
        frame: transactions filtered by everything except the dates (see :mod:`tracker.analysis`).
        period: the dates the report covers.
        currency: the currency reported (rows in others are counted as excluded).
        colors: ``{category: "#rrggbb"}`` from :func:`tracker.charts.colors.category_colors`.
        number_format: one of :data:`tracker.money.NUMBER_FORMATS`.
        description: the filters in words, printed on the first page.
        as_of: the day the month-to-date chart runs to (default: the period's end, or today if earlier).
        net_worth: net worth in ``currency`` over time (:func:`tracker.conversion.net_worth_in` at :func:`tracker.accounts.net_worth_days`): a last PDF page charts it.
        rates: convert every row into ``currency`` (:mod:`tracker.conversion`); the first page says what had no rate.

    Raises:
        ValidationError: the extension is not .pdf/.png, or the file cannot be written.
    """
    target = check_output(output)
    today = dt.date.today()
    board = dashboard(frame, period, currency, as_of=as_of or min(period.end, max(today, period.start)), rates=rates)
    kind = target.suffix.lower()
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if kind == ".pdf":
                _write_pdf(handle, board, colors, number_format, description, net_worth)
            else:
                dashboard_figure(board, colors, number_format).savefig(handle, format="png", dpi=PNG_DPI)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except OSError as exc:
        raise ValidationError("output", str(output), f"cannot be written ({exc.strerror or exc})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
    return target
