"""The import pipeline on a real ledger: detection, de-duplication, rules, all or nothing, one undo step."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.accounts import add_account
from tracker.categorize import DEFAULT_CATEGORY, History, categorise, tokens
from tracker.errors import ValidationError
from tracker.importers import (
    FORMATS,
    IMPORTERS,
    CsvMapping,
    ImportFileError,
    ImportOptions,
    LedgerView,
    commit_plan,
    delete_mapping,
    detect_format,
    import_file,
    importer_class,
    make_importer,
    plan_import,
    resolve_mapping,
    save_mapping,
    saved_mappings,
)
from tracker.importers.base import ParsedRow
from tracker.importers.csv_importer import CsvImporter
from tracker.importers.dedup import duplicate_reasons, external_ids, fingerprint, normalise_description
from tracker.importers.qif import QifImporter
from tracker.importers.rules import Rule, dump_rules, load_rules
from tracker.ledger import Ledger

FIXTURES = Path(__file__).resolve().parent / "fixtures"
Files = Callable[[Path], dict[str, bytes]]

COFFEES = (
    "Date,Description,Amount\n2024-03-04,Coffee Corner,-3.50\n2024-03-04,Coffee Corner,-3.50\n2024-03-05,Bakery,-2.10\n"
)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


# --- detection ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("x.ofx", b"OFXHEADER:100\nDATA:OFXSGML", "ofx"),
        ("statement.txt", b"\n\nOFXHEADER:100", "ofx"),
        ("export.csv", b'<?xml version="1.0"?>\n<?OFX OFXHEADER="200"?><OFX>', "ofx"),
        ("x.qfx", b"anything", "ofx"),
        ("x.dat", b"!Type:Bank\nD1/1/2024", "qif"),
        ("x.qif", b"", "qif"),
        ("backup.json", b'{"app": "expense-tracker"}', "json"),
        ("x.txt", b'{"transactions": []}', "json"),
        ("x.csv", b"Date,Amount\n", "csv"),
        ("download", b"Date;Betrag;Text\n01.01.2024;1,00;x\n", "csv"),
    ],
)
def test_detect_format(name: str, head: bytes, kind: str) -> None:
    assert detect_format(name, head) == kind


def test_undetectable_file_asks_for_the_type() -> None:
    with pytest.raises(ImportFileError, match="--as"):
        detect_format("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF")


def test_options_that_do_not_apply_are_refused(ledger: Ledger) -> None:
    ofx = (FIXTURES / "ofx" / "suncorp.ofx").read_bytes()
    with pytest.raises(ValidationError, match="CSV files only"):
        plan_import(ofx, "s.ofx", LedgerView(), ImportOptions(mapping=CsvMapping(date="Date")))
    with pytest.raises(ValidationError, match="does not apply"):
        plan_import(ofx, "s.ofx", LedgerView(), ImportOptions(date_format="%d.%m.%Y"))
    with pytest.raises(ValidationError):
        ImportOptions(kind="xls")


def test_the_as_option_overrides_detection() -> None:
    ofx = (FIXTURES / "ofx" / "suncorp.ofx").read_bytes()
    with pytest.raises(ImportFileError):
        plan_import(ofx, "s.ofx", LedgerView(), ImportOptions(kind="qif"))
    assert len(plan_import(ofx, "s.csv", LedgerView(), ImportOptions(kind="ofx")).new) == 1


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("x.ofx", b"!Type:Bank\nD1/1/2024", "qif"),  # a QIF header beats the .ofx extension
        ("x.qif", b"OFXHEADER:100", "ofx"),
        ("x.csv", b'{"amount": "1.00"}', "json"),
        ("x.json", b"a,b\n1,2\n", "json"),  # the extension beats cells that a comma splits
        ("x.ofx", b"Date,Amount\n2024-01-01,1\n", "ofx"),
        ("x.qif", b"a;b\n1;2\n", "qif"),
        ("x.csv", b"{}", "csv"),  # braces without transactions or amounts prove nothing
        ("notes", b"a;b\n1;2\n", "csv"),  # no extension: the delimiter guess, last
    ],
)
def test_content_signs_beat_the_extension_which_beats_a_delimiter_guess(name: str, head: bytes, kind: str) -> None:
    assert detect_format(name, head) == kind


def test_detection_asks_each_importers_own_sniff(monkeypatch: pytest.MonkeyPatch) -> None:
    assert detect_format("x.csv", b"a,b\n1,2\n") == "csv"
    monkeypatch.setattr(QifImporter, "sniff", classmethod(lambda cls, name, head: True))
    assert detect_format("x.csv", b"a,b\n1,2\n") == "qif"
    assert detect_format("x.ofx", b"OFXHEADER:100") == "ofx"  # OFX is asked first


def test_each_format_declares_what_the_pipeline_may_do() -> None:
    assert FORMATS == ("csv", "ofx", "qif", "json")
    capabilities = {cls.name: (cls.restores_identity, cls.accepts_mapping, cls.accepts_formats) for cls in IMPORTERS}
    assert capabilities == {
        "csv": (False, True, True),
        "ofx": (False, False, False),
        "qif": (False, False, True),
        "json": (True, False, False),
    }
    with pytest.raises(ValidationError, match="must be one of csv, ofx, qif, json"):
        importer_class("xls")


def test_each_format_takes_only_its_options() -> None:
    qif = make_importer("qif", ImportOptions(decimal=",", date_format="%d.%m.%Y", currency="eur"))
    assert isinstance(qif, QifImporter)
    assert (qif.decimal, qif.date_format, qif.currency, qif.day_first) == (",", "%d.%m.%Y", "EUR", True)
    csv = make_importer("csv", ImportOptions(mapping=CsvMapping(date="Day"), decimal=","), "CHF")
    assert isinstance(csv, CsvImporter)
    assert (csv.mapping.date, csv.mapping.decimal, csv.default_currency) == ("Day", ",", "CHF")
    with pytest.raises(ValidationError, match="applies to CSV files only, not QIF"):
        make_importer("qif", ImportOptions(mapping=CsvMapping(date="Day")))
    with pytest.raises(ValidationError, match="does not apply to JSON files"):
        make_importer("json", ImportOptions(decimal=","))


def test_no_product_module_branches_on_a_format_name() -> None:
    """Format behaviour is asked of the importer classes (``restores_identity``, ``accepts_mapping``...)."""
    names = "csv|ofx|qif|json"
    branch = re.compile(
        rf"""kind\s*(?:[!=]=|\bin\b|\bnot\s+in\b)\s*[(\[{{]?\s*["'](?:{names})["']"""
        r"|isinstance\([^)]*\b(?:Csv|Ofx|Qif|Json)Importer\b"
    )
    root = Path(__file__).resolve().parents[1] / "tracker"
    found = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if branch.search(line)
    ]
    assert found == []


def test_only_a_csv_result_reports_what_was_detected(ledger: Ledger) -> None:
    csv = import_file(ledger, FIXTURES / "csv" / "sparkasse_camt.csv", dry_run=True)
    assert csv.to_json()["detected"] == {
        "layout": "sparkasse-camt",
        "encoding": "cp1252",
        "delimiter": ";",
        "decimal": ",",
        "date_format": "%d.%m.%y",
        "columns": csv.plan.details["columns"],
    }
    assert csv.plan.importer.describe(csv.plan.details) == [
        "sparkasse-camt layout",
        "cp1252",
        "semicolon-separated",
        "decimal ','",
        "dates DD.MM.YY",
    ]
    ofx = import_file(ledger, FIXTURES / "ofx" / "suncorp.ofx", dry_run=True)
    assert "detected" not in ofx.to_json()
    assert ofx.plan.importer.describe(ofx.plan.details) == []


# --- de-duplication -----------------------------------------------------------------------------------


def row(desc: str = "Coffee", amount: str = "-3.50", day: int = 4, ext: str = "") -> ParsedRow:
    return ParsedRow(
        line=1, date=dt.date(2024, 3, day), amount=Decimal(amount), currency=None, description=desc, external_id=ext
    )


def test_fingerprint_normalises_description_and_counts_occurrences() -> None:
    assert normalise_description("  CAFÉ   Müller-Straße!! ") == "cafe muller strasse"
    a, b, c = external_ids([row("Café  X"), row("cafe x"), row("Cafe X", day=5)], ["EUR"] * 3)
    assert a != b  # the same purchase twice in one file: occurrence 0 and 1
    assert a == fingerprint(row("CAFE X"), "EUR", 0)
    assert b == fingerprint(row("café x"), "EUR", 1)
    assert c == fingerprint(row("cafe x", day=5), "EUR", 0)
    assert fingerprint(row(), "EUR", 0) != fingerprint(row(), "USD", 0)
    assert fingerprint(row(amount="-3.5"), "EUR", 0) == fingerprint(row(amount="-3.50"), "EUR", 0)
    assert external_ids([row(ext="ofx:1:A")], ["EUR"]) == ["ofx:1:A"]


def test_duplicate_reasons() -> None:
    assert duplicate_reasons(["a", "b", "a", "c", ""], {"c"}) == [
        "",
        "",
        "repeated in the file",
        "already in the ledger",
        "",
    ]


def test_import_twice_adds_once_for_every_format(ledger: Ledger, files_of: Files) -> None:
    for code in ("EUR", "CAD", "USD"):  # a statement goes into an account in its currency
        add_account(ledger, f"In {code}", currency=code)
    for rel, code in (("csv/sparkasse_camt.csv", "EUR"), ("ofx/bank_medium.ofx", "CAD"), ("qif/test.qif", "USD"),
                      ("csv/capital_one.csv", "USD")):  # fmt: skip
        options = ImportOptions(account=f"In {code}")
        first = import_file(ledger, FIXTURES / rel, options)
        assert first.added, rel
        assert {t.account for t in first.added} == {f"In {code}"}
        before = files_of(ledger.location)
        revision = ledger.revision
        again = import_file(ledger, FIXTURES / rel, options)
        assert again.added == [], rel
        assert len(again.plan.duplicates) == len(first.added), rel
        assert ledger.revision == revision
        assert files_of(ledger.location) == before


def test_identical_purchases_in_one_file_both_import(ledger: Ledger, tmp_path: Path) -> None:
    result = import_file(ledger, write(tmp_path, "coffee.csv", COFFEES))
    assert [t.amount for t in result.added] == [Decimal("3.50"), Decimal("3.50"), Decimal("2.10")]
    assert len({t.external_id for t in result.added}) == 3
    # a later statement overlapping the first: only the new rows are added
    later = COFFEES + "2024-03-06,Coffee Corner,-3.50\n"
    again = import_file(ledger, write(tmp_path, "coffee2.csv", later))
    assert [(t.date, t.amount) for t in again.added] == [(dt.date(2024, 3, 6), Decimal("3.50"))]
    assert len(again.plan.duplicates) == 3


def test_duplicates_can_be_taken_anyway(ledger: Ledger, tmp_path: Path) -> None:
    path = write(tmp_path, "coffee.csv", COFFEES)
    import_file(ledger, path)
    taken = import_file(ledger, path, include_duplicates=True)
    assert len(taken.added) == 3
    assert taken.to_json()["duplicates_taken"] == 3
    assert len(ledger.transactions()) == 6


def test_repeated_fitid_in_one_file_is_a_duplicate(ledger: Ledger) -> None:
    text = (FIXTURES / "ofx" / "suncorp.ofx").read_text()
    start, end = text.index("<STMTTRN>"), text.index("</STMTTRN>") + len("</STMTTRN>")
    doubled = text[:end] + text[start:end] + text[end:]
    plan = plan_import(doubled.encode(), "d.ofx", LedgerView.of(ledger))
    assert [r.status for r in plan.rows] == ["new", "duplicate"]
    assert plan.duplicates[0].reason == "repeated in the file"


def test_a_concurrent_import_is_not_doubled(ledger: Ledger, data_dir: Path) -> None:
    data = (FIXTURES / "csv" / "barclays_uk.csv").read_bytes()
    plan = plan_import(data, "b.csv", LedgerView.of(ledger))
    other = Ledger(data_dir)  # another window imports the same file meanwhile
    import_file(other, FIXTURES / "csv" / "barclays_uk.csv")
    result = commit_plan(ledger, plan)
    assert result.added == []
    assert len(result.plan.duplicates) == 3
    assert len(Ledger(data_dir).transactions()) == 3


# --- all or nothing -----------------------------------------------------------------------------------


BAD_FILES = {
    "bad.csv": "Date,Description,Amount\n2024-01-01,ok,-1.00\n2024-01-02,bad,twelve\n",
    "bad_decimals.csv": "Date,Description,Amount\n2024-01-01,ok,-1.00\n2024-01-02,too exact,-1.005\n",
    "bad.qif": "!Type:Bank\nD1/5/2024\nT-1.00\n^\nD1/6/2024\nTnope\n^\n",
    "bad.json": '{"app": "expense-tracker", "transactions": [{"type": "expense", "amount": "1.00", "currency": "EUR", "date": "2024-01-01", "category": "A"}, {"type": "expense", "amount": "-2", "currency": "EUR", "date": "2024-01-01", "category": "A"}]}',
}


@pytest.mark.parametrize("name", [*sorted(BAD_FILES), "ofx/malformed/date_missing.ofx", "ofx/error_message.ofx"])
def test_a_bad_row_leaves_the_data_files_byte_identical(
    name: str, ledger: Ledger, tmp_path: Path, files_of: Files
) -> None:
    ledger.add_expense("5.00", category="Food", date="2024-01-01", note="before")
    before = files_of(ledger.location)
    assert before
    path = write(tmp_path, name, BAD_FILES[name]) if name in BAD_FILES else FIXTURES / name
    with pytest.raises(ImportFileError) as err:
        import_file(ledger, path)
    assert str(err.value).startswith(path.name)
    assert err.value.line is not None
    assert err.value.field
    assert files_of(ledger.location) == before
    assert len(Ledger(ledger.location).transactions()) == 1


def test_decimal_places_are_checked_against_the_currency(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError) as err:
        import_file(ledger, write(tmp_path, "x.csv", BAD_FILES["bad_decimals.csv"]))
    assert "x.csv, line 3, field amount: '1.005' has more decimal places than USD allows" in str(err.value)
    yen = import_file(
        ledger, write(tmp_path, "y.csv", "Date,Text,Amount\n2024-01-01,ramen,-980\n"), ImportOptions(currency="JPY")
    )
    assert (yen.added[0].amount_minor, yen.added[0].currency) == (980, "JPY")


def test_dry_run_writes_nothing(ledger: Ledger, files_of: Files) -> None:
    ledger.add_income("1.00", category="Gift", date="2024-01-01")
    before = files_of(ledger.location)
    result = import_file(ledger, FIXTURES / "csv" / "chase_checking.csv", dry_run=True, save_mapping_as="chase-mine")
    assert result.dry_run
    assert len(result.added) == 4
    assert files_of(ledger.location) == before
    assert saved_mappings(ledger) == {}


def test_one_import_is_one_commit_and_one_undo_step(ledger: Ledger) -> None:
    ledger.add_expense("9.99", category="Books", date="2024-01-01")
    revision = ledger.revision
    result = import_file(ledger, FIXTURES / "qif" / "test.qif")
    assert ledger.revision == revision + 1
    assert len(result.added) == 6  # two of them split (six lines)
    assert len(result.plan.skipped) == 2
    assert ledger.undo() == "import test.qif (6 transactions)"
    assert [t.category for t in ledger.transactions()] == ["Books"]


def test_imported_transactions_carry_everything(ledger: Ledger) -> None:
    (tx,) = import_file(ledger, FIXTURES / "ofx" / "suncorp.ofx").added
    stored = ledger.get(tx.id)
    assert (stored.type, stored.amount, stored.currency, stored.date) == (
        "expense",
        Decimal("16.85"),
        "AUD",
        dt.date(2013, 12, 15),
    )
    assert stored.note == "EFTPOS WDL HANDYWAY ALDI STORE GEELONG WEST VICAU"
    assert stored.external_id == "ofx:SUNCORP/123456789:1"
    assert stored.category == DEFAULT_CATEGORY


def test_every_published_sample_file_imports_or_is_refused(data_dir: Path) -> None:
    counts = {}
    for path in sorted((FIXTURES / "ofx").rglob("*.ofx")) + sorted((FIXTURES / "qif").glob("*.qif")):
        led = Ledger(data_dir / path.name)
        try:
            counts[path.name] = len(import_file(led, path).added)
        except ImportFileError as exc:
            counts[path.name] = str(exc).split(",")[0].split(":")[0]
    assert counts == {
        "anzcc.ofx": 1,
        "bank_medium.ofx": 3,
        "bank_small.ofx": 0,
        "checking.ofx": 3,
        "error_message.ofx": "error_message.ofx",
        "date_missing.ofx": "date_missing.ofx",
        "decimal_error.ofx": "decimal_error.ofx",
        "empty_balance.ofx": 1,
        "multiple_accounts.ofx": 0,
        "multiple_accounts2.ofx": 0,
        "ofx-v102-empty-tags.ofx": 1,
        "suncorp.ofx": 1,
        "empty.qif": "empty.qif",
        "test.qif": 6,
        "test_category_inherit.qif": 0,
        "test_nosymbol.qif": 0,
        "test_split.qif": 1,
        "test_unknown_account_type.qif": 0,
    }


def test_a_file_with_no_transactions_says_so(ledger: Ledger) -> None:
    result = import_file(ledger, FIXTURES / "ofx" / "multiple_accounts.ofx")
    assert result.added == []
    assert "the file contains no transactions" in result.plan.warnings


# --- categories ---------------------------------------------------------------------------------------


def test_rules_validate_and_round_trip() -> None:
    rules = load_rules(
        [{"pattern": "rewe", "category": "Groceries"}, {"pattern": r"^uber\b", "category": "Taxi", "regex": True}]
    )
    assert dump_rules(rules) == [
        {"pattern": "rewe", "category": "Groceries", "regex": False},
        {"pattern": r"^uber\b", "category": "Taxi", "regex": True},
    ]
    assert rules[0].matches("REWE SAGT DANKE")
    assert not rules[1].matches("My uber")
    for bad in (
        [{"pattern": "", "category": "A"}],
        [{"pattern": "(", "category": "A", "regex": True}],
        [{"pattern": "x"}],
        "rules",
        [{"x": 1}],
    ):
        with pytest.raises(ValidationError):
            load_rules(bad)


def test_categorise_order_file_then_rules_then_history_then_default() -> None:
    rules = [Rule("coffee", "Coffee"), Rule("corner", "Never reached"), Rule(r"\bbvg\b", "Transport", regex=True)]
    history = History(
        [("REWE Markt 4711 Berlin", "Groceries"), ("REWE Markt 0815", "Groceries"), ("Rewe Markt", "Snacks")]
    )
    assert categorise("Coffee Corner", "Drinks", rules, history) == ("Drinks", "file")
    assert categorise("Coffee Corner", "Uncategorised", rules, history) == ("Coffee", "rule")
    assert categorise("BVG Ticket", "", rules, history) == ("Transport", "rule")
    assert categorise("REWE MARKT 1234 HAMBURG", "", rules, history) == ("Groceries", "history")
    assert categorise("Something new", "", rules, history) == (DEFAULT_CATEGORY, "default")


def test_history_ignores_numbers_and_card_noise() -> None:
    assert tokens("VISA POS 12/03 REWE MARKT #4711") == {"rewe", "markt"}
    history = History(
        [("Netflix.com 12345", "Entertainment"), ("Stadtwerke Strom", "Utilities"), ("x", "Uncategorized")]
    )
    assert history.suggest("NETFLIX.COM 99999 LOS GATOS") == "Entertainment"
    assert history.suggest("Stadtwerke") == "Utilities"  # every word of the shorter one
    assert History([("Rewe Markt", "Groceries")]).suggest("Edeka Markt") is None  # one word of two is not enough
    assert history.suggest("Totally different") is None
    assert len(History.from_frame(None)) == 0


def test_import_uses_rules_and_history_from_the_ledger(ledger: Ledger, tmp_path: Path) -> None:
    ledger.add_expense("50.00", category="Groceries", date="2024-01-01", note="REWE SAGT DANKE 0815")
    ledger.set_meta("rules", dump_rules([Rule("Kühn", "Coffee")]), label="rules")
    add_account(ledger, "Giro", currency="EUR")
    options = ImportOptions(account="Giro")
    result = import_file(ledger, FIXTURES / "csv" / "sparkasse_camt.csv", options, dry_run=True)
    got = {r.description: (r.draft.category, r.category_source) for r in result.plan.rows if r.draft}
    assert got["Bäckerei Kühn Kaffee"] == ("Coffee", "rule")
    assert got["REWE Markt GmbH / REWE SAGT DANKE 4711"] == ("Groceries", "history")
    assert got["Hausverwaltung Weiß / MIETE MÄRZ"] == (DEFAULT_CATEGORY, "default")
    # the bank's own category wins over rules
    ledger.set_meta("rules", dump_rules([Rule("UBER", "Taxi")]), label="rules")
    capital = import_file(ledger, FIXTURES / "csv" / "capital_one.csv", dry_run=True)
    assert capital.plan.rows[0].draft.category == "Other Travel"


def test_bad_rules_in_the_ledger_refuse_the_import_clearly(ledger: Ledger) -> None:
    ledger.set_meta("rules", [{"pattern": "(", "category": "X", "regex": True}], label="broken")
    with pytest.raises(ValidationError, match="rule 1 pattern"):
        import_file(ledger, FIXTURES / "ofx" / "suncorp.ofx")


# --- saved mappings -----------------------------------------------------------------------------------


def test_save_and_reuse_a_mapping(ledger: Ledger, tmp_path: Path) -> None:
    headerless = (FIXTURES / "csv" / "wells_fargo_noheader.csv").read_bytes()
    options = ImportOptions(mapping=CsvMapping(date="1", amount="2", description=("5",)), date_format="%m/%d/%Y")
    first = import_file(ledger, write(tmp_path, "jan.csv", headerless), options, save_mapping_as="Wells Fargo")
    assert first.mapping_saved == "Wells Fargo"
    assert len(first.added) == 3
    assert ledger.meta("csv_mappings")["Wells Fargo"]["date_format"] == "%m/%d/%Y"
    assert ledger.undo() is not None
    assert saved_mappings(ledger) == {}
    import_file(ledger, write(tmp_path, "jan.csv", headerless), options, save_mapping_as="Wells Fargo")
    feb = headerless.replace(b"01/", b"02/")
    reused = import_file(
        ledger, write(tmp_path, "feb.csv", feb), ImportOptions(mapping=resolve_mapping(ledger, "Wells Fargo"))
    )
    assert [t.date.month for t in reused.added] == [2, 2, 2]
    assert reused.plan.details["layout"] == "declared"


def test_mapping_management(ledger: Ledger) -> None:
    save_mapping(ledger, "mine", CsvMapping(date="Tag", amount="Wert"))
    assert saved_mappings(ledger) == {"mine": CsvMapping(date="Tag", amount="Wert")}
    assert resolve_mapping(ledger, "chase").date == "Posting Date"  # a built-in layout
    with pytest.raises(ValidationError, match="known: mine"):
        resolve_mapping(ledger, "nope")
    ledger.set_meta("csv_mappings", {"mine": {"date": "Tag"}, "broken": {"colour": 1}}, label="x")
    assert list(saved_mappings(ledger)) == ["mine"]
    delete_mapping(ledger, "mine")
    with pytest.raises(ValidationError):
        delete_mapping(ledger, "mine")
    with pytest.raises(ValidationError):
        save_mapping(ledger, "", CsvMapping())


# --- never a traceback --------------------------------------------------------------------------------

SEEDS = [
    (FIXTURES / "csv" / "sparkasse_camt.csv").read_bytes(),
    (FIXTURES / "ofx" / "checking.ofx").read_bytes(),
    (FIXTURES / "ofx" / "anzcc.ofx").read_bytes(),
    (FIXTURES / "qif" / "test.qif").read_bytes(),
    COFFEES.encode(),
]


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for pos, cut, insert in edits:
        at = pos % (len(out) + 1)
        out[at : at + cut] = insert
    return bytes(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(range(len(SEEDS))),
    edits=st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 8), st.binary(max_size=6)), max_size=4),
    kind=st.sampled_from(["", "csv", "ofx", "qif", "json"]),
)
def test_mutated_files_give_rows_or_a_clear_refusal(seed: int, edits: list[tuple[int, int, bytes]], kind: str) -> None:
    data = mutate(SEEDS[seed], edits)
    view = LedgerView(default_currency="EUR")
    try:
        plan = plan_import(data, "fuzz.dat", view, ImportOptions(kind=kind))
    except ImportFileError as exc:
        message = str(exc)
    else:
        message = "fuzz.dat"
        for r in plan.rows:
            assert r.status in ("new", "duplicate", "skipped")
            assert r.draft is None or r.draft.amount_minor > 0
    assert message.startswith("fuzz.dat")
