"""Crash consistency: a writer SIGKILLed at random instants, again and again, on one data folder.

A *zygote* process imports the app once and forks a fresh writer for every round (so a round costs
milliseconds, not a Python start-up). The writer opens the ledger from disk and loops over add,
import, transfer (a linked pair between two accounts), edit, delete, undo, settings (meta), backup and restore, with journal folding and backups
made frequent through environment variables the zygote reads. Before each change it appends its
intent to a side log and fsyncs it; after the change returns it appends what was done, fsynced too.

After each kill the test loads the ledger in a fresh :class:`Ledger` and checks it equals the state
before or after the interrupted change (decided by the revision, which a commit raises by one),
replaying the side log with an independent model of the ledger, its undo stack included.

Quick run: 60 kills. ``EXPENSE_TRACKER_THOROUGH=1``: 500 kills.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracker.ledger import Ledger
from tracker.model import apply_changes, from_record, make_transaction
from tracker.storage.codec import check_snapshot, upgrade_snapshot
from tracker.storage.columns import with_added_fields
from tracker.storage.engine import UNDO_DEPTH
from tracker.storage.fsutil import TMP_MARK

THOROUGH = os.environ.get("EXPENSE_TRACKER_THOROUGH") == "1"
KILLS = int(os.environ.get("EXPENSE_TRACKER_CRASH_KILLS", 500 if THOROUGH else 60))
MAX_DELAY = 0.03  # after the writer announced its n-th change, the kill comes within this many seconds
COMPACT_AFTER = 7  # fold the journal every 7 commits (the app's default is far higher)
BACKUP_EVERY_MS = 150  # and write a "daily" backup every 150 ms

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL (POSIX)")

ZYGOTE = r"""
import datetime as dt
import json
import os
import random
import shutil
import sys
import traceback

import tracker.storage.engine as engine_module
from tracker.accounts import add_account, add_transfer, list_accounts
from tracker.ledger import Ledger
from tracker.model import make_transaction
from tracker.storage.columns import record_at
from tracker.storage.codec import upgrade_snapshot

engine_module.COMPACT_AFTER_ENTRIES = int(os.environ["CRASH_COMPACT_AFTER"])
engine_module.BACKUP_EVERY = dt.timedelta(milliseconds=int(os.environ["CRASH_BACKUP_EVERY_MS"]))

CATEGORIES = ["Food", "Rent", "Café ☕", "Travel", "Straße", "Gehalt"]
TAGS = ["work", "fun", "家族", "trip"]


def log(fd, kind, payload):
    os.write(fd, (kind + " " + json.dumps(payload, ensure_ascii=False) + "\n").encode("utf-8"))
    os.fsync(fd)


def draft(rng, key):
    currency = rng.choice(["EUR", "USD", "JPY"])
    cents = rng.randint(1, 500000)
    amount = str(cents) if currency == "JPY" else f"{cents // 100}.{cents % 100:02d}"
    return {
        "type": rng.choice(["income", "expense"]),
        "amount": amount,
        "currency": currency,
        "category": rng.choice(CATEGORIES),
        "date": (dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 400))).isoformat(),
        "tags": rng.sample(TAGS, rng.randint(0, 2)),
        "note": f"{key} ✓",
    }


