"""Hybrid logical clocks: a stamp for every change, ordered the same way on every device.

A stamp is text, ``"<wall ms, 13 digits>-<counter, 6 digits>-<device id>"``, so comparing two stamps as text
compares (wall time, counter, device): last writer wins by (clock, device) with no tie left. The wall part
never goes backwards on one device (a clock set back keeps counting from the last stamp) and moves past every
stamp received (Kulkarni et al., "Logical Physical Clocks", 2014), so a change made after seeing another one
always carries a later stamp, whatever the two devices' clocks say.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

Stamp = str
"""One hybrid-logical-clock stamp (see the module docstring)."""

DEVICE_ID = re.compile(r"[0-9a-f]{16}")
"""A device id: 16 lowercase hex digits (:func:`tracker.model.new_id`)."""
_STAMP = re.compile(r"(\d{13})-(\d{6})-([0-9a-f]{16})")
STAMP_LENGTH = 13 + 1 + 6 + 1 + 16
MAX_COUNTER = 999_999
MAX_DRIFT_MS = 24 * 3600 * 1000
"""A received stamp more than a day ahead of this device's clock does not drag the clock along (a device
whose clock is wrong by years must not make every later change of everyone else lose to it)."""


def make_stamp(wall_ms: int, counter: int, device: str) -> Stamp:
    """The stamp of ``(wall_ms, counter)`` on ``device``."""
    return f"{wall_ms:013d}-{counter:06d}-{device}"


def parse_stamp(stamp: object) -> tuple[int, int, str]:
    """``(wall_ms, counter, device)`` of a stamp; ``ValueError`` for anything else."""
    match = _STAMP.fullmatch(stamp) if isinstance(stamp, str) else None
    if match is None:
        raise ValueError(f"{stamp!r} is not a clock stamp")
    return int(match[1]), int(match[2]), match[3]


def stamp_device(stamp: Stamp) -> str:
    """The device that made ``stamp``."""
    return stamp[-16:]


class Clock:
    """One device's hybrid logical clock.

    Args:
        device: this device's id.
        last: the last stamp this device made or received (``""``: none yet).
        now_ms: the wall clock in milliseconds (a parameter so that tests can drive it).
    """

    def __init__(self, device: str, last: Stamp = "", now_ms: Callable[[], int] | None = None) -> None:
        if not DEVICE_ID.fullmatch(device):
            raise ValueError(f"{device!r} is not a device id")
        self.device = device
        self._now = now_ms or (lambda: time.time_ns() // 1_000_000)
        self.wall, self.counter = (parse_stamp(last)[:2]) if last else (0, 0)

    @property
    def last(self) -> Stamp:
        """The latest stamp made or seen (what to keep for the next run)."""
        return make_stamp(self.wall, self.counter, self.device)

    def tick(self) -> Stamp:
        """A new stamp, later than every stamp made or seen so far."""
        now = self._now()
        if now > self.wall:
            self.wall, self.counter = now, 0
        else:
            self._bump()
        return make_stamp(self.wall, self.counter, self.device)

    def see(self, stamp: Stamp) -> None:
        """Take a received stamp into account: every later :meth:`tick` is after it (unless it is absurdly ahead)."""
        wall, counter, _ = parse_stamp(stamp)
        if wall > self._now() + MAX_DRIFT_MS:
            return
        if (wall, counter) > (self.wall, self.counter):
            self.wall, self.counter = wall, counter

    def _bump(self) -> None:
        if self.counter >= MAX_COUNTER:  # a million changes in one millisecond: borrow the next millisecond
            self.wall, self.counter = self.wall + 1, 0
        else:
            self.counter += 1
