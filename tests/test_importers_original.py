"""Original amounts of purchases abroad from bank files: OFX ``<ORIGCURRENCY>`` and ``<CURRENCY>``, a CSV's
original-amount, original-currency and exchange-rate columns; bad values refuse the file, naming line and field;
the imported rows give the ledger an observed rate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tracker.accounts import add_account
from tracker.conversion import rate_book
from tracker.export import to_csv
from tracker.importers import CsvMapping, ImportFileError, ImportOptions, LedgerView, import_file, plan_import
from tracker.importers.csv_importer import CsvImporter
from tracker.importers.ofx import OfxImporter
from tracker.ledger import Ledger
from tracker.model import Transaction
from tracker.rates import observed_rate

FIXTURES = Path(__file__).resolve().parent / "fixtures"
Files = Callable[[Path], dict[str, bytes]]
DAY = dt.date(2024, 3, 4)

# --- files ------------------------------------------------------------------------------------------------

SGML_HEAD = """OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

"""


def sgml(*trns: str, curdef: str = "USD") -> bytes:
    """An OFX 1 (SGML, unclosed leaf elements) checking statement in ``curdef`` (``""``: none named) with ``trns``."""
    return (
        SGML_HEAD + "<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>\n"
        f"<STMTRS>{f'<CURDEF>{curdef}' if curdef else ''}\n<BANKACCTFROM><BANKID>121000248<ACCTID>4000123<ACCTTYPE>CHECKING</BANKACCTFROM>\n"
        "<BANKTRANLIST><DTSTART>20240301<DTEND>20240331\n" + "\n".join(trns) + "\n</BANKTRANLIST>\n"
        "<LEDGERBAL><BALAMT>1000.00<DTASOF>20240331</LEDGERBAL>\n</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    ).encode("cp1252")


def trn(amount: str = "-45.10", fitid: str = "T1", extra: str = "", date: str = "20240304") -> str:
    """One SGML ``<STMTTRN>``; ``extra`` goes on a line of its own (so a problem's line is that line)."""
    return (
        f"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>{date}120000[-5:EST]<TRNAMT>{amount}<FITID>{fitid}\n"
        f"<NAME>CAFE DE FLORE PARIS\n{extra}\n</STMTTRN>"
    )


def xml(*trns: str, curdef: str = "USD") -> bytes:
    """An OFX 2 (XML, every element closed) credit-card statement in ``curdef``."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
        "<OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1</TRNUID>"
        "<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>\n"
        f"<CCSTMTRS><CURDEF>{curdef}</CURDEF><CCACCTFROM><ACCTID>4111000011112222</ACCTID></CCACCTFROM>\n"
        "<BANKTRANLIST><DTSTART>20240301</DTSTART><DTEND>20240331</DTEND>\n" + "\n".join(trns) + "\n</BANKTRANLIST>\n"
        "</CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>\n"
    ).encode()


def xml_trn(amount: str, fitid: str, extra: str) -> str:
    return (
        f"<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20240304</DTPOSTED><TRNAMT>{amount}</TRNAMT>"
        f"<FITID>{fitid}</FITID><NAME>HOTEL ADLON BERLIN</NAME>\n{extra}\n</STMTTRN>"
    )


def orig(rate: str, sym: str, *, closed: bool = False) -> str:
    """``<ORIGCURRENCY>``: TRNAMT is in CURDEF, converted from ``sym`` (one ``sym`` = ``rate`` CURDEF units)."""
    if closed:
        return f"<ORIGCURRENCY><CURRATE>{rate}</CURRATE><CURSYM>{sym}</CURSYM></ORIGCURRENCY>"
    return f"<ORIGCURRENCY><CURRATE>{rate}<CURSYM>{sym}</ORIGCURRENCY>"


def cur(rate: str, sym: str, *, closed: bool = False) -> str:
    """``<CURRENCY>``: TRNAMT is in ``sym``, the account's amount is TRNAMT × ``rate``."""
    if closed:
        return f"<CURRENCY><CURRATE>{rate}</CURRATE><CURSYM>{sym}</CURSYM></CURRENCY>"
    return f"<CURRENCY><CURRATE>{rate}<CURSYM>{sym}</CURRENCY>"


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def original(tx: Transaction) -> tuple[int, str, int, str]:
    """``(signed minor, currency, original minor, original currency)``."""
    return tx.signed_minor, tx.currency, tx.original_amount_minor, tx.original_currency


def ofx_rows(data: bytes) -> list[tuple[Decimal, str | None, Decimal | None, str]]:
    return [
        (r.amount, r.currency, r.original_amount, r.original_currency) for r in OfxImporter().read(data, "s.ofx").rows
    ]


def csv_rows(text: str, mapping: CsvMapping | None = None, currency: str = "EUR") -> list[tuple[Decimal | None, str]]:
    rows = CsvImporter(mapping, default_currency=currency).read(text.encode("utf-8"), "s.csv").rows
    return [(r.original_amount, r.original_currency) for r in rows]


# --- OFX ------------------------------------------------------------------------------------------------


def test_the_shared_fixtures_have_no_conversion_but_one_currency_aggregate_at_rate_one() -> None:
    """Checked before writing our own files: of the published samples only one has a foreign-currency aggregate,
    ``<CURRENCY>`` at 1.0000 in a statement with an empty CURDEF: read as before, an amount in CURSYM."""
    found = {
        p.name
        for p in (FIXTURES / "ofx").rglob("*.ofx")
        if b"<ORIGCURRENCY>" in p.read_bytes() or b"<CURRENCY>" in p.read_bytes()
    }
    assert found == {"ofx-v102-empty-tags.ofx"}
    (row,) = OfxImporter().read((FIXTURES / "ofx" / "ofx-v102-empty-tags.ofx").read_bytes(), "cba.ofx").rows
    assert (row.amount, row.currency, row.original_amount, row.original_currency) == (Decimal("12.34"), "AUD", None, "")


def test_origcurrency_sgml_imports_the_original_and_gives_the_rate(ledger: Ledger, tmp_path: Path) -> None:
    # 41.00 EUR paid at 1 EUR = 1.10 USD: the bank booked 45.10 USD
    data = sgml(trn("-45.10", "T1", orig("1.10", "EUR")), trn("-3.25", "T2"))
    result = import_file(ledger, write(tmp_path, "checking.ofx", data))
    assert sorted(original(tx) for tx in result.added) == [(-4510, "USD", 4100, "EUR"), (-325, "USD", 0, "")]
    stored = [tx for tx in ledger.transactions() if tx.original_currency]
    assert [original(tx) for tx in stored] == [(-4510, "USD", 4100, "EUR")]
    found = rate_book(ledger).rate("EUR", "USD", DAY)
    assert found is not None
    assert (found.rate, found.day, found.route) == (Decimal("1.1"), DAY, "direct")


def test_currency_xml_books_trnamt_times_currate_in_curdef(ledger: Ledger, tmp_path: Path) -> None:
    # TRNAMT is in EUR; the card account is in USD: 41.00 EUR × 1.0856 = 44.5096 -> 44.51 USD
    add_account(ledger, "Visa", kind="credit-card", currency="USD")
    data = xml(xml_trn("-41.00", "X1", cur("1.0856", "EUR", closed=True)), xml_trn("-9.99", "X2", ""))
    result = import_file(ledger, write(tmp_path, "card.qfx", data), ImportOptions(account="Visa"))
    assert sorted(original(tx) for tx in result.added) == [(-4451, "USD", 4100, "EUR"), (-999, "USD", 0, "")]
    found = rate_book(ledger).rate("EUR", "USD", DAY)
    assert found is not None
    assert found.route == "direct"
    assert found.rate == observed_rate(4451, "USD", 4100, "EUR")  # what the booked row shows: 44.51 / 41.00


def test_origcurrency_xml_and_currency_sgml_read_alike() -> None:
    """Both aggregates in both forms of the file: the same rows."""
    for form in ("sgml", "xml"):
        for tag in (orig, cur):
            closed = form == "xml"
            extra = tag("1.10", "EUR", closed=closed)
            amount = "-45.10" if tag is orig else "-41.00"
            data = sgml(trn(amount, "A", extra)) if form == "sgml" else xml(xml_trn(amount, "A", extra))
            assert ofx_rows(data) == [(Decimal("-45.10"), "USD", Decimal("41.00"), "EUR")], (form, tag)


@pytest.mark.parametrize(
    ("amount", "extra", "want"),
    [
        ("-0.25", orig("2", "EUR"), ("-0.25", "0.12")),  # 0.125: half to even, down
        ("-0.75", orig("2", "EUR"), ("-0.75", "0.38")),  # 0.375: half to even, up
        ("-10.00", orig("3", "EUR"), ("-10.00", "3.33")),  # 3.333...: the exact quotient, rounded once
        ("20.00", orig("3", "EUR"), ("20.00", "6.67")),  # an income keeps its sign, the original is positive
        ("-10.05", orig("0.0067", "JPY"), ("-10.05", "1500")),  # to JPY's whole yen
        ("-0.25", cur("0.5", "EUR"), ("-0.12", "0.25")),  # 0.125 USD booked: half to even
        ("-1500", cur("0.0067", "JPY"), ("-10.05", "1500")),
        ("-12.345", cur("1.5", "KWD"), ("-18.52", "12.345")),  # 18.5175 USD: three-decimal original
        ("-41.00", cur("1", "USD"), ("-41.00", None)),  # CURSYM is CURDEF at rate 1: no original
    ],
)
def test_the_derived_side_is_exact_and_rounded_half_even(amount: str, extra: str, want: tuple[str, str | None]) -> None:
    booked, paid = want
    ((got_amount, currency, got_original, _),) = ofx_rows(sgml(trn(amount, "A", extra)))
    assert (got_amount, currency) == (Decimal(booked), "USD")
    assert got_original == (Decimal(paid) if paid else None)
    assert type(got_amount) is Decimal


def test_origcurrency_without_curdef_goes_by_the_accounts_currency() -> None:
    """A statement naming no CURDEF: the original is recorded unless the account turns out to be in CURSYM."""
    data = sgml(trn("-45.10", "A", orig("1.10", "EUR")), curdef="")
    assert ofx_rows(data) == [(Decimal("-45.10"), None, Decimal("41.00"), "EUR")]
    in_usd = plan_import(data, "s.ofx", LedgerView(default_currency="USD")).new[0].draft
    in_eur = plan_import(data, "s.ofx", LedgerView(default_currency="EUR")).new[0].draft
    assert in_usd is not None
    assert in_eur is not None
    assert original(in_usd) == (-4510, "USD", 4100, "EUR")
    assert original(in_eur) == (-4510, "EUR", 0, "")


BAD_OFX: list[tuple[Callable[[bool], str], str, str]] = [
    (lambda c: orig("0", "EUR", closed=c), "CURRATE", "'0' must be a number greater than zero"),
    (lambda c: orig("-1.10", "EUR", closed=c), "CURRATE", "'-1.10' must be a number greater than zero"),
    (lambda c: orig("abc", "EUR", closed=c), "CURRATE", "'abc' is not a number"),
    (lambda c: "<ORIGCURRENCY><CURSYM>EUR" + "</CURSYM>" * c + "</ORIGCURRENCY>", "CURRATE", "is missing"),
    (lambda c: orig("1.10", "XYZ", closed=c), "CURSYM", "'XYZ' is not an ISO 4217 currency code"),
    (lambda c: cur("1.10", "EURO", closed=c), "CURSYM", "'EURO' is not an ISO 4217 currency code"),
    (lambda c: "<CURRENCY><CURRATE>1.10" + "</CURRATE>" * c + "</CURRENCY>", "CURSYM", "is missing"),
    (lambda c: cur("1.10", "USD", closed=c), "CURRATE", "'1.10' is not 1, but CURSYM is the statement's own"),
    (lambda c: cur("0.0001", "EUR", closed=c), "CURRATE", "'0.0001' makes TRNAMT -45.10 zero in USD"),
    (lambda c: cur("1.5", "JPY", closed=c), "TRNAMT", "'-45.10' has more decimal places than JPY allows"),
    (
        lambda c: cur("1.1", "EUR", closed=c) + orig("1.1", "EUR", closed=c),
        "ORIGCURRENCY",
        "is given together with CURRENCY",
    ),
]


@pytest.mark.parametrize(("extra", "field", "message"), BAD_OFX)
@pytest.mark.parametrize("form", ["sgml", "xml"])
def test_a_bad_aggregate_refuses_the_file_naming_line_and_field(
    form: str, extra: Callable[[bool], str], field: str, message: str
) -> None:
    if form == "xml":
        data = xml(xml_trn("-1.00", "B", ""), xml_trn("-45.10", "A", extra(True)))
    else:
        data = sgml(trn("-1.00", "B"), trn("-45.10", "A", extra(False)))
    with pytest.raises(ImportFileError) as err:
        OfxImporter().read(data, "bad.ofx")
    (problem,) = err.value.problems
    assert problem.field == field
    assert f"field {field}: {message}" in str(err.value)
    assert problem.line is not None
    where = "<ORIGCURRENCY>" if "<ORIGCURRENCY>" in extra(False) else "<CURRENCY>"
    assert (f"<{field}>" if "missing" not in message else where) in data.decode().splitlines()[problem.line - 1]


def test_a_refused_ofx_import_leaves_every_data_file_byte_identical(
    ledger: Ledger, tmp_path: Path, files_of: Files
) -> None:
    import_file(ledger, write(tmp_path, "good.ofx", sgml(trn("-45.10", "G", orig("1.10", "EUR")))))
    before = files_of(ledger.location)
    assert before
    bad = sgml(trn("-10.00", "N1"), trn("-20.00", "N2", orig("0", "EUR")))
    with pytest.raises(ImportFileError, match=r"bad\.ofx, line \d+, field CURRATE"):
        import_file(ledger, write(tmp_path, "bad.ofx", bad))
    assert files_of(ledger.location) == before
    assert len(ledger.transactions()) == 1


# --- CSV ------------------------------------------------------------------------------------------------

ENGLISH = """Date,Description,Amount,Original amount,Original currency,Exchange rate
2024-03-04,Shop New York,-46.00,-50.00,USD,
2024-03-04,Hotel Tokyo,-61.54,,JPY,0.0062
2024-03-05,Cafe Zurich,-4.60,5.00,CHF,0.5
2024-03-05,Bakery,-2.10,,,
2024-03-06,Refund London,8.72,,GBP,1.16
"""


def test_csv_amount_and_currency_or_currency_and_rate(ledger: Ledger, tmp_path: Path) -> None:
    add_account(ledger, "Giro", currency="EUR")
    result = import_file(ledger, write(tmp_path, "card.csv", ENGLISH), ImportOptions(account="Giro"))
    assert [original(tx) for tx in sorted(result.added, key=lambda t: t.note)] == [
        (-210, "EUR", 0, ""),  # Bakery: no original
        (-460, "EUR", 500, "CHF"),  # the amount given wins over the (inconsistent) rate
        (-6154, "EUR", 9926, "JPY"),  # 61.54 / 0.0062 = 9925.806... -> 9926 yen
        (872, "EUR", 752, "GBP"),  # 8.72 / 1.16 = 7.5172... -> 7.52
        (-4600, "EUR", 5000, "USD"),
    ]
    assert result.plan.details["columns"]["original_amount"] == "Original amount"
    assert result.plan.details["mapping"]["exchange_rate"] == "Exchange rate"
    book = rate_book(ledger)
    found = book.rate("USD", "EUR", DAY)
    assert found is not None
    assert (found.rate, found.route) == (Decimal("0.92"), "direct")
    assert book.rate("EUR", "USD", DAY) is not None  # and the inverse


GERMAN = """Buchungstag;Verwendungszweck;Betrag;Originalbetrag;Originalwährung;Wechselkurs
04.03.2024;Shop New York;-46,00;;USD;0,92
05.03.2024;Bäckerei Schmidt;-2,10;-2,10;EUR;1,0
06.03.2024;Hotel Zürich;-1.084,00;-1.000,00;CHF;
"""


def test_csv_german_headers_decimal_commas() -> None:
    assert csv_rows(GERMAN) == [(Decimal("50.00"), "USD"), (None, ""), (Decimal("1000.00"), "CHF")]


@pytest.mark.parametrize(
    ("header", "cells", "want"),
    [
        ("Kurs", "-46,00;USD;0,92", (Decimal("50.00"), "USD")),
        ("Kurs", "-46,00;USD;0.9200", (Decimal("50.00"), "USD")),  # a point where no group can be: the decimal
        ("Kurs", "-1,25;USD;2", (Decimal("0.62"), "USD")),  # 0.625: half to even
        ("Kurs", "-1,35;USD;2", (Decimal("0.68"), "USD")),  # 0.675: half to even
        ("Umrechnungskurs", "-100,00;JPY;0,0062", (Decimal("16129"), "JPY")),
        ("Kurs", "-10,00;EUR;0", (None, "")),  # the account's own currency: nothing read, nothing recorded
    ],
)
def test_csv_rate_alone_derives_the_original(header: str, cells: str, want: tuple[Decimal | None, str]) -> None:
    text = f"Datum;Text;Betrag;Fremdwährung;{header}\n04.03.2024;Kauf;{cells}\n"
    assert csv_rows(text) == [want]


def test_csv_without_an_original_currency_column_uses_neither_amount_nor_rate() -> None:
    text = "Date,Description,Amount,Original amount,Exchange rate\n2024-03-04,Shop,-46.00,-50.00,0.92\n"
    assert csv_rows(text) == [(None, "")]
    with pytest.raises(ImportFileError, match="field original_currency: cannot tell which column"):
        csv_rows(text, CsvMapping(exchange_rate="Exchange rate"))


def test_csv_declared_columns_with_any_header_and_the_mapping_round_trip() -> None:
    text = "Tag,Was,Wert,Fremd,FW\n2024-03-04,Shop,-46.00,50.00,USD\n"
    mapping = CsvMapping(
        date="Tag", amount="Wert", description=("Was",), original_amount="Fremd", original_currency="FW"
    )
    assert csv_rows(text, mapping) == [(Decimal("50.00"), "USD")]
    assert CsvMapping.from_dict(mapping.to_dict()) == mapping
    assert csv_rows(text, CsvMapping(original_amount="4", original_currency="5", date="1", amount="3")) == [
        (Decimal("50.00"), "USD")
    ]


def test_csv_row_in_the_accounts_own_currency_records_none() -> None:
    text = "Date,Description,Amount,Original amount,Original currency\n2024-03-04,Shop,-46.00,-46.00,EUR\n"
    assert csv_rows(text, currency="EUR") == [(None, "")]
    assert csv_rows(text, currency="USD") == [(Decimal("46.00"), "EUR")]
    with_column = "Date,Description,Amount,Currency,Original amount,Original currency\n2024-03-04,S,-46.00,USD,50,USD\n"
    assert csv_rows(with_column, currency="EUR") == [(None, "")]  # the row's own currency, from its column


def test_an_original_amount_without_currency_is_refused_unless_it_is_the_amount() -> None:
    text = "Date,Description,Amount,Original amount,Original currency\n2024-03-04,Shop,-46.00,-46.00,\n"
    assert csv_rows(text) == [(None, "")]
    with pytest.raises(ImportFileError, match=r"line 2, field original_amount: '-50\.00' is given without an original"):
        csv_rows(text.replace("-46.00,\n", "-50.00,\n"))


def test_our_own_csv_export_imports_with_its_original_amounts(ledger: Ledger, tmp_path: Path) -> None:
    ledger.add_expense(
        "45.10", category="Food", date="2024-03-04", note="Paris", original_amount="41.00", original_currency="EUR"
    )
    ledger.add_expense("3.00", category="Food", date="2024-03-05", note="Home")
    exported = to_csv(ledger.transactions())
    other = Ledger(tmp_path / "other")
    result = import_file(other, write(tmp_path, "export.csv", exported))
    assert result.plan.details["layout"] == "expense-tracker"
    assert sorted(original(tx) for tx in other.transactions()) == [(-4510, "USD", 4100, "EUR"), (-300, "USD", 0, "")]


BAD_CSV = [
    ("-46.00,abc,USD,", "original_amount", "'abc' is not an amount"),
    ("-46.00,,USD,abc", "exchange_rate", "'abc' is not an exchange rate"),
    ("-46.00,,USD,0", "exchange_rate", "'0' must be a number greater than zero"),
    ("-46.00,,USD,-0.92", "exchange_rate", "'-0.92' is not an exchange rate"),
    ("-46.00,,USD,100000", "exchange_rate", "'100000' makes the amount 46.00 zero in USD"),
    ("-46.00,50.00,XYZ,", "original_currency", "'XYZ' is not an ISO 4217 currency code"),
    ("-46.00,,USD,", "original_currency", "'USD' is given without an original amount or exchange rate"),
    ("-46.00,7000.5,JPY,", "original_amount", "'7000.5' has more decimal places than JPY allows"),
    ("-46.00,12345678901,USD,", "original_amount", "'12345678901' is too large"),
]


@pytest.mark.parametrize(("cells", "field", "message"), BAD_CSV)
def test_a_bad_csv_value_refuses_the_file_naming_line_and_column(
    ledger: Ledger, tmp_path: Path, files_of: Files, cells: str, field: str, message: str
) -> None:
    add_account(ledger, "Giro", currency="EUR")
    into = ImportOptions(account="Giro")
    import_file(ledger, write(tmp_path, "good.csv", ENGLISH), into)
    before = files_of(ledger.location)
    text = (
        "Date,Description,Amount,Original amount,Original currency,Exchange rate\n"
        f"2024-03-07,Fine,-1.00,,,\n2024-03-08,Shop,{cells}\n"
    )
    with pytest.raises(ImportFileError) as err:
        import_file(ledger, write(tmp_path, "bad.csv", text), into)
    (problem,) = err.value.problems
    assert (problem.line, problem.field) == (3, field)
    assert str(err.value).startswith(f"bad.csv, line 3, field {field}: {message}"), str(err.value)
    assert files_of(ledger.location) == before
