"""The Accounts page in AppTest: net worth and balances, adding, editing, closing, deleting, reconciling, the forecast."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from pathlib import Path

from app_helpers import open_app
from app_helpers import plain as shown
from streamlit.testing.v1 import AppTest

from tracker import accounts
from tracker.ledger import Ledger
from tracker.money import format_money

PAGE = "app_pages/accounts.py"
TODAY = dt.date.today()


open_page = functools.partial(open_app, PAGE)


def usd(minor: int) -> str:
    return format_money(minor, "USD")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def errors(at: AppTest) -> list[str]:
    return [shown(e.value) for e in at.error]


def successes(at: AppTest) -> list[str]:
    return [shown(s.value) for s in at.success]


def table(at: AppTest, heading: str) -> list[dict[str, str]]:
    """The rows of the accounts table under ``heading`` (the tables are the page's only dataframes)."""
    kinds = ("Checking", "Savings", "Credit cards", "Cash", "Loans", "Other assets")
    headings = [m.value for m in at.markdown if m.value in {f"**{name}**" for name in kinds}]
    assert len(headings) == len(at.dataframe)
    return at.dataframe[headings.index(f"**{heading}**")].value.to_dict("records")


def click(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def test_an_empty_ledger_invites_to_add_accounts(data_dir: Path) -> None:
    at = open_page()
    assert [t.value for t in at.title] == ["Accounts"]
    assert any("No accounts yet" in i.value for i in at.info)
    assert not at.error
    assert not at.get("plotly_chart")  # no account: no reconcile and no chart yet


def test_net_worth_and_balances_by_kind_with_liabilities_negative(ledger: Ledger) -> None:
    ledger.add_income("1000.00", category="Salary", date=TODAY)
    ledger.add_expense("12.50", category="Food", date=TODAY, cleared=True)
    accounts.add_account(ledger, "Visa", kind="credit-card", opening="200", note="the blue card")
    accounts.add_account(ledger, "Old", kind="savings", opening="5")
    accounts.close_account(ledger, "Old")
    accounts.set_default_account(ledger, "Main")
    at = open_page()
    assert metrics(at)["Net worth (USD)"] == usd(100000 - 1250 - 20000 + 500)
    (visa,) = table(at, "Credit cards")
    assert visa == {
        "Account": "Visa",
        "Balance": usd(-20000),
        "Cleared": usd(-20000),
        "Reconciled": usd(-20000),
        "Status": "Open",
        "Note": "the blue card",
    }
    (main,) = table(at, "Checking")
    assert (main["Account"], main["Balance"], main["Cleared"], main["Status"]) == (
        "Main",
        usd(100000 - 1250),
        usd(-1250),
        "Open · default",
    )
    (old,) = table(at, "Savings")
    assert (old["Balance"], old["Status"]) == (usd(500), "Closed")
    assert any("negative balance" in c.value for c in at.caption)


def test_add_an_account_with_the_form(data_dir: Path) -> None:
    at = open_page()
    at.text_input(key="acc_add_name").input("Savings")
    at.selectbox(key="acc_add_kind").set_value("savings")
    at.selectbox(key="acc_add_currency").set_value("EUR")
    at.text_input(key="acc_add_opening").input("1,234.50")
    at.date_input(key="acc_add_opening_date").set_value(dt.date(2025, 1, 1))
    at.text_input(key="acc_add_note").input("rainy days")
    click(at, "Add account")
    assert not at.exception
    assert not at.error, errors(at)
    made = accounts.get_account(Ledger(data_dir), "Savings")
    assert (made.kind, made.currency, made.opening_minor, made.opening_date, made.note) == (
        "savings",
        "EUR",
        123450,
        dt.date(2025, 1, 1),
        "rainy days",
    )
    assert any("Added the account Savings" in s for s in successes(at))
    assert metrics(at)["Net worth (EUR)"] == "€1,234.50"
    assert at.text_input(key="acc_add_name").value == ""  # ready for the next one


def test_a_credit_card_opening_is_what_is_owed(data_dir: Path) -> None:
    at = open_page()
    at.text_input(key="acc_add_name").input("Visa")
    at.selectbox(key="acc_add_kind").set_value("credit-card")
    at.text_input(key="acc_add_opening").input("250")
    click(at, "Add account")
    assert accounts.get_account(Ledger(data_dir), "Visa").opening_minor == -25000
    assert metrics(at)["Net worth (USD)"] == usd(-25000)


def test_bad_input_shows_the_message_and_writes_nothing(
    ledger: Ledger, files_of: Callable[[Path], dict[str, bytes]]
) -> None:
    accounts.add_account(ledger, "Visa", kind="credit-card")
    at = open_page()
    before = files_of(ledger.location)
    at.text_input(key="acc_add_name").input("visa")
    click(at, "Add account")
    assert not at.exception
    assert errors(at) == ["name: 'visa' is already the name of an account"]
    assert files_of(ledger.location) == before

    at.text_input(key="acc_add_name").input("Savings")
    at.text_input(key="acc_add_opening").input("12,3x")
    click(at, "Add account")
    (message,) = errors(at)
    assert message.startswith("opening: '12,3x' is not an amount")
    assert files_of(ledger.location) == before
    at.text_input(key="acc_add_opening").input("-0.001")
    click(at, "Add account")
    assert errors(at)[0].startswith("opening: '-0.001'")
    assert files_of(ledger.location) == before
    assert at.text_input(key="acc_add_name").value == "Savings"  # what was typed is kept
    assert [a.name for a in accounts.list_accounts(Ledger(ledger.location))] == ["Visa"]


def test_edit_rename_kind_note_and_opening(ledger: Ledger) -> None:
    ledger.add_expense("10.00", category="Food", date=TODAY)
    at = open_page()
    assert at.selectbox(key="acc_edit_account").value == "Main"
    at.text_input(key="acc_edit_name").input("Everyday")
    at.text_input(key="acc_edit_note").input("the bank")
    at.text_input(key="acc_edit_opening").input("100")
    click(at, "Save account")
    assert not at.error, errors(at)
    led = Ledger(ledger.location)
    (account,) = accounts.list_accounts(led)
    assert (account.name, account.note, account.opening_minor) == ("Everyday", "the bank", 10000)
    assert [tx.account for tx in led.transactions()] == ["Everyday"]
    assert at.selectbox(key="acc_edit_account").value == "Everyday"
    assert at.text_input(key="acc_edit_name").value == "Everyday"

    accounts.add_account(led, "Visa")
    at.run()
    at.selectbox(key="acc_edit_account").set_value("Visa").run()
    assert at.text_input(key="acc_edit_name").value == "Visa"  # the form shows the chosen account
    at.text_input(key="acc_edit_name").input("everyday")
    click(at, "Save account")
    assert errors(at) == ["name: 'everyday' is already the name of an account"]


def test_close_reopen_and_make_default(ledger: Ledger) -> None:
    accounts.add_account(ledger, "Checking")
    accounts.add_account(ledger, "Savings", kind="savings")
    at = open_page()
    at.selectbox(key="acc_state_account").set_value("Savings").run()
    at.button(key="acc_state_default").click().run()
    assert accounts.default_account(Ledger(ledger.location)).name == "Savings"
    at.selectbox(key="acc_state_account").set_value("Checking").run()
    at.button(key="acc_state_close").click().run()
    assert accounts.get_account(Ledger(ledger.location), "Checking").closed
    assert any("Closed Checking" in s for s in successes(at))
    assert at.button(key="acc_state_default").disabled
    at.button(key="acc_state_reopen").click().run()
    assert not accounts.get_account(Ledger(ledger.location), "Checking").closed


def test_delete_moves_the_transactions_to_the_chosen_account(ledger: Ledger) -> None:
    accounts.add_account(ledger, "Checking")
    accounts.add_account(ledger, "Old")
    accounts.add_account(ledger, "Savings", kind="savings")
    ledger.add_expense("4.00", category="Food", account="Old", date=TODAY)
    ledger.add_expense("6.00", category="Food", account="Old", date=TODAY)
    at = open_page()
    at.selectbox(key="acc_del_account").set_value("Old").run()
    assert at.selectbox(key="acc_del_move_to").options == ["Checking", "Savings"]
    at.selectbox(key="acc_del_move_to").set_value("Savings")
    at.button(key="acc_del_button").click().run()
    assert any("Tick the box" in e for e in errors(at))
    assert [a.name for a in accounts.list_accounts(Ledger(ledger.location))] == ["Checking", "Old", "Savings"]

    at.selectbox(key="acc_del_move_to").set_value("Savings")
    at.checkbox(key="acc_del_sure").check()
    at.button(key="acc_del_button").click().run()
    assert not at.exception
    assert not at.error, errors(at)
    led = Ledger(ledger.location)
    assert [a.name for a in accounts.list_accounts(led)] == ["Checking", "Savings"]
    assert [tx.account for tx in led.transactions()] == ["Savings", "Savings"]
    assert any("Deleted the account Old; 2 transactions moved to Savings" in s for s in successes(at))


def test_reconcile_a_statement_end_to_end(ledger: Ledger) -> None:
    accounts.add_account(ledger, "Checking", opening="100.00")
    salary = ledger.add_income("1000.00", category="Salary", date=TODAY - dt.timedelta(days=10))
    food = ledger.add_expense("12.50", category="Food", date=TODAY - dt.timedelta(days=5), note="market")
    later = ledger.add_expense("30.00", category="Taxi", date=TODAY - dt.timedelta(days=1))
    at = open_page()
    assert not [b for b in at.button if b.key == "acc_rec_finish"]  # nothing typed yet: nothing to finish
    at.text_input(key="acc_rec_balance").input("1,087.50")
    at.date_input(key="acc_rec_date").set_value(TODAY - dt.timedelta(days=2)).run()
    assert not at.exception
    shown_metrics = metrics(at)
    assert shown_metrics["Statement balance"] == usd(108750)
    assert shown_metrics["Cleared balance"] == usd(10000)  # the opening balance: nothing cleared yet
    assert shown_metrics["Difference"] == usd(98750)
    ticks = [c for c in at.checkbox if c.key.startswith("acc_rec_tick_")]
    assert [c.key for c in ticks] == [f"acc_rec_tick_{salary.id}", f"acc_rec_tick_{food.id}"]  # not the later one
    assert at.button(key="acc_rec_finish").disabled

    at.checkbox(key=f"acc_rec_tick_{salary.id}").check().run()
    assert Ledger(ledger.location).get(salary.id).cleared
    assert metrics(at)["Difference"] == usd(-1250)
    assert at.button(key="acc_rec_finish").disabled
    at.checkbox(key=f"acc_rec_tick_{food.id}").check().run()
    assert metrics(at)["Difference"] == usd(0)
    assert not at.button(key="acc_rec_finish").disabled

    at.button(key="acc_rec_finish").click().run()
    assert not at.exception
    assert not at.error, errors(at)
    fresh = Ledger(ledger.location)
    assert (fresh.get(salary.id).reconciled, fresh.get(food.id).reconciled) == (True, True)
    assert (fresh.get(later.id).cleared, fresh.get(later.id).reconciled) == (False, False)
    assert any("2 transactions marked reconciled" in s for s in successes(at))
    (checking,) = [b for b in accounts.balances(fresh) if b.account.name == "Checking"]
    assert checking.reconciled == 108750


def test_reconcile_unticking_and_a_bad_balance(ledger: Ledger, files_of: Callable[[Path], dict[str, bytes]]) -> None:
    tx = ledger.add_expense("5.00", category="Food", date=TODAY, cleared=True)
    at = open_page()
    before = files_of(ledger.location)
    at.text_input(key="acc_rec_balance").input("5,00,0").run()
    assert errors(at)[0].startswith("balance: '5,00,0' is not an amount")
    assert files_of(ledger.location) == before
    at.text_input(key="acc_rec_balance").input("-5.00").run()
    assert metrics(at)["Difference"] == usd(0)
    at.checkbox(key=f"acc_rec_tick_{tx.id}").uncheck().run()
    assert not Ledger(ledger.location).get(tx.id).cleared
    assert metrics(at)["Difference"] == usd(-500)
    at.button(key="acc_rec_all").click().run()
    assert Ledger(ledger.location).get(tx.id).cleared
    assert metrics(at)["Difference"] == usd(0)


def test_the_balance_and_forecast_chart_labels_the_estimate(ledger: Ledger) -> None:
    from tracker.recurring import add_template, make_template

    start = TODAY.replace(day=1) - dt.timedelta(days=100)
    ledger.add_income("3000.00", category="Salary", date=start)
    ledger.add_expense("300.00", category="Food", date=start + dt.timedelta(days=40))
    add_template(
        ledger,
        make_template(type="expense", amount="50", category="Gym", currency="USD", start=TODAY + dt.timedelta(days=3)),
    )
    at = open_page()
    at.selectbox(key="acc_chart_horizon").set_value("3 months").run()
    (chart,) = [c for c in at.get("plotly_chart") if c.key == "acc_chart"]
    spec = json.loads(chart.proto.spec)
    names = [trace["name"] for trace in spec["data"]]
    assert names == ["Balance", "Forecast (entered and recurring)", "Estimate (also takes off the usual spending)"]
    balance, known, _ = spec["data"]
    assert balance["customdata"][-1] == usd(270000)  # today's balance ends the history
    assert known["customdata"][0] == usd(270000)
    assert known["customdata"][1] == usd(265000)  # the gym, in three days
    assert any("estimate" in a["text"] for a in spec["layout"]["annotations"])
    captions = [shown(c.value) for c in at.caption]
    assert any(c.startswith("Estimate (dotted):") and "It is an estimate" in c for c in captions)
