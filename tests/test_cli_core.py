"""The core CLI through real subprocesses: add, list, summary, edit, delete, undo, backups.

Each process pays Python + pandas start-up, so independent invocations run side by side
(:func:`run_all`, the same command line as the ``cli`` fixture).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tracker.export import CSV_COLUMNS, to_csv
from tracker.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
THOROUGH = os.environ.get("EXPENSE_TRACKER_THOROUGH") == "1"
FilesOf = Callable[[Path], dict[str, bytes]]
Cli = Callable[..., subprocess.CompletedProcess[str]]
JSON_FIELDS = {"id", "type", "amount", "currency", "date", "category", "tags", "note", "external_id"}
JSON_FIELDS |= {"created_at", "updated_at", "account", "direction", "link", "cleared", "reconciled"}
JSON_FIELDS |= {"splits", "original_amount", "original_currency"}


def run_all(
    data_dir: Path | None, commands: Sequence[Sequence[str]], env: dict[str, str] | None = None, cwd: Path | None = None
) -> list[subprocess.CompletedProcess[str]]:
    """Run ``expense-tracker [--data-dir DATA] ARGS`` for every ARGS at once; results in order."""
    prefix = [sys.executable, "-m", "tracker.cli"] + (["--data-dir", str(data_dir)] if data_dir else [])
    full_env = {**os.environ, **(env or {})}
    procs = [
        subprocess.Popen(
            [*prefix, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
            cwd=cwd,
        )
        for args in commands
    ]
    results = []
    for args, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=180)
        results.append(subprocess.CompletedProcess([*prefix, *args], proc.returncode, out, err))
    return results


def assert_user_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit status 2, exactly one line on stderr, no traceback, nothing on stdout."""
    shown = f"{result.args[3:]} -> {result.returncode}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.returncode == 2, shown
    assert result.stderr.endswith("\n"), shown
    assert result.stderr.count("\n") == 1, shown
    assert "Traceback" not in result.stderr, shown
    assert result.stdout == "", shown
    for word in words:
        assert word in result.stderr, shown


@pytest.fixture
def seeded(data_dir: Path) -> dict[str, Any]:
    """A ledger with a few transactions and a backup, written in-process."""
    ledger = Ledger(data_dir)
    txs = {
        "salary": ledger.add("income", "2500", category="Salary", date="2026-01-01", tags=["job"], currency="USD"),
        "lunch": ledger.add(
            "expense", "12.50", category="Food", date="2026-01-05", tags=["work", "fun"], note="lunch", currency="USD"
        ),
        "sushi": ledger.add("expense", "1500", category="Food", date="2026-01-06", currency="JPY"),
        "rent": ledger.add("expense", "900", category="Rent", date="2026-02-01", note="=HYPERLINK(1)", currency="USD"),
    }
    ledger.create_backup()
    return txs


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"expense-tracker \d+\.\d+\.\d+\n", result.stdout)
    script = ROOT / ".venv" / "bin" / "expense-tracker"
    if script.exists():
        assert (
            subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120).stdout == result.stdout
        )


def test_add_prints_the_new_id_and_stores_every_option(cli: Cli, data_dir: Path) -> None:
    first, second = (
        cli("add", "income", "1,234.50", "--category", "Salary", "--date", "2026-03-01", "--currency", "eur"),
        cli(
            "add",
            "expense",
            "3.10",
            "--category",
            " Café ☕ ",
            "--tag",
            "Fun",
            "--tag",
            "#fun",
            "--tag",
            "b",
            "--note",
            "with 'quotes' and ünïcode",
        ),
    )
    for result in (first, second):
        assert result.returncode == 0, result.stderr
        assert re.fullmatch(r"[0-9a-f]{16}\n", result.stdout)
        assert result.stderr == ""
    ledger = Ledger(data_dir)
    inc, exp = ledger.get(first.stdout.strip()), ledger.get(second.stdout.strip())
    assert (inc.type, inc.amount_minor, inc.currency, inc.date.isoformat()) == ("income", 123450, "EUR", "2026-03-01")
    assert (exp.type, exp.amount_minor, exp.currency, exp.category, exp.tags) == (
        "expense",
        310,
        "USD",
        "Café ☕",
        ("b", "Fun"),
    )
    import datetime as dt

    assert exp.date == dt.date.today()
    assert exp.note == "with 'quotes' and ünïcode"


