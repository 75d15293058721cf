"""The Settings page's exchange rates, run by Streamlit's AppTest on a private data folder: add, import, delete,
and the dashboard's "no exchange rate" warning before and after a rate is added."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from app_helpers import assert_one_error, open_app, texts
from streamlit.testing.v1 import AppTest

from tracker import accounts
from tracker.ledger import Ledger
from tracker.rates import add_rate, rate_book

SETTINGS = "app_pages/settings.py"
DASHBOARD = "app_pages/dashboard.py"
FilesOf = Callable[[Path], dict[str, bytes]]
TODAY = dt.date.today()
D5, D8, D9 = dt.date(2024, 1, 5), dt.date(2024, 1, 8), dt.date(2024, 1, 9)
ECB = (
    "Date,USD,JPY,GBP,\n"
    "2024-01-09,1.0953,158.25,0.86045,\n"
    "2024-01-08,1.0945,N/A,0.8591,\n"
    "2024-01-05,1.0921,157.80,0.8603,\n"
)
"""The ECB history layout: newest first, a trailing comma on every line, an N/A cell: 8 rates."""


def type_rate(at: AppTest, day: dt.date, base: str, quote: str, rate: str) -> AppTest:
    """Fill the add-a-rate form and submit it."""
    at.date_input(key="set_rate_day").set_value(day)
    at.selectbox(key="set_rate_base").set_value(base)
    at.selectbox(key="set_rate_quote").set_value(quote)
    at.text_input(key="set_rate_value").input(rate)
    next(b for b in at.button if b.label == "Add rate").click().run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, text: str) -> AppTest:
    """Choose a file in the rates uploader, then press its import button."""
    at.file_uploader(key="set_rates_file").set_value((name, text.encode("utf-8"), "text/csv")).run()
    assert not at.exception, at.exception
    at.button(key="set_rates_import").click().run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest) -> list[dict[str, object]]:
    """The per-pair table of stored rates."""
    frame = next(d.value for d in at.dataframe if "Pair" in d.value.columns)
    return frame.to_dict("records")  # type: ignore[no-any-return]


def test_the_section_says_what_rates_are_for(data_dir: Path) -> None:
    at = open_app(SETTINGS)
    assert "Exchange rates" in texts(at.subheader)
    said = " ".join(texts(at.markdown))
    assert "left out and counted, never converted at a made-up rate" in said
    assert "No exchange rates stored yet." in texts(at.info)


def test_add_a_rate(data_dir: Path) -> None:
    at = type_rate(open_app(SETTINGS), D9, "EUR", "USD", "1.09530")
    assert not at.error
    assert "Rate saved: 1 EUR = 1.0953 USD on 2024-01-09. Undo on the Transactions page reverts it." in texts(
        at.success
    )
    assert rate_book(Ledger(data_dir)).get(D9, "EUR", "USD") == Decimal("1.0953")
    assert table(at) == [
        {"Pair": "EUR/USD", "First day": "2024-01-09", "Last day": "2024-01-09", "Rates": 1, "Latest rate": "1.0953"}
    ]
    at = type_rate(at, D9, "EUR", "USD", "1.0960")  # that day's rate replaced
    assert any("(was 1.0953)" in t for t in texts(at.success))
    assert rate_book(Ledger(data_dir)).get(D9, "EUR", "USD") == Decimal("1.096")
    assert Ledger(data_dir).undo() == "rate EUR/USD 2024-01-09 1.096"  # one undoable change each
    assert rate_book(Ledger(data_dir)).get(D9, "EUR", "USD") == Decimal("1.0953")


@pytest.mark.parametrize(
    ("base", "quote", "rate", "said"),
    [
        ("EUR", "USD", "1,0953", "rate: '1,0953' is not a rate; write it like 1.0823 (a point before the decimals)"),
        ("EUR", "USD", "0", "rate: '0' must be a number greater than zero"),
        ("EUR", "USD", "", "rate: '' is not a rate"),
        ("EUR", "EUR", "1", "quote: 'EUR' is the base currency"),
    ],
)
def test_a_bad_rate_shows_the_error_and_changes_no_file(
    data_dir: Path, files_of: FilesOf, base: str, quote: str, rate: str, said: str
) -> None:
    at = open_app(SETTINGS)
    before = files_of(data_dir)
    at = type_rate(at, D9, base, quote, rate)
    assert_one_error(at, said)
    assert files_of(data_dir) == before


def test_import_an_ecb_file_through_the_uploader(data_dir: Path) -> None:
    at = upload(open_app(SETTINGS), "eurofxref-hist.csv", ECB)
    assert not at.error
    assert (
        "Imported 8 rates from eurofxref-hist.csv (ECB history): 8 new, 0 replaced, 0 already stored. "
        "Undo on the Transactions page reverts it."
    ) in texts(at.success)
    book = rate_book(Ledger(data_dir))
    assert (book.get(D8, "EUR", "USD"), book.get(D5, "EUR", "JPY")) == (Decimal("1.0945"), Decimal("157.8"))
    assert table(at) == [
        {"Pair": "EUR/GBP", "First day": "2024-01-05", "Last day": "2024-01-09", "Rates": 3, "Latest rate": "0.86045"},
        {"Pair": "EUR/JPY", "First day": "2024-01-05", "Last day": "2024-01-09", "Rates": 2, "Latest rate": "158.25"},
        {"Pair": "EUR/USD", "First day": "2024-01-05", "Last day": "2024-01-09", "Rates": 3, "Latest rate": "1.0953"},
    ]
    at.button(key="set_rates_import").click().run()  # the same file again: nothing new
    assert "Nothing new in eurofxref-hist.csv: 8 rates already stored." in texts(at.info)
    at = upload(at, "eurofxref-hist.csv", ECB.replace("1.0945", "1.0946"))
    assert any("0 new, 1 replaced, 7 already stored" in t for t in texts(at.success))
    assert Ledger(data_dir).undo() == "import rates eurofxref-hist.csv (8 rates)"
    assert rate_book(Ledger(data_dir)).get(D8, "EUR", "USD") == Decimal("1.0945")


def test_a_bad_rates_file_names_file_line_and_field_and_stores_nothing(data_dir: Path, files_of: FilesOf) -> None:
    at = open_app(SETTINGS)
    before = files_of(data_dir)
    at = upload(at, "my-rates.csv", ECB.replace("0.8591", "0.85x1"))
    errors = texts(at.error)
    assert len(errors) == 1, errors
    assert errors[0].startswith("Nothing was imported: GBP: '0.85x1' is not a rate")
    assert "(file my-rates.csv, line 3)" in errors[0]  # the uploaded name, not the temporary copy's path
    assert "tracker-rates-" not in errors[0]
    assert "Traceback" not in errors[0]
    assert files_of(data_dir) == before
    at = upload(at, "notes.csv", "hello,world\n1,2\n")
    assert any("header: 'hello,world' is not a rates file header" in e for e in texts(at.error))
    assert files_of(data_dir) == before


def test_delete_a_rate(ledger: Ledger) -> None:
    add_rate(ledger, D5, "EUR", "USD", "1.0921")
    add_rate(ledger, D9, "EUR", "USD", "1.0953")
    add_rate(ledger, D9, "GBP", "USD", "1.2731")
    at = open_app(SETTINGS)
    at.selectbox(key="set_rates_del_pair").set_value("EUR/USD").run()
    at.date_input(key="set_rates_del_day_EURUSD").set_value(D8).run()  # no rate that day: nothing to delete
    assert "No EUR/USD rate is stored for that day." in texts(at.caption)
    assert at.button(key="set_rates_delete").disabled
    at.date_input(key="set_rates_del_day_EURUSD").set_value(D5).run()
    assert "Stored: 1 EUR = 1.0921 USD on 2024-01-05." in texts(at.caption)
    at.button(key="set_rates_delete").click().run()
    assert not at.exception
    assert not at.error
    assert "Deleted the EUR/USD rate of 2024-01-05 (1.0921). Undo on the Transactions page reverts it." in texts(
        at.success
    )
    book = rate_book(Ledger(ledger.location))
    assert [r.to_json() for r in book.entries()] == [
        {"date": "2024-01-09", "base": "EUR", "quote": "USD", "rate": "1.0953"},
        {"date": "2024-01-09", "base": "GBP", "quote": "USD", "rate": "1.2731"},
    ]
    assert Ledger(ledger.location).undo() == "delete rate EUR/USD 2024-01-05"
    assert rate_book(Ledger(ledger.location)).get(D5, "EUR", "USD") == Decimal("1.0921")


def test_the_dashboard_warns_of_a_missing_rate_until_one_is_added(ledger: Ledger) -> None:
    ledger.add_expense("5.00", category="Food", date=TODAY)  # in USD, the default currency
    accounts.add_account(ledger, "Euro card", currency="EUR")
    ledger.add_expense("10.00", category="Coffee", currency="EUR", account="Euro card", date=TODAY)
    at = open_app(DASHBOARD)
    warnings = texts(at.warning)
    assert any("1 transaction in EUR has no exchange rate to USD and is left out" in w for w in warnings), warnings
    at.switch_page(SETTINGS).run()
    at = type_rate(at, TODAY, "EUR", "USD", "1.10")  # the form's day: today
    assert not at.error
    at.switch_page(DASHBOARD).run()
    assert not at.exception
    assert not any("exchange rate" in w for w in texts(at.warning))
    assert {m.label: m.value for m in at.metric}["Expenses"] == "$16.00"  # 5.00 + 10.00 EUR at 1.10
