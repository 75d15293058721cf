"""Expense Tracker: a local-first personal finance app.

The public API::

    import tracker
    tracker.add_expense("12.50", "Food", date="2026-11-02", tags=["work"])
    frame = tracker.load_data()
    food = tracker.filter_data(frame, categories=["Food"], start="2026-11-01")

Every function takes ``data_dir=`` for an explicit folder; :class:`Ledger` is the object they wrap.
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
import os
import threading
from typing import TYPE_CHECKING, Any

from tracker.errors import CorruptDataError, NotFoundError, StorageError, TrackerError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from tracker.filters import Filter, apply_filter, filter_data
    from tracker.frame import COLUMNS
    from tracker.ledger import Ledger
    from tracker.model import Transaction

_LAZY = {
    "Filter": "tracker.filters",
    "apply_filter": "tracker.filters",
    "filter_data": "tracker.filters",
    "Ledger": "tracker.ledger",
    "COLUMNS": "tracker.frame",
    "Transaction": "tracker.model",
}
"""Names imported on first use (PEP 562): ``import tracker`` alone does not import pandas, so the desktop
launcher and its server child start without waiting for it."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tracker' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "COLUMNS",
    "CorruptDataError",
    "Filter",
    "Ledger",
    "NotFoundError",
    "StorageError",
    "TrackerError",
    "Transaction",
    "ValidationError",
    "add_expense",
    "add_income",
    "apply_filter",
    "delete_transaction",
    "filter_data",
    "get_ledger",
    "load_data",
    "undo",
    "update_transaction",
]

_ledgers: dict[str, Ledger] = {}
_guard = threading.Lock()


def get_ledger(data_dir: str | os.PathLike[str] | None = None) -> Ledger:
    """The shared :class:`Ledger` of a folder (default folder when ``None``), refreshed from disk."""
    from tracker.storage.paths import resolve_data_dir

    key = str(resolve_data_dir(data_dir))
    with _guard:
        ledger = _ledgers.get(key)
        if ledger is None:
            from tracker.ledger import Ledger

            ledger = _ledgers[key] = Ledger(key)
            return ledger
    ledger.refresh()
    return ledger


def add_income(
    amount: object,
    category: object,
    date: object = None,
    tags: object = None,
    note: object = "",
    currency: object = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> Transaction:
    """Record income (amount as text or ``Decimal``, never a float); returns the stored transaction."""
    return get_ledger(data_dir).add(
        "income", amount, category=category, date=date, tags=tags, note=note, currency=currency
    )


def add_expense(
    amount: object,
    category: object,
    date: object = None,
    tags: object = None,
    note: object = "",
    currency: object = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> Transaction:
    """Record an expense (amount as text or ``Decimal``, never a float); returns the stored transaction."""
    return get_ledger(data_dir).add(
        "expense", amount, category=category, date=date, tags=tags, note=note, currency=currency
    )


def load_data(data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Every transaction as a DataFrame with the schema :data:`tracker.frame.COLUMNS` (also when empty)."""
    return get_ledger(data_dir).frame().copy()


def update_transaction(tx_id: str, *, data_dir: str | os.PathLike[str] | None = None, **changes: Any) -> Transaction:
    """Change fields of a transaction (type, amount, currency, date, category, tags, note)."""
    return get_ledger(data_dir).update(tx_id, **changes)


def delete_transaction(tx_id: str, *, data_dir: str | os.PathLike[str] | None = None) -> Transaction:
    """Delete a transaction; returns it."""
    return get_ledger(data_dir).delete(tx_id)


def undo(*, data_dir: str | os.PathLike[str] | None = None) -> str | None:
    """Undo the last change; returns what was undone, or ``None`` if there was nothing."""
    return get_ledger(data_dir).undo()
