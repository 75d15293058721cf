"""Setting sync up and turning it off, opening the location and its key, and the status people see.

Shared by the CLI (``sync setup|now|status|off``) and the Settings page.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import threading
from pathlib import Path
from typing import Any

from tracker.errors import SyncError, ValidationError
from tracker.sync.config import STATE, SyncConfig, load_config, new_config, save_config, sync_dir
from tracker.sync.crypto import Sealer, check_passphrase, new_keycheck, sealer_for, unlock
from tracker.sync.files import KEYCHECK, parse_listing
from tracker.sync.state import device_list, open_state
from tracker.sync.transport import Transport, open_transport

_KEYS: dict[tuple[str, str], bytes] = {}
"""Unlocked keys by (location id, key-check file checksum): the key is derived once per process."""
_KEYS_LOCK = threading.Lock()


def open_location(config: SyncConfig) -> Transport:
    """The transport to the configured location (a WebDAV password from the keyring)."""
    from tracker.sync.secrets import load_secret

    password = load_secret(config.location_id, "password") if config.location.get("kind") == "webdav" else None
    return open_transport(config.location, password)


def open_sealer(config: SyncConfig, transport: Transport) -> Sealer:
    """How this location's files are sealed: its key (the passphrase from the keyring), or none if not encrypted."""
    if not config.encrypted:
        return sealer_for(None)
    keycheck = transport.read(KEYCHECK)
    cache = (config.location_id, hashlib.sha256(keycheck).hexdigest())
    with _KEYS_LOCK:
        key = _KEYS.get(cache)
        if key is None:
            from tracker.sync.secrets import load_secret

            passphrase = load_secret(config.location_id, "passphrase")
            if passphrase is None:
                raise SyncError(
                    "the sync passphrase is not in this computer's keyring any more: set sync up again with "
                    "`expense-tracker sync setup` (the data here is intact)"
                )
            key = _KEYS[cache] = unlock(passphrase, keycheck)
    return sealer_for(key)


def folder_location(path: str | Path) -> dict[str, str]:
    """A folder location (the folder must exist: it is the one the user's sync engine syncs)."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ValidationError("folder", str(path), "is not an existing folder")
    return {"kind": "folder", "path": str(folder.resolve())}


def webdav_location(url: str, user: str | None) -> dict[str, str]:
    """A WebDAV location (``http://`` or ``https://``)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValidationError("webdav", url, "is not an http:// or https:// URL")
    return {"kind": "webdav", "url": url.rstrip("/") + "/", "user": user or ""}


def setup(
    data_dir: Path,
    location: dict[str, str],
    *,
    passphrase: str | None,
    password: str | None = None,
    device_name: str | None = None,
    encrypted: bool = True,
) -> SyncConfig:
    """Set sync up for a data folder (nothing is merged yet: the first ``sync now`` does that).

    The location is reached first; an encrypted one gets its key-check file if it has none, or the passphrase
    must open the one it has (``WrongPassphraseError``: nothing written). WebDAV is always encrypted. The secrets
    go into the OS keyring. Setting up again (another location or passphrase) starts this device afresh there.
    """
    if location.get("kind") == "webdav":
        encrypted = True
    if encrypted:
        if passphrase is None:
            raise ValidationError("passphrase", "(none)", "is needed: the sync location is encrypted")
        check_passphrase(passphrase)
    if encrypted or password is not None:  # no keyring to keep the secrets: refused before anything is written
        from tracker.sync.secrets import require_keyring

        require_keyring("the sync passphrase" if encrypted else "the WebDAV password")
    transport = open_transport(location, password)
    listing = parse_listing(transport.list())
    if encrypted:
        assert passphrase is not None
        if listing.keycheck:
            unlock(passphrase, transport.read(KEYCHECK))
        else:
            content, _ = new_keycheck(passphrase)
            try:
                transport.write_new(KEYCHECK, content)
            except SyncError:  # another device made one at the same moment: the passphrase must open that one
                unlock(passphrase, transport.read(KEYCHECK))
    elif listing.keycheck:
        raise ValidationError("encryption", "off", "cannot be chosen: this sync location is encrypted")
    config = new_config(location, device_name, encrypted)
    if sync_dir(data_dir).exists():  # set up before (maybe with damaged settings): this device starts afresh
        turn_off(data_dir)
    if encrypted or password is not None:
        from tracker.sync.secrets import store_secret
    if encrypted:
        assert passphrase is not None
        store_secret(config.location_id, "passphrase", passphrase)
    if password is not None:
        store_secret(config.location_id, "password", password)
    save_config(data_dir, config)
    return config


def turn_off(data_dir: Path) -> bool:
    """Stop syncing this folder: its sync settings, bookkeeping and secrets go; the ledger stays as it is.

    Returns whether sync was set up. The files this device wrote into the location stay there (other devices
    may still need them).
    """
    try:
        config = load_config(data_dir)
    except SyncError:  # damaged settings: what can be removed is removed (the secrets' id is lost with them)
        config = None
    folder = sync_dir(data_dir)
    if config is not None and (config.encrypted or config.location.get("kind") == "webdav"):
        from tracker.sync.secrets import forget_secrets

        with contextlib.suppress(SyncError):
            forget_secrets(config.location_id)
    was = folder.exists()
    if was:
        shutil.rmtree(folder)
    return config is not None or was


def status(data_dir: Path) -> dict[str, Any]:
    """What ``sync status`` shows: the location, this device, the last sync and error, the devices, conflicts."""
    config = load_config(data_dir)
    if config is None:
        return {"set_up": False}
    with open_state(sync_dir(data_dir) / STATE) as state:
        out: dict[str, Any] = {
            "set_up": True,
            "location": config.describe(),
            "encrypted": config.encrypted,
            "device": {"id": config.device, "name": config.device_name},
            "last_sync": state.get("last_sync"),
            "last_error": state.get("last_error"),
            "devices": device_list(state, config.device),
            "conflicts": state.conflicts(20),
        }
    return out
