"""OFX/QFX importer: every published sample file (ofxparse's suite) imports right or is refused clearly."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal
from pathlib import Path

import pytest

from tracker.importers.base import ImportFileError
from tracker.importers.ofx import OfxImporter

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def read(rel: str):
    path = FIXTURES / "ofx" / rel
    return OfxImporter().read(path.read_bytes(), path.name)


# file -> [(date, amount, currency, external id, description start)]
EXPECTED = {
    "anzcc.ofx": [("2017-05-08", "-5.50", "AUD", "ofx:1234123412341234:201705080001", "SOME MEMO")],
    "bank_medium.ofx": [
        (
            "2009-04-01",
            "-6.60",
            "CAD",
            "ofx:160000100/12300 000012345678:0000123456782009040100001",
            "POS MERCHANDISE;MCDONALD'S",
        ),
        ("2009-04-02", "-316.67", "CAD", "ofx:160000100/12300 000012345678:0000123456782009040200004", "MISCELLANEOUS"),
        (
            "2009-04-03",
            "-22.00",
            "CAD",
            "ofx:160000100/12300 000012345678:0000123456782009040300005",
            "POS MERCHANDISE;CONNIE'S",
        ),
    ],
    "checking.ofx": [
        ("2011-03-31", "0.01", "USD", "ofx:5472369148/1452687~7:0000486", "DIVIDEND EARNED FOR PERIOD OF 03/01/2011"),
        ("2011-04-05", "-34.51", "USD", "ofx:5472369148/1452687~7:0000487", "AUTOMATIC WITHDRAWAL, ELECTRIC BILL"),
        ("2011-04-07", "-25.00", "USD", "ofx:5472369148/1452687~7:0000488", "RETURNED CHECK FEE"),
    ],
    "suncorp.ofx": [("2013-12-15", "-16.85", "AUD", "ofx:SUNCORP/123456789:1", "EFTPOS WDL HANDYWAY ALDI STORE")],
    "ofx-v102-empty-tags.ofx": [("2018-05-07", "12.34", "AUD", "", "CBA:Transfer")],
    "malformed/empty_balance.ofx": [("2011-03-08", "120", "CAD", "ofx:123845030/192639749:2000957249", "Foobar")],
    "bank_small.ofx": [],
    "multiple_accounts.ofx": [],
    "multiple_accounts2.ofx": [],
}

REFUSED = {
    "error_message.ofx": ("line 24, field STATUS", "'General Server Error' (code 2000)"),
    "malformed/date_missing.ofx": ("line 33, field DTPOSTED", "is missing"),
    "malformed/decimal_error.ofx": ("line 36, field DTPOSTED", "'201120000000' is not a date"),
}


def test_every_published_sample_is_covered() -> None:
    found = {str(p.relative_to(FIXTURES / "ofx")) for p in (FIXTURES / "ofx").rglob("*.ofx")}
    assert found == set(EXPECTED) | set(REFUSED)


def test_fixture_copies_match_the_published_files() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"the shared fixtures folder {SHARED} is absent; the copies in tests/fixtures are used")
    for kind in ("ofx", "qif"):
        for path in (SHARED / kind).rglob("*"):
            if path.is_file():
                assert (FIXTURES / kind / path.relative_to(SHARED / kind)).read_bytes() == path.read_bytes()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_published_samples_import_with_the_right_amounts(name: str) -> None:
    ex = read(name)
    got = [(r.date.isoformat(), r.amount, r.currency, r.external_id, r.description) for r in ex.rows]
    want = EXPECTED[name]
    assert len(got) == len(want)
    for (date, amount, currency, ext, desc), (gdate, gamount, gcur, gext, gdesc) in zip(want, got, strict=True):
        assert (gdate, gamount, gcur, gext) == (date, Decimal(amount), currency, ext)
        assert type(gamount) is Decimal
        assert gdesc.startswith(desc), gdesc
    if not want:
        assert ex.warnings or ex.details["statements"] > 0


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_broken_samples_are_refused_naming_line_and_field(name: str) -> None:
    where, what = REFUSED[name]
    with pytest.raises(ImportFileError) as err:
        read(name)
    message = str(err.value)
    assert message.startswith(Path(name).name + ", " + where), message
    assert what in message


def test_every_problem_of_a_broken_file_is_listed() -> None:
    with pytest.raises(ImportFileError) as err:
        read("malformed/date_missing.ofx")
    assert [(p.line, p.field) for p in err.value.problems] == [(33, "DTPOSTED"), (42, "DTPOSTED"), (50, "DTPOSTED")]
    with pytest.raises(ImportFileError) as err:
        read("malformed/decimal_error.ofx")
    assert [(p.line, p.field, p.value) for p in err.value.problems] == [
        (36, "DTPOSTED", "201120000000"),
        (37, "TRNAMT", "$120"),
    ]


@pytest.mark.parametrize("name", ["anzcc.ofx", "bank_medium.ofx", "suncorp.ofx"])
def test_agrees_with_ofxtools_where_ofxtools_accepts_the_file(name: str) -> None:
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    tree.parse(str(FIXTURES / "ofx" / name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = tree.convert()
    theirs = [(t.fitid, t.trnamt) for st in converted.statements for t in st.banktranlist]
    ours = [(r.external_id.rsplit(":", 1)[1], r.amount) for r in read(name).rows]
    assert ours == theirs


def test_why_ofxtools_convert_is_not_used() -> None:
    """ofxtools' convert() refuses a real bank's file (BANKID longer than the spec's 9) and moves dates to UTC."""
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    tree.parse(str(FIXTURES / "ofx" / "checking.ofx"))
    warnings.simplefilter("ignore")
    with pytest.raises(Exception, match="bankid"):
        tree.convert()
    assert len(read("checking.ofx").rows) == 3


SGML = """OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>EUR<BANKACCTFROM><BANKID>1<ACCTID>{acct}<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST>
{trns}
</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


def sgml(*trns: str, acct: str = "DE1") -> bytes:
    return SGML.format(acct=acct, trns="\n".join(trns)).encode("cp1252")


def trn(
    date: str = "20240105",
    amount: str = "-3.50",
    fitid: str = "A1",
    name: str = "Caf&eacute; &amp; Bar",
    extra: str = "",
) -> str:
    return f"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>{date}<TRNAMT>{amount}<FITID>{fitid}<NAME>{name}{extra}</STMTTRN>"


def test_posting_date_is_the_banks_own_calendar_date() -> None:
    # 20:31 in California on the 3rd of June is the 4th in UTC; the statement says the 3rd
    ex = OfxImporter().read(sgml(trn(date="20120603203135.547[-7:PDT]")), "tz.ofx")
    assert ex.rows[0].date == dt.date(2012, 6, 3)


def test_entities_decimal_comma_and_foreign_currency() -> None:
    data = sgml(
        trn(amount="-1,25", fitid="A"),
        trn(amount="+2.5", fitid="B", extra="<CURRENCY><CURRATE>1.1<CURSYM>USD</CURRENCY>"),
        trn(amount=".75", fitid="C"),
    )
    rows = OfxImporter().read(data, "x.ofx").rows
    assert [(r.amount, r.currency) for r in rows] == [
        (Decimal("-1.25"), "EUR"),
        (Decimal("2.75"), "EUR"),  # CURRENCY: TRNAMT 2.50 USD at 1.1 into the statement's EUR
        (Decimal("0.75"), "EUR"),
    ]
    assert rows[0].description == "Café & Bar"


def test_same_fitid_in_two_accounts_gives_two_identities() -> None:
    one = OfxImporter().read(sgml(trn(fitid="42"), acct="111"), "a.ofx").rows[0]
    two = OfxImporter().read(sgml(trn(fitid="42"), acct="222"), "b.ofx").rows[0]
    assert one.external_id != two.external_id


def test_xml_ofx_version_2() -> None:
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
        "<OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
        "<CCSTMTRS><CURDEF>GBP</CURDEF><CCACCTFROM><ACCTID>9999</ACCTID></CCACCTFROM><BANKTRANLIST>"
        "<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20240301</DTPOSTED><TRNAMT>-9.99</TRNAMT><FITID>X</FITID>"
        "<PAYEE><NAME>Streaming Ltd</NAME></PAYEE><MEMO>Monthly plan</MEMO></STMTTRN>"
        "</BANKTRANLIST></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>"
    )
    (row,) = OfxImporter().read(text.encode(), "card.qfx").rows
    assert (row.date, row.amount, row.currency, row.external_id, row.description) == (
        dt.date(2024, 3, 1),
        Decimal("-9.99"),
        "GBP",
        "ofx:9999:X",
        "Streaming Ltd / Monthly plan",
    )


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"hello, this is not OFX", "no <OFX> element"),
        (
            b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS></BANKMSGSRSV1></OFX>",
            "not valid OFX",
        ),
        (b"<OFX><A><B></A></OFX>", "</A> where <B> should be closed"),
        (b"<OFX><SIGNONMSGSRSV1><SONRS>oops</SONRS> tail</SIGNONMSGSRSV1></OFX>", "not valid OFX"),
        (
            b"<OFX><SONRS><STATUS><CODE>15500<SEVERITY>ERROR<MESSAGE>Signon invalid</STATUS></SONRS></OFX>",
            "'Signon invalid' (code 15500)",
        ),
        (sgml(trn(amount="</TRNAMT>")), "field TRNAMT: is missing"),
        (sgml(trn(amount="")), "</STMTTRN> where <TRNAMT> should be closed"),
        (sgml(trn(amount="12.3.4")), "field TRNAMT: '12.3.4' is not an amount"),
        (sgml(trn(date="2024-01-05")), "field DTPOSTED: '2024-01-05' is not a date"),
        (sgml(trn(date="18500101")), "is not a date"),
        (sgml(trn(extra="<CURRENCY><CURRATE>1<CURSYM>XYZ</CURRENCY>")), "field CURSYM: 'XYZ'"),
        (sgml(trn())[:400], "is it cut off?"),
        (sgml(trn()).replace(b"</OFX>", b""), "is it cut off?"),
    ],
)
def test_malformed_ofx_is_refused_clearly(data: bytes, needle: str) -> None:
    with pytest.raises(ImportFileError) as err:
        OfxImporter().read(data, "bad.ofx")
    assert needle in str(err.value)
    assert str(err.value).startswith("bad.ofx")


def test_problem_lines_are_lines_of_the_file() -> None:
    data = sgml(trn(fitid="1"), trn(fitid="2", amount="x"))
    with pytest.raises(ImportFileError) as err:
        OfxImporter().read(data, "bad.ofx")
    line = data.decode().splitlines()[err.value.line - 1]
    assert "<TRNAMT>x" in line


def test_leading_blank_lines_and_bom_are_tolerated() -> None:
    rows = OfxImporter().read(b"\xef\xbb\xbf\n\n\n" + sgml(trn()), "x.ofx").rows
    assert len(rows) == 1


def test_identify_by_content_and_extension(tmp_path: Path) -> None:
    (tmp_path / "statement.txt").write_bytes(sgml(trn()))
    (tmp_path / "notes.txt").write_text("just text")
    assert OfxImporter().identify(tmp_path / "statement.txt")
    assert not OfxImporter().identify(tmp_path / "notes.txt")
    assert OfxImporter().extract(tmp_path / "statement.txt")[0].amount == Decimal("-3.50")
