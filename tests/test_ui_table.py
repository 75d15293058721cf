"""The Transactions table without a running app: the rows shown, editor cells read, a batch planned, the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from tracker import accounts, export
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
    assert (
        tuple(n for n in EDITABLE if n not in ("splits", "original_amount", "original_currency")) == table.TABLE_COLUMNS
    )
    assert tuple(shown.columns) == (*table.TABLE_COLUMNS, table.ORIGINAL_COLUMN, table.TRANSFER_COLUMN, "reconciled")
    assert set(table.column_order(with_original=True)) == set(shown.columns)
    assert list(shown.index) == [txs[1].id, txs[0].id]
    row = shown.loc[txs[0].id, list(table.TABLE_COLUMNS)].tolist()
    assert row == [dt.date(2024, 3, 1), "expense", "12.50", "USD", "", "Food", [], "", False]
    assert shown.loc[txs[0].id, [table.TRANSFER_COLUMN, "reconciled"]].tolist() == ["", False]
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


# -- accounts: the transfer column, the running balance, reconciled rows ---------------------------


@pytest.fixture
def banked(tmp_path: Path) -> Ledger:
    """Checking (USD, opening 100.00 on 2024-03-01), Savings (USD) and Euro (EUR), with a few rows each."""
    ledger = Ledger(tmp_path / "data")
    accounts.add_account(ledger, "Checking", currency="USD", opening="100.00", opening_date="2024-03-01")
    accounts.add_account(ledger, "Savings", kind="savings", currency="USD")
    accounts.add_account(ledger, "Euro", currency="EUR")
    ledger.add_expense("10.25", category="Food", date="2024-03-02", account="Checking")
    ledger.add_income("50.00", category="Salary", date="2024-03-03", account="Checking")
    accounts.add_transfer(ledger, "20.00", source="Checking", target="Savings", date="2024-03-03")
    accounts.add_transfer(ledger, "30.00", source="Checking", target="Euro", to_amount="27.50", date="2024-03-04")
    ledger.add_expense("1.00", category="Food", date="2024-03-04", account="Savings")
    return ledger


def test_a_transfer_names_its_other_account_even_when_the_filter_hides_it(banked: Ledger) -> None:
    whole = banked.frame()
    mine = whole[whole["account"] == "Checking"]
    shown = table.table_frame(mine, everything=whole)
    by_note = dict(zip(shown["category"] + " " + shown["amount"], shown[table.TRANSFER_COLUMN], strict=True))
    assert by_note == {
        "Food 10.25": "",
        "Salary 50.00": "",
        "Transfer 20.00": "to Savings",
        "Transfer 30.00": "to Euro",
    }
    euro = table.table_frame(whole[whole["account"] == "Euro"], everything=whole)
    assert euro[table.TRANSFER_COLUMN].tolist() == ["from Checking"]
    assert euro["amount"].tolist() == ["27.50"]


def test_the_running_balance_is_the_opening_plus_the_signed_amounts_in_date_order(banked: Ledger) -> None:
    checking = accounts.get_account(banked, "Checking")
    after = table.running_balances(banked.frame(), checking)
    amounts = {tx.id: (tx.date.day, tx.signed_minor) for tx in banked.transactions_in("Checking")}
    assert sorted((amounts[i][0], amounts[i][1], b) for i, b in after.items()) == [
        (2, -1025, 8975),
        (3, -2000, 11975),  # the transfer out was stored after the income of the same day
        (3, 5000, 13975),
        (4, -3000, 8975),
    ]
    assert all(isinstance(b, int) for b in after.values())
    # the last row of each day agrees with the backend's balance at the end of that day
    frame = banked.frame()
    for day in (2, 3, 4):
        ids = frame.loc[(frame["account"] == "Checking") & (frame["date"].dt.day == day), "id"].tolist()
        (expected,) = [b.balance for b in accounts.balances(banked, f"2024-03-0{day}") if b.account.name == "Checking"]
        assert after[ids[-1]] == expected


def test_the_opening_balance_counts_from_its_date_and_other_currencies_are_left_out(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "data")
    accounts.add_account(ledger, "Card", kind="credit-card", currency="USD", opening="40.00", opening_date="2024-03-10")
    before = ledger.add_expense("5.00", category="Food", date="2024-03-01", account="Card")
    other = ledger.add_expense("7.00", category="Food", date="2024-03-11", account="Card", currency="EUR")
    later = ledger.add_expense("2.50", category="Food", date="2024-03-12", account="Card")
    card = accounts.get_account(ledger, "Card")
    after = table.running_balances(ledger.frame(), card)
    assert after == {before.id: -500, later.id: -4000 - 500 - 250}  # owed: negative; the EUR row is not summed
    shown = table.table_frame(ledger.frame(), account=card)
    assert shown.loc[other.id, table.BALANCE_COLUMN] == ""
    assert shown.loc[later.id, table.BALANCE_COLUMN] == "-$47.50"
    assert shown.loc[before.id, table.BALANCE_COLUMN] == "-$5.00"
    assert table.column_order(with_balance=True)[-1] == table.BALANCE_COLUMN


def test_the_balance_column_is_in_the_number_format(banked: Ledger) -> None:
    checking = accounts.get_account(banked, "Checking")
    shown = table.table_frame(banked.frame(), "1.234,56", account=checking)
    assert sorted(b for b in shown[table.BALANCE_COLUMN] if b) == ["$119,75", "$139,75", "$89,75", "$89,75"]


def test_an_edit_of_a_reconciled_row_is_a_problem_until_it_is_confirmed(banked: Ledger) -> None:
    food = next(t for t in banked.transactions_in("Checking") if t.category == "Food")
    accounts.set_cleared(banked, [food.id])
    assert accounts.reconcile(banked, "Checking", "89.75", "2024-03-02").marked == 1
    shown = table.table_frame(banked.frame())
    pos = list(shown.index).index(food.id)
    assert bool(shown.iloc[pos]["reconciled"]) is True
    edits = {"edited_rows": {pos: {"note": "checked"}}, "deleted_rows": []}
    batch = table.plan_edits(banked, shown, edits, "1,234.56")
    assert batch.reconciled == [food.id]
    assert batch.problems == [
        f"Row {pos + 1} (2024-03-02 Food): is reconciled against a statement; tick “{table.FORCE_LABEL}” to change it anyway"
    ]
    deleting = table.plan_edits(banked, shown, {"deleted_rows": [pos]}, "1,234.56")
    assert (deleting.reconciled, len(deleting.problems)) == ([food.id], 1)
    confirmed = table.plan_edits(banked, shown, edits, "1,234.56", force=True)
    assert (confirmed.problems, confirmed.changes) == ([], {food.id: {"note": "checked"}})
    with pytest.raises(ValidationError) as err:
        banked.update_many(confirmed.changes)
    assert table.is_unconfirmed(err.value)
    banked.update_many(confirmed.changes, force=True)
    assert Ledger(banked.location).get(food.id).note == "checked"


def test_cleared_and_account_cells_plan_as_changes(banked: Ledger) -> None:
    shown = table.table_frame(banked.frame())
    food = next(t for t in banked.transactions_in("Savings") if t.category == "Food")
    pos = list(shown.index).index(food.id)
    edits = {"edited_rows": {pos: {"cleared": True, "account": "Checking"}}}
    batch = table.plan_edits(banked, shown, edits, "1,234.56")
    assert (batch.problems, batch.changes) == ([], {food.id: {"cleared": True, "account": "Checking"}})
    assert table.cell_value("cleared", None, "1,234.56") is False
