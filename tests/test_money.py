"""tracker.money: text/Decimal in, exact integer minor units inside, text out; floats refused."""

from __future__ import annotations

import os
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.errors import ValidationError
from tracker.money import (
    CURRENCY_EXPONENTS,
    MAX_MAJOR,
    NUMBER_FORMATS,
    exponent,
    format_money,
    format_plain,
    normalize_currency,
    parse_bank_amount,
    parse_user_amount,
    to_decimal,
    to_decimal_amount,
    to_minor,
)

THOROUGH = os.environ.get("EXPENSE_TRACKER_THOROUGH") == "1"
EXAMPLES = 2000 if THOROUGH else 150
currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12.5", "EUR", 1250),
        ("12", "EUR", 1200),
        ("0.01", "USD", 1),
        ("+3.00", "USD", 300),
        ("1,234.56", "USD", 123456),
        ("1,234,567", "USD", 123456700),
        ("  7.10 ", "GBP", 710),
        ("1 234.50", "EUR", 123450),
        ("1\u00a0234.50", "EUR", 123450),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("0.0001", "CLF", 1),
        ("9999999999.99", "EUR", 999999999999),
        ("12.500", "EUR", 1250),
    ],
)
def test_to_minor_parses_text_exactly(text: str, currency: str, minor: int) -> None:
    assert to_minor(text, currency) == minor


def test_to_minor_accepts_decimal_and_int() -> None:
    assert to_minor(Decimal("0.10"), "EUR") == 10
    assert to_minor(Decimal("1E+2"), "EUR") == 10000
    assert to_minor(42, "JPY") == 42
    assert to_minor(42, "EUR") == 4200


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (12.5, "float"),
        (0.1, "float"),
        (float("nan"), "float"),
        (float("inf"), "float"),
        (True, "float"),
        (Decimal("NaN"), "finite"),
        (Decimal("sNaN"), "finite"),
        (Decimal("Infinity"), "finite"),
        (Decimal("-Infinity"), "finite"),
        ("0", "greater than zero"),
        ("0.00", "greater than zero"),
        (Decimal("0"), "greater than zero"),
        (Decimal("-0"), "greater than zero"),
        (Decimal("-5"), "greater than zero"),
        (-5, "greater than zero"),
        ("-5", "not an amount"),
        ("12.345", "decimal places"),
        ("1e5", "not an amount"),
        ("NaN", "not an amount"),
        ("inf", "not an amount"),
        ("", "not an amount"),
        ("12,50", "not an amount"),
        ("1,23.00", "not an amount"),
        ("12.", "not an amount"),
        ("abc", "not an amount"),
        ("10000000000", "too large"),
        ("10000000000.00", "too large"),
        (Decimal("1E+10"), "too large"),
        (10**30, "too large"),
        (None, "text"),
        (["12"], "text"),
    ],
)
def test_to_minor_refuses_bad_values_naming_the_field(value: object, problem: str) -> None:
    with pytest.raises(ValidationError) as info:
        to_minor(value, "EUR", field="price")
    assert info.value.field == "price"
    assert str(info.value).startswith("price: ")
    assert problem in str(info.value)


def test_more_decimals_than_the_currency_has_are_refused() -> None:
    with pytest.raises(ValidationError, match="JPY"):
        to_minor("12.5", "JPY")
    assert to_minor("12.0", "JPY") == 12


@pytest.mark.parametrize(
    "value",
    [
        "1.0000000000000000000000000001",  # 29 significant digits: beyond Decimal's default precision
        Decimal("1.0000000000000000000000000001"),
        Decimal("12.3400000000000000000000000001"),
    ],
)
def test_a_tiny_extra_fraction_is_refused_not_rounded_away(value: object) -> None:
    with pytest.raises(ValidationError, match="decimal places"):
        to_minor(value, "EUR")


def test_an_amount_just_below_the_limit_never_rounds_up_to_it() -> None:
    with pytest.raises(ValidationError):
        to_minor(Decimal("9999999999.9999999999999999999999"), "EUR")
    assert to_minor("9999999999.99", "EUR") < MAX_MAJOR * 100


