"""The planning subcommands as a user runs them: real ``expense-tracker`` processes on a temporary data folder."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tracker.budgets import month_text
from tracker.cli import main
from tracker.cli.recurring import auto_post
from tracker.errors import TrackerError
from tracker.ledger import Ledger
from tracker.recurring import add_template, make_template

Run = Callable[..., Any]


@pytest.fixture
def fast(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """``main(["--data-dir", DATA, *args])`` in this process (for the many error paths; the happy paths
    run as real processes through the ``cli`` fixture)."""

    def run(*args: str) -> Any:
        capsys.readouterr()
        code = main(["--data-dir", str(data_dir), *args])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return run


def ok(result: Any) -> str:
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


def refused(result: Any, *words: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]
    return str(lines[0])


def test_budget_set_status_list_delete(cli: Run, fast: Run, data_dir: Path) -> None:
    today = dt.date.today()
    this_month = month_text(today)
    led = Ledger(data_dir)
    for amount, category in [("30.00", "Groceries"), ("4.25", "groceries"), ("1", "Groceries"), ("80", "Fun")]:
        led.add_expense(amount, category=category, date=today)
    assert "every month from" in ok(cli("budget", "set", "groceries", "400", "--every-month", "--month", this_month))
    ok(fast("budget", "set", "Fun", "50"))
    rows = json.loads(ok(cli("budget", "status", "--format", "json")))
    by_cat = {r["category"]: r for r in rows}
    assert set(by_cat) == {"Groceries", "Fun"}
    assert {k: by_cat["Groceries"][k] for k in ("budget", "spent", "left", "over")} == {
        "budget": "400.00",
        "spent": "35.25",
        "left": "364.75",
        "over": False,
    }
    assert {k: by_cat["Fun"][k] for k in ("budget", "spent", "left", "over")} == {
        "budget": "50.00",
        "spent": "80.00",
        "left": "-30.00",
        "over": True,
    }
    # projection at the current pace, exact integer half-up rounding
    days = (dt.date(today.year + today.month // 12, today.month % 12 + 1, 1) - today.replace(day=1)).days
    assert by_cat["Fun"]["projected"] == f"{(2 * 8000 * days + today.day) // (2 * today.day) / 100:.2f}"
    table = ok(fast("budget", "status"))
    assert "OVER" in table
    assert "Groceries" in table
    listed = json.loads(ok(fast("budget", "list", "--format", "json")))
    assert [(x["category"], x["amount"], x["every_month"]) for x in listed] == [
        ("Groceries", "400.00", True),
        ("Fun", "50.00", False),
    ]
    ok(cli("budget", "delete", "fun"))
    assert [r["category"] for r in json.loads(ok(fast("budget", "status", "--format", "json")))] == ["Groceries"]
    refused(fast("budget", "delete", "fun"), "no budget")
    refused(fast("budget", "set", "Food", "-3"), "amount")
    refused(fast("budget", "set", "Food", "3", "--month", "2026-13"), "month")
    refused(fast("budget", "status", "--month", "soon"), "month")
    next_year = f"{today.year + 1}-{today.month:02d}"
    assert json.loads(ok(fast("budget", "status", "--month", next_year, "--format", "json")))[0]["spent"] == "0.00"


def test_add_text_preview_and_save(cli: Run, fast: Run, data_dir: Path) -> None:
    today = dt.date.today()
    Ledger(data_dir).add_expense("3.00", category="Food", note="coffee", date="2026-01-05")
    dry = json.loads(ok(cli("add-text", "coffee 4.50 yesterday #work", "--dry-run", "--format", "json")))
    assert dry == {
        "type": "expense",
        "amount": "4.50",
        "currency": "USD",
        "date": (today - dt.timedelta(days=1)).isoformat(),
        "category": "Food",
        "category_source": "history",
        "tags": ["work"],
        "note": "coffee",
        "id": None,
        "account": "Main",
        "saved": False,
    }
    assert len(Ledger(data_dir)) == 1
    out = ok(cli("add-text", "salary", "+2500", "on", "2026-11-01"))  # unquoted words work too
    assert "income 2500.00 USD on 2026-11-01" in out
    new_id = out.strip().splitlines()[-1].removeprefix("added ")
    saved = Ledger(data_dir).get(new_id)
    assert (saved.type, saved.amount_minor, saved.category, saved.date) == (
        "income",
        250000,
        "Salary",
        dt.date(2026, 11, 1),
    )
    refused(cli("add-text", "coffee"), "amount", "no amount")
    refused(fast("add-text", "coffee 4 on 2026-02-30"), "date", "2026-02-30")
    refused(fast("add-text", "coffee 4 5"), "second amount")
    assert len(Ledger(data_dir)) == 2


def test_recurring_add_list_run_delete(cli: Run, fast: Run, data_dir: Path) -> None:
    today = dt.date.today()
    start = (today - dt.timedelta(days=21)).isoformat()
    out = ok(
        cli(
            "recurring",
            "add",
            "expense",
            "40",
            "--category",
            "Cleaner",
            "--every",
            "week",
            "--start",
            start,
            "--tag",
            "home",
        )
    )
    template_id = out.splitlines()[0]
    assert "posted 4 due transactions" in out  # 21 days ago, 14, 7 and today
    listed = json.loads(ok(cli("recurring", "list", "--format", "json")))
    assert [(t["id"], t["every"], t["posted"], t["next"]) for t in listed] == [
        (template_id, "week", 4, (today + dt.timedelta(days=7)).isoformat())
    ]
    assert "Cleaner" in ok(fast("recurring", "list"))
    upcoming = json.loads(ok(fast("recurring", "list", "--upcoming", "15", "--format", "json")))
    assert [u["date"] for u in upcoming] == [(today + dt.timedelta(days=d)).isoformat() for d in (7, 14)]
    assert ok(cli("recurring", "run")).strip() == "posted 0 recurring transactions"
    through = (today + dt.timedelta(days=14)).isoformat()
    assert json.loads(ok(fast("recurring", "run", "--through", through, "--format", "json"))) == {
        "posted": 2,
        "through": through,
    }
    txs = Ledger(data_dir).transactions()
    assert len(txs) == 6
    assert {(t.category, t.tags, t.amount_minor) for t in txs} == {("Cleaner", ("home",), 4000)}
    assert "its posted transactions stay" in ok(cli("recurring", "delete", template_id[:6]))
    assert json.loads(ok(cli("recurring", "list", "--format", "json"))) == []
    assert len(Ledger(data_dir)) == 6
    refused(cli("recurring", "delete", template_id), "not a recurring template")
    refused(cli("recurring", "add", "expense", "40", "--category", "X", "--every", "fortnight"), "every")
    refused(
        cli("recurring", "add", "expense", "40", "--category", "X", "--start", "2026-05-01", "--end", "2026-04-01"),
        "end",
    )


def test_category_and_tag_commands_with_undo(cli: Run, fast: Run, data_dir: Path) -> None:
    led = Ledger(data_dir)
    led.add_expense("10", category="Food", tags=["work"])
    led.add_expense("20", category="food", tags=["job"])
    led.add_expense("30", category="Dining")
    out = ok(cli("category", "rename", "FOOD", "Groceries"))
    assert "2 transactions changed" in out
    assert {t.category for t in Ledger(data_dir).transactions()} == {"Groceries", "Dining"}
    assert "undone: rename category" in ok(cli("undo"))
    assert sorted(t.category for t in Ledger(data_dir).transactions()) == ["Dining", "Food", "food"]
    refused(fast("category", "rename", "food", "dining"), "already exists")
    ok(fast("category", "merge", "food", "--into", "Dining"))
    assert {t.category for t in Ledger(data_dir).transactions()} == {"Dining"}
    ok(cli("category", "color", "dining", "#00FF00"))
    assert ok(fast("category", "color", "Dining")).strip() == "#00ff00"
    assert json.loads(ok(fast("category", "list", "--format", "json"))) == [
        {"category": "Dining", "transactions": 3, "color": "#00ff00"}
    ]
    refused(fast("category", "color", "Dining", "green"), "color")
    ok(fast("category", "color", "Dining", "--clear"))
    assert ok(fast("category", "color", "Dining")).strip() == "no colour set"
    ok(cli("tag", "merge", "work", "job", "--into", "office"))
    assert Ledger(data_dir).tags() == ["office"]
    ok(fast("tag", "rename", "office", "Work"))
    assert Ledger(data_dir).tags() == ["Work"]
    refused(fast("tag", "rename", "nope", "x"), "not used")


def test_auto_post_runs_before_commands_but_not_before_undo_or_recurring(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    led = Ledger(data_dir)
    add_template(
        led, make_template(type="expense", amount="5", category="Sub", currency="USD", start=dt.date(2026, 1, 1))
    )
    for skipped in ("undo", "recurring", None):
        assert auto_post(argparse.Namespace(command=skipped, data_dir=str(data_dir)), dt.date(2026, 3, 1)) == 0
    assert len(Ledger(data_dir)) == 0
    assert auto_post(argparse.Namespace(command="list", data_dir=str(data_dir)), dt.date(2026, 3, 1)) == 3
    assert "posted 3 recurring transactions" in capsys.readouterr().err
    assert len(Ledger(data_dir)) == 3
    # a broken ledger does not stop the command and adds no line of its own: the command reports it, once
    (data_dir / "ledger.json").write_text("{not json")
    with pytest.raises(TrackerError):
        Ledger(data_dir)
    assert auto_post(argparse.Namespace(command="list", data_dir=str(data_dir)), dt.date(2026, 5, 1)) == 0
    assert capsys.readouterr().err == ""
