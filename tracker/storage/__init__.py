"""Storage: the backend protocol, the built-in JSON backend, and where the data lives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracker.hookspecs import hookimpl
from tracker.storage.base import BackupInfo, ReadResult, StorageBackend
from tracker.storage.jsonfile import JsonBackend
from tracker.storage.paths import default_data_dir, resolve_data_dir

__all__ = [
    "BackupInfo",
    "JsonBackend",
    "ReadResult",
    "StorageBackend",
    "default_data_dir",
    "peek_meta",
    "resolve_data_dir",
]


class BuiltinStorage:
    """The default plugin that offers the JSON backend under the name ``json``."""

    @hookimpl
    def register_storage_backends(self) -> dict[str, type[JsonBackend]]:
        return {"json": JsonBackend}


def json_backend(folder: Path) -> JsonBackend:
    """Shortcut used by tools that need the files directly."""
    return JsonBackend(folder)


def peek_meta(backend: StorageBackend, key: str, default: Any = None) -> Any:
    """The committed value of the ledger meta ``key`` (a setting, say), read without building the ledger.

    The snapshot's ``meta`` with the journal's later changes of ``key`` applied in order (an undo is
    written as such a change too). No pandas, no checks of the transactions: for a quick look before the
    ledger itself is opened, such as the saved theme when a server starts. Unreadable data raises the
    backend's error; a ``Ledger`` opened afterwards reports it properly.
    """
    result = backend.read(None)
    snapshot = result.snapshot or {}
    meta = snapshot.get("meta")
    value = meta.get(key, default) if isinstance(meta, dict) else default
    seq = snapshot.get("seq", 0)
    for entry in result.entries:
        if not isinstance(entry.get("seq"), int) or entry["seq"] <= seq:
            continue  # already in the snapshot (left behind by an interrupted fold)
        for op in entry.get("ops") or ():
            if isinstance(op, dict) and op.get("op") == "meta" and op.get("key") == key:
                if "changes" in op:  # a large object journaled by its changed entries
                    from tracker.storage.codec import patched

                    value = patched(value, op["changes"])
                else:
                    value = default if op.get("value") is None else op["value"]
    return value
