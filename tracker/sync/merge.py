"""What devices merge: the ledger as *entities* of *registers*, last writer wins register by register. Pure.

An entity is one transaction (``t:<id>``) or one entry of a meta value (``m:["budgets", "<entry>"]``: a setting,
an account, a budget, a template, an exchange-rate pair; a value that cannot be split, such as the ordered import
rules, is one entity ``m:["rules"]``). An entity's state is a few registers, each ``[stamp, value, seq]``: the
hybrid-logical-clock stamp of the change that wrote it (:mod:`tracker.sync.clock`), the value, and the writer's
segment number (for telling concurrent edits from later ones). Merging keeps, register by register, the one with
the later stamp: commutative, associative and idempotent, so every device that has seen the same changes holds
the same state whatever the order they arrived in.

A transaction's registers are its fields, except that fields which must change together to stay valid are one
register (:data:`COUPLED`: the amount with its currency, account, lines and type; a split's lines must add up to
its amount, a transaction's currency is its account's), plus ``alive``: ``False`` is a deletion, a tombstone that
beats every edit made before it, and an undo of the deletion (a later ``True``) brings the transaction back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tracker.features import meta_features
from tracker.model import RECORD_FIELDS, SPLIT_CATEGORY
from tracker.sync.clock import STAMP_LENGTH

Reg = list[Any]
"""``[stamp, value, seq]``."""
Regs = dict[str, Reg]
"""An entity's registers by name."""

TX = "t:"
META = "m:"
ALIVE = "alive"
VALUE = "value"
"""The one register of a meta entity (``None``: the entry was removed)."""
UNCATEGORIZED = "Uncategorized"

COUPLED: dict[str, tuple[str, ...]] = {
    "money": (
        "type",
        "amount_minor",
        "currency",
        "account",
        "splits",
        "original_amount_minor",
        "original_currency",
        "direction",
        "link",
    ),
    "cleared": ("cleared", "reconciled"),
    "origin": ("external_id", "created_at"),
}
"""Record fields that only change together; every other record field (but the id) is a register of its own."""


def _groups() -> dict[str, tuple[str, ...]]:
    coupled = {f for fields in COUPLED.values() for f in fields}
    unknown = coupled - set(RECORD_FIELDS)
    if unknown:
        raise AssertionError(f"COUPLED names fields a record does not have: {sorted(unknown)}")
    out = dict(COUPLED)
    for name in RECORD_FIELDS:
        if name != "id" and name not in coupled:
            out[name] = (name,)
    return out


TX_GROUPS: dict[str, tuple[str, ...]] = _groups()
"""Each transaction register and the record fields it holds, derived from :data:`tracker.model.RECORD_FIELDS`."""


# -- transactions -----------------------------------------------------------------------------------------------


def tx_entity(tx_id: str) -> str:
    """The entity of transaction ``tx_id``."""
    return TX + tx_id


def tx_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """A transaction record's register values (JSON forms, as a round trip through JSON gives them)."""
    out: dict[str, Any] = {ALIVE: True}
    for group, fields in _GROUP_ITEMS:
        if len(fields) == 1:
            value = record[fields[0]]
            out[group] = value if type(value) in _SCALARS else _plain(value)
        else:
            out[group] = [v if type(v) in _SCALARS else _plain(v) for v in (record[f] for f in fields)]
    return out


_GROUP_ITEMS = tuple(TX_GROUPS.items())
_SCALARS = frozenset({str, int, bool, float, type(None)})


def tx_record(entity: str, regs: Mapping[str, Reg]) -> dict[str, Any] | None:
    """The record an entity's registers describe; ``None`` when it is deleted or not complete.

    The category follows the lines: a split transaction's is always "Split", and an unsplit one never is (a
    split undone on one device while another changed the category leaves the transaction uncategorised, not
    invalid). A pure function of the registers, so every device derives the same record.
    """
    if not regs.get(ALIVE, [None, False])[1] or any(g not in regs for g in TX_GROUPS):
        return None
    record: dict[str, Any] = {"id": entity[len(TX) :]}
    for group, fields in TX_GROUPS.items():
        value = regs[group][1]
        if len(fields) == 1:
            record[fields[0]] = value
        else:
            record.update(zip(fields, value, strict=True))
    if record["splits"]:
        record["category"] = SPLIT_CATEGORY
    elif record["category"] == SPLIT_CATEGORY:
        record["category"] = UNCATEGORIZED
    return record


