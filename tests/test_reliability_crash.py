"""Crash consistency of the real entry paths: the CLI (``tracker.cli.main``) and the UI's save path
(the Transactions page's ``submit`` and ``save_edits``), SIGKILLed at random instants hundreds of times.

A zygote process (``tests/reliability_helpers.py``) imports the app once and forks a writer per
round. The writer lowers ``COMPACT_AFTER_ENTRIES``, ``BACKUP_EVERY`` and ``KEEP_BACKUPS`` so that
journal folds and backup rotations happen all the time, logs each intended change before it starts
and again when it returns (both fsynced to a side file), and marks on a shared page where it is
(journal append, fold, backup + rotation). This test kills it at a random moment, either a random
delay after its k-th change or a random delay after it entered a fold, a backup or an append, and
then checks with a fresh :class:`~tracker.ledger.Ledger`:

* the data loads, and no temporary file is left once the ledger has been opened;
* it equals the state before or after the change in flight (every completed change replayed on an
  independent model; the revision says which), nothing else;
* every backup listed is a whole, valid snapshot and rotation kept them bounded.

Kills: 260 (CLI) + 250 (UI) in the default run, the two writers running side by side;
``EXPENSE_TRACKER_THOROUGH=1`` multiplies them by 5. ``EXPENSE_TRACKER_CRASH_SEED`` picks another seed.
"""

from __future__ import annotations

import copy
import json
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import (
    PHASE_BYTES,
    PHASES,
    THOROUGH,
    load_state,
    read_board,
    record_figures,
    scaled,
    wait_until,
    zygote,
)

import tracker.storage.engine as ledger_module
from tracker.ledger import Ledger
from tracker.model import apply_changes, from_record
from tracker.storage.codec import check_snapshot, upgrade_snapshot
from tracker.storage.fsutil import TMP_MARK

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL (POSIX)")

ANY = "<any>"
PLACEHOLDER_TIME = "2000-01-01T00:00:00.000000Z"
SEED = int(os.environ.get("EXPENSE_TRACKER_CRASH_SEED", "9"))
ROUNDS_PER_FOLDER = 40
STRATEGIES = {"random": 0.40, "fold": 0.25, "backup": 0.20, "append": 0.15}
PHASE_OF = {"fold": 4, "backup": 5, "append": 3}
WINDOW = {"fold": 0.008, "backup": 0.006, "append": 0.001}  # a random delay within about the step's length


