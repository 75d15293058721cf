"""Split transactions on the Transactions page in AppTest: the add form's split editor (the remainder as lines are
typed, "Distribute the remainder", saving, refusals that store nothing), splitting and unsplitting a row of the
table, the reconciled confirmation, undo, the original amount column."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import test_browser
from app_helpers import choose, open_app, plain
from streamlit.testing.v1 import AppTest

from tracker import accounts
from tracker.ledger import Ledger
from tracker.ui.table import FORCE_LABEL

PAGE = "app_pages/transactions.py"
TODAY = dt.date.today()
Files = Callable[[Path], dict[str, bytes]]

open_page = functools.partial(open_app, PAGE)


def key(at: AppTest, prefix: str, number: int, field: str) -> str:
    """The widget key of line ``number`` (1-based, as shown) of the split editor ``prefix``."""
    return f"{prefix}_{at.session_state[f'{prefix}_ids'][number - 1]}_{field}"


def type_line(at: AppTest, prefix: str, number: int, category: str | None = None, amount: str | None = None) -> None:
    """Type a line's category and/or amount, as the browser commits them (each one reruns the page)."""
    if category is not None:
        choose(at, key(at, prefix, number, "category"), category)
        at.run()
    if amount is not None:
        at.text_input(key=key(at, prefix, number, "amount")).input(amount).run()
    assert not at.exception, at.exception


def amounts(at: AppTest, prefix: str) -> list[str]:
    ids = at.session_state[f"{prefix}_ids"]
    return [at.text_input(key=f"{prefix}_{i}_amount").value for i in ids]


def status(at: AppTest) -> list[str]:
    """The split editors' remainder lines."""
    words = ("Remainder:", "Lines sum to the amount", "Lines are over", "Type the amount", "is not an amount")
    return [plain(m.value) for m in at.markdown if any(w in m.value for w in words)]


def click(at: AppTest, button_key: str) -> AppTest:
    at.button(key=button_key).click().run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    return [plain(e.value) for e in at.error]


def successes(at: AppTest) -> list[str]:
    return [plain(s.value) for s in at.success]


def split_expense_form(at: AppTest, amount: str) -> None:
    at.toggle(key="tx_expense_split_on").set_value(True).run()
    at.text_input(key="tx_expense_amount").input(amount).run()
    assert not at.exception, at.exception


# -- adding a split transaction -------------------------------------------------------------------


def test_a_split_expense_is_added_through_the_form(data_dir: Path) -> None:
    at = open_page()
    assert any(s.key == "tx_expense_category" for s in at.selectbox)
    at.toggle(key="tx_expense_split_on").set_value(True).run()
    assert not any(s.key == "tx_expense_category" for s in at.selectbox)  # the lines have the categories
    assert status(at) == ["Type the amount: the lines share it."]
    at.text_input(key="tx_expense_amount").input("100").run()
    assert status(at) == ["Remainder: 100.00 of 100.00"]
    type_line(at, "tx_expense_split", 1, "Groceries", "70")
    assert status(at) == ["Remainder: 30.00 of 100.00"]  # updates as the amounts are typed
    click(at, "tx_expense_split_add")
    assert len(amounts(at, "tx_expense_split")) == 3
    type_line(at, "tx_expense_split", 2, "Household")
    type_line(at, "tx_expense_split", 3, "Gifts")
    at.multiselect(key=key(at, "tx_expense_split", 3, "tags")).set_value(["birthday"]).run()
    at.text_input(key=key(at, "tx_expense_split", 3, "note")).input("for Ann").run()
    click(at, "tx_expense_split_distribute")
    assert amounts(at, "tx_expense_split") == ["70", "15.00", "15.00"]
    assert status(at) == [":green[Lines sum to the amount ✓]"]
    at.text_input(key="tx_expense_note").input("market").run()
    click(at, "tx_expense_add_split")
    assert not errors(at), errors(at)
    (tx,) = Ledger(data_dir).transactions()
    assert (tx.type, tx.amount_minor, tx.category, tx.note) == ("expense", 10000, "Split", "market")
    assert [(line.category, line.amount_minor, line.tags, line.note) for line in tx.splits] == [
        ("Groceries", 7000, (), ""),
        ("Household", 1500, (), ""),
        ("Gifts", 1500, ("birthday",), "for Ann"),
    ]
    assert any("Expense of $100.00 split between Groceries, Household, Gifts" in s for s in successes(at))
    assert at.toggle(key="tx_expense_split_on").value is False  # back to the plain form, emptied
    assert at.text_input(key="tx_expense_amount").value == ""
    assert list(at.data_editor[0].value["category"]) == ["Split"]


