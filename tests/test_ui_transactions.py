"""The Transactions page in AppTest: add forms, transfers, validation, the editable table (accounts, cleared,
reconciled, the running balance), undo, CSV, filters."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from app_helpers import choose, open_app
from streamlit.testing.v1 import AppTest

from tracker import accounts
from tracker.ledger import Ledger
from tracker.money import format_money
from tracker.ui.table import FORCE_LABEL

PAGE = "app_pages/transactions.py"
TODAY = dt.date.today()


open_page = functools.partial(open_app, PAGE)


def fill(at: AppTest, kind: str, amount: str, category: str, note: str = "", day: dt.date | None = None) -> None:
    at.text_input(key=f"tx_{kind}_amount").input(amount)
    choose(at, f"tx_{kind}_category", category)
    at.text_input(key=f"tx_{kind}_note").input(note)
    if day is not None:
        at.date_input(key=f"tx_{kind}_date").set_value(day)


def submit(at: AppTest, kind: str) -> AppTest:
    label = "Add an expense" if kind == "expense" else "Add income"
    button = next(b for b in at.button if b.label == label)
    return button.click().run()


def shown(markdown: str) -> str:
    """The text a Markdown element displays (the app escapes user data with backslashes)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def errors(at: AppTest) -> list[str]:
    return [shown(e.value) for e in at.error]


def successes(at: AppTest) -> list[str]:
    return [shown(e.value) for e in at.success]


def table(at: AppTest) -> Any:
    return at.data_editor[0].value


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "ledger.lock"
    }


@pytest.fixture
def populated(ledger: Ledger) -> Ledger:
    """Three transactions this month (two categories, tags) and one last year."""
    ledger.add_income("2500.00", category="Salary", date=TODAY.replace(day=1))
    ledger.add_expense("12.50", category="Food", date=TODAY.replace(day=1), tags=["work"], note="lunch")
    ledger.add_expense("900.00", category="Rent", date=TODAY.replace(day=1))
    ledger.add_expense("40.00", category="Food", date=TODAY.replace(year=TODAY.year - 1, day=1))
    return ledger


def test_renders_on_empty_ledger_with_both_forms(data_dir: Path) -> None:
    at = open_page()
    labels = [b.label for b in at.button]
    assert "Add an expense" in labels
    assert "Add income" in labels
    assert not errors(at)
    assert any("No transactions yet" in i.value for i in at.info)


def test_valid_expense_adds_exactly_one_transaction_and_clears_the_form(data_dir: Path) -> None:
    at = open_page()
    fill(at, "expense", "12.50", "Food", note="lunch", day=TODAY.replace(day=1))
    submit(at, "expense")
    assert not at.exception
    assert not errors(at)
    txs = Ledger(data_dir).transactions()
    assert [(t.type, t.amount_minor, t.currency, t.category, t.note, t.date) for t in txs] == [
        ("expense", 1250, "USD", "Food", "lunch", TODAY.replace(day=1))
    ]
    assert any("$12.50" in s for s in successes(at))
    assert at.text_input(key="tx_expense_amount").value == ""
    assert list(table(at)["amount"]) == ["12.50"]
    assert list(table(at)["category"]) == ["Food"]


def test_added_expense_shows_in_the_dashboard_totals(data_dir: Path) -> None:
    at = open_page()
    fill(at, "expense", "1,234.56", "Rent")
    submit(at, "expense")
    at.switch_page("app_pages/dashboard.py").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Expenses"] == "$1,234.56"
    assert metrics["Net"] == "-$1,234.56"


def test_valid_income_is_added_as_income(data_dir: Path) -> None:
    at = open_page()
    fill(at, "income", "2500", "Salary")
    submit(at, "income")
    (tx,) = Ledger(data_dir).transactions()
    assert (tx.type, tx.amount_minor, tx.category) == ("income", 250000, "Salary")


@pytest.mark.parametrize(
    ("amount", "category", "message"),
    [
        ("abc", "Food", "amount: 'abc' is not an amount"),
        ("12.345", "Food", "has more decimal places than USD allows"),
        ("-5", "Food", "amount: '-5'"),
        ("0", "Food", "must be greater than zero"),
        ("", "Food", "amount: '' is not an amount"),
        ("12.50", "", "category: '' must not be empty"),
    ],
)
def test_invalid_input_shows_the_message_and_adds_nothing(
    populated: Ledger, data_dir: Path, amount: str, category: str, message: str
) -> None:
    at = open_page()
    before = snapshot(data_dir)
    at.text_input(key="tx_expense_amount").input(amount)
    if category:
        choose(at, "tx_expense_category", category)
    submit(at, "expense")
    assert not at.exception
    assert any(message in e for e in errors(at)), errors(at)
    assert snapshot(data_dir) == before
    assert at.text_input(key="tx_expense_amount").value == amount  # the input is kept for fixing


