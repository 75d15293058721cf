"""Devices for the sync tests: a data folder each, set up to sync through one location, and convergence checks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tracker.ledger import Ledger
from tracker.sync.session import folder_location, setup
from tracker.sync.syncer import SyncReport, sync_now


class Device:
    """One device: its own data folder and ledger, syncing through ``location``."""

    def __init__(self, root: Path, name: str, location: dict[str, str], **setup_args: Any) -> None:
        self.name = name
        self.data_dir = root / name
        self.ledger = Ledger(self.data_dir)
        setup_args.setdefault("encrypted", False)
        setup_args.setdefault("passphrase", None)
        self.config = setup(self.data_dir, location, device_name=name, **setup_args)

    def sync(self, **kwargs: Any) -> SyncReport:
        self.ledger.refresh()
        report = sync_now(self.ledger, **kwargs)
        self.ledger.refresh()
        return report

    def state(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The ledger's rows (by id) and meta: what must be the same on every device once they have synced."""
        fresh = Ledger(self.data_dir)
        frame = fresh.frame().sort_values("id").reset_index(drop=True)
        return frame, fresh.engine.meta_items()


def folder_devices(root: Path, names: Sequence[str], **setup_args: Any) -> list[Device]:
    """Devices syncing through one folder (``root/location``)."""
    location = root / "location"
    location.mkdir(parents=True, exist_ok=True)
    return [Device(root, name, folder_location(location), **setup_args) for name in names]


def sync_all(devices: Sequence[Device], rounds: int = 2) -> None:
    """Every device syncs, twice round: afterwards each has seen every other's changes."""
    for _ in range(rounds):
        for device in devices:
            device.sync()


def assert_converged(devices: Sequence[Device]) -> None:
    """Every device holds the same transactions (every field) and the same meta."""
    first_frame, first_meta = devices[0].state()
    for device in devices[1:]:
        frame, meta = device.state()
        pd.testing.assert_frame_equal(frame, first_frame, check_like=False)
        assert _canonical(meta) == _canonical(first_meta), device.name


def _canonical(meta: dict[str, Any]) -> dict[str, Any]:
    """Meta with list entries that merge one by one in a stable order (their order is not merged)."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if key in ("budgets", "recurring") and isinstance(value, list):
            value = sorted(value, key=repr)
        if key == "accounts" and isinstance(value, dict):
            value = {**value, "accounts": sorted(value.get("accounts", []), key=lambda a: a["name"].casefold())}
        out[key] = value
    return out
