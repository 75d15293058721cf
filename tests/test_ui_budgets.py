"""The Budgets page in AppTest: progress per category, warnings, setting and deleting budgets, categories."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from pathlib import Path

import pytest
from app_helpers import choose, open_app, plain

from tracker import budgets
from tracker.categories import category_colors
from tracker.ledger import Ledger

PAGE = "app_pages/budgets.py"
TODAY = dt.date.today()
THIS_MONTH = TODAY.replace(day=1)
LAST_MONTH = (THIS_MONTH - dt.timedelta(days=1)).replace(day=1)


open_page = functools.partial(open_app, PAGE)


def texts(elements: object) -> list[str]:
    return [plain(e.value) for e in elements]  # type: ignore[attr-defined]


@pytest.fixture
def populated(ledger: Ledger) -> Ledger:
    ledger.add_expense("120.00", category="Food", date=TODAY)
    ledger.add_expense("30.00", category="Fun", date=TODAY, tags=["weekend"])
    ledger.add_expense("10.00", category="Books", date=TODAY)
    ledger.add_expense("5.00", category="Books", date=LAST_MONTH)
    budgets.set_budget(ledger, "Food", "100", every_month=True)  # over
    budgets.set_budget(ledger, "Fun", "30")  # exactly at the budget: heading over unless it is the last day
    budgets.set_budget(ledger, "Books", "50", month=LAST_MONTH.isoformat()[:7])  # last month only
    return ledger


def test_empty_ledger_renders_an_invitation(data_dir: Path) -> None:
    at = open_page()
    assert any("No budgets for" in t for t in texts(at.info))
    assert not at.error
    assert [b.label for b in at.button if b.label == "Save budget"] == ["Save budget"]


def test_progress_left_projection_and_warnings(populated: Ledger) -> None:
    at = open_page()
    bars = at.get("progress")
    assert len(bars) == 2  # Food and Fun this month; Books had a budget last month only
    markdown = texts(at.markdown)
    assert "**Food**" in markdown
    assert any("Over by **$20.00**" in m for m in markdown)
    errors = texts(at.error)
    assert errors == ["Food is over budget by $20.00."]
    days = calendar.monthrange(TODAY.year, TODAY.month)[1]
    warnings = texts(at.warning)
    if TODAY.day < days:
        projected = (2 * 3000 * days + TODAY.day) // (2 * TODAY.day)
        assert warnings == [
            f"Fun is heading over budget: about ${projected // 100}.{projected % 100:02d} by the end of the month at this pace."
        ]
    else:
        assert warnings == []
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Budgeted (USD)": "$130.00", "Spent": "$150.00", "Left": "-$20.00"}


def test_choosing_last_month_shows_its_budgets(populated: Ledger) -> None:
    at = open_page()
    at.selectbox(key="bud_month").set_value(LAST_MONTH).run()
    assert not at.exception
    markdown = texts(at.markdown)
    assert "**Books**" in markdown
    assert any("Left: **$45.00**" in m for m in markdown)
    assert len(at.get("progress")) == 1  # Books only: Food's every-month budget starts this month
    assert "**Food**" not in markdown


def test_set_a_budget_with_the_form(populated: Ledger) -> None:
    at = open_page()
    choose(at, "bud_set_category", "Books")
    at.text_input(key="bud_set_amount").input("75.50")
    at.radio(key="bud_set_scope").set_value("Every month from this month on")
    at.checkbox(key="bud_set_rollover").check()
    next(b for b in at.button if b.label == "Save budget").click().run()
    assert not at.exception
    assert not at.error or texts(at.error) == ["Food is over budget by $20.00."]
    stored = budgets.load_settings(Ledger(populated.location))[-1]
    assert (stored.category, stored.amount_minor, stored.month, stored.every_month, stored.rollover) == (
        "Books",
        7550,
        THIS_MONTH,
        True,
        True,
    )
    assert any("Budget for Books set to $75.50" in s for s in texts(at.success))
    assert len(at.get("progress")) == 3


def test_invalid_amount_shows_the_message_and_stores_nothing(populated: Ledger) -> None:
    before = budgets.load_settings(populated)
    at = open_page()
    choose(at, "bud_set_category", "Books")
    at.text_input(key="bud_set_amount").input("twelve")
    next(b for b in at.button if b.label == "Save budget").click().run()
    assert any("amount: 'twelve'" in e for e in texts(at.error))
    assert budgets.load_settings(Ledger(populated.location)) == before
    assert at.text_input(key="bud_set_amount").value == "twelve"  # the input is kept to correct it


def test_the_amount_is_read_in_the_number_format(populated: Ledger) -> None:
    """With ``1.234,56`` the Budgets form refused ``12,50`` ("write it like 12.50")."""
    populated.update_settings(number_format="1.234,56")
    at = open_page()
    choose(at, "bud_set_category", "Books")
    at.text_input(key="bud_set_amount").input("1.212,50")
    next(b for b in at.button if b.label == "Save budget").click().run()
    assert not at.exception
    assert not [e for e in texts(at.error) if "amount" in e]
    stored = budgets.load_settings(Ledger(populated.location))[-1]
    assert (stored.category, stored.amount_minor) == ("Books", 121250)
    assert any("Budget for Books set to $1.212,50" in s for s in texts(at.success))


def test_delete_a_budget_for_all_months(populated: Ledger) -> None:
    at = open_page()
    at.selectbox(key="bud_del_category").set_value("Food")
    at.radio(key="bud_del_scope").set_value("All months")
    next(b for b in at.button if b.label == "Delete budget").click().run()
    assert not at.exception
    assert [s.category for s in budgets.load_settings(Ledger(populated.location))] == ["Fun", "Books"]
    assert len(at.get("progress")) == 1
    assert not at.error


def test_rename_merge_and_colour_categories(populated: Ledger) -> None:
    at = open_page()
    at.selectbox(key="bud_cat_old").set_value("Fun")
    at.text_input(key="bud_cat_new").input("Leisure")
    at.button(key="bud_cat_rename").click().run()
    assert not at.exception
    fresh = Ledger(populated.location)
    assert sorted(fresh.categories()) == ["Books", "Food", "Leisure"]
    assert any(s.category == "Leisure" for s in budgets.load_settings(fresh))
    at.multiselect(key="bud_cat_sources").set_value(["Books"])
    choose(at, "bud_cat_target", "Food")
    at.button(key="bud_cat_merge").click().run()
    assert sorted(Ledger(populated.location).categories()) == ["Food", "Leisure"]
    at.selectbox(key="bud_cat_color_of").set_value("Food")
    at.color_picker(key="bud_cat_color").pick("#FF8800")
    at.button(key="bud_cat_color_save").click().run()
    assert category_colors(Ledger(populated.location)) == {"Food": "#ff8800"}
    at.selectbox(key="bud_cat_old").set_value("Food")
    at.text_input(key="bud_cat_new").input("leisure")
    at.button(key="bud_cat_rename").click().run()
    assert any("already exists" in e for e in texts(at.error))


def test_rename_a_tag(populated: Ledger) -> None:
    at = open_page()
    at.selectbox(key="bud_tag_old").set_value("weekend")
    at.text_input(key="bud_tag_new").input("leisure")
    at.button(key="bud_tag_rename").click().run()
    assert not at.exception
    assert Ledger(populated.location).tags() == ["leisure"]
