"""Exchange rates: the rates files, the stored form, lookups, observed rates and conversion (tracker.rates).

Rates files are real files on disk; the ledger tests compare every byte of the data folder after a refused
import. The conversion is checked against a per-row ``Decimal`` computation (quantize, ROUND_HALF_EVEN).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker import rates
from tracker.errors import NotFoundError, ValidationError
from tracker.ledger import Ledger
from tracker.money import CURRENCY_EXPONENTS
from tracker.rates import (
    CONTEXT,
    RATES,
    Rate,
    RateBook,
    RatesFileError,
    add_rate,
    convert,
    delete_rate,
    divide,
    how_to_add,
    import_rates,
    observed_rate,
    pair_summary,
    rate_book,
    read_rates_file,
)
from tracker.rows import coded

ROOT = Path(__file__).resolve().parents[1]
FilesOf = Callable[[Path], dict[str, bytes]]

ECB = (
    "Date,USD,JPY,BGN,CYP,GBP,\n"
    "2024-01-09,1.0953,158.25,1.9558,N/A,0.86045,\n"
    "2024-01-08,1.0945,N/A,1.9558,N/A,0.8591,\n"
    "2024-01-05,1.0921,157.80,1.9558,,0.8603,\n"
)
"""The ECB history layout: newest first, a trailing comma on every line, N/A and empty cells, a retired
currency (CYP)."""

D5, D8, D9 = dt.date(2024, 1, 5), dt.date(2024, 1, 8), dt.date(2024, 1, 9)
EPOCH = dt.date(1970, 1, 1)
HIGH = Context(prec=200)


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def book_of(*entries: tuple[dt.date, str, str, str]) -> RateBook:
    return RateBook().with_rates(Rate.make(*e) for e in entries)


@pytest.fixture
def ecb_file(tmp_path: Path) -> Path:
    return write(tmp_path / "eurofxref-hist.csv", ECB)


@pytest.fixture
def ecb_book(ecb_file: Path) -> RateBook:
    found = read_rates_file(ecb_file)
    return RateBook().replaced(found.rates)


def reference(amount: int, currency: str, day: dt.date, target: str, book: RateBook) -> int | None:
    """One row converted the slow, obvious way: Decimal major units times the looked-up rate, quantized."""
    if currency == target:
        return amount
    found = book.rate(currency, target, day)
    if found is None:
        return None
    major = Decimal(amount).scaleb(-CURRENCY_EXPONENTS[currency], context=HIGH)
    unit = Decimal(1).scaleb(-CURRENCY_EXPONENTS[target])
    value = HIGH.multiply(major, found.rate).quantize(unit, rounding=ROUND_HALF_EVEN, context=HIGH)
    return int(value.scaleb(CURRENCY_EXPONENTS[target], context=HIGH))


def converted(book: RateBook, target: str, *rows: tuple[int, str, dt.date], **kwargs: Any) -> rates.Conversion:
    return convert(
        np.array([r[0] for r in rows], dtype=np.int64),
        [r[1] for r in rows],
        np.array([day_number(r[2]) for r in rows], dtype=np.int64),
        target,
        book,
        **kwargs,
    )


# -- rates files ------------------------------------------------------------------------------------------


def test_the_ecb_history_layout(ecb_file: Path) -> None:
    found = read_rates_file(ecb_file)
    assert found.layout == "ECB history"
    assert len(found) == 11  # 3 USD, 2 JPY (one N/A), 3 BGN, 3 GBP; CYP (retired) and the empty column skipped
    assert found.rates[("EUR", "USD")] == {day_number(D5): "1.0921", day_number(D8): "1.0945", day_number(D9): "1.0953"}
    assert found.rates[("EUR", "JPY")] == {day_number(D5): "157.8", day_number(D9): "158.25"}  # 157.80 canonical
    assert set(found.rates) == {("EUR", "USD"), ("EUR", "JPY"), ("EUR", "BGN"), ("EUR", "GBP")}


def test_an_ecb_file_without_trailing_commas_or_with_spaces_reads_the_same(tmp_path: Path, ecb_file: Path) -> None:
    bare = write(tmp_path / "bare.csv", ECB.replace(",\n", "\n").replace("1.0945", " 1.09450 "))
    assert read_rates_file(bare).rates == read_rates_file(ecb_file).rates
    twice = write(tmp_path / "twice.csv", ECB + "2024-01-05,1.0921,157.8,1.9558,N/A,0.8603,\n")
    assert read_rates_file(twice).rates == read_rates_file(ecb_file).rates  # the same date again, the same rates


def test_the_plain_layout_in_any_column_order(tmp_path: Path) -> None:
    path = write(
        tmp_path / "rates.csv",
        "Rate,Date,Base,Quote,Source\n1.2731,2024-01-10,gbp,usd,bank\n0.0067,2024-01-10,JPY,USD,\n\n",
    )
    found = read_rates_file(path)
    assert found.layout == "plain"
    assert found.rates == {
        ("GBP", "USD"): {day_number(dt.date(2024, 1, 10)): "1.2731"},
        ("JPY", "USD"): {day_number(dt.date(2024, 1, 10)): "0.0067"},
    }


@pytest.mark.parametrize(
    ("text", "line", "field", "value"),
    [
        (ECB.replace("2024-01-08,", "2024-01-32,"), 3, "Date", "2024-01-32"),
        (ECB.replace("0.8591", "0"), 3, "GBP", "0"),
        (ECB.replace("0.8591", "-0.8591"), 3, "GBP", "-0.8591"),
        (ECB.replace("1.0921", "1.09a"), 4, "USD", "1.09a"),
        (ECB.replace("BGN", "XYZ"), 1, "currency", "XYZ"),
        (ECB.replace("2024-01-05,1.0921,157.80,1.9558,,0.8603,", "2024-01-05,1.0921"), 4, "line", "2024-01-05,1.0921"),
        ("date,base,quote,rate\n2024-01-10,GBP,USD,1.27\n2024-01-11,GBP,XYZ,1.27\n", 3, "quote", "XYZ"),
        ("date,base,quote,rate\n2024-01-10,GBP,USD,0.000\n", 2, "rate", "0.000"),
        ("date,base,quote,rate\n2024-01-10,GBP,USD,\n", 2, "rate", ""),
        ("date,base,quote,rate\n2024-01-10,GBP,GBP,1\n", 2, "quote", "GBP"),
        ("date,base,quote,rate\n10/01/2024,GBP,USD,1.27\n", 2, "date", "10/01/2024"),
        ("date,base,quote,rate\n2024-01-10,GBP,USD,1.27\n2024-01-10,GBP,USD,1.28\n", 3, "rate", "1.28"),
        (ECB + "2024-01-05,1.0922,,,,,\n", 5, "rate", "1.0922"),
        ("when,amount\n2024-01-10,1.27\n", 1, "header", "when,amount"),
    ],
)
def test_a_bad_line_refuses_the_file_and_names_file_line_and_field(
    tmp_path: Path, data_dir: Path, files_of: FilesOf, text: str, line: int, field: str, value: str
) -> None:
    ledger = Ledger(data_dir)
    add_rate(ledger, "2024-01-02", "EUR", "USD", "1.09")
    before = files_of(data_dir)
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(RatesFileError) as caught:
        import_rates(Ledger(data_dir), path)
    error = caught.value
    assert (error.path, error.line, error.field, error.value) == (path, line, field, value)
    message = str(error)
    assert message.startswith(f"{field}: {value!r} ")
    assert f"file {path}, line {line})" in message
    assert "\n" not in message
    assert files_of(data_dir) == before


def test_a_file_that_is_missing_or_not_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        read_rates_file(tmp_path / "nowhere.csv")
    (tmp_path / "binary.csv").write_bytes(b"Date,USD,\n2024-01-05,\xff\n")
    with pytest.raises(RatesFileError, match="not UTF-8"):
        read_rates_file(tmp_path / "binary.csv")
    with pytest.raises(RatesFileError, match="header"):
        read_rates_file(write(tmp_path / "empty.csv", ""))


def test_import_stores_once_and_a_second_import_changes_nothing(
    data_dir: Path, ecb_file: Path, files_of: FilesOf
) -> None:
    first = import_rates(Ledger(data_dir), ecb_file)
    assert (first.added, first.replaced, first.unchanged, first.changed) == (11, 0, 0, True)
    before = files_of(data_dir)
    again = import_rates(Ledger(data_dir), ecb_file)
    assert (again.added, again.replaced, again.unchanged, again.changed) == (0, 0, 11, False)
    assert files_of(data_dir) == before
    write(ecb_file, ECB.replace("1.0945", "1.0946").replace("158.25", "158.250"))  # one new value, one respelt
    third = import_rates(Ledger(data_dir), ecb_file)
    assert (third.added, third.replaced, third.unchanged) == (0, 1, 10)
    assert rate_book(Ledger(data_dir)).get(D8, "EUR", "USD") == Decimal("1.0946")
    ledger = Ledger(data_dir)
    assert ledger.undo() == "import rates eurofxref-hist.csv (11 rates)"
    assert rate_book(ledger).get(D8, "EUR", "USD") == Decimal("1.0945")


def test_add_list_delete_and_undo(ledger: Ledger) -> None:
    rate, before = add_rate(ledger, "2024-01-10", "gbp", "usd", "1.27310")
    assert (rate, before) == (Rate(dt.date(2024, 1, 10), "GBP", "USD", Decimal("1.2731")), None)
    revision = ledger.revision
    assert add_rate(ledger, "2024-01-10", "GBP", "USD", "1.2731")[1] == Decimal("1.2731")
    assert ledger.revision == revision  # the same rate again writes nothing
    assert add_rate(ledger, "2024-01-10", "GBP", "USD", "1.2735")[1] == Decimal("1.2731")
    assert [r.to_json() for r in rate_book(Ledger(ledger.location)).entries()] == [
        {"date": "2024-01-10", "base": "GBP", "quote": "USD", "rate": "1.2735"}
    ]
    assert delete_rate(ledger, "2024-01-10", "GBP", "USD") == Decimal("1.2735")
    assert not rate_book(ledger)
    assert ledger.meta("rates") is None  # the last rate removes the key
    with pytest.raises(NotFoundError):
        delete_rate(ledger, "2024-01-10", "GBP", "USD")
    assert ledger.undo() == "delete rate GBP/USD 2024-01-10"
    assert rate_book(Ledger(ledger.location)).get(dt.date(2024, 1, 10), "GBP", "USD") == Decimal("1.2735")
    assert ledger.undo() == "rate GBP/USD 2024-01-10 1.2735"
    assert rate_book(ledger).get(dt.date(2024, 1, 10), "GBP", "USD") == Decimal("1.2731")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("2024-01-10", "GBP", "USD", "0"), "rate"),
        (("2024-01-10", "GBP", "USD", "-1"), "rate"),
        (("2024-01-10", "GBP", "USD", "1,27"), "rate"),
        (("2024-01-10", "GBP", "USD", 1.27), "rate"),
        (("2024-01-10", "GBP", "USD", "1" + "0" * 25), "rate"),
        (("2024-01-10", "GBP", "USD", "1." + "1" * 40), "rate"),
        (("2024-01-10", "GBP", "GBP", "1"), "quote"),
        (("2024-01-10", "GBP", "XYZ", "1"), "currency"),
        (("10.01.2024", "GBP", "USD", "1"), "date"),
    ],
)
def test_a_bad_rate_is_refused(ledger: Ledger, args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        add_rate(ledger, *args)
    assert caught.value.field == field
    assert ledger.meta("rates") is None


# -- the stored form ------------------------------------------------------------------------------------------


def test_the_stored_form_is_one_string_per_pair() -> None:
    book = book_of((D5, "EUR", "USD", "1.0956"), (dt.date(2024, 1, 6), "EUR", "USD", "1.0919"))
    book = book.with_rates([Rate.make(D9, "EUR", "USD", "1.0953"), Rate.make("2024-03-01", "GBP", "USD", "1.26")])
    book = book.with_rates([Rate.make("2024-05-15", "GBP", "USD", "1.2500")])
    assert RATES.dump(book) == {"EUR/USD": "19727|13|1.0956,1.0919,1.0953", "GBP/USD": "19783|(75)|1.26,1.25"}
    assert RATES.load(RATES.dump(book)) == book
    assert [r.day for r in RATES.load(RATES.dump(book)).entries("GBP")] == [dt.date(2024, 3, 1), dt.date(2024, 5, 15)]
    assert not RATES.load(None)
    assert RATES.dump(RATES.load(None)) is None


def test_thirty_years_of_daily_rates_for_thirty_currencies_store_small() -> None:
    days = [d for d in range(day_number(dt.date(1995, 1, 2)), day_number(dt.date(2025, 1, 1))) if (d + 3) % 7 < 5]
    rng = np.random.default_rng(7)
    codes = sorted(c for c, e in CURRENCY_EXPONENTS.items() if e == 2 and c != "EUR")[:30]
    entries = {}
    for code in codes:
        walk = rng.uniform(0.5, 200) * np.cumprod(rng.uniform(0.995, 1.005, len(days)))
        entries[("EUR", code)] = {d: rates.rate_text(Decimal(f"{v:.5g}")) for d, v in zip(days, walk, strict=True)}
    book = RateBook().replaced(entries)
    stored = json.dumps(RATES.dump(book))
    assert sum(map(len, entries.values())) > 230_000
    assert len(stored) < 3_000_000
    assert all(isinstance(v, str) for v in RATES.dump(book).values())  # Ledger.meta copies strings cheaply
    loaded = RATES.load(json.loads(stored))
    assert loaded.rate("EUR", codes[3], dt.date(2024, 12, 29)) is not None


@pytest.mark.parametrize(
    "stored",
    [
        ["EUR/USD"],
        {"EURUSD": "19727||1.09"},
        {"EUR/XYZ": "19727||1.09"},
        {"EUR/EUR": "19727||1.09"},
        {"EUR/USD": 1.09},
        {"EUR/USD": "19727|1.09"},
    ],
)
def test_a_damaged_stored_value_is_a_clear_error_on_load(stored: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        RATES.load(stored)
    assert caught.value.field == "rates"


@pytest.mark.parametrize(
    "text",
    [
        "x|1|1.09,1.1",
        "19727|1a|1.09,1.1",
        "19727|1|1.09",
        "19727|(1x)|1.09,1.1",
        "19727|1|1.09,abc",
        "19727|1|1.09,0",
        "999999|1|1.09,1.1",
    ],
)
def test_a_damaged_pair_is_a_clear_error_when_it_is_used(text: str) -> None:
    book = RATES.load({"EUR/USD": text})  # the shape is right: decoded when a lookup needs the pair
    with pytest.raises(ValidationError, match=r"EUR/USD.*damaged"):
        book.rate("EUR", "USD", dt.date(2024, 1, 6))
    with pytest.raises(ValidationError, match=r"EUR/USD.*damaged"):
        RATES.load({"EUR/USD": text}).entries()
    with pytest.raises(ValidationError, match="damaged"):
        converted(RATES.load({"EUR/USD": text}), "USD", (100, "EUR", dt.date(2024, 1, 6)))


# -- lookup ---------------------------------------------------------------------------------------------------


def test_lookup_same_day_latest_earlier_and_none_before_the_first(ecb_book: RateBook) -> None:
    assert ecb_book.rate("EUR", "USD", D8) == rates.FoundRate(Decimal("1.0945"), D8, "direct")
    assert ecb_book.rate("eur", "usd", dt.date(2024, 1, 7)) == rates.FoundRate(Decimal("1.0921"), D5, "direct")
    assert ecb_book.rate("EUR", "USD", dt.date(2099, 1, 1)) == rates.FoundRate(Decimal("1.0953"), D9, "direct")
    assert ecb_book.rate("EUR", "USD", dt.date(2024, 1, 4)) is None
    assert ecb_book.rate("EUR", "CHF", D9) is None
    assert ecb_book.rate("USD", "USD", D9) == rates.FoundRate(Decimal(1), D9, "same")


def test_the_inverse_and_triangulation(ecb_book: RateBook) -> None:
    inverse = ecb_book.rate("USD", "EUR", D9)
    assert inverse == rates.FoundRate(CONTEXT.divide(1, Decimal("1.0953")), D9, "inverse")
    assert len(inverse.rate.as_tuple().digits) >= 33  # 34 digits, a trailing zero dropped
    gbp_usd = ecb_book.rate("GBP", "USD", D9)
    assert gbp_usd == rates.FoundRate(CONTEXT.divide(Decimal("1.0953"), Decimal("0.86045")), D9, "via EUR")
    # JPY has no rate on the 8th: its leg is the 5th's, and a triangulated rate is as old as its older leg
    jpy_usd = ecb_book.rate("JPY", "USD", D8)
    assert jpy_usd == rates.FoundRate(CONTEXT.divide(Decimal("1.0945"), Decimal("157.8")), D5, "via EUR")
    bgn_gbp = ecb_book.rate("BGN", "GBP", D8)
    assert bgn_gbp == rates.FoundRate(CONTEXT.divide(Decimal("0.8591"), Decimal("1.9558")), D8, "via EUR")
    both_direct = book_of((D5, "GBP", "EUR", "1.16"), (D5, "EUR", "USD", "1.0921"))
    assert both_direct.rate("GBP", "USD", D5) == rates.FoundRate(
        CONTEXT.multiply(Decimal("1.16"), Decimal("1.0921")), D5, "via EUR"
    )


def test_on_the_same_day_direct_beats_inverse_beats_triangulated() -> None:
    book = book_of(
        (D5, "GBP", "USD", "1.27"), (D5, "USD", "GBP", "0.5"), (D5, "EUR", "GBP", "0.86"), (D5, "EUR", "USD", "1.09")
    )
    assert book.rate("GBP", "USD", D5) == rates.FoundRate(Decimal("1.27"), D5, "direct")
    assert book.rate("USD", "GBP", D8).route == "direct"
    no_direct = book_of((D5, "USD", "GBP", "0.8"), (D5, "EUR", "GBP", "0.86"), (D5, "EUR", "USD", "1.09"))
    assert no_direct.rate("GBP", "USD", D5) == rates.FoundRate(Decimal("1.25"), D5, "inverse")


def test_a_fresher_route_beats_an_old_direct_rate() -> None:
    """A rate typed once (GBP/USD in 2020) does not hide the daily file rates after it."""
    book = book_of((dt.date(2020, 1, 2), "GBP", "USD", "1.31"), (D5, "EUR", "GBP", "0.86"), (D5, "EUR", "USD", "1.09"))
    assert book.rate("GBP", "USD", D8) == rates.FoundRate(
        CONTEXT.divide(Decimal("1.09"), Decimal("0.86")), D5, "via EUR"
    )
    assert book.rate("GBP", "USD", dt.date(2021, 1, 1)) == rates.FoundRate(
        Decimal("1.31"), dt.date(2020, 1, 2), "direct"
    )
    newer_inverse = book_of((dt.date(2020, 1, 2), "GBP", "USD", "1.31"), (D5, "USD", "GBP", "0.8"))
    assert newer_inverse.rate("GBP", "USD", D5) == rates.FoundRate(Decimal("1.25"), D5, "inverse")


@settings(max_examples=60)
@given(
    st.dictionaries(st.integers(0, 40), st.integers(1, 10**6), max_size=8),
    st.dictionaries(st.integers(0, 40), st.integers(1, 10**6), max_size=8),
    st.integers(-2, 45),
)
def test_triangulation_and_inverse_equal_decimal_division(usd: dict[int, int], gbp: dict[int, int], when: int) -> None:
    start = dt.date(2024, 1, 1)
    at = start + dt.timedelta(days=when)
    book = RateBook().with_rates(
        [Rate.make(start + dt.timedelta(days=d), "EUR", "USD", Decimal(m).scaleb(-4)) for d, m in usd.items()]
        + [Rate.make(start + dt.timedelta(days=d), "EUR", "GBP", Decimal(m).scaleb(-5)) for d, m in gbp.items()]
    )

    def latest(series: dict[int, int], scale: int) -> tuple[int, Decimal] | None:
        earlier = [d for d in series if d <= when]
        return (max(earlier), Decimal(series[max(earlier)]).scaleb(-scale)) if earlier else None

    u, g = latest(usd, 4), latest(gbp, 5)
    inverse = book.rate("USD", "EUR", at)
    assert inverse == (
        None if u is None else rates.FoundRate(CONTEXT.divide(1, u[1]), start + dt.timedelta(days=u[0]), "inverse")
    )
    found = book.rate("GBP", "USD", at)
    if u is None or g is None:
        assert found is None
    else:
        older = start + dt.timedelta(days=min(u[0], g[0]))
        assert found == rates.FoundRate(CONTEXT.divide(u[1], g[1]), older, "via EUR")


@settings(max_examples=200)
@given(st.integers(1, 10**40), st.integers(1, 10**40))
def test_divide_is_decimal_division_to_34_digits(numerator: int, denominator: int) -> None:
    q, k = divide(numerator, denominator)
    assert Decimal(f"{q}E{k}") == CONTEXT.divide(Decimal(numerator), Decimal(denominator))


# -- observed rates ---------------------------------------------------------------------------------------------


def test_observed_rate_is_the_exact_quotient_of_the_major_amounts() -> None:
    assert observed_rate(9250, "EUR", 10000, "USD") == Decimal("0.925")  # 100 USD paid, 92.50 EUR booked
    assert observed_rate(1500, "JPY", 1000, "USD") == Decimal("150")  # 10 USD = 1500 JPY
    assert observed_rate(1000, "BHD", 1000, "JPY") == Decimal("0.001")  # 1 BHD for 1000 JPY
    third = observed_rate(100, "EUR", 300, "USD")
    assert third == CONTEXT.divide(1, 3)
    assert len(third.as_tuple().digits) == 34
    with pytest.raises(ValidationError):
        observed_rate(100, "EUR", 0, "USD")
    with pytest.raises(ValidationError):
        observed_rate(100, "EUR", 100, "EUR")


def test_plus_adds_observations_where_no_stored_rate_exists() -> None:
    stored = book_of((D5, "EUR", "USD", "1.09"))
    book = stored.plus(
        [
            (D5, "EUR", "USD", Decimal("2")),  # a stored rate of that day wins
            (D5, "USD", "EUR", Decimal("0.5")),  # ... in either direction
            (D8, "EUR", "USD", Decimal("1.1")),
            (D8, "EUR", "USD", Decimal("1.2")),  # the first observation of a day counts
            (D9, "GBP", "USD", observed_rate(12700, "USD", 10000, "GBP")),
        ]
    )
    assert book.rate("EUR", "USD", D5) == rates.FoundRate(Decimal("1.09"), D5, "direct")
    assert book.rate("USD", "EUR", D5).route == "inverse"
    assert book.rate("EUR", "USD", D9) == rates.FoundRate(Decimal("1.1"), D8, "direct")
    assert book.rate("GBP", "USD", D9) == rates.FoundRate(Decimal("1.27"), D9, "direct")
    assert stored.rate("EUR", "USD", D9) == rates.FoundRate(Decimal("1.09"), D5, "direct")  # unchanged: immutable
    assert RATES.dump(book) == RATES.dump(stored)  # observations are never stored
    assert book.with_rates([Rate.make(D9, "EUR", "USD", "1.11")]).rate("EUR", "USD", D9).rate == Decimal("1.11")
    with pytest.raises(ValidationError):
        stored.plus([(D5, "EUR", "USD", Decimal("-1"))])


# -- conversion -------------------------------------------------------------------------------------------------


def test_rows_in_the_target_pass_and_others_convert_with_their_days_rate(ecb_book: RateBook) -> None:
    found = converted(
        ecb_book,
        "USD",
        (1999, "USD", D5),
        (10000, "EUR", D5),
        (-10000, "EUR", D9),
        (10000, "EUR", dt.date(2024, 1, 7)),
        (10000, "GBP", D9),
        (500, "EUR", dt.date(2024, 1, 4)),
        (500, "CHF", D9),
    )
    gbp = reference(10000, "GBP", D9, "USD", ecb_book)
    assert found.minor.tolist() == [1999, 10921, -10953, 10921, gbp, 0, 0]
    assert found.usable.tolist() == [True, True, True, True, True, False, False]
    assert found.missing == {"EUR": 1, "CHF": 1}  # never a default rate
    assert found.stale_counts == {}
    assert found.minor.dtype == np.int64
    assert converted(ecb_book, "USD").minor.tolist() == []


def test_a_coded_column_converts_like_a_list(ecb_book: RateBook) -> None:
    currencies = ["EUR", "USD", "GBP", "EUR", None]
    amounts = np.array([100, 200, 300, 400, 500], dtype=np.int64)
    days = np.full(5, day_number(D9), dtype=np.int64)
    plain = convert(amounts, currencies, days, "USD", ecb_book)
    column = convert(amounts, coded(currencies), days, "usd", ecb_book)
    assert plain.minor.tolist() == column.minor.tolist()
    assert column.missing == {"None": 1}


def test_stale_rates_are_flagged() -> None:
    book = book_of((D5, "EUR", "USD", "1.09"))
    found = converted(book, "USD", (100, "EUR", D5 + dt.timedelta(days=31)), (100, "EUR", D5 + dt.timedelta(days=32)))
    assert found.stale.tolist() == [False, True]
    assert found.stale_counts == {"EUR": 1}
    assert found.usable.all()
    strict = converted(book, "USD", (100, "EUR", D5 + dt.timedelta(days=2)), stale_after=1)
    assert strict.stale.tolist() == [True]


def test_each_row_is_rounded_half_even() -> None:
    book = book_of((D5, "EUR", "USD", "1.5"), (D5, "GBP", "USD", "0.5"))
    amounts = [1, 3, 5, -3, -5, 7]  # 1.5, 4.5, 7.5, -4.5, -7.5, 10.5 cents
    found = converted(book, "USD", *((a, "EUR", D5) for a in amounts))
    assert found.minor.tolist() == [2, 4, 8, -4, -8, 10]
    halves = converted(book, "USD", *((a, "GBP", D5) for a in (1, 3, 5, 2)))  # 0.5, 1.5, 2.5, 1 cents
    assert halves.minor.tolist() == [0, 2, 2, 1]
    assert int(found.minor.sum()) == sum(reference(a, "EUR", D5, "USD", book) or 0 for a in amounts)


def test_zero_and_three_decimal_targets() -> None:
    book = book_of((D5, "EUR", "JPY", "157.8"), (D5, "USD", "BHD", "0.376"), (D5, "BHD", "JPY", "396.8"))
    jpy = converted(book, "JPY", (1234, "EUR", D5), (1, "EUR", D5), (1000, "BHD", D5))
    assert jpy.minor.tolist() == [1947, 2, 397]  # 12.34 EUR = 1947.252 JPY; 0.01 EUR = 1.578; 1.000 BHD = 396.8
    bhd = converted(book, "BHD", (1000, "USD", D5), (12345, "USD", D5), (158, "JPY", D5))
    assert bhd.minor.tolist() == [3760, 46417, 398]  # 10 USD = 3.760; 123.45 = 46.4172; 158 JPY = 0.39818...
    assert bhd.minor.tolist() == [
        reference(a, c, D5, "BHD", book) for a, c in ((1000, "USD"), (12345, "USD"), (158, "JPY"))
    ]


def test_large_amounts_are_exact_or_refused() -> None:
    book = book_of((D5, "EUR", "USD", "1.0823"), (D5, "USD", "IRR", "42105.5"))
    big = 10**15 + 7
    found = converted(book, "USD", (big, "EUR", D5), (-big, "EUR", D5))
    assert found.minor.tolist() == [reference(big, "EUR", D5, "USD", book), -reference(big, "EUR", D5, "USD", book)]
    with pytest.raises(ValidationError, match="too large"):
        converted(book, "IRR", (10**15, "USD", D5))


def test_how_to_add_names_the_command_and_the_settings_section() -> None:
    assert how_to_add("GBP", "USD") == (
        "add a rate with `expense-tracker rates add DATE GBP USD RATE` or import a rates file, "
        "or in the app: Settings → Exchange rates"
    )
    ui = ROOT / "tracker" / "ui"
    assert 'title="Settings"' in (ui / "app.py").read_text()  # the page and section the advice names exist
    assert 'st.subheader("Exchange rates")' in (ui / "app_pages" / "settings.py").read_text()


def test_pair_summary_counts_the_stored_rates_of_each_pair(ecb_book: RateBook) -> None:
    book = ecb_book.with_rates([Rate.make("2023-12-01", "GBP", "USD", "1.26")]).plus(
        [(dt.date(2024, 2, 1), "EUR", "USD", Decimal("1.08")), (D5, "CHF", "USD", Decimal("1.17"))]
    )
    assert pair_summary(book) == [  # observed rates (a later EUR/USD, CHF/USD) are not stored: left out
        {"base": "EUR", "quote": "BGN", "first": D5, "last": D9, "count": 3, "latest": "1.9558"},
        {"base": "EUR", "quote": "GBP", "first": D5, "last": D9, "count": 3, "latest": "0.86045"},
        {"base": "EUR", "quote": "JPY", "first": D5, "last": D9, "count": 2, "latest": "158.25"},
        {"base": "EUR", "quote": "USD", "first": D5, "last": D9, "count": 3, "latest": "1.0953"},
        {"base": "GBP", "quote": "USD", "first": dt.date(2023, 12, 1), "last": dt.date(2023, 12, 1), "count": 1,
         "latest": "1.26"},
    ]  # fmt: skip
    assert pair_summary(RateBook()) == []


# -- conversion properties --------------------------------------------------------------------------------------

START = dt.date(2024, 1, 1)
CODES = ("EUR", "USD", "GBP", "JPY", "BHD")
tie_prone = st.sampled_from(["0.5", "1.5", "2", "0.25", "1.0823", "157.8", "0.376", "0.001"])
any_rate = st.builds(lambda m, e: Decimal(m).scaleb(e), st.integers(1, 10**7), st.integers(-8, 2))


@st.composite
def books(draw: st.DrawFn) -> RateBook:
    """EUR/USD, EUR/GBP (triangulation), USD/JPY (inverse), GBP/BHD: a few days each, some rates tie-prone."""
    found = []
    for base, quote in (("EUR", "USD"), ("EUR", "GBP"), ("USD", "JPY"), ("GBP", "BHD")):
        for day in draw(st.sets(st.integers(0, 40), max_size=5)):
            found.append(Rate.make(START + dt.timedelta(days=day), base, quote, draw(tie_prone | any_rate)))
    return RateBook().with_rates(found)


rows_strategy = st.lists(
    st.tuples(
        st.integers(-(10**12), 10**12) | st.integers(-1000, 1000),
        st.sampled_from(CODES),
        st.integers(-3, 80),
    ),
    max_size=40,
)


def _convert_rows(book: RateBook, rows: list[tuple[int, str, int]], target: str) -> rates.Conversion | None:
    """The conversion, or ``None`` where it must be refused: some row is beyond int64."""
    dated = [(a, c, START + dt.timedelta(days=d)) for a, c, d in rows]
    expected = (reference(a, c, day, target, book) for a, c, day in dated)
    if any(e is not None and abs(e) >= 2**63 for e in expected):
        with pytest.raises(ValidationError, match="too large"):
            converted(book, target, *dated)
        return None
    return converted(book, target, *dated)


@settings(max_examples=150)
@given(books(), rows_strategy, st.sampled_from(CODES))
def test_conversion_equals_the_per_row_decimal_reference(book: RateBook, rows: list[Any], target: str) -> None:
    found = _convert_rows(book, rows, target)
    if found is None:
        return
    expected = [reference(a, c, START + dt.timedelta(days=d), target, book) for a, c, d in rows]
    assert found.minor.tolist() == [0 if e is None else e for e in expected]
    assert found.usable.tolist() == [e is not None for e in expected]
    assert int(found.minor.sum()) == sum(e for e in expected if e is not None)  # the total of the rounded rows
    assert sum(found.missing.values()) == expected.count(None)


@settings(max_examples=80)
@given(books(), rows_strategy, st.sampled_from(CODES), st.randoms(use_true_random=False))
def test_conversion_does_not_depend_on_row_order(book: RateBook, rows: list[Any], target: str, rnd: Any) -> None:
    order = list(range(len(rows)))
    rnd.shuffle(order)
    found = _convert_rows(book, rows, target)
    shuffled = _convert_rows(RateBook(book.stored), [rows[i] for i in order], target)
    if found is None or shuffled is None:
        assert found is shuffled
        return
    assert shuffled.minor.tolist() == [found.minor.tolist()[i] for i in order]
    assert shuffled.stale.tolist() == [found.stale.tolist()[i] for i in order]
    assert (shuffled.missing, shuffled.stale_counts) == (found.missing, found.stale_counts)


@settings(max_examples=60)
@given(books(), rows_strategy, st.sampled_from(CODES))
def test_the_integer_paths_agree_with_the_float_path(book: RateBook, rows: list[Any], target: str) -> None:
    """With every row sent to the exact arithmetic (one by one, and in base 10^8 limbs), nothing changes."""

    def minor() -> list[int] | None:
        found = _convert_rows(RateBook(book.stored), rows, target)
        return None if found is None else found.minor.tolist()

    plain = minor()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rates, "_TOLERANCE", float("inf"))
        assert minor() == plain
        patch.setattr(rates, "_FEW", 0)
        assert minor() == plain


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.integers(-(10**16) + 1, 10**16 - 1), st.integers(1, 10**34), st.integers(-50, 2)), min_size=1)
)
def test_limb_multiplication_is_exact(products: list[tuple[int, int, int]]) -> None:
    factors = [(m, e) for _, m, e in products]
    amounts = np.array([a for a, _, _ in products], dtype=np.int64)
    expected = []
    for a, m, e in products:
        try:
            expected.append(rates._exactly(a, m, e))
        except ValidationError:
            return  # beyond int64: refused by both (checked in test_large_amounts_are_exact_or_refused)
    assert rates._multiply(amounts, np.arange(len(products)), factors).tolist() == expected


def test_importing_tracker_rates_loads_neither_numpy_nor_pandas() -> None:
    code = "import sys, tracker.rates; "
    code += "tracker.rates.RATES.load({'EUR/USD': '19727||1.09'}); print(sorted(m for m in ('numpy', 'pandas') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_limb_path_refuses_exactly_beyond_int64() -> None:
    fits, beyond = 9_223_372_036_854_775, 9_223_372_036_854_776  # times 1000: just below and just above 2**63
    assert rates._multiply(np.array([fits, -fits]), np.array([0, 0]), [(1000, 0)]).tolist() == [
        fits * 1000,
        -fits * 1000,
    ]
    with pytest.raises(ValidationError, match="too large"):
        rates._multiply(np.array([beyond]), np.array([0]), [(1000, 0)])
    assert rates._multiply(np.array([5, 15]), np.array([0, 0]), [(1, -1)]).tolist() == [0, 2]  # 0.5 -> 0, 1.5 -> 2


def test_rates_of_many_digits_convert_exactly_too() -> None:
    book = book_of((D5, "EUR", "USD", "1.0823456789012345678901"), (D5, "EUR", "GBP", "0.85"))
    rows = [(a, c, D5) for a in (1, 99, 12345, -777777777) for c in ("EUR", "GBP", "USD")]
    found = converted(book, "USD", *rows)
    assert found.minor.tolist() == [reference(a, c, day, "USD", book) for a, c, day in rows]
    assert book.entries("EUR", "USD")[0].rate == Decimal("1.0823456789012345678901")


@settings(max_examples=200)
@given(
    st.integers(-(10**14), 10**14).filter(bool),
    st.sampled_from(CODES),
    st.integers(-(10**14), 10**14).filter(bool),
    st.sampled_from(CODES),
)
def test_observed_rate_is_the_quotient_of_the_major_amounts(
    booked: int, currency: str, paid: int, original: str
) -> None:
    if currency == original:
        with pytest.raises(ValidationError):
            observed_rate(booked, currency, paid, original)
        return
    major = [
        Decimal(abs(m)).scaleb(-CURRENCY_EXPONENTS[c], context=HIGH) for m, c in ((booked, currency), (paid, original))
    ]
    assert observed_rate(booked, currency, paid, original) == CONTEXT.divide(*major)
    assert observed_rate(booked, currency.lower(), paid, original.lower()) == CONTEXT.divide(*major)


def test_plus_reads_loose_observations_like_clean_ones() -> None:
    clean = RateBook().plus([(D5, "EUR", "USD", Decimal("1.0900"))])
    loose = RateBook().plus([("2024-01-05", "eur", " usd", "1.09")])
    assert clean == loose
    assert clean.observed == {("EUR", "USD"): {day_number(D5): "1.09"}}
    for bad in [(D5, "EUR", "EUR", Decimal(1)), (D5, "EUR", "USD", Decimal("NaN")), (D5, "EUR", "USD", 1.09)]:
        with pytest.raises(ValidationError):
            RateBook().plus([bad])