class Expected:
    """What the ledger must hold: exact records, fields unknown to the test (new ids' timestamps) marked ANY,
    and new records whose id is not known yet (a change interrupted before it reported them)."""

    def __init__(self, revision: int, records: dict[str, dict[str, Any]]) -> None:
        self.revision = revision
        self.records = {i: dict(r) for i, r in records.items()}
        self.pending: list[dict[str, Any]] = []

    def copy(self) -> Expected:
        return copy.deepcopy(self)

    def apply(self, intent: dict[str, Any], done: dict[str, Any] | None) -> None:
        op = intent["op"]
        if op == "add":
            self._new([{**intent["expect"], "external_id": ""}], done)
        elif op == "import":
            self._new([{**row, "external_id": ANY} for row in intent["rows"]], done)
        elif op == "edit":
            self._edit(intent["id"], intent["changes"])
        elif op == "delete":
            self._delete(intent["id"])
        elif op == "batch":
            for tx_id, changes in intent["edits"].items():
                self._edit(tx_id, changes)
            for tx_id in intent["deletes"]:
                self._delete(tx_id)
        else:
            assert op == "backup", op
            return
        self.revision += 1

    def _new(self, partials: list[dict[str, Any]], done: dict[str, Any] | None) -> None:
        if done is None:
            self.pending.extend(partials)
            return
        by_note = {p["note"]: p for p in partials}
        assert len(done["new"]) == len(partials), (done, partials)
        for tx_id, note in done["new"].items():
            assert tx_id not in self.records, f"new id {tx_id} already existed"
            self.records[tx_id] = {**by_note.pop(note), "id": tx_id, "created_at": ANY, "updated_at": ANY}

    def _edit(self, tx_id: str, changes: dict[str, Any]) -> None:
        before = self.records[tx_id]
        filled = {
            k: (PLACEHOLDER_TIME if v == ANY and k.endswith("_at") else "" if v == ANY else v)
            for k, v in before.items()
        }
        after = apply_changes(from_record(filled), changes).to_record()
        after["updated_at"] = ANY
        for key in ("created_at", "external_id"):
            after[key] = before[key]
        assert after != before, "every edit in this test changes something"
        self.records[tx_id] = after

    def _delete(self, tx_id: str) -> None:
        del self.records[tx_id]

    def problems(self, revision: int, loaded: dict[str, dict[str, Any]]) -> list[str]:
        """Why ``loaded`` is not this state ([] if it is)."""
        found = []
        if revision != self.revision:
            found.append(f"revision {revision}, expected {self.revision}")
        missing = set(self.records) - set(loaded)
        if missing:
            found.append(f"missing transactions {sorted(missing)}")
        for tx_id, want in self.records.items():
            got = loaded.get(tx_id)
            if got is None:
                continue
            diff = {k: (got.get(k), v) for k, v in want.items() if v != ANY and got.get(k) != v}
            if diff:
                found.append(f"{tx_id} differs (got, expected): {diff}")
            if got["updated_at"] < got["created_at"]:
                found.append(f"{tx_id} was updated before it was created")
        extra = [loaded[i] for i in set(loaded) - set(self.records)]
        pending = list(self.pending)
        for rec in extra:
            match = next((p for p in pending if all(v == ANY or rec.get(k) == v for k, v in p.items())), None)
            if match is None:
                found.append(f"unexpected transaction {rec}")
            else:
                pending.remove(match)
        if pending:
            found.append(f"transactions that should be there are not: {pending}")
        return found


def read_side_log(path: Path) -> list[tuple[str, dict[str, Any]]]:
    if not path.exists():
        return []
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]  # a line cut by the kill was never written
    return [(line[:1].decode(), json.loads(line[2:])) for line in complete.splitlines()]


def intents_logged(side: Path) -> int:
    try:
        return side.read_bytes().count(b'I {"op"')
    except FileNotFoundError:
        return 0


def check_backups(ledger: Ledger) -> int:
    """Every listed backup is a whole, valid snapshot; returns how many there are.

    (A kill between writing a backup and rotating leaves one extra; the next rotation trims them.)
    """
    backups = ledger.backups()
    for info in backups:
        snap, _ = upgrade_snapshot(ledger.backend.read_backup(info.name), info.name)
        check_snapshot(snap, info.name)
    return len(backups)


