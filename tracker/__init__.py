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

    from tracker.accounts import Account, Balance, net_worth
    from tracker.filters import Filter, apply_filter, filter_data
    from tracker.frame import COLUMNS
    from tracker.ledger import Ledger
    from tracker.model import Transaction

_LAZY = {
    "Filter": "tracker.filters",
    "net_worth": "tracker.accounts",
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
    "add_account",
    "add_expense",
    "add_income",
    "add_transfer",
    "apply_filter",
    "balances",
    "delete_transaction",
    "filter_data",
    "get_ledger",
    "load_data",
    "load_lines",
    "net_worth",
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
    account: object = None,
    *,
    splits: object = None,
    original_amount: object = None,
    original_currency: object = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> Transaction:
    """Record income (amount as text or ``Decimal``, never a float); returns the stored transaction.

    ``splits`` (``[{"category", "amount", "tags", "note"}, ...]``, two or more lines summing to ``amount``; then
    ``category`` may be ``None``) makes it a split transaction; ``original_amount``/``original_currency`` record
    what it cost in another currency.
    """
    return get_ledger(data_dir).add(
        "income",
        amount,
        category=category,
        date=date,
        tags=tags,
        note=note,
        currency=currency,
        account=account,
        splits=splits,
        original_amount=original_amount,
        original_currency=original_currency,
    )


def add_expense(
    amount: object,
    category: object,
    date: object = None,
    tags: object = None,
    note: object = "",
    currency: object = None,
    account: object = None,
    *,
    splits: object = None,
    original_amount: object = None,
    original_currency: object = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> Transaction:
    """Record an expense (amount as text or ``Decimal``, never a float); returns the stored transaction.

    ``splits`` (``[{"category", "amount", "tags", "note"}, ...]``, two or more lines summing to ``amount``; then
    ``category`` may be ``None``) makes it a split transaction; ``original_amount``/``original_currency`` record
    what it cost in another currency.
    """
    return get_ledger(data_dir).add(
        "expense",
        amount,
        category=category,
        date=date,
        tags=tags,
        note=note,
        currency=currency,
        account=account,
        splits=splits,
        original_amount=original_amount,
        original_currency=original_currency,
    )


def load_data(data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Every transaction as a DataFrame with the schema :data:`tracker.frame.COLUMNS` (also when empty)."""
    return get_ledger(data_dir).frame().copy()


def load_lines(data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """:func:`load_data` with each split transaction as its lines (same columns; the lines share its ``id``):
    what totals by category count. ``filter_data`` on it keeps the lines that match."""
    return get_ledger(data_dir).lines().copy()


def add_account(
    name: object,
    kind: object = "checking",
    currency: object = None,
    opening: object = None,
    opening_date: object = None,
    note: object = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> Account:
    """Declare an account (kind: checking, savings, credit-card, cash, loan, asset; currency: ISO 4217, default
    the ledger's); ``opening`` is its balance on ``opening_date`` (for a card or loan: what is owed)."""
    from tracker import accounts

    return accounts.add_account(
        get_ledger(data_dir), name, kind=kind, currency=currency, opening=opening, opening_date=opening_date, note=note
    )


def add_transfer(
    amount: object,
    source: object,
    target: object,
    date: object = None,
    note: object = "",
    to_amount: object = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[Transaction, Transaction]:
    """Move ``amount`` from account ``source`` to ``target`` (``to_amount``: what arrives, when their currencies
    differ); returns the linked pair (out, in). Never income or expense; counted in balances."""
    from tracker import accounts

    return accounts.add_transfer(
        get_ledger(data_dir), amount, source=source, target=target, to_amount=to_amount, date=date, note=note
    )


def balances(date: object = None, *, data_dir: str | os.PathLike[str] | None = None) -> list[Balance]:
    """Every account's balance (everything, cleared, reconciled) at the end of ``date`` (default: all rows);
    :func:`net_worth` sums them per currency."""
    from tracker import accounts

    return accounts.balances(get_ledger(data_dir), date)


def update_transaction(tx_id: str, *, data_dir: str | os.PathLike[str] | None = None, **changes: Any) -> Transaction:
    """Change fields of a transaction (type, amount, currency, date, category, tags, note)."""
    return get_ledger(data_dir).update(tx_id, **changes)


def delete_transaction(tx_id: str, *, data_dir: str | os.PathLike[str] | None = None) -> Transaction:
    """Delete a transaction; returns it."""
    return get_ledger(data_dir).delete(tx_id)


def undo(*, data_dir: str | os.PathLike[str] | None = None) -> str | None:
    """Undo the last change; returns what was undone, or ``None`` if there was nothing."""
    return get_ledger(data_dir).undo()
