"""The plugin manager: built-ins registered as default plugins, then third-party entry points."""

from __future__ import annotations

import importlib.machinery
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pluggy

from tracker import hookspecs
from tracker.errors import ValidationError
from tracker.storage.base import StorageBackend

ENV_BACKEND = "EXPENSE_TRACKER_BACKEND"
"""Names the storage backend when none is given (default ``json``)."""

log = logging.getLogger(__name__)


def make_plugin_manager(*, load_entrypoints: bool = True) -> pluggy.PluginManager:
    """A fresh manager with the hook specs, the built-in plugins and (optionally) installed plugins."""
    from tracker.storage import BuiltinStorage
    from tracker.sync.plugin import BuiltinSync

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(BuiltinStorage(), name="builtin-storage")
    pm.register(BuiltinSync(), name="builtin-sync")
    if load_entrypoints and _may_have_entry_points(hookspecs.PROJECT):
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


def _may_have_entry_points(group: str) -> bool:
    """Whether any installed distribution may declare entry points in ``group`` (a cheap, safe pre-check).

    ``importlib.metadata`` costs about 30 ms on a cold start (its import plus parsing every distribution's
    entry points), for nothing when no plugin is installed. This looks only for the group's name in the
    ``entry_points.txt`` files of the folders on ``sys.path``, and answers ``True`` (look properly)
    whenever distributions could come from anywhere else: a zip file on ``sys.path`` or a finder other
    than the standard path finder that can list distributions.
    """
    if any(f is not importlib.machinery.PathFinder and hasattr(f, "find_distributions") for f in sys.meta_path):
        return True
    for entry in sys.path:
        folder = entry or "."
        try:
            with os.scandir(folder) as items:
                names = [i.name for i in items if i.name.endswith((".dist-info", ".egg-info"))]
        except NotADirectoryError:
            return True  # a zip file or an egg: let importlib.metadata read it
        except OSError:
            continue  # a folder that does not exist (or cannot be read) holds no distribution importlib can see
        for name in names:
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), "rb") as fh:
                    if group.encode() in fh.read():
                        return True
            except (NotADirectoryError, FileNotFoundError):
                continue
            except OSError:
                return True
    return False


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
