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
        from importlib.metadata import entry_points

        # One at a time: a broken third-party plugin must neither stop the app nor keep the others from loading.
        for ep in entry_points(group=hookspecs.PROJECT):
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            try:
                pm.register(ep.load(), name=ep.name)
            except Exception:
                log.exception("could not load the expense_tracker plugin %r (%s)", ep.name, ep.value)
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
