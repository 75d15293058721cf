"""Storage: one suite run against both backends (JSON files and the in-memory plugin backend),
then what only the JSON files have (permissions, temporary files, file names).

Every "refused" case checks three things: the error names where the data is, nothing was
changed (byte for byte), and the way back (the backups) is offered.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from memory_backend import MemoryBackend, plugin_manager, store_for

import tracker.storage.codec as codec_module
import tracker.storage.engine as engine_module
from tracker.errors import CorruptDataError, NotFoundError
from tracker.frame import COLUMNS
from tracker.ledger import Ledger, restore_backup
from tracker.model import Transaction, iso_utc, make_transaction
from tracker.storage import JsonBackend, StorageBackend
from tracker.storage.codec import JOURNAL_VERSION, SCHEMA_VERSION
from tracker.storage.columns import ORIGINAL_FIELDS
from tracker.storage.engine import KEEP_BACKUPS
from tracker.storage.fsutil import TMP_MARK, atomic_write

MakeTx = Callable[..., Transaction]


@dataclasses.dataclass
class Storage:
    """One backend under test, with what the suite needs to look at and damage its stored bytes."""

    kind: str
    folder: Path

    def open(self, **kwargs: Any) -> Ledger:
        if self.kind == "memory":
            return Ledger(self.folder, backend="memory", plugin_manager=plugin_manager(), **kwargs)
        return Ledger(self.folder, **kwargs)

    # the stored bytes
    def image(self) -> dict[str, Any]:
        if self.kind == "memory":
            return store_for(self.folder).image()
        return {
            str(p.relative_to(self.folder)): p.read_bytes()
            for p in sorted(self.folder.rglob("*"))
            if p.is_file() and p.name != "ledger.lock"
        }

    def snapshot(self) -> bytes | None:
        if self.kind == "memory":
            return store_for(self.folder).snapshot
        path = self.folder / "ledger.json"
        return path.read_bytes() if path.exists() else None

    def set_snapshot(self, data: bytes) -> None:
        if self.kind == "memory":
            store = store_for(self.folder)
            store.snapshot = data
            store.generation += 1
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / "ledger.json").write_bytes(data)

    def journal(self) -> bytes:
        if self.kind == "memory":
            return store_for(self.folder).journal
        path = self.folder / "ledger.journal"
        return path.read_bytes() if path.exists() else b""

    def set_journal(self, data: bytes) -> None:
        if self.kind == "memory":
            store_for(self.folder).journal = data
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / "ledger.journal").write_bytes(data)

    def set_aside(self) -> dict[str, bytes]:
        """What a restore moved out of the way, by name."""
        if self.kind == "memory":
            return dict(store_for(self.folder).aside)
        return {p.name: p.read_bytes() for p in self.folder.iterdir() if ".unreadable-" in p.name}


@pytest.fixture(params=["json", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return Storage(request.param, tmp_path / f"data-{request.param}")


@pytest.fixture
def fold_every(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    def set_limit(entries: int) -> None:
        monkeypatch.setattr(engine_module, "COMPACT_AFTER_ENTRIES", entries)

    return set_limit


def state(ledger: Ledger) -> dict[str, Transaction]:
    return {t.id: t for t in ledger.transactions()}


def assert_schema(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(COLUMNS)
    assert {c: str(t) for c, t in frame.dtypes.items()} == {c: str(t) for c, t in COLUMNS.items()}


def fill(ledger: Ledger, n: int, prefix: str = "t") -> list[Transaction]:
    return [
        ledger.add(
            "expense", f"{i + 1}.25", category=f"C{i % 3}", date=f"2026-01-{i % 28 + 1:02d}", note=f"{prefix}{i}"
        )
        for i in range(n)
    ]


# -- the shared suite --------------------------------------------------------------------------------


def test_backend_is_chosen_by_name_and_follows_the_protocol(storage: Storage) -> None:
    backend = storage.open().backend
    assert isinstance(backend, StorageBackend)
    assert isinstance(backend, MemoryBackend if storage.kind == "memory" else JsonBackend)
    assert backend.name == storage.kind


def test_empty_ledger_has_the_schema(storage: Storage) -> None:
    ledger = storage.open()
    assert ledger.revision == 0
    assert_schema(ledger.frame())
    assert ledger.transactions() == []
    assert ledger.backups() == []


def test_saved_transactions_load_back_exactly(storage: Storage, make_tx: MakeTx) -> None:
    ledger = storage.open()
    a = ledger.add("income", "1000", category="Salary", date="2026-01-01", tags=["job", "Main"], currency="EUR")
    b = ledger.add("expense", "3.10", category="Café ☕", note="with Ana 👋", currency="USD", date="2026-01-02")
    c = ledger.add_many([make_tx(amount="1500", currency="JPY", external_id="FIT-9", date="2026-01-03")])[0]
    again = storage.open()
    assert again.transactions() == [a, b, c]
    assert again.revision == ledger.revision == 3
    assert_schema(again.frame())
    assert again.frame()["amount_minor"].tolist() == [100000, 310, 1500]


def test_another_instance_sees_commits_through_refresh(storage: Storage) -> None:
    first, second = storage.open(), storage.open()
    assert second.refresh() is False
    tx = first.add("expense", "5", category="X")
    assert second.refresh() is True
    assert second.get(tx.id) == tx
    assert second.refresh() is False
    second.update(tx.id, note="changed")
    first.refresh()
    assert first.get(tx.id).note == "changed"
    assert first.revision == second.revision == 2


def test_instances_that_alternate_never_lose_a_commit(storage: Storage, fold_every: Callable[[int], None]) -> None:
    fold_every(4)
    ledgers = [storage.open() for _ in range(3)]
    added = [ledgers[i % 3].add("expense", "1", category="X", note=str(i)).id for i in range(20)]
    final = storage.open()
    assert sorted(t.id for t in final.transactions()) == sorted(added)
    assert final.revision == 20


def test_folding_keeps_the_state_and_empties_the_journal(storage: Storage, fold_every: Callable[[int], None]) -> None:
    fold_every(5)
    ledger = storage.open()
    txs = fill(ledger, 4)
    assert storage.snapshot() is None
    assert storage.journal().count(b"\n") == 4
    before = state(ledger)
    txs.append(ledger.add("expense", "9", category="X"))  # the fifth entry folds
    assert storage.journal() == b""
    snapshot = json.loads(storage.snapshot() or b"")
    assert snapshot["schema_version"] == SCHEMA_VERSION
    assert snapshot["seq"] == 5
    assert len(snapshot["transactions"]["id"]) == 5
    reopened = storage.open()
    assert state(reopened) == {**before, txs[-1].id: txs[-1]}
    ledger.delete(txs[0].id)
    assert storage.journal().count(b"\n") == 1
    assert txs[0].id not in state(storage.open())


def test_undo_persists_and_survives_folding(storage: Storage, fold_every: Callable[[int], None]) -> None:
    fold_every(3)
    ledger = storage.open()
    a = ledger.add("expense", "1", category="A")
    ledger.update(a.id, amount="2")
    ledger.delete(a.id)
    b = ledger.add("income", "7", category="B")  # a fold happened at the third commit
    other = storage.open()
    assert other.undo() == "add income"
    assert other.undo() == "delete"
    assert storage.open().get(a.id).amount_minor == 200
    assert ledger.undo() == "edit"  # the first instance refreshes before undoing
    assert storage.open().get(a.id).amount_minor == 100
    assert b.id not in state(storage.open())


def test_meta_values_are_stored_with_the_ledger(storage: Storage) -> None:
    ledger = storage.open()
    ledger.set_meta("budgets", [{"category": "Food", "limit": "300.00", "note": "ünï"}])
    ledger.update_settings(currency="EUR")
    again = storage.open()
    assert again.meta("budgets") == [{"category": "Food", "limit": "300.00", "note": "ünï"}]
    assert again.default_currency == "EUR"
    assert again.add("expense", "1", category="X").currency == "EUR"


def test_torn_journal_tail_is_ignored_and_cut_on_the_next_write(storage: Storage) -> None:
    ledger = storage.open()
    kept = ledger.add("expense", "1", category="X")
    good = storage.journal()
    torn = b'{"schema_version":1,"seq":2,"ops":[{"op":"put","tx":{"id":"half'
    storage.set_journal(good + torn)
    image = storage.image()
    reader = storage.open()
    assert list(state(reader)) == [kept.id]
    assert storage.image() == image  # reading does not repair
    new = reader.add("expense", "2", category="Y")
    journal = storage.journal()
    assert journal.startswith(good)
    assert torn not in journal
    assert journal.count(b"\n") == 2
    assert journal.endswith(b"\n")
    assert set(state(storage.open())) == {kept.id, new.id}


def test_a_torn_tail_is_ignored_by_an_instance_reading_incrementally(storage: Storage) -> None:
    writer, reader = storage.open(), storage.open()
    first = writer.add("expense", "1", category="X")
    reader.refresh()
    storage.set_journal(storage.journal() + b'{"seq":')  # another process died mid-append
    assert reader.refresh() is False
    second = writer.add("expense", "2", category="Y")
    assert reader.refresh() is True
    assert set(state(reader)) == {first.id, second.id}


SNAPSHOT_DAMAGE = {
    "empty": (b"", "empty"),
    "blank": (b"  \n", "empty"),
    "truncated": (b'{"format": "expense-tracker-ledger", "schema_version": 1, "seq": 3, ', "truncated"),
    "cut in a string": (b'{"format": "expense-tracker-ledger", "schema_version": 1, "seq": 3, "transa', "JSON"),
    "binary": (bytes(range(256)), "binary"),
    "not json": (b"ledger, but not JSON {", "not valid JSON"),
    "a list": (b"[1, 2, 3]", "object"),
    "a number": (b"42", "object"),
    "an empty object": (b"{}", "does not hold a ledger"),
    "another app's object": (b'{"name": "something else"}', "schema_version"),
    "newer schema": (b'{"format": "expense-tracker-ledger", "schema_version": 99, "seq": 1}', "newer version"),
    "bad schema": (b'{"format": "expense-tracker-ledger", "schema_version": "1"}', "schema_version"),
    "missing columns": (
        b'{"format": "expense-tracker-ledger", "schema_version": 1, "seq": 1, "transactions": {}}',
        "incomplete",
    ),
}


@pytest.mark.parametrize("damage", list(SNAPSHOT_DAMAGE))
def test_a_damaged_snapshot_is_refused_untouched(storage: Storage, damage: str) -> None:
    ledger = storage.open()
    ledger.add("expense", "1", category="X")
    ledger.create_backup()
    data, words = SNAPSHOT_DAMAGE[damage]
    storage.set_snapshot(data)
    image = storage.image()
    with pytest.raises(CorruptDataError) as info:
        storage.open()
    message = str(info.value)
    assert "ledger.json" in message
    assert words in message
    assert "backup" in message
    with pytest.raises(CorruptDataError):
        ledger.add("expense", "2", category="Y")  # a ledger opened before the damage refuses to write too
    with pytest.raises(CorruptDataError):
        ledger.undo()
    assert storage.image() == image


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("date", "2026-13-45"),
        ("date", "2026/01/02"),
        ("category", ""),
        ("amount_minor", 0),
        ("amount_minor", 1.5),
        ("currency", "XXX"),
        ("type", "gift"),
        ("created_at", "yesterday"),
        ("id", ""),
    ],
)
def test_a_damaged_value_in_the_snapshot_is_refused_untouched(
    storage: Storage, fold_every: Callable[[int], None], column: str, value: object
) -> None:
    fold_every(1)
    ledger = storage.open()
    ledger.add("expense", "1", category="X")
    snapshot = json.loads(storage.snapshot() or b"")
    snapshot["transactions"][column] = [value]
    storage.set_snapshot(json.dumps(snapshot).encode())
    image = storage.image()
    with pytest.raises(CorruptDataError) as info:
        storage.open().frame()
    assert "ledger.json" in str(info.value)
    assert "Backups are in" in str(info.value)
    assert storage.image() == image


JOURNAL_DAMAGE = {
    "garbage line": b"this is not json\n",
    "not an object": b"[1, 2]\n",
    "binary": b"\xff\xfe\x00\x01\n",
    "newer schema": b'{"schema_version": 99, "seq": 2, "ops": []}\n',
    "seq gap": b'{"schema_version": 1, "seq": 5, "label": "x", "undo_of": null, "ops": []}\n',
    "bad record": (
        b'{"schema_version": 1, "seq": 2, "label": "x", "undo_of": null,'
        b' "ops": [{"op": "put", "tx": {"id": "x", "type": "gift"}, "before": null}]}\n'
    ),
    "unknown op": b'{"schema_version": 1, "seq": 2, "label": "x", "undo_of": null, "ops": [{"op": "zap"}]}\n',
    "deletion without its record": (
        b'{"schema_version": 1, "seq": 2, "label": "x", "undo_of": null, "ops": [{"op": "del", "id": "x"}]}\n'
    ),
    "meta change without its value before": (
        b'{"schema_version": 1, "seq": 2, "label": "x", "undo_of": null,'
        b' "ops": [{"op": "meta", "key": "budgets", "value": 1}]}\n'
    ),
}


@pytest.mark.parametrize("damage", list(JOURNAL_DAMAGE))
def test_a_damaged_journal_is_refused_untouched(storage: Storage, damage: str) -> None:
    ledger = storage.open()
    ledger.add("expense", "1", category="X")
    storage.set_journal(storage.journal() + JOURNAL_DAMAGE[damage])
    image = storage.image()
    with pytest.raises(CorruptDataError) as info:
        storage.open()
    assert "ledger.journal" in str(info.value)
    with pytest.raises(CorruptDataError):
        ledger.add("expense", "2", category="Y")
    assert storage.image() == image


def schema0(rows: list[dict[str, Any]], **extra: Any) -> bytes:
    return json.dumps({"schema_version": 0, "transactions": rows, **extra}).encode()


V0_ROWS = [
    {
        "id": "old-1",
        "type": "expense",
        "amount": "12.50",
        "currency": "EUR",
        "date": "2025-03-04",
        "category": "Food",
        "tags": ["lunch"],
        "note": "sandwich",
        "created_at": "2025-03-04T12:00:00.000000Z",
    },
    {"id": "old-2", "type": "income", "amount": "1000", "date": "2025-03-01", "category": "Salary"},
    {"id": "old-3", "type": "expense", "amount": 4.2, "date": "2025-03-05", "category": "Bus"},
]


def test_schema_0_file_is_migrated_and_backed_up_before_the_first_write(storage: Storage) -> None:
    original = schema0(V0_ROWS, meta={"settings": {"currency": "EUR"}})
    storage.set_snapshot(original)
    ledger = storage.open()
    got = state(ledger)
    assert sorted(got) == ["old-1", "old-2", "old-3"]
    assert (got["old-1"].amount_minor, got["old-1"].currency, got["old-1"].tags) == (1250, "EUR", ("lunch",))
    assert (got["old-2"].amount_minor, got["old-2"].currency, got["old-2"].type) == (100000, "USD", "income")
    assert got["old-3"].amount_minor == 420
    assert got["old-1"].created_at.isoformat() == "2025-03-04T12:00:00+00:00"
    assert ledger.default_currency == "EUR"
    assert storage.snapshot() == original  # reading never writes
    assert ledger.backups() == []
    new = ledger.add("expense", "1", category="X")
    backups = ledger.backups()
    assert [b.reason for b in backups] == ["before-migration"]
    assert ledger.backend.read_backup(backups[0].name) == json.loads(original)
    assert json.loads(storage.snapshot() or b"")["schema_version"] == SCHEMA_VERSION
    assert set(state(storage.open())) == {"old-1", "old-2", "old-3", new.id}
    assert state(storage.open())["old-2"] == got["old-2"]
    ledger.restore_backup(backups[0].name)  # the way back: the original file, migrated again
    restored = state(storage.open())
    assert sorted(restored) == ["old-1", "old-2", "old-3"]
    assert restored["old-1"] == got["old-1"]


def test_a_schema_0_file_that_cannot_be_migrated_is_refused_untouched(storage: Storage) -> None:
    storage.set_snapshot(schema0([{"id": "x", "type": "expense", "amount": "1.234", "date": "2025-01-01"}]))
    image = storage.image()
    with pytest.raises(CorruptDataError, match="schema 0"):
        storage.open()
    assert storage.image() == image


V2_DATA = Path(__file__).parent / "data" / "storage"
"""A schema 2 ledger with an undo history, and the states the schema 2 code reached by undoing it step by step,
both made by that code (``make_ledger_v2.py`` there, run on the tree before schema 3)."""


def undo_view(ledger: Ledger) -> dict[str, Any]:
    """What ``make_ledger_v2.py`` recorded of each state."""
    txs = ledger.transactions()
    assert {t.account for t in txs} <= {"Main"}  # migrated to schema 4: every old row in "Main"
    old = [f.record for f in ORIGINAL_FIELDS]
    records = {t.id: {k: v for k, v in t.to_record().items() if k in old} for t in txs}
    return {"records": records, "budgets": ledger.meta("budgets")}


@pytest.mark.parametrize("first_write", ["add", "undo"])
def test_a_schema_2_ledger_keeps_its_undo_history_through_the_migration(storage: Storage, first_write: str) -> None:
    original = (V2_DATA / "ledger-v2-undo.json").read_bytes()
    states = json.loads((V2_DATA / "ledger-v2-undo-states.json").read_text())
    assert json.loads(original)["schema_version"] == 2
    assert [len(entry["ops"]) for entry in json.loads(original)["undo"]] == [1, 1, 1, 1, 1, 40]  # whole entries
    storage.set_snapshot(original)
    ledger = storage.open()
    assert undo_view(ledger) == {"records": states[0]["records"], "budgets": states[0]["budgets"]}
    assert storage.snapshot() == original  # reading never migrates on disk
    if first_write == "add":
        ledger.add("expense", "1", category="After")
        assert ledger.undo() == "add expense"
    backups = ledger.backups()
    assert [b.reason for b in backups] == (["before-migration"] if first_write == "add" else [])
    for want in states[1:]:  # each undo by a fresh instance, each state checked by another
        assert storage.open().undo() == want["label"]
        assert undo_view(storage.open()) == {"records": want["records"], "budgets": want["budgets"]}
    assert storage.open().undo() is None
    backups = ledger.backups()
    assert backups[-1].reason == "before-migration"
    assert ledger.backend.read_backup(backups[-1].name) == json.loads(original)  # the schema 2 file itself
    if storage.kind == "json":
        assert (storage.folder / "backups" / backups[-1].name).read_bytes() == original  # byte for byte
    snap = json.loads(storage.snapshot() or b"")
    assert snap["schema_version"] == SCHEMA_VERSION == 5
    assert all(isinstance(text, str) for _, text in snap["undo"])  # the compact form, encoded apart


@pytest.mark.parametrize("fold", [False, True], ids=["in the journal", "folded"])
def test_undo_of_a_large_import_keeps_only_the_ids(storage: Storage, fold: bool) -> None:
    ledger = storage.open()
    kept = fill(ledger, 3)
    ledger.update(kept[0].id, note="edited")
    before_import = state(ledger)
    rows = [
        make_transaction(type="expense", amount=f"{i}.05", category="Bank", currency="EUR", note=f"imported {i}")
        for i in range(1, 2001)
    ]
    ledger.add_many(rows, label="import big.csv")
    ledger.engine.fold()
    if not fold:
        ledger.add("expense", "9", category="Later")
        ledger.undo()  # an undo entry and the change it undid are in the journal: neither is on the stack
        ledger.delete(kept[1].id)
    snap = json.loads(storage.snapshot() or b"")
    seqs = [seq for seq, _ in snap["undo"]]
    assert seqs == [1, 2, 3, 4, 5]  # three adds, the edit, the import
    steps = [json.loads(text) for _, text in snap["undo"]]
    assert steps[4]["added"] == [t.id for t in rows]
    assert steps[4]["before"]["id"] == []
    assert "imported 1" not in snap["undo"][4][1]  # ids only, not the records
    assert len(snap["undo"][4][1]) < 25 * len(rows)
    assert steps[3]["added"] == []
    assert steps[3]["before"]["note"] == ["t0"]  # an edit keeps the record before
    other = storage.open()
    if not fold:
        assert other.undo() == "delete"
        assert state(storage.open())[kept[1].id] == kept[1]
    assert other.undo() == "import big.csv"
    assert state(storage.open()) == before_import
    assert other.undo() == "edit"
    assert state(storage.open())[kept[0].id] == kept[0]
    assert [other.undo() for _ in range(4)] == ["add expense"] * 3 + [None]
    assert state(storage.open()) == {}


def test_loading_and_committing_never_decode_the_undo_history(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = storage.open()
    fill(ledger, 3)
    ledger.engine.fold()
    decoded: list[int] = []
    real = codec_module.decode

    def counting(item: list[Any], *args: Any) -> Any:
        decoded.append(item[0])
        return real(item, *args)

    monkeypatch.setattr(codec_module, "decode", counting)
    fresh = storage.open()
    fresh.frame()
    fresh.add("expense", "4", category="D")
    fresh.engine.fold()
    assert len(storage.open().transactions()) == 4
    assert decoded == []
    assert fresh.undo() == "add expense"
    assert decoded == [4]  # only the step undone


@pytest.mark.parametrize(
    ("undo", "words"),
    [
        ({"not": "a list"}, "undo"),
        ([[1]], "undo history"),
        ([["1", "{}"]], "undo history"),
        ([[1, {"label": "x"}]], "undo history"),
    ],
)
def test_a_damaged_undo_history_is_refused_untouched(storage: Storage, undo: object, words: str) -> None:
    ledger = storage.open()
    ledger.add("expense", "1", category="X")
    ledger.engine.fold()
    snapshot = json.loads(storage.snapshot() or b"")
    snapshot["undo"] = undo
    storage.set_snapshot(json.dumps(snapshot).encode())
    image = storage.image()
    with pytest.raises(CorruptDataError) as info:
        storage.open().frame()
    assert "ledger.json" in str(info.value)
    assert words in str(info.value)
    assert "Backups are in" in str(info.value)
    assert storage.image() == image


@pytest.mark.parametrize(
    "step",
    [
        "not json {",
        json.dumps({"label": "x", "added": [""], "before": {}, "meta": []}),
        json.dumps({"label": "x", "added": [], "meta": []}),
        json.dumps({"label": "x", "added": [], "before": {"id": ["a"]}, "meta": []}),
        json.dumps({"label": "x", "added": [], "before": {}, "meta": [[1, 2]]}),
    ],
    ids=["not json", "empty id", "no records", "incomplete records", "bad meta"],
)
def test_a_damaged_undo_step_is_refused_by_undo_untouched(storage: Storage, step: str) -> None:
    """The steps are only decoded by undo: the ledger loads, and undo refuses the damaged step and changes nothing."""
    ledger = storage.open()
    tx = ledger.add("expense", "1", category="X")
    ledger.engine.fold()
    snapshot = json.loads(storage.snapshot() or b"")
    snapshot["undo"][-1][1] = step
    storage.set_snapshot(json.dumps(snapshot).encode())
    image = storage.image()
    again = storage.open()
    assert [t.id for t in again.transactions()] == [tx.id]
    with pytest.raises(CorruptDataError) as info:
        again.undo()
    assert "ledger.json" in str(info.value)
    assert "undo step of change 1" in str(info.value)
    assert "Backups are in" in str(info.value)
    assert storage.image() == image


def test_backups_rotate_keeping_the_newest(storage: Storage) -> None:
    ledger = storage.open()
    ledger.add("expense", "1", category="X")
    made = [ledger.create_backup(f"manual {i}").name for i in range(KEEP_BACKUPS + 3)]
    names = [b.name for b in ledger.backups()]
    assert len(names) == KEEP_BACKUPS
    assert names == sorted(made[-KEEP_BACKUPS:], reverse=True)  # newest first
    assert ledger.backups()[0].reason == f"manual-{KEEP_BACKUPS + 2}"


def test_a_daily_backup_is_written_by_commits(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = storage.open()
    ledger.add("expense", "1", category="X")
    assert [b.reason for b in ledger.backups()] == ["daily"]
    ledger.add("expense", "2", category="X")
    assert len(ledger.backups()) == 1  # not again within a day
    monkeypatch.setattr(engine_module, "BACKUP_EVERY", engine_module.dt.timedelta(0))
    ledger.add("expense", "3", category="X")
    assert len(ledger.backups()) == 2


def test_restore_replaces_the_state_and_backs_up_the_current_one(storage: Storage) -> None:
    ledger = storage.open()
    a = ledger.add("expense", "1", category="A")
    backup = ledger.create_backup()
    b = ledger.add("expense", "2", category="B")
    ledger.update(a.id, note="later")
    watcher = storage.open()
    revision = ledger.revision
    ledger.restore_backup(backup.name)
    assert state(ledger) == {a.id: a}
    assert ledger.revision > revision
    assert watcher.refresh() is True
    assert state(watcher) == {a.id: a}
    before = [x for x in ledger.backups() if x.reason == "before-restore"]
    assert len(before) == 1
    saved = storage.open()
    saved.restore_backup(before[0].name)
    assert set(state(saved)) == {a.id, b.id}
    assert saved.get(a.id).note == "later"


def test_restore_works_when_the_data_is_corrupt_and_sets_it_aside(storage: Storage) -> None:
    ledger = storage.open()
    a = ledger.add("expense", "1", category="A")
    backup = ledger.create_backup()
    storage.set_snapshot(b"\x00garbage")
    with pytest.raises(CorruptDataError):
        storage.open()
    if storage.kind == "json":
        restored = restore_backup(storage.folder, backup.name)
    else:
        restored = storage.open(load=False)
        restored.restore_backup(backup.name)
    assert state(restored) == {a.id: a}
    assert state(storage.open()) == {a.id: a}
    aside = storage.set_aside()
    assert b"\x00garbage" in aside.values()  # moved, not deleted
    assert any(name.startswith("ledger.json.unreadable-") for name in aside)


def test_restore_refuses_unknown_and_damaged_backups_untouched(storage: Storage) -> None:
    ledger = storage.open()
    ledger.add("expense", "1", category="A")
    backup = ledger.create_backup()
    image = storage.image()
    with pytest.raises(NotFoundError):
        ledger.restore_backup("ledger-20000101T000000000000Z-nope.json")
    with pytest.raises(NotFoundError):
        ledger.restore_backup("../ledger.json")
    assert storage.image() == image
    if storage.kind == "memory":
        store_for(storage.folder).backups[backup.name] = b'{"format": "expense-tracker-ledger", '
    else:
        (storage.folder / "backups" / backup.name).write_bytes(b'{"format": "expense-tracker-ledger", ')
    image = storage.image()
    with pytest.raises(CorruptDataError, match="truncated"):
        ledger.restore_backup(backup.name)
    assert storage.image() == image


def test_backend_read_cursors(storage: Storage) -> None:
    ledger = storage.open()
    backend = ledger.backend
    first = backend.read(None)
    assert first.snapshot == {}
    assert first.entries == []
    ledger.add("expense", "1", category="X")
    step = backend.read(first.cursor)
    assert step.snapshot is None
    assert [e["seq"] for e in step.entries] == [1]
    assert backend.read(step.cursor).entries == []
    ledger.add("expense", "2", category="X")
    assert [e["seq"] for e in backend.read(step.cursor).entries] == [2]
    with backend.lock(), backend.lock():  # re-entrant
        backend.compact(ledger.engine.snapshot())
    after = backend.read(step.cursor)
    assert after.snapshot is not None
    assert after.snapshot["seq"] == 2
    assert after.entries == []


def test_load_data_schema_on_every_backend(storage: Storage) -> None:
    ledger = storage.open()
    assert_schema(ledger.frame())
    fill(ledger, 3)
    assert_schema(storage.open().frame())
    for tx in ledger.transactions():
        ledger.delete(tx.id)
    assert_schema(ledger.frame())
    assert_schema(storage.open().frame())


# -- JSON files only ------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_files_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    old = os.umask(0)
    try:
        ledger = Ledger(folder)
        monkeypatch.setattr(engine_module, "COMPACT_AFTER_ENTRIES", 2)
        tx = ledger.add("expense", "1", category="X")
        ledger.add("expense", "2", category="X")
        ledger.add("expense", "3", category="X")
        ledger.create_backup()
        (folder / "ledger.json").write_bytes(b"\x00")
        restore_backup(folder, ledger.backups()[0].name)
        Ledger(folder).update(tx.id, note="x")
    finally:
        os.umask(old)
    assert mode(folder) == 0o700
    assert mode(folder / "backups") == 0o700
    files = [p for p in folder.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"ledger.json", "ledger.journal", "ledger.lock"} <= names
    assert any(".unreadable-" in n for n in names)
    assert len(list((folder / "backups").iterdir())) >= 2
    assert {str(p.relative_to(folder)): oct(mode(p)) for p in files} == {
        str(p.relative_to(folder)): oct(0o600) for p in files
    }


def test_the_json_files_are_readable_json(data_dir: Path) -> None:
    ledger = Ledger(data_dir)
    tx = ledger.add("expense", "12.50", category="Café", currency="EUR")
    lines = (data_dir / "ledger.journal").read_bytes().splitlines()
    entry = json.loads(lines[0])
    assert entry["schema_version"] == JOURNAL_VERSION
    assert entry["seq"] == 1
    assert entry["ops"][0]["tx"]["amount_minor"] == 1250
    assert entry["ops"][0]["tx"]["created_at"] == iso_utc(tx.created_at)  # the journal keeps the record form
    assert "Café".encode() in lines[0]  # UTF-8, not \u escapes
    ledger.engine.fold()
    raw = (data_dir / "ledger.json").read_bytes()
    assert raw.isascii()  # the snapshot is ASCII-only: json parses that faster
    assert b"Caf\\u00e9" in raw
    snapshot = json.loads(raw)
    assert snapshot["format"] == "expense-tracker-ledger"
    assert snapshot["schema_version"] == SCHEMA_VERSION == 5
    assert snapshot["transactions"]["id"] == [tx.id]
    assert snapshot["transactions"]["category"] == ["Café"]


def test_stray_temporary_files_are_removed_on_the_next_start(data_dir: Path) -> None:
    Ledger(data_dir).add("expense", "1", category="X")
    strays = [data_dir / f".ledger.json{TMP_MARK}123-abcd", data_dir / "backups" / f".ledger-x.json{TMP_MARK}9-ff"]
    for path in strays:
        path.write_bytes(b"half a snapsh")
    keep = data_dir / "notes.txt"
    keep.write_text("mine")
    ledger = Ledger(data_dir)
    assert not any(p.exists() for p in strays)
    assert keep.read_text() == "mine"
    assert len(ledger.transactions()) == 1


def test_atomic_write_leaves_the_old_file_when_it_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.errors import StorageError
    from tracker.storage import fsutil

    target = tmp_path / "f.json"
    atomic_write(target, b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil.os, "fsync", broken_fsync)
    with pytest.raises(StorageError, match="disk is full"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_a_huge_file_is_refused_without_reading_it(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.storage import jsonfile

    Ledger(data_dir).add("expense", "1", category="X")
    Ledger(data_dir).engine.fold()
    monkeypatch.setattr(jsonfile, "MAX_FILE_BYTES", 100)
    with pytest.raises(CorruptDataError, match="larger than any ledger"):
        Ledger(data_dir)


def test_the_memory_backend_writes_no_files(tmp_path: Path) -> None:
    folder = tmp_path / "never-created"
    ledger = Ledger(folder, backend="memory", plugin_manager=plugin_manager())
    ledger.add("expense", "1", category="X")
    ledger.create_backup()
    assert not folder.exists()
    assert store_for(folder).appends == 1


@pytest.fixture(autouse=True)
def _forget_memory_stores() -> Iterator[None]:
    from memory_backend import STORES

    yield
    STORES.clear()


# -- the stale-cursor race: a new snapshot that looks like the old one --------------------------------------------


@pytest.mark.parametrize("entries_after_fold", [0, 1, 2, 3])
def test_a_reader_is_not_misled_by_a_new_snapshot_with_the_old_inode_mtime_and_size(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, entries_after_fold: int
) -> None:
    """Two folds in one mtime tick, the new snapshot on the old inode with the old size: the reader must notice.

    The situation is forced: the old snapshot's inode is kept alive by a hard link, the new snapshot's
    bytes are written into it (padded with JSON whitespace to the old size), it is renamed back and its
    mtime set to the old one. Every entry has the same length, so with 2 entries after the fold the new
    journal is exactly as long as the reader's offset into the old one (without the generation token it
    would see nothing new: silently stale), and with 3 its offset falls on an entry boundary (it would
    read seq 19 after seq 14: a false "missing changes" error).
    """
    monkeypatch.setattr(engine_module, "COMPACT_AFTER_ENTRIES", 4)
    writer = Ledger(data_dir)

    def add(amount: int) -> None:  # every journal line the same length
        writer.add("expense", str(amount), category="Journal", note="x" * 40)

    for i in range(1, 13):  # the 12th commit folds (seq 10 on: every seq has two digits)
        add((i - 1) % 9 + 1)
    snapshot = data_dir / "ledger.json"
    with open(snapshot, "ab") as fh:
        fh.write(b" " * 65536)  # room, so that the next snapshot can be given exactly this size
    add(4)
    add(5)
    reader = Ledger(data_dir)
    assert reader.revision == 14
    offset = (data_dir / "ledger.journal").stat().st_size
    old = os.stat(snapshot)
    keep = data_dir / "old-inode"
    os.link(snapshot, keep)
    for i in range(15, 17 + entries_after_fold):  # the 16th folds, the rest go to the new journal
        add((i - 1) % 9 + 1)
    assert (data_dir / "ledger.journal").stat().st_size == offset * entries_after_fold // 2
    new = snapshot.read_bytes()
    assert len(new) <= old.st_size
    keep.write_bytes(new + b" " * (old.st_size - len(new)))  # same inode, new content
    os.replace(keep, snapshot)
    os.utime(snapshot, ns=(old.st_atime_ns, old.st_mtime_ns))
    now = os.stat(snapshot)
    assert (now.st_ino, now.st_mtime_ns, now.st_size) == (old.st_ino, old.st_mtime_ns, old.st_size)
    assert reader.refresh()
    truth = Ledger(data_dir)
    assert reader.revision == truth.revision == 16 + entries_after_fold
    assert {t.id: t for t in reader.transactions()} == {t.id: t for t in truth.transactions()}
    pd.testing.assert_frame_equal(reader.frame(), truth.frame())


def test_a_journal_left_behind_by_an_interrupted_fold_is_read_again_until_replaced(data_dir: Path) -> None:
    """A fold cut between its two renames leaves the new snapshot beside the old journal: a reader that
    reads them then must not keep an offset into that journal, which the next fold replaces."""
    writer = Ledger(data_dir)
    for i in range(3):
        writer.add("expense", f"{i + 1}", category="A")
    journal = data_dir / "ledger.journal"
    old_journal = journal.read_bytes()
    writer.engine.fold()
    journal.write_bytes(old_journal)  # as if killed before the journal was emptied
    reader = Ledger(data_dir)
    assert reader.revision == 3
    assert reader.engine._cursor.offset is None  # type: ignore[attr-defined]
    other = Ledger(data_dir)
    other.add("expense", "4", category="B")  # appended to the journal left behind
    assert reader.refresh()
    assert reader.revision == 4
    other.engine.fold()
    other.add("expense", "5", category="C")
    other.add("expense", "6", category="C")
    assert reader.refresh()
    assert reader.revision == 6
    assert {t.id for t in reader.transactions()} == {t.id for t in Ledger(data_dir).transactions()}
    assert reader.engine._cursor.offset == journal.stat().st_size  # type: ignore[attr-defined]


def test_a_fold_copies_the_new_snapshot_file_as_its_backup(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "COMPACT_AFTER_ENTRIES", 3)
    monkeypatch.setattr(engine_module, "BACKUP_EVERY", dt.timedelta(0))  # a backup at every commit
    ledger = Ledger(data_dir)
    for i in range(3):
        ledger.add("expense", f"{i + 1}", category="Café")
    backups = ledger.backups()
    assert [b.reason for b in backups] == ["fold", "daily", "daily"]
    assert (data_dir / "backups" / backups[0].name).read_bytes() == (data_dir / "ledger.json").read_bytes()
    ledger.add("expense", "9", category="Later")
    info = ledger.create_backup()  # with a journal: the state, encoded
    restored = json.loads((data_dir / "backups" / info.name).read_bytes())
    assert restored["seq"] == 4
    assert restored["transactions"]["category"][-1] == "Later"


def test_a_snapshot_cut_anywhere_near_its_end_is_reported_as_truncated(tmp_path: Path) -> None:
    """The undo history is stored as strings at the end of the snapshot: a cut inside one is a truncation too."""
    data = tmp_path / "data"
    led = Ledger(data)
    led.add_many(
        [make_transaction(type="expense", amount=f"{i}.25", category="Food", currency="USD") for i in range(1, 30)]
    )
    led.update(led.transactions()[0].id, note="edited")
    led.engine.fold()
    whole = (data / "ledger.json").read_bytes()
    assert b'"undo"' in whole[-len(whole) // 2 :]
    for cut in range(1, 400, 13):
        (data / "ledger.json").write_bytes(whole[:-cut])
        with pytest.raises(CorruptDataError, match="is truncated"):
            Ledger(data)
        assert (data / "ledger.json").read_bytes() == whole[:-cut]


def test_a_large_meta_object_is_journaled_by_its_changed_entries_and_undone_exactly(data_dir: Path) -> None:
    """Thirty years of rates are one meta object of one string per pair: a rate typed afterwards journals that
    pair only (not megabytes), undo puts the pair back, and a reload (journal replayed) agrees."""
    from tracker.storage.codec import PATCH_META_BYTES

    ledger = Ledger(data_dir)
    big = {f"P{i:03d}/USD": "x" * 200 for i in range(100)}
    assert len(json.dumps(big)) > PATCH_META_BYTES
    ledger.set_meta("rates", big, "import rates")
    ledger.engine.fold()
    changed = {**big, "P001/USD": "y" * 200, "NEW/USD": "z"}
    del changed["P002/USD"]
    ledger.set_meta("rates", changed, "add rate")
    line = (data_dir / "ledger.journal").read_bytes()
    assert len(line) < 2000  # three entries, not the 20 KB object twice
    (op,) = json.loads(line)["ops"]
    assert op["changes"] == {
        "NEW/USD": [[], ["z"]],
        "P001/USD": [["x" * 200], ["y" * 200]],
        "P002/USD": [["x" * 200], []],
    }
    assert Ledger(data_dir).meta("rates") == changed  # replayed from the journal
    assert ledger.undo() == "add rate"
    assert ledger.meta("rates") == big
    assert Ledger(data_dir).meta("rates") == big
    ledger.engine.fold()
    assert Ledger(data_dir).meta("rates") == big
    ledger.set_meta("rates", changed, "again")
    ledger.engine.fold()  # the undo step (its entries before) now lives in the snapshot's undo stack
    snap = json.loads((data_dir / "ledger.json").read_bytes())
    assert len(snap["undo"][-1][1]) < 2000
    again = Ledger(data_dir)
    assert again.undo() == "again"
    assert Ledger(data_dir).meta("rates") == big
    small = {"a": 1}
    ledger.set_meta("tiny", small, "small")
    assert json.loads((data_dir / "ledger.journal").read_bytes().splitlines()[-1])["ops"][0]["value"] == small