def test_error_clears_after_a_successful_retry(data_dir: Path) -> None:
    at = open_page()
    fill(at, "expense", "1.2.3", "Food")
    submit(at, "expense")
    assert errors(at)
    at.text_input(key="tx_expense_amount").input("1.23")
    submit(at, "expense")
    assert not errors(at)
    assert len(Ledger(data_dir).transactions()) == 1


def test_category_suggestions_come_from_the_ledger(populated: Ledger) -> None:
    at = open_page()
    expense_options = at.selectbox(key="tx_expense_category").options
    assert expense_options[0] == "Food"  # used most for expenses
    assert set(expense_options) == {"Food", "Rent", "Salary"}
    assert at.selectbox(key="tx_income_category").options[0] == "Salary"


def test_table_lists_the_filtered_rows_newest_first(populated: Ledger) -> None:
    at = open_page()
    shown = table(at)
    assert sorted(shown["amount"]) == ["12.50", "2500.00", "900.00"]  # this month only, not last year's
    at.selectbox(key="tx_period").set_value("All time").run()
    assert len(table(at)) == 4
    assert list(table(at)["date"])[-1] == TODAY.replace(year=TODAY.year - 1, day=1)
    at.multiselect(key="tx_categories").set_value(["Food"]).run()
    assert sorted(table(at)["amount"]) == ["12.50", "40.00"]
    at.text_input(key="tx_search").input("lunch").run()
    assert list(table(at)["note"]) == ["lunch"]


def edit_state(at: AppTest) -> str:
    return f"tx_table_{at.session_state.get('tx_table_version', 0)}"


def stage(at: AppTest, edited: dict[int, dict[str, Any]], deleted: list[int] | None = None) -> None:
    """Edit cells (and delete rows) in the table as the browser would, and rerun: the edits are pending."""
    at.session_state[edit_state(at)] = {"edited_rows": edited, "added_rows": [], "deleted_rows": deleted or []}
    at.run()


def row_of(at: AppTest, amount: str) -> int:
    return list(table(at)["amount"]).index(amount)


