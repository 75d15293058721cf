"""Where a data folder syncs to, as which device: ``sync/config.json`` in the data folder (no secret in it).

The passphrase and a WebDAV password live in the OS keyring (:mod:`tracker.sync.secrets`), under the location's
random id, never in this file.
"""

from __future__ import annotations

import dataclasses
import json
import socket
from pathlib import Path
from typing import Any

from tracker.errors import StorageError, SyncError
from tracker.model import new_id
from tracker.storage.fsutil import atomic_write, describe_oserror

FOLDER = "sync"
"""The folder in the data folder that holds the sync's own files."""
CONFIG = "config.json"
STATE = "state.db"
DIRTY = "dirty.log"
OUTBOX = "outbox"
LOCK = "sync.lock"
MAX_DEVICE_NAME = 60


def sync_dir(data_dir: Path) -> Path:
    """The sync's own folder inside a data folder."""
    return data_dir / FOLDER


@dataclasses.dataclass(frozen=True)
class SyncConfig:
    """One data folder's sync settings.

    Attributes:
        location: ``{"kind": "folder", "path": ...}`` or ``{"kind": "webdav", "url": ..., "user": ...}``.
        location_id: a random id naming the secrets in the keyring.
        device: this device's id (16 hex digits), the same for as long as sync stays set up.
        device_name: what other devices call it.
        encrypted: whether the files are encrypted (always for WebDAV).
    """

    location: dict[str, str]
    location_id: str
    device: str
    device_name: str
    encrypted: bool = True

    def describe(self) -> str:
        """The location for people: the folder or the URL (never a password)."""
        if self.location.get("kind") == "webdav":
            return f"{self.location['url']} (WebDAV, user {self.location.get('user', '')})"
        return str(self.location.get("path", ""))

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"format": 1, **dataclasses.asdict(self)}


def new_config(location: dict[str, str], device_name: str | None, encrypted: bool) -> SyncConfig:
    """The settings of a new sync set-up (a new device id, a new location id)."""
    name = (device_name or socket.gethostname() or "device").strip()[:MAX_DEVICE_NAME] or "device"
    return SyncConfig(location=location, location_id=new_id(), device=new_id(), device_name=name, encrypted=encrypted)


def load_config(data_dir: Path) -> SyncConfig | None:
    """The folder's sync settings, ``None`` when sync is not set up."""
    path = sync_dir(data_dir) / CONFIG
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SyncError(f"the sync settings {path} cannot be read ({exc}); set sync up again") from None
    try:
        return SyncConfig(
            location=dict(raw["location"]),
            location_id=str(raw["location_id"]),
            device=str(raw["device"]),
            device_name=str(raw["device_name"]),
            encrypted=bool(raw.get("encrypted", True)),
        )
    except (KeyError, TypeError, ValueError):
        raise SyncError(f"the sync settings {path} are damaged; set sync up again") from None


def save_config(data_dir: Path, config: SyncConfig) -> None:
    """Store the settings atomically."""
    folder = sync_dir(data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / CONFIG, json.dumps(config.to_json(), indent=1).encode())
    except OSError as exc:
        raise StorageError(f"cannot write the sync settings in {folder}: {describe_oserror(exc)}") from None


def is_set_up(data_dir: Path) -> bool:
    """Whether sync is set up for this folder (one ``stat``: cheap enough for every save)."""
    return (sync_dir(data_dir) / CONFIG).is_file()
