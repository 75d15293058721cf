"""The storage protocol the ledger writes through, and the values it exchanges.

A backend stores two things for one ledger: a *snapshot* (the whole state at a sequence number)
and a *journal* of changes committed after it. Both are plain JSON-able dicts; the backend only
keeps them durable and consistent, the ledger gives them meaning (see ``tracker.storage.codec``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

JsonDict = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class BackupInfo:
    """One backup: its name (what ``restore`` takes), when it was made, size and why."""

    name: str
    created_at: dt.datetime
    size: int
    reason: str


@dataclasses.dataclass(frozen=True)
class ReadResult:
    """What changed since a cursor.

    ``snapshot`` is ``None`` when the snapshot the caller already has is still current; then
    ``entries`` are only the journal entries appended since the cursor. Otherwise ``snapshot``
    is the whole current snapshot (or an empty dict for a ledger never saved) and ``entries``
    the whole journal.
    """

    snapshot: JsonDict | None
    entries: list[JsonDict]
    cursor: object


@runtime_checkable
class StorageBackend(Protocol):
    """What the ledger needs from storage. Every write must be atomic and durable."""

    name: str

    def describe(self) -> str:
        """Where the data lives, for people (a folder path, a URL)."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """An exclusive, re-entrant lock across processes for read-modify-write."""
        ...

    def read(self, cursor: object | None) -> ReadResult:
        """Changes since ``cursor`` (``None``: everything). Raises ``CorruptDataError`` naming the file."""
        ...

    def append(self, entry: JsonDict) -> None:
        """Durably add one entry to the journal (under the lock)."""
        ...

    def compact(self, snapshot: JsonDict) -> object | None:
        """Durably replace the snapshot and empty the journal (under the lock).

        May return the cursor of the state just written (what :meth:`read` would return as ``cursor``
        now), so that the writer need not read it back; ``None`` makes the ledger read it back.
        """
        ...

    def write_backup(self, snapshot: JsonDict, reason: str, keep: int) -> BackupInfo:
        """Store a backup of ``snapshot``; keep only the newest ``keep`` backups."""
        ...

    def list_backups(self) -> list[BackupInfo]:
        """Backups, newest first."""
        ...

    def read_backup(self, name: str) -> JsonDict:
        """A backup's snapshot. ``NotFoundError`` for an unknown name, ``CorruptDataError`` if unreadable."""
        ...

    def set_aside(self) -> list[str]:
        """Move the current (unreadable) data out of the way before a restore; returns the new names."""
        ...

    def cleanup(self) -> None:
        """Remove leftovers of interrupted writes (under the lock)."""
        ...

    def copy_snapshot_to_backup(self, reason: str, keep: int) -> BackupInfo | None:
        """Store the snapshot as it is stored (no decoding or encoding) as a backup; keep the newest ``keep``.

        ``None`` when there is no stored snapshot (then the engine writes one with :meth:`write_backup`). The
        engine calls it only when its state is exactly the stored snapshot (nothing in the journal since).
        """
        ...

    @property
    def snapshot_path(self) -> str | os.PathLike[str]:
        """Where the snapshot lives, for messages (a file, a URL)."""
        ...

    @property
    def journal_path(self) -> str | os.PathLike[str]:
        """Where the journal lives, for messages."""
        ...

    @property
    def backup_dir(self) -> str | os.PathLike[str]:
        """Where the backups live, for messages (what a person opens to find them)."""
        ...
