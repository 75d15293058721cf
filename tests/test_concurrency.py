"""Several processes writing one ledger at once: nothing lost, nothing duplicated, and a mixed
workload whose final state does not depend on the interleaving.

Workers are real processes (``python -c``) that open the ledger, then wait at a barrier so that
they really start together. Journal folding is made frequent (every 5 commits) so folds happen
while other processes read with cursors. Quick run: 4 workers; ``EXPENSE_TRACKER_THOROUGH=1``: 8.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tracker.ledger import Ledger
from tracker.model import make_transaction

THOROUGH = os.environ.get("EXPENSE_TRACKER_THOROUGH") == "1"
WORKERS = 8 if THOROUGH else 4
ADDS = 150 if THOROUGH else 30

PRELUDE = r"""
import json, os, random, sys, time, traceback
from pathlib import Path

import tracker.storage.engine as engine_module
from tracker.ledger import Ledger

engine_module.COMPACT_AFTER_ENTRIES = 5
data_dir, sync, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
args = json.loads(sys.argv[4])
ledger = Ledger(data_dir)
(sync / f"ready-{name}").touch()
while not (sync / "go").exists():
    time.sleep(0.001)
"""

ADDER = r"""
try:
    for i in range(args["adds"]):
        ledger.add("expense", f"{i + 1}.00", category="Load", note=f"{name}-{i}")
except BaseException:
    (sync / f"error-{name}").write_text(traceback.format_exc())
    sys.exit(3)
"""

MIXED = r"""
try:
    rng = random.Random(name)
    queues = []  # per transaction, its changes in order; the queues are then interleaved at random
    for i, tx_id in enumerate(args["owned"]):
        steps = [("edit", tx_id, {"note": f"{name}-mid-{i}"})]
        if i % 3 == 0:
            steps.append(("delete", tx_id, None))
        else:
            steps.append(("edit", tx_id, {"note": f"{name}-final-{i}", "amount": args["amounts"][i]}))
        queues.append(steps)
    queues += [[("add", None, {"note": f"{name}-new-{k}"})] for k in range(args["adds"])]
    queues += [[("count", None, None)] for _ in range(args["counts"])]
    while queues:
        queue = rng.choice(queues)
        kind, tx_id, change = queue.pop(0)
        if not queue:
            queues.remove(queue)
        if kind == "edit":
            ledger.update(tx_id, **change)
        elif kind == "delete":
            ledger.delete(tx_id)
        elif kind == "add":
            ledger.add("income", "5.00", category="New", note=change["note"])
        else:
            with ledger.locked():  # read-modify-write across processes
                ledger.refresh()
                ledger.set_meta("counter", (ledger.meta("counter") or 0) + 1)
except BaseException:
    (sync / f"error-{name}").write_text(traceback.format_exc())
    sys.exit(3)
"""

READER = r"""
try:
    refreshes, last = 0, ledger.revision
    while not (sync / "stop").exists():
        ledger.refresh()
        refreshes += 1
        assert ledger.revision >= last, (ledger.revision, last)
        last = ledger.revision
        txs = ledger.transactions()
        assert len({t.id for t in txs}) == len(txs)
    (sync / f"result-{name}").write_text(json.dumps({"refreshes": refreshes, "revision": last}))
except BaseException:
    (sync / f"error-{name}").write_text(traceback.format_exc())
    sys.exit(3)
