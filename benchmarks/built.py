"""The ways the benchmarks build a ledger of N generated rows, as people get there (issue 14).

* ``snapshot``: :func:`benchmarks.generate.write_ledger`, one columnar snapshot written directly (the
  fastest way, and how the benchmarks of issue 8 were measured);
* ``import``: one CSV file of all N rows (the layout ``expense-tracker export`` writes, which the CSV
  importer detects) imported by ``expense-tracker import`` as a whole process: one big change, with
  its undo entry, as someone bringing ten years from their bank or their old app;
* ``commits``: the rows added in date order, 1 to :data:`MAX_ROWS_PER_COMMIT` (seeded, about 5 on average)
  per ``Ledger.add_many``, so the journal grows and folds (``tracker.storage.engine.COMPACT_AFTER_ENTRIES``) and the undo history
  grows as in years of daily use.

Every way holds the same transactions (same dates, amounts, categories, tags, notes and currencies;
the import gives new ids and times). Built folders are cached under ``CACHE`` in the work folder,
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

from benchmarks.generate import DEFAULT_SEED, END, generate, write_ledger
from tracker.model import Transaction
from tracker.money import format_plain

WAYS = ("snapshot", "import", "commits")
"""What ``--built`` takes."""
MAX_ROWS_PER_COMMIT = 9
"""Rows per commit of the ``commits`` way: 1 to this many (a few a day, as a person enters them)."""
BUILD_VERSION = 3
"""Part of the cache key: raise it when a way builds differently."""
CACHE = "bench-cache"
"""The folder under ``--workdir`` that keeps the built ledgers."""
CSV_COLUMNS = ("id", "date", "type", "amount", "currency", "category", "tags", "note", "external_id")
"""The header of the CSV file (``expense-tracker export``'s own layout, without its times)."""

ROOT = Path(__file__).resolve().parents[1]


def csv_row(tx: Transaction) -> list[str]:
    """One transaction as a row of :data:`CSV_COLUMNS`."""
    return [
        tx.id,
        tx.date.isoformat(),
        tx.type,
        format_plain(tx.amount_minor, tx.currency),
        tx.currency,
        tx.category,
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


def build_import(data_dir: Path, n: int, seed: int) -> dict[str, Any]:
    """``expense-tracker import FILE`` of one CSV file of the N rows, as a whole process."""
    source = write_csv(data_dir.parent / "import.csv", generate(n, seed))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    argv = ["--data-dir", str(data_dir), "import", str(source), "--include-duplicates", "--format", "json"]
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tracker.cli", *argv], capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"expense-tracker import failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    if result["added"] != n:
        raise RuntimeError(f"expense-tracker import added {result['added']} of {n} rows: {proc.stdout[-2000:]}")
    return {"import_process_s": round(seconds, 3), "csv_bytes": source.stat().st_size, "layout": result.get("detected")}


def build_commits(data_dir: Path, n: int, seed: int) -> dict[str, Any]:
    """The N rows in date order, :data:`ROWS_PER_COMMIT` per ``Ledger.add_many`` (journal, folds, undo)."""
    from tracker.ledger import Ledger

    rows = sorted(generate(n, seed), key=lambda t: (t.date, t.created_at, t.id))
    rng = random.Random(seed)
    led = Ledger(data_dir)
    start = commits = last = 0
    while start < len(rows):
        last = len(chunk := rows[start : start + rng.randint(1, MAX_ROWS_PER_COMMIT)])
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
