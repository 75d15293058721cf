"""Syncing in the background: in the app at start, soon after each change and every minute; after a command.

The app starts one daemon thread per data folder (:func:`start`); a save only sets an event (:func:`poke`), so
it never waits for the network. A command that saved a change starts ``sync now`` as a process of its own when
it exits (:func:`poke` with ``after_exit``). Errors are kept for the status (``sync status``, the Settings page), never
raised into the app or the command.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
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


def poke(data_dir: Path, label: str = "", after_exit: bool = False) -> None:
    """A change was saved: sync soon. In the app (a background syncer runs in this process) it is woken; in a
    command (``after_exit``: :func:`tracker.sync.plugin.send_after_exit` was called) a ``sync now`` is started when
    the command is done, on its own, so the command never waits for it. A sync's own commit is not a change to
    send."""
    if label.startswith(SYNC_LABEL):
        return
    runner = _RUNNERS.get(Path(data_dir))
    if runner is not None:
        runner.wake.set()
    elif after_exit and os.environ.get(ENV_AFTER_SAVE, "1") != "0":
        if not _AFTER_EXIT:
            atexit.register(_sync_after_exit)
        _AFTER_EXIT.add(Path(data_dir))


ENV_AFTER_SAVE = "EXPENSE_TRACKER_SYNC_AFTER_SAVE"
"""``0``: a command-line change is not sent by a ``sync now`` of its own (it waits for the next sync)."""
_AFTER_EXIT: set[Path] = set()
"""The folders a command saved changes in: each gets its ``sync now`` when the command exits."""


def sync_command(data_dir: Path) -> list[str]:
    """The command line of ``expense-tracker --data-dir DATA sync now`` (the frozen binary runs it itself)."""
    prefix = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "tracker.cli"]
    return [*prefix, "--data-dir", str(data_dir), "sync", "now"]


def _sync_after_exit() -> None:
    env = {**os.environ, ENV_AFTER_SAVE: "0"}  # its own commit ("sync from ...") starts nothing
    for folder in sorted(_AFTER_EXIT):
        try:
            subprocess.Popen(
                sync_command(folder),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # not killed with the terminal's process group; nobody waits for it
                env=env,
                close_fds=True,
            )
        except OSError as exc:  # the change is saved; it is sent at the next sync
            log.info("could not start a background sync of %s: %s", folder, exc)


def stop_all() -> None:
    """Stop every background syncer of this process (tests)."""
    with _LOCK:
        for runner in _RUNNERS.values():
            runner.stop.set()
            runner.wake.set()
        for runner in _RUNNERS.values():
            runner.thread.join(timeout=30)
        _RUNNERS.clear()