def writer(data_dir, side, seed):
    rng = random.Random(seed)
    ledger = Ledger(data_dir)
    ids = [t.id for t in ledger.transactions()]
    fd = os.open(side, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)  # its existence says: writing now
    n = 0
    while True:
        n += 1
        key = f"r{seed}-{n}"
        r = rng.random()
        if r < 0.30 or not ids:
            fields = draft(rng, key)
            log(fd, "I", {"op": "add", "key": key, "fields": fields})
            tx = ledger.add(fields.pop("type"), fields.pop("amount"), **fields)
            log(fd, "D", {"key": key, "record": tx.to_record(), "folded": ledger.engine.entries_since_snapshot == 0})
            ids.append(tx.id)
        elif r < 0.40:
            txs = [make_transaction(**draft(rng, f"{key}.{i}"), account="Main") for i in range(rng.randint(2, 4))]
            log(fd, "I", {"op": "import", "key": key, "records": [t.to_record() for t in txs]})
            ledger.add_many(txs, label="import")
            log(fd, "D", {"key": key, "folded": ledger.engine.entries_since_snapshot == 0})
            ids.extend(t.id for t in txs)
        elif r < 0.48:
            if "savings" not in {a.name.casefold() for a in list_accounts(ledger)}:
                log(fd, "I", {"op": "account", "key": key})
                add_account(ledger, "Savings", kind="savings", currency="USD")
                log(fd, "D", {"key": key, "folded": ledger.engine.entries_since_snapshot == 0})
                continue
            source, target = rng.sample(["Main", "Savings"], 2)
            fields = {"amount": f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}", "source": source, "target": target}
            log(fd, "I", {"op": "transfer", "key": key, "fields": fields})
            out, arrived = add_transfer(ledger, fields["amount"], source=source, target=target, note=key)
            records = {t.id: t.to_record() for t in (out, arrived)}
            log(fd, "D", {"key": key, "records": records, "folded": ledger.engine.entries_since_snapshot == 0})
            ids.extend(records)
        elif r < 0.62:
            tx_id = rng.choice(ids)
            changes = {"note": f"edit {key}", "category": rng.choice(CATEGORIES), "tags": rng.sample(TAGS, 1)}
            log(fd, "I", {"op": "edit", "key": key, "id": tx_id, "changes": changes})
            tx = ledger.update(tx_id, **changes)
            both = [tx.id, tx.link] if tx.link else [tx.id]
            records = {i: ledger.get(i).to_record() for i in both}
            log(fd, "D", {"key": key, "records": records, "folded": ledger.engine.entries_since_snapshot == 0})
        elif r < 0.72:
            tx_id = rng.choice(ids)
            log(fd, "I", {"op": "delete", "key": key, "id": tx_id})
            gone = ledger.delete(tx_id)
            log(fd, "D", {"key": key, "folded": ledger.engine.entries_since_snapshot == 0})
            ids = [i for i in ids if i not in (tx_id, gone.link)]
        elif r < 0.80:
            log(fd, "I", {"op": "undo", "key": key})
            label = ledger.undo()
            log(fd, "D", {"key": key, "label": label, "folded": ledger.engine.entries_since_snapshot == 0})
            ids = [t.id for t in ledger.transactions()]
        elif r < 0.89:
            log(fd, "I", {"op": "meta", "key": key})
            ledger.set_meta("counter", key)
            log(fd, "D", {"key": key, "folded": ledger.engine.entries_since_snapshot == 0})
        elif r < 0.97:
            log(fd, "I", {"op": "backup", "key": key})
            info = ledger.create_backup()
            log(fd, "D", {"key": key, "name": info.name})
        else:
            found = ledger.backups()
            if not found:
                continue
            name = found[0].name
            snap, _ = upgrade_snapshot(ledger.backend.read_backup(name), name)
            cols = snap["transactions"]
            records = [record_at(cols, i) for i in range(len(cols["id"]))]
            counter = snap.get("meta", {}).get("counter")
            log(fd, "I", {"op": "restore", "key": key, "name": name, "records": records, "counter": counter})
            ledger.restore_backup(name)
            log(fd, "D", {"key": key})
            ids = [t.id for t in ledger.transactions()]


for line in sys.stdin:
    command, *args = line.split()
    if command == "run":
        data_dir, side, seed = args
        pid = os.fork()
        if pid == 0:
            try:
                writer(data_dir, side, int(seed))
            except BaseException:
                with open(side + ".error", "w") as fh:
                    fh.write(traceback.format_exc())
                os._exit(3)
            os._exit(4)
        print(pid, flush=True)
    elif command == "reap":
        _, status = os.waitpid(int(args[0]), 0)
        print(status, flush=True)
"""


class Zygote:
    """The forking parent of the writers (a real, separate process)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        self.live: set[int] = set()

    def start_writer(self, data_dir: Path, side: Path, seed: int) -> int:
        pid = self.ask(f"run {data_dir} {side} {seed}")
        self.live.add(pid)
        return pid

    def kill_writer(self, pid: int) -> int:
        """SIGKILL the writer and reap it; returns its wait status."""
        os.kill(pid, signal.SIGKILL)
        self.live.discard(pid)
        return self.ask(f"reap {pid}")

    def ask(self, line: str) -> int:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        assert answer, "the zygote died"
        return int(answer)

    def close(self) -> None:
        for pid in self.live:  # a test that failed half-way must not leave a writer running
            os.kill(pid, signal.SIGKILL)
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture
def zygote() -> Iterator[Zygote]:
    z = Zygote({"CRASH_COMPACT_AFTER": str(COMPACT_AFTER), "CRASH_BACKUP_EVERY_MS": str(BACKUP_EVERY_MS)})
    yield z
    z.close()


State = dict[str, Any]


