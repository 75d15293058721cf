"""Renaming and merging categories and tags across the ledger (one undoable commit), and category colours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tracker.budgets import load_settings, set_budget
from tracker.categories import (
    category_colors,
    clean_color,
    color_for,
    merge_categories,
    merge_tags,
    rename_category,
    rename_tag,
    set_category_color,
)
from tracker.errors import NotFoundError, ValidationError
from tracker.ledger import Ledger
from tracker.recurring import add_template, load_templates, make_template


def state(ledger: Ledger) -> tuple[object, ...]:
    """Everything a rename may touch, for before/after comparisons."""
    fresh = Ledger(ledger.location)
    txs = sorted((t.id, t.category, t.tags, t.amount_minor) for t in fresh.transactions())
    return txs, fresh.meta("budgets"), fresh.meta("recurring"), fresh.meta("category_colors")


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    for amount, category, tags in [
        ("10", "Food", ["work"]),
        ("20", "food", ["Work", "trip"]),
        ("30", "FOOD", []),
        ("40", "Restaurants", ["trip"]),
        ("50", "Fun", ["Job"]),
    ]:
        ledger.add_expense(amount, category=category, tags=tags, date="2026-11-02", currency="EUR")
    set_budget(ledger, "Food", "400", month="2026-01", every_month=True, currency="EUR")
    add_template(
        ledger,
        make_template(
            type="expense", amount="9", category="food", currency="EUR", tags=["work"], start=dt.date(2030, 1, 1)
        ),
    )
    set_category_color(ledger, "FOOD", "#AbC")
    return ledger


def test_rename_category_everywhere_case_insensitively_in_one_undoable_commit(filled: Ledger) -> None:
    before = state(filled)
    rev = filled.revision
    change = rename_category(filled, "fOOd", "Groceries")
    assert filled.revision == rev + 1
    assert (change.transactions, change.budgets, change.templates, change.colors) == (3, 1, 1, 1)
    fresh = Ledger(filled.location)
    assert sorted(t.category for t in fresh.transactions()) == [
        "Fun",
        "Groceries",
        "Groceries",
        "Groceries",
        "Restaurants",
    ]
    assert [s.category for s in load_settings(fresh)] == ["Groceries"]
    assert [t.category for t in load_templates(fresh)] == ["Groceries"]
    assert category_colors(fresh) == {"Groceries": "#aabbcc"}
    assert fresh.undo() == change.label
    assert state(fresh) == before


def test_rename_only_the_case(filled: Ledger) -> None:
    rename_category(filled, "food", "FoOd")
    assert {t.category for t in filled.transactions()} == {"FoOd", "Restaurants", "Fun"}


def test_rename_refuses_an_existing_name_and_unknown_names(filled: Ledger) -> None:
    before = state(filled)
    with pytest.raises(ValidationError, match="merge"):
        rename_category(filled, "Food", "restaurants")
    with pytest.raises(NotFoundError):
        rename_category(filled, "Nope", "Other")
    with pytest.raises(ValidationError):
        rename_category(filled, "Food", "  ")
    assert state(filled) == before


def test_merge_categories_keeps_the_targets_budget_and_colour(filled: Ledger) -> None:
    set_budget(filled, "Restaurants", "100", month="2026-01", every_month=True, currency="EUR")
    set_category_color(filled, "Restaurants", "#112233")
    before = state(filled)
    change = merge_categories(filled, ["food", "fun"], "RESTAURANTS")
    assert change.transactions == 4
    fresh = Ledger(filled.location)
    assert {t.category for t in fresh.transactions()} == {"Restaurants"}
    assert [(s.category, s.amount_minor) for s in load_settings(fresh)] == [("Restaurants", 10000)]
    assert category_colors(fresh) == {"Restaurants": "#112233"}
    assert [t.category for t in load_templates(fresh)] == ["Restaurants"]
    fresh.undo()
    assert state(fresh) == before


def test_merge_into_a_new_category_inherits_budget_and_colour(filled: Ledger) -> None:
    merge_categories(filled, ["Food", "Restaurants"], "Eating")
    assert sorted(t.category for t in filled.transactions()) == ["Eating"] * 4 + ["Fun"]
    assert [s.category for s in load_settings(filled)] == ["Eating"]
    assert category_colors(filled) == {"Eating": "#aabbcc"}


def test_merge_with_the_target_among_the_sources(filled: Ledger) -> None:
    set_budget(filled, "Fun", "5", month="2026-11", currency="EUR")
    merge_categories(filled, ["food", "fun"], "Food")
    assert [(s.category, s.amount_minor) for s in load_settings(filled)] == [("Food", 40000)]
    assert sorted(t.category for t in filled.transactions()) == ["Food"] * 4 + ["Restaurants"]


def test_rename_and_merge_tags(filled: Ledger) -> None:
    before = state(filled)
    change = rename_tag(filled, "WORK", "office")
    assert change.transactions == 2
    assert change.templates == 1
    assert sorted(filled.tags()) == ["Job", "office", "trip"]
    assert load_templates(filled)[0].tags == ("office",)
    with pytest.raises(ValidationError, match="merge"):
        rename_tag(filled, "office", "trip")
    change = merge_tags(filled, ["office", "job"], "#Trip")
    assert change.transactions == 3
    assert filled.tags() == ["trip"]
    tags_by_amount = {t.amount_minor: t.tags for t in filled.transactions()}
    assert tags_by_amount == {1000: ("trip",), 2000: ("trip",), 3000: (), 4000: ("trip",), 5000: ("trip",)}
    filled.undo()
    filled.undo()
    assert state(filled) == before


def test_tag_errors(filled: Ledger) -> None:
    with pytest.raises(NotFoundError):
        rename_tag(filled, "nope", "x")
    with pytest.raises(ValidationError):
        rename_tag(filled, "work", "two words")
    with pytest.raises(NotFoundError):
        merge_tags(filled, ["work", "nope"], "x")


@pytest.mark.parametrize(
    ("text", "value"), [("#1F77B4", "#1f77b4"), ("1f77b4", "#1f77b4"), ("#AbC", "#aabbcc"), (" #000000 ", "#000000")]
)
def test_clean_color(text: str, value: str) -> None:
    assert clean_color(text) == value


@pytest.mark.parametrize("text", ["red", "#12345", "#1234567", "#ggg000", "", "javascript:alert(1)"])
def test_clean_color_refuses(text: str) -> None:
    with pytest.raises(ValidationError):
        clean_color(text)


def test_colors_are_stored_under_the_category_spelling_and_can_be_removed(filled: Ledger) -> None:
    set_category_color(filled, "restaurants", "#FF0000")
    # Food, food and FOOD are used once each: the most recent spelling is the one stored
    assert category_colors(Ledger(filled.location)) == {"FOOD": "#aabbcc", "Restaurants": "#ff0000"}
    filled.add_expense("1", category="food", date="2026-11-03", currency="EUR")
    set_category_color(filled, "Food", "#aabbcc")
    assert category_colors(filled) == {"food": "#aabbcc", "Restaurants": "#ff0000"}  # now the most used
    assert color_for(category_colors(filled), "RESTAURANTS") == "#ff0000"
    assert color_for(category_colors(filled), "Nope") is None
    set_category_color(filled, "food", None)
    assert category_colors(filled) == {"Restaurants": "#ff0000"}
    with pytest.raises(NotFoundError):
        set_category_color(filled, "food", None)
    filled.undo()
    assert "food" in category_colors(filled)


def test_rename_and_merge_carry_the_import_rules_in_the_same_undoable_commit(filled: Ledger) -> None:
    from tracker.importers import RULES_KEY
    from tracker.importers.rules import Rule, dump_rules, load_rules

    rules = [Rule("tesco", "FOOD"), Rule("^uber", "Travel", regex=True), Rule("cinema", "Fun")]
    filled.set_meta(RULES_KEY, dump_rules(rules), label="add rules")
    before = state(filled), filled.meta(RULES_KEY)
    change = rename_category(filled, "food", "Groceries")
    assert change.rules == 1
    fresh = Ledger(filled.location)
    assert [(r.pattern, r.category, r.regex) for r in load_rules(fresh.meta(RULES_KEY))] == [
        ("tesco", "Groceries", False),
        ("^uber", "Travel", True),
        ("cinema", "Fun", False),
    ]
    assert fresh.undo() == change.label
    assert (state(fresh), fresh.meta(RULES_KEY)) == before

    # a category only a rule names can be renamed, and a merge moves rules too
    assert rename_category(fresh, "travel", "Transport").rules == 1
    merged = merge_categories(fresh, ["Transport", "Fun"], "Leisure")
    assert merged.rules == 2
    assert [r.category for r in load_rules(Ledger(filled.location).meta(RULES_KEY))] == ["FOOD", "Leisure", "Leisure"]


def test_cli_rename_reports_the_rules_it_moved(cli: Callable[..., Any], data_dir: Path) -> None:
    from tracker.importers import RULES_KEY

    assert cli("add", "expense", "5", "--category", "Coffee").returncode == 0
    Ledger(data_dir).set_meta(RULES_KEY, [{"pattern": "starbucks", "category": "coffee", "regex": False}], "rule")
    done = cli("category", "rename", "Coffee", "Cafes")
    assert done.returncode == 0, done.stderr
    assert "1 import rule" in done.stdout
    assert Ledger(data_dir).meta(RULES_KEY) == [{"pattern": "starbucks", "category": "Cafes", "regex": False}]