def test_distribute_gives_the_leftover_cents_to_the_first_lines(data_dir: Path) -> None:
    at = open_page()
    split_expense_form(at, "10")
    click(at, "tx_expense_split_add")
    click(at, "tx_expense_split_distribute")
    assert amounts(at, "tx_expense_split") == ["3.34", "3.33", "3.33"]
    assert status(at) == [":green[Lines sum to the amount ✓]"]


def test_lines_over_the_amount_say_by_how_much_and_distribute_refuses(data_dir: Path) -> None:
    at = open_page()
    split_expense_form(at, "100")
    type_line(at, "tx_expense_split", 1, amount="70")
    type_line(at, "tx_expense_split", 2, amount="50")
    assert status(at) == [":red[Lines are over the amount by 20.00]"]
    click(at, "tx_expense_split_add")
    click(at, "tx_expense_split_distribute")
    assert any("remainder: '-20.00' is negative" in plain(w.value) for w in at.warning)
    assert amounts(at, "tx_expense_split") == ["70", "50", ""]


def test_an_unreadable_line_amount_shows_in_the_remainder_line(data_dir: Path) -> None:
    at = open_page()
    split_expense_form(at, "100")
    type_line(at, "tx_expense_split", 2, amount="12x")
    assert any("line 2 amount: '12x' is not an amount" in s for s in status(at)), status(at)


def test_the_remainder_follows_the_number_format_and_the_account_currency(ledger: Ledger) -> None:
    ledger.update_settings(currency="EUR", number_format="1.234,56")
    at = open_page()
    split_expense_form(at, "1.000,00")
    type_line(at, "tx_expense_split", 1, "Rent", "750,50")
    assert status(at) == ["Remainder: 249,50 of 1.000,00"]
    click(at, "tx_expense_split_distribute")
    assert amounts(at, "tx_expense_split") == ["750,50", "249,50"]


def test_a_line_can_be_removed_but_two_stay(data_dir: Path) -> None:
    at = open_page()
    split_expense_form(at, "30")
    assert at.button(key=key(at, "tx_expense_split", 1, "remove")).disabled
    click(at, "tx_expense_split_add")
    type_line(at, "tx_expense_split", 1, amount="10")
    type_line(at, "tx_expense_split", 2, amount="5")
    type_line(at, "tx_expense_split", 3, amount="15")
    click(at, key(at, "tx_expense_split", 2, "remove"))
    assert amounts(at, "tx_expense_split") == ["10", "15"]
    assert status(at) == ["Remainder: 5.00 of 30.00"]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([("Groceries", "70"), ("Household", "20")], "split: '90.00' is the sum of the lines, not the amount 100.00"),
        ([("Groceries", "70"), (None, "30")], "line 2 category: '' must not be empty"),
        ([("Groceries", "70"), ("Household", "3.001")], "line 2 amount: '3.001' has more decimal places"),
        ([("Groceries", "100"), (None, None)], "split: 1 needs two or more lines"),
    ],
)
def test_a_bad_split_shows_the_message_and_stores_nothing(
    ledger: Ledger, data_dir: Path, files_of: Files, lines: list[tuple[str | None, str | None]], message: str
) -> None:
    ledger.add_expense("5.00", category="Coffee")
    at = open_page()
    split_expense_form(at, "100")
    for number, (category, amount) in enumerate(lines, 1):
        type_line(at, "tx_expense_split", number, category, amount)
    before = files_of(data_dir)
    click(at, "tx_expense_add_split")
    assert any(message in e for e in errors(at)), errors(at)
    assert not any("Traceback" in e for e in errors(at))
    assert files_of(data_dir) == before
    assert at.toggle(key="tx_expense_split_on").value is True  # kept for fixing
    assert amounts(at, "tx_expense_split")[0] == lines[0][1]