def run_kills(mode: str, kills: int, tmp_path: Path) -> dict[str, Any]:
    """Kill writers of ``mode`` (``cli`` or ``ui``) ``kills`` times; verify after each kill; return the figures."""
    rng = random.Random(f"{SEED}-{mode}")
    figures: dict[str, Any] = {
        "kills": 0,
        "kills_by_strategy": dict.fromkeys(STRATEGIES, 0),
        "kills_by_phase": dict.fromkeys(PHASES.values(), 0),
        "found_before_the_change": 0,
        "found_after_the_change": 0,
        "changes_completed": 0,
        "changes_by_kind": {},
        "changes_in_flight_by_kind": {},
        "folds_started": 0,
        "backups_started": 0,
        "journal_appends_started": 0,
        "temporary_files_left_by_kills_then_removed": 0,
        "torn_journal_tails": 0,
        "data_folders": 0,
        "most_backups_after_a_kill": 0,
        "seconds_writing": 0.0,
        "seconds_verifying": 0.0,
    }
    started = time.monotonic()
    kept: dict[Path, int] = {}
    with zygote() as z:
        expected = Expected(0, {})
        data_dir = tmp_path / "none"
        cfg: dict[str, Any] = {}
        for round_no in range(kills):
            if round_no % ROUNDS_PER_FOLDER == 0:
                data_dir = tmp_path / f"data-{round_no}"
                scratch = tmp_path / f"scratch-{round_no}"
                scratch.mkdir()
                cfg = {
                    "compact_after": rng.choice([2, 3, 4]),
                    "backup_every_ms": rng.choice([0, 0, 5, 60]),
                    "keep_backups": rng.choice([2, 3]),
                    "scratch": str(scratch),
                }
                expected = Expected(0, {})
                kept[data_dir] = cfg["keep_backups"]
                figures["data_folders"] += 1
            side = tmp_path / f"side-{round_no}.log"
            board = tmp_path / f"board-{round_no}"
            board.write_bytes(bytes(PHASE_BYTES))
            strategy = rng.choices(list(STRATEGIES), weights=list(STRATEGIES.values()))[0]
            t0 = time.monotonic()
            pid = z.start(
                **cfg,
                mode=mode,
                data_dir=str(data_dir),
                side=str(side),
                board=str(board),
                seed=f"{round_no}",
            )
            if strategy == "random":
                wait_until(lambda side=side, k=rng.randint(1, 2): intents_logged(side) >= k, timeout=10)
                time.sleep(rng.uniform(0, 0.03))
            else:
                phase = PHASE_OF[strategy]
                step = 0.0001 if strategy == "append" else 0.0005  # an append takes about a millisecond
                wait_until(lambda board=board, phase=phase: read_board(board)[0] == phase, timeout=5, step=step)
                time.sleep(rng.uniform(0, WINDOW[strategy]))
            at_kill = read_board(board)
            status = z.kill(pid)
            t1 = time.monotonic()
            figures["seconds_writing"] += t1 - t0
            error = Path(f"{side}.error")
            assert not error.exists(), error.read_text()
            assert os.WIFSIGNALED(status), f"the writer exited by itself ({status})"
            assert os.WTERMSIG(status) == signal.SIGKILL
            figures["kills"] += 1
            figures["kills_by_strategy"][strategy] += 1
            figures["kills_by_phase"][PHASES[at_kill[0]]] += 1
            figures["folds_started"] += at_kill[1]
            figures["backups_started"] += at_kill[2]
            figures["journal_appends_started"] += at_kill[3]

            journal = data_dir / "ledger.journal"
            if journal.exists() and journal.stat().st_size and not journal.read_bytes().endswith(b"\n"):
                figures["torn_journal_tails"] += 1
            strays = [p for p in data_dir.rglob("*") if TMP_MARK in p.name] if data_dir.exists() else []
            figures["temporary_files_left_by_kills_then_removed"] += len(strays)

            lines = read_side_log(side)
            dones = {payload["key"]: payload for kind, payload in lines if kind == "D"}
            intents = [payload for kind, payload in lines if kind == "I"]
            for intent in intents[:-1]:
                assert intent["key"] in dones, f"only the last change can be in flight: {intent}"

            ledger, revision, loaded = load_state(
                data_dir, frame=round_no % 10 == 9
            )  # must not raise: the data always loads
            left = [p.name for p in data_dir.rglob("*") if TMP_MARK in p.name] if data_dir.exists() else []
            assert not left, f"temporary files survived opening the ledger: {left}"

            for intent in intents:
                done = dones.get(intent["key"])
                if done is not None:
                    expected.apply(intent, done)
                    figures["changes_completed"] += 1
                    kind = f"{intent['via']} {intent['op']}"
                    figures["changes_by_kind"][kind] = figures["changes_by_kind"].get(kind, 0) + 1
                    continue
                in_flight = f"{intent['via']} {intent['op']}"
                figures["changes_in_flight_by_kind"][in_flight] = (
                    figures["changes_in_flight_by_kind"].get(in_flight, 0) + 1
                )
                before = expected.problems(revision, loaded)
                if not before:
                    figures["found_before_the_change"] += 1
                    continue
                after_state = expected.copy()
                after_state.apply(intent, None)
                after = after_state.problems(revision, loaded)
                assert not after, (
                    f"round {round_no} ({strategy}, killed in {PHASES[at_kill[0]]}): the ledger is neither the state "
                    f"before nor after {intent}\nbefore: {before}\nafter: {after}"
                )
                figures["found_after_the_change"] += 1
                expected = after_state
            if not intents or intents[-1]["key"] in dones:
                problems = expected.problems(revision, loaded)
                assert not problems, f"round {round_no}: the ledger lost or changed data: {problems}"
            figures["most_backups_after_a_kill"] = max(figures["most_backups_after_a_kill"], check_backups(ledger))
            figures["seconds_verifying"] += time.monotonic() - t1
            expected = Expected(revision, loaded)  # exact again (the new records' ids and times are known now)

    # After the storm each folder still takes changes and loads them back, and the next backup
    # rotates the backups down to the number kept.
    for folder, keep in kept.items():
        ledger = Ledger(folder)
        tx = ledger.add("expense", "1.00", category="After the storm")
        assert Ledger(folder).get(tx.id) == tx
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ledger_module, "KEEP_BACKUPS", keep)
            ledger.create_backup()
        assert len(ledger.backups()) == keep
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["seconds_writing"] = round(figures["seconds_writing"], 1)
    figures["seconds_verifying"] = round(figures["seconds_verifying"], 1)
    return figures