# -- meta -------------------------------------------------------------------------------------------------------


def meta_entity(key: str, *path: str) -> str:
    """The entity of meta ``key`` (as a whole) or of one entry in it."""
    return META + json.dumps([key, *path], ensure_ascii=False)


def meta_prefix(key: str) -> str:
    """What every entity of meta ``key`` starts with (for a range query)."""
    return META + json.dumps([key], ensure_ascii=False)[:-1]


def entity_key(entity: str) -> tuple[str, list[str]]:
    """``(meta key, path)`` of a meta entity."""
    parts = json.loads(entity[len(META) :])
    return parts[0], parts[1:]


def _entry_keys() -> dict[str, Any]:
    return {f.key: f.entry_key for f in meta_features()}


def meta_values(key: str, value: Any) -> dict[str, Any]:
    """The entities of one meta value and their values: an object's keys one by one, and a declared feature's list
    elements one by one (:attr:`tracker.features.MetaFeature.entry_key`); anything else as a whole."""
    if value is None:
        return {}
    by = _entry_keys().get(key)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, item in value.items():
            if by is not None and isinstance(item, list):
                for element_key, element in _elements(item, by):
                    out[meta_entity(key, name, element_key)] = _plain(element)
                out[meta_entity(key, name)] = "[list]"  # an empty list still says the key is there
            else:
                out[meta_entity(key, name)] = _plain(item)
        return out
    if by is not None and isinstance(value, list):
        out = {meta_entity(key, element_key): _plain(element) for element_key, element in _elements(value, by)}
        return out or {meta_entity(key): "[list]"}
    return {meta_entity(key): _plain(value)}


def _elements(items: list[Any], by: Any) -> Iterator[tuple[str, Any]]:
    """``(entry key, element)``; a key met twice gets ``#2``, ``#3``... (damaged data still round-trips)."""
    seen: dict[str, int] = {}
    for element in items:
        try:
            name = by(element)
        except (KeyError, TypeError, AttributeError):
            name = json.dumps(element, sort_keys=True)
        seen[name] = seen.get(name, 0) + 1
        yield (name if seen[name] == 1 else f"{name}#{seen[name]}"), element


def meta_value(key: str, entries: Mapping[str, Any]) -> Any:
    """The meta value its entities' values describe (``None``: the key is absent); lists in entry-key order."""
    live = {e: v for e, v in entries.items() if v is not None}
    if not live:
        return None
    whole = meta_entity(key)
    if whole in live:
        value = live[whole]
        return [] if value == "[list]" else value
    paths = sorted((entity_key(e)[1], v) for e, v in live.items())
    if _entry_keys().get(key) is not None and all(len(p) == 1 for p, _ in paths) and not _is_object(paths):
        return [v for _, v in paths]
    out: dict[str, Any] = {}
    for path, v in paths:
        if len(path) == 1:
            out.setdefault(path[0], [] if v == "[list]" else v)
        else:
            target = out.setdefault(path[0], [])
            if isinstance(target, list):
                target.append(v)
    return out


def _is_object(paths: list[tuple[list[str], Any]]) -> bool:
    """Whether the entries of a feature with an entry key describe an object (entries two deep, or a ``[list]``
    marker), rather than a list of elements."""
    return any(len(p) > 1 or v == "[list]" for p, v in paths)


# -- registers ----------------------------------------------------------------------------------------------------


