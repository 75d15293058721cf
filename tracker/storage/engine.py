"""The journal/snapshot engine under a :class:`tracker.ledger.Ledger`: refresh, commit, fold, backups, undo.

Every change is one *commit*: an entry of operations appended durably to the backend's journal under an
inter-process lock, after picking up what other processes committed. Now and then the journal is folded
into a fresh snapshot (and a backup is written), so a load reads one columnar snapshot plus a short journal.

In memory the engine keeps the snapshot's columns as read (schema 2 encoding, see
:mod:`tracker.storage.columns`) plus an *overlay* of the records the journal changed since, and builds the
transactions frame from them (cached per revision); the undo history stays in its stored form, decoded one
step at a time by undo (:mod:`tracker.storage.undo`). It knows records (the storage form), never
:class:`~tracker.model.Transaction` rules: the ledger validates, the engine stores.

The tunables below are module attributes so that tests can change them.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import logging
import operator
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tracker.errors import CorruptDataError, NotFoundError, StorageError, ValidationError
from tracker.filters import Filter, filter_mask
from tracker.model import RECORD_FIELDS, iso_utc, utcnow
from tracker.rows import StoredRows
from tracker.storage.base import BackupInfo, JsonDict, StorageBackend
from tracker.storage.codec import (
    JOURNAL_VERSION,
    apply_meta_op,
    check_entry,
    check_snapshot,
    empty_snapshot,
    meta_op,
    undo_step,
    upgrade_snapshot,
    upgraded_entry,
)
from tracker.storage.columns import record_at, stored_columns
from tracker.storage.undo import UndoItem, compact

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

COMPACT_AFTER_ENTRIES = 1000
"""Fold the journal into a new snapshot after this many entries..."""
COMPACT_AFTER_OPS = 5000
"""... or this many operations (an import of a few thousand rows is folded at once: a load reads the columnar
snapshot much faster than the journal's records)."""
UNDO_DEPTH = 50
"""How many changes can be undone."""
KEEP_BACKUPS = 10
"""Backups kept (the oldest go)."""
BACKUP_EVERY = dt.timedelta(hours=24)
"""A backup is written at the first change after this long since the last one."""

_WRITE_STATE = ("_overlay", "_meta", "_undo", "_seq", "entries_since_snapshot", "_ops_since_snapshot")
"""What applying a journal entry changes in memory (put back when a folded write fails)."""

Saved = Callable[[int, str], None]
"""Called after each save with the new revision and the change's label."""


class Engine:
    """The stored state of one ledger and every read and write of it through a :class:`StorageBackend`.

    Args:
        backend: where the snapshot, journal and backups live.
        saved: called after every save (a commit, an undo, a restore), still under the lock.
    """

    def __init__(self, backend: StorageBackend, saved: Saved) -> None:
        self.backend = backend
        self.saved = saved
        self.mutex = threading.RLock()
        self._cursor: object | None = None
        self._cols: dict[str, list[Any]] = empty_snapshot()["transactions"]
        self._pos: dict[str, int] | None = None
        self._counts: tuple[object, dict[str, collections.Counter[Any]]] | None = None
        self._overlay: dict[str, JsonDict | None] = {}
        self._meta: dict[str, Any] = {}
        self._undo: list[UndoItem] = []  # the stored form: decoded only by undo (see tracker.storage.undo)
        self._seq = 0
        self.entries_since_snapshot = 0
        self._ops_since_snapshot = 0
        self._pre_migration: JsonDict | None = None
        self._base_frame: pd.DataFrame | None = None
        self._frame: tuple[int, pd.DataFrame] | None = None
        self._merged: tuple[tuple[int, int], dict[str, list[Any]], np.ndarray | None, StoredRows | None] | None = None
        self._last_backup: dt.datetime | None = None
        self._cleaned = False
        self._depth = 0
        self._fresh = False
        self.last_change: tuple[int, list[JsonDict] | None] = (0, None)
        """The revision of this engine's last save and its journal ops (``None``: the whole state was replaced, a
        restore), for an ``after_save`` plugin to see what changed without reading the journal back."""

    # -- reading -----------------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The sequence number of the last change seen."""
        return self._seq

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the inter-process lock (re-entrant); the first time, clean up interrupted writes.

        While it is held nobody else can commit, so the journal is read at most once per holding (see
        :meth:`refresh_locked`): ``with locked(): refresh(); commit()`` reads it once, not twice.
        """
        with self.mutex, self.backend.lock():
            if not self._cleaned:
                self.backend.cleanup()
                self._cleaned = True
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if not self._depth:
                    self._fresh = False  # released: others may commit from now on

    @contextlib.contextmanager
    def read_lock(self, folder: Path) -> Iterator[None]:
        """The lock for reading; an existing ``folder`` where no lock can be taken (read-only) is read without it."""
        with self.mutex, contextlib.ExitStack() as stack:
            try:
                stack.enter_context(self.locked())
            except StorageError:
                if not folder.is_dir():
                    raise
                log.info("reading %s without the lock (the folder is not writable)", folder)
            yield

    def refresh_locked(self) -> bool:
        """Pick up what was committed since the last read; returns whether anything changed.

        Under :meth:`locked`, only the first call of a holding reads the backend: the state is then
        current until the lock is released (this engine's own commits keep it so).
        """
        if self._fresh:
            return False
        result = self.backend.read(self._cursor)
        changed = False
        if result.snapshot is not None:
            self._load_snapshot(result.snapshot)
            changed = True
        for entry in result.entries:
            seq = entry.get("seq")
            if isinstance(seq, int) and seq <= self._seq:
                continue  # already in the snapshot (a fold interrupted before the journal was emptied) or ours
            journal = str(self.backend.journal_path)
            try:
                check_entry(entry, journal)
            except CorruptDataError as exc:
                raise self.damaged(str(exc)) from None
            if seq != self._seq + 1:
                raise self.damaged(f"{journal} is missing changes (expected seq {self._seq + 1}, found {seq})")
            self._apply_entry(entry)
            changed = True
        self._cursor = result.cursor
        self._fresh = self._depth > 0
        return changed

    def reread_locked(self) -> None:
        """Read the whole stored state again (after the backend's files were replaced)."""
        self._cursor = None
        self._fresh = False
        self.refresh_locked()

    def damaged(self, message: str) -> CorruptDataError:
        """A ``CorruptDataError`` that also says where the backups are and how to restore one."""
        return CorruptDataError(
            f"{message.rstrip('.')}. Backups are in {self.backend.backup_dir}: list them with "
            "`expense-tracker backups list` and restore one with `expense-tracker backups restore NAME`"
        )

    def _load_snapshot(self, raw: JsonDict) -> None:
        source = str(self.backend.snapshot_path)
        if not raw:
            snap, migrated = empty_snapshot(), False
        else:
            try:
                snap, migrated = upgrade_snapshot(raw, source)
                check_snapshot(snap, source)
            except CorruptDataError as exc:
                raise self.damaged(str(exc)) from None
        self._pre_migration = raw if migrated else None
        self._cols = snap["transactions"]
        self._pos = None
        self._merged = None
        self._overlay = {}
        self._meta = dict(snap.get("meta", {}))
        self._undo = list(snap.get("undo", []))
        self._seq = snap["seq"]
        self.entries_since_snapshot = 0
        self._ops_since_snapshot = 0
        self._base_frame = None
        self._frame = None

    def _apply_entry(self, entry: JsonDict) -> None:
        if entry.get("schema_version") != JOURNAL_VERSION:  # written before schema 4 or 5: records lack their fields
            entry = upgraded_entry(entry)
        for op in entry["ops"]:
            kind = op["op"]
            if kind == "put":
                self._overlay[op["tx"]["id"]] = op["tx"]
            elif kind == "del":
                self._overlay[op["id"]] = None
            else:
                apply_meta_op(self._meta, op)
        undo_of = entry.get("undo_of")
        if undo_of is None:
            self._undo.append(compact(entry))
            del self._undo[:-UNDO_DEPTH]
        else:
            self._undo = [item for item in self._undo if item[0] != undo_of]
        self._seq = entry["seq"]
        self.entries_since_snapshot += 1
        self._ops_since_snapshot += len(entry["ops"])

    def record(self, tx_id: str) -> JsonDict | None:
        """The record of one transaction (storage form), ``None`` if there is none."""
        if tx_id in self._overlay:
            return self._overlay[tx_id]
        if self._pos is None:
            self._pos = {v: i for i, v in enumerate(self._cols["id"])}
        i = self._pos.get(tx_id)
        if i is None:
            return None
        return record_at(self._cols, i)

    def records(self) -> Iterator[JsonDict]:
        """Every transaction's record, in no particular order."""
        ids = self._cols["id"]
        for i, tx_id in enumerate(ids):
            if tx_id not in self._overlay:
                yield record_at(self._cols, i)
        for rec in self._overlay.values():
            if rec is not None:
                yield rec

    def distinct(self, name: str) -> set[Any]:
        """The distinct values of one stored column over every transaction (the snapshot's counted once per
        load, then only the journal's changes: cheap on every commit)."""
        with self.mutex:
            if self._counts is None or self._counts[0] is not self._cols:
                self._counts = (self._cols, {})
            counts = self._counts[1]
            if name not in counts:
                counts[name] = collections.Counter(self._cols[name])
            found = counts[name]
            values = set(found)
            if self._overlay:
                if self._pos is None:
                    self._pos = {v: i for i, v in enumerate(self._cols["id"])}
                column = self._cols[name]
                gone = collections.Counter(column[self._pos[i]] for i in self._overlay if i in self._pos)
                values = {v for v in values if found[v] > gone.get(v, 0)}
                values.update(rec[name] for rec in self._overlay.values() if rec is not None)
            return values

    def meta(self, key: str, default: Any = None) -> Any:
        """A stored meta value (not a copy)."""
        return self._meta.get(key, default)

    def meta_items(self) -> dict[str, Any]:
        """Every stored meta value by key (the stored values, not copies: do not modify them)."""
        return dict(self._meta)

    def undoable(self) -> bool:
        """Whether a change can be undone."""
        return bool(self._undo)

    def _stored_frame(self, cols: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
        from tracker.frame import frame_from_stored

        try:
            return frame_from_stored(cols)
        except (ValueError, TypeError, OverflowError) as exc:
            source = self.backend.snapshot_path
            raise self.damaged(f"{source} is damaged: {exc}. It was left untouched") from None

    def frame(self) -> pd.DataFrame:
        """Every transaction as a frame, by date then creation; cached per revision (do not modify it)."""
        import pandas as pd

        from tracker.frame import empty_frame, frame_from_records

        with self.mutex:
            if self._frame is not None and self._frame[0] == self._seq:
                return self._frame[1]
            if self._base_frame is None:
                self._base_frame = _by_date(self._stored_frame(self._cols))
            frame = self._base_frame
            if self._overlay:
                keep = ~frame["id"].isin(list(self._overlay)).to_numpy(dtype=bool)
                live = [r for r in self._overlay.values() if r is not None]
                parts = [frame[keep]]
                if live:
                    parts.append(frame_from_records(live))
                frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
                frame = _by_date(frame)
                if frame.empty:
                    frame = empty_frame()
            self._frame = (self._seq, frame)
            return frame

    def select(self, flt: Filter) -> dict[str, list[Any]]:
        """The transactions that satisfy ``flt``, as snapshot columns, by date then creation (as :meth:`frame`).

        No frame and no pandas: the filter (:func:`tracker.filters.filter_mask`) runs on the stored columns,
        the snapshot's plus the journal's records encoded alike. What the fast CLI reads.
        """
        with self.mutex:
            found, keep = self.rows_where(flt)
            cols = found.cols
            rows = np.flatnonzero(keep)
            if rows.size == 0:
                return {name: [] for name in RECORD_FIELDS}
            day = np.array(cols["date"], dtype=np.int64)[rows]
            made = np.array(cols["created_at"], dtype=np.int64)[rows]
            rows = rows[np.lexsort((made, day))]  # stable: ties keep the stored order, as the frame's sort does
            pick = operator.itemgetter(*rows.tolist())
            return {name: _picked(pick, cols[name]) for name in RECORD_FIELDS}

    def rows_where(self, flt: Filter) -> tuple[StoredRows, np.ndarray]:
        """Every stored row (the snapshot's and the journal's, in no particular order) and the mask of those that
        satisfy ``flt``: for totals over many rows, where :meth:`select`'s ordering and copying is not needed.
        The rows (and the arrays they compute) are kept until the next change."""
        with self.mutex:
            cols, stale = self._merged_columns()
            assert self._merged is not None
            found = self._merged[3]
            if found is None:
                found = StoredRows(cols)
                self._merged = (*self._merged[:3], found)
            keep = filter_mask(found, flt)
            if stale is not None:
                keep[stale] = False  # replaced or deleted by the journal: its record is in the overlay, if any
            return found, keep

    def _merged_columns(self) -> tuple[dict[str, list[Any]], np.ndarray | None]:
        """The snapshot's columns with the journal's records appended in the same encoding, and the positions
        of the snapshot rows the journal replaced or deleted; kept until the next change."""
        key = (id(self._cols), self._seq)
        if self._merged is not None and self._merged[0] == key:
            return self._merged[1], self._merged[2]
        cols, stale = self._cols, None
        if self._overlay:
            if self._pos is None:
                self._pos = {v: i for i, v in enumerate(cols["id"])}
            edited = [self._pos[tx_id] for tx_id in self._overlay if tx_id in self._pos]
            live = stored_columns(r for r in self._overlay.values() if r is not None)
            cols = {name: [*cols[name], *live[name]] for name in RECORD_FIELDS}
            if edited:
                stale = np.array(edited, dtype=np.intp)
        self._merged = (key, cols, stale, None)
        return cols, stale

    def frame_where(self, flt: Filter) -> pd.DataFrame:
        """The rows that satisfy ``flt``, exactly as :meth:`frame` has them (index 0..n-1). Not cached.

        When the whole frame is not built yet, only the selected rows are converted (:meth:`select`).
        """
        from tracker.filters import apply_filter

        with self.mutex:
            if (self._frame is not None and self._frame[0] == self._seq) or self._base_frame is not None:
                return apply_filter(self.frame(), flt).reset_index(drop=True)
            return self._stored_frame(self.select(flt))

    # -- writing -----------------------------------------------------------------------------------

    def commit_locked(
        self,
        puts: Iterable[JsonDict],
        deletes: Iterable[str] = (),
        meta: Mapping[str, Any] | None = None,
        label: str = "change",
    ) -> int:
        """Store records (new or replaced), deletions and meta values as one undoable change.

        For a caller that holds the lock and has just refreshed (one journal read per commit). Returns the
        new revision (unchanged if there was nothing to do).
        """
        with self.locked():
            ops: list[JsonDict] = []
            seen: set[str] = set()
            for rec in puts:
                if rec["id"] in seen:
                    raise ValidationError("id", rec["id"], "appears twice in one change")
                seen.add(rec["id"])
                ops.append({"op": "put", "tx": rec, "before": self.record(rec["id"])})
            for tx_id in deletes:
                before = self.record(tx_id)
                if before is None or tx_id in seen:
                    raise NotFoundError("id", tx_id, "is not a transaction in this ledger")
                seen.add(tx_id)
                ops.append({"op": "del", "id": tx_id, "before": before})
            for key, value in (meta or {}).items():
                try:
                    value = json.loads(json.dumps(value, allow_nan=False))
                except (TypeError, ValueError):
                    raise ValidationError(key, value, "cannot be stored (not plain JSON data)") from None
                ops.append(meta_op(key, value, self._meta.get(key)))
            if not ops:
                return self._seq
            return self._write({"ops": ops, "label": label, "undo_of": None})

    def undo_locked(self) -> str | None:
        """Reverse the last change that can still be undone (hold the lock, just refreshed); returns its label."""
        with self.locked():
            if not self._undo:
                return None
            try:
                step = undo_step(self._undo[-1], str(self.backend.snapshot_path))
            except CorruptDataError as exc:
                raise self.damaged(str(exc)) from None
            ops: list[JsonDict] = []
            for key, value in step.meta:
                ops.append({"op": "meta", "key": key, "value": value, "before": self._meta.get(key)})
            for key, old in step.patches:  # a large object: its changed entries back as they were
                current = self._meta.get(key)
                changes = {
                    k: [[current[k]] if isinstance(current, dict) and k in current else [], v] for k, v in old.items()
                }
                ops.append({"op": "meta", "key": key, "changes": changes})
            for rec in step.before:
                ops.append({"op": "put", "tx": rec, "before": self.record(rec["id"])})
            for tx_id in step.added:
                current = self.record(tx_id)
                if current is not None:
                    ops.append({"op": "del", "id": tx_id, "before": current})
            self._write({"ops": ops, "label": f"undo {step.label}", "undo_of": step.seq})
            return step.label

    def _write(self, body: JsonDict) -> int:
        entry = {"schema_version": JOURNAL_VERSION, "seq": self._seq + 1, "at": iso_utc(utcnow()), **body}
        if self._pre_migration is not None:
            self.fold(reason="before-migration", backup_of=self._pre_migration)
            entry["seq"] = self._seq + 1
        if len(entry["ops"]) >= COMPACT_AFTER_OPS:
            self._write_folded(entry)
        else:
            self.backend.append(entry)
            self._apply_entry(entry)
        self.last_change = (entry["seq"], entry["ops"])
        try:
            self._maintain()
        except StorageError as exc:  # the change is saved: a failed fold or backup must not report it as lost
            log.warning("the change was saved, but folding the journal or writing a backup failed: %s", exc)
        self.saved(entry["seq"], entry["label"])
        return self._seq

    def _write_folded(self, entry: JsonDict) -> None:
        """Store a big change (thousands of rows: an import, a device's first sync) as a new snapshot at once, rather
        than journaling it to fold it right after: one atomic write instead of two. Its undo step is in the
        snapshot's undo history as a journaled change's would be; if the write fails, the state is as it was."""
        saved = {name: getattr(self, name) for name in _WRITE_STATE}
        self._overlay, self._meta, self._undo = dict(self._overlay), dict(self._meta), list(self._undo)
        try:
            self._apply_entry(entry)
            self.fold()
        except BaseException:
            for name, value in saved.items():
                setattr(self, name, value)
            self._merged = None
            self._frame = None
            raise

    def snapshot(self) -> JsonDict:
        """The current state as a snapshot: rows sorted by date, creation time and id."""
        cols = self._cols
        if self._overlay:
            live = stored_columns(r for r in self._overlay.values() if r is not None)
            if self._pos is None:
                self._pos = {v: i for i, v in enumerate(cols["id"])}
            if any(tx_id in self._pos for tx_id in self._overlay):  # edits or deletions of stored rows
                kept = [i for i, tx_id in enumerate(cols["id"]) if tx_id not in self._overlay]
                keep = operator.itemgetter(*kept) if kept else None  # itemgetter() of nothing is an error
                merged = {name: [*(_picked(keep, cols[name]) if keep else ()), *live[name]] for name in RECORD_FIELDS}
            else:  # only new rows: the stored columns as they are, plus them
                merged = {name: [*cols[name], *live[name]] for name in RECORD_FIELDS}
            ids = np.array(merged["id"], dtype=str)  # no control characters in an id, so no padding clash
            order = np.lexsort((ids, merged["created_at"], merged["date"]))
            if not bool((order == np.arange(len(order))).all()):
                pick = operator.itemgetter(*order.tolist())
                merged = {name: _picked(pick, values) for name, values in merged.items()}
            cols = merged
        snap = empty_snapshot()
        snap.update(seq=self._seq, transactions=cols, meta=self._meta, undo=self._undo)
        return snap

    def _at_snapshot(self) -> bool:
        """Whether the state is exactly the stored snapshot (nothing in the journal since, nothing migrated)."""
        return not self._overlay and self.entries_since_snapshot == 0 and self._pre_migration is None

    def backup(self, reason: str) -> BackupInfo:
        """Write a backup of the current state (hold the lock): a copy of the snapshot file when that is the state."""
        info = self.backend.copy_snapshot_to_backup(reason, KEEP_BACKUPS) if self._at_snapshot() else None
        if info is None:
            info = self.backend.write_backup(self.snapshot(), reason, KEEP_BACKUPS)
        self._last_backup = info.created_at
        return info

    def fold(self, reason: str | None = None, backup_of: JsonDict | None = None) -> None:
        """Write the state as a fresh snapshot and empty the journal (under the lock).

        With ``backup_of`` (a migration) that old snapshot is backed up first, and nothing is changed if
        that fails; otherwise the backup (``reason``) is a copy of the new snapshot file, made after it.
        """
        snap = self.snapshot()
        if backup_of is not None:
            info = self.backend.copy_snapshot_to_backup(reason or "before-migration", KEEP_BACKUPS)
            if info is None:
                info = self.backend.write_backup(backup_of, reason or "before-migration", KEEP_BACKUPS)
            self._last_backup = info.created_at
        cursor = self.backend.compact(snap)
        self._pre_migration = None
        if cursor is None:  # a backend that cannot say where it is now: read back what was written
            self.reread_locked()
        else:
            self._adopt(snap, cursor)
        if reason is not None and backup_of is None:
            self.backup(reason)

    def _adopt(self, snap: JsonDict, cursor: object) -> None:
        """Take the snapshot just written as the loaded one (same state, nothing to read back or check)."""
        current = self._frame[1] if self._frame is not None and self._frame[0] == self._seq else None
        self._cols = snap["transactions"]
        self._pos = None
        self._merged = None
        self._overlay = {}
        self.entries_since_snapshot = 0
        self._ops_since_snapshot = 0
        self._cursor = cursor
        self._base_frame = None
        if current is not None and current["id"].tolist() == self._cols["id"]:
            self._base_frame = current  # the same rows in the same order: no need to build it again

    def _maintain(self) -> None:
        if self.entries_since_snapshot >= COMPACT_AFTER_ENTRIES or self._ops_since_snapshot >= COMPACT_AFTER_OPS:
            self.fold(reason="fold" if self._backup_due() else None)
        elif self._backup_due():
            self.backup("daily")

    def _backup_due(self) -> bool:
        if self._last_backup is None:
            found = self.backend.list_backups()
            self._last_backup = found[0].created_at if found else dt.datetime.min.replace(tzinfo=dt.UTC)
        return utcnow() - self._last_backup >= BACKUP_EVERY

    def restore_backup(self, name: str) -> None:
        """Replace the state with backup ``name``; the current state is backed up first, or set aside if unreadable."""
        with self.mutex, self.backend.lock():
            data = self.backend.read_backup(name)
            source = f"backup {name}"
            snap, _ = upgrade_snapshot(data, source)
            check_snapshot(snap, source)
            try:
                self.reread_locked()
                self.backup("before-restore")
                seq = self._seq
            except CorruptDataError:
                self.backend.set_aside()
                seq = 0
            snap = {**snap, "seq": max(seq, int(snap["seq"])) + 1, "undo": [], "saved_at": iso_utc(utcnow())}
            self.backend.compact(snap)
            self.reread_locked()
            self.last_change = (self._seq, None)
            self.saved(self._seq, f"restore {name}")  # a restore is a save too (for sync)


def _picked(pick: operator.itemgetter[Any], values: Sequence[Any]) -> list[Any]:
    """``[values[i] for i in the indexes of pick]`` at C speed (an itemgetter of one index returns a value)."""
    got = pick(values)
    return list(got) if isinstance(got, tuple) else [got]


def _by_date(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` stably sorted by date then creation time, index 0..n-1.

    A snapshot is stored in this order, so the sort is skipped when the rows already are (a linear check).
    """
    if len(frame) > 1:
        day = frame["date"].to_numpy(dtype="datetime64[ns]")
        made = frame["created_at"].to_numpy(dtype="datetime64[ns]")
        if not (np.isnat(day).any() or np.isnat(made).any()):
            later = day[1:] > day[:-1]
            ordered = later | ((day[1:] == day[:-1]) & (made[1:] >= made[:-1]))
            if bool(ordered.all()):
                return frame.reset_index(drop=True)
    return frame.sort_values(["date", "created_at"], kind="stable").reset_index(drop=True)
