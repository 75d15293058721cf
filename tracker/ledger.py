"""The one stateful object: the domain API over the storage engine, with the plugin manager.

:class:`Ledger` validates (transactions, settings) and says what a change is; the journal/snapshot machinery
under it (refresh, commit, fold, backups, undo) is :class:`tracker.storage.engine.Engine`. Every change is
one commit: one refresh of what other processes committed, then one journal entry, under the lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from tracker.errors import NotFoundError, ValidationError
from tracker.filters import Filter
from tracker.model import Transaction, apply_changes, from_record, make_transaction, new_id
from tracker.money import NUMBER_FORMATS, normalize_currency
from tracker.plugins import ENV_BACKEND, make_backend, make_plugin_manager
from tracker.storage.base import BackupInfo, StorageBackend
from tracker.storage.columns import transaction_at
from tracker.storage.engine import Engine
from tracker.storage.paths import resolve_data_dir

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from tracker.rows import StoredRows

log = logging.getLogger(__name__)

DEFAULT_SETTINGS: dict[str, str] = {
    "currency": "USD",
    "number_format": "1,234.56",
    "theme": "light",
    "reporting_currency": "",
}
"""``reporting_currency`` ``""`` reports in the default ``currency`` (see :func:`tracker.conversion.reporting_currency`)."""
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
        self.engine = Engine(backend, self._after_save)
        self._lines: tuple[pd.DataFrame, pd.DataFrame] | None = None
        if load:
            self.refresh()

    # -- reading -----------------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The sequence number of the last change this object has seen; grows with every commit."""
        return self.engine.revision

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the inter-process lock (re-entrant). Inside it, refresh then read-compute-commit is race-free."""
        with self.engine.locked():
            yield

    def refresh(self) -> bool:
        """Pick up changes committed by other processes; returns whether anything changed."""
        with self.engine.read_lock(self.location):
            return self.engine.refresh_locked()

    def frame(self) -> pd.DataFrame:
        """The whole ledger as a DataFrame (schema: :data:`tracker.frame.COLUMNS`), by date then creation.

        Cached per revision: do not modify it in place.
        """
        return self.engine.frame()

    def lines(self) -> pd.DataFrame:
        """:meth:`frame` with each split transaction as its lines (:func:`tracker.frame.lines_frame`): what every
        total by category, budget, chart and report counts. Cached per revision: do not modify it in place."""
        from tracker.frame import lines_frame

        frame = self.frame()
        cached = self._lines
        if cached is None or cached[0] is not frame:
            cached = self._lines = (frame, lines_frame(frame))
        return cached[1]

    def frame_where(self, flt: Filter) -> pd.DataFrame:
        """The rows that satisfy ``flt``, exactly as ``frame()`` has them (index 0..n-1).

        For one-shot readers: when the whole frame is not built yet, only the matching rows are converted
        (a month of 100,000 rows costs a few milliseconds instead of the whole frame). Not cached; do not
        modify it in place.
        """
        return self.engine.frame_where(flt)

    def select(self, flt: Filter) -> dict[str, list[Any]]:
        """The transactions that satisfy ``flt`` as snapshot columns (:mod:`tracker.storage.columns`), in
        ``frame()``'s order, without building a frame or importing pandas: for :class:`tracker.rows.StoredRows`
        (the fast CLI's totals) and :func:`tracker.storage.columns.record_at`."""
        return self.engine.select(flt)

    def rows_where(self, flt: Filter) -> tuple[StoredRows, np.ndarray]:
        """Every stored row as :class:`tracker.rows.StoredRows` (in no particular order) and the mask of those that
        satisfy ``flt``: for totals, without :meth:`select`'s ordering and copying."""
        return self.engine.rows_where(flt)

    def transactions(self, flt: Filter | None = None) -> list[Transaction]:
        """Every transaction (or those that satisfy ``flt``), by date then creation time, as ``frame()`` orders them.

        No frame is built (see :meth:`select`).
        """
        cols = self.select(flt or Filter())  # checked columns (snapshot and journal): no second validation
        return [transaction_at(cols, i) for i in range(len(cols["id"]))]

    def transactions_in(self, account: str) -> list[Transaction]:
        """The transactions of one account (its name, case-insensitive), as :meth:`transactions` orders them."""
        return self.transactions(Filter(accounts=(account,)))

    def get(self, tx_id: str) -> Transaction:
        """One transaction by id; ``NotFoundError`` if there is none."""
        with self.engine.mutex:
            rec = self.engine.record(tx_id) if isinstance(tx_id, str) else None
        if rec is None:
            raise NotFoundError("id", tx_id, "is not a transaction in this ledger")
        return from_record(rec)

    def __len__(self) -> int:
        return len(self.frame())

    def categories(self) -> list[str]:
        """Every category in use (split lines' too; not the marker "Split"), sorted case-insensitively."""
        # unique() runs in C over the column; iterating 100,000 Arrow strings in Python would cost ~70 ms
        return sorted(self.lines()["category"].dropna().unique(), key=str.casefold)

    def tags(self) -> list[str]:
        """Every tag in use (split lines' too), sorted case-insensitively."""
        return sorted({t for tags in self.lines()["tags"].unique() for t in tags}, key=str.casefold)

    def meta(self, key: str, default: Any = None) -> Any:
        """A JSON value stored with the ledger (settings, budgets, recurring, rules, ...)."""
        with self.engine.mutex:
            value = self.engine.meta(key, default)
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
        from tracker.accounts import settle

        bad = next((tx for tx in puts if not isinstance(tx, Transaction)), None)
        if bad is not None:
            raise ValidationError("transaction", bad, "is not a Transaction")
        with self.locked():
            self.engine.refresh_locked()  # no second read when the caller has just refreshed under the lock
            settled = settle(self, puts, meta)
            self._check_pairs(settled, deletes)
            return self.engine.commit_locked([tx.to_record() for tx in settled], deletes, meta, label)

    def commit_merged(
        self, records: Sequence[Mapping[str, Any]], deletes: Sequence[str], meta: Mapping[str, Any], label: str
    ) -> int:
        """Store what merging other devices' changes gives (:mod:`tracker.sync`) as one undoable change.

        The records (storage form) are checked as a snapshot's rows are, column by column (a new device's first
        sync brings every row at once); transfers must keep both sides. Accounts are not settled again: each
        record was settled on the device that made it. ``ValidationError`` names the first bad record's field.
        """
        from tracker.storage.codec import check_records

        with self.locked():
            self.engine.refresh_locked()
            check_records(list(records), "the changes from other devices")
            self._check_pairs([from_record(r) for r in records if r["type"] == "transfer"], deletes)
            return self.engine.commit_locked([dict(r) for r in records], deletes, meta, label)

    def _check_pairs(self, puts: Sequence[Transaction], deletes: Sequence[str]) -> None:
        """A commit never leaves one side of a transfer without the other (both stored, or both deleted)."""
        put = {tx.id: tx for tx in puts}
        gone = set(deletes)
        for tx in puts:
            if tx.type == "transfer":
                other = put.get(tx.link) or (None if tx.link in gone else self._stored(tx.link))
                if other is None or other.link != tx.id or other.direction == tx.direction:
                    raise ValidationError("transfer", tx.id, "has no matching other side")
        for tx_id in deletes:
            stored = self._stored(tx_id)
            if stored is not None and stored.type == "transfer" and stored.link not in gone:
                raise ValidationError("transfer", tx_id, "would lose its other side (delete both)")

    def _stored(self, tx_id: str) -> Transaction | None:
        record = self.engine.record(tx_id)
        return None if record is None else from_record(record)

    def _after_save(self, revision: int, label: str) -> None:
        try:
            self.plugins.hook.after_save(ledger=self, revision=revision, label=label)
        except Exception:
            log.exception("an after_save plugin failed (the change itself is saved)")

    def add(
        self,
        type: str,
        amount: object,
        *,
        category: object = None,
        date: object = None,
        tags: object = None,
        note: object = None,
        currency: object = None,
        external_id: object = None,
        account: object = None,
        cleared: bool = False,
        splits: object = None,
        original_amount: object = None,
        original_currency: object = None,
    ) -> Transaction:
        """Validate and store one transaction; returns it (with its new id).

        ``account`` (a name) defaults to the default account; ``currency`` to the account's. ``splits`` (two or
        more lines ``{"category", "amount", "tags", "note"}`` summing to ``amount``) makes it a split transaction,
        with no category of its own; ``original_amount`` and ``original_currency`` record what it cost abroad.
        """
        from tracker.accounts import default_account, get_account

        with self.locked():
            self.engine.refresh_locked()
            home = default_account(self) if account is None else get_account(self, account)
            tx = make_transaction(
                type=type,
                amount=amount,
                category=category,
                currency=currency if currency is not None else home.currency,
                date=date,
                tags=tags,
                note=note,
                external_id=external_id,
                account=home.name,
                cleared=cleared,
                splits=splits,
                original_amount=original_amount,
                original_currency=original_currency,
            )
            while self.engine.record(tx.id) is not None:
                tx = dataclasses.replace(tx, id=new_id())
            self.commit([tx], label=f"add {tx.type}")
        return tx

    def add_income(self, amount: object, **fields: Any) -> Transaction:
        """:meth:`add` with type income."""
        return self.add("income", amount, **fields)

    def add_expense(self, amount: object, **fields: Any) -> Transaction:
        """:meth:`add` with type expense."""
        return self.add("expense", amount, **fields)

    def add_many(self, drafts: Iterable[Transaction], label: str = "import") -> list[Transaction]:
        """Store many new transactions as one change (all or nothing, one undo step); returns them as stored."""
        from tracker.accounts import settle

        txs = list(drafts)
        with self.locked():
            self.engine.refresh_locked()
            txs = settle(self, txs, None)  # drafts without an account get the default one, as stored
            clash = next((t.id for t in txs if self.engine.record(t.id) is not None), None)
            if clash is not None:
                raise ValidationError("id", clash, "is already used by a transaction in this ledger")
            self.commit(txs, label=label)
        return txs

    def update(self, tx_id: str, *, force: bool = False, **changes: Any) -> Transaction:
        """Change fields of one transaction (:data:`tracker.model.EDITABLE`). A transfer's other side follows
        (see :func:`tracker.accounts.linked_changes`); a reconciled transaction needs ``force``."""
        with self.locked():
            self.engine.refresh_locked()
            puts = self._edited({tx_id: changes}, force)
            self.commit(puts, label="edit")
        return next((t for t in puts if t.id == tx_id), None) or self.get(tx_id)

    def _edited(self, changes: Mapping[str, Mapping[str, object]], force: bool) -> list[Transaction]:
        """The transactions ``changes`` change (with transfers' other sides), checked; unchanged ones left out."""
        from tracker.accounts import linked_changes

        wanted: dict[str, dict[str, object]] = {}
        for tx_id, fields in changes.items():
            tx = self.get(tx_id)
            wanted.setdefault(tx_id, {}).update(fields)
            if tx.type == "transfer":
                other = self.get(tx.link)
                for key, value in linked_changes(tx, other, fields).items():
                    wanted.setdefault(other.id, {}).setdefault(key, value)
        puts = []
        for tx_id, fields in wanted.items():
            tx = self.get(tx_id)
            updated = apply_changes(tx, fields)
            if updated != tx:
                _confirm(tx, force)
                puts.append(updated)
        for tx in puts:
            if tx.type == "transfer":
                other = next((t for t in puts if t.id == tx.link), None) or self.get(tx.link)
                if other.account.casefold() == tx.account.casefold():
                    raise ValidationError("account", tx.account, "is the other side's account of this transfer")
        return puts

    def update_many(
        self,
        changes: Mapping[str, Mapping[str, object]],
        deletes: Sequence[str] = (),
        label: str | None = None,
        *,
        force: bool = False,
    ) -> int:
        """Edit and delete many transactions as one atomic, undoable change (a batch from the table editor).

        ``changes`` maps an id to its field changes (as :meth:`update` takes them). Every change is
        validated first: the first ``ValidationError`` (naming the field) or ``NotFoundError`` is raised
        and nothing is written. Rows whose changes leave them as they are are not written. Returns the
        new revision (unchanged when there was nothing to do).
        """
        with self.locked():
            self.engine.refresh_locked()
            gone = self._deleted(deletes, force)
            both = next((tx_id for tx_id in gone if tx_id in changes), None)
            if both is not None:
                raise ValidationError("id", both, "is both edited and deleted in one change")
            puts = self._edited(changes, force)
            return self.commit(puts, gone, label=label or "edit")

    def _deleted(self, ids: Sequence[str], force: bool) -> list[str]:
        """The ids to delete with each transfer's other side, checked (a reconciled one needs ``force``)."""
        out: dict[str, None] = {}
        for tx_id in ids:
            tx = self.get(tx_id)
            _confirm(tx, force)
            out[tx_id] = None
            if tx.type == "transfer":
                _confirm(self.get(tx.link), force)
                out[tx.link] = None
        return list(out)

    def delete(self, tx_id: str, *, force: bool = False) -> Transaction:
        """Remove one transaction (a transfer: both sides); returns what was removed. A reconciled one needs
        ``force``."""
        with self.locked():
            self.engine.refresh_locked()
            gone = self.get(tx_id)
            self.commit(deletes=self._deleted([tx_id], force), label="delete")
        return gone

    def set_meta(self, key: str, value: Any, label: str | None = None) -> None:
        """Store a JSON value with the ledger as one undoable change (``None`` removes the key)."""
        self.commit(meta={key: value}, label=label or f"change {key}")

    def update_settings(self, **changes: str) -> dict[str, str]:
        """Change the default currency, the reporting currency (``""``: the default one), number format or theme."""
        current = self.settings
        for key, value in changes.items():
            if key == "currency":
                current[key] = normalize_currency(value)
            elif key == "reporting_currency":
                current[key] = normalize_currency(value) if value else ""
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
        # Only what differs from the defaults is stored: a setting put back to its default is one no longer set
        # (so that, merged with another device's settings, an untouched default never overrides a choice).
        stored = {k: v for k, v in current.items() if DEFAULT_SETTINGS.get(k) != v}
        self.set_meta("settings", stored or None, label="change settings")
        return current

    def undo(self) -> str | None:
        """Reverse the last change that can still be undone; returns its label (``None``: nothing to undo)."""
        with self.locked():
            self.engine.refresh_locked()
            return self.engine.undo_locked()

    # -- backups -----------------------------------------------------------------------------------

    def backups(self) -> list[BackupInfo]:
        """Backups, newest first."""
        return self.backend.list_backups()

    def create_backup(self, reason: str = "manual") -> BackupInfo:
        """Write a backup of the current state now."""
        with self.locked():
            self.engine.refresh_locked()
            return self.engine.backup(reason)

    def restore_backup(self, name: str) -> None:
        """Replace the ledger with a backup. The current state is backed up first; if it cannot be
        read, its files are moved aside (renamed, never deleted)."""
        self.engine.restore_backup(name)


def _confirm(tx: Transaction, force: bool) -> None:
    """A reconciled transaction is changed only when the change is confirmed (``force``)."""
    if tx.reconciled and not force:
        raise ValidationError(
            "force", tx.id, "is a reconciled transaction: confirm the change (--force in the command line)"
        )


def open_backend(data_dir: str | os.PathLike[str] | None) -> StorageBackend:
    """The storage of a folder without reading the ledger (works when the ledger is unreadable)."""
    return Ledger(data_dir, load=False).backend


def restore_backup(data_dir: str | os.PathLike[str] | None, name: str) -> Ledger:
    """Restore backup ``name`` in a folder whose ledger may be unreadable; returns the restored ledger."""
    ledger = Ledger(data_dir, load=False)
    ledger.restore_backup(name)
    return ledger


__all__ = ["DEFAULT_SETTINGS", "Ledger", "open_backend", "restore_backup"]
