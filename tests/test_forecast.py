"""The forecast: today's balance, entered later rows and recurring occurrences, and the labelled estimate."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tracker.accounts import add_account, add_transfer
from tracker.errors import ValidationError
from tracker.forecast import forecast
from tracker.ledger import Ledger
from tracker.recurring import add_template, make_template, post_due

TODAY = dt.date(2026, 12, 3)


@pytest.fixture
def planned(ledger: Ledger) -> Ledger:
    add_account(ledger, "Checking", kind="checking", currency="USD", opening="1000", opening_date="2026-01-01")
    add_account(ledger, "Savings", kind="savings", currency="USD")
    ledger.add("expense", "300", category="Food", date="2026-09-10", account="Checking")
    ledger.add("expense", "600", category="Food", date="2026-11-10", account="Checking")
    ledger.add("expense", "999", category="Food", date="2026-08-31", account="Checking")  # before the 3 months
    ledger.add("expense", "50", category="Gift", date="2026-12-20", account="Checking", note="for Ann")
    ledger.add("expense", "70", category="Gift", date="2027-03-01", account="Checking")  # after --until
    ledger.add("expense", "11", category="Food", date="2026-12-24", account="Savings")  # another account
    add_template(
        ledger,
        make_template(
            type="income",
            amount="2000",
            category="Salary",
            currency="USD",
            start="2026-11-25",
            account="Checking",
            today=TODAY,
        ),
    )
    add_template(  # no account: posts into the default account (the first declared, Checking)
        ledger,
        make_template(type="expense", amount="800", category="Rent", currency="USD", start="2026-11-01", today=TODAY),
    )
    add_template(
        ledger,
        make_template(
            type="expense",
            amount="5",
            category="Fees",
            currency="USD",
            start="2026-12-01",
            account="Savings",
            today=TODAY,
        ),
    )
    post_due(ledger, TODAY)  # Nov 1, Dec 1 rent and Nov 25 salary are posted: not counted again
    add_transfer(ledger, "100", source="Checking", target="Savings", date="2026-12-10")
    return ledger


def test_known_events_and_the_projected_balance(planned: Ledger) -> None:
    found = forecast(planned, "checking", "2027-02-28", today=TODAY)
    # 1000 + (2000 - 800 - 800) posted - 300 - 600 - 999 = -499 today
    assert found.balance == -49900
    shown = found.to_json()
    assert [(e["date"], e["amount"], e["source"]) for e in shown["events"]] == [
        ("2026-12-10", "-100.00", "entered"),
        ("2026-12-20", "-50.00", "entered"),
        ("2026-12-25", "2000.00", "recurring"),
        ("2027-01-01", "-800.00", "recurring"),
        ("2027-01-25", "2000.00", "recurring"),
        ("2027-02-01", "-800.00", "recurring"),
        ("2027-02-25", "2000.00", "recurring"),
    ]
    assert shown["events"][1]["what"] == "for Ann"
    assert shown["events"][-1]["balance"] == shown["projected_balance"] == "3751.00"
    assert found.projected == -49900 - 10000 - 5000 + 3 * 200000 - 2 * 80000


def test_the_estimate_is_apart_and_from_three_full_months(planned: Ledger) -> None:
    found = forecast(planned, "Checking", "2027-02-28", today=TODAY)
    # September to November: 300 + 600 of spending that no template posted (rent is recurring) over 91 days
    assert found.based_on == (dt.date(2026, 9, 1), dt.date(2026, 11, 30))
    assert found.daily_spending == Fraction(90000, 91)
    days = (dt.date(2027, 2, 28) - TODAY).days
    assert found.estimated == found.projected - round(Fraction(90000 * days, 91))
    estimate = found.to_json()["estimate"]
    assert estimate["monthly_spending"] == "301.03"
    assert "estimate" in estimate["label"]
    points = found.points()
    assert points[0] == (TODAY, found.balance, found.balance)
    assert points[-1] == (dt.date(2027, 2, 28), found.projected, found.estimated)
    assert [p[0] for p in points] == sorted({p[0] for p in points})  # one point a day, in order


def test_another_account_sees_only_its_own(planned: Ledger) -> None:
    found = forecast(planned, "Savings", "2026-12-31", today=TODAY)
    assert found.balance == -500  # the fee of Dec 1, posted; the next one (Jan 1) is after --until
    assert [(e.date.isoformat(), e.amount, e.source) for e in found.events] == [
        ("2026-12-10", 10000, "entered"),
        ("2026-12-24", -1100, "entered"),
    ]
    assert found.based_on is None
    assert found.estimated == found.projected


def test_bad_dates_and_accounts_are_refused(planned: Ledger) -> None:
    for until, words in (("2026-12-03", "after today"), ("soon", "YYYY-MM-DD"), ("2040-01-01", "10 years")):
        with pytest.raises(ValidationError, match=words) as caught:
            forecast(planned, "Checking", until, today=TODAY)
        assert caught.value.field == "until"
    with pytest.raises(ValidationError, match="Nowhere"):
        forecast(planned, "Nowhere", "2027-01-01", today=TODAY)


def test_cli_forecast(data_dir: Path, cli: Any) -> None:
    ledger = Ledger(data_dir)
    add_account(ledger, "Checking", kind="checking", currency="USD", opening="10")
    add_template(ledger, make_template(type="income", amount="5", category="Pocket money", currency="USD",
                                       every="week", start=dt.date.today() + dt.timedelta(days=1)))  # fmt: skip
    until = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    shown = json.loads(cli("forecast", "Checking", "--until", until, "--format", "json", check=True).stdout)
    assert shown["balance"] == "10.00"
    assert shown["projected_balance"] == "20.00"  # two weekly occurrences: tomorrow and a week later
    text = cli("forecast", "Checking", "--until", until, check=True).stdout
    assert f"projected balance on {until}: 20.00 USD" in text
    bad = cli("forecast", "Checking", "--until", "later")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "expense-tracker: until: 'later' is not a date in the form YYYY-MM-DD"