def test_currency_codes() -> None:
    assert normalize_currency(" eur ") == "EUR"
    assert exponent("jpy") == 0
    assert exponent("KWD") == 3
    for bad in ("EURO", "XXX", "", None, 978):
        with pytest.raises(ValidationError) as info:
            normalize_currency(bad)
        assert info.value.field == "currency"
    with pytest.raises(ValidationError, match="currency"):
        to_minor("1.00", "ABC")


DOT, COMMA, SPACE, APOSTROPHE = "1,234.56", "1.234,56", "1 234,56", "1'234.56"
NO = None  # refused

# text, number format -> what parse_user_amount reads in that format, and what parse_bank_amount reads with
# that format's decimal separator (None: refused). One table, so the two readers cannot drift apart.
AMOUNTS = [
    ("12.50", DOT, "12.50", "12.50"),
    ("12.5", DOT, "12.5", "12.5"),
    ("12", DOT, "12", "12"),
    ("12.500", DOT, "12.500", "12.500"),
    ("+3.00", DOT, "3.00", "3.00"),
    ("+ 3.00", DOT, "3.00", "3.00"),
    ("  7.10 ", DOT, "7.10", "7.10"),
    ("1,234.56", DOT, "1234.56", "1234.56"),
    ("1,234,567", DOT, "1234567", "1234567"),
    ("1.234", DOT, "1.234", "1.234"),
    ("1 234.50", DOT, "1234.50", "1234.50"),
    ("1\u00a0234.50", DOT, "1234.50", "1234.50"),
    ("1'234.50", DOT, "1234.50", "1234.50"),
    ("12 50", DOT, NO, "1250"),  # a space groups thousands only by threes in what people type
    ("7.8 65", DOT, NO, "7.865"),
    ("1'234.50", APOSTROPHE, "1234.50", "1234.50"),
    ("1'000'000", APOSTROPHE, "1000000", "1000000"),
    ("12,50", DOT, NO, NO),  # a comma is no decimal separator in this format
    ("12,50", APOSTROPHE, NO, NO),
    ("1.234,56", DOT, NO, NO),
    ("1,23.00", DOT, NO, NO),
    ("1,23.45", DOT, NO, NO),
    ("1,23,456", DOT, NO, NO),
    ("12.3.4", DOT, NO, NO),
    ("12.", DOT, NO, "12"),  # banks write a bare point; people mean something else
    (".5", DOT, NO, "0.5"),
    ("-5", DOT, NO, "-5"),  # a typed amount is positive: its type gives the sign
    ("−5", DOT, NO, "-5"),
    ("(12.50)", DOT, NO, "-12.50"),
    ("5.00 DR", DOT, NO, "-5.00"),
    ("5.00 CR", DOT, NO, "5.00"),
    ("-£1,000.00", DOT, NO, "-1000.00"),
    ("$12.50", DOT, NO, "12.50"),
    ("12.50 USD", DOT, NO, "12.50"),
    ("+7", DOT, "7", "7"),
    ("--5", DOT, NO, NO),
    ("-(5)", DOT, NO, NO),
    ("-", DOT, NO, NO),
    ("", DOT, NO, NO),
    ("   ", DOT, NO, NO),
    ("abc", DOT, NO, NO),
    ("1e5", DOT, NO, NO),
    ("NaN", DOT, NO, NO),
    ("inf", DOT, NO, NO),
    ("0x10", DOT, NO, NO),
    ("12\n50", DOT, NO, NO),
    ("1234567890123456", DOT, "1234567890123456", NO),  # no bank moves a quadrillion; to_minor refuses it too
    ("1.123456789", DOT, "1.123456789", NO),
    ("12,50", COMMA, "12.50", "12.50"),  # issue 13: the table editor, budgets and recurring refused this
    ("12,5", COMMA, "12.5", "12.5"),
    ("1.234,56", COMMA, "1234.56", "1234.56"),
    ("1.234.567,89", COMMA, "1234567.89", "1234567.89"),
    ("1.234", COMMA, "1234", "1234"),
    ("0.001", COMMA, "0.001", "1"),  # what people type: no group after a leading 0 (banks: as before)
    ("0,500", DOT, NO, "500"),
    ("1,234", COMMA, "1.234", "1.234"),
    ("12.50", COMMA, "12.50", NO),  # the machine form (what the table shows) is still read where unambiguous
    ("1.2345", COMMA, "1.2345", NO),
    ("1,234.56", COMMA, "1234.56", NO),
    ("1'234,50", COMMA, "1234.50", "1234.50"),
    ("-1.234,56", COMMA, NO, "-1234.56"),
    ("12,50-", COMMA, NO, "-12.50"),
    ("€ 3,00", COMMA, NO, "3.00"),
    ("EUR -12,5", COMMA, NO, "-12.5"),
    ("1,2,3", COMMA, NO, NO),
    ("12,5x", COMMA, NO, NO),
    ("1.23,4", COMMA, NO, NO),
    ("1 234,56", SPACE, "1234.56", "1234.56"),
    ("1\u202f234,56", SPACE, "1234.56", "1234.56"),
    ("12,50", SPACE, "12.50", "12.50"),
    ("1 234 567,89", SPACE, "1234567.89", "1234567.89"),
    ("1.234,56", SPACE, "1234.56", "1234.56"),
]


