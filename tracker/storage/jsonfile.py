"""The built-in backend: JSON files in one private folder.

Files (all 0600, folder 0700 on POSIX):

- ``ledger.json``: the snapshot, columnar, replaced atomically (temp file, fsync, rename, fsync folder);
- ``ledger.journal``: one JSON object per line, each a committed change, appended and fsynced;
  a last line without its newline is a write that never completed, ignored and cut off by the next write;
- ``ledger.lock``: the inter-process lock;
- ``backups/ledger-<UTC time>-<reason>.json``: snapshots, newest ``keep`` kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import filelock

from tracker.errors import CorruptDataError, NotFoundError, StorageError
from tracker.storage.base import BackupInfo, JsonDict, ReadResult
from tracker.storage.fsutil import (
    atomic_write,
    describe_oserror,
    durable_append,
    ensure_private_dir,
    fsync_dir,
    remove_stray_temporaries,
)

SNAPSHOT = "ledger.json"
JOURNAL = "ledger.journal"
LOCKFILE = "ledger.lock"
BACKUPS = "backups"
MAX_FILE_BYTES = 1 << 30
_BACKUP_NAME = re.compile(r"^ledger-(\d{8}T\d{6}\d{6}Z)-([a-z0-9-]+)\.json$")

_locks: dict[Path, tuple[threading.RLock, filelock.FileLock]] = {}
_locks_guard = threading.Lock()


def _shared_lock(path: Path) -> tuple[threading.RLock, filelock.FileLock]:
    """One lock pair per lock file in this process, so nested use re-enters instead of deadlocking.

    The file lock is shared by the whole process (it re-enters from any thread), so a re-entrant
    thread lock in front of it makes two backends on the same folder in two threads exclude each other.
    """
    with _locks_guard:
        pair = _locks.get(path)
        if pair is None:
            pair = (threading.RLock(), filelock.FileLock(str(path), mode=0o600, thread_local=False))
            _locks[path] = pair
        return pair


def encode(obj: Any) -> bytes:
    """Compact UTF-8 JSON (non-ASCII kept as is)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


