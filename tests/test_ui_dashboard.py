"""The Dashboard in AppTest: net worth (KPI and chart), the budgets of the period's month, the month-to-date heading."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tracker import accounts, budgets
from tracker.ledger import Ledger
from tracker.money import format_money

APP = Path(__file__).resolve().parents[1] / "tracker" / "ui" / "app.py"
TODAY = dt.date.today()
FIRST = TODAY.replace(day=1)
LAST_MONTH = (FIRST - dt.timedelta(days=1)).replace(day=1)
TWO_AGO = (LAST_MONTH - dt.timedelta(days=1)).replace(day=1)


def open_dashboard() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def shown(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def usd(minor: int) -> str:
    return format_money(minor, "USD")


def metric(at: AppTest, label: str) -> tuple[str, str]:
    found = next(m for m in at.metric if m.label == label)
    return found.value, found.delta


def headings(at: AppTest) -> list[str]:
    return [shown(m.value)[2:-2] for m in at.markdown if m.value.startswith("**") and m.value.endswith("**")]


@pytest.fixture
def worth(ledger: Ledger) -> Ledger:
    """Two months ago salary 2,000 (Main); last month food 150 (Main); this month rent 700 (Main); a card owing 300
    since two months ago; a EUR savings account of 1,000."""
    ledger.add_income("2000.00", category="Salary", date=TWO_AGO)
    ledger.add_expense("150.00", category="Food", date=LAST_MONTH.replace(day=10))
    ledger.add_expense("700.00", category="Rent", date=FIRST)
    accounts.add_account(ledger, "Visa", kind="credit-card", opening="300", opening_date=TWO_AGO)
    accounts.add_account(ledger, "Euro savings", kind="savings", currency="EUR", opening="1000")
    accounts.set_default_account(ledger, "Main")
    return ledger


def test_net_worth_kpi_of_the_period_end_with_its_change(worth: Ledger) -> None:
    at = open_dashboard()
    value, delta = metric(at, "Net worth (USD)")
    assert value == usd(200000 - 15000 - 70000 - 30000)
    assert delta == "-" + usd(70000)  # this month's rent, against the end of last month
    at.selectbox(key="dash_period").set_value("Last month").run()
    value, delta = metric(at, "Net worth (USD)")
    assert value == usd(200000 - 15000 - 30000)
    assert delta == "-" + usd(15000)
    at.selectbox(key="dash_period").set_value("All time").run()
    value, delta = metric(at, "Net worth (USD)")
    assert (value, delta) == (usd(200000 - 15000 - 70000 - 30000), "")  # all time: nothing to compare with


def test_net_worth_kpi_follows_the_dashboard_currency(worth: Ledger) -> None:
    worth.add_expense("10.00", category="Coffee", currency="EUR", account="Euro savings", date=TODAY)
    at = open_dashboard()
    at.selectbox(key="dash_currency").set_value("EUR").run()
    value, _ = metric(at, "Net worth (EUR)")
    assert value == "€990.00"
    assert not [m for m in at.metric if m.label == "Net worth (USD)"]


def test_net_worth_chart_has_every_month_end(worth: Ledger) -> None:
    at = open_dashboard()
    at.selectbox(key="dash_period").set_value("All time").run()
    (chart,) = [c for c in at.get("plotly_chart") if c.key == "dash_net_worth"]
    (trace,) = json.loads(chart.proto.spec)["data"]
    ends = [LAST_MONTH - dt.timedelta(days=1), FIRST - dt.timedelta(days=1), TODAY]
    assert trace["x"] == [d.isoformat() for d in ends]
    assert trace["customdata"] == [usd(200000 - 30000), usd(200000 - 30000 - 15000), usd(200000 - 30000 - 85000)]
    assert "Net worth over time" in headings(at)


def test_the_budget_block_shows_the_month_the_period_ends_in(worth: Ledger) -> None:
    budgets.set_budget(worth, "Food", "100.00", month=LAST_MONTH)
    budgets.set_budget(worth, "Rent", "1000.00", month=FIRST)
    at = open_dashboard()  # this month
    assert f"Budgets for {FIRST:%B %Y}" in headings(at)
    assert [shown(b.proto.text) for b in at.get("progress")] == [
        f"Rent: {usd(70000)} of {usd(100000)} · {usd(30000)} left"
    ]
    at.selectbox(key="dash_period").set_value("Last month").run()
    assert f"Budgets for {LAST_MONTH:%B %Y}" in headings(at)
    assert f"Budgets for {FIRST:%B %Y}" not in headings(at)
    bars = [shown(b.proto.text) for b in at.get("progress")]
    assert bars == [f"Food: {usd(15000)} of {usd(10000)} · over by {usd(5000)}"]
    assert any("Food is over budget" in shown(e.value) for e in at.error)


def test_month_to_date_says_so_far_only_for_the_current_month(worth: Ledger) -> None:
    at = open_dashboard()
    assert f"Spent in {FIRST:%B} so far, against {LAST_MONTH:%B}" in headings(at)
    at.selectbox(key="dash_period").set_value("Last month").run()
    assert f"Spent in {LAST_MONTH:%B}, against {TWO_AGO:%B}" in headings(at)
    assert not [h for h in headings(at) if "so far" in h]
