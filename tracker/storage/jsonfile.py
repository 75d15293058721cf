"""The built-in backend: JSON files in one private folder.

Files (all 0600, folder 0700 on POSIX):

- ``ledger.json``: the snapshot, columnar, ASCII-only JSON, replaced atomically (temp file, fsync, rename,
  fsync folder). Its first key is ``generation``, a random token new at every replacement;
- ``ledger.journal``: one JSON object per line, each a committed change, appended and fsynced;
  a last line without its newline is a write that never completed, ignored and cut off by the next write;
- ``ledger.lock``: the inter-process lock;
- ``backups/ledger-<UTC time>-<reason>.json``: snapshots, newest ``keep`` kept.

Readers in other processes keep a cursor: the snapshot they read (its inode, mtime, size *and*
generation) and how far into the journal they are. The generation makes the cursor safe even when a
new snapshot gets the old one's inode, mtime and size (two folds inside one clock tick): a reader
never continues in a new journal from an offset into the old one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import re
import secrets
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
    """Compact UTF-8 JSON (non-ASCII kept as is): journal lines, which people may read."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def encode_snapshot(obj: Any) -> bytes:
    """Compact ASCII-only JSON (``\\uXXXX`` escapes): ``json.loads`` reads it about twice as fast as UTF-8 text."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")


GENERATION_KEY = "generation"
_HEAD = re.compile(rb'\A\{"generation":"([0-9a-f]{32})",')
_HEAD_BYTES = 64


@dataclasses.dataclass(frozen=True)
class Cursor:
    """Where a reader is: the snapshot it read and how far into the journal.

    ``offset`` is ``None`` while the journal still holds entries the snapshot already contains (a fold
    between its two renames, or one interrupted by a crash): that journal is about to be replaced, so the
    next read starts again at its beginning instead of trusting an offset into it.
    """

    identity: tuple[int, int, int] | None
    generation: str | None
    seq: int
    offset: int | None


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

    def _generation(self) -> str | None:
        """The generation token at the head of the current snapshot (``None``: none, or no snapshot)."""
        try:
            with open(self.snapshot_path, "rb") as fh:
                head = fh.read(_HEAD_BYTES)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read {self.snapshot_path}: {describe_oserror(exc)}") from None
        match = _HEAD.match(head)
        return match.group(1).decode("ascii") if match else None

    def read(self, cursor: object | None) -> ReadResult:
        with self._thread_lock:
            if isinstance(cursor, Cursor):
                result = self._read_since(cursor)
                if result is not None:
                    return result
            return self._read_all()

    def _read_since(self, cursor: Cursor) -> ReadResult | None:
        """The journal entries after ``cursor``, or ``None`` when the cursor no longer fits the files."""
        if self._identity() != cursor.identity or self._generation() != cursor.generation:
            return None
        entries, size = self._read_journal(cursor.offset or 0, strict=False)
        if size is None:  # shorter than the offset, or not whole entries from it: a journal the cursor never saw
            return None
        if self._identity() != cursor.identity or self._generation() != cursor.generation:
            return None  # replaced while we read
        return ReadResult(None, entries, self._cursor(cursor.identity, cursor.generation, cursor.seq, entries, size))

    def _read_all(self) -> ReadResult:
        for _ in range(100):
            identity = self._identity()
            generation = self._generation()
            snapshot = self._read_snapshot() if identity is not None else {}
            entries, size = self._read_journal(0)
            if self._identity() == identity and self._generation() == generation:
                seq = snapshot.get("seq", 0)
                seq = seq if isinstance(seq, int) else 0
                return ReadResult(snapshot, entries, self._cursor(identity, generation, seq, entries, size))
        raise StorageError(f"{self.snapshot_path} keeps changing while it is read; try again")  # pragma: no cover

    @staticmethod
    def _cursor(
        identity: tuple[int, int, int] | None,
        generation: str | None,
        seq: int,
        entries: list[JsonDict],
        size: int | None,
    ) -> Cursor:
        stale = any(isinstance(e.get("seq"), int) and e["seq"] <= seq for e in entries)
        return Cursor(identity, generation, seq, None if stale else size)

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
            # the end came too early: at the end, or inside a string that never closes (the undo history is
            # stored as strings at the end of a snapshot, and json names where such a string starts)
            if exc.pos >= len(raw.rstrip()) - 1:
                what = "is truncated"
            elif exc.msg.startswith("Unterminated string"):
                what = f"is truncated (not valid JSON: the text from line {exc.lineno}, column {exc.colno} never ends)"
            else:
                what = f"is not valid JSON (line {exc.lineno}, column {exc.colno})"
            raise CorruptDataError(self._problem(path, what)) from None
        except RecursionError:
            raise CorruptDataError(self._problem(path, "is nested too deeply to be a ledger")) from None
        if not isinstance(data, dict):
            raise CorruptDataError(self._problem(path, "does not hold a ledger (not a JSON object)"))
        if not data:  # an empty dict is what read() returns for a ledger never saved: never accept it from a file
            raise CorruptDataError(self._problem(path, "does not hold a ledger (an empty JSON object)"))
        return data

    def _read_journal(self, offset: int, *, strict: bool = True) -> tuple[list[JsonDict], int | None]:
        """Entries from byte ``offset`` and the offset after the last whole one.

        Not ``strict`` (continuing from a cursor): a journal shorter than ``offset``, or bytes from it that
        are not whole entries, return ``(entries, None)`` instead of raising: the caller then reads everything.
        """
        try:
            with open(self.journal_path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > MAX_FILE_BYTES:  # never read (nor later cut) a file no ledger of this app can be
                    raise CorruptDataError(
                        self._problem(self.journal_path, f"is {size:,} bytes, larger than any ledger this app writes")
                    )
                if size < offset and not strict:
                    return [], None
                fh.seek(offset)
                raw = fh.read()
        except FileNotFoundError:
            return [], (0 if strict or offset == 0 else None)
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
                if not strict:
                    return [], None
                raise CorruptDataError(
                    self._problem(self.journal_path, f"has a damaged entry (entry {number} after byte {offset})")
                ) from None
            if not isinstance(entry, dict):
                if not strict:
                    return [], None
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

    def compact(self, snapshot: JsonDict) -> Cursor | None:
        """Replace the snapshot (with a new generation token) and empty the journal.

        Returns the cursor of the state just written, as :meth:`read` would give it, so that the writer
        need not read back what it wrote; ``None`` if the journal could not be emptied (then read again).
        """
        with self._thread_lock:
            ensure_private_dir(self.folder)
            generation = secrets.token_hex(16)
            body = {k: v for k, v in snapshot.items() if k != GENERATION_KEY}
            atomic_write(self.snapshot_path, encode_snapshot({GENERATION_KEY: generation, **body}))
            # The snapshot now holds every journal entry (its seq says so); an entry left behind by
            # a crash right here is skipped on load because its seq is not above the snapshot's.
            try:
                if self.journal_path.exists():
                    atomic_write(self.journal_path, b"")
                self._journal_size = 0
            except StorageError:
                self._journal_size = -1
                return None
            seq = snapshot.get("seq", 0)
            return Cursor(self._identity(), generation, seq if isinstance(seq, int) else 0, 0)

    # -- backups ---------------------------------------------------------------------------------

    def write_backup(self, snapshot: JsonDict, reason: str, keep: int) -> BackupInfo:
        return self._store_backup(encode_snapshot(snapshot), reason, keep)

    def copy_snapshot_to_backup(self, reason: str, keep: int) -> BackupInfo | None:
        """Store the snapshot file's bytes as a backup (no decoding, no encoding); ``None`` if there is no file.

        Only right when the state to back up *is* the snapshot (an empty journal): the caller knows.
        """
        try:
            data = self._read_bytes(self.snapshot_path)
        except CorruptDataError:
            return None
        if not data:
            return None
        return self._store_backup(data, reason, keep)

    def _store_backup(self, data: bytes, reason: str, keep: int) -> BackupInfo:
        ensure_private_dir(self.backup_dir)
        now = dt.datetime.now(dt.UTC)
        tag = re.sub(r"[^a-z0-9-]+", "-", reason.lower()).strip("-") or "manual"
        name = f"ledger-{now.strftime('%Y%m%dT%H%M%S%f')}Z-{tag}.json"
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
