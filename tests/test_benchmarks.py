"""The benchmarks keep working: the generator's ledger, and one run of ``python -m benchmarks`` at a small N.

No time is asserted here (the figures depend on the machine): only that every figure is measured,
positive and written as well-formed JSON, and that the generated ledger is what the README says.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from benchmarks import built, generate, peers
from benchmarks.runner import GROUP_FIGURES, MEASURES, MONTH, TARGETS, Context, keyed, measure_fold, table, verdicts
from tracker.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
SMALL_N = 300


def run_benchmarks(tmp_path: Path, *args: str, timeout: float = 600) -> tuple[dict[str, Any], str]:
    """``python -m benchmarks --n 300 --repeats 1 ARGS`` as a real process; returns (report, stdout)."""
    report = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--n",
            str(SMALL_N),
            "--repeats",
            "1",
            "--quiet",
            "--json",
            str(report),
            "--workdir",
            str(tmp_path),
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(report.read_text(encoding="utf-8")), proc.stdout


def assert_measured(result: dict[str, Any], name: str) -> None:
    assert "median" in result, f"{name} was not measured: {result}"
    assert result["samples"], name
    assert all(isinstance(s, float) and math.isfinite(s) and s > 0 for s in result["samples"]), (name, result)
    assert result["min"] <= result["median"] <= result["max"], (name, result)
    assert result["unit"] in ("s", "ms", "MB"), name


# -- the generator ----------------------------------------------------------------------------------


def test_generate_is_deterministic_and_seeded() -> None:
    first = generate.generate(500, seed=7)
    assert first == generate.generate(500, seed=7)
    assert first != generate.generate(500, seed=8)
    assert len(first) == 500
    assert len({t.id for t in first}) == 500


def test_generated_ledger_looks_like_ten_years_of_a_household() -> None:
    txs = generate.generate(5000)
    assert min(t.date for t in txs) >= generate.START
    assert max(t.date for t in txs) <= generate.END
    assert (generate.END - generate.START).days >= 3650
    salaries = [t for t in txs if t.category == "Salary"]
    months = {(t.date.year, t.date.month) for t in salaries}
    assert len(salaries) == len(months) == 120, "one salary a month for ten years"
    assert all(t.type == "income" and t.date.day == 25 for t in salaries)
    expenses = collections.Counter(ln.category for t in txs if t.type == "expense" for ln in t.lines)
    assert len(expenses) == len(generate.EXPENSE_CATEGORIES) == 30
    split = [t for t in txs if t.splits]
    assert 0.07 < len(split) / sum(1 for t in txs if t.type == "expense") < 0.13, "about 10 % of expenses split"
    assert all(sum(ln.amount_minor for ln in t.splits) == t.amount_minor for t in split)
    assert {len(t.splits) for t in split} == {2, 3}
    ranked = [count for _, count in expenses.most_common()]
    assert ranked[0] > 10 * ranked[-1], "the categories are skewed (Zipf-like)"
    currencies = collections.Counter(t.currency for t in txs)
    assert currencies.most_common(1)[0][0] == generate.CURRENCY
    assert currencies["EUR"] > 0
    assert currencies["GBP"] > 0
    assert currencies["EUR"] + currencies["GBP"] < 0.05 * len(txs)
    assert any(t.original_currency == generate.CURRENCY for t in txs)
    assert {(b, q) for _, b, q, _ in generate.daily_rates()} == {("EUR", "USD"), ("EUR", "GBP")}
    assert 0.2 < sum(1 for t in txs if t.tags) / len(txs) < 0.7
    assert 0.4 < sum(1 for t in txs if t.note) / len(txs) < 0.9
    assert any(t.external_id for t in txs)
    assert any(not t.external_id for t in txs)


def test_write_ledger_stores_one_loadable_snapshot(tmp_path: Path) -> None:
    folder = generate.write_ledger(tmp_path / "data", 400, seed=3)
    assert sorted(p.name for p in folder.iterdir() if p.name != "ledger.lock") == ["ledger.json"]
    led = Ledger(folder)
    frame = led.frame()
    assert len(frame) == 400
    assert sorted(frame["id"]) == sorted(t.id for t in generate.generate(400, seed=3))
    assert led.default_currency == generate.CURRENCY
    with pytest.raises(FileExistsError):
        generate.write_ledger(folder, 10)


# -- the report -------------------------------------------------------------------------------------


def fake_report(values: dict[str, float]) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {"1000": {}, "10000": {}, "100000": {}}
    for key, value in values.items():
        name, size = key.split("@")
        results[size][name] = {"median": value, "min": value, "max": value, "samples": [value], "unit": "s"}
    return {"results": results}


def test_verdicts_compare_each_target_at_its_size() -> None:
    report = fake_report(
        {"cold_load_s@100000": 0.5, "add_ms@1000": 2.0, "add_ms@100000": 3.0, "window_rendered_s@10000": 3.0}
    )
    checks = verdicts(report)
    assert checks["cold_load_s"]["met"] is False
    assert checks["add_ms"]["met"] is True
    assert checks["add_ms_growth"]["value"] == pytest.approx(1.5)
    assert checks["add_ms_growth"]["met"] is True
    assert checks["window_rendered_s"]["met"] is True
    assert checks["dashboard_ms"]["met"] is None
    report["targets"] = checks
    text = table(report)
    assert "MISSED" in text
    assert "cold_load_s" in text


# -- one run of the benchmarks -----------------------------------------------------------------------


def test_benchmarks_run_once_at_a_small_size(tmp_path: Path) -> None:
    report, stdout = run_benchmarks(tmp_path, "--skip", "window,server,fold,peers", "--built", "snapshot")
    assert report["machine"]["nproc"] >= 1
    assert report["machine"]["python"]
    assert report["data"][str(SMALL_N)]["snapshot_bytes"] > 0
    results = report["results"][str(SMALL_N)]
    assert set(results) >= set(MEASURES)
    measured = [name for group in ("load", "writes", "dashboard", "apptest", "cli") for name in GROUP_FIGURES[group]]
    for name in measured:
        assert_measured(results[name], name)
    for name in GROUP_FIGURES["window"] + GROUP_FIGURES["server"] + GROUP_FIGURES["fold"]:
        assert results[name]["status"] == "skipped"
    assert results["apptest_dashboard_s"]["titles"] == ["Dashboard"]
    assert results["cli_list_month_s"]["rows"] >= 0
    assert set(report["targets"]) >= set(TARGETS)
    assert "cold_load_s" in stdout
    assert f"N={SMALL_N}" in stdout
    # the CLI's list path must stay light: no plotting, UI or spreadsheet library
    heavy = results["cli_list_month_s"]["heavy_modules_imported"]
    assert not {"plotly", "matplotlib", "streamlit", "openpyxl"} & set(heavy), heavy
    # no generated folder is left behind
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("et-bench-")]


def test_every_way_is_measured_side_by_side(tmp_path: Path) -> None:
    report, stdout = run_benchmarks(tmp_path, "--only", "load,cli,peers", "--built", "import,commits,snapshot")
    assert report["built"] == ["import", "commits", "snapshot"]
    results = report["results"][str(SMALL_N)]
    for way in built.WAYS:
        stored = report["data"][str(SMALL_N)]["built"][way]["bytes"]
        assert stored.get("ledger.json", 0) + stored.get("ledger.journal", 0) > 0
        assert results[keyed("stored_mb", way)]["files"] == {
            name: size for name, size in stored.items() if name in ("ledger.json", "ledger.journal")
        }
        for name in GROUP_FIGURES["load"] + GROUP_FIGURES["cli"]:
            assert_measured(results[keyed(name, way)], keyed(name, way))
            assert keyed(name, way) in stdout
        assert results[keyed("cli_list_month_s", way)]["rows"] == results["cli_list_month_s"]["rows"] > 0
        for query in peers.QUERY_NAMES:
            assert_measured(results[keyed(f"{query}_s", way)], query)
        assert keyed("cold_load_s", way) in report["targets"]
    for query in peers.QUERY_NAMES:
        for peer in peers.PEERS:
            them = results[f"{query}_{peer}_s"]
            ratio = results[f"{query}_vs_{peer}"]
            if shutil.which(peer):
                assert_measured(them, peer)
                assert ratio["median"] == pytest.approx(results[f"{query}_s"]["median"] / them["median"])
            else:
                assert them["status"] == ratio["status"] == "skipped"
                assert "apt-get install" in them["reason"]
    # the built ledgers are cached in the work folder: a second run reuses them
    again, _ = run_benchmarks(tmp_path, "--only", "load", "--built", "commits")
    assert again["data"][str(SMALL_N)]["built"]["commits"]["cached"] is True
    assert "cold_load_s:commits" in again["results"][str(SMALL_N)]


def test_peers_not_installed_are_skipped_with_the_apt_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peers.shutil, "which", lambda name: None)
    folder = generate.write_ledger(tmp_path / "data", SMALL_N)
    journal = peers.write_journal(tmp_path / "peers.journal", generate.generate(SMALL_N))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    results = peers.measure({"snapshot": folder}, journal, MONTH, 1, env, ROOT, keyed)
    for query in peers.QUERY_NAMES:
        assert_measured(results[f"{query}_s"], query)
        for peer in peers.PEERS:
            for name in (f"{query}_{peer}_s", f"{query}_vs_{peer}"):
                assert results[name]["status"] == "skipped"
                assert f"{peer} is not installed" in results[name]["reason"]
                assert peers.APT_LINE in results[name]["reason"]


def comparable(folder: Path) -> list[tuple[Any, ...]]:
    """What the ways must agree on, one tuple per transaction, sorted (the signed amount, not the type: the
    import way's transfers are the income and the expense they are in each account's file; a split row is
    compared by its first line's category: the import way's bank files have it whole)."""
    frame = Ledger(folder).frame()
    frame = frame.assign(
        category=[s[0].category if s else c for s, c in zip(frame["splits"], frame["category"], strict=True)]
    )
    columns = ["date", "account", "signed_minor", "currency", "category", "tags", "note"]
    return sorted(zip(*(frame[c].tolist() for c in columns), strict=True))


def split_lines(folder: Path) -> list[Any]:
    return sorted(
        (str(d), s) for d, s in zip(Ledger(folder).frame()["date"], Ledger(folder).frame()["splits"], strict=True) if s
    )


def test_import_and_commits_build_the_snapshots_transactions(tmp_path: Path) -> None:
    snapshot, _ = built.build("snapshot", SMALL_N, tmp_path)
    expected = comparable(snapshot)
    assert len(expected) == SMALL_N
    imported, info = built.build("import", SMALL_N, tmp_path)
    assert info["layout"]["layout"] == "expense-tracker"
    assert comparable(imported) == expected
    committed, info = built.build("commits", SMALL_N, tmp_path)
    assert SMALL_N / built.MAX_ROWS_PER_COMMIT <= info["commits"] <= SMALL_N / 2
    assert comparable(committed) == expected
    assert split_lines(committed) == split_lines(snapshot) != []  # the lines too, where they were entered
    # the commits went through the journal (each one undoable), not one snapshot
    led = Ledger(committed)
    assert sorted(Ledger(committed).frame()["id"]) == sorted(Ledger(snapshot).frame()["id"])
    led.undo()
    assert len(led.frame()) == SMALL_N - info["last_commit_rows"]


def test_commits_fold_the_journal_as_in_real_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.storage import engine

    monkeypatch.setattr(engine, "COMPACT_AFTER_ENTRIES", 7)
    folder, _ = built.build("commits", 100, tmp_path)
    journal = folder / "ledger.journal"
    assert journal.read_bytes().count(b"\n") < 7, "the journal was folded every 7 commits"
    assert len(Ledger(folder).frame()) == 100


def ledger_cli(journal: Path, *args: str) -> str:
    return subprocess.run(["ledger", "-f", str(journal), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("ledger") is None, reason="ledger-cli is not installed (apt-get install ledger)")
def test_the_journal_gives_ledger_cli_our_totals(tmp_path: Path) -> None:
    rows = generate.generate(SMALL_N)
    journal = peers.write_journal(tmp_path / "peers.journal", rows)
    folder = generate.write_ledger(tmp_path / "data", SMALL_N)
    cli = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "--data-dir", str(folder), "summary", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    summary = json.loads(cli.stdout)
    for currency in ("USD", "EUR"):
        fmt = "%(account)|%(quantity(display_total))\n"
        out = ledger_cli(
            journal,
            "balance",
            "--flat",
            "--no-total",
            "--balance-format",
            fmt,
            "-l",
            f'commodity == "{currency}"',
            "^Expenses",
        )
        theirs = {}
        for line in out.splitlines():
            account, amount = line.split("|")
            theirs[account.removeprefix("Expenses:")] = Decimal(amount)
        block = summary["by_currency"][currency]  # the top level converts every currency into USD
        assert theirs == {category: Decimal(total) for category, total in block["by_category"].items()}
        assert sum(theirs.values()) == Decimal(block["expense"])
    # one month's register: ledger lists the rows our list shows
    end = (MONTH[1] + dt.timedelta(days=1)).isoformat()
    register = ledger_cli(
        journal, "register", "^Expenses", "^Income", "-b", MONTH[0].isoformat(), "-e", end, "--format", "%(date)\n"
    ).split()
    listed = [t for t in rows if MONTH[0] <= t.date <= MONTH[1]]
    assert len(register) == len(listed) > 0


def test_fold_commit_is_measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process with a short journal (the real run makes 1,000 commits before the fold)."""
    from tracker.storage import engine as ledger_module

    monkeypatch.setattr(ledger_module, "COMPACT_AFTER_ENTRIES", 12)
    folder = generate.write_ledger(tmp_path / "data", SMALL_N)
    ctx = Context(n=SMALL_N, data_dir=folder, work=tmp_path, repeats=1, log=lambda _line: None)
    result = measure_fold(ctx)["fold_commit_s"]
    assert_measured(result, "fold_commit_s")
    assert len(Ledger(tmp_path / "fold").frame()) == SMALL_N + 12
    assert (tmp_path / "fold" / "ledger.journal").stat().st_size == 0