def lanes(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Both writers at once (two zygotes, two data folders): the CLI lane and the UI lane."""
    from concurrent.futures import ThreadPoolExecutor

    kills = {
        "cli": int(os.environ.get("RELIABILITY_KILLS_CLI", scaled(260, 1300))),
        "ui": int(os.environ.get("RELIABILITY_KILLS_UI", scaled(250, 1250))),
    }
    with ThreadPoolExecutor(2) as pool:
        futures = {}
        for mode, n in kills.items():
            (tmp_path / mode).mkdir()
            futures[mode] = pool.submit(run_kills, mode, n, tmp_path / mode)
        return {mode: future.result() for mode, future in futures.items()}


def test_cli_and_ui_writers_killed_at_random_instants_leave_the_state_before_or_after(tmp_path: Path) -> None:
    results = lanes(tmp_path)
    for mode, figures in results.items():
        kills = figures["kills"]
        assert figures["found_before_the_change"] >= max(3, kills // 100), (mode, figures)  # both outcomes occur
        assert figures["found_after_the_change"] >= max(3, kills // 100), (mode, figures)
        assert figures["kills_by_phase"]["journal fold"] >= kills // 50, (mode, figures)
        assert figures["kills_by_phase"]["backup + rotation"] >= kills // 50, (mode, figures)
        assert figures["kills_by_phase"]["journal append"] >= kills // 100, (mode, figures)
        record_figures(f"crash_{mode}", figures)
    for mode, kinds in {"cli": {"add", "edit", "delete", "import", "backup"}, "ui": {"add", "batch"}}.items():
        for counts in (results[mode]["changes_by_kind"], results[mode]["changes_in_flight_by_kind"]):
            assert {f"{mode} {kind}" for kind in kinds} <= set(counts), (mode, counts)
    total = sum(f["kills"] for f in results.values())
    if "RELIABILITY_KILLS_CLI" not in os.environ and "RELIABILITY_KILLS_UI" not in os.environ:
        assert total >= (2500 if THOROUGH else 500), total
    record_figures(
        "crash_total",
        {
            "kills": total,
            "kills_in_journal_folds": sum(f["kills_by_phase"]["journal fold"] for f in results.values()),
            "kills_in_backup_rotation": sum(f["kills_by_phase"]["backup + rotation"] for f in results.values()),
            "kills_in_journal_appends": sum(f["kills_by_phase"]["journal append"] for f in results.values()),
            "changes_completed": sum(f["changes_completed"] for f in results.values()),
            "writers": "tracker.cli.main([...]) and the Transactions page's submit()/save_edits()",
        },
    )
