"""A CLI that starts fast: what each kind of invocation imports, and auto-posting without a DataFrame.

The import checks run in a fresh interpreter (this test process has pandas loaded long ago) through the
console script's own entry point, :func:`desktop.entry.run`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tracker.cli import build_parser
from tracker.cli.recurring import auto_post
from tracker.ledger import Ledger
from tracker.recurring import add_template, load_templates, make_template
from tracker.storage.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "pyarrow", "streamlit")
"""Never imported to print the version, help or a usage error."""
PRODUCT = ("plotly", "matplotlib", "streamlit", "tracker.importers", "tracker.charts", "tracker.ui")
"""Never imported by a subcommand that neither imports, charts nor serves."""

PROBE = textwrap.dedent(
    """
    import json, sys
    from desktop.entry import run

    watched = json.loads(sys.argv[1])
    out = []
    for argv in json.loads(sys.argv[2]):
        try:
            status = run(argv)
        except SystemExit as exc:
            status = exc.code
        loaded = sorted({w for w in watched for m in sys.modules if m == w or m.startswith(w + ".")})
        out.append({"argv": argv, "status": status, "loaded": loaded})
    sys.__stderr__.write("\\nPROBE " + json.dumps(out) + "\\n")
    """
)


def probe(commands: list[list[str]], watched: tuple[str, ...], data_dir: Path) -> list[dict[str, Any]]:
    """Run every command line in ONE fresh interpreter, in order; after each, which of ``watched`` are loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(watched), json.dumps(commands)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "EXPENSE_TRACKER_DATA_DIR": str(data_dir)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stderr.rsplit("\nPROBE ", 1)[1]))


def subcommand_paths() -> list[list[str]]:
    """Every subcommand and nested action, as the words that name it (``["budget", "set"]``)."""
    paths: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    paths.append([*prefix, name])
                    walk(child, [*prefix, name])

    walk(build_parser(), [])
    return paths


def test_version_help_and_usage_errors_import_no_pandas_numpy_or_streamlit(tmp_path: Path) -> None:
    paths = subcommand_paths()
    assert all(words in paths for words in (["add"], ["budget", "list"], ["recurring", "run"], ["backups", "list"]))
    usage_errors = [["add"], ["add", "income"], ["add", "income", "5", "--category"], ["frobnicate"], ["--nope"]]
    usage_errors += [["list", "--format", "yaml"], ["budget"], ["recurring", "add", "sometimes", "5"]]
    commands = [["--version"], ["--help"], ["-h"]] + [[*p, "--help"] for p in paths] + usage_errors
    results = probe(commands, HEAVY, tmp_path / "data")
    assert [r["argv"] for r in results] == commands
    for r in results:
        assert r["loaded"] == [], f"{r['argv']} imported {r['loaded']}"
        assert r["status"] == (2 if r["argv"] in usage_errors else 0), r
    assert not (tmp_path / "data").exists()  # nothing opened the ledger either


def test_the_modules_the_parser_and_auto_posting_use_import_no_pandas() -> None:
    code = "import sys, tracker.cli, tracker.cli.recurring, tracker.model, tracker.money, tracker.recurring; "
    code += f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_subcommands_import_only_what_they_use(tmp_path: Path) -> None:
    commands = [["budget", "list"], ["recurring", "list"], ["list", "--format", "json"], ["summary"], ["undo"]]
    commands += [["account", "list"], ["balance", "--format", "json"], ["list", "--account", "Main"]]
    for r in probe(commands, PRODUCT, tmp_path / "data"):
        assert r["status"] == 0, r
        assert r["loaded"] == [], f"{r['argv']} imported {r['loaded']}"


@pytest.fixture
def no_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the ledger's frame, or any DataFrame at all, fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a DataFrame was built")

    monkeypatch.setattr(Engine, "frame", refuse)
    monkeypatch.setattr(Engine, "frame_where", refuse)
    monkeypatch.setattr(pd.DataFrame, "__init__", refuse)


