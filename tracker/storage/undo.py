"""The undo stack's stored form (storage schema 3): what undo needs, encoded apart, decoded only by undo.

A snapshot's ``undo`` is a list of ``[seq, text]`` pairs, oldest first: ``seq`` is the journal entry that
made the change, ``text`` one JSON text holding only what reverses it::

    {"label": "import 3 rows", "added": ["3f2a...", ...],
     "before": {<snapshot columns (:mod:`tracker.storage.columns`) of the records replaced or deleted>},
     "meta": [["budgets", <the value before, or null>], ...],
     "patches": [["rates", {"EUR/USD": [<the entry before>] or []}], ...]}

The text is a JSON *string* inside the snapshot, so loading a ledger only scans it (``json`` copies a
string in C without building an object per value) and never builds the records of the history: an
import of 100,000 rows keeps 100,000 ids, not 100,000 records. The journal keeps its readable record
form; an entry's compact form is made from it when it is applied (so undo works alike before and after
a fold), and the schema 2 -> 3 migration makes it from the old stack of whole journal entries.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from tracker.errors import CorruptDataError
from tracker.storage.base import JsonDict
from tracker.storage.columns import record_at, stored_columns, with_added_columns, with_added_fields

UndoItem = list[Any]
"""``[seq, text]``: one undoable change in the stored form (a list, as JSON gives it back)."""


@dataclasses.dataclass(frozen=True)
class UndoStep:
    """What reverses one change: remove ``added``, put ``before`` back, set each meta key to its old value."""

    seq: int
    label: str
    added: list[str]
    before: list[JsonDict]
    meta: list[tuple[str, Any]]
    patches: list[tuple[str, dict[str, list[Any]]]] = dataclasses.field(default_factory=list)
    """Meta objects journaled by their changes: each changed entry's value before (``[]``: it was absent)."""


def compact(entry: JsonDict) -> UndoItem:
    """The stored undo form of a journal entry (record-form ops, see :mod:`tracker.storage.codec`)."""
    added: list[str] = []
    before: list[JsonDict] = []
    meta: list[list[Any]] = []
    patches: list[list[Any]] = []
    for op in entry["ops"]:
        kind = op["op"]
        if kind == "meta" and "changes" in op:
            patches.append([op["key"], {k: pair[0] for k, pair in op["changes"].items()}])
        elif kind == "meta":
            meta.append([op["key"], op["before"]])
        elif op.get("before") is not None:  # a put may leave out a null "before" (check_entry allows it)
            before.append(op["before"])
        elif kind == "put":
            added.append(op["tx"]["id"])
        else:
            raise ValueError(f"the deletion of {op['id']!r} has no record to put back")
    body = {
        "label": str(entry.get("label", "change")),
        "added": added,
        "before": stored_columns(map(with_added_fields, before)),
        "meta": meta,
        **({"patches": patches} if patches else {}),
    }
    return [entry["seq"], json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)]


def check_stack(undo: Any, bad: Callable[[str], CorruptDataError]) -> None:
    """Check the stack's shape only (``[seq, text]`` pairs), which costs nothing: the texts are checked by undo."""
    if not isinstance(undo, list) or any(
        not isinstance(item, list) or len(item) != 2 or type(item[0]) is not int or not isinstance(item[1], str)
        for item in undo
    ):
        raise bad("the undo history is not a list of [seq, text] pairs")


def decode(
    item: UndoItem, check_columns: Callable[[JsonDict], None], bad: Callable[[str], CorruptDataError]
) -> UndoStep:
    """The step stored in ``item``; ``check_columns`` validates the records' columns (the snapshot's own checks)."""
    seq, text = item
    try:
        body = json.loads(text)
        label, added, cols, meta = body["label"], body["added"], body["before"], body["meta"]
        patches = body.get("patches", [])
    except (ValueError, TypeError, KeyError, RecursionError, AttributeError):
        raise bad(f"the undo step of change {seq} is not readable") from None
    if (
        not isinstance(label, str)
        or not isinstance(added, list)
        or any(not isinstance(i, str) or not i for i in added)
        or not isinstance(meta, list)
        or any(not isinstance(m, list) or len(m) != 2 or not isinstance(m[0], str) for m in meta)
        or not isinstance(patches, list)
        or any(
            not isinstance(p, list)
            or len(p) != 2
            or not isinstance(p[0], str)
            or not isinstance(p[1], dict)
            or any(not isinstance(v, list) or len(v) > 1 for v in p[1].values())
            for p in patches
        )
    ):
        raise bad(f"the undo step of change {seq} is damaged")
    if isinstance(cols, dict):
        cols = with_added_columns(cols)  # a step stored before schema 4 or 5: its rows read as old rows
    check_columns(cols)
    records = [record_at(cols, i) for i in range(len(cols["id"]))]
    return UndoStep(
        seq, label, added, records, [(key, value) for key, value in meta], [(key, dict(old)) for key, old in patches]
    )