def test_split_income_goes_into_the_chosen_account(ledger: Ledger, data_dir: Path) -> None:
    accounts.add_account(ledger, "Euro", currency="EUR")
    at = open_page()
    at.selectbox(key="tx_income_account").set_value("Euro").run()
    at.toggle(key="tx_income_split_on").set_value(True).run()
    at.text_input(key="tx_income_amount").input("1000").run()
    assert any("Amount (EUR)" in c.value for c in at.caption)
    type_line(at, "tx_income_split", 1, "Salary", "900")
    type_line(at, "tx_income_split", 2, "Bonus")
    click(at, "tx_income_split_distribute")
    click(at, "tx_income_add_split")
    assert not errors(at), errors(at)
    (tx,) = Ledger(data_dir).transactions()
    assert (tx.type, tx.account, tx.currency) == ("income", "Euro", "EUR")
    assert [(line.category, line.amount_minor) for line in tx.splits] == [("Salary", 90000), ("Bonus", 10000)]


# -- a row of the table ---------------------------------------------------------------------------


def pick(at: AppTest, tx_id: str) -> None:
    at.selectbox(key="tx_split_pick").set_value(tx_id).run()
    assert not at.exception, at.exception


def test_a_row_of_the_table_is_split_in_one_undoable_change(ledger: Ledger, data_dir: Path) -> None:
    rent = ledger.add_expense("900.00", category="Rent", date=TODAY, note="December")
    revision = Ledger(data_dir).revision
    at = open_page()
    assert at.selectbox(key="tx_split_pick").options == [f"{TODAY:%Y-%m-%d} · expense · 900.00 USD · Rent · December"]
    pick(at, rent.id)
    assert amounts(at, "tx_split") == ["900.00", ""]  # one line of the whole amount (and one to fill)
    assert at.selectbox(key=key(at, "tx_split", 1, "category")).value == "Rent"
    assert status(at) == [":green[Lines sum to the amount ✓]"]
    assert not any(b.key == "tx_split_unsplit" for b in at.button)  # nothing to unsplit
    type_line(at, "tx_split", 1, amount="600")
    assert status(at) == ["Remainder: 300.00 of 900.00"]
    type_line(at, "tx_split", 2, "Utilities")
    click(at, "tx_split_distribute")
    click(at, "tx_split_save")
    assert not errors(at), errors(at)
    after = Ledger(data_dir)
    assert after.revision == revision + 1
    tx = after.get(rent.id)
    assert (tx.category, tx.note) == ("Split", "December")
    assert [(line.category, line.amount_minor) for line in tx.splits] == [("Rent", 60000), ("Utilities", 30000)]
    assert any("is split between Rent, Utilities" in s for s in successes(at)), successes(at)
    assert list(at.data_editor[0].value["category"]) == ["Split"]
    assert amounts(at, "tx_split") == ["600.00", "300.00"]  # the editor shows the lines as stored
    at.button(key="tx_undo").click().run()
    restored = Ledger(data_dir).get(rent.id)
    assert (restored.category, restored.splits) == ("Rent", ())
    assert amounts(at, "tx_split") == ["900.00", ""]


