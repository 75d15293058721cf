"""The plugin manager: built-ins registered as default plugins, then third-party entry points."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pluggy

from tracker import hookspecs
from tracker.errors import ValidationError
from tracker.storage.base import StorageBackend

log = logging.getLogger(__name__)


def make_plugin_manager(*, load_entrypoints: bool = True) -> pluggy.PluginManager:
    """A fresh manager with the hook specs, the built-in plugins and (optionally) installed plugins."""
    from tracker.storage import BuiltinStorage

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(BuiltinStorage(), name="builtin-storage")
    if load_entrypoints:
        try:
            pm.load_setuptools_entrypoints(hookspecs.PROJECT)
        except Exception:  # a broken third-party plugin must not stop the app
            log.exception("could not load an expense_tracker plugin")
    return pm


def storage_backends(pm: pluggy.PluginManager) -> dict[str, Callable[[Path], StorageBackend]]:
    """Every registered backend factory by name (later registrations win)."""
    merged: dict[str, Callable[[Path], StorageBackend]] = {}
    for offered in reversed(pm.hook.register_storage_backends()):
        merged.update(offered or {})
    return merged


def make_backend(pm: pluggy.PluginManager, name: str, folder: Path) -> StorageBackend:
    """Build the backend called ``name`` for ``folder``."""
    factories = storage_backends(pm)
    if name not in factories:
        raise ValidationError("backend", name, f"is not a storage backend (available: {', '.join(sorted(factories))})")
    return factories[name](folder)
