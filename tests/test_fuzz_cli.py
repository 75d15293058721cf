"""Hypothesis fuzzing of the command line: random argument lists for every subcommand.

The argument lists follow the real parser's grammar (every subcommand, its positionals and options,
read from ``tracker.cli.build_parser()``) with values drawn from valid, borderline and hostile ones,
then are mutated (a token dropped, repeated, swapped or replaced). They run in this process through
``tracker.cli.main`` for speed; a few run as real processes. Every outcome must be exit status 0, or
2 with exactly one line on stderr; never 1, never a traceback; and a rejected command leaves the
data files byte-identical (except for recurring transactions that fell due, which every command posts
first, as designed).

``serve`` (a server that runs until stopped) and the bare command (the desktop window) are left out;
files are read from and written to the test's folder only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import THOROUGH, assert_clean_outcome, bank_files, record_figures, run_cli

from tracker.cli import build_parser
from tracker.ledger import Ledger

FIGURES: dict[str, Any] = {"in_process_runs": 0, "exit_0": 0, "exit_2": 0, "real_processes": 0}
EXAMPLES = 1500 if THOROUGH else 220
SKIPPED = {("serve",)}


def leaves() -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every runnable subcommand path with its parser."""
    found: list[tuple[tuple[str, ...], argparse.ArgumentParser]] = []

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            if path not in SKIPPED:
                found.append((path, parser))
            return
        for name, child in subs[0].choices.items():
            walk(child, (*path, name))

    walk(build_parser(), ())
    return found


LEAVES = leaves()


class Workspace:
    """A data folder with transactions, a backup, a budget, a rule and a recurring template, plus files."""

    def __init__(self) -> None:
        import tempfile

        self.root = Path(tempfile.mkdtemp(prefix="fuzz-cli-"))
        self.data = self.root / "data"
        ledger = Ledger(self.data)
        self.ids = [
            ledger.add("expense", "12.50", category="Food", tags=["work"], note="lunch").id,
            ledger.add("income", "2500", category="Salary", date="2026-01-01").id,
            ledger.add("expense", "1500", category="家族", currency="JPY").id,
        ]
        self.backups = [ledger.create_backup().name]
        files = self.root / "files"
        files.mkdir()
        for path in bank_files()[:12]:
            shutil.copy(path, files / path.name)
        (files / "garbage.csv").write_bytes(os.urandom(300))
        (files / "empty.csv").write_bytes(b"")
        (files / "folder").mkdir()
        self.inputs = [str(p) for p in sorted(files.iterdir())] + [str(files / "missing.ofx")]
        out = self.root / "out"
        out.mkdir()
        self.outputs = [str(out / n) for n in ("a.csv", "b.json", "c.xlsx", "d.txt", "no/such/dir.csv")] + [str(out)]


@pytest.fixture(scope="module")
def ws() -> Iterator[Workspace]:
    ws = Workspace()
    yield ws
    record_figures("fuzz_cli", {**FIGURES, "subcommands": len(LEAVES)})


hostile = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            *["", " ", "-", "--", "-1", "0", "1e999", "NaN", "∞", "１２", "=cmd|' /C calc'!A0", "'; DROP TABLE"],
            *["\u202e", "a" * 300, "2026-02-30", "9999-99-99", "%n%n%n", "{}", "[]", "\\", "..", "../../etc/passwd"],
        ]
    ),
)