@pytest.mark.browser
def test_server_peak_rss_is_measured_with_a_real_browser(tmp_path: Path) -> None:
    report, _ = run_benchmarks(tmp_path, "--only", "server")
    results = report["results"][str(SMALL_N)]
    for name in GROUP_FIGURES["server"]:
        assert_measured(results[name], name)
    assert results["browser_render_s"]["charts"][0] >= 4


@pytest.mark.gui
def test_window_figure_is_measured_under_xvfb(tmp_path: Path) -> None:
    report, _ = run_benchmarks(tmp_path, "--only", "window", "--window-at", str(SMALL_N))
    for name in ("window_rendered_s", "window_first_launch_s"):  # a relaunch and a first launch
        result = report["results"][str(SMALL_N)][name]
        assert_measured(result, name)
        assert result["launcher_reported_s"][0] > 0
        assert result["launcher_reported_s"][0] <= result["median"] + 0.5
    assert "relaunch" in report["results"][str(SMALL_N)]["window_rendered_s"]["where"]


def test_the_generated_ledger_has_six_accounts_and_five_percent_transfers() -> None:
    from benchmarks.generate import ACCOUNTS_DECLARED, generate

    txs = generate(4000)
    currency_of = {a.name: a.currency for a in ACCOUNTS_DECLARED}
    assert {t.account for t in txs} == set(currency_of)
    assert all(t.currency == currency_of[t.account] for t in txs)  # every account's rows in its currency
    sides = [t for t in txs if t.type == "transfer"]
    assert 0.035 <= len(sides) / len(txs) <= 0.065
    by_id = {t.id: t for t in txs}
    assert all(by_id[t.link].link == t.id and by_id[t.link].account != t.account for t in sides)
