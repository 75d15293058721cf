"""Every hook Expense Tracker offers, in one place (pluggy project name ``expense_tracker``).

Plugins implement them with ``@tracker.hookspecs.hookimpl`` and are found through the entry-point
group ``expense_tracker``; the built-in JSON storage is registered the same way as a default plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from tracker.ledger import Ledger
    from tracker.storage.base import StorageBackend

PROJECT = "expense_tracker"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_storage_backends() -> dict[str, Callable[[Path], StorageBackend]]:  # type: ignore[empty-body]
    """Return ``{name: factory}``; ``factory(data_dir)`` builds a :class:`StorageBackend` for that folder."""


@hookspec
def after_save(ledger: Ledger, revision: int, label: str) -> None:
    """Called after a change was committed durably (for sync); exceptions are logged, never raised."""
