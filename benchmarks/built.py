"""The ways the benchmarks build a ledger of N generated rows, as people get there (issue 14).

* ``snapshot``: :func:`benchmarks.generate.write_ledger`, one columnar snapshot written directly (the
  fastest way, and how the benchmarks of issue 8 were measured);
* ``import``: one CSV file per account of all its rows (the layout ``expense-tracker export`` writes,
  which the CSV importer detects) imported by ``expense-tracker import --account NAME`` as a whole
  process each: one big change per account, with its undo entry, as someone bringing ten years from
  their bank or their old app (``--no-transfers``: a transfer's two sides stay an expense and an income);
* ``commits``: the accounts declared, then the rows added in date order, 1 to :data:`MAX_ROWS_PER_COMMIT`
  (seeded, about 5 on average) per ``Ledger.add_many`` (a transfer's two sides always in one commit), so the
  journal grows and folds (``tracker.storage.engine.COMPACT_AFTER_ENTRIES``) and the undo history grows as in
  years of daily use.

Every way holds the same transactions in the same accounts (same dates, amounts, categories, tags, notes
and currencies; the import gives new ids and times, its transfers are incomes and expenses and its split rows
whole, as a bank's file has them) and the same exchange rates. Built folders are cached under ``CACHE`` in the work folder,
keyed by (way, n, seed, the generator's last day), so repeated runs with the same ``--workdir`` reuse
them; the measurements never change them (the ones that write work on copies).
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.generate import ACCOUNTS_DECLARED, DEFAULT_SEED, END, generate, write_ledger, write_rates_csv
from tracker.model import Transaction
from tracker.money import format_plain

WAYS = ("snapshot", "import", "commits")
"""What ``--built`` takes."""
MAX_ROWS_PER_COMMIT = 9
"""Rows per commit of the ``commits`` way: 1 to this many (a few a day, as a person enters them)."""
BUILD_VERSION = 6
"""Part of the cache key: raise it when a way builds differently."""
CACHE = "bench-cache"
"""The folder under ``--workdir`` that keeps the built ledgers."""
CSV_COLUMNS = ("id", "date", "type", "amount", "currency", "category", "tags", "note", "external_id")
"""The header of the CSV file (``expense-tracker export``'s own layout, without its times)."""

ROOT = Path(__file__).resolve().parents[1]


def csv_row(tx: Transaction) -> list[str]:
    """One transaction as a row of :data:`CSV_COLUMNS` (a transfer's side as the income or expense it is; a split
    one whole, in its first line's category: a bank's file has no splits, a person splits rows later)."""
    kind = tx.type if tx.type != "transfer" else "income" if tx.direction == "in" else "expense"
    return [
        tx.id,
        tx.date.isoformat(),
        kind,
        format_plain(tx.amount_minor, tx.currency),
        tx.currency,
        tx.splits[0].category if tx.splits else tx.category,
        ";".join(tx.tags),
        tx.note,
        tx.external_id or "",
    ]


def write_csv(path: Path, transactions: list[Transaction]) -> Path:
    """All ``transactions`` (by date) as one CSV file our importer detects."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_row(tx) for tx in sorted(transactions, key=lambda t: (t.date, t.id)))
    return path


def declare_accounts(data_dir: Path) -> None:
    """The generated ledger's accounts, declared one by one as a person would (one commit each), and its
    exchange rates imported from one file (``rates import``)."""
    from tracker.accounts import add_account
    from tracker.ledger import Ledger
    from tracker.rates import import_rates

    led = Ledger(data_dir)
    for a in ACCOUNTS_DECLARED:
        opening = format_plain(a.opening_minor, a.currency) if a.opening_minor else None
        add_account(led, a.name, kind=a.kind, currency=a.currency, opening=opening, opening_date=a.opening_date)
    import_rates(led, write_rates_csv(data_dir.parent / "rates.csv"))


def build_import(data_dir: Path, n: int, seed: int) -> dict[str, Any]:
    """``expense-tracker import FILE --account NAME`` of one CSV file per account, each a whole process."""
    declare_accounts(data_dir)
    rows = generate(n, seed)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    seconds, sizes, added, layout = [], 0, 0, None
    for account in ACCOUNTS_DECLARED:
        mine = [tx for tx in rows if tx.account == account.name]
        source = write_csv(data_dir.parent / f"import-{account.name}.csv", mine)
        sizes += source.stat().st_size
        argv = ["--data-dir", str(data_dir), "import", str(source), "--account", account.name]
        argv += ["--include-duplicates", "--no-transfers", "--format", "json"]
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "tracker.cli", *argv],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=3600,
        )
        seconds.append(round(time.perf_counter() - t0, 3))
        if proc.returncode != 0:
            raise RuntimeError(f"expense-tracker import failed ({proc.returncode}): {proc.stderr[-2000:]}")
        result = json.loads(proc.stdout)
        if result["added"] != len(mine):
            raise RuntimeError(f"import added {result['added']} of {len(mine)} rows: {proc.stdout[-2000:]}")
        added += result["added"]
        layout = layout or result.get("detected")
    if added != n:
        raise RuntimeError(f"the imports added {added} of {n} rows")
    return {"import_process_s": seconds, "csv_bytes": sizes, "layout": layout}


def build_commits(data_dir: Path, n: int, seed: int) -> dict[str, Any]:
    """The N rows in date order, :data:`ROWS_PER_COMMIT` per ``Ledger.add_many`` (journal, folds, undo)."""
    from tracker.ledger import Ledger

    declare_accounts(data_dir)
    rows = sorted(generate(n, seed), key=lambda t: (t.date, t.created_at, t.direction != "out", t.id))
    rng = random.Random(seed)
    led = Ledger(data_dir)
    start = commits = last = 0
    while start < len(rows):
        end = start + rng.randint(1, MAX_ROWS_PER_COMMIT)
        if end < len(rows) and rows[end - 1].link and rows[end].id == rows[end - 1].link:
            end += 1  # never one side of a transfer without the other
        last = len(chunk := rows[start:end])
        led.add_many(chunk, label="add")
        start += last
        commits += 1
    return {"commits": commits, "last_commit_rows": last}


def build_snapshot(data_dir: Path, n: int, seed: int) -> dict[str, Any]:
    """Today's way: one snapshot written directly."""
    write_ledger(data_dir, n, seed)
    return {}


BUILDERS: dict[str, Callable[[Path, int, int], dict[str, Any]]] = {
    "snapshot": build_snapshot,
    "import": build_import,
    "commits": build_commits,
}


def folder_bytes(data_dir: Path) -> dict[str, int]:
    """The size of each file the ledger keeps (backups summed)."""
    sizes: dict[str, int] = {}
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            key = path.name if path.parent == data_dir else path.relative_to(data_dir).parts[0]
            sizes[key] = sizes.get(key, 0) + path.stat().st_size
    return sizes


def build(way: str, n: int, root: Path, seed: int = DEFAULT_SEED) -> tuple[Path, dict[str, Any]]:
    """The data folder of ``n`` rows built ``way``, under ``root/CACHE``: reused when already built.

    Returns (the data folder, what the build cost and left: ``build_s``, ``cached``, the bytes per file).
    """
    if way not in BUILDERS:
        raise ValueError(f"unknown way {way!r}; choose from {', '.join(WAYS)}")
    home = root / CACHE / f"{way}-n{n}-seed{seed}-end{END.isoformat()}-v{BUILD_VERSION}"
    data_dir = home / "data"
    info_file = home / "built.json"
    if info_file.exists():
        info = json.loads(info_file.read_text(encoding="utf-8"))
        return data_dir, {**info, "cached": True, "bytes": folder_bytes(data_dir)}
    shutil.rmtree(home, ignore_errors=True)  # a build that did not finish
    home.mkdir(parents=True)
    t0 = time.perf_counter()
    info = BUILDERS[way](data_dir, n, seed)
    info["build_s"] = round(time.perf_counter() - t0, 3)
    info_file.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return data_dir, {**info, "cached": False, "bytes": folder_bytes(data_dir)}
