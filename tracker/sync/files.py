"""The files a device writes into the sync location: their names, and their contents sealed and unsealed.

Every name says its kind, its device and its number, and nothing else is ever read: Syncthing's temporary
files (``.syncthing.*.tmp``), Dropbox's or OneDrive's conflicted copies (``seg-… (conflicted copy).ets``,
``seg-…-DESKTOP-1.ets``), our own temporary uploads (``.tmp-*``) and whatever else a person puts there are
*foreign*, listed by :func:`parse_listing` so that a sync can report them, and left alone.

- ``seg-<device>-<n>.ets``: one batch of that device's changes (entities and their registers), immutable;
- ``snap-<device>-<n>.ets``: the whole merged state as that device held it after its segment ``n``, so a new
  device need not replay years of segments;
- ``ack-<device>-<n>.ets``: what that device has applied of every device (so segments can be pruned once every
  known device has them), its name and when it last synced;
- ``keycheck.json``: the key-derivation parameters and a sealed known text (:mod:`tracker.sync.crypto`).

A body is JSON, compressed, then sealed (:class:`tracker.sync.crypto.Sealer`: encrypted and authenticated with
the file's name as associated data, or at least checked by length and checksum); a body that does not say the
kind, device and number of its own name is refused as damaged.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zlib
from collections.abc import Mapping
from typing import Any

from tracker.errors import SyncError
from tracker.sync.crypto import KEYCHECK_FILE as KEYCHECK
from tracker.sync.crypto import Sealer

FORMAT = 1
KINDS = ("seg", "snap", "ack")
_NAME = re.compile(r"(seg|snap|ack)-([0-9a-f]{16})-(\d{10})\.ets")
MAX_BODY = 1 << 31
"""A body that inflates beyond 2 GiB is refused (a decompression bomb is not a ledger)."""


@dataclasses.dataclass(frozen=True, order=True)
class FileName:
    """One of our files in the sync location."""

    kind: str
    device: str
    n: int

    @property
    def name(self) -> str:
        """The file's name."""
        return f"{self.kind}-{self.device}-{self.n:010d}.ets"


def file_name(kind: str, device: str, n: int) -> str:
    """The name of a device's ``n``-th file of ``kind``."""
    return FileName(kind, device, n).name


@dataclasses.dataclass(frozen=True)
class Listing:
    """A sync location's files: ours by kind, with their sizes, and the foreign ones."""

    files: dict[str, list[tuple[FileName, int]]]
    foreign: list[str]
    keycheck: bool

    def of(self, kind: str, device: str | None = None) -> list[tuple[FileName, int]]:
        """Our files of ``kind`` (of one device), by device then number."""
        return [(f, size) for f, size in self.files.get(kind, []) if device is None or f.device == device]

    def devices(self) -> set[str]:
        """Every device that has a file here."""
        return {f.device for found in self.files.values() for f, _ in found}


def parse_listing(listing: Mapping[str, int]) -> Listing:
    """Sort a location's files (name -> size) into ours and foreign ones."""
    files: dict[str, list[tuple[FileName, int]]] = {kind: [] for kind in KINDS}
    foreign: list[str] = []
    keycheck = False
    for name, size in listing.items():
        match = _NAME.fullmatch(name)
        if match is not None:
            files[match[1]].append((FileName(match[1], match[2], int(match[3])), size))
        elif name == KEYCHECK:
            keycheck = True
        elif not name.startswith("."):  # hidden files are temporaries (ours, Syncthing's) and markers
            foreign.append(name)
    for found in files.values():
        found.sort()
    return Listing(files, sorted(foreign), keycheck)


def seal_body(sealer: Sealer, name: FileName, body: Mapping[str, Any]) -> bytes:
    """A file's bytes: ``body`` (with its kind, device and number) as compact JSON, compressed and sealed."""
    full = {"format": FORMAT, "kind": name.kind, "device": name.device, "n": name.n, **body}
    data = json.dumps(full, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return sealer.seal(name.name, zlib.compress(data, 6))


def open_body(sealer: Sealer, name: FileName, blob: bytes) -> dict[str, Any]:
    """A file's body; ``SyncError`` (naming the file) when it cannot be opened or does not match its name."""
    data = sealer.open(name.name, blob)
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(data, MAX_BODY)
        if inflater.unconsumed_tail:
            raise SyncError(f"{name.name} is too large to be a ledger file; it was ignored")
        body = json.loads(raw)
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SyncError(f"{name.name} is damaged ({exc}); it was ignored") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise SyncError(f"{name.name} was written by another version of Expense Tracker; it was ignored")
    if (body.get("kind"), body.get("device"), body.get("n")) != (name.kind, name.device, name.n):
        raise SyncError(f"{name.name} does not hold what its name says; it was ignored")
    return body
