"""One sync of a data folder: send this device's changes, merge the others', acknowledge, compact, prune.

The order keeps every change somewhere durable at every instant:

1. the location is listed and the files not yet merged are downloaded (no lock held: the app goes on working);
2. under the ledger's lock: this device's changes since the last sync are stamped (:mod:`tracker.sync.changes`),
   the downloaded ones merged (:mod:`tracker.sync.merge`), the result committed to the ledger as one undoable
   change ("sync from laptop"), and this device's new segment written to the local outbox; then the sync state
   is committed (one SQLite transaction). A crash before that commit leaves the state as it was: the next sync
   does the same again and gets the same result;
3. the outbox is uploaded (a file is deleted from the outbox only once it is in the location), an
   acknowledgement written, and, now and then, a snapshot published and the segments every device has pruned.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.errors import StorageError, SyncError, TrackerError, ValidationError
from tracker.features import meta_features
from tracker.filters import Filter
from tracker.model import from_record, iso_utc, utcnow
from tracker.storage.fsutil import atomic_write, describe_oserror
from tracker.sync.changes import SYNC_LABEL, forget_dirty, local_changes
from tracker.sync.clock import Clock, make_stamp
from tracker.sync.config import LOCK, OUTBOX, STATE, SyncConfig, load_config, sync_dir
from tracker.sync.files import FileName, Listing, open_body, parse_listing, seal_body
from tracker.sync.merge import (
    ALIVE,
    META,
    TX,
    VALUE,
    Regs,
    concurrent,
    entity_key,
    merged,
    meta_prefix,
    meta_value,
    pack,
    stamped,
    tx_record,
    unpack,
)
from tracker.sync.state import SyncState, device_list, open_state

if TYPE_CHECKING:
    from tracker.ledger import Ledger
    from tracker.sync.crypto import Sealer
    from tracker.sync.transport import Transport

SNAPSHOT_AFTER_OPS = 5000
"""A batch of more than this many changes is published as a snapshot (a new device's first sync, a big import)..."""
SNAPSHOT_AFTER_SEGMENTS = 50
"""... and a device with this many segments in the location publishes one, so that its segments can be pruned."""
LOCK_TIMEOUT = 600.0
QUIET = frozenset({"updated_at"})
"""Registers whose concurrent writes are not worth a line in the conflicts list (every edit writes them)."""


@dataclasses.dataclass
class SyncReport:
    """What one sync did (``sync now --format json``)."""

    sent: int = 0
    received: int = 0
    conflicts_resolved: int = 0
    devices: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    conflicts: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)
    ignored: list[str] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON form."""
        return dataclasses.asdict(self)


def require_config(data_dir: Path) -> SyncConfig:
    """The folder's sync settings; ``SyncError`` saying how to set sync up when there are none."""
    config = load_config(data_dir)
    if config is None:
        raise SyncError(
            f"sync is not set up for {data_dir}: run `expense-tracker sync setup --folder PATH` "
            "(or `--webdav URL --user USER`) first"
        )
    return config


@contextlib.contextmanager
def sync_lock(data_dir: Path, timeout: float = LOCK_TIMEOUT) -> Any:
    """One sync at a time per data folder (another process's sync is waited for)."""
    from filelock import FileLock, Timeout

    folder = sync_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(folder / LOCK), timeout=timeout):
            yield
    except Timeout:
        raise SyncError(f"another sync of {data_dir} is still running; try again later") from None


def sync_now(ledger: Ledger, transport: Transport | None = None, sealer: Sealer | None = None) -> SyncReport:
    """Sync ``ledger``'s folder with its sync location now (see the module docstring). Raises ``SyncError``."""
    from tracker.sync.session import open_location, open_sealer

    config = require_config(ledger.location)
    with sync_lock(ledger.location):
        try:
            transport = transport or open_location(config)
            sealer = sealer or open_sealer(config, transport)
            with _collector_paused():
                report = _Sync(ledger, config, transport, sealer).run()
        except TrackerError as exc:
            _remember(ledger.location, last_error=str(exc))
            raise
        _remember(ledger.location, last_error=None, last_sync=iso_utc(utcnow()))
        return report