"""


def run_workers(data_dir: Path, sync: Path, jobs: list[tuple[str, str, dict[str, object]]]) -> dict[str, float]:
    """Start every job, release them together, wait; returns timings. Fails on any worker error."""
    sync.mkdir()
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", PRELUDE + body, str(data_dir), str(sync), name, json.dumps(args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, body, args in jobs
    }
    try:
        deadline = time.monotonic() + 180
        while not all((sync / f"ready-{name}").exists() for name in procs):
            assert time.monotonic() < deadline, "workers did not start"
            for name, proc in procs.items():
                assert proc.poll() is None, f"{name} died early: {proc.communicate()[1]}"
            time.sleep(0.01)
        started = time.monotonic()
        (sync / "go").touch()
        writers = {name: proc for name, proc in procs.items() if not name.startswith("reader")}
        for name, proc in writers.items():
            _, err = proc.communicate(timeout=300)
            error = sync / f"error-{name}"
            assert proc.returncode == 0, error.read_text() if error.exists() else err
        elapsed = time.monotonic() - started
        (sync / "stop").touch()
        for name, proc in procs.items():
            if name.startswith("reader"):
                _, err = proc.communicate(timeout=120)
                error = sync / f"error-{name}"
                assert proc.returncode == 0, error.read_text() if error.exists() else err
    finally:
        for proc in procs.values():  # never leave a worker behind, whatever failed
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return {"seconds": elapsed}


def test_processes_adding_at_once_lose_nothing(tmp_path: Path, output_dir: Path) -> None:
    data_dir = tmp_path / "data"
    jobs = [(f"w{w}", ADDER, {"adds": ADDS}) for w in range(WORKERS)]
    timing = run_workers(data_dir, tmp_path / "sync", jobs)
    ledger = Ledger(data_dir)
    txs = ledger.transactions()
    notes = sorted(t.note for t in txs)
    assert notes == sorted(f"w{w}-{i}" for w in range(WORKERS) for i in range(ADDS))  # all there, no duplicates
    assert len({t.id for t in txs}) == WORKERS * ADDS
    assert ledger.revision == WORKERS * ADDS
    by_note = {t.note: t.amount_minor for t in txs}
    assert all(by_note[f"w{w}-{i}"] == (i + 1) * 100 for w in range(WORKERS) for i in range(ADDS))
    figures = {"processes": WORKERS, "adds": WORKERS * ADDS, **timing}
    (output_dir / "concurrency-adds.json").write_text(json.dumps(figures))


def test_concurrent_edits_deletes_adds_and_counters_give_a_deterministic_result(
    tmp_path: Path, output_dir: Path
) -> None:
    data_dir = tmp_path / "data"
    owned_count, adds, counts = 12, ADDS // 3, 5
    setup = Ledger(data_dir)
    owned: dict[str, list[str]] = {}
    for w in range(WORKERS):
        drafts = [
            make_transaction(type="expense", amount="1.00", category="Owned", currency="EUR", note=f"w{w}-start-{i}")
            for i in range(owned_count)
        ]
        setup.add_many(drafts, label=f"owned by w{w}")
        owned[f"w{w}"] = [d.id for d in drafts]
    base_revision = setup.revision
    amounts = {w: [f"{w + 1}{i:02d}.{i:02d}" for i in range(owned_count)] for w in range(WORKERS)}
    jobs: list[tuple[str, str, dict[str, object]]] = [
        (f"w{w}", MIXED, {"owned": owned[f"w{w}"], "amounts": amounts[w], "adds": adds, "counts": counts})
        for w in range(WORKERS)
    ]
    jobs.append(("reader", READER, {}))
    timing = run_workers(data_dir, tmp_path / "sync", jobs)

    final = Ledger(data_dir)
    state = {t.id: t for t in final.transactions()}
    expected_ids = set()
    for w in range(WORKERS):
        for i, tx_id in enumerate(owned[f"w{w}"]):
            if i % 3 == 0:
                assert tx_id not in state, f"w{w}'s transaction {i} should be deleted"
                continue
            expected_ids.add(tx_id)
            tx = state[tx_id]
            assert (tx.note, tx.amount_minor, tx.category) == (
                f"w{w}-final-{i}",
                int(amounts[w][i].replace(".", "")),
                "Owned",
            )
    new = [t for t in state.values() if t.category == "New"]
    assert sorted(t.note for t in new) == sorted(f"w{w}-new-{k}" for w in range(WORKERS) for k in range(adds))
    assert set(state) == expected_ids | {t.id for t in new}
    assert final.meta("counter") == WORKERS * counts
    per_worker = 2 * owned_count + adds + counts  # two changes per owned transaction, then adds and counts
    assert final.revision == base_revision + WORKERS * per_worker
    reader = json.loads((tmp_path / "sync" / "result-reader").read_text())
    assert reader["refreshes"] > 0
    figures = {
        "processes": WORKERS + 1,
        "operations": WORKERS * per_worker,
        "reader_refreshes": reader["refreshes"],
        **timing,
    }
    (output_dir / "concurrency-mixed.json").write_text(json.dumps(figures))