def test_a_split_row_is_unsplit_into_a_category(ledger: Ledger, data_dir: Path) -> None:
    shop = ledger.add(
        "expense",
        Decimal("100"),
        splits=[
            {"category": "Groceries", "amount": Decimal("30"), "tags": [], "note": ""},
            {"category": "Household", "amount": Decimal("70"), "tags": ["home"], "note": "mop"},
        ],
    )
    at = open_page()
    pick(at, shop.id)
    assert amounts(at, "tx_split") == ["30.00", "70.00"]
    assert at.multiselect(key=key(at, "tx_split", 2, "tags")).value == ["home"]
    assert at.text_input(key=key(at, "tx_split", 2, "note")).value == "mop"
    assert at.selectbox(key="tx_split_category").value == "Household"  # the biggest line's
    choose(at, "tx_split_category", "Shopping")
    click(at, "tx_split_unsplit")
    assert not errors(at), errors(at)
    tx = Ledger(data_dir).get(shop.id)
    assert (tx.category, tx.splits, tx.amount_minor) == ("Shopping", (), 10000)
    assert any("is no longer split: it is in Shopping" in s for s in successes(at)), successes(at)
    assert amounts(at, "tx_split") == ["100.00", ""]


def test_a_wrong_split_of_a_row_says_why_and_stores_nothing(ledger: Ledger, data_dir: Path, files_of: Files) -> None:
    rent = ledger.add_expense("900.00", category="Rent", date=TODAY)
    at = open_page()
    pick(at, rent.id)
    type_line(at, "tx_split", 2, "Utilities", "100")
    before = files_of(data_dir)
    click(at, "tx_split_save")
    assert any("split: '1000.00' is the sum of the lines, not the amount 900.00" in e for e in errors(at)), errors(at)
    assert files_of(data_dir) == before
    assert amounts(at, "tx_split") == ["900.00", "100"]  # kept for fixing


def test_a_reconciled_row_is_split_only_with_the_confirmation(ledger: Ledger, data_dir: Path, files_of: Files) -> None:
    accounts.add_account(ledger, "Checking", currency="USD", opening="1000.00")
    food = ledger.add_expense("50.00", category="Food", date=TODAY, account="Checking")
    accounts.set_cleared(ledger, [food.id])
    assert accounts.reconcile(ledger, "Checking", "950.00", TODAY).marked == 1
    at = open_page()
    pick(at, food.id)
    assert at.checkbox(key="tx_split_force").label == FORCE_LABEL
    type_line(at, "tx_split", 1, amount="20")
    type_line(at, "tx_split", 2, "Drinks", "30")
    before = files_of(data_dir)
    click(at, "tx_split_save")
    assert any("is reconciled against a statement" in e and FORCE_LABEL in e for e in errors(at)), errors(at)
    assert files_of(data_dir) == before
    at.checkbox(key="tx_split_force").check().run()
    click(at, "tx_split_save")
    assert not errors(at), errors(at)
    tx = Ledger(data_dir).get(food.id)
    assert [(line.category, line.amount_minor) for line in tx.splits] == [("Food", 2000), ("Drinks", 3000)]
    assert tx.reconciled  # still reconciled: the amount did not change


def test_transfers_cannot_be_picked(ledger: Ledger) -> None:
    accounts.add_account(ledger, "Checking", currency="USD")
    accounts.add_account(ledger, "Savings", currency="USD")
    accounts.add_transfer(ledger, "20.00", source="Checking", target="Savings", date=TODAY)
    food = ledger.add_expense("5.00", category="Food", date=TODAY)
    at = open_page()
    assert len(at.data_editor[0].value) == 3
    assert at.selectbox(key="tx_split_pick").options == [f"{TODAY:%Y-%m-%d} · expense · 5.00 USD · Food"]
    pick(at, food.id)
    assert amounts(at, "tx_split") == ["5.00", ""]