class Model:
    """What the ledger must hold: transactions, the counter setting, revision and undo stack."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.counter: str | None = None
        self.revision = 0
        self.undo: list[tuple[dict[str, dict[str, Any]], str | None]] = []

    def state(self) -> tuple[dict[str, dict[str, Any]], str | None]:
        return dict(self.records), self.counter

    def commit(self, records: dict[str, dict[str, Any]], counter: str | None, undoable: bool = True) -> None:
        if undoable:
            self.undo.append(self.state())
            del self.undo[:-UNDO_DEPTH]
        self.records, self.counter = records, counter
        self.revision += 1

    def apply(self, intent: dict[str, Any], done: dict[str, Any] | None, loaded: dict[str, Any] | None = None) -> None:
        """Apply a change; ``done`` is the writer's report, or ``None`` if it was interrupted (then the
        values only the writer knew, a new id and ``updated_at``, are taken from ``loaded``)."""
        op = intent["op"]
        records = dict(self.records)
        if op == "add":
            record = done["record"] if done else loaded["new"]
            fields = intent["fields"]
            expected_minor = int(fields["amount"].replace(".", ""))
            assert (record["type"], record["amount_minor"], record["currency"], record["note"]) == (
                fields["type"],
                expected_minor,
                fields["currency"],
                fields["note"],
            )
            assert (record["category"], record["date"], sorted(record["tags"])) == (
                fields["category"],
                fields["date"],
                sorted(fields["tags"]),
            )
            assert record["id"] not in records
            records[record["id"]] = record
            self.commit(records, self.counter)
        elif op == "import":
            for record in intent["records"]:
                records[record["id"]] = record
            self.commit(records, self.counter)
        elif op == "edit":  # a transfer's other side takes the note, category and tags too
            before = records[intent["id"]]
            both = [intent["id"], before["link"]] if before["link"] else [intent["id"]]
            for tx_id in both:
                expected = apply_changes(from_record(records[tx_id]), intent["changes"]).to_record()
                record = done["records"][tx_id] if done else loaded["records"][tx_id]
                assert {**record, "updated_at": None} == {**expected, "updated_at": None}
                records[tx_id] = record
            self.commit(records, self.counter)
        elif op == "transfer":  # both sides or neither: never one without the other
            if done:
                made = done["records"]
            else:
                made = {i: loaded["records"][i] for i in set(loaded["records"]) - set(records)}
            assert len(made) == 2, f"a transfer left {len(made)} sides"
            out, arrived = sorted(made.values(), key=lambda rec: rec["direction"] != "out")
            assert (out["direction"], arrived["direction"]) == ("out", "in")
            assert (out["link"], arrived["link"]) == (arrived["id"], out["id"])
            fields = intent["fields"]
            assert (out["account"], arrived["account"]) == (fields["source"], fields["target"])
            assert out["amount_minor"] == arrived["amount_minor"] == int(fields["amount"].replace(".", ""))
            records.update(made)
            self.commit(records, self.counter)
        elif op == "account":
            self.commit(records, self.counter)
        elif op == "delete":  # a transfer goes with its other side
            link = records.pop(intent["id"])["link"]
            if link:
                del records[link]
            self.commit(records, self.counter)
        elif op == "meta":
            self.commit(records, intent["key"])
        elif op == "undo":
            if done is not None:
                assert (done["label"] is None) == (not self.undo), (done, len(self.undo))
            if self.undo:
                self.records, self.counter = self.undo.pop()
                self.revision += 1
        elif op == "restore":
            self.commit({r["id"]: r for r in intent["records"]}, intent["counter"], undoable=False)
            self.undo.clear()
        else:
            assert op == "backup"


def load(data_dir: Path) -> dict[str, Any]:
    ledger = Ledger(data_dir)
    return {
        "records": {t.id: t.to_record() for t in ledger.transactions()},
        "counter": ledger.meta("counter"),
        "revision": ledger.revision,
    }


def wait_for_intents(side: Path, count: int, timeout: float = 30) -> None:
    """Until the writer has announced ``count`` changes (so the kill lands in real work, whatever the load)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if side.exists() and side.read_bytes().count(b"I ") >= count:
            return
        time.sleep(0.001)


def read_side_log(path: Path) -> list[tuple[str, dict[str, Any]]]:
    if not path.exists():
        return []
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]  # a line cut by the kill is not there
    return [(line[:1].decode(), json.loads(line[2:])) for line in complete.splitlines()]