def test_list_and_summary_formats(data_dir: Path, seeded: dict[str, Any]) -> None:
    listing, filtered, summary, csv_out, table, tags_all, json_usd = run_all(
        data_dir,
        [
            ["list", "--format", "json"],
            ["list", "--format", "json", "--from", "2026-01-02", "--to", "2026-01-31", "--category", "food"],
            ["summary", "--format", "json"],
            ["list", "--format", "csv"],
            ["list"],
            ["list", "--format", "json", "--tag", "work", "--tag", "fun", "--tag-mode", "all", "--type", "expense"],
            ["summary", "--format", "json", "--search", "LUNCH", "--min", "10", "--max", "12.50"],
        ],
    )
    for result in (listing, filtered, summary, csv_out, table, tags_all, json_usd):
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    rows = json.loads(listing.stdout)
    assert [r["id"] for r in rows] == [t.id for t in seeded.values()]  # by date
    assert all(set(r) == JSON_FIELDS for r in rows)
    lunch = rows[1]
    assert lunch == {
        **seeded["lunch"].to_json(),
        "amount": "12.50",
        "tags": ["fun", "work"],
    }
    assert [r["amount"] for r in rows] == ["2500.00", "12.50", "1500", "900.00"]
    assert [r["date"] for r in rows] == ["2026-01-01", "2026-01-05", "2026-01-06", "2026-02-01"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", r["created_at"]) for r in rows)
    assert [r["id"] for r in json.loads(filtered.stdout)] == [seeded["lunch"].id, seeded["sushi"].id]
    assert [r["id"] for r in json.loads(tags_all.stdout)] == [seeded["lunch"].id]

    totals = json.loads(summary.stdout)
    assert (totals["income"], totals["expense"], totals["net"]) == ("2500.00", "912.50", "1587.50")  # USD
    assert totals["count"] == 4
    assert totals["by_category"] == {"Rent": "900.00", "Food": "12.50"}
    assert totals["by_currency"]["JPY"]["expense"] == "1500"
    assert json.loads(json_usd.stdout)["count"] == 1

    table_lines = csv.reader(io.StringIO(csv_out.stdout))
    header, *body = list(table_lines)
    assert header == list(CSV_COLUMNS)  # the export's columns
    assert header[:9] == ["id", "date", "type", "amount", "currency", "account", "category", "tags", "note"]
    assert body[1][:9] == [
        seeded["lunch"].id,
        "2026-01-05",
        "expense",
        "12.50",
        "USD",
        "Main",
        "Food",
        "fun work",
        "lunch",
    ]
    assert body[3][8] == "'=HYPERLINK(1)"  # neutralised for spreadsheets
    assert csv_out.stdout.encode() == to_csv([Ledger(data_dir).get(t.id) for t in seeded.values()]).removeprefix(
        b"\xef\xbb\xbf"
    ).replace(b"\r\n", b"\n")  # the one CSV writer

    assert table.stdout.rstrip().endswith("4 transactions")
    assert seeded["rent"].id in table.stdout
    assert "  900.00" in table.stdout


def test_empty_ledger_outputs(data_dir: Path) -> None:
    listing, summary, table, undo = run_all(
        data_dir, [["list", "--format", "json"], ["summary", "--format", "json"], ["summary"], ["undo"]]
    )
    assert (undo.returncode, undo.stdout) == (0, "nothing to undo\n")
    assert json.loads(listing.stdout) == []
    totals = json.loads(summary.stdout)
    assert (totals["income"], totals["expense"], totals["net"], totals["count"]) == ("0.00", "0.00", "0.00", 0)
    assert totals["by_category"] == {}
    assert table.returncode == 0
    assert "No transactions" in table.stdout


def test_edit_delete_undo(cli: Cli, data_dir: Path, seeded: dict[str, Any]) -> None:
    lunch = seeded["lunch"]
    edited = cli(
        "edit", lunch.id, "--amount", "13", "--category", "Meals", "--tag", "team", "--note", "", "--date", "2026-01-07"
    )
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.strip() == lunch.id
    now = Ledger(data_dir).get(lunch.id)
    assert (now.amount_minor, now.category, now.tags, now.note, now.date.isoformat()) == (
        1300,
        "Meals",
        ("team",),
        "",
        "2026-01-07",
    )
    assert now.created_at == lunch.created_at
    untagged = cli("edit", lunch.id, "--no-tags")
    assert untagged.returncode == 0
    assert Ledger(data_dir).get(lunch.id).tags == ()
    deleted = cli("delete", seeded["rent"].id)
    assert deleted.returncode == 0
    assert seeded["rent"].id in deleted.stdout
    assert "900.00" in deleted.stdout
    assert seeded["rent"].id not in {t.id for t in Ledger(data_dir).transactions()}
    first, second = cli("undo"), cli("undo")
    assert first.stdout == "undone: delete\n"
    assert second.stdout == "undone: edit\n"
    ledger = Ledger(data_dir)
    assert ledger.get(seeded["rent"].id) == seeded["rent"]
    assert ledger.get(lunch.id).tags == ("team",)


def test_backups_list_create_restore(cli: Cli, data_dir: Path, seeded: dict[str, Any]) -> None:
    created = cli("backups", "create")
    assert created.returncode == 0, created.stderr
    name = created.stdout.strip()
    assert re.fullmatch(r"ledger-\d{8}T\d{12}Z-manual\.json", name)
    Ledger(data_dir).delete(seeded["salary"].id)
    listed = cli("backups", "list", "--format", "json")
    backups = json.loads(listed.stdout)
    assert backups[0]["name"] == name
    assert set(backups[0]) == {"name", "created_at", "size", "reason"}
    assert [b["reason"] for b in backups] == ["manual", "manual", "daily"]
    restored = cli("backups", "restore", name)
    assert restored.returncode == 0, restored.stderr
    assert name in restored.stdout
    assert {t.id for t in Ledger(data_dir).transactions()} == {t.id for t in seeded.values()}
    table = cli("backups", "list")
    assert name in table.stdout
    assert "before-restore" in table.stdout


def test_data_dir_option_and_environment(tmp_path: Path) -> None:
    env_dir, opt_dir = tmp_path / "from-env", tmp_path / "from-option"
    Ledger(env_dir).add("expense", "1", category="Env")
    Ledger(opt_dir).add("expense", "2", category="Option")
    env = {"EXPENSE_TRACKER_DATA_DIR": str(env_dir)}
    only_env, both = run_all(
        None, [["list", "--format", "json"], ["--data-dir", str(opt_dir), "list", "--format", "json"]], env=env
    )
    (relative,) = run_all(None, [["--data-dir", "from-option", "list", "--format", "json"]], env=env, cwd=tmp_path)
    assert [r["category"] for r in json.loads(only_env.stdout)] == ["Env"]
    assert [r["category"] for r in json.loads(both.stdout)] == ["Option"]
    assert [r["category"] for r in json.loads(relative.stdout)] == ["Option"]


# (arguments, a word the message must contain, in the quick run): the quick run keeps one case per
# kind of error source (amount, text field, date, argparse, missing id, filter, backup name, command);
# EXPENSE_TRACKER_THOROUGH=1 runs them all.
BAD_INPUT = [
    (["add", "expense", "12.345", "--category", "X"], "decimal places", True),
    (["add", "expense", "1.5e3", "--category", "X"], "amount", False),
    (["add", "expense", "-5", "--category", "X"], "amount", True),
    (["add", "expense", "0", "--category", "X"], "greater than zero", False),
    (["add", "expense", "nan", "--category", "X"], "amount", False),
    (["add", "expense", "inf", "--category", "X"], "amount", False),
    (["add", "expense", "10000000000", "--category", "X"], "too large", False),
    (["add", "expense", "1", "--category", "  "], "category", True),
    (["add", "expense", "1", "--category", "a\nb"], "control", False),
    (["add", "expense", "1", "--category", "X", "--tag", "two words"], "tag", False),
    (["add", "expense", "1", "--category", "X", "--date", "2026-02-30"], "date", True),
    (["add", "expense", "1", "--category", "X", "--currency", "XYZ"], "currency", False),
    (["add", "expense", "1", "--category", "X", "--note", "n" * 501], "note", False),
    (["add", "expense", "1"], "--category", True),
    (["add", "gift", "1", "--category", "X"], "gift", False),
    (["edit", "SEED"], "at least one field", True),
    (["edit", "missing-id", "--amount", "1"], "missing-id", False),
    (["edit", "SEED", "--amount", "0.001"], "decimal places", False),
    (["edit", "SEED", "--type", "transfer"], "transfer", False),
    (["delete", "missing-id"], "missing-id", True),
    (["list", "--from", "2026-02-01", "--to", "2026-01-01"], "2026-02-01", True),
    (["list", "--min", "abc"], "abc", False),
    (["list", "--format", "xml"], "xml", False),
    (["summary", "--type", "transfer"], "transfer", False),
    (["backups", "restore", "ledger-20000101T000000000000Z-nope.json"], "nope", True),
    (["backups", "restore", "../ledger.json"], "ledger.json", False),
    (["frobnicate"], "frobnicate", True),
]


def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    data_dir: Path, files_of: FilesOf, seeded: dict[str, Any]
) -> None:
    before = files_of(data_dir)
    cases = [(args, word) for args, word, quick in BAD_INPUT if quick or THOROUGH]
    commands = [[seeded["lunch"].id if a == "SEED" else a for a in args] for args, _ in cases]
    for (_, word), result in zip(cases, run_all(data_dir, commands), strict=True):
        assert_user_error(result, word)
        assert result.stderr.startswith("expense-tracker")
    assert files_of(data_dir) == before


