"""Budget arithmetic over fixture ledgers: overrides, rollover (including overspend), projection, flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.budgets import (
    BudgetSetting,
    add_setting,
    budget_status,
    delete_budget,
    effective_setting,
    load_settings,
    parse_month,
    project,
    set_budget,
    settings_from_meta,
    settings_to_meta,
    status,
)
from tracker.errors import NotFoundError, ValidationError
from tracker.frame import frame_from_transactions
from tracker.ledger import Ledger
from tracker.model import Transaction, make_transaction

D = dt.date
TODAY = D(2026, 11, 10)  # day 10 of a 30-day month


def setting(
    category: str, amount: int | None, month: str, every: bool = False, rollover: bool = False, currency: str = "EUR"
) -> BudgetSetting:
    return BudgetSetting(category, amount, currency, parse_month(month), every, rollover)


def build(*new: BudgetSetting) -> list[BudgetSetting]:
    out: list[BudgetSetting] = []
    for s in new:
        out = add_setting(out, s)
    return out


def one(statuses: list, category: str):  # type: ignore[no-untyped-def]
    found = [s for s in statuses if s.category.casefold() == category.casefold()]
    assert len(found) == 1, statuses
    return found[0]


@pytest.fixture
def spend(make_tx: Callable[..., Transaction]) -> Callable[..., Transaction]:
    def build_tx(amount: str, date: str, category: str = "Food", **kw: object) -> Transaction:
        return make_tx(amount=amount, date=date, category=category, **kw)

    return build_tx


def test_spent_counts_only_this_months_expenses_of_the_category_in_its_currency(
    spend: Callable[..., Transaction],
) -> None:
    txs = [
        spend("12.50", "2026-11-01"),
        spend("7.25", "2026-11-30", category="FOOD"),  # case-insensitive
        spend("100.00", "2026-10-31"),  # other month
        spend("5.00", "2026-12-01"),  # other month
        spend("3.00", "2026-11-05", category="Fun"),  # other category
        spend("20.00", "2026-11-05", type="income"),  # a refund is not spending
        spend("9.00", "2026-11-05", currency="USD"),  # other currency
    ]
    rows = budget_status(frame_from_transactions(txs), build(setting("food", 40000, "2026-11")), "2026-11", TODAY)
    food = one(rows, "food")
    assert (food.budget_minor, food.spent_minor, food.left_minor) == (40000, 1975, 38025)
    assert food.to_json()["budget"] == "400.00"
    assert food.to_json()["spent"] == "19.75"
    assert food.to_json()["left"] == "380.25"
    assert food.to_json()["over"] is False


def test_month_without_spend_and_without_transactions_at_all() -> None:
    rows = budget_status(
        frame_from_transactions([]), build(setting("Food", 40000, "2026-01", every=True)), "2026-11", TODAY
    )
    food = one(rows, "Food")
    assert (food.spent_minor, food.left_minor, food.projected_minor, food.percent) == (0, 40000, 0, 0)
    assert food.state == "ok"


def test_later_settings_override_earlier_ones() -> None:
    s = build(
        setting("Food", 40000, "2026-01", every=True),
        setting("Food", 60000, "2026-03"),
    )
    assert [effective_setting(s, "food", parse_month(f"2026-{m:02d}")).amount_minor for m in (1, 2, 3, 4)] == [
        40000,
        40000,
        60000,
        40000,
    ]  # type: ignore[union-attr]
    s = add_setting(s, setting("Food", 50000, "2026-02", every=True))
    assert [effective_setting(s, "Food", parse_month(f"2026-{m:02d}")).amount_minor for m in (1, 2, 3, 4)] == [
        40000,
        50000,
        50000,
        50000,
    ]  # type: ignore[union-attr]
    assert len(s) == 2  # the March setting was fully overridden and dropped
    assert effective_setting(s, "Food", parse_month("2025-12")) is None
    s = add_setting(s, setting("Food", 70000, "2026-06"))
    assert effective_setting(s, "Food", parse_month("2026-06")).amount_minor == 70000  # type: ignore[union-attr]
    assert effective_setting(s, "Food", parse_month("2026-07")).amount_minor == 50000  # type: ignore[union-attr]


def test_no_budget_settings_and_dropping_everything() -> None:
    s = build(setting("Food", 40000, "2026-01", every=True), setting("Food", None, "2026-06"))
    assert effective_setting(s, "Food", parse_month("2026-06")) is None
    assert effective_setting(s, "Food", parse_month("2026-07")) is not None
    s = add_setting(s, setting("Food", None, "2026-08", every=True))
    assert effective_setting(s, "Food", parse_month("2026-09")) is None
    assert effective_setting(s, "Food", parse_month("2026-07")) is not None
    assert add_setting(s, setting("Food", None, "2026-01", every=True)) == []


def test_rollover_carries_leftover_and_overspend(spend: Callable[..., Transaction]) -> None:
    txs = [spend("300.00", "2026-01-15"), spend("600.00", "2026-02-15"), spend("50.00", "2026-03-02")]
    s = build(setting("Food", 40000, "2026-01", every=True, rollover=True))
    frame = frame_from_transactions(txs)
    jan, feb, mar, apr = (one(budget_status(frame, s, f"2026-0{m}", TODAY), "Food") for m in (1, 2, 3, 4))
    assert (jan.carried_minor, jan.budget_minor, jan.left_minor) == (0, 40000, 10000)
    assert (feb.carried_minor, feb.budget_minor, feb.left_minor, feb.over) == (10000, 50000, -10000, True)
    assert (mar.carried_minor, mar.budget_minor, mar.left_minor) == (-10000, 30000, 25000)  # overspend reduces March
    assert (apr.carried_minor, apr.budget_minor, apr.spent_minor) == (25000, 65000, 0)
    # the sum over a rollover run: budgets minus spending
    assert apr.left_minor == 4 * 40000 - (30000 + 60000 + 5000)


def test_rollover_chain_breaks_after_a_month_without_budget_and_when_rollover_is_off(
    spend: Callable[..., Transaction],
) -> None:
    frame = frame_from_transactions([spend("100.00", "2026-01-10")])
    s = build(
        setting("Food", 40000, "2026-01", every=True, rollover=True),
        setting("Food", None, "2026-02"),
    )
    mar = one(budget_status(frame, s, "2026-03", TODAY), "Food")
    assert mar.carried_minor == 0
    s = build(
        setting("Food", 40000, "2026-01", every=True), setting("Food", 40000, "2026-02", every=True, rollover=True)
    )
    feb = one(budget_status(frame, s, "2026-02", TODAY), "Food")
    assert feb.carried_minor == 30000  # January's leftover, January itself did not roll over
    s = add_setting(s, setting("Food", 40000, "2026-03", rollover=False))
    assert one(budget_status(frame, s, "2026-03", TODAY), "Food").carried_minor == 0
    assert one(budget_status(frame, s, "2026-04", TODAY), "Food").carried_minor == 40000  # March's leftover


def test_rollover_does_not_mix_currencies(spend: Callable[..., Transaction]) -> None:
    frame = frame_from_transactions([spend("100.00", "2026-01-10")])
    s = build(
        setting("Food", 40000, "2026-01", every=True, rollover=True),
        setting("Food", 50000, "2026-02", every=True, rollover=True, currency="USD"),
    )
    assert one(budget_status(frame, s, "2026-02", TODAY), "Food").carried_minor == 0


@pytest.mark.parametrize(
    ("spent", "month", "today", "expected"),
    [
        (10000, "2026-11", D(2026, 11, 10), 30000),  # 100 in 10 of 30 days
        (1, "2026-12", D(2026, 12, 3), 10),  # 31/3 = 10.33 -> 10
        (1, "2026-12", D(2026, 12, 2), 16),  # 15.5 -> 16 (half up)
        (7, "2028-02", D(2028, 2, 29), 7),  # last day of a leap February
        (500, "2026-10", D(2026, 11, 10), 500),  # past month: what was spent
        (500, "2026-12", D(2026, 11, 10), 500),  # future month: what is booked
        (0, "2026-11", D(2026, 11, 1), 0),
    ],
)
def test_projection(spent: int, month: str, today: D, expected: int) -> None:
    assert project(spent, parse_month(month), today) == expected


@settings(max_examples=200)
@given(spent=st.integers(0, 10**15), day=st.integers(1, 31))
def test_projection_is_exact_half_up_rounding(spent: int, day: int) -> None:
    month = D(2026, 12, 1)
    exact = Fraction(spent * 31, day)
    got = project(spent, month, D(2026, 12, day))
    assert abs(Fraction(got) - exact) <= Fraction(1, 2)
    assert got == int(exact + Fraction(1, 2))


def test_over_and_heading_over_flags(spend: Callable[..., Transaction]) -> None:
    frame = frame_from_transactions([spend("100.00", "2026-11-03"), spend("30.00", "2026-11-04", category="Fun")])
    s = build(setting("Food", 25000, "2026-11"), setting("Fun", 2000, "2026-11"), setting("Books", 10000, "2026-11"))
    rows = budget_status(frame, s, "2026-11", TODAY)
    assert [r.category for r in rows] == ["Books", "Food", "Fun"]
    food, fun, books = one(rows, "Food"), one(rows, "Fun"), one(rows, "Books")
    assert (food.over, food.heading_over, food.projected_minor, food.state) == (False, True, 30000, "heading_over")
    assert (fun.over, fun.heading_over, fun.left_minor, fun.state) == (True, False, -1000, "over")
    assert (books.over, books.heading_over) == (False, False)
    assert food.percent == 40
    assert food.days_left == 21
    assert food.per_day_left_minor == 15000 // 21
    assert fun.per_day_left_minor == 0
    j = fun.to_json()
    assert {k: j[k] for k in ("category", "budget", "spent", "left", "over")} == {
        "category": "Fun",
        "budget": "20.00",
        "spent": "30.00",
        "left": "-10.00",
        "over": True,
    }


def test_zero_decimal_currency_and_zero_budget(make_tx: Callable[..., Transaction]) -> None:
    frame = frame_from_transactions([make_tx(amount="1500", currency="JPY", category="Lunch", date="2026-11-02")])
    s = build(setting("Lunch", 1000, "2026-11", currency="JPY"), setting("Takeout", 0, "2026-11", currency="JPY"))
    lunch, takeout = (
        one(budget_status(frame, s, "2026-11", TODAY), "Lunch"),
        one(budget_status(frame, s, "2026-11", TODAY), "Takeout"),
    )
    assert lunch.to_json()["left"] == "-500"
    assert takeout.percent is None
    assert not takeout.over


def test_meta_round_trip_and_validation() -> None:
    s = build(setting("Food", 40000, "2026-01", every=True, rollover=True), setting("Food", None, "2026-03"))
    assert settings_from_meta(settings_to_meta(s)) == s
    assert settings_to_meta([]) is None
    with pytest.raises(ValidationError):
        settings_from_meta([{"category": "Food", "amount_minor": -1, "currency": "EUR", "month": "2026-01"}])
    with pytest.raises(ValidationError):
        settings_from_meta([{"category": "Food", "amount_minor": 1, "currency": "EUR", "month": "2026-13"}])
    for bad in ("2026-13", "26-01", "2026/01", "next month"):
        with pytest.raises(ValidationError):
            parse_month(bad)


@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 150_000)), min_size=1, max_size=14))
def test_rollover_run_adds_up(data: list[tuple[int, int]]) -> None:
    """With rollover every month, what is left at the end = sum of budgets - sum of spending."""
    s: list[BudgetSetting] = []
    txs = []
    month = D(2025, 1, 1)
    for n, (budget, spent) in enumerate(data):
        s = add_setting(s, BudgetSetting("Food", budget, "EUR", month, n == 0, True))
        if spent:
            amount = f"{spent // 100}.{spent % 100:02d}"
            txs.append(make_transaction(type="expense", amount=amount, category="Food", currency="EUR", date=month))
        if n + 1 < len(data):
            month = D(month.year + month.month // 12, month.month % 12 + 1, 1)
    last = one(budget_status(frame_from_transactions(txs), s, month, D(2030, 1, 1)), "Food")
    assert last.left_minor == sum(b for b, _ in data) - sum(x for _, x in data)


# --- on a ledger ----------------------------------------------------------------------------------------------


def test_set_budget_uses_the_existing_spelling_and_is_one_undoable_commit(ledger: Ledger) -> None:
    ledger.add_expense("30.00", category="Groceries", date="2026-11-02", currency="EUR")
    rev = ledger.revision
    stored = set_budget(ledger, "groceries", "400", month="2026-11", every_month=True, rollover=True, currency="eur")
    assert ledger.revision == rev + 1
    assert (stored.category, stored.amount_minor, stored.currency) == ("Groceries", 40000, "EUR")
    row = one(status(ledger, "2026-12", TODAY), "Groceries")
    assert (row.budget_minor, row.carried_minor) == (40000 + 37000, 37000)
    assert Ledger(ledger.location).meta("budgets") == settings_to_meta(load_settings(ledger))
    ledger.undo()
    assert load_settings(ledger) == []


def test_set_budget_validates(ledger: Ledger) -> None:
    for bad in ("-5", "abc", "1.234"):
        with pytest.raises(ValidationError):
            set_budget(ledger, "Food", bad, currency="EUR")
    with pytest.raises(ValidationError):
        set_budget(ledger, "", "10")
    with pytest.raises(ValidationError):
        set_budget(ledger, "Food", "10", month="2026-00")
    assert load_settings(ledger) == []


def test_delete_budget(ledger: Ledger) -> None:
    set_budget(ledger, "Food", "400", month="2026-01", every_month=True, currency="EUR")
    delete_budget(ledger, "food", month="2026-03")
    assert [effective_setting(load_settings(ledger), "Food", D(2026, m, 1)) is None for m in (2, 3, 4)] == [
        False,
        True,
        False,
    ]
    with pytest.raises(NotFoundError):
        delete_budget(ledger, "Food", month="2026-03")
    delete_budget(ledger, "Food", month="2026-06", every_month=True)
    assert effective_setting(load_settings(ledger), "Food", D(2026, 7, 1)) is None
    assert effective_setting(load_settings(ledger), "Food", D(2026, 5, 1)) is not None
    delete_budget(ledger, "FOOD")
    assert load_settings(ledger) == []
    with pytest.raises(NotFoundError):
        delete_budget(ledger, "Food")
    assert ledger.undo() is not None
    assert load_settings(ledger) != []
