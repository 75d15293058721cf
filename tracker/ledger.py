"""The one stateful object: a storage backend, the plugin manager, and the ledger's state.

Every change is one *commit*: an entry of operations appended durably to the backend's journal
under an inter-process lock, after picking up what other processes committed. Now and then the
journal is folded into a fresh snapshot (and a backup is written), so a load reads one columnar
snapshot plus a short journal.

In memory the ledger keeps the snapshot's columns as read (schema 2 encoding, see
:mod:`tracker.storage.codec`) plus an *overlay* of the records the journal changed since.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import operator
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pluggy

from tracker.errors import CorruptDataError, NotFoundError, StorageError, ValidationError
from tracker.filters import Filter, apply_filter
from tracker.frame import empty_frame, frame_from_columns, frame_from_stored
from tracker.model import (
    RECORD_FIELDS,
    Transaction,
    apply_changes,
    from_record,
    iso_utc,
    make_transaction,
    new_id,
    utcnow,
)
from tracker.money import NUMBER_FORMATS, normalize_currency
from tracker.plugins import ENV_BACKEND, make_backend, make_plugin_manager
from tracker.storage.base import BackupInfo, JsonDict, StorageBackend
from tracker.storage.codec import JOURNAL_VERSION, check_entry, check_snapshot, empty_snapshot, upgrade_snapshot
from tracker.storage.columns import day_number, record_at, records_to_columns, stored_columns
from tracker.storage.paths import resolve_data_dir

log = logging.getLogger(__name__)

COMPACT_AFTER_ENTRIES = 1000
COMPACT_AFTER_OPS = 20000
UNDO_DEPTH = 50
KEEP_BACKUPS = 10
BACKUP_EVERY = dt.timedelta(hours=24)
DEFAULT_SETTINGS: dict[str, str] = {"currency": "USD", "number_format": "1,234.56", "theme": "light"}
THEMES = ("light", "dark")


class Ledger:
    """Transactions plus settings, stored durably. Safe to use from several processes at once.

    Args:
        data_dir: the folder of the data files (default: ``$EXPENSE_TRACKER_DATA_DIR`` or the OS
            user-data folder).
        backend: a backend name registered through the ``register_storage_backends`` hook
            (default ``json``), or a ready :class:`StorageBackend`.
        plugin_manager: a manager from :func:`tracker.plugins.make_plugin_manager` (default: a fresh one).
        load: read the data now (``False`` lets backups be listed and restored when the data is unreadable).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        backend: str | StorageBackend | None = None,
        plugin_manager: pluggy.PluginManager | None = None,
        load: bool = True,
    ) -> None:
        self.location: Path = resolve_data_dir(data_dir)
        self.plugins = plugin_manager or make_plugin_manager()
        if backend is None or isinstance(backend, str):
            backend = make_backend(self.plugins, backend or os.environ.get(ENV_BACKEND, "json"), self.location)
        self.backend: StorageBackend = backend
        self._mutex = threading.RLock()
        self._cursor: object | None = None
        self._cols: dict[str, list[Any]] = empty_snapshot()["transactions"]
        self._pos: dict[str, int] | None = None
        self._overlay: dict[str, JsonDict | None] = {}
        self._meta: dict[str, Any] = {}
        self._undo: list[JsonDict] = []
        self._seq = 0
        self._entries_since_snapshot = 0
        self._ops_since_snapshot = 0
        self._pre_migration: JsonDict | None = None
        self._base_frame: pd.DataFrame | None = None
        self._frame: tuple[int, pd.DataFrame] | None = None
        self._last_backup: dt.datetime | None = None
        self._cleaned = False
        if load:
            self.refresh()

    # -- reading -----------------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The sequence number of the last change this object has seen; grows with every commit."""
        return self._seq

    @property
    def _source(self) -> str:
        return str(getattr(self.backend, "snapshot_path", self.backend.describe()))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the inter-process lock (re-entrant). Inside it, refresh then read-compute-commit is race-free."""
        with self._mutex, self.backend.lock():
            if not self._cleaned:
                self.backend.cleanup()
                self._cleaned = True
            yield

    @contextlib.contextmanager
    def _read_lock(self) -> Iterator[None]:
        """The lock for reading; an existing folder where no lock can be taken (read-only) is read without it."""
        with self._mutex, contextlib.ExitStack() as stack:
            try:
                stack.enter_context(self.locked())
            except StorageError:
                if not self.location.is_dir():
                    raise
                log.info("reading %s without the lock (the folder is not writable)", self.location)
            yield

    def refresh(self) -> bool:
        """Pick up changes committed by other processes; returns whether anything changed."""
        with self._read_lock():
            return self._refresh_locked()

    def _refresh_locked(self) -> bool:
        result = self.backend.read(self._cursor)
        changed = False
        if result.snapshot is not None:
            self._load_snapshot(result.snapshot)
            changed = True
        for entry in result.entries:
            seq = entry.get("seq")
            if isinstance(seq, int) and seq <= self._seq:
                continue  # already in the snapshot (a fold interrupted before the journal was emptied) or ours
            try:
                check_entry(entry, self._journal_source)
            except CorruptDataError as exc:
                raise self._damaged(str(exc)) from None
            if seq != self._seq + 1:
                raise self._damaged(
                    f"{self._journal_source} is missing changes (expected seq {self._seq + 1}, found {seq})"
                )
            self._apply_entry(entry)
            changed = True
        self._cursor = result.cursor
        return changed

    @property
    def _journal_source(self) -> str:
        return str(getattr(self.backend, "journal_path", self.backend.describe()))

    def _damaged(self, message: str) -> CorruptDataError:
        """A ``CorruptDataError`` that also says where the backups are and how to restore one."""
        backups = getattr(self.backend, "backup_dir", None) or f"the backups of {self.backend.describe()}"
        return CorruptDataError(
            f"{message.rstrip('.')}. Backups are in {backups}: list them with `expense-tracker backups list` "
            "and restore one with `expense-tracker backups restore NAME`"
        )

    def _load_snapshot(self, raw: JsonDict) -> None:
        if not raw:
            snap, migrated = empty_snapshot(), False
        else:
            try:
                snap, migrated = upgrade_snapshot(raw, self._source)
                check_snapshot(snap, self._source)
            except CorruptDataError as exc:
                raise self._damaged(str(exc)) from None
        self._pre_migration = raw if migrated else None
        self._cols = snap["transactions"]
        self._pos = None
        self._overlay = {}
        self._meta = dict(snap.get("meta", {}))
        self._undo = list(snap.get("undo", []))
        self._seq = snap["seq"]
        self._entries_since_snapshot = 0
        self._ops_since_snapshot = 0
        self._base_frame = None
        self._frame = None

    def _apply_entry(self, entry: JsonDict) -> None:
        for op in entry["ops"]:
            kind = op["op"]
            if kind == "put":
                self._overlay[op["tx"]["id"]] = op["tx"]
            elif kind == "del":
                self._overlay[op["id"]] = None
            elif op["value"] is None:
                self._meta.pop(op["key"], None)
            else:
                self._meta[op["key"]] = op["value"]
        undo_of = entry.get("undo_of")
        if undo_of is None:
            self._undo.append(entry)
            del self._undo[:-UNDO_DEPTH]
        else:
            self._undo = [e for e in self._undo if e["seq"] != undo_of]
        self._seq = entry["seq"]
        self._entries_since_snapshot += 1
        self._ops_since_snapshot += len(entry["ops"])

    def _record(self, tx_id: str) -> JsonDict | None:
        if tx_id in self._overlay:
            return self._overlay[tx_id]
        if self._pos is None:
            self._pos = {v: i for i, v in enumerate(self._cols["id"])}
        i = self._pos.get(tx_id)
        if i is None:
            return None
        return record_at(self._cols, i)

    def _records(self) -> Iterator[JsonDict]:
        ids = self._cols["id"]
        for i, tx_id in enumerate(ids):
            if tx_id not in self._overlay:
                yield record_at(self._cols, i)
        for rec in self._overlay.values():
            if rec is not None:
                yield rec

    def frame(self) -> pd.DataFrame:
        """The whole ledger as a DataFrame (schema: :data:`tracker.frame.COLUMNS`), by date then creation.

        Cached per revision: do not modify it in place.
        """
        with self._mutex:
            if self._frame is not None and self._frame[0] == self._seq:
                return self._frame[1]
            if self._base_frame is None:
                try:
                    base = frame_from_stored(self._cols)
                except (ValueError, TypeError, OverflowError) as exc:
                    raise self._damaged(f"{self._source} is damaged: {exc}. It was left untouched") from None
                self._base_frame = _by_date(base)
            frame = self._base_frame
            if self._overlay:
                keep = ~frame["id"].isin(list(self._overlay)).to_numpy(dtype=bool)
                live = [r for r in self._overlay.values() if r is not None]
                parts = [frame[keep]]
                if live:
                    parts.append(frame_from_columns(records_to_columns(live)))
                frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
                frame = _by_date(frame)
                if frame.empty:
                    frame = empty_frame()
            self._frame = (self._seq, frame)
            return frame

    def frame_between(self, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
        """The rows dated ``start`` to ``end`` (inclusive; ``None``: open), exactly as ``frame()`` has them.

        For one-shot readers such as a CLI command: when the whole frame is not built yet, only the rows in
        the range are converted (a month of 100,000 rows costs a few milliseconds instead of the whole
        frame). Not cached; do not modify it in place.
        """
        if start is None and end is None:
            return self.frame()
        with self._mutex:
            if (self._frame is not None and self._frame[0] == self._seq) or self._base_frame is not None:
                return apply_filter(self.frame(), Filter(start=start, end=end)).reset_index(drop=True)
            days = np.array(self._cols["date"], dtype=np.int64)
            inside = np.ones(len(days), dtype=bool)
            if start is not None:
                inside &= days >= day_number(start)
            if end is not None:
                inside &= days <= day_number(end)
            rows = [i for i in np.flatnonzero(inside).tolist() if self._cols["id"][i] not in self._overlay]
            parts = []
            if rows:
                pick = operator.itemgetter(*rows)
                try:
                    parts.append(frame_from_stored({n: _picked(pick, self._cols[n]) for n in RECORD_FIELDS}))
                except (ValueError, TypeError, OverflowError) as exc:
                    raise self._damaged(f"{self._source} is damaged: {exc}. It was left untouched") from None
            live = [
                r
                for r in self._overlay.values()
                if r is not None
                and (start is None or r["date"] >= start.isoformat())
                and (end is None or r["date"] <= end.isoformat())
            ]
            if live:
                parts.append(frame_from_columns(records_to_columns(live)))
            if not parts:
                return empty_frame()
            frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            return _by_date(frame)

    def transactions(self) -> list[Transaction]:
        """Every transaction, by date then creation time."""
        with self._mutex:
            txs = [from_record(r) for r in self._records()]
        return sorted(txs, key=lambda t: (t.date, t.created_at))

    def get(self, tx_id: str) -> Transaction:
        """One transaction by id; ``NotFoundError`` if there is none."""
        with self._mutex:
            rec = self._record(tx_id) if isinstance(tx_id, str) else None
        if rec is None:
            raise NotFoundError("id", tx_id, "is not a transaction in this ledger")
        return from_record(rec)

    def __len__(self) -> int:
        return len(self.frame())

    def categories(self) -> list[str]:
        """Every category in use, sorted case-insensitively."""
        # unique() runs in C over the column; iterating 100,000 Arrow strings in Python would cost ~70 ms
        return sorted(self.frame()["category"].dropna().unique(), key=str.casefold)

    def tags(self) -> list[str]:
        """Every tag in use, sorted case-insensitively."""
        return sorted({t for tags in self.frame()["tags"].unique() for t in tags}, key=str.casefold)

    def meta(self, key: str, default: Any = None) -> Any:
        """A JSON value stored with the ledger (settings, budgets, recurring, rules, ...)."""
        with self._mutex:
            value = self._meta.get(key, default)
        return json.loads(json.dumps(value)) if isinstance(value, dict | list) else value

    @property
    def settings(self) -> dict[str, str]:
        """Default currency, number format and theme, with defaults filled in."""
        return {**DEFAULT_SETTINGS, **(self.meta("settings") or {})}

    @property
    def default_currency(self) -> str:
        """The currency new transactions get when none is given."""
        return self.settings["currency"]

    # -- writing -----------------------------------------------------------------------------------

    def commit(
        self,
        puts: Sequence[Transaction] = (),
        deletes: Sequence[str] = (),
        meta: Mapping[str, Any] | None = None,
        label: str = "change",
    ) -> int:
        """Store transactions (new or replaced), deletions and meta values as one atomic, undoable change.

        Returns the new revision (unchanged if there was nothing to do).
        """
        with self.locked():
            self._refresh_locked()
            ops: list[JsonDict] = []
            seen: set[str] = set()
            for tx in puts:
                if not isinstance(tx, Transaction):
                    raise ValidationError("transaction", tx, "is not a Transaction")
                if tx.id in seen:
                    raise ValidationError("id", tx.id, "appears twice in one change")
                seen.add(tx.id)
                ops.append({"op": "put", "tx": tx.to_record(), "before": self._record(tx.id)})
            for tx_id in deletes:
                before = self._record(tx_id)
                if before is None or tx_id in seen:
                    raise NotFoundError("id", tx_id, "is not a transaction in this ledger")
                seen.add(tx_id)
                ops.append({"op": "del", "id": tx_id, "before": before})
            for key, value in (meta or {}).items():
                try:
                    value = json.loads(json.dumps(value, allow_nan=False))
                except (TypeError, ValueError):
                    raise ValidationError(key, value, "cannot be stored (not plain JSON data)") from None
                ops.append({"op": "meta", "key": key, "value": value, "before": self._meta.get(key)})
            if not ops:
                return self._seq
            return self._write({"ops": ops, "label": label, "undo_of": None})

    def _write(self, body: JsonDict) -> int:
        entry = {"schema_version": JOURNAL_VERSION, "seq": self._seq + 1, "at": iso_utc(utcnow()), **body}
        if self._pre_migration is not None:
            self._fold(reason="before-migration", backup_of=self._pre_migration)
            entry["seq"] = self._seq + 1
        self.backend.append(entry)
        self._apply_entry(entry)
        try:
            self._maintain()
        except StorageError as exc:  # the change is saved: a failed fold or backup must not report it as lost
            log.warning("the change was saved, but folding the journal or writing a backup failed: %s", exc)
        self._after_save(entry)
        return self._seq

    def _after_save(self, entry: JsonDict) -> list[object]:
        try:
            return list(self.plugins.hook.after_save(ledger=self, revision=entry["seq"], label=entry["label"]))
        except Exception:
            log.exception("an after_save plugin failed (the change itself is saved)")
            return []

    def _snapshot(self) -> JsonDict:
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
        return not self._overlay and self._entries_since_snapshot == 0 and self._pre_migration is None

    def _backup(self, reason: str) -> BackupInfo:
        """Write a backup of the current state: a copy of the snapshot file when that is the state."""
        copy = getattr(self.backend, "copy_snapshot_to_backup", None)
        info = copy(reason, KEEP_BACKUPS) if copy is not None and self._at_snapshot() else None
        if info is None:
            info = self.backend.write_backup(self._snapshot(), reason, KEEP_BACKUPS)
        self._last_backup = info.created_at
        return info

    def _fold(self, reason: str | None = None, backup_of: JsonDict | None = None) -> None:
        """Write the state as a fresh snapshot and empty the journal (under the lock).

        With ``backup_of`` (a migration) that old snapshot is backed up first, and nothing is changed if
        that fails; otherwise the backup (``reason``) is a copy of the new snapshot file, made after it.
        """
        snap = self._snapshot()
        if backup_of is not None:
            copy = getattr(self.backend, "copy_snapshot_to_backup", None)
            info = copy(reason or "before-migration", KEEP_BACKUPS) if copy is not None else None
            if info is None:
                info = self.backend.write_backup(backup_of, reason or "before-migration", KEEP_BACKUPS)
            self._last_backup = info.created_at
        cursor = self.backend.compact(snap)
        self._pre_migration = None
        if cursor is None:  # a backend that cannot say where it is now: read back what was written
            self._cursor = None
            self._refresh_locked()
        else:
            self._adopt(snap, cursor)
        if reason is not None and backup_of is None:
            self._backup(reason)

    def _adopt(self, snap: JsonDict, cursor: object) -> None:
        """Take the snapshot just written as the loaded one (same state, nothing to read back or check)."""
        current = self._frame[1] if self._frame is not None and self._frame[0] == self._seq else None
        self._cols = snap["transactions"]
        self._pos = None
        self._overlay = {}
        self._entries_since_snapshot = 0
        self._ops_since_snapshot = 0
        self._cursor = cursor
        self._base_frame = None
        if current is not None and current["id"].tolist() == self._cols["id"]:
            self._base_frame = current  # the same rows in the same order: no need to build it again

    def _maintain(self) -> None:
        if self._entries_since_snapshot >= COMPACT_AFTER_ENTRIES or self._ops_since_snapshot >= COMPACT_AFTER_OPS:
            self._fold(reason="fold" if self._backup_due() else None)
        elif self._backup_due():
            self._backup("daily")

    def _backup_due(self) -> bool:
        if self._last_backup is None:
            found = self.backend.list_backups()
            self._last_backup = found[0].created_at if found else dt.datetime.min.replace(tzinfo=dt.UTC)
        return utcnow() - self._last_backup >= BACKUP_EVERY

    def add(
        self,
        type: str,
        amount: object,
        *,
        category: object,
        date: object = None,
        tags: object = None,
        note: object = None,
        currency: object = None,
        external_id: object = None,
    ) -> Transaction:
        """Validate and store one transaction; returns it (with its new id)."""
        tx = make_transaction(
            type=type,
            amount=amount,
            category=category,
            currency=currency if currency is not None else self.default_currency,
            date=date,
            tags=tags,
            note=note,
            external_id=external_id,
        )
        with self.locked():
            self._refresh_locked()
            while self._record(tx.id) is not None:
                tx = dataclasses.replace(tx, id=new_id())
            self.commit(puts=[tx], label=f"add {tx.type}")
        return tx

    def add_income(self, amount: object, **fields: Any) -> Transaction:
        """:meth:`add` with type income."""
        return self.add("income", amount, **fields)

    def add_expense(self, amount: object, **fields: Any) -> Transaction:
        """:meth:`add` with type expense."""
        return self.add("expense", amount, **fields)

    def add_many(self, drafts: Iterable[Transaction], label: str = "import") -> list[Transaction]:
        """Store many new transactions as one change (all or nothing, one undo step)."""
        txs = list(drafts)
        with self.locked():
            self._refresh_locked()
            clash = next((t.id for t in txs if self._record(t.id) is not None), None)
            if clash is not None:
                raise ValidationError("id", clash, "is already used by a transaction in this ledger")
            self.commit(puts=txs, label=label)
        return txs

    def update(self, tx_id: str, **changes: Any) -> Transaction:
        """Change fields of one transaction (type, amount, currency, date, category, tags, note)."""
        with self.locked():
            self._refresh_locked()
            updated = apply_changes(self.get(tx_id), changes)
            self.commit(puts=[updated], label="edit")
        return updated

    def delete(self, tx_id: str) -> Transaction:
        """Remove one transaction; returns what was removed."""
        with self.locked():
            self._refresh_locked()
            gone = self.get(tx_id)
            self.commit(deletes=[tx_id], label="delete")
        return gone

    def set_meta(self, key: str, value: Any, label: str | None = None) -> None:
        """Store a JSON value with the ledger as one undoable change (``None`` removes the key)."""
        self.commit(meta={key: value}, label=label or f"change {key}")

    def update_settings(self, **changes: str) -> dict[str, str]:
        """Change the default currency, number format or theme."""
        current = self.settings
        for key, value in changes.items():
            if key == "currency":
                current[key] = normalize_currency(value)
            elif key == "number_format":
                if value not in NUMBER_FORMATS:
                    raise ValidationError("number_format", value, f"must be one of {', '.join(NUMBER_FORMATS)}")
                current[key] = value
            elif key == "theme":
                if value not in THEMES:
                    raise ValidationError("theme", value, "must be 'light' or 'dark'")
                current[key] = value
            else:
                raise ValidationError(key, value, "is not a setting")
        self.set_meta("settings", current, label="change settings")
        return current

    def undo(self) -> str | None:
        """Reverse the last change that can still be undone; returns its label (``None``: nothing to undo)."""
        with self.locked():
            self._refresh_locked()
            if not self._undo:
                return None
            last = self._undo[-1]
            ops: list[JsonDict] = []
            for op in reversed(last["ops"]):
                if op["op"] == "meta":
                    ops.append(
                        {"op": "meta", "key": op["key"], "value": op["before"], "before": self._meta.get(op["key"])}
                    )
                    continue
                tx_id = op["tx"]["id"] if op["op"] == "put" else op["id"]
                current = self._record(tx_id)
                if op["before"] is None:
                    if current is not None:
                        ops.append({"op": "del", "id": tx_id, "before": current})
                else:
                    ops.append({"op": "put", "tx": op["before"], "before": current})
            self._write({"ops": ops, "label": f"undo {last['label']}", "undo_of": last["seq"]})
            return str(last["label"])

    # -- backups -----------------------------------------------------------------------------------

    def backups(self) -> list[BackupInfo]:
        """Backups, newest first."""
        return self.backend.list_backups()

    def create_backup(self, reason: str = "manual") -> BackupInfo:
        """Write a backup of the current state now."""
        with self.locked():
            self._refresh_locked()
            return self._backup(reason)

    def restore_backup(self, name: str) -> None:
        """Replace the ledger with a backup. The current state is backed up first; if it cannot be
        read, its files are moved aside (renamed, never deleted)."""
        with self._mutex, self.backend.lock():
            data = self.backend.read_backup(name)
            source = f"backup {name}"
            snap, _ = upgrade_snapshot(data, source)
            check_snapshot(snap, source)
            try:
                self._cursor = None
                self._refresh_locked()
                self._backup("before-restore")
                seq = self._seq
            except CorruptDataError:
                self.backend.set_aside()
                seq = 0
            snap = {**snap, "seq": max(seq, int(snap["seq"])) + 1, "undo": [], "saved_at": iso_utc(utcnow())}
            self.backend.compact(snap)
            self._cursor = None
            self._refresh_locked()
            self._after_save({"seq": self._seq, "label": f"restore {name}"})  # a restore is a save too (for sync)


def _picked(pick: operator.itemgetter[Any], values: list[Any]) -> list[Any]:
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


def open_backend(data_dir: str | os.PathLike[str] | None) -> StorageBackend:
    """The storage of a folder without reading the ledger (works when the ledger is unreadable)."""
    return Ledger(data_dir, load=False).backend


def restore_backup(data_dir: str | os.PathLike[str] | None, name: str) -> Ledger:
    """Restore backup ``name`` in a folder whose ledger may be unreadable; returns the restored ledger."""
    ledger = Ledger(data_dir, load=False)
    ledger.restore_backup(name)
    return ledger


__all__ = ["DEFAULT_SETTINGS", "Ledger", "open_backend", "restore_backup"]