def test_sigkilled_writer_leaves_the_state_before_or_after_the_change(
    zygote: Zygote, tmp_path: Path, output_dir: Path
) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random(int(os.environ.get("EXPENSE_TRACKER_CRASH_SEED", "20261128")))
    model = Model()
    figures = {
        "kills": 0,
        "kills_with_a_change_in_flight": 0,
        "interrupted_changes_found_before": 0,
        "interrupted_changes_found_after": 0,
        "changes_completed": 0,
        "changes_by_kind": {},
        "folds_seen": 0,
        "torn_journal_tails_found": 0,
        "temporary_files_left_by_kills": 0,
        "backups_written": 0,
    }
    started = time.monotonic()
    for round_no in range(KILLS):
        side = tmp_path / f"side-{round_no}.log"
        pid = zygote.start_writer(data_dir, side, round_no)
        if rng.random() < 0.9:  # most kills while the writer is busy, a few while it opens the ledger
            wait_for_intents(side, rng.randint(1, 12))
        time.sleep(rng.uniform(0, MAX_DELAY))
        status = zygote.kill_writer(pid)
        error = Path(f"{side}.error")
        assert not error.exists(), error.read_text()
        assert os.WIFSIGNALED(status), f"the writer exited by itself ({status})"
        assert os.WTERMSIG(status) == signal.SIGKILL
        figures["kills"] += 1

        journal = data_dir / "ledger.journal"
        if journal.exists() and journal.stat().st_size and not journal.read_bytes().endswith(b"\n"):
            figures["torn_journal_tails_found"] += 1
        if data_dir.exists():
            figures["temporary_files_left_by_kills"] += sum(TMP_MARK in p.name for p in data_dir.rglob("*"))

        lines = read_side_log(side)
        dones = {payload["key"]: payload for kind, payload in lines if kind == "D"}
        intents = [payload for kind, payload in lines if kind == "I"]
        for intent in intents[:-1]:
            assert intent["key"] in dones, f"only the last change can be in flight: {intent}"
        loaded = load(data_dir)  # must not raise: the data always loads
        for intent in intents:
            done = dones.get(intent["key"])
            kind = intent["op"]
            if done is not None:
                model.apply(intent, done)
                figures["changes_completed"] += 1
                figures["changes_by_kind"][kind] = figures["changes_by_kind"].get(kind, 0) + 1
                figures["folds_seen"] += bool(done.get("folded"))
                figures["backups_written"] += kind == "backup"
                continue
            figures["kills_with_a_change_in_flight"] += 1
            if loaded["revision"] == model.revision:
                assert (loaded["records"], loaded["counter"]) == model.state(), f"not the state before {intent}"
                figures["interrupted_changes_found_before"] += 1
            else:
                assert loaded["revision"] == model.revision + 1, (loaded["revision"], model.revision, intent)
                new = sorted(set(loaded["records"]) - set(model.records))
                if kind == "add":
                    assert len(new) == 1, f"an interrupted add left {len(new)} new transactions"
                extra = {"new": loaded["records"][new[0]]} if kind == "add" else {}
                model.apply(intent, None, {**loaded, **extra})
                figures["interrupted_changes_found_after"] += 1
        assert loaded["revision"] == model.revision, (
            f"round {round_no}: revision {loaded['revision']} != {model.revision}"
        )
        assert loaded["records"] == model.records, f"round {round_no}: transactions differ from the model"
        assert loaded["counter"] == model.counter

    # Afterwards: every backup is a whole, valid snapshot; rotation kept them bounded; a fresh start
    # removes what the kills left behind and the ledger still takes changes.
    ledger = Ledger(data_dir)
    backups = ledger.backups()
    assert 1 <= len(backups) <= 11  # 10 kept, plus at most one written just before a kill cut the rotation
    for info in backups:
        snap, _ = upgrade_snapshot(ledger.backend.read_backup(info.name), info.name)
        check_snapshot(snap, info.name)
    tx = ledger.add("expense", "1", category="After the storm")
    assert Ledger(data_dir).get(tx.id) == tx
    assert not [p for p in data_dir.rglob("*") if TMP_MARK in p.name]
    assert figures["kills_with_a_change_in_flight"] >= KILLS // 3
    assert figures["folds_seen"] >= 2
    assert figures["changes_by_kind"].get("undo", 0) >= 1
    assert figures["changes_by_kind"].get("transfer", 0) >= 3
    assert figures["backups_written"] >= 1

    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["transactions_at_end"] = len(ledger.transactions())
    figures["revision_at_end"] = ledger.revision
    (output_dir / "crash-figures.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures))


# -- the undo history at every write of a fold and of the schema 2 -> 3 migration -------------------------------------

V2_DATA = Path(__file__).parent / "data" / "storage"
STEP_CALLS = ("write", "fsync", "replace", "ftruncate", "unlink")


def killed_at_call(number: int, action: Any) -> bool:
    """Run ``action`` in a forked child SIGKILLed at its ``number``-th call of a file-changing system call (a write
    torn in half); returns whether it was killed (``False``: the action finished before that call)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            calls = [0]

            def hook(real: Any, name: str) -> Any:
                def call(*args: Any, **kwargs: Any) -> Any:
                    calls[0] += 1
                    if calls[0] == number:
                        if name == "write" and len(args[1]) > 1:
                            real(args[0], bytes(args[1])[: len(args[1]) // 2])
                        os.kill(os.getpid(), signal.SIGKILL)
                    return real(*args, **kwargs)

                return call

            for name in STEP_CALLS:
                setattr(os, name, hook(getattr(os, name), name))
            action()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status)


def view(data_dir: Path) -> dict[str, Any]:
    ledger = Ledger(data_dir)
    return {"records": {t.id: t.to_record() for t in ledger.transactions()}, "budgets": ledger.meta("budgets")}


def walk_back(data_dir: Path, chain: list[tuple[str | None, dict[str, Any]]]) -> None:
    """Each undo, by a fresh instance, gives the next state of ``chain`` (its label, then its view); then nothing."""
    for label, state in chain:
        assert Ledger(data_dir).undo() == label
        assert view(data_dir) == state
    assert Ledger(data_dir).undo() is None


@pytest.mark.parametrize("start", ["schema 3 journal", "schema 2 file"])
def test_a_crash_at_any_write_of_a_fold_or_migration_leaves_an_undo_that_undoes_the_right_change(
    tmp_path: Path, start: str
) -> None:
    """A 300-row import then a fold, killed before each write, fsync, rename, truncation or removal it makes (a write
    torn in half): the ledger is the state before or after the import, and undoing from there walks back exactly
    through the earlier states. From a schema 2 file the first write also migrates (backup, fold, journal)."""
    template = tmp_path / "template"
    rows = [
        make_transaction(
            type="expense", amount=f"{i}.10", category="Bank", currency="EUR", note=f"row {i}", account="Main"
        )
        for i in range(1, 301)
    ]
    if start == "schema 2 file":
        template.mkdir()
        (template / "ledger.json").write_bytes((V2_DATA / "ledger-v2-undo.json").read_bytes())
        states = json.loads((V2_DATA / "ledger-v2-undo-states.json").read_text())
        earlier = [  # recorded before schema 4: the migration puts every row into "Main"
            (
                s["label"],
                {"records": {k: dict(with_added_fields(r)) for k, r in s["records"].items()}, "budgets": s["budgets"]},
            )
            for s in states
        ]
    else:
        ledger = Ledger(template)
        a = ledger.add("expense", "1", category="A")
        ledger.set_meta("budgets", [{"category": "A", "amount_minor": 500}], label="set budgets")
        edited = ledger.update(a.id, note="edited")
        budgets = ledger.meta("budgets")
        earlier = [
            (None, {"records": {a.id: edited.to_record()}, "budgets": budgets}),
            ("edit", {"records": {a.id: a.to_record()}, "budgets": budgets}),
            ("set budgets", {"records": {a.id: a.to_record()}, "budgets": None}),
            ("add expense", {"records": {}, "budgets": None}),
        ]
    before = earlier[0][1]
    after = {"records": {**before["records"], **{t.id: t.to_record() for t in rows}}, "budgets": before["budgets"]}
    seen = {"before": 0, "after": 0}
    number = 0
    while True:
        number += 1
        assert number < 500, "the import never finished"
        data_dir = tmp_path / f"run-{number}"
        shutil.copytree(template, data_dir)

        def action(data_dir: Path = data_dir) -> None:
            ledger = Ledger(data_dir)
            ledger.add_many(rows, label="import big.csv")
            ledger.engine.fold()

        killed = killed_at_call(number, action)
        state = view(data_dir)
        if state == after:
            seen["after"] += 1
            walk_back(data_dir, [("import big.csv", before), *earlier[1:]])
        else:
            assert state == before
            seen["before"] += 1
            walk_back(data_dir, earlier[1:])
        assert not [p for p in data_dir.rglob("*") if TMP_MARK in p.name]  # the next start removed any temporaries
        if not killed:
            break
    assert seen["before"] >= 1, seen  # the journal line torn in half
    assert seen["after"] >= 5, seen  # every write after it