def auto_post_args(data_dir: Path, command: str = "list") -> argparse.Namespace:
    return argparse.Namespace(command=command, data_dir=str(data_dir))


def monthly(start: str, **fields: Any) -> Any:
    return make_template(
        type="expense",
        amount="9.99",
        category="Subscriptions",
        currency="EUR",
        start=start,
        today=dt.date(2026, 1, 1),
        **fields,
    )


def test_auto_post_with_nothing_due_builds_no_frame(data_dir: Path, no_frames: None) -> None:
    ledger = Ledger(data_dir)
    add_template(ledger, monthly("2026-03-10"))  # not due yet
    add_template(ledger, dataclasses.replace(monthly("2026-01-10", end="2026-02-10"), next_index=2))  # all posted
    revision = ledger.revision
    assert auto_post(auto_post_args(data_dir), today=dt.date(2026, 3, 9)) == 0
    assert Ledger(data_dir).revision == revision


def test_auto_post_with_one_due_posts_it_without_building_a_frame(data_dir: Path, no_frames: None) -> None:
    ledger = Ledger(data_dir)
    later, due = monthly("2026-05-10"), monthly("2026-03-10")
    add_template(ledger, later)
    add_template(ledger, due)
    ledger.add("expense", "1.00", category="Food", date="2026-03-01")
    args = auto_post_args(data_dir)
    assert auto_post(args, today=dt.date(2026, 4, 10)) == 2
    check = Ledger(data_dir)
    posted = sorted(t.id for t in check.transactions() if t.id.startswith("rec-"))
    assert posted == [due.transaction_id(dt.date(2026, 3, 10)), due.transaction_id(dt.date(2026, 4, 10))]
    assert auto_post(auto_post_args(data_dir), today=dt.date(2026, 4, 10)) == 0  # idempotent


def test_posting_skips_an_occurrence_whose_id_is_already_in_the_ledger(data_dir: Path, no_frames: None) -> None:
    ledger = Ledger(data_dir)
    template = add_template(ledger, monthly("2026-03-10"))
    ledger.add_many([template.to_transaction(dt.date(2026, 3, 10))], label="restored by hand")
    assert auto_post(auto_post_args(data_dir), today=dt.date(2026, 4, 10)) == 1
    ids = sorted(t.id for t in Ledger(data_dir).transactions())
    assert ids == [template.transaction_id(dt.date(2026, 3, 10)), template.transaction_id(dt.date(2026, 4, 10))]
    assert load_templates(Ledger(data_dir))[0].next_index == 2


def test_list_and_summary_over_a_snapshot_and_a_journal_import_no_pandas(tmp_path: Path) -> None:
    """The fast CLI reads its rows from the stored columns (one filter, one set of totals: tracker.rows)."""
    folder = tmp_path / "data"
    ledger = Ledger(folder)
    ledger.add_expense("12.50", category="Food", date="2026-03-04", tags=["fun"], note="lunch")
    ledger.add_income("900", category="Salary", date="2026-03-01")
    ledger.engine.fold()  # those two in the snapshot, the rest in the journal
    ledger.add_expense("3", category="Food", date="2026-03-05", currency="JPY")
    late = ledger.add_expense("7", category="Books", date="2026-04-02")
    ledger.update(late.id, category="Gifts")
    commands = [
        ["list", "--format", "json", "--from", "2026-03-01", "--to", "2026-03-31"],
        ["summary", "--format", "json"],
        ["summary", "--format", "json", "--category", "food", "--tag", "fun"],
    ]
    results = probe(commands, ("pandas", "pyarrow", "streamlit", *PRODUCT), folder)
    for r in results:
        assert r["status"] == 0, r
        assert r["loaded"] == [], f"{r['argv']} imported {r['loaded']}"
    shown = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "--data-dir", str(folder), *commands[1]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    totals = json.loads(shown.stdout)
    assert totals["by_category"] == {"Food": "12.50", "Gifts": "7.00"}, totals
    assert totals["income"] == "900.00", totals