@pytest.mark.parametrize(("text", "number_format", "typed", "bank"), AMOUNTS)
def test_typed_and_bank_amounts(text: str, number_format: str, typed: str | None, bank: str | None) -> None:
    if typed is None:
        with pytest.raises(ValidationError) as info:
            parse_user_amount(text, number_format)
        assert info.value.field == "amount"
        assert info.value.value == text
    else:
        got = parse_user_amount(text, number_format)
        assert isinstance(got, Decimal)
        assert str(got) == typed  # exact, with the places as typed
    decimal = NUMBER_FORMATS[number_format][1]
    if bank is None:
        with pytest.raises(ValueError):
            parse_bank_amount(text, decimal)
    else:
        got = parse_bank_amount(text, decimal)
        assert isinstance(got, Decimal)
        assert str(got) == bank


@pytest.mark.parametrize(
    ("number_format", "example"),
    [
        (DOT, "12.50 or 1,234.56"),
        (COMMA, "12,50 or 1.234,56"),
        (SPACE, "12,50 or 1\u202f234,56"),
        (APOSTROPHE, "12.50 or 1'234.56"),
    ],
)
def test_a_refused_amount_shows_the_form_of_the_chosen_format(number_format: str, example: str) -> None:
    with pytest.raises(ValidationError, match=f"write it like {example}$") as info:
        parse_user_amount("12x", number_format, field="budget")
    assert str(info.value).startswith("budget: '12x' is not an amount")


def test_a_bank_decimal_separator_is_a_point_or_a_comma() -> None:
    with pytest.raises(ValueError, match="must be"):
        parse_bank_amount("12;50", ";")


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.integers(min_value=1, max_value=MAX_MAJOR * 100 - 1), st.sampled_from(sorted(NUMBER_FORMATS)), currencies)
def test_an_amount_shown_in_a_format_reads_back_in_that_format(minor: int, number_format: str, currency: str) -> None:
    shown = format_money(minor, currency, number_format, symbol=False)
    assert parse_user_amount(shown, number_format) == to_decimal_amount(minor, currency)
    point = NUMBER_FORMATS[number_format][1]
    plain = format_plain(minor, currency)
    if not (point == "," and re.fullmatch(r"[1-9]\d{0,2}\.\d{3}", plain)):  # 1.234 KWD: 1234 in that format
        assert parse_user_amount(plain, number_format) == to_decimal_amount(minor, currency)
    assert parse_bank_amount(shown, point) == to_decimal_amount(minor, currency)


