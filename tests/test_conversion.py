"""The reporting currency: every row converted (summary, dashboard, budgets, net worth, report), never at a default
rate; what has no rate (or a stale one) is left out and said; rates observed from purchases abroad."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tracker import analysis
from tracker.accounts import add_account
from tracker.analysis import Period
from tracker.budgets import set_budget, status
from tracker.conversion import convert_rows, left_out, net_worth_in, rate_book, reporting_currency
from tracker.filters import Filter
from tracker.frame import frame_from_transactions
from tracker.ledger import Ledger
from tracker.model import make_transaction
from tracker.rates import CONTEXT, Rate, RateBook, add_rate
from tracker.rows import FrameRows, StoredRows

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def three_currencies(ledger: Ledger) -> None:
    add_account(ledger, "Checking", currency="USD")
    add_account(ledger, "Euro", kind="savings", currency="EUR")
    add_account(ledger, "Pounds", kind="cash", currency="GBP")
    ledger.add_expense("10.00", category="Food", account="Checking", date="2026-03-02")
    ledger.add_expense("20.00", category="Food", account="Euro", date="2026-03-03")
    ledger.add_expense("5.00", category="Books", account="Pounds", date="2026-03-04")
    ledger.add_income("100.00", category="Pay", account="Euro", date="2026-03-05")


def test_the_reporting_currency_defaults_to_the_default_currency(ledger: Ledger) -> None:
    assert reporting_currency(ledger) == "USD"
    ledger.update_settings(reporting_currency="eur")
    assert reporting_currency(ledger) == "EUR"
    ledger.update_settings(reporting_currency="")
    assert reporting_currency(ledger) == "USD"


def test_the_dashboard_converts_every_row_and_counts_what_has_no_rate(ledger: Ledger) -> None:
    three_currencies(ledger)
    add_rate(ledger, "2026-03-01", "EUR", "USD", "1.0825")
    board = analysis.dashboard(ledger.lines(), MARCH, "USD", rates=rate_book(ledger))
    now = board.comparison.current
    # 10.00 + 20.00 x 1.0825 = 21.65 (rounded half-even per row); 100 EUR -> 108.25; the GBP row has no rate
    assert (now.expenses, now.income, now.excluded) == (1000 + 2165, 10825, 1)
    assert dict(zip(board.by_category["category"], board.by_category["amount_minor"], strict=True)) == {"Food": 3165}
    assert dict(board.left_out.missing) == {"GBP": 1}
    assert "1 transaction in GBP has no exchange rate to USD" in board.left_out.messages()[0]
    assert "expense-tracker rates add DATE GBP USD RATE" in board.left_out.messages()[0]
    unconverted = analysis.dashboard(ledger.lines(), MARCH, "USD")  # without rates: only the USD rows
    assert (unconverted.comparison.current.expenses, unconverted.excluded) == (1000, 3)
    add_rate(ledger, "2026-03-01", "EUR", "GBP", "0.85")  # GBP -> USD through EUR: 5 / 0.85 x 1.0825 = 6.367...
    again = analysis.dashboard(ledger.lines(), MARCH, "USD", rates=rate_book(ledger))
    assert again.comparison.current.expenses == 1000 + 2165 + 637
    assert not again.left_out


def test_a_rate_older_than_31_days_is_used_and_flagged_stale(ledger: Ledger) -> None:
    three_currencies(ledger)
    add_rate(ledger, "2026-01-15", "EUR", "USD", "1.10")
    board = analysis.dashboard(ledger.lines(), MARCH, "USD", rates=rate_book(ledger))
    assert dict(board.left_out.stale) == {"EUR": 2}
    assert "more than 31 days old" in board.left_out.messages()[-1]
    add_rate(ledger, "2026-02-20", "EUR", "USD", "1.10")
    assert not analysis.dashboard(ledger.lines(), MARCH, "USD", rates=rate_book(ledger)).left_out.stale


def test_summary_converts_into_the_reporting_currency_and_names_what_is_left_out(cli: Callable[..., Any]) -> None:
    for argv in (
        ("account", "add", "Checking", "--kind", "checking", "--currency", "USD"),
        ("account", "add", "Euro", "--kind", "savings", "--currency", "EUR"),
        ("account", "add", "Pounds", "--kind", "cash", "--currency", "GBP"),
        ("add", "expense", "10", "--category", "Food", "--account", "Checking", "--date", "2026-03-02"),
        ("add", "expense", "20", "--category", "Food", "--account", "Euro", "--date", "2026-03-03"),
        ("add", "expense", "5", "--category", "Books", "--account", "Pounds", "--date", "2026-03-04"),
        ("rates", "add", "2026-03-01", "EUR", "USD", "1.0825"),
    ):
        cli(*argv, check=True)
    result = json.loads(cli("summary", "--format", "json").stdout)
    assert (result["currency"], result["expense"], result["by_category"]) == ("USD", "31.65", {"Food": "31.65"})
    assert (result["unconverted"], result["stale"]) == ({"GBP": 1}, {})
    assert result["by_currency"]["EUR"]["expense"] == "20.00"  # each currency's own totals stay
    in_euro = json.loads(cli("summary", "--currency", "EUR", "--format", "json").stdout)
    assert (in_euro["expense"], in_euro["unconverted"]) == ("29.24", {"GBP": 1})  # 10 / 1.0825 = 9.2378 -> 9.24
    shown = cli("summary").stdout
    assert "All, in USD" in shown
    assert "1 transaction in GBP has no exchange rate to USD and is left out" in shown
    bad = cli("summary", "--currency", "XYZ")
    assert bad.returncode == 2
    assert "currency" in bad.stderr


def test_a_purchase_abroad_gives_the_rate_of_its_day(ledger: Ledger) -> None:
    add_account(ledger, "Checking", currency="USD")
    add_account(ledger, "Euro", kind="savings", currency="EUR")
    ledger.add_expense(
        "44.10",
        category="Hotel",
        account="Checking",
        date="2026-03-10",
        original_amount="41.00",
        original_currency="EUR",
    )
    ledger.add_expense("10.00", category="Food", account="Euro", date="2026-03-10")
    book = rate_book(ledger)
    found = book.rate("EUR", "USD", dt.date(2026, 3, 10))
    assert found is not None
    assert found.rate == CONTEXT.divide(Decimal("44.10"), Decimal("41.00"))  # exact to 34 digits
    board = analysis.dashboard(ledger.lines(), MARCH, "USD", rates=book)
    assert board.comparison.current.expenses == 4410 + 1076  # 10 EUR at 1.07560... = 10.76
    add_rate(ledger, "2026-03-10", "EUR", "USD", "1.08")  # a stored rate wins over the observed one
    assert rate_book(ledger).rate("EUR", "USD", dt.date(2026, 3, 10)).rate == Decimal("1.08")  # type: ignore[union-attr]


def test_budgets_stay_in_their_currency_and_count_spending_converted_into_it(ledger: Ledger) -> None:
    three_currencies(ledger)
    add_rate(ledger, "2026-03-01", "EUR", "USD", "1.0825")
    set_budget(ledger, "Food", "50", month="2026-03", currency="EUR")
    (food,) = status(ledger, "2026-03", today=dt.date(2026, 3, 31))
    assert food.currency == "EUR"
    assert food.spent_minor == 2000 + 924  # 20 EUR + 10 USD / 1.0825 = 9.2378 -> 9.24


def test_net_worth_adds_each_currency_converted_at_the_day(ledger: Ledger) -> None:
    three_currencies(ledger)
    days = [dt.date(2026, 3, 31)]
    assert net_worth_in(ledger, "USD", days, rate_book(ledger)) == ([-1000], {"EUR": 1, "GBP": 1})
    add_rate(ledger, "2026-03-01", "EUR", "USD", "1.0825")
    # EUR: 100 - 20 = 80 EUR -> 86.60 USD; USD -10.00; GBP left out
    assert net_worth_in(ledger, "USD", days, rate_book(ledger)) == ([8660 - 1000], {"GBP": 1})


amounts = st.lists(
    st.tuples(st.integers(1, 10**9), st.sampled_from(["USD", "EUR", "GBP", "JPY"]), st.integers(0, 60)),
    min_size=1,
    max_size=40,
)
BOOK = RateBook().with_rates(
    [
        Rate.make("2026-01-01", "EUR", "USD", "1.0825"),
        Rate.make("2026-01-20", "EUR", "USD", "1.0911"),
        Rate.make("2026-01-01", "EUR", "GBP", "0.8512"),
        Rate.make("2026-01-10", "USD", "JPY", "151.37"),
    ]
)


def _frame(rows: list[tuple[int, str, int]]) -> Any:
    return frame_from_transactions(
        make_transaction(
            type="expense",
            amount=Decimal(minor).scaleb(-2 if code != "JPY" else 0),
            category="X",
            currency=code,
            date=dt.date(2026, 1, 1) + dt.timedelta(days=day),
        )
        for minor, code, day in rows
    )


@given(amounts, st.randoms(use_true_random=False))
def test_converted_totals_equal_the_sum_of_converted_rows_whatever_the_order(rows: list[Any], rng: Any) -> None:
    frame = _frame(rows)
    converted = convert_rows(FrameRows(frame), "USD", BOOK)
    total = int(converted.amount[converted.usable].sum())
    shuffled = rows[:]
    rng.shuffle(shuffled)
    again = convert_rows(FrameRows(_frame(shuffled)), "USD", BOOK)
    assert int(again.amount[again.usable].sum()) == total
    assert left_out(again) == left_out(converted)
    # each row against a Decimal reference: the rate of its day or the latest earlier one, rounded half-even
    for (minor, code, day), value, usable in zip(
        rows, converted.amount.tolist(), converted.usable.tolist(), strict=True
    ):
        found = BOOK.rate(code, "USD", dt.date(2026, 1, 1) + dt.timedelta(days=day)) if code != "USD" else None
        if code == "USD":
            assert (usable, value) == (True, minor)
            continue
        assert usable == (found is not None)
        if found is not None:
            major = Decimal(minor).scaleb(-2 if code != "JPY" else 0) * found.rate
            assert value == int((major * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    board = analysis.dashboard(frame, Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31)), "USD", rates=BOOK)
    assert board.comparison.current.expenses == total


def test_the_fast_cli_and_the_frame_convert_alike(ledger: Ledger) -> None:
    three_currencies(ledger)
    add_rate(ledger, "2026-03-01", "EUR", "USD", "1.0825")
    stored = convert_rows(StoredRows(ledger.select(Filter())), "USD", rate_book(ledger))
    framed = convert_rows(FrameRows(ledger.frame()), "USD", rate_book(ledger))
    assert np.array_equal(stored.amount, framed.amount)
    assert np.array_equal(stored.usable, framed.usable)