def value_for(name: str, ws: Workspace, choices: Any) -> Any:
    """A strategy for the value of option or positional ``name``."""
    name = name.lstrip("-").replace("-", "_")
    if choices:
        return st.one_of(st.sampled_from(list(choices)), hostile)
    pools: dict[str, Any] = {
        "amount": st.sampled_from(["12.50", "1,234.56", "0.01", "1500", "0", "-5", "12.345", "1e3", "NaN", "9" * 30]),
        "min_amount": st.sampled_from(["0", "10", "-1", "abc", "1e-9", "99999999999999999999"]),
        "max_amount": st.sampled_from(["0", "100", "x", "99999999999", "-99999999999999999999"]),
        "date": st.sampled_from(["2026-01-05", "2026-13-01", "yesterday", "1899-12-31", "2200-01-01"]),
        "start": st.sampled_from(["2026-01-01", "2026-12-31", "bad"]),
        "end": st.sampled_from(["2026-01-31", "2025-01-01", "31/12/2026"]),
        "id": st.sampled_from([*ws.ids, "0" * 16, "nope"]),
        "name": st.sampled_from([*ws.backups, "ledger-20000101T000000000000Z-x.json", "../ledger.json", "chase"]),
        "file": st.sampled_from(ws.inputs),
        "output": st.sampled_from(ws.outputs),
        "currency": st.sampled_from(["EUR", "usd", "JPY", "XXX", "€", ""]),
        "number": st.sampled_from(["1", "0", "-1", "99", "x"]),
        "color": st.sampled_from(["#2e7d5b", "red", "#zzzzzz", ""]),
        "encoding": st.sampled_from(["utf-8", "latin-1", "cp1252", "no-such-codec", "utf-16"]),
        "delimiter": st.sampled_from([",", ";", "tab", "|", "", "ab"]),
        "date_format": st.sampled_from(["%d.%m.%Y", "%m/%d/%Y", "%Q", "plain"]),
        "decimal": st.sampled_from([".", ","]),
        "category": st.sampled_from(["Food", "Café ☕", "家族", "سفر", " ", "x" * 61]),
        "tags": st.sampled_from(["work", "#fun", "two words", "家"]),
        "text": st.sampled_from(["coffee 4.50 yesterday #work", "+2500 salary", "nothing here", "4 5"]),
    }
    return st.one_of(pools.get(name, hostile), hostile) if name in pools else hostile


@st.composite
def argvs(draw: Any, ws: Workspace) -> list[str]:
    path, parser = draw(st.sampled_from(LEAVES))
    argv = list(path)
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            if draw(st.integers(0, 60)) == 0:
                argv.append("--help")
            continue
        if not action.option_strings:  # a positional
            count = {"+": draw(st.integers(1, 3)), "?": draw(st.integers(0, 1))}.get(str(action.nargs), 1)
            argv += [draw(value_for(action.dest, ws, action.choices)) for _ in range(count)]
            continue
        if draw(st.integers(0, 3)) != 0:  # each option is given a quarter of the time
            continue
        flag = draw(st.sampled_from(action.option_strings))
        if action.nargs == 0:
            argv.append(flag)
        else:
            argv += [flag, draw(value_for(action.dest, ws, action.choices))]
    mutation = draw(st.integers(0, 9))
    if mutation == 0 and argv:
        del argv[draw(st.integers(0, len(argv) - 1))]
    elif mutation == 1 and argv:
        i = draw(st.integers(0, len(argv) - 1))
        argv.insert(i, argv[i])
    elif mutation == 2 and len(argv) > 1:
        i = draw(st.integers(0, len(argv) - 2))
        argv[i], argv[i + 1] = argv[i + 1], argv[i]
    elif mutation == 3:
        argv.insert(draw(st.integers(0, len(argv))), draw(hostile))
    if not argv or argv[0] in ("serve", "--data-dir") or any(a.startswith("--data-dir") for a in argv):
        argv = ["list", *argv[1:]]
    return argv


def ledger_bytes(data: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(data)): p.read_bytes()
        for p in sorted(data.rglob("*"))
        if p.is_file() and p.name != "ledger.lock"
    }