def test_to_decimal_keeps_the_text_exact() -> None:
    assert to_decimal("0.10") == Decimal("0.10")
    assert str(to_decimal("1,234.50")) == "1234.50"
    with pytest.raises(ValidationError, match="float"):
        to_decimal(0.1, "min")


@pytest.mark.parametrize(
    ("minor", "currency", "plain", "money"),
    [
        (1250, "EUR", "12.50", "€12.50"),
        (-300, "USD", "-3.00", "-$3.00"),
        (5, "USD", "0.05", "$0.05"),
        (0, "EUR", "0.00", "€0.00"),
        (123456789, "USD", "1234567.89", "$1,234,567.89"),
        (1500, "JPY", "1500", "¥1,500"),
        (1234, "KWD", "1.234", "1.234 KWD"),
        (-1, "CLF", "-0.0001", "-0.0001 CLF"),
    ],
)
def test_formatting(minor: int, currency: str, plain: str, money: str) -> None:
    assert format_plain(minor, currency) == plain
    assert format_money(minor, currency) == money


def test_number_formats() -> None:
    assert format_money(123456, "EUR", "1.234,56") == "€1.234,56"
    assert format_money(123456, "EUR", "1 234,56") == "€1\u202f234,56"
    assert format_money(123456, "CHF", "1'234.56") == "CHF 1'234.56"
    assert format_money(-123456, "EUR", symbol=False) == "-1,234.56"


@st.composite
def valid_amounts(draw: st.DrawFn) -> tuple[Decimal, str, int]:
    """Any positive Decimal below the limit with no more places than its currency allows."""
    currency = draw(currencies)
    exp = CURRENCY_EXPONENTS[currency]
    minor = draw(st.integers(min_value=1, max_value=MAX_MAJOR * 10**exp - 1))
    trailing = draw(st.integers(min_value=0, max_value=3))  # "12.50" and "12.5000" are the same amount
    return (Decimal(minor).scaleb(-exp) if exp else Decimal(minor)), currency, trailing


@settings(max_examples=EXAMPLES, deadline=None)
@given(valid_amounts())
def test_any_valid_amount_round_trips_exactly(case: tuple[Decimal, str, int]) -> None:
    amount, currency, trailing = case
    minor = to_minor(amount, currency)
    assert to_decimal_amount(minor, currency) == amount
    text = format_plain(minor, currency)
    assert Decimal(text) == amount
    assert to_minor(text, currency) == minor
    padded = text + ("." if "." not in text and trailing else "") + "0" * trailing
    assert to_minor(padded, currency) == minor
    assert to_minor(str(amount), currency) == minor


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.decimals(allow_nan=True, allow_infinity=True, places=None), currencies)
def test_any_decimal_is_either_exact_or_refused_naming_the_field(value: Decimal, currency: str) -> None:
    exp = CURRENCY_EXPONENTS[currency]
    valid = value.is_finite() and Decimal(0) < value < MAX_MAJOR and value == round(value, exp)
    if not valid:
        with pytest.raises(ValidationError) as info:
            to_minor(value, currency, field="amount")
        assert info.value.field == "amount"
        assert str(info.value).startswith("amount: ")
        return
    minor = to_minor(value, currency, field="amount")
    assert Decimal(minor).scaleb(-exp) == value
    assert 0 < minor < MAX_MAJOR * 10**exp


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_every_float_is_refused(value: float) -> None:
    with pytest.raises(ValidationError, match="float") as info:
        to_minor(value, "EUR")
    assert info.value.field == "amount"


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(max_size=30), currencies)
def test_any_text_is_exact_or_refused(text: str, currency: str) -> None:
    try:
        minor = to_minor(text, currency)
    except ValidationError as exc:
        error: ValidationError | None = exc
    else:
        error = None
    if error is not None:
        assert error.field == "amount"
    else:
        assert isinstance(minor, int)
        assert 0 < minor < MAX_MAJOR * 10 ** CURRENCY_EXPONENTS[currency]
        assert to_minor(format_plain(minor, currency), currency) == minor
