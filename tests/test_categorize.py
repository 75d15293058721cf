"""tracker.categorize: one categoriser (rules, then history, then one default) for imports and quick entry."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tracker.categorize import (
    BANK_SIMILARITY,
    DEFAULT_CATEGORY,
    TYPED_SIMILARITY,
    Categoriser,
    History,
    categorise,
    tokens,
)
from tracker.importers import import_file
from tracker.importers.rules import RULES_KEY, Rule, dump_rules
from tracker.ledger import Ledger
from tracker.model import make_transaction
from tracker.quickentry import parse_quick_entry, preview

TODAY = dt.date(2026, 11, 28)


def tx(note: str, category: str, type: str = "expense", date: str = "2026-10-01") -> Any:
    return make_transaction(type=type, amount="1", category=category, currency="USD", date=date, note=note)


def add_text(cli: Callable[..., Any], *words: str) -> dict[str, Any]:
    done = cli("add-text", *words, "--dry-run", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_rule_added_on_the_command_line_categorises_quick_entry(cli: Callable[..., Any]) -> None:
    """Issue 13: ``rules add REWE Groceries``, then quick entry ``rewe 12.50`` was not Groceries."""
    assert cli("rules", "add", "REWE", "Groceries").returncode == 0
    got = add_text(cli, "rewe 12.50")
    assert (got["category"], got["category_source"]) == ("Groceries", "rule")


def test_quick_entry_falls_back_to_the_default_of_imports(cli: Callable[..., Any]) -> None:
    """Issue 13: quick entry said "Other" where imports say "Uncategorized"."""
    assert DEFAULT_CATEGORY == "Uncategorized"
    got = add_text(cli, "12.50")
    assert (got["category"], got["category_source"]) == (DEFAULT_CATEGORY, "default")
    assert cli("rules", "test", "12.50").stdout.strip() == f"{DEFAULT_CATEGORY} (default)"
    income = add_text(cli, "+2500")
    assert (income["category"], income["category_source"]) == (DEFAULT_CATEGORY, "default")


def test_rules_come_before_history_and_an_explicit_category_before_rules(ledger: Ledger) -> None:
    ledger.add_expense("9.00", category="Snacks", note="rewe", date="2026-11-01")
    assert preview(ledger, "rewe 3", today=TODAY).category == "Snacks"  # history alone
    ledger.set_meta(RULES_KEY, dump_rules([Rule("REWE", "Groceries")]), label="rules")
    entry = preview(ledger, "rewe 3", today=TODAY)
    assert (entry.category, entry.category_source) == ("Groceries", "rule")
    entry = preview(ledger, "rewe 3 @Party", today=TODAY)
    assert (entry.category, entry.category_source) == ("Party", "explicit")
    assert preview(ledger, "+5 rewe refund", today=TODAY).category == "Groceries"  # rules apply to any type


def test_import_and_quick_entry_ask_the_same_categoriser(ledger: Ledger, tmp_path: Path) -> None:
    ledger.add_expense("50.00", category="Groceries", date="2024-01-01", note="REWE SAGT DANKE 0815")
    ledger.set_meta(RULES_KEY, dump_rules([Rule("Kühn", "Coffee")]), label="rules")
    csv = tmp_path / "bank.csv"
    csv.write_text("Date,Description,Amount\n2024-02-01,Bäckerei Kühn,-3.50\n2024-02-02,Hausverwaltung,-900.00\n")
    plan = import_file(ledger, csv, dry_run=True).plan
    imported = {r.description: (r.draft.category, r.category_source) for r in plan.rows if r.draft}
    assert imported == {"Bäckerei Kühn": ("Coffee", "rule"), "Hausverwaltung": (DEFAULT_CATEGORY, "default")}
    entry = preview(ledger, "Bäckerei Kühn 3.50", today=TODAY)
    assert (entry.category, entry.category_source) == ("Coffee", "rule")
    assert preview(ledger, "rewe sagt danke 12", today=TODAY).category == "Groceries"
    assert preview(ledger, "!! 4", today=TODAY).category == DEFAULT_CATEGORY


def test_the_order_file_rule_history_default() -> None:
    history = History.from_transactions([tx("Netflix monthly", "Entertainment")])
    categoriser = Categoriser((Rule("coffee", "Coffee"),), history)
    assert categoriser.categorise("Coffee", file_category="Drinks") == ("Drinks", "file")
    assert categoriser.categorise("Coffee", file_category="none") == ("Coffee", "rule")
    assert categoriser.categorise("NETFLIX.COM 4711") == ("Entertainment", "words")
    assert categoriser.categorise("Something new") == (DEFAULT_CATEGORY, "default")
    assert Categoriser().categorise("Coffee") == (DEFAULT_CATEGORY, "default")
    assert categorise("NETFLIX.COM 4711", "", [], history) == ("Entertainment", "history")  # the import's words


def test_bank_text_needs_most_words_typed_text_one() -> None:
    history = History.from_transactions([tx("team dinner", "Eating out")])
    assert history.guess("team breakfast", "expense", BANK_SIMILARITY) is None
    assert history.guess("team breakfast", "expense", TYPED_SIMILARITY) == ("Eating out", "words")
    assert history.guess("team breakfast", "income", TYPED_SIMILARITY) is None  # a typed query keeps its type
    assert history.guess("team dinner", None) == ("Eating out", "history")  # imports compare with any type


def test_placeholders_are_not_learned_and_ties_go_to_the_more_used_then_the_newer() -> None:
    history = History([("Shop 1", "Uncategorized"), ("shop 2", "none")])
    assert len(history) == 0
    assert history.guess("shop") is None
    history = History.from_transactions(
        [
            tx("market", "Groceries", date="2026-01-01"),
            tx("market stall", "Snacks", date="2026-02-01"),
            tx("bakery", "Groceries", date="2026-03-01"),
        ]
    )
    assert history.guess("MARKET 99 BERLIN", None, TYPED_SIMILARITY) == ("Groceries", "words")  # used twice
    history = History.from_transactions([tx("x market", "Groceries"), tx("market y", "Snacks", date="2026-12-01")])
    assert history.guess("market", None, TYPED_SIMILARITY) == ("Snacks", "words")  # same use: the newer


def test_a_word_naming_a_category_wins_over_similar_notes() -> None:
    history = History.from_transactions([tx("pizza", "Eating out"), tx("", "Books"), tx("bus", "Travel")])
    assert history.guess("books and pizza", "expense", TYPED_SIMILARITY) == ("Books", "category")
    assert history.guess("Café", "expense") is None
    history = History.from_transactions([tx("", "Café")])
    assert history.guess("cafe latte", "expense") == ("Café", "category")  # accents and case folded


def test_tokens_fold_case_accents_plurals_and_noise() -> None:
    assert tokens("VISA POS 12/03 REWE MARKT #4711") == {"rewe", "markt"}
    assert tokens("Coffees with the Team") == {"coffee", "team"}
    assert tokens("Bäckerei") == {"backerei"}


@pytest.mark.parametrize("history", [None, History(), Categoriser()])
def test_quick_entry_takes_a_categoriser_or_a_history(history: object) -> None:
    entry = parse_quick_entry("4.50", TODAY, history)
    assert (entry.category, entry.category_source) == (DEFAULT_CATEGORY, "default")
