"""The quick-entry box on the Transactions page in AppTest: preview, save, and a message for what is not understood."""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

from app_helpers import open_app, plain

from tracker.ledger import Ledger
from tracker.ui.formatting import md

PAGE = "app_pages/transactions.py"
TODAY = dt.date.today()


open_page = functools.partial(open_app, PAGE)


def test_preview_then_add_saves_exactly_one_transaction(ledger: Ledger) -> None:
    ledger.add_expense("3.00", category="Food", note="coffee", date="2026-01-05")
    at = open_page()
    assert at.button(key="tx_quick_add").disabled
    at.text_input(key="tx_quick_text").input("coffee 4.50 yesterday #work").run()
    preview = [plain(c.value) for c in at.caption if "Preview" in c.value]
    yesterday = TODAY - dt.timedelta(days=1)
    assert preview == [
        f"Preview: Expense of **$4.50** on {yesterday:%a %Y-%m-%d} in **Food** (from your history) · #work · “coffee” — press **Add** to save."
    ]
    assert len(Ledger(ledger.location)) == 1  # the preview saved nothing
    assert not at.button(key="tx_quick_add").disabled
    at.button(key="tx_quick_add").click().run()
    assert not at.exception
    fresh = Ledger(ledger.location)
    assert len(fresh) == 2
    new = next(t for t in fresh.transactions() if t.amount_minor == 450)
    assert (new.category, new.date, new.tags, new.note) == ("Food", yesterday, ("work",), "coffee")
    assert at.text_input(key="tx_quick_text").value == ""
    assert any("Expense of $4.50 in Food" in re.sub(r"\\(.)", r"\1", s.value) for s in at.success)


def test_text_that_is_not_understood_says_which_part_and_saves_nothing(data_dir: Path) -> None:
    at = open_page()
    at.text_input(key="tx_quick_text").input("coffee 4.50 5.00").run()
    assert [w.value for w in at.warning] == [
        "Not understood: amount: '5.00' is a second amount (already found '4.50'); write only one amount"
    ]
    assert at.button(key="tx_quick_add").disabled
    assert len(Ledger(data_dir)) == 0


def test_income_with_a_date_and_markdown_in_the_note_is_shown_literally(data_dir: Path) -> None:
    at = open_page()
    at.text_input(key="tx_quick_text").input("+2500 on 2026-11-01 **bold** $x$").run()
    preview = next(c.value for c in at.caption if "Preview" in c.value)
    assert md("“**bold** $x$”") in preview
    at.button(key="tx_quick_add").click().run()
    (tx,) = Ledger(data_dir).transactions()
    assert (tx.type, tx.amount_minor, tx.date, tx.note) == ("income", 250000, dt.date(2026, 11, 1), "**bold** $x$")


def test_the_box_uses_the_import_rules_and_the_one_default_category(ledger: Ledger) -> None:
    from tracker.importers.rules import RULES_KEY, Rule, dump_rules

    ledger.set_meta(RULES_KEY, dump_rules([Rule("REWE", "Groceries")]), label="add rule")
    at = open_page()
    at.text_input(key="tx_quick_text").input("rewe 12.50").run()
    assert not at.exception
    preview = plain(next(c.value for c in at.caption if "Preview" in c.value))
    assert "in **Groceries** (from your rule)" in preview
    at.button(key="tx_quick_add").click().run()
    (tx,) = Ledger(ledger.location).transactions()
    assert (tx.category, tx.amount_minor) == ("Groceries", 1250)


def test_the_chosen_account_gets_the_entry_in_its_currency(ledger: Ledger) -> None:
    from tracker import accounts

    accounts.add_account(ledger, "Checking", currency="USD")
    accounts.add_account(ledger, "Euro", currency="EUR")
    at = open_page()
    box = at.selectbox(key="tx_quick_account")
    assert (box.options, box.value) == (["Checking (USD)", "Euro (EUR)"], "Checking")
    box.set_value("Euro").run()
    at.text_input(key="tx_quick_text").input("coffee 4.50").run()
    preview = plain(next(c.value for c in at.caption if "Preview" in c.value))
    assert "Expense of **€4.50**" in preview
    assert "into **Euro**" in preview
    at.button(key="tx_quick_add").click().run()
    assert not at.exception
    (tx,) = Ledger(ledger.location).transactions()
    assert (tx.account, tx.currency, tx.amount_minor) == ("Euro", "EUR", 450)
    assert at.selectbox(key="tx_quick_account").value == "Euro"  # kept for the next entry
    at.text_input(key="tx_quick_text").input("tea $3").run()  # a currency in the line wins
    at.button(key="tx_quick_add").click().run()
    tea = next(t for t in Ledger(ledger.location).transactions() if t.category == "Tea")
    assert (tea.account, tea.currency, tea.amount_minor) == ("Euro", "USD", 300)
