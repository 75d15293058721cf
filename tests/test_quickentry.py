"""Quick entry: a table of lines and the transactions they become, the errors, the category guess, fuzzing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.categorize import History
from tracker.errors import ValidationError
from tracker.ledger import Ledger
from tracker.model import make_transaction
from tracker.money import read_any_number
from tracker.quickentry import (
    guess_category,
    parse_amount_token,
    parse_quick_entry,
    preview,
    save,
)

D = dt.date
TODAY = D(2026, 11, 28)  # a Saturday


def tx(note: str, category: str, date: str = "2026-10-01", type: str = "expense"):  # type: ignore[no-untyped-def]
    return make_transaction(type=type, amount="1", category=category, currency="USD", date=date, note=note)


HISTORY = History.from_transactions(
    [
        tx("coffee", "Food"),
        tx("coffee", "Food", "2026-10-02"),
        tx("coffee", "Drinks", "2026-10-03"),
        tx("lunch with team", "Eating out"),
        tx("team dinner", "Eating out"),
        tx("", "Groceries"),
        tx("", "Salary", type="income"),
        tx("bonus payment", "Salary", type="income"),
    ]
)

# text -> (type, amount, currency, date, category, tags, note)
CASES = [
    ("coffee 4.50 yesterday #work", ("expense", "4.50", "USD", D(2026, 11, 27), "Food", ("work",), "coffee")),
    ("salary +2500 on 2026-11-01", ("income", "2500.00", "USD", D(2026, 11, 1), "Salary", (), "")),
    ("12,40 groceries", ("expense", "12.40", "USD", TODAY, "Groceries", (), "")),
    ("+ 30 gift from mum", ("income", "30.00", "USD", TODAY, "Gift", (), "gift from mum")),
    (
        "lunch with team 1,234.56 monday",
        ("expense", "1234.56", "USD", D(2026, 11, 23), "Eating out", (), "lunch with team"),
    ),
    ("team drinks 1.234,50 friday", ("expense", "1234.50", "USD", D(2026, 11, 27), "Drinks", (), "team drinks")),
    ("saturday cinema 9", ("expense", "9.00", "USD", TODAY, "Cinema", (), "")),
    ("last saturday cinema 9", ("expense", "9.00", "USD", D(2026, 11, 21), "Cinema", (), "")),
    ("team lunch 1.505", ("expense", "1505.00", "USD", TODAY, "Eating out", (), "team lunch")),
    ("Taxi 20 EUR TUESDAY #Work #trip", ("expense", "20.00", "EUR", D(2026, 11, 24), "Taxi", ("trip", "Work"), "")),
    ("€4,50 bread", ("expense", "4.50", "EUR", TODAY, "Bread", (), "")),
    ("bread 4,50€ tomorrow", ("expense", "4.50", "EUR", D(2026, 11, 29), "Bread", (), "")),
    ("rent 1.200 @Housing 2026/11/01", ("expense", "1200.00", "USD", D(2026, 11, 1), "Housing", (), "rent")),
    ("ramen ¥1500 @Eating_out", ("expense", "1500", "JPY", TODAY, "Eating out", (), "ramen")),
    ("4.5", ("expense", "4.50", "USD", TODAY, "Uncategorized", (), "")),  # issue 13: was "Other"
    ("+100", ("income", "100.00", "USD", TODAY, "Uncategorized", (), "")),  # the one default (was "Income")
    ("bonus +$300 today", ("income", "300.00", "USD", TODAY, "Salary", (), "bonus")),
    ("parking -3 1.11.2026", ("expense", "3.00", "USD", D(2026, 11, 1), "Parking", (), "")),
    ("coffees .80", ("expense", "0.80", "USD", TODAY, "Food", (), "coffees")),
    ("the new shoes 60", ("expense", "60.00", "USD", TODAY, "Shoes", (), "the new shoes")),
    ("  Coffee   3  ", ("expense", "3.00", "USD", TODAY, "Food", (), "Coffee")),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_table_of_lines(text: str, expected: tuple[object, ...]) -> None:
    entry = parse_quick_entry(text, TODAY, HISTORY)
    got = (entry.type, entry.amount_text, entry.currency, entry.date, entry.category, entry.tags, entry.note)
    assert got == expected
    made = entry.to_transaction()
    assert (made.type, made.amount_minor, made.currency, made.date, made.category, made.tags, made.note) == (
        entry.type,
        entry.amount_minor,
        entry.currency,
        entry.date,
        entry.category,
        entry.tags,
        entry.note,
    )
    assert entry.amount == Decimal(entry.amount_text)


ERRORS = [
    ("", "text", "empty"),
    ("   ", "text", "empty"),
    ("coffee", "amount", "no amount"),
    ("coffee #work yesterday", "amount", "no amount"),
    ("coffee 4.50 5.00", "amount", "second amount"),
    ("coffee 4.50 on 2026-02-30", "date", "not a valid date"),
    ("coffee 4.50 on 11/01", "date", "not a date I understand"),
    ("coffee 4.50 yesterday today", "date", "second date"),
    ("coffee 1,2,3", "amount", "not an amount"),
    ("coffee 0", "amount", "greater than zero"),
    ("coffee 4.5055", "amount", "decimal places"),
    ("ramen ¥15.50", "amount", "decimal places"),
    ("coffee 99999999999", "amount", "too large"),
    ("coffee 4 # work", "tag", "empty"),
    ("coffee 4 @A @B", "category", "second category"),
    ("coffee 4 EUR USD", "currency", "second currency"),
    ("coffee $4 EUR", "currency", "does not match"),
    ("coffee 4 on 1850-01-01", "date", "outside"),
]


@pytest.mark.parametrize(("text", "field", "words"), ERRORS, ids=[e[0] or "empty" for e in ERRORS])
def test_errors_name_the_part_not_understood(text: str, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_quick_entry(text, TODAY, HISTORY)
    assert info.value.field == field
    assert words in str(info.value)


def test_weekday_today_is_today_and_last_weekday_is_a_week_ago() -> None:
    assert parse_quick_entry("x 1 saturday", TODAY).date == TODAY
    assert parse_quick_entry("x 1 last saturday", TODAY).date == TODAY - dt.timedelta(days=7)
    assert parse_quick_entry("x 1 sunday", TODAY).date == D(2026, 11, 22)
    assert parse_quick_entry("x 1 on friday", TODAY).date == D(2026, 11, 27)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", "12"),
        ("12,40", "12.40"),
        ("12.4", "12.4"),
        ("1,234", "1234"),
        ("1.234", "1234"),
        ("1,234,567.89", "1234567.89"),
        ("1.234.567,89", "1234567.89"),
        ("1'234.50", "1234.50"),
        (",5", "0.5"),
        ("12345,67", "12345.67"),
    ],
)
def test_read_any_number(text: str, value: str) -> None:
    assert read_any_number(text) == Decimal(value)


@pytest.mark.parametrize("text", ["1,2,3", "1.234,56.7", "12.", "1,23,456", "1234,567,890", "1'2"])
def test_read_any_number_refuses(text: str) -> None:
    assert read_any_number(text) is None


def test_parse_amount_token_signs_and_symbols() -> None:
    assert parse_amount_token("+$2,500") == (Decimal("2500"), "+", "USD")
    assert parse_amount_token("$+5") == (Decimal("5"), "+", "USD")
    assert parse_amount_token("4,50€") == (Decimal("4.50"), "", "EUR")
    assert parse_amount_token("+-5") is None
    assert parse_amount_token("$5€") is None
    assert parse_amount_token("abc") is None


def test_category_guess_rules() -> None:
    # exact note: most frequent category (Food 2 x Drinks 1)
    assert HISTORY.guess("coffee", "expense") == ("Food", "history")
    # a word that is an existing category
    assert HISTORY.guess("weekly groceries run", "expense") == ("Groceries", "category")
    # word overlap with past notes
    assert HISTORY.guess("team breakfast", "expense") == ("Eating out", "words")
    # type matters for notes
    assert HISTORY.guess("bonus", "expense") is None
    assert HISTORY.guess("bonus", "income") == ("Salary", "words")
    # issue 13: the one default of imports, for expenses and income alike (was "Other" and "Income")
    assert guess_category("", "expense") == ("Uncategorized", "default")
    assert guess_category("", "income") == ("Uncategorized", "default")
    assert guess_category("a 42 !!", "expense") == ("Uncategorized", "default")
    assert guess_category("iPhone case", "expense") == ("IPhone", "word")


def test_a_tie_goes_to_the_most_recent_category() -> None:
    history = History.from_transactions([tx("snack", "Food", "2026-01-01"), tx("snack", "Treats", "2026-02-01")])
    assert history.guess("snack", "expense") == ("Treats", "history")
    history = History.from_transactions([tx("snack", "Treats", "2026-01-01"), tx("snack", "Food", "2026-02-01")])
    assert history.guess("snack", "expense") == ("Food", "history")


def test_history_from_a_ledger_frame_and_save(ledger: Ledger) -> None:
    ledger.add_expense("3.00", category="Coffee shops", note="flat white", date="2026-11-01", currency="EUR")
    ledger.update_settings(currency="EUR")
    entry = preview(ledger, "flat white 3,20 yesterday #me", today=TODAY)
    assert (entry.category, entry.category_source, entry.currency, entry.amount_minor) == (
        "Coffee shops",
        "history",
        "EUR",
        320,
    )
    assert len(ledger) == 1  # a preview saves nothing
    rev = ledger.revision
    saved = save(ledger, entry)
    assert ledger.revision == rev + 1
    stored = Ledger(ledger.location).get(saved.id)
    assert (stored.amount_minor, stored.date, stored.tags, stored.note) == (320, D(2026, 11, 27), ("me",), "flat white")


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_any_text_parses_or_raises_validation_error(text: str) -> None:
    try:
        entry = parse_quick_entry(text, TODAY, HISTORY)
    except ValidationError as exc:
        message = str(exc)
    else:
        entry.to_transaction()  # what the preview shows can always be saved
        return
    assert message.split(":")[0] in {"text", "amount", "date", "tag", "tags", "category", "currency", "note"}


TOKENS = st.sampled_from(
    [
        "coffee", "4.50", "+2500", "12,40", "yesterday", "today", "monday", "last", "on", "2026-11-01",
        "2026-02-30", "#work", "#", "@Food", "@", "EUR", "$", "€3", "+", "-", "1,234.56", "1.2.3", "1.11.2026",
        "0", ".5", "¥1500", "x", "11/01", "9999999999", "٣", "１２",
    ]
)  # fmt: skip


@settings(max_examples=400)
@given(st.lists(st.one_of(TOKENS, st.text(max_size=6)), max_size=7))
def test_token_soup_parses_or_raises_validation_error(tokens: list[str]) -> None:
    text = " ".join(tokens)
    try:
        entry = parse_quick_entry(text, TODAY, HISTORY, currency="EUR")
    except ValidationError:
        return
    assert entry.amount_minor > 0
    entry.to_transaction()


@settings(max_examples=200)
@given(
    units=st.integers(1, 10**8),
    cents=st.integers(0, 99),
    words=st.lists(st.sampled_from(["tea", "bus", "book", "gift", "rent"]), max_size=3),
    comma=st.booleans(),
    income=st.booleans(),
)
def test_generated_amounts_round_trip(units: int, cents: int, words: list[str], comma: bool, income: bool) -> None:
    amount = f"{units}{',' if comma else '.'}{cents:02d}"
    text = " ".join([*words, ("+" if income else "") + amount])
    entry = parse_quick_entry(text, TODAY)
    assert entry.amount_minor == units * 100 + cents
    assert entry.type == ("income" if income else "expense")
    assert entry.note == " ".join(words) or entry.category.casefold() == " ".join(words)


def test_history_from_a_frame_equals_history_from_transactions() -> None:
    """The aggregated frame path and the row path index the same thing and guess the same."""
    import random

    from tracker.frame import frame_from_transactions

    rng = random.Random(3)
    words = ["coffee", "Coffee", "lunch", "team", "bus", "rent", "", "gift  card", "books"]
    cats = ["Food", "food", "Travel", "Home", "Gifts"]
    txs = sorted(
        (
            make_transaction(
                type=rng.choice(["income", "expense"]),
                amount="1",
                category=rng.choice(cats),
                currency="USD",
                date=D(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 300)),
                note=" ".join(rng.sample(words, rng.randint(0, 2))),
            )
            for _ in range(400)
        ),
        key=lambda t: (t.date, t.created_at),
    )
    a = History.from_transactions(txs)
    b = History.from_frame(frame_from_transactions(txs))
    assert (a._exact, a._by_key, a._index, a._names, a._recent, a._total) == (
        b._exact,
        b._by_key,
        b._index,
        b._names,
        b._recent,
        b._total,
    )
    for text in [*words, "team coffee", "coffee gift", "unknown"]:
        for kind in ("income", "expense", None):
            assert a.guess(text, kind) == b.guess(text, kind)


@pytest.mark.parametrize(
    ("number_format", "token", "value"),
    [
        ("1.234,56", "12,50", "12.50"),
        ("1.234,56", "1.234", "1234"),
        ("1.234,56", "1,5", "1.5"),
        ("1,234.56", "1,234", "1234"),
        ("1,234.56", "12,40", "12.40"),  # the format refuses it: read without one, as before
        ("1,234.56", "1.234,50", "1234.50"),
        ("1.234,56", "1,234", "1.234"),  # the chosen format decides what is ambiguous without one
        (None, "1,234", "1234"),
    ],
)
def test_the_amount_is_read_in_the_chosen_number_format_first(
    number_format: str | None, token: str, value: str
) -> None:
    parsed = parse_amount_token(token, number_format)
    assert parsed is not None
    assert parsed[0] == Decimal(value)


def test_preview_reads_the_amount_in_the_ledger_number_format(ledger: Ledger) -> None:
    ledger.update_settings(number_format="1.234,56", currency="EUR")
    assert preview(ledger, "miete 1.250,5 @Rent", TODAY).amount_minor == 125050
    assert preview(ledger, "kaffee 2,5", TODAY).amount_minor == 250
