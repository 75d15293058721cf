"""Dashboard: the numbers of the chosen period against the previous one, net worth, where the money went, budgets."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from tracker import analysis
from tracker.accounts import net_worth_days
from tracker.analysis import Change, Period
from tracker.charts import plotly_charts
from tracker.charts.dashboard import CHARTS
from tracker.conversion import net_worth_in, rate_book, reporting_currency
from tracker.ledger import Ledger
from tracker.rates import RateBook, how_to_add
from tracker.ui import session, sidebar
from tracker.ui.caches import cached, data_key, shared_cached
from tracker.ui.formatting import guard, md, money, number_format, percent, show_flash, signed_money


@st.cache_data(max_entries=64, show_spinner=False)
def compute(
    data_dir: str,
    revision: int,
    view_key: str,
    currency: str,
    today: dt.date,
    _frame: pd.DataFrame,
    _period: Period,
    _rates: RateBook,
) -> analysis.Dashboard:
    """Every number and series of the dashboard, every row converted into ``currency``; cached on (data folder,
    revision, filters, currency, day): the rates are part of the ledger's revision."""
    return analysis.dashboard(_frame, _period, currency, as_of=min(today, _period.end), rates=_rates)


def empty_state() -> None:
    """No transactions at all yet: say what the app does and where to start."""
    with st.container(border=True):
        st.subheader("Welcome! Let's record your first transaction.")
        st.write(
            "Add what you spend and what you earn, and this page shows where the money goes: "
            "totals for the month, spending by category, and how your balance moves."
        )
        if st.button(
            "Add your first expense or income", type="primary", icon=":material/add_circle:", key="dash_start"
        ):
            st.switch_page("app_pages/transactions.py")


def money_metric(
    where: Any, label: str, minor: int, change: Change | None, board: analysis.Dashboard, led: Ledger, **kw: Any
) -> None:
    """A money KPI with its change against the previous period (``None``: nothing to compare with)."""
    cur = board.currency
    text, tip = None, kw.pop("help", None)
    if change is not None:
        text = signed_money(change.absolute, cur, led) if change.absolute else "no change"
        before = money(minor - change.absolute, cur, led)
        pct = "" if change.percent is None else f" ({change.percent:+.1f} %)"
        tip = " ".join(filter(None, [tip, f"Previous period: {before}{pct}."]))
    arrow = "auto" if change is None or change.absolute else "off"
    where.metric(label, money(minor, cur, led), text, delta_arrow=arrow, border=True, help=tip, **kw)


def fit_values(shown: list[str]) -> None:
    """Size the KPI values to their cards: Streamlit cuts a value that does not fit (``$67,3…``).

    The font shrinks with the card's width (a CSS container query) so the longest value fits whole,
    never growing beyond Streamlit's own size.
    """
    longest = max(6, *map(len, shown))
    per_char = 0.6  # em: the width of a digit in the app's font, with a margin for "$", "," and "-"
    scale = 100 / (per_char * longest)
    st.html(
        "<style>[data-testid='stMetric']{container-type:inline-size}"
        f"[data-testid='stMetricValue']{{font-size:min(2.25rem,{scale:.1f}cqi)}}</style>"
    )


def kpis(board: analysis.Dashboard, led: Ledger, compare: bool, also: Sequence[str] = ()) -> None:
    """Income, expenses, net, savings rate and daily spend, with their change (``also``: the other KPI values
    shown on the page, sized alike)."""
    cmp = board.comparison
    now = cmp.current
    cur = board.currency
    fit_values(
        [money(m, cur, led) for m in (now.income, now.expenses, now.net, now.average_daily_spend)]
        + [percent(now.savings_percent), *also]
    )
    cols = st.columns(5)
    money_metric(cols[0], "Income", now.income, cmp.income if compare else None, board, led)
    money_metric(
        cols[1], "Expenses", now.expenses, cmp.expenses if compare else None, board, led, delta_color="inverse"
    )
    money_metric(cols[2], "Net", now.net, cmp.net if compare else None, board, led)
    points = cmp.savings_points if compare else None
    cols[3].metric(
        "Savings rate",
        percent(now.savings_percent),
        None if points is None else f"{points:+.1f} pts",
        delta_arrow="auto" if points else "off",
        border=True,
        help="Net as a share of income.",
    )
    money_metric(
        cols[4],
        "Daily spend",
        now.average_daily_spend,
        cmp.average_daily_spend if compare else None,
        board,
        led,
        delta_color="inverse",
        help=f"Expenses divided by the {now.period.days} days of the period.",
    )
    compared = f", compared with {cmp.previous.period.label()}" if compare else ""
    st.caption(f"{now.count:,} transaction{'s' if now.count != 1 else ''} in {board.currency}{compared}.")
    for line in board.left_out.messages():
        st.warning(md(line), icon=":material/currency_exchange:")


