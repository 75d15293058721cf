"""Split transactions and original amounts: the model, storage (schema 5 and its migration), the one filter over
lines, totals by category, the CLI, export, QIF and JSON import."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ROOT, SHARED_FIXTURES
from tracker.errors import ValidationError
from tracker.filters import Filter, filter_mask
from tracker.frame import frame_from_transactions, lines_frame, transactions_from_frame
from tracker.ledger import Ledger
from tracker.model import SPLIT_CATEGORY, SplitLine, apply_changes, from_record, make_transaction
from tracker.rows import FrameRows, StoredRows, grouped, sums
from tracker.storage.codec import SCHEMA_VERSION, check_snapshot
from tracker.storage.columns import record_at, stored_columns, transaction_at

V4 = ROOT / "tests" / "data" / "storage" / "ledger-v4"


def receipt(**fields: Any) -> Any:
    base: dict[str, Any] = {
        "type": "expense",
        "amount": "100",
        "category": None,
        "currency": "USD",
        "date": "2026-03-01",
        "account": "Main",
        "tags": ["trip"],
        "note": "Tesco",
        "splits": [
            {"category": "Groceries", "amount": "70"},
            {"category": "Household", "amount": "30", "tags": ["home"], "note": "bin bags"},
        ],
    }
    return make_transaction(**{**base, **fields})


def test_a_split_has_lines_summing_to_its_amount_and_the_category_split() -> None:
    tx = receipt()
    assert tx.category == SPLIT_CATEGORY
    assert tx.splits == (SplitLine("Groceries", 7000), SplitLine("Household", 3000, ("home",), "bin bags"))
    assert tx.to_json()["splits"][1] == {
        "category": "Household",
        "amount": "30.00",
        "tags": ["home"],
        "note": "bin bags",
    }
    assert from_record(json.loads(json.dumps(tx.to_record()))) == tx
    plain = make_transaction(type="expense", amount="5", category="Food", currency="USD")
    assert plain.lines == (SplitLine("Food", 500),)
    assert plain.to_json()["splits"] == []


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        (
            [{"category": "A", "amount": "70"}, {"category": "B", "amount": "20"}],
            "sum of the lines, not the amount 100.00",
        ),
        ([{"category": "A", "amount": "100"}], "two or more lines"),
        ([{"category": "", "amount": "70"}, {"category": "B", "amount": "30"}], "no category"),
        ([{"category": "Split", "amount": "70"}, {"category": "B", "amount": "30"}], "not a category a line can have"),
        ([{"category": "A", "amount": "0"}, {"category": "B", "amount": "100"}], "greater than zero"),
        ([{"category": "A", "amount": "70.001"}, {"category": "B", "amount": "29.999"}], "decimal"),
    ],
)
def test_bad_split_lines_are_refused_naming_the_split(splits: list[dict[str, str]], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        receipt(splits=splits)
    assert caught.value.field in {"split", "split amount"}


def test_split_unsplit_and_the_category_of_a_split() -> None:
    tx = receipt()
    whole = apply_changes(tx, {"splits": [], "category": "Food"})
    assert (whole.category, whole.splits) == ("Food", ())
    with pytest.raises(ValidationError, match="needed to unsplit"):
        apply_changes(tx, {"splits": []})
    with pytest.raises(ValidationError, match="comes from its lines"):
        apply_changes(tx, {"category": "Food"})
    with pytest.raises(ValidationError, match="sum of the lines"):
        apply_changes(tx, {"amount": "90"})
    again = apply_changes(whole, {"splits": [{"category": "X", "amount": "1"}, {"category": "Y", "amount": "99"}]})
    assert again.category == SPLIT_CATEGORY
    assert [ln.amount_minor for ln in again.splits] == [100, 9900]
    jpy = apply_changes(tx, {"currency": "JPY"})  # lines follow the currency, exactly
    assert [ln.amount_minor for ln in jpy.splits] == [70, 30]
    with pytest.raises(ValidationError, match="split transactions only"):
        make_transaction(type="expense", amount="1", category="split", currency="USD")


def test_an_original_amount_has_its_currency_and_is_not_the_transaction_s() -> None:
    tx = make_transaction(
        type="expense", amount="44.10", category="Hotel", currency="USD", original_amount="41", original_currency="eur"
    )
    assert (tx.original_amount, tx.original_currency) == (Decimal("41.00"), "EUR")
    assert tx.to_json()["original_amount"] == "41.00"
    with pytest.raises(ValidationError, match="another currency"):
        make_transaction(
            type="expense", amount="1", category="A", currency="USD", original_amount="1", original_currency="USD"
        )
    with pytest.raises(ValidationError, match="needs its currency"):
        make_transaction(type="expense", amount="1", category="A", currency="USD", original_amount="1")
    assert apply_changes(tx, {"original_currency": ""}).original_amount is None


def test_the_snapshot_columns_hold_splits_compactly_and_read_back_the_same() -> None:
    txs = [receipt(), make_transaction(type="income", amount="5", category="Pay", currency="USD", account="Main")]
    cols = stored_columns(t.to_record() for t in txs)
    assert cols["splits"] == [[["Groceries", 7000, "", ""], ["Household", 3000, "home", "bin bags"]], 0]
    assert [transaction_at(cols, i) for i in range(2)] == [from_record(record_at(cols, i)) for i in range(2)] == txs
    assert transactions_from_frame(frame_from_transactions(txs)) == txs


@pytest.mark.parametrize(
    ("damage", "complaint"),
    [
        (lambda c: c["splits"].__setitem__(0, [["Groceries", 7000, "", ""], ["Household", 2000, "", ""]]), "split"),
        (lambda c: c["splits"].__setitem__(0, [["Groceries", 10000, "", ""]]), "split"),
        (lambda c: c["splits"].__setitem__(1, 5), "split"),
        (lambda c: c["category"].__setitem__(0, "Food"), "split"),
        (lambda c: c["splits"].__setitem__(0, [["Groceries", 7000, "b a", ""], ["H", 3000, "", ""]]), "split"),
        (lambda c: c["original_currency"].__setitem__(1, "EUR"), "original"),
        (lambda c: c["original_currency"].__setitem__(1, "XXZ"), "original currency"),
    ],
)
def test_a_damaged_split_or_original_amount_is_refused_on_load(damage: Callable[[Any], None], complaint: str) -> None:
    txs = [receipt(), make_transaction(type="income", amount="5", category="Pay", currency="USD", account="Main")]
    cols = stored_columns(t.to_record() for t in txs)
    check_snapshot({"format": "expense-tracker-ledger", "seq": 0, "transactions": cols}, "x")
    damage(cols)
    with pytest.raises(Exception, match=complaint):
        check_snapshot({"format": "expense-tracker-ledger", "seq": 0, "transactions": cols}, "x")


@pytest.mark.parametrize(
    "rows_of",
    [
        lambda txs: FrameRows(frame_from_transactions(txs)),
        lambda txs: StoredRows(stored_columns(t.to_record() for t in txs)),
    ],
)
def test_the_filter_and_the_totals_count_lines(rows_of: Callable[[list[Any]], Any]) -> None:
    tx = receipt()
    other = make_transaction(type="expense", amount="41", category="Groceries", currency="USD", account="Main")
    rows = rows_of([tx, other])
    lines = rows.lines()
    assert list(lines.parent) == [0, 0, 1]
    assert list(lines.amount) == [7000, 3000, 4100]
    # a transaction is kept when one of its lines matches; a line is kept on its own
    assert filter_mask(rows, Filter.build(categories="household")).tolist() == [True, False]
    assert filter_mask(lines, Filter.build(categories="groceries")).tolist() == [True, False, True]
    assert filter_mask(rows, Filter.build(tags="home")).tolist() == [True, False]
    assert filter_mask(lines, Filter.build(tags="trip")).tolist() == [True, True, False]  # the parent's tags too
    assert filter_mask(lines, Filter.build(text="bin bags")).tolist() == [False, True, False]
    assert filter_mask(rows, Filter.build(min_amount="90")).tolist() == [True, False]  # the transaction's amount
    names, minor, _ = grouped(lines, lines.category, filter_mask(lines, Filter()))
    assert dict(zip(names, minor.tolist(), strict=True)) == {"Groceries": 11100, "Household": 3000}
    total = sums(lines, filter_mask(lines, Filter()))
    assert (total.expenses, total.count) == (14100, 2)  # two transactions, three lines


def test_lines_frame_has_the_frame_s_columns_one_row_per_line() -> None:
    tx = receipt()
    frame = frame_from_transactions([tx, make_transaction(type="income", amount="5", category="Pay", currency="USD")])
    lines = lines_frame(frame)
    assert list(lines.columns) == list(frame.columns)
    assert lines.dtypes.equals(frame.dtypes)
    assert lines["category"].tolist() == ["Groceries", "Household", "Pay"]
    assert lines["amount_minor"].tolist() == [7000, 3000, 500]
    assert lines["signed_minor"].tolist() == [-7000, -3000, 500]
    assert lines["amount"].tolist() == [Decimal("70.00"), Decimal("30.00"), Decimal("5.00")]
    assert lines["tags"].tolist() == [("trip",), ("home", "trip"), ()]
    assert lines["id"].tolist()[:2] == [tx.id, tx.id]
    plain = frame.iloc[[1]]
    assert lines_frame(plain) is plain


line_amounts = st.lists(st.integers(min_value=1, max_value=10**9), min_size=2, max_size=8)


@given(line_amounts, st.sampled_from(["A", "B", "C"]))
def test_lines_always_sum_and_totals_by_category_equal_the_lines(amounts: list[int], first: str) -> None:
    cats = [first, *(["B", "C", "A"] * 3)][: len(amounts)]
    total = sum(amounts)
    tx = make_transaction(
        type="expense",
        amount=Decimal(total).scaleb(-2),
        category=None,
        currency="USD",
        splits=[{"category": c, "amount_minor": m} for c, m in zip(cats, amounts, strict=True)],
    )
    assert sum(ln.amount_minor for ln in tx.splits) == tx.amount_minor
    lines = StoredRows(stored_columns([tx.to_record()])).lines()
    names, minor, _ = grouped(lines, lines.category, filter_mask(lines, Filter()))
    expected: dict[str, int] = {}
    for c, m in zip(cats, amounts, strict=True):
        expected[c] = expected.get(c, 0) + m
    assert dict(zip(names, minor.tolist(), strict=True)) == expected


def test_the_ledger_stores_splits_undoes_them_as_one_change_and_renames_lines(ledger: Ledger) -> None:
    from tracker.categories import merge_categories, rename_category, rename_tag

    tx = ledger.add_expense(
        "100",
        splits=[{"category": "Groceries", "amount": "70"}, {"category": "Household", "amount": "30", "tags": ["x"]}],
    )
    assert ledger.get(tx.id).splits == tx.splits
    assert ledger.categories() == ["Groceries", "Household"]
    assert ledger.tags() == ["x"]
    ledger.update(tx.id, splits=[], category="Shop")
    assert ledger.get(tx.id).category == "Shop"
    assert ledger.undo() == "edit"
    assert ledger.get(tx.id).splits == tx.splits
    rename_category(ledger, "Household", "Home")
    assert [ln.category for ln in ledger.get(tx.id).splits] == ["Groceries", "Home"]
    merge_categories(ledger, ["Home"], "Groceries")
    assert [ln.category for ln in ledger.get(tx.id).splits] == ["Groceries", "Groceries"]
    rename_tag(ledger, "x", "y")
    assert ledger.get(tx.id).splits[1].tags == ("y",)
    with pytest.raises(ValidationError, match="split"):
        ledger.add_expense("10", splits=[{"category": "A", "amount": "10"}])


def test_a_schema_4_ledger_written_by_the_old_code_migrates_with_a_backup(data_dir: Path) -> None:
    """``tests/data/storage/ledger-v4`` was written by commit 4765f02 (accounts, a transfer, a version 2 journal)."""
    shutil.copytree(V4, data_dir)
    original = (data_dir / "ledger.json").read_bytes()
    ledger = Ledger(data_dir)
    txs = ledger.transactions()
    assert [t.category for t in txs] == ["Food", "Salary", "Transfer", "Transfer", "Books"]
    assert all(t.splits == () for t in txs)
    assert all(t.original_amount is None for t in txs)
    assert (data_dir / "ledger.json").read_bytes() == original  # reading never migrates on disk
    ledger.add_expense(
        "10", account="Checking", splits=[{"category": "A", "amount": "4"}, {"category": "B", "amount": "6"}]
    )
    assert [b.reason for b in ledger.backups()].count("before-migration") == 1
    migrated = next(b for b in ledger.backups() if b.reason == "before-migration")
    assert (data_dir / "backups" / migrated.name).read_bytes() == original
    assert json.loads((data_dir / "ledger.json").read_bytes())["schema_version"] == SCHEMA_VERSION == 5
    assert Ledger(data_dir).undo() == "add expense"
    assert Ledger(data_dir).undo() == "add expense"  # the old journal's change, still undoable
    assert [t.category for t in Ledger(data_dir).transactions()] == ["Food", "Salary", "Transfer", "Transfer"]


def test_cli_add_list_summary_edit_and_bad_input(cli: Callable[..., Any], data_dir: Path, files_of: Any) -> None:
    made = cli(
        "add",
        "expense",
        "100",
        "--split",
        "Groceries=70",
        "--split",
        "Household=25",
        "--split",
        "Gifts=5:for Ann #birthday",
        "--tag",
        "trip",
        "--date",
        "2026-03-01",
    )
    assert made.returncode == 0, made.stderr
    tx_id = made.stdout.strip()
    cli("add", "expense", "12", "--category", "Groceries", "--date", "2026-03-02", check=True)
    rows = json.loads(cli("list", "--format", "json").stdout)
    assert rows[0]["category"] == "Split"
    assert rows[0]["splits"] == [
        {"category": "Groceries", "amount": "70.00", "tags": [], "note": ""},
        {"category": "Household", "amount": "25.00", "tags": [], "note": ""},
        {"category": "Gifts", "amount": "5.00", "tags": ["birthday"], "note": "for Ann"},
    ]
    assert rows[1]["splits"] == []
    summary = json.loads(cli("summary", "--format", "json").stdout)
    assert summary["by_category"] == {"Groceries": "82.00", "Household": "25.00", "Gifts": "5.00"}
    assert summary["count"] == 2
    one = json.loads(cli("summary", "--category", "household", "--format", "json").stdout)
    assert (one["expense"], one["by_category"], one["count"]) == ("25.00", {"Household": "25.00"}, 1)
    assert [r["id"] for r in json.loads(cli("list", "--category", "Gifts", "--format", "json").stdout)] == [tx_id]
    table = cli("list").stdout
    assert "↳ Household" in table
    assert "Split" in table
    before = files_of(data_dir)
    for argv, field in [
        (("add", "expense", "100", "--split", "A=70", "--split", "B=20"), "split"),
        (("add", "expense", "100", "--split", "A=100"), "split"),
        (("add", "expense", "100", "--split", "=50", "--split", "B=50"), "split"),
        (("add", "expense", "100", "--split", "A=x", "--split", "B=50"), "split amount"),
        (("add", "expense", "100"), "--category"),
        (("edit", tx_id, "--amount", "90"), "split"),
        (("edit", tx_id, "--category", "Food"), "category"),
        (("add", "expense", "1", "--category", "A", "--original", "1 USD"), "original"),
        (("add", "expense", "1", "--category", "A", "--original", "1 XYZ"), "currency"),
    ]:
        bad = cli(*argv)
        assert bad.returncode == 2, (argv, bad.stdout)
        assert bad.stderr.count("\n") == 1
        assert field in bad.stderr, (argv, bad.stderr)
    assert files_of(data_dir) == before
    cli("edit", tx_id, "--unsplit", "Shopping", check=True)
    assert json.loads(cli("list", "--format", "json").stdout)[0]["category"] == "Shopping"
    cli("undo", check=True)
    cli("edit", tx_id, "--split", "A=50", "--split", "B=50", check=True)
    assert [s["category"] for s in json.loads(cli("list", "--format", "json").stdout)[0]["splits"]] == ["A", "B"]
    abroad = cli("add", "expense", "44.10", "--category", "Hotel", "--original", "41.00 EUR", check=True).stdout.strip()
    row = next(r for r in json.loads(cli("list", "--format", "json").stdout) if r["id"] == abroad)
    assert (row["original_amount"], row["original_currency"]) == ("41.00", "EUR")


def test_csv_export_has_one_row_per_line_and_json_keeps_the_lines(ledger: Ledger, tmp_path: Path) -> None:
    from tracker.export import CSV_COLUMNS, export

    tx = ledger.add_expense(
        "100",
        note="Tesco",
        tags=["trip"],
        splits=[{"category": "Groceries", "amount": "70"}, {"category": "Household", "amount": "30", "note": "bags"}],
    )
    ledger.add_expense("5", category="Food")
    path, count, _ = export(ledger, tmp_path / "out.csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))
    assert count == 2
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [(r["id"], r["line"], r["category"], r["amount"], r["note"]) for r in rows] == [
        (tx.id, "1", "Groceries", "70.00", "Tesco"),
        (tx.id, "2", "Household", "30.00", "bags"),
        (rows[2]["id"], "", "Food", "5.00", ""),
    ]
    path, _, _ = export(ledger, tmp_path / "out.json")
    restored = Ledger(tmp_path / "again")
    from tracker.importers import ImportOptions, import_file

    import_file(restored, path, ImportOptions())
    assert restored.get(tx.id) == ledger.get(tx.id)


def test_qif_splits_import_as_a_split_and_reimport_is_a_duplicate_even_after_a_change(ledger: Ledger) -> None:
    from tracker.importers import ImportOptions, import_file

    source = SHARED_FIXTURES / "qif" / "test_split.qif"
    result = import_file(ledger, source, ImportOptions())
    (tx,) = ledger.transactions()
    assert tx.amount_minor == 1000
    assert tx.category == SPLIT_CATEGORY
    assert [(ln.category, ln.amount_minor) for ln in tx.splits] == [("Transfer", 900), ("A Category", 100)]
    assert len(result.added) == 1
    ledger.update(tx.id, splits=[{"category": "Other", "amount": "5"}, {"category": "Fees", "amount": "5"}])
    again = import_file(ledger, source, ImportOptions())
    assert again.added == []
    assert len(ledger) == 1  # still recognised: the file's row identity did not change
