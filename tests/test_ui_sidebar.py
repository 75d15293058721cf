"""The filter sidebar: the periods of the presets and the view's line (no app), the account and transfer filters
(in AppTest)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tracker import accounts
from tracker.analysis import Period
from tracker.filters import Filter
from tracker.ledger import Ledger
from tracker.ui import sidebar
from tracker.ui.formatting import md

DAY = dt.date(2024, 3, 15)  # a leap year


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("This month", Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))),
        ("Last month", Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
        ("Last 30 days", Period(dt.date(2024, 2, 15), dt.date(2024, 3, 15))),
        ("This year", Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31))),
        ("All time", None),
    ],
)
def test_preset_periods(preset: str, expected: Period | None) -> None:
    assert sidebar.preset_period(preset, DAY) == expected


def test_last_month_in_january_is_december() -> None:
    assert sidebar.preset_period("Last month", dt.date(2025, 1, 10)) == Period(
        dt.date(2024, 12, 1), dt.date(2024, 12, 31)
    )


def test_every_preset_but_custom_is_known() -> None:
    assert [p for p in sidebar.PRESETS if sidebar.preset_period(p, DAY) is None] == ["All time", "Custom range"]


def test_view_dates_and_description() -> None:
    flt = Filter.build(categories=["Food", "Rent"], tags=["a", "b"], tag_mode="all", type="expense", text="lunch")
    view = sidebar.View(flt, Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31)), "This month")
    assert (view.dated.start, view.dated.end) == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert view.filter.start is None
    assert sidebar.describe_view(view) == md(
        "This month (2024-03-01 – 2024-03-31) · Food, Rent · tagged #a and #b · expenses only · matching “lunch”"
    )
    assert sidebar.describe_view(sidebar.View(Filter(), None, "All time")) == "All time"
    assert view.key() != sidebar.View(flt, None, "All time").key()


def test_accounts_and_transfers_in_the_description() -> None:
    flt = Filter.build(accounts=["Checking"], type="transfer")
    view = sidebar.View(flt, None, "All time")
    assert sidebar.describe_view(view) == md("All time · account Checking · transfers only")
    assert view.account == "Checking"
    both = sidebar.View(Filter.build(accounts=["Checking", "Euro"]), None, "All time")
    assert sidebar.describe_view(both) == md("All time · accounts Checking, Euro")
    assert both.account is None
    assert sidebar.View(Filter(), None, "All time").account is None
    assert sidebar.KINDS["Transfers only"] == "transfer"


# -- in the app ------------------------------------------------------------------------------------

APP = Path(__file__).resolve().parents[1] / "tracker" / "ui" / "app.py"


@pytest.fixture
def banked(ledger: Ledger) -> Ledger:
    """Checking and Savings (USD), Euro (EUR): an expense in each, one transfer from Checking to Savings."""
    today = dt.date.today()
    accounts.add_account(ledger, "Checking", currency="USD")
    accounts.add_account(ledger, "Savings", kind="savings", currency="USD")
    accounts.add_account(ledger, "Euro", currency="EUR")
    ledger.add_expense("1.00", category="Food", date=today, account="Checking")
    ledger.add_expense("2.00", category="Food", date=today, account="Savings")
    ledger.add_expense("3.00", category="Food", date=today, account="Euro")
    accounts.add_transfer(ledger, "4.00", source="Checking", target="Savings", date=today)
    return ledger


def open_transactions() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/transactions.py").run()
    assert not at.exception, at.exception
    return at


def amounts(at: AppTest) -> list[str]:
    return sorted(at.data_editor[0].value["amount"])


def test_the_account_filter_narrows_the_rows_and_empty_means_all(banked: Ledger) -> None:
    at = open_transactions()
    box = at.multiselect(key="tx_accounts")
    assert box.options == ["Checking", "Savings", "Euro"]
    assert amounts(at) == ["1.00", "2.00", "3.00", "4.00", "4.00"]
    box.set_value(["Savings"]).run()
    assert not at.exception
    assert amounts(at) == ["2.00", "4.00"]  # its expense and the transfer in
    assert at.data_editor[0].value["transfer"].tolist().count("from Checking") == 1
    at.multiselect(key="tx_accounts").set_value(["Euro", "Checking"]).run()
    assert amounts(at) == ["1.00", "3.00", "4.00"]
    at.multiselect(key="tx_accounts").set_value([]).run()
    assert len(amounts(at)) == 5


def test_transfers_only_shows_both_sides_and_nothing_else(banked: Ledger) -> None:
    at = open_transactions()
    at.radio(key="tx_type").set_value("Transfers only").run()
    assert not at.exception
    shown = at.data_editor[0].value
    assert sorted(zip(shown["account"], shown["transfer"], strict=True)) == [
        ("Checking", "to Savings"),
        ("Savings", "from Checking"),
    ]
    at.radio(key="tx_type").set_value("Expenses only").run()
    assert amounts(at) == ["1.00", "2.00", "3.00"]


def test_the_account_filter_is_kept_across_pages(banked: Ledger) -> None:
    at = open_transactions()
    at.multiselect(key="tx_accounts").set_value(["Euro"]).run()
    at.switch_page("app_pages/settings.py").run()
    at.switch_page("app_pages/transactions.py").run()
    assert at.multiselect(key="tx_accounts").value == ["Euro"]
    assert amounts(at) == ["3.00"]