def stamped(values: Mapping[str, Any] | None, regs: Mapping[str, Reg] | None, stamp: str, seq: int) -> Regs:
    """The registers a local change writes: ``values`` (``None``: the entity is gone) against what was merged."""
    regs = regs or {}
    if values is None:
        if ALIVE in regs:
            return {ALIVE: [stamp, False, seq]} if regs[ALIVE][1] else {}
        if VALUE in regs and regs[VALUE][1] is not None:
            return {VALUE: [stamp, None, seq]}
        return {}
    return {name: [stamp, value, seq] for name, value in values.items() if name not in regs or regs[name][1] != value}


def merged(local: Mapping[str, Reg] | None, incoming: Mapping[str, Reg]) -> Regs | None:
    """``local`` with every incoming register that is later; ``None`` when nothing changes."""
    if not local:
        return {name: list(reg) for name, reg in incoming.items()}
    out: Regs | None = None
    for name, reg in incoming.items():
        mine = local.get(name)
        if mine is None or reg[0] > mine[0]:
            if out is None:
                out = dict(local)
            out[name] = list(reg)
    return out


def concurrent(local: Mapping[str, Reg] | None, incoming: Mapping[str, Reg], seen: Mapping[str, int]) -> list[str]:
    """The registers both sides wrote to different values without one having seen the other's change.

    ``seen`` is what the incoming side had applied of each device (its segments up to that number): a local
    register written in a segment it had not seen was unknown to it when it wrote its own.
    """
    out = []
    for name, reg in incoming.items():
        mine = local.get(name) if local else None
        if mine is None or mine[1] == reg[1] or mine[0] == reg[0]:
            continue
        writer = mine[0][-16:]
        if seen.get(writer, 0) < mine[2]:
            out.append(name)
    return out


def pack(regs: Mapping[str, Reg]) -> list[Any]:
    """An entity's registers in their stored and sent form: ``[stamp, seq, {name: value}, {name: [stamp, value, seq]}]``
    with the most common ``(stamp, seq)`` written once (a change stamps all its registers alike), the rest in full."""
    counts: dict[tuple[str, int], int] = {}
    for reg in regs.values():
        counts[reg[0], reg[2]] = counts.get((reg[0], reg[2]), 0) + 1
    stamp, seq = max(counts, key=lambda k: (counts[k], k)) if counts else ("", 0)
    common: dict[str, Any] = {}
    other: dict[str, Reg] = {}
    for name, reg in regs.items():
        if reg[0] == stamp and reg[2] == seq:
            common[name] = reg[1]
        else:
            other[name] = reg
    return [stamp, seq, common, other] if other else [stamp, seq, common]


def unpack(packed: Any) -> Regs:
    """The registers of :func:`pack`'s form; ``ValueError`` for anything else (a damaged or foreign file)."""
    if type(packed) is not list or len(packed) not in (3, 4):
        raise ValueError("not a packed entity")
    stamp, seq, common = packed[0], packed[1], packed[2]
    if type(stamp) is not str or len(stamp) != STAMP_LENGTH or type(seq) is not int or type(common) is not dict:
        raise ValueError("not a packed entity")
    regs: Regs = {name: [stamp, value, seq] for name, value in common.items()}
    if len(packed) == 4:
        if type(packed[3]) is not dict:
            raise ValueError("not a packed entity")
        for name, reg in packed[3].items():
            if not (type(reg) is list and len(reg) == 3 and type(reg[0]) is str and len(reg[0]) == STAMP_LENGTH):
                raise ValueError("not a register")
            if type(reg[2]) is not int:
                raise ValueError("not a register")
            regs[name] = reg
    return regs


def _plain(value: Any) -> Any:
    """The JSON form of a value (tuples become lists), as a value read back from a segment is."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def entities_of(records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every entity of a ledger's state and its register values (what a full comparison reads)."""
    out: dict[str, dict[str, Any]] = {tx_entity(r["id"]): tx_values(r) for r in records}
    for key, value in meta.items():
        for entity, v in meta_values(key, value).items():
            out[entity] = {VALUE: v}
    return out