def figures(board: analysis.Dashboard, led: Ledger, board_key: object) -> dict[str, Any]:
    """The dashboard's Plotly figures (:data:`tracker.charts.dashboard.CHARTS`), built once per (data, board, theme, number format) in the process.

    ``board_key`` says what ``board`` was computed from besides the data (view, currency, day, period).

    Building a figure validates every property (tens of milliseconds each); a rerun, another tab or a
    page switch back reuses them. Nobody modifies them afterwards.
    """
    from tracker.charts.colors import category_colors

    style = {"theme": session.current_theme(), "number_format": number_format(led)}

    def build() -> dict[str, Any]:
        colors = category_colors(led.categories(), led.meta("category_colors"))
        return {chart.key: chart.plotly(board, colors, **style) for chart in CHARTS}

    return shared_cached("dash_figures", led, (board_key, tuple(sorted(style.items()))), build)


def charts(board: analysis.Dashboard, led: Ledger, board_key: object) -> None:
    """Spending by category, income vs expenses over time, the balance, this month against last month: two a row."""
    figs = figures(board, led, board_key)
    for row in range(0, len(CHARTS), 2):
        for column, chart in zip(st.columns(2), CHARTS[row : row + 2], strict=False):
            with column, st.container(border=True):
                st.markdown(f"**{chart.heading(board)}**")
                st.plotly_chart(
                    figs[chart.key],
                    key=f"dash_{chart.key}",
                    theme=None,
                    config={"displaylogo": False, "displayModeBar": False},
                )


def details(board: analysis.Dashboard, led: Ledger) -> None:
    """The largest expenses and the categories that grew most."""
    cur = board.currency
    left, right = st.columns(2)
    with left:
        st.markdown("**Largest expenses**")
        if board.largest.empty:
            st.caption("None in this period.")
        else:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Date": board.largest["date"].dt.date,
                        "Category": board.largest["category"],
                        "Amount": [money(m, cur, led) for m in board.largest["amount_minor"]],
                        "Note": board.largest["note"],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
    with right:
        st.markdown("**Growing categories**")
        if board.growth.empty:
            st.caption("No category grew against the previous period.")
        else:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Category": board.growth["category"],
                        "Now": [money(m, cur, led) for m in board.growth["current"]],
                        "Before": [money(m, cur, led) for m in board.growth["previous"]],
                        "Change": [signed_money(m, cur, led) for m in board.growth["change"]],
                    }
                ),
                hide_index=True,
                width="stretch",
            )


@dataclasses.dataclass(frozen=True)
class NetWorth:
    """Net worth in the dashboard's currency: at the end of every month up to ``day`` (the last point is ``day``),
    and at the end of the previous period (``None``: nothing to compare with)."""

    currency: str
    day: dt.date
    days: Sequence[dt.date]
    values: Sequence[int]
    before: int | None
    missing: Mapping[str, int] = dataclasses.field(default_factory=dict)  # currency -> points left out (no rate)

    @property
    def now(self) -> int:
        return int(self.values[-1]) if self.values else 0


def net_worth(led: Ledger, currency: str, day: dt.date, before: dt.date | None, rates: RateBook) -> NetWorth:
    """Every account's net worth in ``currency`` over time, every currency converted (cached per revision)."""

    def compute() -> NetWorth:
        days = net_worth_days(led, day)
        values, missing = net_worth_in(led, currency, days, rates)
        then = net_worth_in(led, currency, [before], rates)[0][0] if before is not None else None
        return NetWorth(currency, day, days, values, then, missing)

    return cached("dash_net_worth", led, (currency, day, before), compute)


