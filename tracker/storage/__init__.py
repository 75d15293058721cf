"""Storage: the backend protocol, the built-in JSON backend, and where the data lives."""

from __future__ import annotations

from pathlib import Path

from tracker.hookspecs import hookimpl
from tracker.storage.base import BackupInfo, ReadResult, StorageBackend
from tracker.storage.jsonfile import JsonBackend
from tracker.storage.paths import default_data_dir, resolve_data_dir

__all__ = ["BackupInfo", "JsonBackend", "ReadResult", "StorageBackend", "default_data_dir", "resolve_data_dir"]


class BuiltinStorage:
    """The default plugin that offers the JSON backend under the name ``json``."""

    @hookimpl
    def register_storage_backends(self) -> dict[str, type[JsonBackend]]:
        return {"json": JsonBackend}


def json_backend(folder: Path) -> JsonBackend:
    """Shortcut used by tools that need the files directly."""
    return JsonBackend(folder)
