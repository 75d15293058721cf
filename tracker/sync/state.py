"""What this device knows of the merge: every entity's registers, the segments applied, its clock and its counters.

Kept in one SQLite file in the data folder (``sync/state.db``; :mod:`sqlite3` is in the standard library), beside
the ledger and never instead of it: the ledger stays the app's source of truth, and this file is only the sync's
bookkeeping (deleting it makes the next sync merge everything again, a union that loses nothing). Each sync is
one SQLite transaction, so a crash leaves it as it was before that sync or as it is after.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tracker.errors import StorageError
from tracker.sync.merge import Regs, pack, unpack

SCHEMA = """
CREATE TABLE IF NOT EXISTS entity (name TEXT PRIMARY KEY, regs TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS applied (device TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (device, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS conflict (n INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, text TEXT NOT NULL);
"""
KEEP_CONFLICTS = 200


class SyncState:
    """The sync bookkeeping of one data folder (open it with :func:`open_state`, use it as a context manager).

    Changes are made in one transaction, committed by :meth:`commit` (or rolled back when the ``with`` block
    raises).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30, isolation_level="DEFERRED")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the sync state {path}: {exc}") from None

    def __enter__(self) -> SyncState:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is not None:
            self.db.rollback()
        self.db.close()

    def commit(self) -> None:
        """Make this sync's changes durable (one SQLite transaction)."""
        self.db.commit()

    # -- key/value ------------------------------------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        """A stored JSON value."""
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def put(self, key: str, value: Any) -> None:
        """Store a JSON value (in the current transaction)."""
        self.db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    # -- entities -------------------------------------------------------------------------------------------------

    def regs(self, names: Iterable[str]) -> dict[str, Regs]:
        """The registers of the named entities that exist."""
        out: dict[str, Regs] = {}
        batch: list[str] = []
        for name in names:
            batch.append(name)
            if len(batch) == 500:
                out.update(self._regs(batch))
                batch = []
        if batch:
            out.update(self._regs(batch))
        return out

    def _regs(self, names: list[str]) -> dict[str, Regs]:
        marks = ",".join("?" * len(names))
        rows = self.db.execute(f"SELECT name, regs FROM entity WHERE name IN ({marks})", names)
        return {name: unpack(json.loads(regs)) for name, regs in rows}

    def all_regs(self, prefix: str = "") -> Iterator[tuple[str, Regs]]:
        """Every entity (whose name starts with ``prefix``) and its registers."""
        if prefix:
            rows = self.db.execute(
                "SELECT name, regs FROM entity WHERE name >= ? AND name < ?", (prefix, prefix + "\U0010ffff")
            )
        else:
            rows = self.db.execute("SELECT name, regs FROM entity")
        for name, regs in rows:
            yield name, unpack(json.loads(regs))

    def set_regs(self, changed: Mapping[str, Regs]) -> None:
        """Store entities' registers (in the current transaction)."""
        self.db.executemany(
            "INSERT OR REPLACE INTO entity (name, regs) VALUES (?, ?)",
            (
                (name, json.dumps(pack(regs), separators=(",", ":"), ensure_ascii=False))
                for name, regs in sorted(changed.items())  # in key order: the B-tree is filled, not shuffled
            ),
        )

    def empty(self) -> bool:
        """Whether no entity is known yet (nothing merged)."""
        return self.db.execute("SELECT 1 FROM entity LIMIT 1").fetchone() is None

    # -- segments -------------------------------------------------------------------------------------------------

    def applied(self) -> dict[str, set[int]]:
        """The segments applied, by device."""
        out: dict[str, set[int]] = {}
        for device, seq in self.db.execute("SELECT device, seq FROM applied"):
            out.setdefault(device, set()).add(seq)
        return out

    def mark_applied(self, device: str, seqs: Iterable[int]) -> None:
        """Remember segments as applied (in the current transaction)."""
        self.db.executemany("INSERT OR IGNORE INTO applied (device, seq) VALUES (?, ?)", ((device, s) for s in seqs))

    def contiguous(self) -> dict[str, int]:
        """For each device, the number up to which every one of its segments is applied (0: not even the first)."""
        out: dict[str, int] = {}
        floor = self.get("floor", {})
        for device, seqs in self.applied().items():
            n = floor.get(device, 0)
            while n + 1 in seqs:
                n += 1
            out[device] = n
        for device, n in floor.items():
            out.setdefault(device, n)
        return out

    def raise_floor(self, seen: Mapping[str, int]) -> None:
        """Every segment up to ``seen[device]`` counts as applied (a snapshot covering them was merged)."""
        floor = self.get("floor", {})
        for device, n in seen.items():
            floor[device] = max(floor.get(device, 0), int(n))
        self.put("floor", floor)
        self.db.executemany(
            "DELETE FROM applied WHERE device = ? AND seq <= ?", ((device, n) for device, n in floor.items())
        )

    # -- conflicts ------------------------------------------------------------------------------------------------

    def add_conflicts(self, at: str, texts: Iterable[str]) -> None:
        """Remember resolved conflicts (the newest :data:`KEEP_CONFLICTS` are kept)."""
        self.db.executemany("INSERT INTO conflict (at, text) VALUES (?, ?)", ((at, t) for t in texts))
        self.db.execute("DELETE FROM conflict WHERE n <= (SELECT max(n) FROM conflict) - ?", (KEEP_CONFLICTS,))

    def conflicts(self, limit: int = 50) -> list[dict[str, str]]:
        """The latest resolved conflicts, newest first."""
        rows = self.db.execute("SELECT at, text FROM conflict ORDER BY n DESC LIMIT ?", (limit,))
        return [{"at": at, "text": text} for at, text in rows]


def device_list(state: SyncState, me: str) -> list[dict[str, Any]]:
    """The devices seen (from their acknowledgements), by id: name, when last seen, whether it is this one."""
    return [
        {"device": device, "name": info.get("name", ""), "last_seen": info.get("at"), "this": device == me}
        for device, info in sorted(state.get("devices", {}).items())
    ]


@contextlib.contextmanager
def open_state(path: Path) -> Iterator[SyncState]:
    """The sync state at ``path`` for one sync: committed by the caller, rolled back on an error."""
    state = SyncState(path)
    with state:
        yield state