def click(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def test_table_edits_and_deletions_are_saved_in_one_undoable_change(populated: Ledger, data_dir: Path) -> None:
    at = open_page()
    rent, food = row_of(at, "900.00"), row_of(at, "12.50")
    revision = Ledger(data_dir).revision
    stage(at, {rent: {"amount": "950.00", "note": "new lease", "tags": ["home"]}}, [food])
    assert any("Unsaved" in w.value for w in at.warning)
    click(at, "Save changes")
    assert not at.exception
    assert not errors(at)
    after = Ledger(data_dir)
    assert after.revision == revision + 1
    rent_tx = next(t for t in after.transactions() if t.category == "Rent")
    assert (rent_tx.amount_minor, rent_tx.note, rent_tx.tags) == (95000, "new lease", ("home",))
    assert not any(t.note == "lunch" for t in after.transactions())
    assert sorted(table(at)["amount"]) == ["2500.00", "950.00"]
    click(at, "Undo")
    restored = Ledger(data_dir)
    assert sorted(t.amount_minor for t in restored.transactions()) == sorted(
        t.amount_minor for t in populated.transactions()
    )


def test_an_invalid_edit_saves_nothing_and_names_the_row(populated: Ledger, data_dir: Path) -> None:
    at = open_page()
    rent, food = row_of(at, "900.00"), row_of(at, "12.50")
    before = snapshot(data_dir)
    stage(at, {rent: {"amount": "9.999"}, food: {"note": "fine"}})
    click(at, "Save changes")
    assert not at.exception
    assert any(f"Row {rent + 1}" in e and "9.999" in e for e in errors(at)), errors(at)
    assert snapshot(data_dir) == before


def test_undo_takes_back_the_last_added_transaction(data_dir: Path) -> None:
    at = open_page()
    fill(at, "expense", "5", "Coffee")
    submit(at, "expense")
    fill(at, "expense", "7", "Books")
    submit(at, "expense")
    click(at, "Undo")
    assert [t.category for t in Ledger(data_dir).transactions()] == ["Coffee"]
    assert list(table(at)["category"]) == ["Coffee"]


def test_download_button_and_csv_are_formula_safe(ledger: Ledger) -> None:
    from tracker.export import select, to_csv
    from tracker.ui.table import csv_download

    ledger.add_expense("3.00", category='=HYPERLINK("http://x")', date=TODAY, note="+cmd|calc", tags=["a", "b"])
    at = open_page()
    assert [b.label for b in at.get("download_button")] == ["Download CSV"]
    data = csv_download(ledger.frame())
    assert data == to_csv(select(ledger))  # what `expense-tracker export` writes: one CSV writer
    (row,) = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    assert [row[k] for k in ("date", "type", "amount", "currency", "category", "note")] == [
        TODAY.isoformat(),
        "expense",
        "3.00",
        "USD",
        '\'=HYPERLINK("http://x")',
        "'+cmd|calc",
    ]
    assert re.split(r"[ ,;|]+", row["tags"]) == ["a", "b"]


def test_amounts_are_typed_and_shown_in_the_number_format(ledger: Ledger) -> None:
    ledger.update_settings(currency="EUR", number_format="1.234,56")
    at = open_page()
    assert at.text_input(key="tx_expense_amount").placeholder == "12,50"
    fill(at, "expense", "1.234,50", "Food")  # typed the way the user writes numbers
    submit(at, "expense")
    expected = format_money(123450, "EUR", "1.234,56")
    assert any(expected in s for s in successes(at)), successes(at)
    assert Ledger(ledger.location).transactions()[0].currency == "EUR"


def test_the_table_editor_reads_amounts_in_the_number_format(populated: Ledger, data_dir: Path) -> None:
    """With ``1.234,56`` the add form took ``12,50`` but the table refused it ("write it like 12.50")."""
    populated.update_settings(number_format="1.234,56")
    at = open_page()
    assert sorted(table(at)["amount"]) == ["12,50", "2500,00", "900,00"]  # shown as they are typed
    rent, food = row_of(at, "900,00"), row_of(at, "12,50")
    stage(at, {rent: {"amount": "1.250,75"}, food: {"amount": "12,7"}})
    click(at, "Save changes")
    assert not at.exception
    assert not errors(at)
    amounts = {t.category: t.amount_minor for t in Ledger(data_dir).transactions() if t.date.year == TODAY.year}
    assert amounts == {"Rent": 125075, "Food": 1270, "Salary": 250000}
    assert any("Saved 2 changes" in s for s in successes(at)), successes(at)


def test_the_table_editor_quotes_a_refused_amount_as_typed(populated: Ledger, data_dir: Path) -> None:
    populated.update_settings(number_format="1.234,56")
    at = open_page()
    food = row_of(at, "12,50")
    before = snapshot(data_dir)
    stage(at, {food: {"amount": "0,001"}})
    click(at, "Save changes")
    shown_errors = errors(at)
    assert any(f"Row {food + 1}" in e and "amount: '0,001' has more decimal places" in e for e in shown_errors), (
        shown_errors
    )
    assert snapshot(data_dir) == before


# -- accounts -------------------------------------------------------------------------------------


@pytest.fixture
def banked(ledger: Ledger) -> Ledger:
    """Checking (USD, the default, opening 100.00), Savings (USD), Euro (EUR), Old (closed)."""
    accounts.add_account(ledger, "Checking", currency="USD", opening="100.00")
    accounts.add_account(ledger, "Savings", kind="savings", currency="USD")
    accounts.add_account(ledger, "Euro", currency="EUR")
    accounts.add_account(ledger, "Old", currency="USD")
    accounts.close_account(ledger, "Old")
    accounts.set_default_account(ledger, "Checking")
    return ledger


def test_the_add_forms_offer_the_open_accounts_starting_on_the_default(banked: Ledger) -> None:
    at = open_page()
    for kind in ("expense", "income"):
        box = at.selectbox(key=f"tx_{kind}_account")
        assert box.options == ["Checking (USD)", "Savings (USD)", "Euro (EUR)"]  # not the closed one
        assert box.value == "Checking"
    assert at.text_input(key="tx_expense_amount").label == "Amount (USD)"


def test_an_expense_goes_into_the_chosen_account_in_its_currency(banked: Ledger, data_dir: Path) -> None:
    at = open_page()
    at.selectbox(key="tx_expense_account").set_value("Euro").run()
    assert at.text_input(key="tx_expense_amount").label == "Amount (EUR)"  # the currency follows the account
    fill(at, "expense", "12.50", "Food")
    submit(at, "expense")
    assert not at.exception
    assert not errors(at)
    (tx,) = Ledger(data_dir).transactions()
    assert (tx.account, tx.currency, tx.amount_minor, tx.type) == ("Euro", "EUR", 1250, "expense")
    assert any("€12.50" in s and "added to Euro" in s for s in successes(at)), successes(at)
    assert at.selectbox(key="tx_expense_account").value == "Euro"  # remembered for the next one
    at.switch_page("app_pages/settings.py").run()
    at.switch_page(PAGE).run()
    assert at.selectbox(key="tx_expense_account").value == "Euro"  # and across pages


def test_income_into_another_account(banked: Ledger, data_dir: Path) -> None:
    at = open_page()
    at.selectbox(key="tx_income_account").set_value("Savings").run()
    fill(at, "income", "2500", "Salary")
    submit(at, "income")
    (tx,) = Ledger(data_dir).transactions()
    assert (tx.account, tx.currency, tx.type, tx.amount_minor) == ("Savings", "USD", "income", 250000)


def transfer(at: AppTest, source: str, target: str, amount: str, received: str | None = None, note: str = "") -> None:
    at.selectbox(key="tx_transfer_from").set_value(source).run()
    at.selectbox(key="tx_transfer_to").set_value(target).run()
    at.text_input(key="tx_transfer_amount").input(amount)
    if received is not None:
        at.text_input(key="tx_transfer_received").input(received)
    at.text_input(key="tx_transfer_note").input(note)
    at.button(key="tx_transfer_add").click().run()
    assert not at.exception, at.exception


def test_a_transfer_from_the_form_is_a_linked_pair(banked: Ledger, data_dir: Path) -> None:
    at = open_page()
    assert at.selectbox(key="tx_transfer_to").value == "Savings"  # not the account it comes from
    assert not any(t.key == "tx_transfer_received" for t in at.text_input)  # one currency: no received amount
    transfer(at, "Checking", "Savings", "25.00", note="rainy day")
    assert not errors(at)
    out, arrived = sorted(Ledger(data_dir).transactions(), key=lambda t: t.direction != "out")
    assert (out.type, out.account, out.direction, out.amount_minor, out.currency) == (
        "transfer",
        "Checking",
        "out",
        2500,
        "USD",
    )
    assert (arrived.type, arrived.account, arrived.direction, arrived.amount_minor) == (
        "transfer",
        "Savings",
        "in",
        2500,
    )
    assert (out.link, arrived.link) == (arrived.id, out.id)
    assert out.note == arrived.note == "rainy day"
    assert out.category == arrived.category == "Transfer"
    assert any("Transfer of $25.00 from Checking to Savings" in s for s in successes(at)), successes(at)
    assert at.text_input(key="tx_transfer_amount").value == ""
    assert sorted(table(at)["transfer"]) == ["from Checking", "to Savings"]


def test_a_transfer_between_currencies_needs_and_stores_the_amount_received(banked: Ledger, data_dir: Path) -> None:
    banked.update_settings(number_format="1.234,56")
    at = open_page()
    at.selectbox(key="tx_transfer_to").set_value("Euro").run()
    assert at.text_input(key="tx_transfer_received").label == "Amount received (EUR)"
    transfer(at, "Checking", "Euro", "1.000,00", received="921,35")
    assert not errors(at)
    by_side = {t.direction: t for t in Ledger(data_dir).transactions()}
    assert (by_side["out"].amount_minor, by_side["out"].currency) == (100000, "USD")
    assert (by_side["in"].amount_minor, by_side["in"].currency, by_side["in"].account) == (92135, "EUR", "Euro")


@pytest.mark.parametrize(
    ("source", "target", "amount", "received", "message"),
    [
        ("Checking", "Checking", "10.00", None, "To: 'Checking' is the account the money comes from"),
        ("Checking", "Euro", "10.00", "", "Amount received is needed: Checking is in USD and Euro in EUR"),
        ("Checking", "Euro", "10.00", "abc", "Amount received: 'abc' is not an amount"),
        ("Checking", "Euro", "10.00", "9.999", "Amount received: '9.999' has more decimal places than EUR allows"),
        ("Checking", "Savings", "x", None, "Amount: 'x' is not an amount"),
        ("Checking", "Savings", "0", None, "Amount: '0' must be greater than zero"),
    ],
)
def test_a_bad_transfer_says_why_and_changes_nothing(
    banked: Ledger,
    data_dir: Path,
    files_of: Callable[[Path], dict[str, bytes]],
    source: str,
    target: str,
    amount: str,
    received: str | None,
    message: str,
) -> None:
    at = open_page()
    before = files_of(data_dir)
    transfer(at, source, target, amount, received)
    assert any(message in e for e in errors(at)), errors(at)
    assert files_of(data_dir) == before
    assert at.text_input(key="tx_transfer_amount").value == amount  # kept for fixing


def test_with_one_account_there_is_no_transfer_form(data_dir: Path) -> None:
    at = open_page()
    assert not any(b.key == "tx_transfer_add" for b in at.button)
    assert any("Transfers need two open accounts" in c.value for c in at.caption)


def test_a_new_ledger_adds_into_its_first_account(data_dir: Path) -> None:
    at = open_page()
    assert at.selectbox(key="tx_expense_account").options == ["Main"]
    fill(at, "expense", "3.00", "Food")
    submit(at, "expense")
    assert not errors(at)
    (tx,) = Ledger(data_dir).transactions()
    assert (tx.account, tx.currency) == ("Main", "USD")


def test_the_cleared_checkbox_and_the_account_cell_are_saved(banked: Ledger, data_dir: Path) -> None:
    food = banked.add_expense("12.50", category="Food", date=TODAY, account="Checking")
    rent = banked.add_expense("900.00", category="Rent", date=TODAY, account="Checking")
    at = open_page()
    shown = table(at)
    assert not bool(shown.loc[food.id, "cleared"])
    positions = list(shown.index)
    stage(at, {positions.index(food.id): {"cleared": True}, positions.index(rent.id): {"account": "Savings"}})
    click(at, "Save changes")
    assert not at.exception
    assert not errors(at)
    fresh = Ledger(data_dir)
    assert fresh.get(food.id).cleared is True
    assert (fresh.get(rent.id).account, fresh.get(rent.id).cleared) == ("Savings", False)
    assert bool(table(at).loc[food.id, "cleared"]) is True


def test_a_reconciled_row_needs_the_confirmation_box(
    banked: Ledger, data_dir: Path, files_of: Callable[[Path], dict[str, bytes]]
) -> None:
    food = banked.add_expense("12.50", category="Food", date=TODAY, account="Checking")
    accounts.set_cleared(banked, [food.id])
    assert accounts.reconcile(banked, "Checking", "87.50", TODAY).marked == 1
    at = open_page()
    assert bool(table(at).loc[food.id, "reconciled"]) is True
    before = files_of(data_dir)
    stage(at, {list(table(at).index).index(food.id): {"cleared": False}})
    force_key = f"{edit_state(at)}_force"
    assert at.checkbox(key=force_key).label == FORCE_LABEL
    click(at, "Save changes")
    assert not at.exception
    assert any("is reconciled against a statement" in e and FORCE_LABEL in e for e in errors(at)), errors(at)
    assert files_of(data_dir) == before
    at.checkbox(key=force_key).check().run()
    click(at, "Save changes")
    assert not at.exception
    assert not errors(at)
    after = Ledger(data_dir).get(food.id)
    assert (after.cleared, after.reconciled) == (False, False)  # un-clearing takes the reconciliation back


def test_one_account_shows_its_running_balance(banked: Ledger) -> None:
    first = TODAY.replace(day=1)
    banked.add_expense("10.25", category="Food", date=first, account="Checking")
    banked.add_income("50.00", category="Salary", date=first, account="Checking")
    accounts.add_transfer(banked, "20.00", source="Checking", target="Savings", date=first)
    banked.add_expense("99.00", category="Food", date=first, account="Euro")
    at = open_page()
    assert "balance" not in table(at).columns  # all accounts: no balance
    at.multiselect(key="tx_accounts").set_value(["Checking"]).run()
    shown = table(at)
    assert list(zip(shown["amount"], shown["balance"], strict=True)) == [  # newest first
        ("20.00", "$119.75"),
        ("50.00", "$139.75"),
        ("10.25", "$89.75"),
    ]
    at.multiselect(key="tx_accounts").set_value(["Checking", "Savings"]).run()
    assert "balance" not in table(at).columns


def test_the_running_balance_counts_the_rows_the_filters_hide(banked: Ledger) -> None:
    last_year = TODAY.replace(year=TODAY.year - 1, day=1)
    banked.add_expense("30.00", category="Rent", date=last_year, account="Checking")
    banked.add_expense("5.00", category="Food", date=TODAY.replace(day=1), account="Checking")
    at = open_page()
    at.multiselect(key="tx_accounts").set_value(["Checking"]).run()
    assert list(zip(table(at)["amount"], table(at)["balance"], strict=True)) == [("5.00", "$65.00")]