def damage_ledger(data_dir: Path) -> bytes:
    ledger = Ledger(data_dir)
    ledger.engine.fold()
    damaged = (data_dir / "ledger.json").read_bytes()[:-40]
    (data_dir / "ledger.json").write_bytes(damaged)
    return damaged


def test_a_corrupt_data_file_is_refused_and_can_be_restored(
    data_dir: Path, files_of: FilesOf, seeded: dict[str, Any]
) -> None:
    damaged = damage_ledger(data_dir)
    before = files_of(data_dir)
    path = str(data_dir / "ledger.json")
    commands = [
        ["list"],
        ["add", "expense", "1", "--category", "X"],
        ["backups", "create"],
        ["summary", "--format", "json"],
        ["edit", seeded["lunch"].id, "--amount", "2"],
        ["delete", seeded["lunch"].id],
        ["undo"],
    ]
    refused = run_all(data_dir, commands if THOROUGH else commands[:3])
    for result in refused:
        assert_user_error(result, path, str(data_dir / "backups"), "backups restore")
    assert files_of(data_dir) == before

    listed = run_all(data_dir, [["backups", "list", "--format", "json"]])[0]
    assert listed.returncode == 0, listed.stderr
    name = json.loads(listed.stdout)[0]["name"]
    restored = run_all(data_dir, [["backups", "restore", name]])[0]
    assert restored.returncode == 0, restored.stderr
    aside = [p for p in data_dir.iterdir() if p.name.startswith("ledger.json.unreadable-")]
    assert [p.read_bytes() for p in aside] == [damaged]  # moved aside, not deleted
    after = run_all(data_dir, [["list", "--format", "json"]])[0]
    assert after.returncode == 0
    assert {r["id"] for r in json.loads(after.stdout)} == {t.id for t in seeded.values()}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ["is empty"]),
        (b"\x89PNG\r\n\x1a\n\x00\x00", ["binary"]),
        (b"[]", ["not a JSON object"]),
        (b'{"format": "expense-tracker-ledger", "schema_version": 99, "seq": 9}', ["newer version"]),
    ],
)
def test_unreadable_files_are_refused_untouched(
    data_dir: Path, files_of: FilesOf, content: bytes, words: list[str]
) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "ledger.json").write_bytes(content)
    before = files_of(data_dir)
    commands = [["list"], ["add", "expense", "1", "--category", "X"]]
    for result in run_all(data_dir, commands if THOROUGH else commands[len(content) % 2 :][:1]):
        assert_user_error(result, str(data_dir / "ledger.json"), "backups", *words)
    assert files_of(data_dir) == before


