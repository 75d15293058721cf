"""CSV importer: bank layouts, detection of encoding/delimiter/header/decimal/date format, overrides, refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from tracker.errors import ValidationError
from tracker.importers.base import (
    ImportFileError,
    decode_text,
    detect_date_format,
    detect_decimal,
)
from tracker.importers.csv_importer import CsvImporter, CsvMapping, detect_delimiter, parse_delimiter

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "csv"


def read(name: str, mapping: CsvMapping | None = None, currency: str = "EUR"):
    return CsvImporter(mapping, default_currency=currency).read((FIXTURES / name).read_bytes(), name)


def read_text(text: str, mapping: CsvMapping | None = None, encoding: str = "utf-8", currency: str = "EUR"):
    return CsvImporter(mapping, default_currency=currency).read(text.encode(encoding), "test.csv")


# --- the banks' layouts -----------------------------------------------------------------------------

# file, layout, encoding, delimiter, decimal, date format, [(line, date, amount, description start)]
BANKS = [
    (
        "sparkasse_camt.csv", "sparkasse-camt", "cp1252", ";", ",", "%d.%m.%y",
        [(2, "2024-02-28", "2500.00", "Müller & Söhne GmbH"), (3, "2024-03-01", "-1234.56", "Hausverwaltung Weiß"),
         (4, "2024-03-04", "-3.50", "Bäckerei Kühn Kaffee"), (5, "2024-03-04", "-3.50", "Bäckerei Kühn Kaffee"),
         (6, "2024-03-13", "-47.89", "REWE Markt GmbH")],
    ),
    (
        "dkb_giro.csv", "dkb", "utf-8-sig", ";", ",", "%d.%m.%y",
        [(6, "2024-01-31", "-85.00", "Stadtwerke München"), (7, "2024-01-30", "3100.50", "Erika Mustermann"),
         (8, "2024-01-15", "-1200.00", "Café Größenwahn")],
    ),
    (
        "chase_checking.csv", "chase", "utf-8", ",", ".", "%m/%d/%Y",
        [(2, "2024-01-15", "-5.75", "STARBUCKS"), (3, "2024-01-16", "-1047.99", "AMAZON"),
         (4, "2024-01-31", "2500.00", "ACME CORP"), (5, "2024-02-01", "-850.00", "CHECK 1042")],
    ),
    (
        "capital_one.csv", "capital-one", "utf-8", ",", ".", "%Y-%m-%d",
        [(2, "2024-02-01", "-23.45", "UBER"), (3, "2024-02-03", "500.00", "CAPITAL ONE"), (4, "2024-02-05", "-1088.10", "WHOLEFDS")],
    ),
    (
        "barclays_uk.csv", "barclays", "utf-8", ",", ".", "%d/%m/%Y",
        [(2, "2024-01-02", "-12.40", "TESCO STORES 3012 ON 01 JAN"), (3, "2024-01-13", "1850.00", "EMPLOYER LTD"),
         (4, "2024-01-28", "-650.00", "LANDLORD RENT")],
    ),
    (
        "budget_app.tsv", "guessed", "utf-8", "\t", ".", "%Y-%m-%d",
        [(2, "2024-03-01", "-60.00", "Shell Station"), (3, "2024-03-02", "-89.00", "Hotel Ibis Lyon"), (4, "2024-03-05", "89.00", "Refund")],
    ),
    (
        "wells_fargo_noheader.csv", "guessed", "utf-8", ",", ".", "%m/%d/%Y",
        [(1, "2024-01-05", "-12.50", "COFFEE SHOP"), (2, "2024-01-07", "-64.20", "SAFEWAY"), (3, "2024-01-15", "1200.00", "ONLINE TRANSFER")],
    ),
    (
        "banque_fr.csv", "guessed", "cp1252", ";", ",", "%d/%m/%Y",
        [(2, "2024-02-05", "-72.30", "PRLV SEPA Électricité"), (3, "2024-02-20", "2310.00", "VIR SALAIRE FÉVRIER")],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "layout", "encoding", "delimiter", "decimal", "date_format", "expected"), BANKS)
def test_bank_layouts_are_read_exactly(name, layout, encoding, delimiter, decimal, date_format, expected) -> None:
    ex = read(name, currency="USD")
    d = ex.details
    assert (d["layout"], d["encoding"], d["delimiter"], d["decimal"], d["date_format"]) == (
        layout,
        encoding,
        delimiter,
        decimal,
        date_format,
    )
    got = [(r.line, r.date.isoformat(), r.amount, r.description) for r in ex.rows]
    assert len(got) == len(expected)
    for (line, date, amount, desc), (gline, gdate, gamount, gdesc) in zip(expected, got, strict=True):
        assert (gline, gdate, gamount) == (line, date, Decimal(amount))
        assert isinstance(gamount, Decimal)
        assert gdesc.startswith(desc), gdesc


def test_currency_column_and_declared_currency() -> None:
    assert {r.currency for r in read("sparkasse_camt.csv").rows} == {"EUR"}  # Waehrung column
    assert {r.currency for r in read("dkb_giro.csv", currency="USD").rows} == {"EUR"}  # the layout's currency
    assert {r.currency for r in read("chase_checking.csv").rows} == {None}  # the ledger's default decides


def test_category_and_tags_columns() -> None:
    rows = read("budget_app.tsv").rows
    assert [(r.category, r.tags) for r in rows] == [
        ("Car", ("car", "fuel")),
        ("Travel", ("travel", "work")),
        ("", ("work",)),
    ]
    assert [r.category for r in read("capital_one.csv").rows] == ["Other Travel", "Payment/Credit", "Grocery"]


def test_debit_and_credit_columns_give_the_sign() -> None:
    rows = read("capital_one.csv").rows
    assert [r.amount for r in rows] == [Decimal("-23.45"), Decimal("500.00"), Decimal("-1088.10")]
    # a debit column written with a minus sign is still money out
    assert [r.amount for r in read("banque_fr.csv").rows] == [Decimal("-72.30"), Decimal("2310.00")]


def test_invert_for_card_exports_listing_spending_as_positive() -> None:
    plain = read("amex.csv", currency="USD").rows
    inverted = read("amex.csv", CsvMapping(invert=True), currency="USD").rows
    assert [r.amount for r in plain] == [Decimal("15.99"), Decimal("-200.00")]
    assert [r.amount for r in inverted] == [Decimal("-15.99"), Decimal("200.00")]


# --- detection --------------------------------------------------------------------------------------


def test_encodings_are_detected() -> None:
    text = "Datum;Betrag;Text\n01.02.2024;-3,50;Bäckerei Müller €\n"
    assert decode_text(text.encode("utf-8"), "", "f")[1] == "utf-8"
    assert decode_text(b"\xef\xbb\xbf" + text.encode("utf-8"), "", "f") == (text, "utf-8-sig")
    assert decode_text(text.encode("cp1252"), "", "f") == (text, "cp1252")
    assert decode_text(text.encode("utf-16"), "", "f") == (text, "utf-16")
    latin = "Datum;Betrag\n01.02.2024;3,50\x81\n".encode("latin-1")  # 0x81 is undefined in cp1252
    assert decode_text(latin, "", "f")[1] == "latin-1"
    for enc in ("utf-8", "cp1252", "utf-16"):
        rows = read_text(text, encoding=enc).rows
        assert [(r.amount, r.description) for r in rows] == [(Decimal("-3.50"), "Bäckerei Müller €")]


def test_wrong_encoding_override_names_the_line() -> None:
    data = "Date,Amount,Text\n2024-01-01,1.00,a\n2024-01-02,2.00,Bäcker\n".encode("cp1252")
    with pytest.raises(ImportFileError) as err:
        CsvImporter(CsvMapping(encoding="utf-8")).read(data, "x.csv")
    assert err.value.line == 3
    assert "x.csv, line 3, field encoding" in str(err.value)


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("Datum;Text;Betrag\n01.02.2024;REWE, Berlin;-12,50\n02.02.2024;Lidl;-3,10\n", ";"),
        ("a\tb\n1,5\t2,5\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
    ],
)
def test_delimiter_detection(text: str, delimiter: str) -> None:
    assert detect_delimiter(text) == delimiter


def test_parse_delimiter_names() -> None:
    assert [parse_delimiter(t) for t in ("tab", "\\t", ";", "comma", "|")] == ["\t", "\t", ";", ",", "|"]
    with pytest.raises(ValidationError):
        parse_delimiter("::")


def test_detect_decimal() -> None:
    assert detect_decimal(["1.234,56", "12,50"]) == ","
    assert detect_decimal(["1,234.56", "3.5"]) == "."
    assert detect_decimal(["1,234,567"]) == "."
    assert detect_decimal(["1,234"]) is None  # three digits after one separator: could be either
    assert detect_decimal(["-12", "7"]) is None
    with pytest.raises(ValueError, match="mix"):
        detect_decimal(["12,50", "3.75"])


def test_detect_date_format_and_ambiguity() -> None:
    assert detect_date_format(["13/01/2024", "02/01/2024"], day_first=False) == ("%d/%m/%Y", False)
    assert detect_date_format(["01/13/2024", "02/01/2024"], day_first=True) == ("%m/%d/%Y", False)
    assert detect_date_format(["01/02/2024"], day_first=True) == ("%d/%m/%Y", True)
    assert detect_date_format(["01/02/2024"], day_first=False) == ("%m/%d/%Y", True)
    assert detect_date_format(["2024-01-31"], day_first=False) == ("%Y-%m-%d", False)
    assert detect_date_format(["31.01.24"], day_first=False) == ("%d.%m.%y", False)
    with pytest.raises(ValueError, match="yesterday"):
        detect_date_format(["2024-01-01", "yesterday"], day_first=True)


def test_ambiguous_dates_warn_and_follow_the_hints() -> None:
    text = "Date,Description,Amount\n01/02/2024,Coffee,-3.50\n03/04/2024,Tea,-2.00\n"
    us = read_text(text, currency="USD")
    uk = read_text(text, currency="GBP")
    assert [r.date for r in us.rows] == [dt.date(2024, 1, 2), dt.date(2024, 3, 4)]
    assert [r.date for r in uk.rows] == [dt.date(2024, 2, 1), dt.date(2024, 4, 3)]
    assert us.warnings
    assert "MM/DD/YYYY" in us.warnings[0]
    fixed = read_text(text, CsvMapping(date_format="%d/%m/%Y"), currency="USD")
    assert [r.date for r in fixed.rows] == [dt.date(2024, 2, 1), dt.date(2024, 4, 3)]
    assert not fixed.warnings


def test_header_after_preamble_and_trailing_delimiters() -> None:
    ex = read("dkb_giro.csv")
    assert ex.details["header_line"] == 5
    assert read("chase_checking.csv").details["headers"][:2] == ["Details", "Posting Date"]


def test_guessing_by_header_words_in_other_languages() -> None:
    text = "Fecha;Concepto;Importe\n05/02/2024;Mercadona;-23,40\n"
    ex = read_text(text)
    assert ex.details["columns"] == {"date": "Fecha", "amount": "Importe", "description": ["Concepto"]}
    assert ex.rows[0].amount == Decimal("-23.40")


def test_type_column_sets_the_sign() -> None:
    text = "Buchungstag;Umsatz;S/H;Text\n01.03.2024;12,50;S;Kiosk\n02.03.2024;100,00;H;Erstattung\n"
    ex = read_text(text)
    assert [r.amount for r in ex.rows] == [Decimal("-12.50"), Decimal("100.00")]
    assert ex.details["columns"]["type"] == "S/H"


def test_a_type_column_of_other_words_is_not_taken_as_the_sign() -> None:
    ex = read("chase_checking.csv")  # Type holds DEBIT_CARD, ACH_CREDIT...: the signed Amount decides
    assert "type" not in ex.details["columns"]
    assert ex.rows[2].amount == Decimal("2500.00")


def test_rows_without_money_and_blank_rows() -> None:
    text = "Date,Description,Amount\n2024-01-01,Opening balance,\n\n2024-01-02,Coffee,-3.00\n,,\n"
    rows = read_text(text).rows
    assert [(r.line, r.amount) for r in rows] == [(2, Decimal(0)), (4, Decimal("-3.00"))]


def test_descriptions_are_one_clean_line() -> None:
    text = (
        'Date,Payee,Memo,Amount\n2024-01-01,"ACME\tStore","Receipt\n  42",-3.00\n2024-01-02,ACME,ACME Store 7,-1.00\n'
    )
    first, second = read_text(text).rows
    assert first.description == "ACME Store / Receipt 42"
    assert second.description == "ACME Store 7"  # a part contained in another is not repeated


# --- explicit mappings ------------------------------------------------------------------------------


def test_columns_by_number_for_a_file_without_header() -> None:
    mapping = CsvMapping(date="1", amount="2", description=("5",), date_format="%m/%d/%Y")
    ex = read("wells_fargo_noheader.csv", mapping)
    assert [r.amount for r in ex.rows] == [Decimal("-12.50"), Decimal("-64.20"), Decimal("1200.00")]
    assert ex.details["layout"] == "declared"


def test_explicit_columns_override_the_detected_layout() -> None:
    ex = read("sparkasse_camt.csv", CsvMapping(date="Valutadatum", description=("Buchungstext",)))
    assert ex.details["columns"]["date"] == "Valutadatum"
    assert ex.rows[0].description == "LOHN / GEHALT"


def test_decimal_override_changes_the_reading() -> None:
    text = "Date;Text;Amount\n2024-01-01;a;1.234\n"
    assert read_text(text).rows[0].amount == Decimal("1234")  # semicolon files default to decimal comma
    assert read_text(text, CsvMapping(decimal=".")).rows[0].amount == Decimal("1.234")


def test_unknown_column_names_the_columns() -> None:
    with pytest.raises(ImportFileError) as err:
        read("chase_checking.csv", CsvMapping(date="Datum"))
    message = str(err.value)
    assert "chase_checking.csv" in message
    assert "field date" in message
    assert "'Posting Date'" in message


def test_mapping_round_trip_and_validation() -> None:
    m = CsvMapping(
        date="Buchungstag", debit="Soll", credit="Haben", description=("Text", "Name"), decimal=",", invert=True
    )
    assert CsvMapping.from_dict(m.to_dict()) == m
    assert m.to_dict()["description"] == ["Text", "Name"]
    for bad in (
        {"date": "D", "amount": "A", "debit": "B"},
        {"decimal": ";"},
        {"delimiter": "ab"},
        {"encoding": "no-such-codec"},
        {"date_format": "DD.MM.YYYY"},
        {"currency": "EURO"},
        {"colour": "red"},
        {"date": 3},
    ):
        with pytest.raises(ValidationError):
            CsvMapping.from_dict(bad)


def test_merged_prefers_the_override_and_switches_amount_style() -> None:
    base = CsvMapping(date="Date", amount="Amount", decimal=",")
    merged = base.merged(CsvMapping(debit="Out", credit="In"))
    assert (merged.amount, merged.debit, merged.credit, merged.decimal, merged.date) == ("", "Out", "In", ",", "Date")


# --- refusals ---------------------------------------------------------------------------------------


def test_bad_amount_names_file_line_and_field() -> None:
    text = "Date,Description,Amount\n2024-01-01,ok,-1.00\n2024-01-02,bad,-1.0x\n2024-01-03,worse,abc\n"
    with pytest.raises(ImportFileError) as err:
        read_text(text)
    assert str(err.value).startswith("test.csv, line 3, field amount: '-1.0x' is not an amount")
    assert "(and 1 more problem)" in str(err.value)
    assert [p.line for p in err.value.problems] == [3, 4]
    assert isinstance(err.value, ValidationError)


def test_bad_date_names_file_line_and_field() -> None:
    text = "Date,Description,Amount\n2024-01-01,ok,-1.00\n2024-02-30,bad,-1.00\n"
    with pytest.raises(ImportFileError) as err:
        read_text(text, CsvMapping(date_format="%Y-%m-%d"))
    assert "test.csv, line 3, field date: '2024-02-30' is not a date in the form YYYY-MM-DD" in str(err.value)


def test_undetectable_date_names_the_line() -> None:
    text = "Date,Description,Amount\n2024-01-01,ok,-1.00\nsoon,bad,-1.00\n"
    with pytest.raises(ImportFileError) as err:
        read_text(text)
    assert err.value.line == 3
    assert err.value.field == "date"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("Date,Description,Debit,Credit\n2024-01-01,both,1.00,2.00\n", "field debit"),
        ("Date,Description,Amount\n2024-01-01,short\n", "has 2 cells"),
        ("Date,Description,Amount\n,no date,-5.00\n", "field date"),
        ("Date,Text,Amount,Currency\n2024-01-01,x,1.00,EURO\n", "field currency"),
        ("Date,Text,Amount,Category\n2024-01-01,x,1.00," + "C" * 61 + "\n", "field category"),
        (
            "Date,Text,Amount,Tags\n2024-01-01,x,1.00," + ",".join(f"t{i}" for i in range(25)).join('""') + "\n",
            "field tags",
        ),
        ("Date,Text,Amount\n12.1.2024,a,1.50\n2024-01-02,b,2.50\n", "line 3, field date"),
        ('Date,Text,Amount\n2024-01-01,x,"1,50"\n2024-01-02,y,2.75\n', "mix"),
        ("Name,Text\nfoo,bar\n", "date"),
        ("just one column\nanother line\n", "field delimiter"),
        ("", "is empty"),
        ("   \n\n", "is empty"),
    ],
)
def test_malformed_files_are_refused_clearly(text: str, needle: str) -> None:
    with pytest.raises(ImportFileError) as err:
        read_text(text)
    assert needle in str(err.value)
    assert str(err.value).startswith("test.csv")


def test_binary_file_is_refused() -> None:
    with pytest.raises(ImportFileError, match="not a text file"):
        CsvImporter().read(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "picture.csv")


def test_too_many_problems_stop_early() -> None:
    text = "Date,Text,Amount\n" + "".join(f"2024-01-01,x{i},bad\n" for i in range(500))
    with pytest.raises(ImportFileError) as err:
        read_text(text, CsvMapping(decimal="."))
    assert len(err.value.problems) == 50


def test_progress_is_reported() -> None:
    text = "Date,Text,Amount\n" + "".join(f"2024-01-01,x{i},-1.00\n" for i in range(1200))
    seen: list[float] = []
    importer = CsvImporter()
    importer.progress = seen.append
    assert len(importer.read(text.encode(), "big.csv").rows) == 1200
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert len(seen) >= 3
