"""The sync plugin: the built-in implementation of ``after_save`` (registered like any third-party plugin).

On every save it notes what changed (:func:`tracker.sync.changes.note_save`: one short line appended, no
network, no ``fsync``) when the folder syncs, and pokes the background syncer if one runs in this process (the
app's; see :mod:`tracker.sync.background`), which sends the change soon after, off the save path.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tracker.hookspecs import hookimpl

if TYPE_CHECKING:
    from tracker.ledger import Ledger

log = logging.getLogger(__name__)


def send_after_exit() -> None:
    """This process is a command: after it saved a change, a ``sync now`` starts when it exits (see
    :func:`tracker.sync.background.poke`). A flag only: nothing is imported while sync is off."""
    _STATE["after_exit"] = True


_STATE = {"after_exit": False}


class BuiltinSync:
    """Notes each saved change for the next sync of the folder."""

    @hookimpl
    def after_save(self, ledger: Ledger, revision: int, label: str) -> None:
        from tracker.sync.config import is_set_up

        if not is_set_up(ledger.location):
            return
        from tracker.sync import background
        from tracker.sync.changes import note_save

        seq, ops = ledger.engine.last_change
        note_save(ledger.location, revision, label, ops if seq == revision else None)
        background.poke(ledger.location, label, after_exit=_STATE["after_exit"])