def net_worth_block(worth: NetWorth, led: Ledger) -> None:
    """The net-worth KPI next to its chart over the months."""
    with st.container(border=True):
        left, right = st.columns([1, 3], vertical_alignment="center")
        change = None if worth.before is None else worth.now - worth.before
        left.metric(
            f"Net worth ({worth.currency})",
            money(worth.now, worth.currency, led),
            None if change is None else signed_money(change, worth.currency, led) if change else "no change",
            delta_arrow="auto" if change else "off",
            help=f"Every account's balance in {worth.currency} on {worth.day:%Y-%m-%d}: assets minus what is owed "
            "on credit cards and loans (closed accounts too; the filters do not apply)."
            + ("" if worth.before is None else f" Before the period: {money(worth.before, worth.currency, led)}."),
        )
        left.caption(f"On {worth.day:%Y-%m-%d}, all accounts.")
        if worth.missing:
            left.warning(
                md(
                    f"Left out for want of an exchange rate to {worth.currency}: {', '.join(sorted(worth.missing))} "
                    f"({how_to_add(sorted(worth.missing)[0], worth.currency)})."
                ),
                icon=":material/currency_exchange:",
            )
        style = {"theme": session.current_theme(), "number_format": number_format(led)}
        fig = shared_cached(
            "dash_net_worth_figure",
            led,
            (worth.currency, worth.day, tuple(sorted(style.items()))),
            lambda: plotly_charts.net_worth_line(worth.days, worth.values, worth.currency, **style),
        )
        with right:
            st.markdown("**Net worth over time**")
            st.plotly_chart(
                fig, key="dash_net_worth", theme=None, config={"displaylogo": False, "displayModeBar": False}
            )


def budgets(led: Ledger, month: dt.date, today: dt.date) -> None:
    """The budgets of ``month`` (the month the dashboard's period ends in), when there are any."""
    try:
        from tracker import budgets as budget_module
    except ImportError:  # pragma: no cover - the module is part of the app
        return
    if not led.meta(budget_module.META_KEY):
        return  # no budget was ever set: nothing to show, and no need to index the month's spending
    statuses = cached("budgets", led, (month, today), lambda: budget_module.status(led, month, today=today))
    if not statuses:
        return
    st.markdown(f"**Budgets for {month:%B %Y}**")
    for s in statuses:
        amount = lambda minor, cur=s.currency: money(minor, cur, led)  # noqa: E731
        share = min(max(s.spent_minor / s.budget_minor, 0.0), 1.0) if s.budget_minor > 0 else 1.0
        rest = f"over by {amount(-s.left_minor)}" if s.over else f"{amount(s.left_minor)} left"
        st.progress(share, text=md(f"{s.category}: {amount(s.spent_minor)} of {amount(s.budget_minor)} · {rest}"))
        if s.over:
            st.error(md(f"{s.category} is over budget."), icon=":material/warning:")
        elif s.heading_over:
            projected = amount(s.projected_minor)
            st.warning(
                md(f"{s.category} is heading over budget: about {projected} by the end of the month."),
                icon=":material/trending_up:",
            )


def currency_choice(led: Ledger, frame: pd.DataFrame) -> str:
    """The currency shown: the reporting currency (Settings), or another one in use chosen in the sidebar."""
    preferred = reporting_currency(led)
    used = sorted({preferred, *analysis.currencies(frame)})
    if len(used) <= 1:
        return preferred
    return st.sidebar.selectbox(
        "Shown in", used, index=used.index(preferred), key="dash_currency", help="Every amount converted into it"
    )


with guard("The Dashboard"):
    led = session.ledger()
    today = dt.date.today()
    st.title("Dashboard")
    show_flash()
    if len(led.frame()) == 0:
        empty_state()
    else:
        view = sidebar.filter_sidebar("dash", led, today)
        frame = sidebar.undated_frame(led, view)
        currency = currency_choice(led, frame)
        period = view.period or Period.covering(frame, today=today)
        st.caption(sidebar.describe_view(view))
        rates = cached("dash_rates", led, None, lambda: rate_book(led))
        board = compute(*data_key(led), view.key(), currency, today, frame, period, rates)
        board_key = (view.key(), currency, today, period)
        # the day net worth and budgets are of: the period's end, or today if that is earlier (all time: today)
        as_of = min(today, period.end) if view.period is not None else today
        before = period.start - dt.timedelta(days=1) if view.period is not None else None
        worth = net_worth(led, currency, as_of, before, rates)
        if board.empty:
            st.info(
                "Nothing matches these filters in this period. Try another period or fewer filters.",
                icon=":material/filter_alt_off:",
            )
        kpis(board, led, compare=view.period is not None, also=[money(worth.now, currency, led)])
        with guard("Net worth"):
            net_worth_block(worth, led)
        budgets(led, as_of.replace(day=1), today)
        with guard("The charts"):
            charts(board, led, board_key)
        details(board, led)