def test_the_table_shows_an_original_amount_read_only(ledger: Ledger) -> None:
    ledger.add_expense("5.00", category="Food", date=TODAY)
    at = open_page()
    assert "original" not in at.data_editor[0].proto.column_order  # no row has one: no column
    ledger.add_expense("44.50", category="Hotel", date=TODAY, original_amount=Decimal("41.00"), original_currency="EUR")
    at.run()
    shown = at.data_editor[0].value
    assert sorted(shown["original"]) == ["", "41.00 EUR"]
    assert "original" in at.data_editor[0].proto.column_order
    assert json.loads(at.data_editor[0].proto.columns)["original"]["disabled"] is True  # read-only


# -- in a real browser ----------------------------------------------------------------------------

browser, server, page = test_browser.browser, test_browser.server, test_browser.page  # the browser tests' fixtures
Shots, settle = test_browser.Shots, test_browser.settle


def choose_in(page: Any, label: str, text: str) -> None:
    """Type a (new or existing) option into the selectbox labelled ``label`` and take it with Enter."""
    page.get_by_label(label).click()
    page.keyboard.type(text)
    page.get_by_role("option", name=text).first.wait_for()
    page.keyboard.press("Enter")


@pytest.mark.browser
def test_the_split_editor_in_a_real_browser(
    page: Any, server: str, data_dir: Path, tmp_path: Path, output_dir: Path
) -> None:
    """Typing the lines updates the remainder, "Distribute" fills the empty line, the split expense is stored;
    then its row is opened in the split editor and unsplit. Screenshots in test-output/."""
    from playwright.sync_api import expect

    shot = Shots(page, tmp_path, output_dir)
    page.goto(server + "transactions")
    settle(page)
    page.get_by_text("Split between categories").first.click()
    expect(page.get_by_role("button", name="Distribute the remainder")).to_be_visible()  # no form any more
    settle(page)
    page.get_by_label("Amount (USD)").first.fill("100")
    page.get_by_label("Amount (USD)").first.press("Tab")
    expect(page.get_by_text("Remainder: 100.00 of 100.00")).to_be_visible()
    settle(page)
    choose_in(page, "Line 1 category", "Groceries")
    settle(page)
    page.get_by_label("Line 1 amount").fill("70")
    page.get_by_label("Line 1 amount").press("Tab")
    expect(page.get_by_text("Remainder: 30.00 of 100.00")).to_be_visible()
    settle(page)
    choose_in(page, "Line 2 category", "Household")
    settle(page)
    shot("01-split-remainder")
    page.get_by_role("button", name="Distribute the remainder").click()
    expect(page.get_by_label("Line 2 amount")).to_have_value("30.00")
    expect(page.get_by_text("Lines sum to the amount ✓")).to_be_visible()
    settle(page)
    shot("02-split-distributed")
    page.get_by_role("button", name="Add an expense").first.click()
    expect(page.get_by_text("Expense of $100.00 split between Groceries, Household")).to_be_visible()
    settle(page)
    (tx,) = Ledger(data_dir).transactions()
    assert [(line.category, line.amount_minor) for line in tx.splits] == [("Groceries", 7000), ("Household", 3000)]

    page.set_viewport_size({"width": 1400, "height": 2200})  # room for the picker's list below it
    settle(page)
    page.get_by_text("Split or unsplit a transaction").click()
    settle(page)  # opening it reruns (its open state is kept, so the flash message going away keeps it open)
    picker = page.get_by_label("Transaction", exact=True)
    picker.scroll_into_view_if_needed()
    picker.click()
    option = page.get_by_role("option").filter(has_text="100.00 USD · Split").first
    option.wait_for()
    option.click()
    settle(page)
    expect(page.get_by_role("button", name="Save split")).to_be_visible()
    expect(page.get_by_role("button", name="Unsplit")).to_be_visible()
    page.get_by_role("button", name="Save split").scroll_into_view_if_needed()
    shot("03-row-split-editor")
    page.get_by_role("button", name="Unsplit").click()  # into the biggest line's category, chosen for it
    expect(page.get_by_text("is no longer split: it is in Groceries")).to_be_visible()
    settle(page)
    assert Ledger(data_dir).get(tx.id).category == "Groceries"
    assert not page.get_by_text("Traceback").count()
