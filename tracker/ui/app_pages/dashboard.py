"""Dashboard: the numbers of the chosen period against the previous one, where the money went, budgets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from tracker import analysis
from tracker.analysis import Change, Period
from tracker.ledger import Ledger
from tracker.ui import state


@st.cache_data(max_entries=64, show_spinner=False)
def compute(
    data_dir: str, revision: int, view_key: str, currency: str, today: dt.date, _frame: pd.DataFrame, _period: Period
) -> analysis.Dashboard:
    """Every number and series of the dashboard; cached on (data folder, revision, filters, currency, day)."""
    return analysis.dashboard(_frame, _period, currency, as_of=min(today, _period.end))


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
        text = state.signed_money(change.absolute, cur, led) if change.absolute else "no change"
        before = state.money(minor - change.absolute, cur, led)
        pct = "" if change.percent is None else f" ({change.percent:+.1f} %)"
        tip = " ".join(filter(None, [tip, f"Previous period: {before}{pct}."]))
    arrow = "auto" if change is None or change.absolute else "off"
    where.metric(label, state.money(minor, cur, led), text, delta_arrow=arrow, border=True, help=tip, **kw)


def kpis(board: analysis.Dashboard, led: Ledger, compare: bool) -> None:
    """Income, expenses, net, savings rate and daily spend, with their change."""
    cmp = board.comparison
    now = cmp.current
    cols = st.columns(5)
    money_metric(cols[0], "Income", now.income, cmp.income if compare else None, board, led)
    money_metric(
        cols[1], "Expenses", now.expenses, cmp.expenses if compare else None, board, led, delta_color="inverse"
    )
    money_metric(cols[2], "Net", now.net, cmp.net if compare else None, board, led)
    points = cmp.savings_points if compare else None
    cols[3].metric(
        "Savings rate",
        state.percent(now.savings_percent),
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
    if board.excluded:
        st.caption(
            f"{board.excluded} transaction{'s' if board.excluded != 1 else ''} in other currencies "
            "are not included; choose their currency in the sidebar to see them."
        )


def charts(board: analysis.Dashboard, led: Ledger) -> None:
    """Spending by category, income vs expenses over time, the balance, this month against last month."""
    from tracker.charts import plotly_charts as pc
    from tracker.charts.colors import category_colors

    style = {"theme": state.current_theme(), "number_format": led.settings.get("number_format", "1,234.56")}
    cur = board.currency
    colors = state.cached("colors", led, None, lambda: category_colors(led.categories(), led.meta("category_colors")))

    def show(fig: Any, key: str) -> None:
        # Streamlit's Plotly has no template, so the axes must make room for their labels themselves.
        fig.update_xaxes(automargin=True)
        fig.update_yaxes(automargin=True)
        st.plotly_chart(fig, key=key, theme=None, config={"displaylogo": False, "displayModeBar": False})

    left, right = st.columns(2)
    with left, st.container(border=True):
        st.markdown("**Spending by category**")
        show(pc.spending_donut(board.by_category, cur, colors, **style), "dash_pie")
    with right, st.container(border=True):
        st.markdown("**Income and expenses**")
        show(pc.cash_flow_bars(board.cash_flow, cur, granularity=board.granularity, **style), "dash_bar")
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.markdown("**Balance over the period**")
        show(pc.balance_line(board.balance, cur, **style), "dash_line")
    with right, st.container(border=True):
        mtd = board.month_to_date
        st.markdown(f"**Spent in {mtd.month.start:%B} so far, against {mtd.last_month.start:%B}**")
        show(pc.month_to_date_lines(mtd, **style), "dash_mtd")


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
                        "Amount": [state.money(m, cur, led) for m in board.largest["amount_minor"]],
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
                        "Now": [state.money(m, cur, led) for m in board.growth["current"]],
                        "Before": [state.money(m, cur, led) for m in board.growth["previous"]],
                        "Change": [state.signed_money(m, cur, led) for m in board.growth["change"]],
                    }
                ),
                hide_index=True,
                width="stretch",
            )


def budgets(led: Ledger, today: dt.date) -> None:
    """This month's budgets, when there are any."""
    try:
        from tracker import budgets as budget_module
    except ImportError:  # pragma: no cover - the module is part of the app
        return
    statuses = state.cached("budgets", led, today, lambda: budget_module.status(led, today=today))
    if not statuses:
        return
    st.markdown(f"**Budgets for {today:%B %Y}**")
    for s in statuses:
        money = lambda minor, cur=s.currency: state.money(minor, cur, led)  # noqa: E731
        share = min(max(s.spent_minor / s.budget_minor, 0.0), 1.0) if s.budget_minor > 0 else 1.0
        rest = f"over by {money(-s.left_minor)}" if s.over else f"{money(s.left_minor)} left"
        st.progress(share, text=state.md(f"{s.category}: {money(s.spent_minor)} of {money(s.budget_minor)} · {rest}"))
        if s.over:
            st.error(state.md(f"{s.category} is over budget."), icon=":material/warning:")
        elif s.heading_over:
            projected = money(s.projected_minor)
            st.warning(
                state.md(f"{s.category} is heading over budget: about {projected} by the end of the month."),
                icon=":material/trending_up:",
            )


def currency_choice(led: Ledger, frame: pd.DataFrame) -> str:
    """The currency shown: the default one, or a choice when several are in use."""
    used = analysis.currencies(frame)
    preferred = analysis.choose_currency(frame, led.default_currency)
    if len(used) <= 1:
        return preferred
    return st.sidebar.selectbox("Currency", used, index=used.index(preferred), key="dash_currency")


with state.guard("The Dashboard"):
    led = state.ledger()
    today = dt.date.today()
    st.title("Dashboard")
    state.show_flash()
    if len(led.frame()) == 0:
        empty_state()
    else:
        view = state.filter_sidebar("dash", led, today)
        frame = state.undated_frame(led, view)
        currency = currency_choice(led, frame)
        period = view.period or Period.covering(frame, today=today)
        st.caption(state.describe_view(view))
        board = compute(*state.data_key(led), view.key(), currency, today, frame, period)
        if board.empty:
            st.info(
                "Nothing matches these filters in this period. Try another period or fewer filters.",
                icon=":material/filter_alt_off:",
            )
        kpis(board, led, compare=view.period is not None)
        budgets(led, today)
        with state.guard("The charts"):
            charts(board, led)
        details(board, led)
