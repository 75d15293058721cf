"""tracker.accounts: accounts, transfers as linked pairs, balances, net worth, reconciliation, the migration."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tracker.accounts import (
    add_account,
    add_transfer,
    balances,
    close_account,
    default_account,
    delete_account,
    edit_account,
    get_account,
    list_accounts,
    net_worth,
    reconcile,
    set_cleared,
    set_default_account,
)
from tracker.errors import CorruptDataError, NotFoundError, ValidationError
from tracker.filters import Filter, filter_data
from tracker.frame import empty_frame
from tracker.ledger import Ledger
from tracker.storage.codec import SCHEMA_VERSION
from tracker.storage.columns import ORIGINAL_FIELDS

FilesOf = Callable[[Path], dict[str, bytes]]


def by_name(ledger: Ledger) -> dict[str, dict[str, object]]:
    return {b.account.name: b.to_json() for b in balances(ledger)}


@pytest.fixture
def books(ledger: Ledger) -> Ledger:
    """Checking (USD, opening 1000), savings (USD), a Visa card (USD, 200 owed), a euro account."""
    add_account(ledger, "Checking", kind="checking", currency="USD", opening="1000", opening_date="2026-01-01")
    add_account(ledger, "Savings", kind="savings", currency="USD")
    add_account(ledger, "Visa", kind="credit card", currency="USD", opening="200")
    add_account(ledger, "Euro", kind="checking", currency="EUR")
    set_default_account(ledger, "checking")
    return ledger


def test_a_new_ledger_puts_transactions_into_an_implicit_main_account(ledger: Ledger) -> None:
    tx = ledger.add_expense("5", category="Food")
    assert tx.account == "Main"
    main = get_account(ledger, "main")
    assert (main.name, main.kind, main.currency, main.declared) == ("Main", "checking", "USD", False)
    assert by_name(ledger)["Main"]["balance"] == "-5.00"
    renamed = edit_account(ledger, "Main", new_name="Everyday")  # the migrated account can be renamed
    assert renamed.declared
    assert [a.name for a in list_accounts(ledger)] == ["Everyday"]
    assert ledger.get(tx.id).account == "Everyday"
    assert ledger.undo() == "edit account Everyday"  # the rename and the moved rows are one change
    assert ledger.get(tx.id).account == "Main"


def test_accounts_are_declared_with_kind_currency_and_opening(books: Ledger) -> None:
    assert [(a.name, a.kind, a.currency) for a in list_accounts(books)] == [
        ("Checking", "checking", "USD"),
        ("Savings", "savings", "USD"),
        ("Visa", "credit-card", "USD"),
        ("Euro", "checking", "EUR"),
    ]
    shown = by_name(books)
    assert shown["Checking"]["balance"] == "1000.00"
    assert shown["Visa"]["balance"] == "-200.00"  # what is owed, negative
    tx = books.add_expense("3.5", category="Food")
    assert (tx.account, tx.currency) == ("Checking", "USD")  # the default account and its currency
    euro = books.add_expense("2", category="Food", account="euro")
    assert (euro.account, euro.currency) == ("Euro", "EUR")
    with pytest.raises(ValidationError, match="more decimal places than JPY"):
        add_account(books, "Yen", currency="JPY", opening="1.5")


def test_a_transfer_is_a_linked_pair_that_counts_in_balances_not_in_spending(books: Ledger) -> None:
    books.add_income("3000", category="Salary", date="2026-02-01")
    out, arrived = add_transfer(books, "500", source="Checking", target="savings", date="2026-02-02", note="save")
    assert (out.type, out.direction, out.account, out.link) == ("transfer", "out", "Checking", arrived.id)
    assert (arrived.direction, arrived.account, arrived.link, arrived.amount_minor) == ("in", "Savings", out.id, 50000)
    shown = by_name(books)
    assert (shown["Checking"]["balance"], shown["Savings"]["balance"]) == ("3500.00", "500.00")
    assert net_worth(balances(books)) == {"EUR": 0, "USD": 400000 - 20000}
    frame = books.frame()
    assert frame.loc[frame["type"] == "transfer", "signed_minor"].tolist() == [-50000, 50000]
    from tracker.cli.core import summarize
    from tracker.rows import FrameRows

    totals = summarize(FrameRows(frame), "USD")
    assert (totals["income"], totals["expense"], totals["by_category"]) == ("3000.00", "0.00", {})
    assert filter_data(frame, type="transfer")["id"].tolist() == [out.id, arrived.id]
    assert filter_data(frame, accounts=["SAVINGS"])["id"].tolist() == [arrived.id]


def test_editing_one_side_edits_the_other_and_deleting_one_deletes_both(books: Ledger) -> None:
    out, arrived = add_transfer(books, "50", source="Checking", target="Savings", date="2026-02-02")
    books.update(arrived.id, amount="60", note="more", date="2026-02-03")
    again = books.get(out.id)
    assert (again.amount_minor, again.note, str(again.date)) == (6000, "more", "2026-02-03")
    books.update(out.id, cleared=True)  # the marks are each side's own
    assert (books.get(out.id).cleared, books.get(arrived.id).cleared) == (True, False)
    with pytest.raises(ValidationError, match="type"):
        books.update(out.id, type="expense")
    with pytest.raises(ValidationError, match="other side's account"):
        books.update(out.id, account="Savings")
    revision = books.revision
    books.delete(arrived.id)
    assert books.revision == revision + 1  # one change
    with pytest.raises(NotFoundError):
        books.get(out.id)
    assert books.undo() == "delete"
    assert {books.get(out.id).link, books.get(arrived.id).link} == {arrived.id, out.id}  # undo brings back both
    with pytest.raises(ValidationError, match="other side"):
        books.commit(deletes=[out.id])  # the low-level commit refuses to part a pair too


def test_a_transfer_between_currencies_records_both_amounts(books: Ledger) -> None:
    with pytest.raises(ValidationError, match=r"to_amount.*no exchange rate"):
        add_transfer(books, "100", source="Checking", target="Euro")
    out, arrived = add_transfer(books, "100", source="Checking", target="Euro", to_amount="92.30")
    assert (out.currency, out.amount_minor, arrived.currency, arrived.amount_minor) == ("USD", 10000, "EUR", 9230)
    books.update(out.id, amount="110")  # each side keeps its own amount
    assert (books.get(out.id).amount_minor, books.get(arrived.id).amount_minor) == (11000, 9230)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda led: add_transfer(led, "5", source="Checking", target="checking"), "to"),
        (lambda led: add_transfer(led, "5", source="Checking", target="Nowhere"), "account"),
        (lambda led: add_transfer(led, "5.555", source="Checking", target="Savings"), "amount"),
        (lambda led: add_transfer(led, "5", source="Checking", target="Savings", to_amount="5"), "to_amount"),
        (lambda led: add_account(led, "SAVINGS", currency="USD"), "name"),
        (lambda led: add_account(led, "Cash", kind="piggy"), "kind"),
        (lambda led: add_account(led, "Cash", currency="XYZ"), "currency"),
        (lambda led: led.add_expense("5", category="Food", account="Nowhere"), "account"),
        (lambda led: led.add_expense("5.555", category="Food", account="Checking"), "amount"),
        (lambda led: reconcile(led, "Checking", "lots", "2026-03-01"), "balance"),
        (lambda led: delete_account(led, "Checking"), "account"),
    ],
)
def test_bad_input_names_the_field_and_leaves_the_files_alike(
    books: Ledger, data_dir: Path, files_of: FilesOf, call: object, field: str
) -> None:
    books.add_expense("1", category="Food")
    before = files_of(data_dir)
    with pytest.raises(ValidationError) as err:
        call(books)  # type: ignore[operator]
    assert err.value.field == field
    assert files_of(data_dir) == before


def test_a_closed_account_keeps_its_rows_and_takes_no_new_ones(books: Ledger) -> None:
    tx = books.add_expense("4", category="Food", account="Savings")
    close_account(books, "Savings")
    assert get_account(books, "Savings").closed
    with pytest.raises(ValidationError, match="closed"):
        books.add_expense("4", category="Food", account="Savings")
    with pytest.raises(ValidationError, match="closed"):
        add_transfer(books, "4", source="Checking", target="Savings")
    books.update(tx.id, note="still editable")
    close_account(books, "Savings", closed=False)
    books.add_expense("4", category="Food", account="Savings")


def test_deleting_an_account_moves_its_rows_or_is_refused(books: Ledger) -> None:
    tx = books.add_expense("4", category="Food", account="Savings")
    with pytest.raises(ValidationError, match="move them with --move-to"):
        delete_account(books, "Savings")
    assert delete_account(books, "Savings", move_to="Checking") == 1
    assert books.get(tx.id).account == "Checking"
    assert "Savings" not in [a.name for a in list_accounts(books)]
    assert delete_account(books, "Euro") == 0


def test_reconcile_compares_the_cleared_balance_and_marks_the_rows(books: Ledger) -> None:
    a = books.add_expense("100", category="Rent", date="2026-03-01", cleared=True)
    b = books.add_expense("20", category="Food", date="2026-03-02")
    late = books.add_expense("7", category="Food", date="2026-03-20", cleared=True)
    found = reconcile(books, "Checking", "880", "2026-03-10")
    assert (found.reconciled, found.difference, found.marked) == (False, -2000, 0)  # b is not cleared yet
    assert found.to_json()["difference"] == "-20.00"
    assert set_cleared(books, [b.id]) > 0
    done = reconcile(books, "Checking", "880.00", "2026-03-10")
    assert (done.reconciled, done.difference, done.marked) == (True, 0, 2)
    assert [books.get(t.id).reconciled for t in (a, b, late)] == [True, True, False]
    shown = by_name(books)["Checking"]
    assert (shown["balance"], shown["cleared"], shown["reconciled"]) == ("873.00", "873.00", "880.00")
    with pytest.raises(ValidationError, match=r"reconciled.*--force"):
        books.update(a.id, amount="99")
    with pytest.raises(ValidationError, match="--force"):
        books.delete(b.id)
    with pytest.raises(ValidationError, match="--force"):
        set_cleared(books, [a.id], cleared=False)
    books.update(a.id, amount="99", force=True)
    set_cleared(books, [b.id], cleared=False, force=True)
    assert (books.get(b.id).cleared, books.get(b.id).reconciled) == (False, False)


def test_balances_at_a_date_and_net_worth_per_currency(books: Ledger) -> None:
    books.add_expense("10", category="Food", date="2026-01-05")
    books.add_expense("30", category="Fuel", date="2026-01-10", account="Visa")
    books.add_income("5", category="Gift", date="2026-02-01", account="Euro")
    early = {b.account.name: b.balance for b in balances(books, "2026-01-06")}
    assert early == {"Checking": 99000, "Savings": 0, "Visa": -20000, "Euro": 0}
    assert {b.account.name: b.balance for b in balances(books, "2025-12-31")}["Checking"] == 0  # before the opening
    assert net_worth(balances(books)) == {"EUR": 500, "USD": 99000 - 23000}


def test_a_schema_3_ledger_migrates_into_main_with_a_backup(data_dir: Path) -> None:
    """Written as schema 3 had it (no account columns, a version 1 journal line): every row goes into Main."""
    ledger = Ledger(data_dir)
    kept = ledger.add_expense("12.50", category="Food", date="2026-03-04")
    ledger.engine.fold()
    later = ledger.add_income("900", category="Salary", date="2026-03-05")
    snap = json.loads((data_dir / "ledger.json").read_bytes())
    old = {f.record for f in ORIGINAL_FIELDS}
    snap["schema_version"] = 3
    snap["transactions"] = {k: v for k, v in snap["transactions"].items() if k in old}
    (data_dir / "ledger.json").write_text(json.dumps(snap))
    entry = json.loads((data_dir / "ledger.journal").read_bytes())
    entry["schema_version"] = 1
    for op in entry["ops"]:
        op["tx"] = {k: v for k, v in op["tx"].items() if k in old}
    (data_dir / "ledger.journal").write_text(json.dumps(entry) + "\n")
    original = (data_dir / "ledger.json").read_bytes()

    again = Ledger(data_dir)
    assert {t.account for t in again.transactions()} == {"Main"}
    assert (data_dir / "ledger.json").read_bytes() == original  # reading never migrates on disk
    again.add_expense("1", category="After")
    migration = [b for b in again.backups() if b.reason == "before-migration"]
    assert len(migration) == 1
    assert (data_dir / "backups" / migration[0].name).read_bytes() == original  # a byte copy
    assert json.loads((data_dir / "ledger.json").read_bytes())["schema_version"] == SCHEMA_VERSION == 5
    assert again.get(kept.id).account == again.get(later.id).account == "Main"
    assert Ledger(data_dir).undo() == "add expense"
    assert Ledger(data_dir).undo() == "add income"  # the old journal's change is still undoable


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c["link"].__setitem__(0, "nobody"),
        lambda c: c["direction"].__setitem__(1, "out"),
        lambda c: c["type"].__setitem__(1, "expense"),
        lambda c: c["account"].__setitem__(0, ""),
        lambda c: c["cleared"].__setitem__(0, 2),
        lambda c: c["reconciled"].__setitem__(0, 1),
    ],
    ids=["a link to nobody", "two outs", "one side not a transfer", "no account", "a bad mark", "reconciled uncleared"],
)
def test_a_snapshot_with_a_broken_transfer_or_marks_is_refused_untouched(
    books: Ledger, data_dir: Path, damage: object
) -> None:
    add_transfer(books, "5", source="Checking", target="Savings")
    books.engine.fold()
    snap = json.loads((data_dir / "ledger.json").read_bytes())
    cols = snap["transactions"]
    order = sorted(range(len(cols["id"])), key=lambda i: cols["direction"][i] != "out")  # the out side first
    cols = {k: [v[i] for i in order] for k, v in cols.items()}
    damage(cols)  # type: ignore[operator]
    snap["transactions"] = cols
    (data_dir / "ledger.json").write_text(json.dumps(snap))
    before = (data_dir / "ledger.json").read_bytes()
    with pytest.raises(CorruptDataError):
        Ledger(data_dir)
    assert (data_dir / "ledger.json").read_bytes() == before


def test_load_data_and_filters_see_the_new_columns(books: Ledger) -> None:
    add_transfer(books, "5", source="Checking", target="Savings")
    frame = books.frame()
    empty = empty_frame()
    for column in ("account", "direction", "link", "cleared", "reconciled"):
        assert frame[column].dtype == empty[column].dtype  # the documented schema, also when empty
    assert frame["cleared"].dtype == bool
    assert books.transactions(Filter(accounts=("checking",)))[0].direction == "out"


def test_recurring_templates_follow_their_account(books: Ledger) -> None:
    from tracker.recurring import RECURRING, add_template, make_template, post_due, update_template

    def monthly(account: str) -> Any:
        return make_template(type="expense", amount="9.99", category="Streaming", currency="USD", start="2026-01-05",
                             account=account, today=dt.date(2026, 1, 1))  # fmt: skip

    add_template(books, monthly("visa"))
    assert RECURRING.read(books)[0].account == "Visa"  # the declared spelling
    assert post_due(books, dt.date(2026, 2, 10)) == 2
    assert {tx.account for tx in books.transactions() if tx.category == "Streaming"} == {"Visa"}
    edit_account(books, "Visa", new_name="Amex")
    assert RECURRING.read(books)[0].account == "Amex"  # renamed with it, in the same change

    add_account(books, "Gym card", kind="credit-card", currency="USD")
    gym = add_template(books, monthly("Gym card"))
    with pytest.raises(ValidationError, match="1 recurring template: move them with --move-to"):
        delete_account(books, "Gym card")
    assert delete_account(books, "Gym card", move_to="Checking") == 0
    assert next(t for t in RECURRING.read(books) if t.id == gym.id).account == "Checking"

    close_account(books, "Savings")
    with pytest.raises(ValidationError, match="closed"):
        update_template(books, gym.id, account="Savings")
    with pytest.raises(NotFoundError, match="Nowhere"):
        add_template(books, make_template(type="expense", amount="1", category="X", currency="USD", account="Nowhere"))


def test_the_public_api_declares_accounts_moves_money_and_reads_balances(data_dir: Path) -> None:
    import tracker

    tracker.add_account("Cash", kind="cash", currency="USD", opening="20", data_dir=data_dir)
    tracker.add_account("Bank", kind="checking", currency="EUR", data_dir=data_dir)
    tracker.add_expense("4.50", "Coffee", date="2026-03-01", account="cash", data_dir=data_dir)
    out, arrived = tracker.add_transfer("10", "Cash", "Bank", date="2026-03-02", to_amount="9.20", data_dir=data_dir)
    assert (out.direction, arrived.direction, out.link, arrived.link) == ("out", "in", arrived.id, out.id)
    found = {b.account.name: b.balance for b in tracker.balances(data_dir=data_dir)}
    assert found == {"Cash": 550, "Bank": 920}
    assert tracker.net_worth(tracker.balances("2026-03-01", data_dir=data_dir)) == {"EUR": 0, "USD": 1550}
    frame = tracker.load_data(data_dir)
    assert sorted(frame["account"]) == ["Bank", "Cash", "Cash"]
    only_bank = tracker.filter_data(frame, accounts=["bank"])
    assert list(only_bank["direction"]) == ["in"]


def test_net_worth_over_time_equals_the_balances_of_each_day(books: Ledger) -> None:
    from tracker.accounts import month_ends, net_worth_over_time

    books.add("income", "2500", category="Salary", date="2026-01-31", account="Checking")
    books.add("expense", "45.90", category="Books", date="2026-02-10", account="Visa")
    books.add("expense", "7", category="Food", date="2026-03-01", account="Euro")
    add_transfer(books, "300", source="Checking", target="Savings", date="2026-02-15")
    add_transfer(books, "100", source="Checking", target="Euro", to_amount="92.50", date="2026-03-05")
    edit_account(books, "Savings", opening="50", opening_date="2026-02-01")
    days = month_ends(dt.date(2025, 12, 10), dt.date(2026, 4, 2))
    assert days == [dt.date(2025, 12, 31), dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31),
                    dt.date(2026, 4, 2)]  # fmt: skip
    series = net_worth_over_time(books, days)
    for i, day in enumerate(days):
        expected = net_worth(balances(books, day))
        assert {code: values[i] for code, values in series.items()} == {
            c: m for c, m in expected.items() if c in series
        }
    assert series["USD"][0] == -20000  # the card's opening has no date: it counts from the start; Checking's not yet
    assert series["USD"][2] == 100000 - 20000 + 250000 - 4590 + 5000
    assert series["EUR"] == [0, 0, 0, 9250 - 700, 9250 - 700]


def test_a_new_ledgers_first_account_can_be_named_before_it_holds_anything(ledger: Ledger) -> None:
    assert get_account(ledger, "main").name == "Main"
    assert ledger.add("expense", "1", category="Food", account="main").account == "Main"
    with pytest.raises(NotFoundError, match="Other"):
        get_account(ledger, "Other")


def test_declaring_a_card_does_not_take_the_default_from_main(ledger: Ledger) -> None:
    ledger.add("expense", "5", category="Food")  # a ledger from before accounts: its rows are in "Main"
    add_account(ledger, "Visa", kind="credit-card", currency="USD")
    assert default_account(ledger).name == "Main"
    assert ledger.add("expense", "6", category="Food").account == "Main"
    set_default_account(ledger, "Visa")
    assert ledger.add("expense", "7", category="Food").account == "Visa"
    close_account(ledger, "Visa")
    assert default_account(ledger).name == "Main"  # the default closed: back to Main
