"""Which entities changed on this device since the last sync: the save path's note, and the comparison it saves.

After each save, :func:`note_save` appends one line to ``sync/dirty.log`` (no ``fsync``: a few microseconds on the
save path, which never waits for the sync): the revision, when, and which transactions and meta keys the change
touched (from the journal entry the engine just wrote). A sync compares only those entities with what it merged
last (:func:`local_changes`). When the log does not account for every revision since (a crash before the line was
written, a restored backup, a change made by an older version), the whole ledger is compared instead: slower,
never wrong.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.storage.fsutil import atomic_write
from tracker.sync.config import DIRTY, sync_dir
from tracker.sync.merge import META, VALUE, entities_of, meta_prefix, meta_values, tx_entity, tx_values

if TYPE_CHECKING:
    from tracker.ledger import Ledger
    from tracker.sync.state import SyncState

SYNC_LABEL = "sync from "
"""The label of a commit that applies other devices' changes (not a change of this device's)."""


def note_save(data_dir: Path, revision: int, label: str, ops: list[dict[str, Any]] | None) -> None:
    """Append the save's line to the dirty log (``ops``: the journal ops, ``None`` when everything was replaced)."""
    line: dict[str, Any] = {"rev": revision, "at": time.time_ns() // 1_000_000}
    if label.startswith(SYNC_LABEL):
        line["sync"] = True
    elif ops is None:
        line["all"] = True
    else:
        line["tx"] = sorted({op["tx"]["id"] if op["op"] == "put" else op["id"] for op in ops if op["op"] != "meta"})
        line["meta"] = sorted({op["key"] for op in ops if op["op"] == "meta"})
    path = sync_dir(data_dir) / DIRTY
    with open(path, "a+b") as fh:
        fh.seek(0, os.SEEK_END)
        torn = fh.tell() > 0 and (fh.seek(-1, os.SEEK_END), fh.read(1))[1] != b"\n"
        # a line torn by a crash stays a line of its own (its revision counts as missing), never spoils this one
        fh.write((("\n" if torn else "") + json.dumps(line, separators=(",", ":")) + "\n").encode())


@dataclass
class Dirty:
    """What the dirty log says changed since a revision: entity -> when (ms), or ``whole`` when it cannot say."""

    when: dict[str, int] = field(default_factory=dict)
    meta: dict[str, int] = field(default_factory=dict)
    whole: bool = False


def read_dirty(data_dir: Path, since: int, until: int) -> Dirty:
    """The changes of revisions ``since + 1 .. until`` as the log has them (``whole`` if any revision is missing)."""
    path = sync_dir(data_dir) / DIRTY
    out = Dirty()
    covered: set[int] = set()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
            rev, at = int(line["rev"]), int(line["at"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line: its revision is then missing, and the whole ledger is compared
        if not since < rev <= until:
            continue
        covered.add(rev)
        if line.get("all"):
            out.whole = True
        for tx_id in line.get("tx", ()):
            out.when[tx_entity(tx_id)] = max(out.when.get(tx_entity(tx_id), 0), at)
        for key in line.get("meta", ()):
            out.meta[key] = max(out.meta.get(key, 0), at)
    if len(covered) != until - since:
        out.whole = True
    return out


def forget_dirty(data_dir: Path, upto: int) -> None:
    """Drop the log's lines up to revision ``upto`` (hold the ledger's lock: saves append under it)."""
    path = sync_dir(data_dir) / DIRTY
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    kept = []
    for raw in lines:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            if int(json.loads(raw)["rev"]) > upto:
                kept.append(raw)
    if kept:
        atomic_write(path, ("\n".join(kept) + "\n").encode())
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@dataclass
class Local:
    """This device's entities that differ from what was merged: entity -> (register values or ``None``, when)."""

    values: dict[str, tuple[dict[str, Any] | None, int]]
    compared: int
    whole: bool


def local_changes(ledger: Ledger, state: SyncState, since: int, known: dict[str, dict[str, Any]]) -> Local:
    """Compare the entities the dirty log names (or, if it cannot say, every entity) with their merged registers.

    ``known`` is filled with the merged registers read (a cache the sync goes on using). Entities held back (they
    could not be applied here) are left out: their local state is not a change of this device's.
    """
    engine = ledger.engine
    dirty = read_dirty(ledger.location, since, ledger.revision)
    held = set(state.get("held", []))
    now = time.time_ns() // 1_000_000
    out: dict[str, tuple[dict[str, Any] | None, int]] = {}
    if dirty.whole:
        records = list(engine.records())
        current = entities_of(records, engine.meta_items())
        known.update(state.all_regs())
        names: Iterable[str] = set(current) | set(known)
        # When the log cannot say what changed, a difference may also be a merge this device committed and then
        # lost the record of (killed before its bookkeeping was saved): it must not come back as a new change that
        # beats what was merged. So each difference is dated by the record itself (its last edit: what a real local
        # edit has too), a meta entry or a deletion by nothing (0: it wins only where nobody else wrote).
        when: Mapping[str, int] = {tx_entity(r["id"]): _ms(r["updated_at"]) for r in records}
        now = 0
    else:
        current = {}
        for entity in dirty.when:
            record = engine.record(entity[2:])
            if record is not None:
                current[entity] = tx_values(record)
        for key in dirty.meta:
            for entity, value in meta_values(key, engine.meta(key)).items():
                current[entity] = {VALUE: value}
            known.update(state.all_regs(meta_prefix(key)))
        known.update(state.regs(e for e in dirty.when if e not in known))
        names = set(current) | set(dirty.when) | {e for e in known if e.startswith(META) and _key_of(e) in dirty.meta}
        when = {**dirty.when, **{e: dirty.meta[_key_of(e)] for e in names if e.startswith(META)}}
    compared = 0
    for entity in names:
        if entity in held:
            continue
        compared += 1
        values = current.get(entity)
        regs = known.get(entity)
        if _differs(values, regs):
            out[entity] = (values, when.get(entity, now))
    return Local(out, compared, dirty.whole)


def _ms(moment: str) -> int:
    """An ISO UTC time of a record (``2026-12-04T19:02:55.349451Z``) in milliseconds since 1970."""
    from tracker.model import parse_utc

    try:
        return int(parse_utc(moment).timestamp() * 1000)
    except (TypeError, ValueError):
        return 0


def _key_of(entity: str) -> str:
    return str(json.loads(entity[len(META) :])[0])


def _differs(values: Mapping[str, Any] | None, regs: Mapping[str, list[Any]] | None) -> bool:
    if values is None:
        if not regs:
            return False
        if "alive" in regs:
            return bool(regs["alive"][1])
        return regs.get(VALUE, [None, None])[1] is not None
    if not regs:
        return True
    return any(name not in regs or regs[name][1] != v for name, v in values.items())
