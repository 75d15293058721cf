"""QIF importer: quiffen's published sample files, agreement with quiffen, and what quiffen gets wrong."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from tracker.importers.base import ImportFileError
from tracker.importers.qif import QifImporter

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "qif"


def read(name: str, **options: object):
    path = FIXTURES / name
    return QifImporter(**options).read(path.read_bytes(), path.name)  # type: ignore[arg-type]


def qif(text: str, **options: object):
    return QifImporter(**options).read(text.encode(), "t.qif")  # type: ignore[arg-type]


def test_every_published_sample_is_covered() -> None:
    assert {p.name for p in FIXTURES.glob("*.qif")} == {
        "empty.qif",
        "test.qif",
        "test_category_inherit.qif",
        "test_nosymbol.qif",
        "test_split.qif",
        "test_unknown_account_type.qif",
    }


def test_the_main_sample_with_splits_and_an_investment() -> None:
    ex = read("test.qif")
    got = [(r.line, r.date.isoformat(), r.amount, r.category) for r in ex.rows]
    assert got == [
        (29, "2020-02-10", Decimal("0.00"), "Transfer"),  # opening balance: no money, skipped by the import
        (39, "2020-02-14", Decimal("-15.00"), "Bills:Cell Phone"),
        (42, "2020-02-14", Decimal("82.50"), "Bills:Cell Phone"),
        (46, "2020-02-14", Decimal("32.00"), "Miscellaneous"),
        (52, "2020-02-12", Decimal("-10.00"), ""),  # split: its lines below
        (64, "2020-02-11", Decimal("-25.00"), "Food:Groceries"),
        (72, "2020-02-10", Decimal("-100.00"), ""),  # split in four
    ]
    lines = [[(str(ln.amount), ln.category, ln.note) for ln in r.splits] for r in ex.rows]
    assert lines[4] == [("5.00", "Food:Groceries", "50%"), ("5.00", "Food:Groceries", "50% 2")]
    assert lines[6] == [
        ("50.00", "Food:Groceries", "50%"),
        ("25.00", "Transportation:Automobile", "25%"),
        ("10.00", "Personal Care:Haircare", "10%"),
        ("15.00", "Healthcare:Prescriptions", "15%"),
    ]
    assert [n for n, ln in enumerate(lines) if ln] == [4, 6]
    assert [s.line for s in ex.skipped] == [93]  # the !Type:Invst record
    assert ex.rows[3].description == "US Post Office / money back for damaged parcel"
    assert ex.rows[1].description == "T-Mobile / sign up credit"
    assert all(type(r.amount) is Decimal and r.currency is None for r in ex.rows)


@pytest.mark.parametrize(
    ("name", "rows", "skipped"),
    [
        ("test_split.qif", [("2000-01-01", "-10.00", "")], 0),  # one split transaction (its lines: test_model_splits)
        ("test_category_inherit.qif", [], 0),
        ("test_nosymbol.qif", [], 0),
        ("test_unknown_account_type.qif", [], 1),
    ],
)
def test_other_samples(name: str, rows: list[tuple[str, str, str]], skipped: int) -> None:
    ex = read(name)
    assert [(r.date.isoformat(), str(r.amount), r.category) for r in ex.rows] == rows
    assert len(ex.skipped) == skipped


def test_a_split_with_parts_of_both_signs_becomes_one_transaction_per_part() -> None:
    ex = qif("!Type:Bank\nD1/2/2024\nT-8.00\nPShop\nSGroceries\n$-10.00\nSRefund\n$2.00\n^\n")
    assert [(str(r.amount), r.category, r.splits) for r in ex.rows] == [
        ("-10.00", "Groceries", ()),
        ("2.00", "Refund", ()),
    ]


def test_empty_sample_is_refused() -> None:
    with pytest.raises(ImportFileError, match=r"^empty\.qif: is empty"):
        read("empty.qif")


@pytest.mark.parametrize("name", ["test.qif", "test_split.qif"])
def test_agrees_with_quiffen_on_the_published_samples(name: str) -> None:
    """Same transactions, dates and totals as quiffen (split parts add up to quiffen's total)."""
    import quiffen

    theirs = []
    for account in quiffen.Qif.parse(str(FIXTURES / name)).accounts.values():
        for kind, txs in account.transactions.items():
            if str(getattr(kind, "value", kind)).lower() == "invst":
                continue
            theirs += [(t.date.date(), t.amount) for t in txs]
    ours: dict[tuple[dt.date, str], Decimal] = {}
    for r in read(name).rows:  # split parts grouped back into their transaction (date and payee)
        key = (r.date, r.description.split(" / ")[0])
        ours[key] = ours.get(key, Decimal(0)) + r.amount
    assert sorted((date, total) for (date, _), total in ours.items()) == sorted(theirs)


def test_quiffen_would_misread_decimal_commas_and_dates() -> None:
    """Why the reader is our own: quiffen turns T1,50 into 150 and reads 02.01.2024 as the 1st of February."""
    import quiffen

    text = "!Type:Bank\nD02.01.2024\nT-1.234,56\nPRent\n^\nD13.01.2024\nT1,50\nPRefund\n^\n"
    theirs = [
        t.amount
        for a in quiffen.Qif.parse_string(text).accounts.values()
        for txs in a.transactions.values()
        for t in txs
    ]
    assert theirs == [Decimal("-1.23456"), Decimal("150")]
    ours = qif(text).rows
    assert [(r.date, r.amount) for r in ours] == [
        (dt.date(2024, 1, 2), Decimal("-1234.56")),
        (dt.date(2024, 1, 13), Decimal("1.50")),
    ]


def test_date_order_is_decided_over_the_whole_file() -> None:
    us = qif("!Type:Bank\nD01/02/2024\nT-1.00\n^\nD01/13/2024\nT-2.00\n^\n")
    uk = qif("!Type:Bank\nD01/02/2024\nT-1.00\n^\nD13/01/2024\nT-2.00\n^\n")
    assert [r.date for r in us.rows] == [dt.date(2024, 1, 2), dt.date(2024, 1, 13)]
    assert [r.date for r in uk.rows] == [dt.date(2024, 2, 1), dt.date(2024, 1, 13)]
    ambiguous = qif("!Type:Bank\nD01/02/2024\nT-1.00\n^\n")
    assert ambiguous.rows[0].date == dt.date(2024, 1, 2)
    assert "MM/DD" in ambiguous.warnings[0]
    assert qif("!Type:Bank\nD01/02/2024\nT-1.00\n^\n", day_first=True).rows[0].date == dt.date(2024, 2, 1)
    assert qif("!Type:Bank\nD01/02/2024\nT-1.00\n^\n", date_format="%d/%m/%Y").rows[0].date == dt.date(2024, 2, 1)


def test_quicken_year_forms() -> None:
    rows = qif("!Type:Bank\nD1/ 5'04\nT1\n^\nD12/31/99\nT1\n^\nD2/14'2020\nT1\n^\nD2020-02-15\nT1\n^\n").rows
    assert [r.date for r in rows] == [
        dt.date(2004, 1, 5),
        dt.date(1999, 12, 31),
        dt.date(2020, 2, 14),
        dt.date(2020, 2, 15),
    ]


def test_currency_option_and_other_account_types() -> None:
    rows = qif(
        "!Type:CCard\nD1/5/2024\nT-9.99\nPNetflix\nLEntertainment\n^\n!Type:Cash\nD1/6/2024\nU-2.00\nPKiosk\n^\n",
        currency="eur",
    ).rows
    assert [(r.amount, r.currency, r.category) for r in rows] == [
        (Decimal("-9.99"), "EUR", "Entertainment"),
        (Decimal("-2.00"), "EUR", ""),
    ]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("D1/5/2024\nT-1.00\n^\n", "line 1: 'D1/5/2024' comes before any !Type header"),
        ("!Type:Bank\nT-1.00\nPNo date\n^\n", "line 2, field D (date): is missing"),
        ("!Type:Bank\nD1/5/2024\nPNo amount\n^\n", "line 2, field T (amount): is missing"),
        ("!Type:Bank\nD1/5/2024\nT12,3.4\n^\n", "line 3, field T (amount): '12,3.4'"),
        ("!Type:Bank\nD2/30/2024\nT1\n^\n", "line 2, field D (date): '2/30/2024' is not a date"),
        ("!Type:Bank\nDtomorrow\nT1\n^\n", "field D (date): 'tomorrow' is not a date"),
        ("!Type:Bank\nD13/01/2024\nT1\n^\nD01/13/2024\nT1\n^\n", "mixes day-first and month-first"),
        ("!Type:Bank\nD1/5/2024\nT-10.00\nSFood\n$-4.00\nSFun\n$-5.00\n^\n", "add up to a different total than -10.00"),
        ("!Type:Bank\nD1/5/2024\nT-10.00\nSFood\n$-4.00\nSFun\n^\n", "field $ (split amount): is missing"),
        ("!Type:Bank\nD1/5/2024\nT-10.00\nSFood\n$abc\n^\n", "field $ (split amount): 'abc'"),
        ("", "is empty"),
    ],
)
def test_malformed_qif_is_refused_clearly(text: str, needle: str) -> None:
    with pytest.raises(ImportFileError) as err:
        qif(text)
    assert needle in str(err.value)
    assert str(err.value).startswith("t.qif")


def test_unknown_sections_are_reported_not_read() -> None:
    ex = qif("!Type:Weird\nD1/5/2024\nT1\n^\n!Type:Bank\nD1/6/2024\nT2\n^\n")
    assert [r.amount for r in ex.rows] == [Decimal(2)]
    assert "line 1: section !Type:Weird is not read" in ex.warnings


def test_a_last_record_without_caret_still_counts() -> None:
    assert len(qif("!Type:Bank\nD1/5/2024\nT1\n").rows) == 1
