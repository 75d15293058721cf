"""A second, real storage backend for the tests: the ledger's data kept in memory.

It implements :class:`tracker.storage.base.StorageBackend` faithfully, without sharing code with the
JSON backend: every folder gets a :class:`MemoryStore` holding byte images of a snapshot, an
append-only journal (one JSON object per line, a last line without its newline is a torn write that
is ignored and cut off by the next append) and backups. Two ledgers opened on the same folder with
``backend="memory"`` share the store, as two processes share files, so refresh and cursors are
exercised for real. The lock is a re-entrant in-process lock (the store cannot be seen by other
processes anyway).

It reaches the ledger the way third-party backends do: a plugin implementing the
``register_storage_backends`` hook (see :func:`plugin_manager`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy

from tracker.errors import CorruptDataError, NotFoundError
from tracker.hookspecs import hookimpl
from tracker.plugins import make_plugin_manager
from tracker.storage.base import BackupInfo, JsonDict, ReadResult

NAME = "memory"
_BACKUP = re.compile(r"^ledger-(\d{8}T\d{12})Z-([a-z0-9-]+)\.json$")


@dataclasses.dataclass
class MemoryStore:
    """Everything stored for one folder, as bytes (so nothing is shared by reference with a ledger)."""

    snapshot: bytes | None = None
    generation: int = 0
    journal: bytes = b""
    backups: dict[str, bytes] = dataclasses.field(default_factory=dict)
    aside: dict[str, bytes] = dataclasses.field(default_factory=dict)
    lock: threading.RLock = dataclasses.field(default_factory=threading.RLock)
    appends: int = 0
    compactions: int = 0

    def image(self) -> dict[str, bytes | None]:
        """Every stored byte string by name (for byte-identical checks)."""
        with self.lock:
            return {
                "snapshot": self.snapshot,
                "journal": self.journal,
                **{f"backups/{k}": v for k, v in sorted(self.backups.items())},
                **{f"aside/{k}": v for k, v in sorted(self.aside.items())},
            }


STORES: dict[str, MemoryStore] = {}
_stores_guard = threading.Lock()


def store_for(folder: str | Path) -> MemoryStore:
    """The store of a folder (created empty on first use)."""
    key = str(Path(folder).expanduser().resolve())
    with _stores_guard:
        return STORES.setdefault(key, MemoryStore())


def encode(obj: Any) -> bytes:
    """UTF-8 JSON, non-ASCII kept, NaN refused."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