def only_recurring_posts(data: Path, before: dict[str, bytes]) -> bool:
    """Whether the journal only grew by automatic recurring posts (the one change a refused command may make)."""
    old = before.get("ledger.journal", b"")
    new = (data / "ledger.journal").read_bytes() if (data / "ledger.journal").exists() else b""
    if not new.startswith(old) or ledger_bytes(data).get("ledger.json") != before.get("ledger.json"):
        return False
    added = [json.loads(line) for line in new[len(old) :].splitlines() if line.strip()]
    return all(str(e.get("label", "")).startswith("recurring: post") for e in added)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_argument_lists_exit_0_or_2_with_one_line_never_a_traceback(ws: Workspace, data: Any) -> None:
    argv = data.draw(argvs(ws))
    before = ledger_bytes(ws.data)
    cwd = os.getcwd()
    os.chdir(ws.root)  # a relative path in the arguments stays inside the test folder
    try:
        result = run_cli(["--data-dir", str(ws.data), *argv])
    finally:
        os.chdir(cwd)
    FIGURES["in_process_runs"] += 1
    assert_clean_outcome(result)
    FIGURES[f"exit_{result.code}"] += 1
    if result.code == 2:
        assert result.err.startswith("expense-tracker"), result.show()
        after = ledger_bytes(ws.data)
        assert after == before or only_recurring_posts(ws.data, before), f"a refused command wrote: {result.show()}"
    assert Ledger(ws.data).transactions() is not None  # the data still loads


@pytest.mark.parametrize(
    ("argv", "escape"),
    [
        (["delete", "delete", "\n"], "\\n"),  # drawn once by the test above: the newline came out raw
        (["list", "--from", "2026-01-01", "x\ry"], "x\\ry"),
        (["delete", "ab", "c\x85d"], "c\\x85d"),
        (["delete", "a\u2028b"], "a\\u2028b"),
        (["import", "missing\nfile.csv"], "missing\\nfile.csv"),
        (["backups", "restore", "no\nsuch"], "no\\nsuch"),
        (["category", "rename", "Food", "Fo\nod"], "Fo\\nod"),
    ],
    ids=["newline", "carriage-return", "next-line", "line-separator", "file-name", "backup-name", "category"],
)
def test_an_argument_with_a_line_break_is_shown_escaped_on_one_line(
    ws: Workspace, argv: list[str], escape: str
) -> None:
    cwd = os.getcwd()
    os.chdir(ws.root)
    try:
        result = run_cli(["--data-dir", str(ws.data), *argv])
    finally:
        os.chdir(cwd)
    assert_clean_outcome(result)
    assert result.code == 2, result.show()
    assert len(result.err.splitlines()) == 1, result.show()
    assert result.err.startswith("expense-tracker"), result.show()
    assert escape in result.err, result.show()


def test_make_test_draws_the_same_examples_every_run() -> None:
    """The profile of tests/conftest.py: derandomized, no example database, unless EXPENSE_TRACKER_THOROUGH=1."""
    assert settings.default.derandomize is not THOROUGH
    if not THOROUGH:
        assert settings.default.database is None
        assert settings.default.deadline is None


def test_nonsense_in_real_processes_exits_2_with_one_line(ws: Workspace, tmp_path: Path) -> None:
    from reliability_helpers import CliResult

    cases = [
        ["add", "expense", "NaN", "--category", "x"],
        ["add", "expense", "12.50", "--category", "\x07bell"],
        ["list", "--from", "2026-13-01"],
        ["import", str(tmp_path / "missing.csv")],
        ["backups", "restore", "../../etc/passwd"],
        ["frobnicate", "--now"],
    ]
    before = ledger_bytes(ws.data)
    prefix = [sys.executable, "-m", "tracker.cli", "--data-dir", str(ws.data)]
    env = {**os.environ, "EXPENSE_TRACKER_LOG_DIR": str(tmp_path / "logs")}
    procs = [
        subprocess.Popen([*prefix, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for argv in cases
    ]
    for argv, proc in zip(cases, procs, strict=True):
        out, err = proc.communicate(timeout=180)
        result = CliResult(argv, proc.returncode, out, err)
        assert_clean_outcome(result)
        assert result.code == 2, result.show()
        FIGURES["real_processes"] += 1
    assert ledger_bytes(ws.data) == before
