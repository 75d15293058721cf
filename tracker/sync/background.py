"""Syncing in the background while the app runs: at start, soon after each change, and every minute.

One daemon thread per data folder, started by the app (:func:`start`); a save only sets an event
(:func:`poke`), so it never waits for the network. Errors are kept for the status (``sync status``, the
Settings page), never raised into the app.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from tracker.sync.changes import SYNC_LABEL

log = logging.getLogger(__name__)

EVERY = 60.0
"""Seconds between syncs while nothing changes."""
SOON = 2.0
"""Seconds a change waits for others (a batch of edits goes in one segment)."""

_RUNNERS: dict[Path, _Runner] = {}
_LOCK = threading.Lock()


class _Runner:
    def __init__(self, data_dir: Path, every: float) -> None:
        self.data_dir = data_dir
        self.every = every
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"sync {data_dir}", daemon=True)

    def _loop(self) -> None:
        from tracker.errors import TrackerError
        from tracker.ledger import Ledger
        from tracker.sync.config import is_set_up
        from tracker.sync.syncer import sync_now

        ledger: Ledger | None = None  # one for the thread's life: each sync reads only what changed since
        while not self.stop.is_set():
            if is_set_up(self.data_dir):
                try:
                    ledger = ledger or Ledger(self.data_dir)
                    sync_now(ledger)
                except TrackerError as exc:  # kept in the sync state for the status; tried again later
                    log.info("background sync of %s failed: %s", self.data_dir, exc)
                except Exception:
                    log.exception("background sync of %s failed", self.data_dir)
            woken = self.wake.wait(self.every)
            self.wake.clear()
            if woken and not self.stop.is_set():
                self.stop.wait(SOON)


def start(data_dir: Path, every: float = EVERY) -> None:
    """Sync ``data_dir`` now and then in this process (once per folder; later calls do nothing)."""
    key = Path(data_dir)
    with _LOCK:
        if key in _RUNNERS and _RUNNERS[key].thread.is_alive():
            return
        runner = _RUNNERS[key] = _Runner(key, every)
        runner.thread.start()


def poke(data_dir: Path, label: str = "") -> None:
    """A change was saved: sync soon (if this process syncs in the background; a sync's own commit is not a
    change to send)."""
    if label.startswith(SYNC_LABEL):
        return
    runner = _RUNNERS.get(Path(data_dir))
    if runner is not None:
        runner.wake.set()


def stop_all() -> None:
    """Stop every background syncer of this process (tests)."""
    with _LOCK:
        for runner in _RUNNERS.values():
            runner.stop.set()
            runner.wake.set()
        for runner in _RUNNERS.values():
            runner.thread.join(timeout=30)
        _RUNNERS.clear()