@contextlib.contextmanager
def _collector_paused() -> Any:
    """Python's cyclic garbage collector off for the duration of one sync.

    A first sync makes millions of small lists and dicts (a register is a list), none of them in a cycle; every
    700 allocations the collector would walk the young ones again, which doubled a 100,000-row first sync. The
    memory is freed as usual by reference counting; the collector runs again afterwards.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _remember(data_dir: Path, **values: Any) -> None:
    with contextlib.suppress(StorageError), open_state(sync_dir(data_dir) / STATE) as state:
        for key, value in values.items():
            state.put(key, value)
        state.commit()


class _Sync:
    """The steps of one sync (one object per run)."""

    def __init__(self, ledger: Ledger, config: SyncConfig, transport: Transport, sealer: Sealer) -> None:
        self.ledger = ledger
        self.config = config
        self.me = config.device
        self.transport = transport
        self.sealer = sealer
        self.folder = sync_dir(ledger.location)
        self.report = SyncReport()

    def run(self) -> SyncReport:
        listing = self._send_outbox(parse_listing(self.transport.list()))
        self.report.ignored = listing.foreign
        with open_state(self.folder / STATE) as state:
            bodies = self._download(state, listing)
            with self.ledger.locked():
                self.ledger.engine.refresh_locked()
                self._merge(state, listing, bodies)
                state.commit()
                forget_dirty(self.ledger.location, int(state.get("last_rev", 0)))
            listing = self._send_outbox(parse_listing(self.transport.list()))
            self._acknowledge(state, listing)
            self.report.devices = device_list(state, self.me)
            state.commit()
        return self.report

    # -- downloading ----------------------------------------------------------------------------------------------

    def _download(self, state: SyncState, listing: Listing) -> list[tuple[FileName, dict[str, Any]]]:
        """The bodies to merge: a snapshot where segments it covers are gone (or nothing was merged yet), then
        every segment not merged yet, oldest first. A file that cannot be opened is reported and skipped."""
        have = state.contiguous()
        applied = state.applied()
        latest: dict[str, FileName] = {}  # each device's newest snapshot (it deletes its older ones)
        for f, _ in listing.of("snap"):
            if f.device not in latest or f.n > latest[f.device].n:
                latest[f.device] = f
        wanted: list[FileName] = sorted(latest.values())  # what each covers decides below whether it is needed
        present = {(f.device, f.n) for f, _ in listing.of("seg")}
        for f, _ in listing.of("seg"):
            if f.n > have.get(f.device, 0) and f.n not in applied.get(f.device, set()):
                wanted.append(f)
        out: list[tuple[FileName, dict[str, Any]]] = []
        known = state.get("snapshots", {})  # what each snapshot covers, once read (never downloaded again for that)
        covers: dict[str, dict[str, int]] = {f.name: known[f.name] for f in latest.values() if f.name in known}
        for f in wanted:
            if f.kind == "snap" and f.name in covers and not self._needed(covers[f.name], have, present, state):
                continue
            body = self._read(f)
            if body is None:
                continue
            if f.kind == "snap":
                covers[f.name] = _seen(body)
                state.put("snapshots", covers)
                if not self._needed(covers[f.name], have, present, state):
                    continue
            out.append((f, body))
        return out

    @staticmethod
    def _needed(
        seen: Mapping[str, int], have: Mapping[str, int], present: set[tuple[str, int]], state: SyncState
    ) -> bool:
        """Whether a snapshot covering ``seen`` brings what the segments here cannot (they were pruned), or this
        device has merged nothing yet (one snapshot is quicker than every segment)."""
        if state.empty():
            return True
        return any(
            n > have.get(d, 0) and any((d, k) not in present for k in range(have.get(d, 0) + 1, n + 1))
            for d, n in seen.items()
        )

    def _read(self, f: FileName) -> dict[str, Any] | None:
        """A file's body; ``None`` (reported) when it cannot be opened. A network failure stops the sync."""
        try:
            return open_body(self.sealer, f, self.transport.read(f.name))
        except SyncError as exc:
            if getattr(exc, "transient", False):
                raise
            self.report.problems.append(str(exc))
            return None

    # -- merging --------------------------------------------------------------------------------------------------

    def _merge(self, state: SyncState, listing: Listing, bodies: list[tuple[FileName, dict[str, Any]]]) -> None:
        ledger = self.ledger
        clock = Clock(self.me, state.get("clock", ""))
        since = int(state.get("last_rev", 0))
        known: dict[str, Regs] = {}
        local = local_changes(ledger, state, since, known)
        seq = (
            max(
                int(state.get("seq", 0)),
                max((f.n for kind in ("seg", "snap") for f, _ in listing.of(kind, self.me)), default=0),
                max((_outbox_n(p) for p in self._outbox_files()), default=0),
            )
            + 1
        )
        mine: dict[str, Regs] = {}
        undone: set[str] = set()
        for entity, (values, when) in local.values.items():
            # from the dirty log: the save's time, later than all seen; from a whole comparison: the record's own
            # time as it is (see tracker.sync.changes.local_changes), so that it never beats what was merged
            stamp = make_stamp(max(when, 0), 0, self.me) if local.whole else _tick_at(clock, max(when, 0))
            regs = stamped(values, known.get(entity), stamp, seq)
            if not regs:
                continue
            kept = merged(known.get(entity), regs) or known.get(entity) or {}
            won = {name: reg for name, reg in regs.items() if kept.get(name, [""])[0] == reg[0]}
            if won:
                mine[entity] = won
                known[entity] = kept
            if len(won) < len(regs):
                undone.add(entity)  # an older local state than what was merged: the ledger takes the merge back
        # other devices' changes
        changed: set[str] = set(undone)
        batches = [(f, _seen(body), list(_entities(body))) for f, body in bodies]
        known.update(state.regs({e for _, _, found in batches for e, _ in found} - known.keys()))
        latest = max((reg[0] for _, _, found in batches for _, regs in found for reg in regs.values()), default="")
        with contextlib.suppress(ValueError):  # a malformed stamp in a damaged file moves no clock
            clock.see(latest)
        for f, seen, found in batches:
            for entity, regs in found:
                before = known.get(entity)
                for name in concurrent(before, regs, seen):
                    if name in QUIET:
                        continue
                    self.report.conflicts.append(_conflict_text(entity, name, before, regs, f.device))
                after = merged(before, regs)
                if after is not None:
                    known[entity] = after
                    changed.add(entity)
        held = set(state.get("held", []))
        changed |= held
        # what the merge changed goes into the ledger
        stamp_now = clock.tick()
        records = {e: tx_record(e, known.get(e, {})) for e in changed if e.startswith(TX)}
        for entity, regs in _duplicates(ledger, state, known, records, stamp_now, seq).items():
            mine[entity] = {**mine.get(entity, {}), **regs}
            known[entity] = {**known[entity], **regs}
            changed.add(entity)
            records[entity] = None
        for entity in {e for e in changed if e.startswith(META)} | {e for e in mine if e.startswith(META)}:
            prefix = meta_prefix(entity_key(entity)[0])
            for name, regs in state.all_regs(prefix):
                known.setdefault(name, regs)
        still_held = self._apply(changed, known, records)
        self.report.received = len(changed - still_held)
        self.report.conflicts_resolved = len(self.report.conflicts)
        if mine:
            self._publish(state, mine, known, seq)
        state.set_regs({e: known[e] for e in changed | mine.keys() if e in known})
        for f, body in bodies:
            if f.kind == "seg":
                state.mark_applied(f.device, [f.n])
            else:
                state.raise_floor(_seen(body))
        state.put("held", sorted(still_held))
        state.put("clock", clock.last)
        state.put("last_rev", ledger.revision)
        if self.report.conflicts:
            state.add_conflicts(iso_utc(utcnow()), self.report.conflicts)

    def _apply(
        self, changed: Iterable[str], known: Mapping[str, Regs], records: Mapping[str, dict[str, Any] | None]
    ) -> set[str]:
        """Commit what the merged registers of ``changed`` entities say; returns those that could not be applied."""
        ledger = self.ledger
        engine = ledger.engine
        puts: dict[str, dict[str, Any]] = {}
        deletes: list[str] = []
        keys: set[str] = set()
        for entity in changed:
            if entity.startswith(META):
                keys.add(entity_key(entity)[0])
                continue
            record = records[entity] if entity in records else tx_record(entity, known.get(entity, {}))
            tx_id = entity[len(TX) :]
            current = engine.record(tx_id)
            if record is None:
                if current is not None:
                    deletes.append(tx_id)
            elif current != record:
                puts[entity] = record
        held: set[str] = set()
        meta: dict[str, Any] = {}
        features = {f.key: f for f in meta_features()}
        for key in keys:
            prefix = meta_prefix(key)
            value = meta_value(
                key, {e: r.get(VALUE, [None, None])[1] for e, r in known.items() if e.startswith(prefix)}
            )
            if value == engine.meta(key):
                continue
            try:
                if key in features:
                    features[key].load(value)
            except (ValidationError, TypeError, KeyError, AttributeError) as exc:
                self.report.problems.append(f"a change to {key} could not be applied: {exc}")
                held.update(e for e in known if e.startswith(prefix))
                continue
            meta[key] = value
        if not (puts or deletes or meta):
            return held
        label = SYNC_LABEL + "other devices"
        try:
            ledger.commit_merged(list(puts.values()), deletes, meta, label)
            return held
        except ValidationError:
            pass
        good = []  # find what is refused, record by record, and hold it back; the rest goes in
        for entity, record in puts.items():
            try:
                from_record(record)
                good.append(record)
            except ValidationError as exc:
                self.report.problems.append(f"a change to transaction {entity[len(TX) :]} could not be applied: {exc}")
                held.add(entity)
        try:
            ledger.commit_merged(good, deletes, meta, label)
        except ValidationError as exc:  # a transfer without its other side, an unknown account: hold it all back
            self.report.problems.append(f"the changes from other devices could not be applied: {exc}")
            held.update(puts)
            held.update(TX + tx_id for tx_id in deletes)
        return held

    # -- sending --------------------------------------------------------------------------------------------------

    def _outbox_files(self) -> list[Path]:
        try:
            return sorted(p for p in (self.folder / OUTBOX).iterdir() if not p.name.startswith("."))
        except FileNotFoundError:
            return []

    def _publish(self, state: SyncState, mine: Mapping[str, Regs], known: Mapping[str, Regs], seq: int) -> None:
        """Write this device's new segment (or, for a big batch, a snapshot of everything) into the outbox."""
        seen = {**state.contiguous(), self.me: seq}
        if len(mine) > SNAPSHOT_AFTER_OPS:
            everything = dict(state.all_regs())
            everything.update(known)
            name = FileName("snap", self.me, seq)
            body: dict[str, Any] = {"seen": seen, "at": iso_utc(utcnow()), "name": self.config.device_name}
            body["entities"] = [[e, pack(r)] for e, r in sorted(everything.items())]
        else:
            name = FileName("seg", self.me, seq)
            body = {"seen": seen, "at": iso_utc(utcnow()), "name": self.config.device_name}
            body["entities"] = [[e, pack(r)] for e, r in sorted(mine.items())]
        outbox = self.folder / OUTBOX
        try:
            outbox.mkdir(parents=True, exist_ok=True)
            atomic_write(outbox / name.name, seal_body(self.sealer, name, body))
        except OSError as exc:
            raise StorageError(f"cannot write the outgoing changes in {outbox}: {describe_oserror(exc)}") from None
        state.put("seq", seq)
        if name.kind == "seg":
            state.mark_applied(self.me, [seq])
        else:
            state.raise_floor(seen)
            state.put("snapshots", {**state.get("snapshots", {}), name.name: seen})  # never downloaded to find out
        self.report.sent += len(mine)

    def _send_outbox(self, listing: Listing) -> Listing:
        """Upload what the outbox holds (oldest first); each file leaves the outbox once it is in the location."""
        there = {f.name for kind in ("seg", "snap") for f, _ in listing.of(kind, self.me)}
        sent = False
        for path in self._outbox_files():
            if path.name not in there:
                self.transport.write_new(path.name, path.read_bytes())
                sent = True
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        return parse_listing(self.transport.list()) if sent else listing

    def _acknowledge(self, state: SyncState, listing: Listing) -> None:
        """Say what this device has merged (a new ``ack`` file, the older ones removed), then prune and compact."""
        seen = state.contiguous()
        mine = listing.of("ack", self.me)
        others = {d: n for d, n in seen.items() if d != self.me}  # its own segments are no news to anyone
        if state.get("acked") != others or not mine:
            n = max((f.n for f, _ in mine), default=0) + 1
            name = FileName("ack", self.me, n)
            body = {"seen": seen, "at": iso_utc(utcnow()), "name": self.config.device_name}
            self.transport.write_new(name.name, seal_body(self.sealer, name, body))
            for old, _ in mine:
                self.transport.delete(old.name)
            state.put("acked", others)
        self._read_acks(state, listing)
        self._compact(state, listing)

    def _read_acks(self, state: SyncState, listing: Listing) -> None:
        """Remember the other devices' latest acknowledgements (name, when, what they have seen)."""
        devices: dict[str, Any] = state.get("devices", {})
        latest: dict[str, FileName] = {}
        for f, _ in listing.of("ack"):
            if f.device != self.me and (f.device not in latest or f.n > latest[f.device].n):
                latest[f.device] = f
        for device, f in latest.items():
            if devices.get(device, {}).get("ack") == f.n:
                continue
            body = self._read(f)
            if body is None:
                continue
            devices[device] = {"name": str(body.get("name", "")), "at": body.get("at"), "seen": _seen(body), "ack": f.n}
        devices[self.me] = {"name": self.config.device_name, "at": iso_utc(utcnow()), "seen": state.contiguous()}
        state.put("devices", devices)

    def _compact(self, state: SyncState, listing: Listing) -> None:
        """Publish a snapshot once this device has many segments there; delete its segments every device has seen
        (and that a snapshot of its own covers), and its older snapshots."""
        own = [f for f, _ in listing.of("seg", self.me)]
        snaps = sorted(f.n for f, _ in listing.of("snap", self.me))
        if len(own) >= SNAPSHOT_AFTER_SEGMENTS and (not snaps or snaps[-1] < own[-1].n):
            seq = int(state.get("seq", 0))
            name = FileName("snap", self.me, seq)
            if name.name not in {f.name for f, _ in listing.of("snap")}:
                body: dict[str, Any] = {"seen": {**state.contiguous(), self.me: seq}, "at": iso_utc(utcnow())}
                body["name"] = self.config.device_name
                body["entities"] = [[e, pack(r)] for e, r in sorted(state.all_regs())]
                self.transport.write_new(name.name, seal_body(self.sealer, name, body))
                state.put("snapshots", {**state.get("snapshots", {}), name.name: body["seen"]})
                snaps.append(seq)
        if not snaps:
            return
        covered = snaps[-1]
        for n in snaps[:-1]:
            self.transport.delete(FileName("snap", self.me, n).name)
        devices = state.get("devices", {})
        others = listing.devices() - {self.me}
        floor = min((int(devices.get(d, {}).get("seen", {}).get(self.me, 0)) for d in others), default=covered)
        for f in own:
            if f.n <= covered and f.n <= floor:
                self.transport.delete(f.name)


