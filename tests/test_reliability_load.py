"""Load: 8 processes changing one ledger at once for a bounded time, and the UI under many quick reruns.

Each process (``tests/reliability_helpers.py load-worker``) adds, edits and deletes its own
transactions (a quarter of the adds through ``tracker.cli.main``), increments shared transactions
by read-modify-write under the lock, and bumps a shared counter; it logs each change once it has
returned (acknowledged). Afterwards the ledger must be exactly what the acknowledged changes add up
to: every live transaction with its last note, no deleted one, no duplicate, every increment counted,
and the revision equal to the number of changes. 10 s by default, 60 s with ``EXPENSE_TRACKER_THOROUGH=1``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import THOROUGH, record_figures, scaled

from tracker.ledger import Ledger
from tracker.model import make_transaction
from tracker.money import to_minor

PROCESSES = 8
SECONDS = float(os.environ.get("RELIABILITY_LOAD_SECONDS", 60 if THOROUGH else 10))
HELPERS = Path(__file__).resolve().with_name("reliability_helpers.py")
APP = Path(__file__).resolve().parents[1] / "tracker" / "ui" / "app.py"


def read_acks(sync: Path) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for path in sorted(sync.glob("ack-*.log")):
        lines = path.read_text(encoding="utf-8").splitlines()
        out[path.stem.removeprefix("ack-")] = [json.loads(line) for line in lines]
    return out


def test_eight_processes_at_once_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    sync = tmp_path / "sync"
    sync.mkdir()
    setup = Ledger(data_dir)
    shared = [
        make_transaction(type="income", amount="100.00", category="Shared", currency="USD", note=f"shared {i}")
        for i in range(3)
    ]
    setup.add_many(shared, label="shared")
    base_revision = setup.revision
    shared_ids = json.dumps([t.id for t in shared])
    procs = {
        f"p{i}": subprocess.Popen(
            [sys.executable, str(HELPERS), "load-worker", str(data_dir), str(sync), f"p{i}", str(SECONDS), shared_ids],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    }
    try:
        deadline = time.monotonic() + 120
        while not all((sync / f"ready-{name}").exists() for name in procs):
            assert time.monotonic() < deadline, "the workers did not start"
            for name, proc in procs.items():
                assert proc.poll() is None, f"{name} died early: {proc.communicate()[1]}"
            time.sleep(0.01)
        started = time.monotonic()
        (sync / "go").touch()
        for name, proc in procs.items():
            _, err = proc.communicate(timeout=SECONDS + 180)
            assert proc.returncode == 0, f"{name}: {err}"
        elapsed = time.monotonic() - started
    finally:
        for proc in procs.values():  # never leave a worker behind
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    acks = read_acks(sync)
    assert sorted(acks) == sorted(procs)
    live: dict[str, dict[str, Any]] = {}
    increments = {t.id: 0 for t in shared}
    counter = 0
    operations = 0
    kinds: dict[str, int] = {}
    for records in acks.values():
        for rec in records:
            operations += 1
            kinds[rec["op"]] = kinds.get(rec["op"], 0) + 1
            if rec["op"] == "add":
                assert rec["id"] not in live, f"an id was handed out twice: {rec}"
                live[rec["id"]] = {"amount_minor": to_minor(rec["amount"], "USD"), "note": rec["note"]}
            elif rec["op"] == "edit":
                live[rec["id"]]["note"] = rec["note"]
            elif rec["op"] == "delete":
                del live[rec["id"]]
            elif rec["op"] == "increment":
                increments[rec["id"]] += 1
            else:
                counter += 1

    final = Ledger(data_dir)
    txs = final.transactions()
    assert len({t.id for t in txs}) == len(txs)
    got = {t.id: t for t in txs}
    assert set(got) == set(live) | set(increments), "lost or extra transactions"
    for tx_id, want in live.items():
        assert (got[tx_id].amount_minor, got[tx_id].note) == (want["amount_minor"], want["note"]), tx_id
    for tx_id, count in increments.items():
        assert got[tx_id].amount_minor == 10000 + count, f"lost updates on {tx_id}"
    assert final.meta("load_counter", 0) == counter
    assert final.revision == base_revision + operations, "every acknowledged change is exactly one commit"
    assert operations >= PROCESSES * 10
    figures = {
        "processes": PROCESSES,
        "seconds": round(elapsed, 1),
        "acknowledged_operations": operations,
        "operations_by_kind": kinds,
        "operations_per_second": round(operations / elapsed, 1),
        "transactions_at_end": len(txs),
    }
    record_figures("load_processes", figures)


# -- the UI under many quick reruns -------------------------------------------------------------------
#
# AppTest, like a browser, does not send a form's fields to the server before the form is submitted
# (the browser keeps what was typed; tests/test_browser.py checks that in Chromium). What the server
# holds between reruns is checked here: a form submitted with a mistake (its fields are then server
# state) and the quick-entry box (not a form), through many reruns with changes made elsewhere.


def open_transactions() -> Any:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/transactions.py").run()
    assert not at.exception, at.exception
    return at


def test_an_entry_typed_between_many_reruns_is_not_lost(data_dir: Path) -> None:
    reruns = scaled(25, 150)
    outside = Ledger(data_dir)
    outside.add("expense", "1.00", category="Before")
    at = open_transactions()
    day = dt.date.today().replace(day=1)
    note = "typed between reruns ✓ مرحبا"
    at.text_input(key="tx_expense_amount").input("1,234.5x")  # a typo: the form comes back with an error
    at.text_input(key="tx_expense_note").input(note)
    at.date_input(key="tx_expense_date").set_value(day)
    box = at.selectbox(key="tx_expense_category")
    box.options.append("Rerun 家族")
    box.set_value("Rerun 家族")
    next(b for b in at.button if b.label == "Add an expense").click().run()
    assert any("1,234.5x" in e.value.replace("\\", "") for e in at.error), [e.value for e in at.error]
    at.text_input(key="tx_quick_text").input("lunch 7.25 #work @Food")  # and a quick entry, not added yet
    changes_elsewhere = 0
    for i in range(reruns):
        if i % 5 == 2:  # another process changes the data: the page reruns with new numbers
            outside.add("income", f"{i + 1}.00", category="Elsewhere")
            changes_elsewhere += 1
        at.run()
        assert not at.exception, at.exception
        assert at.text_input(key="tx_expense_amount").value == "1,234.5x", f"rerun {i}"
        assert at.text_input(key="tx_expense_note").value == note, f"rerun {i}"
        assert at.selectbox(key="tx_expense_category").value == "Rerun 家族", f"rerun {i}"
        assert at.text_input(key="tx_quick_text").value == "lunch 7.25 #work @Food", f"rerun {i}"
        assert any("Preview" in c.value for c in at.caption), f"rerun {i}"
    at.text_input(key="tx_expense_amount").input("1,234.56")
    next(b for b in at.button if b.label == "Add an expense").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    at.button(key="tx_quick_add").click().run()
    assert not at.exception
    txs = Ledger(data_dir).transactions()
    saved = [(t.amount_minor, t.category, t.note, t.date) for t in txs if t.category in ("Rerun 家族", "Food")]
    assert sorted(saved) == sorted([(123456, "Rerun 家族", note, day), (725, "Food", "lunch", dt.date.today())])
    assert len(txs) == 3 + changes_elsewhere, "each entry saved exactly once"
    assert at.text_input(key="tx_expense_amount").value == ""  # the form empties once saved
    record_figures("ui_reruns", {"reruns": reruns, "changes_made_elsewhere_meanwhile": changes_elsewhere})


@pytest.mark.parametrize("clicks", [2, 5])
def test_a_submit_clicked_several_times_in_a_row_adds_the_entry_once(data_dir: Path, clicks: int) -> None:
    """The form empties after the first click, so later clicks are refused (no amount), never doubled."""
    at = open_transactions()
    at.text_input(key="tx_expense_amount").input("9.99")
    box = at.selectbox(key="tx_expense_category")
    box.options.append("Once")
    box.set_value("Once")
    for _ in range(clicks):
        next(b for b in at.button if b.label == "Add an expense").click().run()
        assert not at.exception
    assert [t.amount_minor for t in Ledger(data_dir).transactions()] == [999]