class JsonBackend:
    """Snapshot plus journal in a folder; see the module docstring."""

    name = "json"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.snapshot_path = self.folder / SNAPSHOT
        self.journal_path = self.folder / JOURNAL
        self.backup_dir = self.folder / BACKUPS
        self._thread_lock = threading.RLock()
        self._journal_size = 0  # committed bytes of the journal, valid while holding the lock

    def describe(self) -> str:
        return str(self.folder)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with self._thread_lock:
            ensure_private_dir(self.folder)
            gate, flock = _shared_lock(self.folder / LOCKFILE)
            with gate:
                try:
                    flock.acquire()
                except OSError as exc:
                    raise StorageError(f"cannot lock {self.folder / LOCKFILE}: {describe_oserror(exc)}") from None
                try:
                    yield
                finally:
                    flock.release()

    # -- reading ---------------------------------------------------------------------------------

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            st = self.snapshot_path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def read(self, cursor: object | None) -> ReadResult:
        with self._thread_lock:
            identity = self._identity()
            if isinstance(cursor, tuple) and cursor[0] == identity:
                entries, size = self._read_journal(int(cursor[1]))
                return ReadResult(None, entries, (identity, size))
            snapshot = self._read_snapshot() if identity is not None else {}
            entries, size = self._read_journal(0)
            if self._identity() != identity:  # replaced while we read: read again
                return self.read(None)
            return ReadResult(snapshot, entries, (identity, size))

    def _read_bytes(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise CorruptDataError(
                    self._problem(path, f"is {size:,} bytes, larger than any ledger this app writes")
                )
            return path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {describe_oserror(exc)}") from None

    def _problem(self, path: Path, what: str) -> str:
        return (
            f"{path} {what}. It was left untouched. Backups are in {self.backup_dir}: "
            "list them with `expense-tracker backups list` and restore one with `expense-tracker backups restore NAME`"
        )

    def _read_snapshot(self) -> JsonDict:
        raw = self._read_bytes(self.snapshot_path)
        return self._decode(self.snapshot_path, raw)

    def _decode(self, path: Path, raw: bytes) -> JsonDict:
        if not raw.strip():
            raise CorruptDataError(self._problem(path, "is empty"))
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise CorruptDataError(self._problem(path, "is not text (binary data)")) from None
        except json.JSONDecodeError as exc:
            what = (
                "is truncated"
                if exc.pos >= len(raw.rstrip()) - 1
                else f"is not valid JSON (line {exc.lineno}, column {exc.colno})"
            )
            raise CorruptDataError(self._problem(path, what)) from None
        except RecursionError:
            raise CorruptDataError(self._problem(path, "is nested too deeply to be a ledger")) from None
        if not isinstance(data, dict):
            raise CorruptDataError(self._problem(path, "does not hold a ledger (not a JSON object)"))
        if not data:  # an empty dict is what read() returns for a ledger never saved: never accept it from a file
            raise CorruptDataError(self._problem(path, "does not hold a ledger (an empty JSON object)"))
        return data

    def _read_journal(self, offset: int) -> tuple[list[JsonDict], int]:
        try:
            with open(self.journal_path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > MAX_FILE_BYTES:  # never read (nor later cut) a file no ledger of this app can be
                    raise CorruptDataError(
                        self._problem(self.journal_path, f"is {size:,} bytes, larger than any ledger this app writes")
                    )
                fh.seek(offset)
                raw = fh.read()
        except FileNotFoundError:
            return [], 0
        except OSError as exc:
            raise StorageError(f"cannot read {self.journal_path}: {describe_oserror(exc)}") from None
        end = raw.rfind(b"\n") + 1  # bytes after the last newline: a write that never completed
        entries = []
        for number, line in enumerate(raw[:end].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                raise CorruptDataError(
                    self._problem(self.journal_path, f"has a damaged entry (entry {number} after byte {offset})")
                ) from None
            if not isinstance(entry, dict):
                raise CorruptDataError(
                    self._problem(self.journal_path, f"has an entry that is not an object (entry {number})")
                )
            entries.append(entry)
        self._journal_size = offset + end
        return entries, offset + end

    # -- writing (under the lock) ------------------------------------------------------------------

    def append(self, entry: JsonDict) -> None:
        with self._thread_lock:
            size = self._committed_journal_size()
            self._journal_size = durable_append(self.journal_path, encode(entry) + b"\n", size)

    def _committed_journal_size(self) -> int:
        """Length of the journal up to its last newline (a torn tail is cut by the next append)."""
        try:
            size = self.journal_path.stat().st_size
        except FileNotFoundError:
            return 0
        if size == self._journal_size:
            return size
        with open(self.journal_path, "rb") as fh:
            data = fh.read()
        return data.rfind(b"\n") + 1

    def compact(self, snapshot: JsonDict) -> None:
        with self._thread_lock:
            ensure_private_dir(self.folder)
            atomic_write(self.snapshot_path, encode(snapshot))
            # The snapshot now holds every journal entry (its seq says so); an entry left behind by
            # a crash right here is skipped on load because its seq is not above the snapshot's.
            try:
                if self.journal_path.exists():
                    atomic_write(self.journal_path, b"")
                self._journal_size = 0
            except StorageError:
                self._journal_size = -1

    # -- backups ---------------------------------------------------------------------------------

    def write_backup(self, snapshot: JsonDict, reason: str, keep: int) -> BackupInfo:
        ensure_private_dir(self.backup_dir)
        now = dt.datetime.now(dt.UTC)
        tag = re.sub(r"[^a-z0-9-]+", "-", reason.lower()).strip("-") or "manual"
        name = f"ledger-{now.strftime('%Y%m%dT%H%M%S%f')}Z-{tag}.json"
        data = encode(snapshot)
        atomic_write(self.backup_dir / name, data)
        for old in self.list_backups()[keep:]:
            with contextlib.suppress(OSError):
                (self.backup_dir / old.name).unlink()
        with contextlib.suppress(OSError):
            fsync_dir(self.backup_dir)
        return BackupInfo(name, now, len(data), tag)

    def list_backups(self) -> list[BackupInfo]:
        if not self.backup_dir.is_dir():
            return []
        found = []
        for path in self.backup_dir.iterdir():
            match = _BACKUP_NAME.match(path.name)
            if not match:
                continue
            stamp = dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%S%fZ").replace(tzinfo=dt.UTC)
            with contextlib.suppress(OSError):
                found.append(BackupInfo(path.name, stamp, path.stat().st_size, match.group(2)))
        return sorted(found, key=lambda b: b.name, reverse=True)

    def read_backup(self, name: str) -> JsonDict:
        if not _BACKUP_NAME.match(name) or not (self.backup_dir / name).is_file():
            raise NotFoundError("backup", name, f"is not a backup in {self.backup_dir}")
        path = self.backup_dir / name
        return self._decode(path, self._read_bytes(path))

    def set_aside(self) -> list[str]:
        moved = []
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        try:
            for path in (self.snapshot_path, self.journal_path):
                if path.exists():
                    target = path.with_name(f"{path.name}.unreadable-{stamp}")
                    os.replace(path, target)
                    moved.append(target.name)
                    if os.name == "posix":
                        os.chmod(target, 0o600)  # kept for the user: as private as the data it may hold
            fsync_dir(self.folder)
        except OSError as exc:
            raise StorageError(
                f"could not move the unreadable data in {self.folder} aside: {describe_oserror(exc)}"
            ) from None
        self._journal_size = 0
        return moved

    def cleanup(self) -> None:
        remove_stray_temporaries(self.folder)
        remove_stray_temporaries(self.backup_dir)
