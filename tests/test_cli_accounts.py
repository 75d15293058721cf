"""Accounts on the command line through real subprocesses: account, transfer, balance, reconcile, cleared.

Commands that do not depend on each other run side by side (:func:`run_all`); every bad input is
exit 2 with one line naming the field, and the data files stay byte-identical.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_cli_core import assert_user_error, run_all

from tracker.accounts import add_account, add_transfer, balances, list_accounts
from tracker.ledger import Ledger

FilesOf = Callable[[Path], dict[str, bytes]]


@pytest.fixture
def banked(data_dir: Path) -> dict[str, Any]:
    """Checking (USD, opening 1000), Savings (USD), Card (credit card, USD, owes 200), Euro (EUR); a few rows."""
    ledger = Ledger(data_dir)
    add_account(ledger, "Checking", kind="checking", currency="USD", opening="1000", opening_date="2026-01-01")
    add_account(ledger, "Savings", kind="savings", currency="USD")
    add_account(ledger, "Card", kind="credit-card", currency="USD", opening="200", opening_date="2026-01-01")
    add_account(ledger, "Euro", kind="checking", currency="EUR")
    rent = ledger.add("expense", "700", category="Rent", date="2026-01-03", account="Checking")
    salary = ledger.add("income", "2500", category="Salary", date="2026-01-01", account="Checking")
    books = ledger.add("expense", "45.90", category="Books", date="2026-01-10", account="Card")
    out, arrived = add_transfer(ledger, "300", source="Checking", target="Savings", date="2026-01-15")
    return {"rent": rent.id, "salary": salary.id, "books": books.id, "out": out.id, "in": arrived.id}


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_account_list_balance_and_list_rows_show_the_accounts(data_dir: Path, banked: dict[str, Any]) -> None:
    listed, balance, early, rows, summary, only_savings = run_all(
        data_dir,
        [
            ["account", "list", "--format", "json"],
            ["balance", "--format", "json"],
            ["balance", "--date", "2026-01-05", "--format", "json"],
            ["list", "--format", "json"],
            ["summary", "--format", "json"],
            ["list", "--account", "savings", "--format", "json"],
        ],
    )
    accounts = {a["name"]: a for a in _json(listed)}
    assert list(accounts) == ["Checking", "Savings", "Card", "Euro"]
    assert accounts["Checking"] == {
        **accounts["Checking"],
        "kind": "checking",
        "currency": "USD",
        "balance": "2500.00",  # 1000 + 2500 - 700 - 300
        "cleared": "1000.00",
        "reconciled": "1000.00",
        "closed": False,
    }
    assert accounts["Card"]["balance"] == "-245.90"  # owed, shown negative
    assert accounts["Savings"]["balance"] == "300.00"
    assert accounts["Euro"]["currency"] == "EUR"
    assert accounts["Euro"]["balance"] == "0.00"

    shown = _json(balance)
    assert shown["net_worth"] == {"USD": "2554.10", "EUR": "0.00"}
    assert {a["name"]: a["balance"] for a in _json(early)["accounts"]}["Checking"] == "2800.00"  # before the transfer

    by_id = {r["id"]: r for r in _json(rows)}
    assert by_id[banked["rent"]]["account"] == "Checking"
    assert by_id[banked["rent"]]["cleared"] is False
    assert by_id[banked["out"]] | {"amount": "300.00"} == by_id[banked["out"]]
    assert (by_id[banked["out"]]["type"], by_id[banked["out"]]["direction"]) == ("transfer", "out")
    assert by_id[banked["out"]]["counter_account"] == "Savings"
    assert (by_id[banked["in"]]["account"], by_id[banked["in"]]["counter_account"]) == ("Savings", "Checking")
    assert by_id[banked["in"]]["direction"] == "in"

    totals = _json(summary)  # transfers are neither income nor expense nor a category
    assert totals["by_currency"]["USD"]["income"] == "2500.00"
    assert totals["by_currency"]["USD"]["expense"] == "745.90"
    assert "Transfer" not in json.dumps(totals)
    assert [r["id"] for r in _json(only_savings)] == [banked["in"]]


def test_account_lifecycle_and_transfers(data_dir: Path, banked: dict[str, Any], cli: Any) -> None:
    run = cli
    assert run("account", "add", "Wallet", "--kind", "cash", "--currency", "usd").stdout == "Wallet\n"
    moved = run("transfer", "40", "--from", "checking", "--to", "wallet", "--date", "2026-02-01", "--note", "ATM")
    assert moved.returncode == 0, moved.stderr
    out_id = moved.stdout.strip()
    fx = run("transfer", "100", "--from", "Checking", "--to", "Euro", "--to-amount", "92.50", "--date", "2026-02-02")
    assert fx.returncode == 0, fx.stderr
    ledger = Ledger(data_dir)
    out = ledger.get(out_id)
    assert (out.account, out.direction, out.note) == ("Checking", "out", "ATM")
    assert ledger.get(out.link).account == "Wallet"
    euro = {b.account.name: b for b in balances(ledger)}["Euro"]
    assert euro.to_json()["balance"] == "92.50"

    assert run("account", "edit", "Wallet", "--name", "Purse", "--note", "coins").returncode == 0
    assert Ledger(data_dir).get(out.link).account == "Purse"  # the rename moved its rows
    assert run("account", "default", "Purse").stdout == "Purse\n"
    added = run("add", "expense", "3", "--category", "Coffee", "--date", "2026-02-03")
    assert Ledger(data_dir).get(added.stdout.strip()).account == "Purse"
    assert run("account", "close", "Euro").stdout == "Euro closed\n"
    listed = json.loads(run("account", "list", "--format", "json").stdout)
    assert {a["name"]: a["closed"] for a in listed}["Euro"] is True
    assert run("account", "reopen", "Euro").stdout == "Euro open\n"

    # deleting both sides of a transfer by either id, and undo brings back both
    deleted = run("delete", out.link)
    assert deleted.returncode == 0, deleted.stderr
    after = Ledger(data_dir)
    assert out_id not in {t.id for t in after.transactions()}
    assert run("undo").returncode == 0
    again = Ledger(data_dir)
    assert again.get(out_id).link == out.link
    assert again.get(out.link).link == out_id

    # an edit of one side edits the other
    assert run("edit", out_id, "--amount", "45", "--date", "2026-02-04").returncode == 0
    edited = Ledger(data_dir)
    assert edited.get(out.link).amount_minor == 4500
    assert edited.get(out.link).date.isoformat() == "2026-02-04"

    monthly = run(
        "recurring", "add", "expense", "10", "--category", "Gym", "--account", "euro", "--start", "2099-01-01"
    )
    assert monthly.returncode == 0, monthly.stderr
    (template,) = json.loads(run("recurring", "list", "--format", "json").stdout)
    assert (template["account"], template["currency"]) == ("Euro", "EUR")  # the account's currency by default
    assert run("account", "add", "Old", "--kind", "savings", "--currency", "USD").returncode == 0
    assert run("add", "income", "5", "--category", "Interest", "--account", "Old").returncode == 0
    emptied = run("account", "delete", "Old", "--move-to", "Savings")
    assert emptied.returncode == 0, emptied.stderr
    assert "moved 1 transaction to Savings" in emptied.stdout
    remaining = Ledger(data_dir)
    assert "Old" not in {t.account for t in remaining.transactions()}
    assert "Old" not in {a.name for a in list_accounts(remaining)}


def test_reconcile_and_cleared_marks(data_dir: Path, banked: dict[str, Any], cli: Any, files_of: FilesOf) -> None:
    run = cli
    short = json.loads(
        run("reconcile", "Checking", "--balance", "2500", "--date", "2026-01-31", "--format", "json").stdout
    )
    assert short["reconciled"] is False
    assert short["difference"] == "1500.00"
    cleared = run("cleared", banked["rent"], banked["salary"], banked["out"])
    assert cleared.stdout == "cleared 3 transactions\n"
    done = json.loads(
        run("reconcile", "Checking", "--balance", "2500", "--date", "2026-01-31", "--format", "json").stdout
    )
    assert done["reconciled"] is True
    assert done["difference"] == "0.00"
    ledger = Ledger(data_dir)
    assert all(ledger.get(banked[k]).reconciled for k in ("rent", "salary", "out"))

    before = files_of(data_dir)
    for refused in run_all(
        data_dir,
        [
            ["edit", banked["rent"], "--amount", "701"],
            ["delete", banked["salary"]],
            ["uncleared", banked["rent"]],
        ],
    ):
        assert_user_error(refused, "reconciled", "--force")
    assert files_of(data_dir) == before
    forced = run("edit", banked["rent"], "--amount", "701", "--force")
    assert forced.returncode == 0, forced.stderr
    assert Ledger(data_dir).get(banked["rent"]).amount_minor == 70100


def test_bad_account_input_is_one_line_and_changes_nothing(
    data_dir: Path, banked: dict[str, Any], files_of: FilesOf
) -> None:
    before = files_of(data_dir)
    cases: list[tuple[list[str], tuple[str, ...]]] = [
        (["transfer", "10", "--from", "Checking", "--to", "checking"], ("to:", "the account the money comes from")),
        (["transfer", "10", "--from", "Checking", "--to", "Nowhere"], ("Nowhere",)),
        (["transfer", "10.001", "--from", "Checking", "--to", "Savings"], ("amount",)),
        (["transfer", "10", "--from", "Checking", "--to", "Savings", "--to-amount", "10"], ("to_amount",)),
        (["transfer", "10", "--from", "Checking", "--to", "Euro"], ("to_amount",)),
        (
            ["account", "add", "checking", "--kind", "savings", "--currency", "USD"],
            ("name:", "already the name of an account"),
        ),
        (["account", "add", "Gold", "--kind", "bullion", "--currency", "USD"], ("kind",)),
        (["account", "add", "Gold", "--kind", "asset", "--currency", "XXQ"], ("currency",)),
        (["account", "delete", "Checking"], ("Checking", "--move-to")),
        (["account", "delete", "Savings", "--move-to", "Checking"], ("move_to", "other side of the transfer")),
        (["account", "edit", "Checking"], ("--name",)),
        (["reconcile", "Checking", "--balance", "lots", "--date", "2026-01-31"], ("balance",)),
        (["reconcile", "Nowhere", "--balance", "1", "--date", "2026-01-31"], ("Nowhere",)),
        (["add", "expense", "5", "--category", "Food", "--account", "Nowhere"], ("Nowhere",)),
        (["add-text", "coffee", "4", "--account", "Nowhere"], ("Nowhere",)),
        (["list", "--type", "loan"], ("--type",)),
    ]
    results = run_all(data_dir, [args for args, _ in cases])
    for (_args, words), result in zip(cases, results, strict=True):
        assert_user_error(result, *words)
    assert files_of(data_dir) == before
    closed = run_all(data_dir, [["account", "close", "Euro"]])[0]
    assert closed.returncode == 0
    before = files_of(data_dir)
    into_closed = run_all(data_dir, [["add", "expense", "5", "--category", "Food", "--account", "Euro"]])[0]
    assert_user_error(into_closed, "Euro", "closed")
    assert files_of(data_dir) == before