def _tick_at(clock: Clock, wall: int) -> str:
    """A stamp for a change saved at ``wall`` ms: later than everything seen, but as early as that allows."""
    if wall > clock.wall:
        clock.wall, clock.counter = wall, 0
        return make_stamp(clock.wall, clock.counter, clock.device)
    return clock.tick()


def _seen(body: Mapping[str, Any]) -> dict[str, int]:
    seen = body.get("seen")
    if not isinstance(seen, dict):
        return {}
    return {str(d): int(n) for d, n in seen.items() if isinstance(n, int) and not isinstance(n, bool)}


def _entities(body: Mapping[str, Any]) -> Iterable[tuple[str, Regs]]:
    """The ``(entity, registers)`` of a body; an item of any other shape is skipped (a damaged or foreign file)."""
    for item in body.get("entities", ()):
        if not (type(item) is list and len(item) == 2 and type(item[0]) is str and item[0].startswith((TX, META))):
            continue
        try:
            regs = unpack(item[1])
        except ValueError:
            continue
        if regs:
            yield item[0], regs


def _duplicates(
    ledger: Ledger,
    state: SyncState,
    known: dict[str, Regs],
    records: Mapping[str, dict[str, Any] | None],
    stamp: str,
    seq: int,
) -> dict[str, Regs]:
    """Deletions that leave one copy of a bank row imported on two devices (same account and ``external_id``).

    The copy kept is the one imported first (its ``origin`` register's stamp, then its id): the same choice on
    every device, so two devices resolving it at once delete the same copy.
    """
    arriving: dict[tuple[str, str], list[str]] = {}
    for entity, record in records.items():
        if record is not None and record["external_id"]:
            arriving.setdefault((record["account"].casefold(), record["external_id"]), []).append(entity)
    if not arriving:
        return {}
    wanted = {ext for _, ext in arriving}
    stored, live = ledger.rows_where(Filter())  # the stored columns: no record built for the other rows
    cols = stored.cols
    local = [
        (TX + tx_id, account.casefold(), ext)
        for tx_id, account, ext, alive in zip(cols["id"], cols["account"], cols["external_id"], live, strict=True)
        if ext in wanted and alive
    ]
    known.update(state.regs(entity for entity, _, _ in local if entity not in known))
    for entity, account, ext in local:
        group = arriving.get((account, ext))
        if group is not None and entity not in group and entity in known:
            group.append(entity)
    out: dict[str, Regs] = {}
    for group in arriving.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda e: (known[e]["origin"][0], e))
        for entity in group[1:]:
            if known[entity].get(ALIVE, [None, False])[1]:
                out[entity] = {ALIVE: [stamp, False, seq]}
    return out


def _conflict_text(entity: str, register: str, before: Regs | None, regs: Regs, device: str) -> str:
    what = f"transaction {entity[len(TX) :]}" if entity.startswith(TX) else f"{entity_key(entity)[0]} setting"
    ours = before[register] if before else None
    theirs = regs[register]
    kept = theirs if ours is None or theirs[0] > ours[0] else ours
    return f"{what} ({register}) edited on both devices; kept the later: {kept[1]!r}"


def _outbox_n(path: Path) -> int:
    try:
        return int(path.stem.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0