def test_an_unexpected_error_exits_1_with_a_short_message_and_a_log(tmp_path: Path, data_dir: Path) -> None:
    site = tmp_path / "site"
    dist = site / "et_boom-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: et_boom\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[expense_tracker]\nboom = et_boom:plugin\n")
    (site / "et_boom.py").write_text(
        textwrap.dedent(
            """
            from tracker.hookspecs import hookimpl

            def explode(folder):
                raise RuntimeError("secret internal detail")

            class Boom:
                @hookimpl
                def register_storage_backends(self):
                    return {"boom": explode}

            plugin = Boom()
            """
        )
    )
    logs = tmp_path / "logs"
    env = {"PYTHONPATH": str(site), "EXPENSE_TRACKER_BACKEND": "boom", "EXPENSE_TRACKER_LOG_DIR": str(logs)}
    (result,) = run_all(data_dir, [["list"]], env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "secret internal detail" not in result.stderr
    assert "RuntimeError" in result.stderr
    log = logs / "expense-tracker.log"
    assert str(log) in result.stderr
    assert "secret internal detail" in log.read_text()
    assert "Traceback" in log.read_text()


def test_opening_the_window_does_not_wait_for_pandas(tmp_path: Path) -> None:
    """``expense-tracker`` alone goes to the launcher before the command line (or pandas) is imported."""
    code = (
        "import sys\n"
        "from desktop.entry import run\n"
        f"status = run(['--data-dir', {str(tmp_path)!r}])\n"
        "print(status, 'pandas' in sys.modules, 'tracker.cli' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    from desktop.launcher import EXIT_NO_DISPLAY

    assert done.stdout.split() == [str(EXIT_NO_DISPLAY), "False", "False"], done.stderr
    assert "no display found" in done.stderr


def test_no_subcommand_is_the_window_the_entry_hands_over_or_a_usage_error(tmp_path: Path) -> None:
    from reliability_helpers import assert_rejected, run_cli

    from tracker.cli import main

    twice = ["--data-dir", str(tmp_path / "a"), "--data-dir", str(tmp_path / "b")]
    assert main(twice, open_window=lambda: 42) == 42  # what desktop.entry.run passes: the launcher
    assert os.environ["EXPENSE_TRACKER_DATA_DIR"] == str(tmp_path / "b")
    assert_rejected(run_cli(twice), "choose a command")


def test_the_command_line_never_imports_desktop() -> None:
    """``desktop`` imports ``tracker.cli`` (its entry point); never the other way round."""
    import ast

    for path in sorted((ROOT / "tracker").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "desktop" or n.startswith("desktop.") for n in names), path
    code = "import sys, tracker.cli; tracker.cli.build_parser(); print(sorted(m for m in sys.modules if m.split('.')[0] == 'desktop'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_amounts_on_the_command_line_follow_the_number_format(cli: Cli, data_dir: Path) -> None:
    """With the number format 1.234,56 (Settings), the CLI reads 12,50 as the app's forms do."""
    Ledger(data_dir).update_settings(number_format="1.234,56")
    added = cli("add", "expense", "1.234,50", "--category", "Rent")
    assert added.returncode == 0, added.stderr
    tx_id = added.stdout.strip()
    assert Ledger(data_dir).get(tx_id).amount_minor == 123450
    edited = cli("edit", tx_id, "--amount", "12,50")
    assert edited.returncode == 0, edited.stderr
    assert Ledger(data_dir).get(tx_id).amount_minor == 1250
    listed = cli("list", "--min", "12,50", "--max", "12,50", "--format", "json")
    assert [row["id"] for row in json.loads(listed.stdout)] == [tx_id]
    budget = cli("budget", "set", "Rent", "99,90")
    assert budget.returncode == 0, budget.stderr
    bad = cli("add", "expense", "12,5,0", "--category", "Rent")
    assert_user_error(bad, "amount", "12,50")