class MemoryBackend:
    """Snapshot, journal and backups of one folder, in a :class:`MemoryStore`."""

    name = NAME

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.store = store_for(folder)
        self.snapshot_path = f"memory://{self.folder}/ledger.json"
        self.journal_path = f"memory://{self.folder}/ledger.journal"
        self.backup_dir = f"memory://{self.folder}/backups"

    def describe(self) -> str:
        return f"memory://{self.folder}"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with self.store.lock:
            yield

    # -- reading ---------------------------------------------------------------------------------

    def _problem(self, where: str, what: str) -> CorruptDataError:
        return CorruptDataError(f"{where} {what}. It was left untouched. Backups are in {self.backup_dir}")

    def _decode(self, where: str, raw: bytes) -> JsonDict:
        if not raw.strip():
            raise self._problem(where, "is empty")
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._problem(where, "is not text (binary data)") from None
        except json.JSONDecodeError as exc:
            truncated = exc.pos >= len(raw.rstrip()) - 1
            raise self._problem(where, "is truncated" if truncated else "is not valid JSON") from None
        except RecursionError:
            raise self._problem(where, "is nested too deeply") from None
        if not isinstance(data, dict) or not data:
            raise self._problem(where, "does not hold a ledger (not a non-empty JSON object)")
        return data

    def _entries(self, offset: int) -> tuple[list[JsonDict], int]:
        tail = self.store.journal[offset:]
        end = tail.rfind(b"\n") + 1
        entries = []
        for number, line in enumerate(tail[:end].split(b"\n")[:-1], start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                raise self._problem(
                    self.journal_path, f"has a damaged entry (line {number} after byte {offset})"
                ) from None
            if not isinstance(entry, dict):
                raise self._problem(self.journal_path, f"has an entry that is not an object (line {number})")
            entries.append(entry)
        return entries, offset + end

    def read(self, cursor: object | None) -> ReadResult:
        with self.store.lock:
            generation = self.store.generation
            if isinstance(cursor, tuple) and cursor[0] == generation:
                entries, size = self._entries(int(cursor[1]))
                return ReadResult(None, entries, (generation, size))
            raw = self.store.snapshot
            snapshot = {} if raw is None else self._decode(self.snapshot_path, raw)
            entries, size = self._entries(0)
            return ReadResult(snapshot, entries, (generation, size))

    # -- writing ---------------------------------------------------------------------------------

    def append(self, entry: JsonDict) -> None:
        line = encode(entry) + b"\n"
        with self.store.lock:
            journal = self.store.journal
            committed = journal[: journal.rfind(b"\n") + 1]  # a torn tail is cut off
            self.store.journal = committed + line
            self.store.appends += 1

    def compact(self, snapshot: JsonDict) -> None:
        data = encode(snapshot)
        with self.store.lock:
            self.store.snapshot = data
            self.store.journal = b""
            self.store.generation += 1
            self.store.compactions += 1

    # -- backups ---------------------------------------------------------------------------------

    def write_backup(self, snapshot: JsonDict, reason: str, keep: int) -> BackupInfo:
        return self._store_backup(encode(snapshot), reason, keep)

    def copy_snapshot_to_backup(self, reason: str, keep: int) -> BackupInfo | None:
        with self.store.lock:
            data = self.store.snapshot
            return None if data is None else self._store_backup(data, reason, keep)

    def _store_backup(self, data: bytes, reason: str, keep: int) -> BackupInfo:
        tag = re.sub(r"[^a-z0-9-]+", "-", reason.lower()).strip("-") or "manual"
        with self.store.lock:
            now = dt.datetime.now(dt.UTC)
            newest = self.list_backups()
            if newest and newest[0].created_at >= now:  # names must sort by time: never reuse an instant
                now = newest[0].created_at + dt.timedelta(microseconds=1)
            name = f"ledger-{now.strftime('%Y%m%dT%H%M%S%f')}Z-{tag}.json"
            self.store.backups[name] = data
            for old in self.list_backups()[keep:]:
                del self.store.backups[old.name]
        return BackupInfo(name, now, len(data), tag)

    def list_backups(self) -> list[BackupInfo]:
        with self.store.lock:
            found = []
            for name, data in self.store.backups.items():
                match = _BACKUP.match(name)
                if match:
                    stamp = dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=dt.UTC)
                    found.append(BackupInfo(name, stamp, len(data), match.group(2)))
        return sorted(found, key=lambda b: b.name, reverse=True)

    def read_backup(self, name: str) -> JsonDict:
        with self.store.lock:
            raw = self.store.backups.get(name)
        if raw is None:
            raise NotFoundError("backup", name, f"is not a backup in {self.backup_dir}")
        return self._decode(f"{self.backup_dir}/{name}", raw)

    def set_aside(self) -> list[str]:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        moved = []
        with self.store.lock:
            if self.store.snapshot is not None:
                self.store.aside[f"ledger.json.unreadable-{stamp}"] = self.store.snapshot
                moved.append(f"ledger.json.unreadable-{stamp}")
            if self.store.journal:
                self.store.aside[f"ledger.journal.unreadable-{stamp}"] = self.store.journal
                moved.append(f"ledger.journal.unreadable-{stamp}")
            self.store.snapshot = None
            self.store.journal = b""
            self.store.generation += 1
        return moved

    def cleanup(self) -> None:
        """Nothing to do: an in-memory write is never left half done."""


class MemoryStoragePlugin:
    """Offers :class:`MemoryBackend` under the name ``memory`` through the plugin hook."""

    @hookimpl
    def register_storage_backends(self) -> dict[str, type[MemoryBackend]]:
        return {NAME: MemoryBackend}


plugin = MemoryStoragePlugin()
"""Module-level instance, also the target of the entry point used in test_plugins.py."""


def plugin_manager() -> pluggy.PluginManager:
    """A fresh plugin manager with the built-ins plus the memory backend (no installed plugins)."""
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(MemoryStoragePlugin(), name="memory-storage")
    return pm
