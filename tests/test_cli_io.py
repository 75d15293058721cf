"""``expense-tracker import/export/rules/mappings`` as real processes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tracker.ledger import Ledger

pytestmark = pytest.mark.slow  # about 30 real processes, each starting Python and pandas

FIXTURES = Path(__file__).resolve().parent / "fixtures"
Cli = Callable[..., Any]


def fixture(rel: str) -> str:
    return str(FIXTURES / rel)


def as_json(proc: Any) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_import_dry_run_then_import_then_again(
    cli: Cli, data_dir: Path, files_of: Callable[[Path], dict[str, bytes]]
) -> None:
    assert cli("account", "add", "Giro", "--kind", "checking", "--currency", "EUR").returncode == 0
    dry = as_json(cli("import", fixture("csv/sparkasse_camt.csv"), "--dry-run", "--format", "json"))
    assert (dry["dry_run"], dry["added"], dry["duplicates"], dry["errors"]) == (True, 5, 0, 0)
    assert dry["accounts"] == ["Giro"]  # the first account declared is the default
    assert dry["detected"]["layout"] == "sparkasse-camt"
    assert [r["amount"] for r in dry["rows"]] == ["2500.00", "1234.56", "3.50", "3.50", "47.89"]
    assert [r["type"] for r in dry["rows"]][:2] == ["income", "expense"]
    assert Ledger(data_dir).transactions() == []

    first = cli("import", fixture("csv/sparkasse_camt.csv"))
    assert first.returncode == 0, first.stderr
    assert "added 5, duplicates 0, skipped 0, errors 0" in first.stdout
    before = files_of(data_dir)
    again = as_json(cli("import", fixture("csv/sparkasse_camt.csv"), "--format", "json"))
    assert (again["added"], again["duplicates"], again["errors"]) == (0, 5, 0)
    assert files_of(data_dir) == before
    assert sorted(str(t.amount) for t in Ledger(data_dir).transactions()) == [
        "1234.56",
        "2500.00",
        "3.50",
        "3.50",
        "47.89",
    ]


def test_a_rejected_file_exits_2_with_one_line_and_writes_nothing(
    cli: Cli, data_dir: Path, files_of: Callable[[Path], dict[str, bytes]]
) -> None:
    Ledger(data_dir).add_expense("1.00", category="X")
    before = files_of(data_dir)
    proc = cli("import", fixture("ofx/malformed/decimal_error.ofx"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (
        "expense-tracker: decimal_error.ofx, line 36, field DTPOSTED: '201120000000' is not a date (OFX dates are YYYYMMDD...)"
        " (and 1 more problem)"
    )
    proc = cli("import", fixture("ofx/error_message.ofx"), "--format", "json")
    assert proc.returncode == 2
    out = json.loads(proc.stdout)
    assert (out["added"], out["duplicates"], out["errors"]) == (0, 0, 1)
    assert "General Server Error" in out["error"]
    assert "Traceback" not in proc.stderr
    assert files_of(data_dir) == before


def test_missing_file_and_bad_options_exit_2(cli: Cli) -> None:
    for args in (
        ["import", "/no/such/file.csv"],
        ["import", fixture("ofx/suncorp.ofx"), "--date-col", "Date"],
        ["import", fixture("csv/amex.csv"), "--mapping", "nope"],
        ["import", fixture("csv/amex.csv"), "--encoding", "klingon"],
    ):
        proc = cli(*args)
        assert proc.returncode == 2, args
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr


def test_csv_overrides_and_saved_mapping(cli: Cli, tmp_path: Path) -> None:
    # A headerless Wells Fargo file, columns given by number; the layout is saved and reused by name.
    proc = cli(
        "import", fixture("csv/wells_fargo_noheader.csv"), "--date-col", "1", "--amount-col", "2", "--desc-col", "5",
        "--date-format", "%m/%d/%Y", "--save-mapping", "wells", "--format", "json",
    )  # fmt: skip
    out = as_json(proc)
    assert (out["added"], out["mapping_saved"]) == (3, "wells")
    feb = tmp_path / "feb.csv"
    feb.write_bytes((FIXTURES / "csv" / "wells_fargo_noheader.csv").read_bytes().replace(b"01/", b"02/"))
    reused = as_json(cli("import", str(feb), "--mapping", "wells", "--format", "json", "--dry-run"))
    assert reused["detected"]["layout"] == "declared"
    assert [r["date"][:7] for r in reused["rows"]] == ["2024-02"] * 3
    listing = as_json(cli("mappings", "list", "--format", "json"))
    assert listing[0] == {
        "name": "wells",
        "kind": "saved",
        "mapping": {
            "date": "1",
            "amount": "2",
            "description": ["5"],
            "date_format": "%m/%d/%Y",
            "decimal": ".",
            "delimiter": ",",
            "encoding": "utf-8",
        },
    }
    assert "chase" in {m["name"] for m in listing}
    assert cli("mappings", "delete", "wells").returncode == 0
    assert cli("mappings", "delete", "wells").returncode == 2


def test_sign_decimal_delimiter_and_type_options(cli: Cli, tmp_path: Path) -> None:
    amex = as_json(
        cli(
            "import",
            fixture("csv/amex.csv"),
            "--invert-sign",
            "--date-format",
            "%m/%d/%Y",
            "--dry-run",
            "--format",
            "json",
        )
    )
    assert [(r["type"], r["amount"], r["date"]) for r in amex["rows"]] == [
        ("expense", "15.99", "2024-01-03"),
        ("income", "200.00", "2024-01-10"),
    ]
    soll = tmp_path / "soll.txt"
    soll.write_text("Tag|Wert|SH|Text\n01.03.2024|12,50|S|Kiosk\n02.03.2024|1.000,00|H|Bonus\n", encoding="cp1252")
    out = as_json(
        cli("import", str(soll), "--as", "csv", "--delimiter", "|", "--decimal", ",", "--date-col", "Tag",
            "--amount-col", "Wert", "--type-col", "SH", "--desc-col", "Text", "--currency", "EUR", "--dry-run", "--format", "json")
    )  # fmt: skip
    assert [(r["type"], r["amount"], r["currency"]) for r in out["rows"]] == [
        ("expense", "12.50", "EUR"),
        ("income", "1000.00", "EUR"),
    ]


def test_include_duplicates_and_table_output(cli: Cli) -> None:
    assert cli("import", fixture("qif/test_split.qif")).returncode == 0
    proc = cli("import", fixture("qif/test_split.qif"))
    assert "duplicates were not imported (--include-duplicates takes them):" in proc.stdout
    assert "line 2: 2000-01-01 expense 10.00" in proc.stdout  # the split record, one transaction
    taken = as_json(cli("import", fixture("qif/test_split.qif"), "--include-duplicates", "--format", "json"))
    assert (taken["added"], taken["duplicates"], taken["duplicates_taken"]) == (1, 1, 1)
    dry = cli("import", fixture("qif/test.qif"), "--dry-run")
    assert "would add 6, duplicates 0, skipped 2, errors 0 — dry run, nothing was written" in dry.stdout
    assert "skipped  " in dry.stdout


def test_the_first_line_says_how_the_file_was_read(cli: Cli) -> None:
    csv = cli("import", fixture("csv/sparkasse_camt.csv"), "--dry-run")
    assert csv.stdout.splitlines()[0] == (
        "sparkasse_camt.csv: CSV (sparkasse-camt layout, cp1252, semicolon-separated, decimal ',', dates DD.MM.YY)"
    )
    ofx = cli("import", fixture("ofx/suncorp.ofx"), "--dry-run")
    assert ofx.stdout.splitlines()[0] == "suncorp.ofx: OFX"


def test_the_as_choices_are_the_importers_formats() -> None:
    from tracker.cli import io
    from tracker.importers import FORMATS

    assert io.FORMATS == FORMATS


def test_as_overrides_detection(cli: Cli, tmp_path: Path) -> None:
    renamed = tmp_path / "download.dat"
    renamed.write_bytes((FIXTURES / "ofx" / "anzcc.ofx").read_bytes())
    assert as_json(cli("import", str(renamed), "--as", "ofx", "--format", "json"))["added"] == 1
    proc = cli("import", str(renamed), "--as", "qif")
    assert proc.returncode == 2


def test_export_every_format_and_json_round_trip(cli: Cli, tmp_path: Path, data_dir: Path) -> None:
    assert cli("import", fixture("csv/capital_one.csv")).returncode == 0
    Ledger(data_dir).add_expense("4.20", category="=cmd|' /C calc'!A0", note="@SUM(1)", tags=["x"])
    for fmt in ("csv", "json", "xlsx"):
        out = tmp_path / f"all.{fmt}"
        proc = cli("export", "--format", fmt, "--output", str(out))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"exported 4 transactions to {out} ({fmt})"
    text = (tmp_path / "all.csv").read_text(encoding="utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in text
    assert "'@SUM(1)" in text
    filtered = tmp_path / "grocery.json"
    assert cli("export", "-o", str(filtered), "--category", "Grocery").returncode == 0
    assert [t["amount"] for t in json.loads(filtered.read_text())["transactions"]] == ["1088.10"]

    other = tmp_path / "other-data"
    restored = cli("--data-dir", str(other), "import", str(tmp_path / "all.json"), "--format", "json")
    # the second --data-dir wins: the export goes into a fresh ledger
    assert as_json(restored)["added"] == 4
    mine = [t.to_record() for t in Ledger(data_dir).transactions()]
    assert [t.to_record() for t in Ledger(other).transactions()] == mine


def test_export_errors_exit_2(cli: Cli, tmp_path: Path) -> None:
    proc = cli("export", "--output", str(tmp_path / "missing" / "x.csv"))
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr


def test_rules_commands(cli: Cli) -> None:
    assert cli("rules", "add", "REWE", "Groceries").returncode == 0
    assert cli("rules", "add", r"^Bäckerei\b", "Coffee", "--regex", "--position", "1").returncode == 0
    assert cli("rules", "add", "(", "Broken", "--regex").returncode == 2
    listed = as_json(cli("rules", "list", "--format", "json"))
    assert [(r["number"], r["pattern"], r["regex"]) for r in listed] == [(1, r"^Bäckerei\b", True), (2, "REWE", False)]
    assert cli("rules", "test", "Bäckerei Kühn").stdout.strip() == "Coffee (rule)"
    out = as_json(cli("import", fixture("csv/sparkasse_camt.csv"), "--format", "json", "--dry-run"))
    assert {r["description"][:8]: r["category"] for r in out["rows"]}["REWE Mar"] == "Groceries"
    assert cli("rules", "remove", "1").returncode == 0
    assert cli("rules", "test", "Bäckerei Kühn").stdout.strip() == "Uncategorized (default)"


ABROAD = "Date,Description,Amount,Fx Amt,Fx Cur,Fx Quote\n"
"""Original-amount columns under headers the detector does not know: only the flags name them."""
ORIGINAL_FLAGS = ("--original-amount-col", "Fx Amt", "--original-currency-col", "Fx Cur", "--rate-col", "Fx Quote")


def originals(cli: Cli) -> dict[str, tuple[str, str, str]]:
    """note -> (amount, original amount, original currency) of every transaction, from ``list --format json``."""
    listed = as_json(cli("list", "--format", "json"))
    return {t["note"]: (t["amount"], t["original_amount"], t["original_currency"]) for t in listed}


def test_the_column_options_are_the_mappings_columns() -> None:
    from tracker.cli import io
    from tracker.importers.csv_importer import CsvMapping

    assert sorted(field for field, _ in io.CSV_COLUMN_OPTIONS.values()) == sorted(CsvMapping.COLUMN_FIELDS)


def test_original_amount_currency_and_rate_columns_by_option(
    cli: Cli, tmp_path: Path, data_dir: Path, files_of: Callable[[Path], dict[str, bytes]]
) -> None:
    card = tmp_path / "card.csv"
    card.write_text(ABROAD + "2024-03-04,Cafe Paris,-45.10,41.00,EUR,\n2024-03-05,Kiosk,-2.00,,,\n")
    guessed = as_json(cli("import", str(card), "--dry-run", "--format", "json"))
    assert "original_currency" not in guessed["detected"]["columns"]  # the headers alone say nothing
    assert as_json(cli("import", str(card), *ORIGINAL_FLAGS, "--format", "json"))["added"] == 2
    # only a currency and a rate: the original amount is derived, 61.54 / 0.0062 = 9925.8... yen
    rated = tmp_path / "rated.csv"
    rated.write_text("Date,Description,Amount,Fx Cur,Fx Quote\n2024-03-06,Hotel Tokyo,-61.54,JPY,0.0062\n")
    out = as_json(
        cli("import", str(rated), "--original-currency-col", "Fx Cur", "--rate-col", "Fx Quote", "--format", "json")
    )
    assert out["detected"]["columns"]["exchange_rate"] == "Fx Quote"
    assert originals(cli) == {
        "Cafe Paris": ("45.10", "41.00", "EUR"),
        "Kiosk": ("2.00", "", ""),
        "Hotel Tokyo": ("61.54", "9926", "JPY"),
    }

    before = files_of(data_dir)
    for rate in ("abc", "0", "-1"):
        bad = tmp_path / "bad.csv"
        bad.write_text(ABROAD + f"2024-03-07,Fine,-1.00,,,\n2024-03-08,Shop,-46.00,,GBP,{rate}\n")
        proc = cli("import", str(bad), *ORIGINAL_FLAGS)
        assert proc.returncode == 2, (rate, proc.stdout)
        (line,) = proc.stderr.strip().splitlines()
        assert line.startswith(f"expense-tracker: bad.csv, line 3, field exchange_rate: '{rate}' "), line
        assert files_of(data_dir) == before
