"""tracker.charts: the right traces, labels, values and colours in Plotly and Matplotlib."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from tracker.analysis import Dashboard, Period, by_category, dashboard
from tracker.charts import mpl_charts as mc
from tracker.charts import plotly_charts as pc
from tracker.charts.colors import (
    COLORS,
    OTHER_COLOR,
    PALETTE,
    category_color,
    category_colors,
    clean_color,
    color_for,
)
from tracker.charts.common import donut_slices, money_ticks, plotly_separators, short_money, text_color_on
from tracker.errors import ValidationError
from tracker.frame import empty_frame, frame_from_transactions
from tracker.model import make_transaction

DATA = Path(__file__).resolve().parent / "data" / "analysis"
NOV = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
ROOT = Path(__file__).resolve().parents[1]


def load_fixture() -> pd.DataFrame:
    rows = json.loads((DATA / "ledger_small.json").read_text(encoding="utf-8"))["transactions"]
    return frame_from_transactions(sorted((make_transaction(**row) for row in rows), key=lambda t: t.date))


@pytest.fixture(scope="module")
def board() -> Dashboard:
    return dashboard(load_fixture(), NOV, "EUR", as_of=dt.date(2026, 11, 20))


@pytest.fixture(scope="module")
def colors() -> dict[str, str]:
    return category_colors(["Food", "Fun", "Rent", "Salary", "Transport"], {"rent": "#123456"})


# --- colours ------------------------------------------------------------------------------------------------------


def test_category_colour_is_stable_across_processes_with_different_hash_seeds():
    code = "from tracker.charts.colors import category_colors as c; print(list(c(['Food','Rent','Travel','Fun']).values()))"
    seen = set()
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=60
        )
        seen.add(done.stdout)
    assert len(seen) == 1
    assert seen.pop().strip() == str(list(category_colors(["Food", "Rent", "Travel", "Fun"]).values()))


def test_category_colors_are_distinct_up_to_the_number_of_colours_and_case_insensitive():
    names = [f"Category {i}" for i in range(len(COLORS))]
    mapping = category_colors(names)
    assert len(set(mapping.values())) == len(COLORS)
    assert set(mapping.values()) <= set(COLORS)
    assert category_colors(["food"])["food"] == category_colors(["Food"])["Food"] == category_color("FOOD")
    assert category_color("Food") in PALETTE


def test_a_small_set_gets_palette_colours_and_keeps_them_when_others_are_filtered_away():
    names = ["Food", "Rent", "Fun", "Transport", "Salary"]
    full = category_colors(names)
    assert set(full.values()) <= set(PALETTE)
    assert len(set(full.values())) == len(names)
    # A name alone gets its preferred colour; in a set it keeps it unless another took the slot first.
    preferred = sum(full[n] == category_color(n) for n in names)
    assert preferred >= len(names) - 2


def test_user_colours_win_and_bad_stored_values_are_ignored():
    mapping = category_colors(["Food", "Rent"], {"food": "#AABBCC", "Rent": "not a colour", "Gone": "#000000"})
    assert mapping["Food"] == "#aabbcc"
    assert mapping["Rent"] in PALETTE
    assert color_for("FOOD", mapping) == "#aabbcc"
    assert color_for("Unknown", mapping) == category_color("Unknown")
    assert clean_color(" #A1B2C3 ") == "#a1b2c3"
    with pytest.raises(ValidationError, match="#rrggbb"):
        clean_color("red")


def test_a_user_colour_taken_from_the_palette_is_not_handed_out_twice():
    food = category_color("Food")
    mapping = category_colors(["Food", "Rent"], {"Rent": food})
    assert mapping["Rent"] == food
    assert mapping["Food"] != food


# --- money on axes ----------------------------------------------------------------------------------------------


def test_money_ticks_are_round_and_cover_the_range():
    ticks, labels = money_ticks(0, 2_000_00, "EUR")
    assert ticks == [0, 50_000, 100_000, 150_000, 200_000]
    assert labels == ["€0", "€500", "€1,000", "€1,500", "€2,000"]
    ticks, labels = money_ticks(-12_345, 40_000, "USD")
    assert ticks[0] <= -12_345
    assert ticks[-1] >= 40_000
    assert 0 in ticks
    assert labels[0].startswith("-$")
    ticks, labels = money_ticks(26_300_000, 27_300_000, "EUR", include_zero=False)
    assert ticks[0] <= 26_300_000
    assert ticks[-1] >= 27_300_000
    assert ticks[0] > 0
    assert len(ticks) <= 6
    assert money_ticks(0, 0, "EUR")[0] == [0, 100]
    assert money_ticks(0, 35, "EUR")[1] == ["€0", "€0.10", "€0.20", "€0.30", "€0.40"]
    assert money_ticks(0, 1500, "JPY", number_format="1.234,56")[1] == ["¥0", "¥500", "¥1.000", "¥1.500"]


def test_short_money_drops_only_a_zero_fraction():
    assert short_money(120_000, "EUR") == "€1,200"
    assert short_money(250, "USD") == "$2.50"
    assert short_money(-100_000, "CZK") == "-1,000 CZK"
    assert short_money(100_000, "EUR", "1.234,56") == "€1.000"
    assert plotly_separators("1.234,56") == ",."


def test_donut_slices_fold_the_rest_into_grey_other(board, colors):
    frame = frame_from_transactions(
        [
            make_transaction(type="expense", amount=str(100 - i), category=f"C{i}", currency="EUR", date="2026-11-02")
            for i in range(12)
        ]
    )
    slices = donut_slices(by_category(frame, NOV, "EUR"), None, max_slices=9)
    assert len(slices) == 9
    assert slices[-1].label == "Other"
    assert slices[-1].color == OTHER_COLOR
    assert sum(s.minor for s in slices) == sum(100 - i for i in range(12)) * 100
    assert sum(s.percent for s in slices) == 100


# --- Plotly -----------------------------------------------------------------------------------------------------


def test_plotly_donut(board, colors):
    fig = pc.spending_donut(board.by_category, "EUR", colors)
    (pie,) = fig.data
    assert pie.type == "pie"
    assert list(pie.labels) == ["Rent", "Food", "Fun", "Transport"]
    assert list(pie.values) == [300.0, 100.0, 75.0, 25.0]
    assert list(pie.marker.colors) == ["#123456", colors["Food"], colors["Fun"], colors["Transport"]]
    assert [c[0] for c in pie.customdata] == ["€300.00", "€100.00", "€75.00", "€25.00"]
    assert list(pie.text) == ["60.0%", "20.0%", "15.0%", "5.0%"]
    assert pie.insidetextfont.color[0] == "#ffffff"  # white on the dark user colour of Rent
    assert "€500.00" in fig.layout.annotations[0].text
    assert pie.hole > 0


def test_plotly_donut_when_nothing_was_spent():
    empty = dashboard(empty_frame(), NOV, "EUR")
    fig = pc.spending_donut(empty.by_category, "EUR")
    assert len(fig.data) == 0
    assert fig.layout.annotations[0].text == "No expenses in this period"


def test_plotly_cash_flow_bars(board):
    fig = pc.cash_flow_bars(board.cash_flow, "EUR", number_format="1.234,56")
    income, expenses = fig.data
    assert (income.type, income.name, expenses.name) == ("bar", "Income", "Expenses")
    assert fig.layout.barmode == "group"
    assert len(income.x) == 30
    assert income.x[0] == "Nov 1"
    assert income.y[0] == 2000.0
    assert expenses.y[1] == 100.0
    assert expenses.y[14] == 300.0
    assert income.customdata[0] == "€2.000,00"
    assert fig.layout.separators == ",."
    assert fig.layout.xaxis.title.text == "Day"
    assert list(fig.layout.yaxis.ticktext)[-1] == "€2.000"
    assert fig.layout.yaxis.range[1] >= 2000.0
    assert income.marker.color != expenses.marker.color


def test_plotly_balance_line_with_negative_money_ticks():
    frame = frame_from_transactions(
        [
            make_transaction(type="income", amount="100", category="Pay", currency="USD", date="2026-11-01"),
            make_transaction(type="expense", amount="350", category="Rent", currency="USD", date="2026-11-03"),
        ]
    )
    period = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 5))
    board = dashboard(frame, period, "USD")
    fig = pc.balance_line(board.balance, "USD")
    (line,) = fig.data
    assert line.type == "scatter"
    assert list(line.x) == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]
    assert list(line.y) == [100.0, 100.0, -250.0, -250.0, -250.0]
    assert list(line.customdata) == ["$100.00", "$100.00", "-$250.00", "-$250.00", "-$250.00"]
    assert fig.layout.yaxis.ticktext[0].startswith("-$")
    assert fig.layout.yaxis.range[0] <= -250.0


def test_plotly_month_to_date_lines(board):
    fig = pc.month_to_date_lines(board.month_to_date)
    last, this = fig.data
    assert last.name == "Last month (Oct 2026)"
    assert this.name == "This month (Nov 2026)"
    assert len(this.x) == 20
    assert len(last.x) == 31
    assert this.y[-1] == 425.0
    assert last.y[-1] == 370.0
    assert this.customdata[-1] == "€425.00"
    assert last.line.dash == "dash"


def test_plotly_themes_are_transparent_with_readable_text(board):
    light = pc.cash_flow_bars(board.cash_flow, "EUR", theme="light", title="Income vs expenses")
    dark = pc.cash_flow_bars(board.cash_flow, "EUR", theme="dark")
    for fig in (light, dark):
        assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)"
        assert fig.layout.plot_bgcolor == "rgba(0,0,0,0)"
    assert light.layout.font.color == "#262730"
    assert dark.layout.font.color == "#fafafa"
    assert light.layout.title.text == "Income vs expenses"
    assert dark.layout.title.text is None


# --- Matplotlib ---------------------------------------------------------------------------------------------------


def test_mpl_donut_matches_the_plotly_colours_and_numbers(board, colors):
    fig = mc.spending_donut(board.by_category, "EUR", colors)
    assert isinstance(fig, Figure)
    assert isinstance(fig.canvas, FigureCanvasAgg)
    ax = fig.axes[0]
    wedges = ax.patches
    assert len(wedges) == 4
    plotly_colors = list(pc.spending_donut(board.by_category, "EUR", colors).data[0].marker.colors)
    assert [to_hex(w.get_facecolor()) for w in wedges] == plotly_colors
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "Rent  €300.00  (60.0%)"
    texts = [t.get_text() for t in ax.texts]
    assert "€500.00" in texts
    assert "60.0%" in texts
    assert ax.get_title(loc="left") == "Spending by category"


def test_mpl_cash_flow_bars(board):
    fig = mc.cash_flow_bars(board.cash_flow, "EUR")
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == 60
    income, expenses = bars[:30], bars[30:]
    assert income[0].get_height() == 2000.0
    assert expenses[14].get_height() == 300.0
    assert to_hex(income[0].get_facecolor()) != to_hex(expenses[0].get_facecolor())
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "€2,000"
    assert next(t.get_text() for t in ax.get_xticklabels()) == "Nov 1"
    assert ax.get_xlabel() == "Day"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Income", "Expenses"]


def test_mpl_balance_and_month_to_date(board):
    fig = mc.balance_line(board.balance, "EUR")
    (line,) = fig.axes[0].get_lines()
    assert list(line.get_ydata())[:2] == [3130.0, 3030.0]
    assert list(line.get_ydata())[-1] == 2630.0
    fig.canvas.draw()
    assert all(t.get_text().startswith("€") for t in fig.axes[0].get_yticklabels())
    fig = mc.month_to_date_lines(board.month_to_date)
    last, this = fig.axes[0].get_lines()
    assert len(this.get_xdata()) == 20
    assert this.get_ydata()[-1] == 425.0
    assert len(last.get_xdata()) == 31
    assert last.get_ydata()[-1] == 370.0
    assert this.get_label() == "This month (Nov 2026)"


def test_mpl_charts_draw_on_empty_data_and_in_dark(tmp_path):
    empty = dashboard(empty_frame(), Period(dt.date(2026, 11, 1), dt.date(2026, 11, 1)), "EUR")
    figures = [
        mc.spending_donut(empty.by_category, "EUR", theme="dark"),
        mc.cash_flow_bars(empty.cash_flow, "EUR", theme="dark"),
        mc.balance_line(empty.balance, "EUR", theme="dark"),
        mc.month_to_date_lines(empty.month_to_date, theme="dark"),
    ]
    for n, fig in enumerate(figures):
        fig.savefig(tmp_path / f"{n}.png")
        assert (tmp_path / f"{n}.png").stat().st_size > 1000
    assert to_hex(figures[0].get_facecolor()) == "#0e1117"
    assert "No expenses in this period" in [t.get_text() for t in figures[0].axes[0].texts]


def test_charts_never_touch_pyplot_or_streamlit():
    code = (
        "import sys, datetime as dt\n"
        "from tracker.frame import empty_frame\n"
        "from tracker.analysis import dashboard, Period\n"
        "from tracker.charts import mpl_charts as mc, plotly_charts as pc\n"
        "b = dashboard(empty_frame(), Period(dt.date(2026,1,1), dt.date(2026,1,31)), 'EUR')\n"
        "mc.spending_donut(b.by_category, 'EUR').savefig('/dev/null', format='png')\n"
        "pc.spending_donut(b.by_category, 'EUR')\n"
        "bad = [m for m in ('matplotlib.pyplot', 'streamlit', 'webview') if m in sys.modules]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_importing_tracker_charts_is_light():
    code = "import sys, tracker.charts, tracker.charts.colors; print(sorted(m for m in ('plotly','matplotlib') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_more_categories_than_colours_still_get_distinct_stable_colours():
    names = [f"Category {i}" for i in range(len(COLORS) + 15)]
    mapping = category_colors(names)
    assert len(set(mapping.values())) == len(names)
    assert all(clean_color(c) == c for c in mapping.values())
    assert category_colors(list(reversed(names))) == mapping


def test_slice_labels_pick_a_readable_text_colour():
    assert text_color_on("#123456") == "#ffffff"
    assert text_color_on("#f1ce63") == "#1b1b1b"
    assert text_color_on("#ffffff") == "#1b1b1b"
    assert text_color_on("nonsense") == "#1b1b1b"


# --- the dashboard's declared charts ------------------------------------------------------------------------------


def test_the_declared_charts_are_the_dashboards_four_in_order(board):
    from tracker.charts.dashboard import CHARTS

    assert [c.key for c in CHARTS] == ["pie", "bar", "line", "mtd"]
    assert [c.heading(board) for c in CHARTS] == [
        "Spending by category",
        "Income and expenses",
        "Balance over the period",
        "Spent in November so far, against October",
    ]


def built_directly(module, board, colors, style):
    """The four dashboard figures as the page and the report built them before the declaration."""
    return [
        module.spending_donut(board.by_category, "EUR", colors, **style),
        module.cash_flow_bars(board.cash_flow, "EUR", granularity=board.granularity, **style),
        module.balance_line(board.balance, "EUR", **style),
        module.month_to_date_lines(board.month_to_date, **style),
    ]


def test_declared_plotly_figures_are_the_builders_figures(board, colors):
    from tracker.charts.dashboard import CHARTS

    style = {"theme": "dark", "number_format": "1.234,56"}
    direct = built_directly(pc, board, colors, style)
    declared = [chart.plotly(board, colors, **style) for chart in CHARTS]
    assert [f.to_dict() for f in declared] == [f.to_dict() for f in direct]


def texts_of(fig: Figure) -> list[tuple[str, list[str], list[str]]]:
    return [texts_of_axes(ax) for ax in fig.axes]


def test_declared_matplotlib_figures_and_drawings_are_the_builders(board, colors):
    from tracker.charts.dashboard import CHARTS

    style = {"number_format": "1.234,56", "scale": 1.35}
    direct = built_directly(mc, board, colors, style)
    declared = [chart.figure(board, colors, **style) for chart in CHARTS]
    assert [texts_of(f) for f in declared] == [texts_of(f) for f in direct]
    assert [[len(ax.patches), len(ax.lines)] for f in declared for ax in f.axes] == [
        [len(ax.patches), len(ax.lines)] for f in direct for ax in f.axes
    ]
    drawn = mc.new_figure()
    for ax, chart in zip(drawn.subplots(2, 2).flat, CHARTS, strict=True):
        chart.draw(ax, board, colors, number_format="1.234,56")
    direct_axes = [ax for f in direct for ax in f.axes]
    assert [texts_of_axes(ax) for ax in drawn.axes] == [texts_of_axes(ax) for ax in direct_axes]


def texts_of_axes(ax) -> tuple[str, list[str], list[str]]:
    legend = ax.get_legend()
    return (
        ax.get_title(),
        sorted(t.get_text() for t in ax.texts),
        [t.get_text() for t in legend.get_texts()] if legend else [],
    )


def test_the_declaration_loads_no_chart_library():
    code = "import sys, tracker.charts.dashboard; print(sorted(m for m in ('plotly','matplotlib') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


# -- net worth and the account forecast ---------------------------------------------------------------

NET_DAYS = [dt.date(2026, 9, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 15)]
NET_VALUES = [-25050, 120000, 98765]


def test_plotly_net_worth_line_has_the_exact_values():
    fig = pc.net_worth_line(NET_DAYS, NET_VALUES, "USD", number_format="1.234,56")
    (line,) = fig.data
    assert list(line.x) == ["2026-09-30", "2026-10-31", "2026-11-15"]
    assert list(line.y) == [-250.5, 1200.0, 987.65]
    assert list(line.customdata) == ["-$250,50", "$1.200,00", "$987,65"]
    assert fig.layout.yaxis.ticktext[0].startswith("-$")
    assert fig.layout.yaxis.range[0] <= -250.5
    assert fig.layout.yaxis.range[1] >= 1200.0
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)"


def test_plotly_net_worth_line_without_data_says_so():
    fig = pc.net_worth_line([], [], "EUR")
    assert not fig.data
    assert fig.layout.annotations[0].text == "No accounts in this currency"


def test_plotly_balance_forecast_lines_label_the_estimate():
    history = [(dt.date(2026, 10, 31), 50000), (dt.date(2026, 11, 20), 42000)]
    points = [
        (dt.date(2026, 11, 20), 42000, 42000),
        (dt.date(2026, 12, 1), 32000, 30900),
        (dt.date(2027, 2, 20), 32000, 23200),
    ]
    fig = pc.balance_forecast_lines(history, points, "EUR")
    balance, known, estimate = fig.data
    assert (balance.name, known.name) == ("Balance", "Forecast (entered and recurring)")
    assert "Estimate" in estimate.name
    assert estimate.line.dash == "dot"
    assert list(balance.y) == [500.0, 420.0]
    assert list(known.customdata) == ["€420.00", "€320.00", "€320.00"]
    assert known.line.shape == "hv"  # a balance changes on the day of each known event, not in between
    assert list(estimate.customdata) == ["€420.00", "€309.00", "€232.00"]
    assert fig.layout.annotations[0].text == "estimate: €232.00"
    assert fig.layout.yaxis.range[0] <= 232.0


def test_plotly_balance_forecast_lines_with_nothing():
    fig = pc.balance_forecast_lines([], [], "USD")
    assert not fig.data
    assert fig.layout.annotations[0].text == "Nothing to show yet"


def test_mpl_net_worth_line_has_the_exact_values(tmp_path):
    from matplotlib.dates import num2date

    fig = mc.net_worth_line(NET_DAYS, NET_VALUES, "USD")
    ax = fig.axes[0]
    (line,) = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 3]
    assert list(line.get_ydata()) == [-250.5, 1200.0, 987.65]
    assert [num2date(x).date() for x in line.get_xdata()] == NET_DAYS
    assert ax.get_title(loc="left") == "Net worth"
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("-$")
    assert all("$" in t for t in labels)
    assert [t.get_text() for t in ax.get_xticklabels() if t.get_text()]  # dates on the axis
    fig.savefig(tmp_path / "net.png")
    empty = mc.net_worth_line([], [], "USD", theme="dark")
    assert "No accounts in this currency" in [t.get_text() for t in empty.axes[0].texts]


def test_plotly_net_worth_of_one_day_spans_a_month_around_it():
    fig = pc.net_worth_line([dt.date(2026, 11, 15)], [5000], "USD")
    assert list(fig.layout.xaxis.range) == ["2026-10-31", "2026-11-30"]
    assert fig.data[0].customdata == ("$50.00",)
