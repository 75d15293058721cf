"""Side by side with ledger-cli and hledger on the same generated rows (issue 14).

The rows of :func:`benchmarks.generate.generate` are written as a ledger journal (:func:`write_journal`):
one transaction per row, ``Expenses:<category>`` or ``Income:<category>`` against ``Assets:Cash``,
the amount with its currency code as the commodity, the note as the payee. Each query runs as a whole
process, the programs alternating (us on every built ledger, ledger, hledger, then again), and the
figure is the median of ``--repeats`` samples; the ratios are us / them (below 1: we are faster).

Queries (:data:`QUERIES`): totals by category over all time, one month's register, one month's totals.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tracker.model import Transaction
from tracker.money import format_plain

PEERS = ("ledger", "hledger")
APT_LINE = "apt-get update && apt-get install -y ledger hledger"


def journal_entry(tx: Transaction) -> str:
    """One transaction as ledger-cli journal text (hledger reads the same): a split one posts each line."""
    kind = "Expenses" if tx.type == "expense" else "Income"
    sign = "" if tx.type == "expense" else "-"
    postings = "".join(
        f"    {kind}:{line.category}  {sign}{format_plain(line.amount_minor, tx.currency)} {tx.currency}\n"
        for line in tx.lines
    )
    payee = " ".join((tx.note or tx.category).split()).replace(";", ",")
    return f"{tx.date:%Y/%m/%d} {payee}\n{postings}    Assets:Cash\n\n"


def write_journal(path: Path, transactions: Sequence[Transaction]) -> Path:
    """The rows (by date) as one journal file."""
    ordered = sorted(transactions, key=lambda t: (t.date, t.created_at, t.id))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(journal_entry(tx) for tx in ordered), encoding="utf-8")
    return path


def queries(month: tuple[Any, Any]) -> dict[str, dict[str, list[str]]]:
    """Each query's arguments for us (after ``--data-dir D``), ledger and hledger (after ``-f F``)."""
    first, last = month[0].isoformat(), month[1].isoformat()
    after = month[1].toordinal() + 1
    end = type(month[1]).fromordinal(after).isoformat()  # ledger's and hledger's -e is exclusive
    return {
        "peer_totals_all": {
            "us": ["summary", "--format", "json"],
            "ledger": ["balance", "^Expenses"],
            "hledger": ["balance", "expenses"],
        },
        "peer_register_month": {
            "us": ["list", "--from", first, "--to", last, "--format", "json"],
            "ledger": ["register", "-b", first, "-e", end],
            "hledger": ["register", "-b", first, "-e", end],
        },
        "peer_totals_month": {
            "us": ["summary", "--from", first, "--to", last, "--format", "json"],
            "ledger": ["balance", "^Expenses", "-b", first, "-e", end],
            "hledger": ["balance", "expenses", "-b", first, "-e", end],
        },
    }


QUERY_NAMES = ("peer_totals_all", "peer_register_month", "peer_totals_month")


def figure_names() -> tuple[str, ...]:
    """Every figure of the group, in table order (``:WAY`` is added to ``<query>_s`` per built ledger)."""
    out: list[str] = []
    for q in QUERY_NAMES:
        out += [f"{q}_s", f"{q}_ledger_s", f"{q}_hledger_s", f"{q}_vs_ledger", f"{q}_vs_hledger"]
    return tuple(out)


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env, cwd=cwd, timeout=600)
    seconds = time.perf_counter() - t0
    empty = not proc.stdout.strip() and argv[0] == sys.executable  # a peer prints nothing for an empty month
    if proc.returncode != 0 or empty:
        raise RuntimeError(f"{' '.join(argv[:6])} ... failed ({proc.returncode}): {proc.stderr.decode()[-1000:]}")
    return seconds


def measure(
    folders: dict[str, Path],
    journal: Path,
    month: tuple[Any, Any],
    repeats: int,
    env: dict[str, str],
    cwd: Path,
    key: Any,
) -> dict[str, dict[str, Any]]:
    """Every query for us on each built folder and for each installed peer, alternating; medians and ratios.

    ``key(name, way)`` names our figure for a built way. A peer that is not installed gets a
    ``skipped`` figure that says how to install it.
    """
    from benchmarks.runner import figure, not_measured

    found = {peer: shutil.which(peer) for peer in PEERS}
    plan = queries(month)
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        for q in QUERY_NAMES:
            for way, folder in folders.items():
                argv = [sys.executable, "-m", "tracker.cli", "--data-dir", str(folder), *plan[q]["us"]]
                samples.setdefault(key(f"{q}_s", way), []).append(_timed(argv, env, cwd))
            for peer, exe in found.items():
                if exe:
                    argv = [exe, "-f", str(journal), *plan[q][peer]]
                    samples.setdefault(f"{q}_{peer}_s", []).append(_timed(argv, env, cwd))
    out: dict[str, dict[str, Any]] = {}
    for q in QUERY_NAMES:
        for way in folders:
            name = key(f"{q}_s", way)
            out[name] = figure(samples[name], "s", argv=plan[q]["us"], where="whole process")
        for peer, exe in found.items():
            name = f"{q}_{peer}_s"
            if not exe:
                out[name] = not_measured("skipped", f"{peer} is not installed ({APT_LINE})")
                continue
            out[name] = figure(samples[name], "s", argv=[peer, "-f", "JOURNAL", *plan[q][peer]])
        for peer in PEERS:
            them = out[f"{q}_{peer}_s"]
            for way in folders:
                name = key(f"{q}_vs_{peer}", way)
                if "median" not in them:
                    out[name] = not_measured("skipped", them["reason"])
                    continue
                ratio = statistics.median(out[key(f"{q}_s", way)]["samples"]) / them["median"]
                out[name] = figure([ratio], "x", where=f"our median / {peer}'s median")
    return out
