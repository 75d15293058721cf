"""The Transactions table without a running app: the rows shown, editor cells read, a batch planned, the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from tracker import export
from tracker.errors import ValidationError
from tracker.frame import frame_from_transactions
from tracker.ledger import Ledger
from tracker.model import EDITABLE, Transaction, make_transaction
from tracker.money import NUMBER_FORMATS, format_plain
from tracker.ui import table

DAY = dt.date(2024, 3, 15)


def test_csv_download_is_the_export_csv_exact_and_formula_safe() -> None:
    txs = [
        make_transaction(
            type="expense", amount="1500", category="@SUM(A1)", currency="JPY", date="2024-03-02", note="-2+3"
        ),
        make_transaction(
            type="income", amount="0.10", category="Gift", currency="EUR", date="2024-03-01", tags=["x", "y"]
        ),
    ]
    frame = frame_from_transactions(txs)
    data = table.csv_download(frame)
    in_frame_order = sorted(txs, key=lambda t: list(frame["id"]).index(t.id))
    assert data == export.to_csv(in_frame_order)  # the one CSV writer
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets open it as UTF-8
    rows = sorted(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))), key=lambda r: r["date"])
    got = [(r["date"], r["type"], r["amount"], r["currency"], r["category"], r["note"], r["id"]) for r in rows]
    assert got == [
        ("2024-03-01", "income", "0.10", "EUR", "Gift", "", txs[1].id),
        ("2024-03-02", "expense", "1500", "JPY", "'@SUM(A1)", "'-2+3", txs[0].id),
    ]


def test_the_table_shows_the_editable_fields_newest_first_amounts_exact() -> None:
    txs = [
        make_transaction(type="expense", amount="12.5", category="Food", currency="USD", date="2024-03-01"),
        make_transaction(type="income", amount="1500", category="Gift", currency="JPY", date="2024-03-02", tags=["a"]),
    ]
    shown = table.table_frame(frame_from_transactions(txs))
    assert tuple(shown.columns) == table.TABLE_COLUMNS == EDITABLE
    assert list(shown.index) == [txs[1].id, txs[0].id]
    assert shown.loc[txs[0].id].tolist() == [dt.date(2024, 3, 1), "expense", "12.50", "USD", "", "Food", [], "", False]
    assert shown.loc[txs[1].id, "amount"] == "1500"
    assert shown.loc[txs[1].id, "tags"] == ["a"]


@pytest.mark.parametrize(
    ("typed", "number_format", "value"),
    [
        ("1.234,50", "1.234,56", Decimal("1234.50")),
        ("12,50", "1.234,56", Decimal("12.50")),
        ("12,5", "1.234,56", Decimal("12.5")),
        ("12.50", "1.234,56", Decimal("12.50")),  # the form the table shows is read in every format
        ("1 234,50", "1 234,56", Decimal("1234.50")),
        ("1'234.50", "1'234.56", Decimal("1234.50")),
        ("1,234.50", "1,234.56", Decimal("1234.50")),
    ],
)
def test_an_amount_cell_is_read_in_the_number_format(typed: str, number_format: str, value: Decimal) -> None:
    assert table.cell_value("amount", typed, number_format) == value


def test_an_unreadable_amount_cell_names_the_field_and_quotes_it() -> None:
    with pytest.raises(ValidationError) as err:
        table.cell_value("amount", "12,5x", "1.234,56")
    assert (err.value.field, err.value.value) == ("amount", "12,5x")


@pytest.mark.parametrize("number_format", NUMBER_FORMATS)
@pytest.mark.parametrize(
    ("minor", "currency"), [(1250, "USD"), (123456789, "EUR"), (1500, "JPY"), (1, "KWD"), (1500, "KWD")]
)
def test_every_shown_amount_reads_back_exactly_in_every_format(number_format: str, minor: int, currency: str) -> None:
    shown = table.table_frame(frame_from_transactions([tx_of(minor, currency)]), number_format)["amount"].iloc[0]
    assert table.cell_value("amount", shown, number_format) == tx_of(minor, currency).amount


def tx_of(minor: int, currency: str) -> Transaction:
    amount = format_plain(minor, currency)
    return make_transaction(type="expense", amount=amount, category="X", currency=currency, date=DAY, id="t1")


def test_comma_formats_show_the_amount_with_a_decimal_comma_and_no_groups() -> None:
    frame = frame_from_transactions([tx_of(123450, "EUR")])
    assert table.table_frame(frame, "1.234,56")["amount"].tolist() == ["1234,50"]
    assert table.table_frame(frame, "1 234,56")["amount"].tolist() == ["1234,50"]
    assert table.table_frame(frame, "1'234.56")["amount"].tolist() == ["1234.50"]
    assert table.table_frame(frame)["amount"].tolist() == ["1234.50"]


@pytest.mark.parametrize(
    ("column", "cell", "value"),
    [
        ("date", "2024-03-02T00:00:00", "2024-03-02"),
        ("date", dt.datetime(2024, 3, 2, 13, 5), dt.date(2024, 3, 2)),
        ("date", dt.date(2024, 3, 2), dt.date(2024, 3, 2)),
        ("tags", None, []),
        ("tags", ["a", "b"], ["a", "b"]),
        ("note", None, ""),
        ("category", "Rent", "Rent"),
        ("type", "income", "income"),
    ],
)
def test_other_cells_become_what_the_model_takes(column: str, cell: object, value: object) -> None:
    assert table.cell_value(column, cell, "1,234.56") == value


@pytest.fixture
def filled(tmp_path: Path) -> Ledger:
    ledger = Ledger(tmp_path / "data")
    ledger.add_expense("12.50", category="Food", date=DAY, note="lunch")
    ledger.add_expense("900.00", category="Rent", date=DAY)
    ledger.add_income("2500.00", category="Salary", date=DAY)
    return ledger


def rows(ledger: Ledger) -> pd.DataFrame:
    return table.table_frame(ledger.frame())


def position(shown: pd.DataFrame, category: str) -> int:
    return list(shown["category"]).index(category)


def test_a_batch_is_one_update_many_call_in_the_users_number_format(filled: Ledger) -> None:
    shown = rows(filled)
    rent, food, salary = (position(shown, c) for c in ("Rent", "Food", "Salary"))
    edits = {
        "edited_rows": {
            str(rent): {"amount": "1.250,75", "tags": ["home"]},
            str(salary): {"note": None},  # emptied, and it was empty: no change
        },
        "deleted_rows": [food],
    }
    batch = table.plan_edits(filled, shown, edits, "1.234,56")
    assert batch.problems == []
    assert batch.changes == {shown.index[rent]: {"amount": Decimal("1250.75"), "tags": ["home"]}}
    assert batch.deletes == [shown.index[food]]
    assert (batch.count, batch.label) == (2, "edit 2 transactions in the table")
    revision = filled.revision
    filled.update_many(batch.changes, batch.deletes, label=batch.label)
    after = Ledger(filled.location)
    assert after.revision == revision + 1
    assert sorted((t.category, t.amount_minor, t.tags) for t in after.transactions()) == [
        ("Rent", 125075, ("home",)),
        ("Salary", 250000, ()),
    ]
    assert after.undo() == "edit 2 transactions in the table"
    assert len(Ledger(filled.location)) == 3


def test_every_bad_row_is_named_and_nothing_is_planned_for_it(filled: Ledger) -> None:
    shown = rows(filled)
    rent, food, salary = (position(shown, c) for c in ("Rent", "Food", "Salary"))
    edits = {
        "edited_rows": {
            rent: {"amount": "9,999"},
            food: {"amount": "0,001"},
            salary: {"category": ""},
        },
        "deleted_rows": [],
    }
    batch = table.plan_edits(filled, shown, edits, "1.234,56")
    assert batch.changes == {}
    assert len(batch.problems) == 3
    by_row = {int(p.split()[1]): p for p in batch.problems}
    assert f"({DAY} Rent)" in by_row[rent + 1]
    assert "amount: '0,001' has more decimal places than USD allows" in by_row[food + 1]  # quoted as typed
    assert "category: '' must not be empty" in by_row[salary + 1]


def test_a_row_edited_then_deleted_is_deleted(filled: Ledger) -> None:
    shown = rows(filled)
    food = position(shown, "Food")
    batch = table.plan_edits(filled, shown, {"edited_rows": {food: {"note": "x"}}, "deleted_rows": [food]}, "1,234.56")
    assert (batch.changes, batch.deletes, batch.problems) == ({}, [shown.index[food]], [])
    filled.update_many(batch.changes, batch.deletes, label=batch.label)
    assert "Food" not in {t.category for t in Ledger(filled.location).transactions()}


def test_a_row_deleted_elsewhere_meanwhile_is_named(filled: Ledger) -> None:
    shown = rows(filled)
    food = position(shown, "Food")
    Ledger(filled.location).delete(str(shown.index[food]))  # another tab or the CLI
    filled.refresh()
    batch = table.plan_edits(filled, shown, {"edited_rows": {food: {"note": "x"}}}, "1,234.56")
    assert batch.changes == {}
    assert [p.split(":")[0] for p in batch.problems] == [f"Row {food + 1} ({DAY} Food)"]


def test_describe() -> None:
    assert table.describe(2, 1) == "2 changes and 1 deletion"
    assert table.describe(1, 0) == "1 change"
    assert table.describe(0, 3) == "3 deletions"
    assert table.describe(0, 0) == "no changes"
