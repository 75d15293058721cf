"""Imports into accounts: which account (chosen, remembered), its currency, card signs, duplicates per account,
the statement's closing balance, and rows whose twin in another account makes a transfer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_cli_core import assert_user_error, run_all

from tracker.accounts import add_account, balances, edit_account, list_accounts
from tracker.errors import ValidationError
from tracker.export import export
from tracker.importers import ImportFileError, ImportOptions, import_file
from tracker.ledger import Ledger

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OFX = FIXTURES / "ofx"
FilesOf = Callable[[Path], dict[str, bytes]]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def into(account: str = "", **options: Any) -> ImportOptions:
    return ImportOptions(account=account, **options)


TWO_STATEMENTS = """<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="211" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX><BANKMSGSRSV1>
<STMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS><STMTRS><CURDEF>USD</CURDEF>
<BANKACCTFROM><BANKID>123</BANKID><ACCTID>9100</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>
<BANKTRANLIST><DTSTART>20260101</DTSTART><DTEND>20260131</DTEND>
<STMTTRN><TRNTYPE>XFER</TRNTYPE><DTPOSTED>20260110</DTPOSTED><TRNAMT>-250.00</TRNAMT><FITID>c1</FITID><NAME>To savings</NAME></STMTTRN>
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260112</DTPOSTED><TRNAMT>-20.00</TRNAMT><FITID>c2</FITID><NAME>Grocer</NAME></STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>730.00</BALAMT><DTASOF>20260131</DTASOF></LEDGERBAL></STMTRS></STMTTRNRS>
<STMTTRNRS><TRNUID>2</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS><STMTRS><CURDEF>USD</CURDEF>
<BANKACCTFROM><BANKID>123</BANKID><ACCTID>9200</ACCTID><ACCTTYPE>SAVINGS</ACCTTYPE></BANKACCTFROM>
<BANKTRANLIST><DTSTART>20260101</DTSTART><DTEND>20260131</DTEND>
<STMTTRN><TRNTYPE>XFER</TRNTYPE><DTPOSTED>20260111</DTPOSTED><TRNAMT>250.00</TRNAMT><FITID>s1</FITID><NAME>From checking</NAME></STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>250.00</BALAMT><DTASOF>20260131</DTASOF></LEDGERBAL></STMTRS></STMTTRNRS>
</BANKMSGSRSV1></OFX>
"""


@pytest.fixture
def banked(ledger: Ledger) -> Ledger:
    add_account(ledger, "Checking", kind="checking", currency="USD")
    add_account(ledger, "Savings", kind="savings", currency="USD")
    add_account(ledger, "Visa", kind="credit-card", currency="USD")
    add_account(ledger, "Giro", kind="checking", currency="EUR")
    return ledger


def test_an_ofx_account_is_remembered_and_its_balance_reported(banked: Ledger) -> None:
    # checking.ofx: 3 rows (-59.50 in all) and a closing balance of 100.99 on 2013-05-25
    edit_account(banked, "Checking", opening="160.49", opening_date="2011-01-01")
    first = import_file(banked, OFX / "checking.ofx", into("checking"))
    assert {t.account for t in first.added} == {"Checking"}
    shown = first.to_json()
    assert (shown["statement_balance"], shown["computed_balance"], shown["difference"]) == ("100.99", "100.99", "0.00")
    assert shown["balances"][0]["agrees"] is True
    assert "ofx:5472369148/1452687~7" in next(a for a in list_accounts(banked) if a.name == "Checking").sources

    edit_account(banked, "Checking", opening="0")
    again = import_file(banked, OFX / "checking.ofx", dry_run=True)  # no account named: the remembered one
    assert again.plan.statements[0].account == "Checking"
    assert len(again.plan.duplicates) == 3
    assert again.to_json()["difference"] == "160.49"  # the statement has more than the app: an opening is missing


def test_a_file_of_two_accounts_needs_both_named_once(banked: Ledger, files_of: FilesOf, tmp_path: Path) -> None:
    path = write(tmp_path, "two.ofx", TWO_STATEMENTS)
    before = files_of(banked.location)
    with pytest.raises(ValidationError, match=r"holds 2 accounts not yet imported \(ofx:123/9100, ofx:123/9200\)"):
        import_file(banked, path)
    with pytest.raises(
        ValidationError, match=r"'ofx:123/1' is not an account of two\.ofx \(it holds: ofx:123/9100, ofx:123/9200\)"
    ):
        import_file(banked, path, ImportOptions(statement_accounts=(("ofx:123/1", "Checking"),)))
    assert files_of(banked.location) == before
    pairs = (("ofx:123/9100", "Checking"), ("ofx:123/9200", "savings"))
    assert import_file(banked, path, ImportOptions(statement_accounts=pairs), dry_run=True).linked == 1  # one pair
    result = import_file(banked, path, ImportOptions(statement_accounts=pairs))
    by_note = {t.note: t for t in banked.transactions()}
    assert by_note["Grocer"].account == "Checking"
    # the two sides of the file's transfer found each other
    out, arrived = by_note["To savings"], by_note["From checking"]
    assert (out.type, out.direction, out.link, out.account) == ("transfer", "out", arrived.id, "Checking")
    assert (arrived.type, arrived.direction, arrived.link, arrived.account) == ("transfer", "in", out.id, "Savings")
    assert result.linked == 1
    figures = {b["account"]: (b["statement_balance"], b["computed_balance"]) for b in result.to_json()["balances"]}
    assert figures == {"Checking": ("730.00", "-270.00"), "Savings": ("250.00", "250.00")}
    # next time the file needs no names: both statements are remembered
    assert len(import_file(banked, path, dry_run=True).plan.duplicates) == 3


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("eur.csv", "Date,Description,Amount (EUR)\n2026-01-02,Coffee,-3.50\n", "EUR"),
        ("waehrung.csv", "Datum;Text;Betrag;Währung\n02.01.2026;Kaffee;-3,50;EUR\n", "EUR"),
        ("monn.csv", "Date;Libellé;Montant;Monn.\n02/01/2026;Café;-3,50;EUR\n", "EUR"),
    ],
)
def test_a_statement_in_another_currency_is_refused(
    banked: Ledger, files_of: FilesOf, tmp_path: Path, name: str, text: str, words: str
) -> None:
    path = write(tmp_path, name, text)
    before = files_of(banked.location)
    with pytest.raises(ImportFileError, match=f"{words}.*the account Checking is in USD") as caught:
        import_file(banked, path, into("Checking"))
    assert caught.value.problems[0].field == "currency"
    assert files_of(banked.location) == before
    assert [t.currency for t in import_file(banked, path, into("Giro")).added] == ["EUR"]


def test_an_ofx_statement_in_another_currency_is_refused_naming_both(banked: Ledger, files_of: FilesOf) -> None:
    before = files_of(banked.location)
    with pytest.raises(ImportFileError, match="'AUD' is the statement's currency, but the account Visa is in USD"):
        import_file(banked, OFX / "anzcc.ofx", into("Visa"))
    assert files_of(banked.location) == before


def test_unsigned_charges_into_a_credit_card(banked: Ledger, tmp_path: Path) -> None:
    path = write(tmp_path, "card.csv", "Date,Description,Amount\n2026-01-10,Books,45.90\n2026-01-12,Food,12\n")
    preview = import_file(banked, path, into("Visa"), dry_run=True)
    assert [t.type for t in preview.added] == ["expense", "expense"]
    assert any("read as charges to the credit card Visa" in w for w in preview.plan.warnings)
    kept = import_file(banked, path, into("Visa", keep_signs=True), dry_run=True)
    assert [t.type for t in kept.added] == ["income", "income"]
    into_checking = import_file(banked, path, into("Checking"), dry_run=True)  # only a card reads them so
    assert [t.type for t in into_checking.added] == ["income", "income"]
    mixed = write(tmp_path, "mixed.csv", "Date,Description,Amount\n2026-01-10,Books,-45.90\n2026-01-12,Refund,12\n")
    assert [t.type for t in import_file(banked, mixed, into("Visa"), dry_run=True).added] == ["expense", "income"]


def test_duplicates_are_found_per_account(banked: Ledger, tmp_path: Path) -> None:
    path = write(tmp_path, "coffee.csv", "Date,Description,Amount\n2026-01-10,Coffee,-3.50\n")
    assert len(import_file(banked, path, into("Checking")).added) == 1
    assert len(import_file(banked, path, into("Savings")).added) == 1  # the same coffee, another account
    assert len(import_file(banked, path, into("Checking")).plan.duplicates) == 1
    # a bank's own transaction id names its bank account: found anywhere
    import_file(banked, OFX / "checking.ofx", into("Checking"))
    elsewhere = import_file(banked, OFX / "checking.ofx", into("Savings"), dry_run=True)
    assert len(elsewhere.plan.duplicates) == 3


def test_a_twin_in_another_account_is_proposed_as_a_transfer(banked: Ledger, tmp_path: Path) -> None:
    banked.add("expense", "300", category="Misc", date="2026-01-14", account="Checking", note="to savings")
    banked.add("expense", "75", category="Misc", date="2026-01-20", account="Checking")
    banked.add("expense", "75", category="Misc", date="2026-01-21", account="Visa")
    banked.add("expense", "40", category="Misc", date="2026-01-01", account="Checking")  # 7 days before: too far
    path = write(
        tmp_path,
        "savings.csv",
        "Date,Description,Amount\n2026-01-15,From checking,300\n2026-01-22,Refund,75\n2026-01-08,Interest,40\n",
    )
    preview = import_file(banked, path, into("Savings"), dry_run=True)
    rows = {r.description: r for r in preview.plan.rows}
    assert rows["From checking"].counter_account == "Checking"
    assert rows["From checking"].to_json()["transfer"]["account"] == "Checking"
    assert not rows["Refund"].transfer_with  # two twins: never linked silently
    assert any("'Refund': more than one possible other side" in w for w in preview.plan.warnings)
    assert not rows["Interest"].transfer_with

    apart = import_file(banked, path, into("Savings", transfers=False), dry_run=True)
    assert apart.plan.proposed_transfers == []

    done = import_file(banked, path, into("Savings"))
    assert done.linked == 1
    arrived = next(t for t in banked.transactions() if t.note == "From checking")
    sent = banked.get(arrived.link)
    assert (sent.note, sent.type, sent.direction, sent.link) == ("to savings", "transfer", "out", arrived.id)
    totals = {b.account.name: b.balance for b in balances(banked)}
    assert totals["Savings"] == 30000 + 7500 + 4000
    assert banked.undo() is not None  # one change: the import and the link go back together
    assert banked.get(sent.id).type == "expense"


def test_a_json_export_restores_accounts_and_transfers(banked: Ledger, tmp_path: Path) -> None:
    from tracker.accounts import add_transfer

    banked.add("expense", "9.99", category="Books", date="2026-02-01", account="Visa")
    add_transfer(banked, "100", source="Checking", target="Giro", to_amount="92.50", date="2026-02-02")
    path, _, _ = export(banked, tmp_path / "all.json")
    fresh = Ledger(tmp_path / "fresh")
    result = import_file(fresh, path)
    assert len(result.added) == 3
    assert {a.name: (a.kind, a.currency) for a in list_accounts(fresh)} == {
        "Checking": ("checking", "USD"),
        "Visa": ("credit-card", "USD"),
        "Giro": ("checking", "EUR"),
    }
    assert {b.account.name: b.balance for b in balances(fresh)} == {"Checking": -10000, "Visa": -999, "Giro": 9250}
    assert len(import_file(fresh, path).plan.duplicates) == 3


def test_a_saved_mapping_remembers_its_account(banked: Ledger, tmp_path: Path) -> None:
    from tracker.importers import resolve_mapping

    path = write(tmp_path, "giro.csv", "Datum;Text;Betrag\n02.01.2026;Kaffee;-3,50\n")
    import_file(banked, path, into("Giro"), save_mapping_as="my giro")
    later = write(tmp_path, "giro2.csv", "Datum;Text;Betrag\n03.01.2026;Brot;-2,10\n")
    options = ImportOptions(mapping=resolve_mapping(banked, "my giro"), mapping_name="my giro")
    assert [t.account for t in import_file(banked, later, options).added] == ["Giro"]


def test_cli_import_into_accounts(data_dir: Path, files_of: FilesOf, tmp_path: Path) -> None:
    ledger = Ledger(data_dir)
    add_account(ledger, "Checking", kind="checking", currency="USD")
    add_account(ledger, "Savings", kind="savings", currency="USD")
    two = write(tmp_path, "two.ofx", TWO_STATEMENTS)
    before = files_of(data_dir)
    refused = run_all(
        data_dir,
        [
            ["import", str(two)],
            ["import", str(OFX / "anzcc.ofx"), "--account", "Checking"],
            ["import", str(two), "--account", "Checking", "--account", "Savings"],
            ["import", str(two), "--account", "ofx:123/9100="],
            ["import", str(OFX / "checking.ofx"), "--account", "Nowhere"],
        ],
    )
    assert_user_error(refused[0], "holds 2 accounts", "--account 'ofx:123/9100=Checking'")
    assert_user_error(refused[1], "AUD", "the account Checking is in USD")
    assert_user_error(refused[2], "account", "STATEMENT=NAME")
    assert_user_error(refused[3], "account", "STATEMENT=NAME")
    assert_user_error(refused[4], "Nowhere")
    assert files_of(data_dir) == before
    (done,) = run_all(
        data_dir,
        [
            [
                "import",
                str(two),
                "--account",
                "ofx:123/9100=Checking",
                "--account",
                "ofx:123/9200=Savings",
                "--format",
                "json",
            ]
        ],
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["added"], shown["transfers"], shown["accounts"]) == (3, 1, ["Checking", "Savings"])
    assert [b["difference"] for b in shown["balances"]] == ["1000.00", "0.00"]
    (text,) = run_all(data_dir, [["import", str(two), "--dry-run"]])
    assert "Checking: the statement's balance on 2026-01-31 is 730.00 USD, the app's is -270.00" in text.stdout
    assert (
        "Savings: the statement's balance on 2026-01-31 is 250.00 USD, the app's is 250.00 (they agree)" in text.stdout
    )
