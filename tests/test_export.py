"""Export to CSV/JSON/XLSX: exact round trips, formula neutralising, atomic writes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from tracker.errors import StorageError, ValidationError
from tracker.export import CSV_COLUMNS, export, format_for, render, select, to_csv, to_json, to_xlsx, write_atomic
from tracker.filters import Filter
from tracker.importers import ImportOptions, import_file
from tracker.ledger import Ledger
from tracker.model import Transaction

NASTY = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "עברית ✓ 🍕", 'a "quoted", note']


def fill(ledger: Ledger) -> list[Transaction]:
    ledger.add_income("2500.00", category="Salary", date="2024-01-31", tags=["work"], note="January")
    ledger.add_expense("3.50", category="Coffee", date="2024-02-01", tags=["daily", "cafe"], note=NASTY[0])
    ledger.add_expense("1500", category="=Rent", date="2024-02-02", currency="JPY", note=NASTY[1])
    ledger.add_expense("0.001", category="Fees", date="2024-02-03", currency="KWD", note=NASTY[2])
    ledger.add_expense("12.00", category="Food", date="2024-02-04", tags=["-x"], note=NASTY[3])
    ledger.add_expense("7.25", category="Gifts", date="2024-02-05", note=NASTY[5])
    ledger.add_expense("1.00", category="Misc", date="2024-02-06", note=NASTY[6])
    return ledger.transactions()


def records(ledger: Ledger) -> list[dict[str, object]]:
    return sorted((t.to_record() for t in ledger.transactions()), key=lambda r: str(r["id"]))


def test_json_export_then_import_restores_the_same_ledger(ledger: Ledger, tmp_path: Path) -> None:
    fill(ledger)
    ledger.set_meta("rules", [{"pattern": "x", "category": "Y", "regex": False}], label="rules")  # not applied to JSON
    path, count, fmt = export(ledger, tmp_path / "all.json")
    assert (count, fmt) == (7, "json")
    fresh = Ledger(tmp_path / "other")
    result = import_file(fresh, path)
    assert len(result.added) == 7
    assert records(fresh) == records(ledger)  # ids, amounts, dates, tags, notes, created/updated times
    again = import_file(fresh, path)
    assert again.added == []
    assert len(again.plan.duplicates) == 7


def test_json_import_into_the_same_ledger_adds_nothing_and_edits_survive(ledger: Ledger, tmp_path: Path) -> None:
    txs = fill(ledger)
    ledger.update(txs[0].id, note="edited later", amount="2600.00")
    export(ledger, tmp_path / "a.json")
    assert import_file(ledger, tmp_path / "a.json").added == []
    restored = Ledger(tmp_path / "b")
    import_file(restored, tmp_path / "a.json")
    got = restored.get(txs[0].id)
    assert (got.note, got.amount, got.updated_at) == (
        "edited later",
        Decimal("2600.00"),
        ledger.get(txs[0].id).updated_at,
    )
    assert got.created_at < got.updated_at


def test_json_numbers_are_read_exactly_never_as_floats(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "n.json"
    path.write_text('[{"type": "expense", "amount": 0.10, "currency": "EUR", "date": "2024-01-01", "category": "A"}]')
    (tx,) = import_file(ledger, path).added
    assert tx.amount_minor == 10


def test_json_shape(ledger: Ledger) -> None:
    fill(ledger)
    doc = json.loads(to_json(ledger.transactions(), exported_at="2026-01-01T00:00:00.000000Z"))
    assert (doc["app"], doc["format_version"], doc["count"], doc["exported_at"]) == (
        "expense-tracker",
        1,
        7,
        "2026-01-01T00:00:00.000000Z",
    )
    assert doc["transactions"][0] == ledger.transactions()[0].to_json()
    assert {t["amount"] for t in doc["transactions"]} >= {"2500.00", "1500", "0.001"}


@pytest.mark.parametrize(
    ("record", "needle"),
    [
        (
            {"type": "expense", "amount": True, "currency": "EUR", "date": "2024-01-01", "category": "A"},
            "transaction 1, field amount",
        ),
        ({"type": "loss", "amount": "1", "currency": "EUR", "date": "2024-01-01", "category": "A"}, "field type"),
        ({"type": "expense", "amount": "1", "currency": "EUR", "date": "01.01.2024", "category": "A"}, "field date"),
        ({"type": "expense", "amount": "1", "currency": "EUR", "date": "2024-01-01"}, "field category: is missing"),
        (
            {
                "type": "expense",
                "amount": "1",
                "currency": "EUR",
                "date": "2024-01-01",
                "category": "A",
                "colour": "red",
            },
            "field colour",
        ),
        (
            {
                "type": "expense",
                "amount": "1",
                "currency": "EUR",
                "date": "2024-01-01",
                "category": "A",
                "created_at": "yesterday",
            },
            "field created_at",
        ),
        (
            {"type": "expense", "amount": "1.001", "currency": "EUR", "date": "2024-01-01", "category": "A"},
            "more decimal places",
        ),
        (
            {"type": "expense", "amount": "1", "currency": "EUR", "date": "2024-01-01", "category": "A", "tags": "a b"},
            "field tags",
        ),
    ],
)
def test_bad_json_records_are_refused_by_position(
    ledger: Ledger, tmp_path: Path, record: dict[str, object], needle: str
) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"app": "expense-tracker", "transactions": [record]}))
    with pytest.raises(ValidationError) as err:
        import_file(ledger, path)
    assert needle in str(err.value)
    assert str(err.value).startswith("x.json")
    assert ledger.transactions() == []


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"transactions": [', "x.json, line 1: is not valid JSON"),
        ('{"app": "other-app", "transactions": []}', "not an Expense Tracker export"),
        ('{"rows": []}', "has no list of transactions"),
        ('[{"type": "expense", "amount": NaN}]', "not valid JSON"),
        ("[" * 100000 + "]" * 100000, "x.json"),
    ],
)
def test_broken_json_is_refused(ledger: Ledger, tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(ValidationError) as err:
        import_file(ledger, path, ImportOptions(kind="json"))
    assert needle in str(err.value)


def test_csv_cells_are_neutralised_and_amounts_stay_plain(ledger: Ledger) -> None:
    txs = fill(ledger)
    text = to_csv(ledger.transactions()).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [r["id"] for r in rows] == [t.id for t in txs]
    assert rows[1]["tags"] == "cafe daily"  # joined by one space
    assert rows[0]["created_at"] == txs[0].to_json()["created_at"]
    notes = [r["note"] for r in rows]
    assert notes[1:5] == ["'" + NASTY[0], "'" + NASTY[1], "'" + NASTY[2], "'" + NASTY[3]]
    assert notes[5:] == [NASTY[5], NASTY[6]]
    assert [r["amount"] for r in rows] == ["2500.00", "3.50", "1500", "0.001", "12.00", "7.25", "1.00"]
    assert [r["type"] for r in rows][:2] == ["income", "expense"]
    assert rows[2]["category"] == "'=Rent"
    assert rows[4]["tags"] == "'-x"
    for r in rows:
        for value in r.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csv_export_imports_back_with_the_same_content(ledger: Ledger, tmp_path: Path) -> None:
    ledger.add_income("2500.00", category="Salary", date="2024-01-31", tags=["work"], note="January")
    ledger.add_expense("3.50", category="Coffee", date="2024-02-01", tags=["daily", "cafe"], note="Flat white")
    ledger.add_expense("1500", category="Rent", date="2024-02-02", currency="JPY", note="Tokyo")
    path, _, fmt = export(ledger, tmp_path / "out.csv")
    assert fmt == "csv"
    fresh = Ledger(tmp_path / "fresh")
    result = import_file(fresh, path)
    assert result.plan.details["layout"] == "expense-tracker"

    def content(led: Ledger) -> list[tuple[object, ...]]:
        return sorted(
            (t.date, t.type, t.amount_minor, t.currency, t.category, t.tags, t.note) for t in led.transactions()
        )

    assert content(fresh) == content(ledger)
    assert import_file(fresh, path).added == []


def test_xlsx_has_numbers_dates_and_no_formulas(ledger: Ledger, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    fill(ledger)
    path, count, _ = export(ledger, tmp_path / "out.xlsx")
    wb = load_workbook(path)
    ws = wb["Transactions"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == CSV_COLUMNS  # the CSV's columns
    assert len(rows) == count + 1
    col = {name: i for i, name in enumerate(CSV_COLUMNS)}
    assert rows[1][col["date"]] == dt.datetime(2024, 1, 31)
    amounts = [r[col["amount"]] for r in rows[1:]]
    assert all(isinstance(a, (int, float)) for a in amounts)
    assert [Decimal(str(a)) for a in amounts] == [t.amount for t in ledger.transactions()]
    assert rows[2][col["note"]] == "'" + NASTY[0]
    assert rows[6][col["note"]] == NASTY[5]
    assert [r[col["id"]] for r in rows[1:]] == [t.id for t in ledger.transactions()]
    amount_column = "ABCDEFGHIJK"[col["amount"]]
    assert ws[f"{amount_column}4"].number_format == "0"  # JPY
    assert ws[f"{amount_column}5"].number_format == "0.000"  # KWD
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_filters_choose_what_is_exported(ledger: Ledger, tmp_path: Path) -> None:
    fill(ledger)
    picked = select(ledger, Filter.build(start="2024-02-02", end="2024-02-04"))
    assert [t.category for t in picked] == ["=Rent", "Fees", "Food"]
    assert select(ledger, None) == ledger.transactions()
    _, count, _ = export(ledger, tmp_path / "food.json", "json", Filter.build(categories=["Food", "Coffee"]))
    assert count == 2


def test_format_from_the_name_or_given() -> None:
    assert format_for("a.XLSX") == "xlsx"
    assert format_for("a.json") == "json"
    assert format_for("a.txt") == "csv"
    assert format_for("a.json", "csv") == "csv"
    with pytest.raises(ValidationError):
        format_for("a.csv", "pdf")
    with pytest.raises(ValidationError):
        render([], "pdf")


def test_empty_ledger_exports_headers_only(ledger: Ledger) -> None:
    assert to_csv([]).decode("utf-8-sig").splitlines() == [",".join(CSV_COLUMNS)]
    assert json.loads(to_json([]))["transactions"] == []
    assert to_xlsx([])[:2] == b"PK"


def test_write_is_atomic_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o600


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(StorageError, match="No space left on device"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_write_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        write_atomic(tmp_path / "missing" / "out.csv", b"x")
    (tmp_path / "adir").mkdir()
    with pytest.raises(StorageError, match="is a folder"):
        write_atomic(tmp_path / "adir", b"x")
