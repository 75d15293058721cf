"""The meaning of stored dicts: snapshot and journal-entry formats, validation, and migrations.

Snapshot (``schema_version`` 5)::

    {"format": "expense-tracker-ledger", "schema_version": 5, "seq": 42, "saved_at": "...Z",
     "transactions": {"id": ["3f2a..."], "type": ["expense"], "amount_minor": [1250], "currency": ["USD"],
                      "account": ["Main"], "date": [20759], "category": ["Food"], "tags": ["kids work"],
                      "note": ["..."], "splits": [0], "original_amount_minor": [0], "original_currency": [""],
                      "direction": [""], "link": [""], "cleared": [0], "reconciled": [0],
                      "external_id": [""], "created_at": [1793577600000000], "updated_at": [0]},
     "meta": {"settings": {...}, "budgets": [...], ...},
     "undo": [[41, "<what undoes change 41, as JSON text>"], [42, "..."]]}

Columns, one list per field, rows sorted by date, creation time and id: ``date`` in whole days since
1970-01-01, ``created_at`` in whole microseconds since 1970-01-01T00:00:00Z, ``updated_at`` in whole
microseconds after ``created_at`` (0: never edited), ``tags`` one string per row (the row's tags joined by
one space, which no tag contains), ``splits`` ``0`` or the lines as ``[category, amount_minor, joined tags,
note]``, the other fields as in the record form (see
:func:`tracker.storage.columns.stored_columns`). Snapshots are written ASCII-only (``\\uXXXX``
escapes), which the standard ``json`` module parses about twice as fast as UTF-8 text. ``undo`` holds the
changes that can still be undone, oldest first, each as only what reverses it, encoded apart and decoded
only by undo (see :mod:`tracker.storage.undo`).

Journal entry (one per committed change; ``schema_version`` 3, the record form; version 1 and 2 entries, written
before accounts or before splits, have records without the fields added since, which read as an old record's)::

    {"schema_version": 3, "seq": 43, "at": "...Z", "label": "add expense",
     "undo_of": null, "ops": [{"op": "put", "tx": {record}, "before": {record} | null},
                              {"op": "del", "id": "...", "before": {record}},
                              {"op": "meta", "key": "budgets", "value": ..., "before": ...},
                              {"op": "meta", "key": "rates", "changes": {"EUR/USD": [[before], [after]]}}]}

A meta value that is a large object (the exchange rates: one string per pair) is journaled as ``changes``: only
its entries that changed, each ``[[value before] or [], [value after] or []]`` (``[]``: absent), so a rate typed
by hand after an import of 30 years of rates writes that pair, not every pair (:func:`meta_op`).

Schema version 0 is the original design's single file, ``{"schema_version": 0, "transactions":
[{..., "amount": "12.50"}]}``; version 1 the columnar snapshot with record-form columns (ISO dates and
times, tags as lists); version 2 had today's encoding but kept whole journal entries as its undo history;
version 3 had no accounts, transfers or reconciliation marks (schema 4 adds those columns: every old row is
in the account "Main", see :data:`tracker.model.MIGRATED_ACCOUNT`); version 4 had no split lines and no original
amounts (schema 5 adds those columns, empty for every old row). Each is migrated on load (0 -> 1 -> ... -> 5);
files of a newer version are refused untouched.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from tracker.errors import CorruptDataError, ValidationError
from tracker.model import (
    DIRECTIONS,
    FIELDS,
    MAX_CATEGORY,
    MAX_SPLIT_LINES,
    RECORD_FIELDS,
    SPLIT_CATEGORY,
    TX_TYPES,
    Field,
    clean_account,
    clean_category,
    clean_date,
    clean_external_id,
    clean_line_category,
    clean_note,
    clean_tags,
    from_record,
    iso_utc,
    utcnow,
)
from tracker.money import CURRENCY_EXPONENTS, to_minor
from tracker.storage.columns import (
    ORIGINAL_FIELDS,
    STORED_DAY_RANGE,
    STORED_MICROS_RANGE,
    TAG_SEPARATOR,
    records_to_columns,
    stored_columns,
    stored_from_record_columns,
    with_added_columns,
    with_added_fields,
)
from tracker.storage.undo import UndoStep, check_stack, compact, decode

FORMAT = "expense-tracker-ledger"
SCHEMA_VERSION = 5
"""The snapshot's schema version."""
JOURNAL_VERSION = 3
"""The journal entries' schema version (2: records with accounts, transfers and reconciliation marks; 3: also
split lines and original amounts)."""
JsonDict = dict[str, Any]
_INT64_MAX = (1 << 63) - 1
_TEXT_COLUMNS = (*(f.record for f in FIELDS if f.kind in ("text", "tags")), "original_currency")
"""Snapshot columns of text (tags are stored joined), checked alike."""


def empty_snapshot() -> JsonDict:
    """The snapshot of a ledger that was never saved."""
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "seq": 0,
        "saved_at": iso_utc(utcnow()),
        "transactions": {name: [] for name in RECORD_FIELDS},
        "meta": {},
        "undo": [],
    }


def _migrate_0_to_1(data: JsonDict) -> JsonDict:
    """Version 0 kept a list of row objects with decimal-string amounts."""
    rows = data.get("transactions", [])
    if not isinstance(rows, list):
        raise ValueError("'transactions' is not a list")
    records = []
    for row in rows:
        currency = row.get("currency", "USD")
        stamp = row.get("created_at") or iso_utc(utcnow())
        records.append(
            {
                "id": row["id"],
                "type": row["type"],
                "amount_minor": to_minor(str(row["amount"]), currency),
                "currency": currency,
                "date": row["date"],
                "category": row["category"],
                "tags": row.get("tags", []),
                "note": row.get("note", ""),
                "external_id": row.get("external_id", ""),
                "created_at": stamp,
                "updated_at": row.get("updated_at") or stamp,
            }
        )
    return {
        "format": FORMAT,
        "schema_version": 1,
        "seq": 0,
        "saved_at": iso_utc(utcnow()),
        "transactions": records_to_columns(records),
        "meta": data.get("meta", {}),
        "undo": [],
    }


def _migrate_1_to_2(data: JsonDict) -> JsonDict:
    """Version 1 stored the record form in its columns (ISO dates and times, tags as lists)."""
    check_snapshot_v1(data, "the version 1 snapshot")
    return {**data, "schema_version": 2, "transactions": stored_from_record_columns(data["transactions"])}


def _migrate_2_to_3(data: JsonDict) -> JsonDict:
    """Version 2 kept whole journal entries (every record in full) as its undo history."""
    undo = data.get("undo", [])
    if not isinstance(undo, list):
        raise ValueError("'undo' is not a list")
    return {**data, "schema_version": 3, "undo": [compact(entry) for entry in undo]}


def _migrate_4_to_5(data: JsonDict) -> JsonDict:
    """Version 4 had no split lines and no original amounts: no row is split, none has an original amount."""
    cols = data.get("transactions")
    if not isinstance(cols, dict):
        raise ValueError("'transactions' is not a table")
    return {**data, "schema_version": 5, "transactions": with_added_columns(cols)}


def _migrate_3_to_4(data: JsonDict) -> JsonDict:
    """Version 3 had no accounts: every row goes into the account "Main", none is a transfer or cleared.

    The undo steps keep their columns as written: undo reads the missing ones as an old row's values.
    """
    cols = data.get("transactions")
    if not isinstance(cols, dict):
        raise ValueError("'transactions' is not a table")
    return {**data, "schema_version": 4, "transactions": with_added_columns(cols)}


MIGRATIONS: dict[int, Callable[[JsonDict], JsonDict]] = {
    0: _migrate_0_to_1,
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
    3: _migrate_3_to_4,
    4: _migrate_4_to_5,
}
"""``MIGRATIONS[v]`` turns a version ``v`` snapshot into version ``v + 1``."""


def upgrade_snapshot(data: JsonDict, source: str) -> tuple[JsonDict, bool]:
    """Migrate ``data`` to the current schema; returns it and whether it changed.

    Raises ``CorruptDataError`` (naming ``source``) for a newer or unknown version.
    """
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise CorruptDataError(f"{source} has no valid schema_version; it is not an Expense Tracker ledger")
    if version > SCHEMA_VERSION:
        raise CorruptDataError(
            f"{source} was written by a newer version of Expense Tracker (schema {version}; this version reads up to "
            f"{SCHEMA_VERSION}). It was left untouched: update the app, or restore a backup"
        )
    migrated = version != SCHEMA_VERSION
    while version < SCHEMA_VERSION:
        try:
            data = MIGRATIONS[version](data)
        except CorruptDataError as exc:
            raise CorruptDataError(str(exc).replace("the version 1 snapshot", source, 1)) from None
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise CorruptDataError(f"{source} could not be upgraded from schema {version}: {exc}") from None
        version += 1
    return data, migrated


def _complaint(source: str) -> Callable[[str], CorruptDataError]:
    def bad(what: str) -> CorruptDataError:
        return CorruptDataError(
            f"{source} is damaged: {what}. It was left untouched; restore a backup with `expense-tracker backups restore NAME`"
        )

    return bad


def _check_common(
    data: JsonDict, bad: Callable[[str], CorruptDataError], fields: tuple[Field, ...] = FIELDS
) -> dict[str, list[Any]]:
    """The checks every schema shares: format, seq, meta, undo, a complete table of equal-length columns (of
    ``fields``), and the columns stored alike in every version (unique ids, types, currencies)."""
    names = tuple(f.record for f in fields)
    if data.get("format") != FORMAT:
        raise bad("it is not an Expense Tracker ledger (format field)")
    seq = data.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise bad("'seq' is not a whole number")
    if not isinstance(data.get("meta", {}), dict) or not isinstance(data.get("undo", []), list):
        raise bad("'meta' or 'undo' has the wrong type")
    cols = data.get("transactions")
    if not isinstance(cols, dict) or any(not isinstance(cols.get(n), list) for n in names):
        raise bad("the transactions table is incomplete")
    n = len(cols["id"])
    if any(len(cols[name]) != n for name in names):
        raise bad("the transactions table has columns of different lengths")
    # Each check runs in C over a whole column (set(map(type, ...))): this is on the path of every cold load.
    ids = set(cols["id"])
    if len(ids) != n or not _types(cols["id"]) <= {str} or "" in ids:
        raise bad("transaction ids are missing or repeated")
    if not set(cols["type"]) <= set(TX_TYPES if fields is FIELDS else ("income", "expense")):
        raise bad("a transaction type is neither income, expense nor transfer")
    if not set(cols["currency"]) <= CURRENCY_EXPONENTS.keys():
        raise bad("a currency code is unknown")
    return cols


def check_snapshot(data: JsonDict, source: str, pairs: bool = True) -> JsonDict:
    """Validate a current-version (4) snapshot column by column; raise ``CorruptDataError`` naming ``source``.

    ``pairs=False`` (an undo step's records) does not ask for the other side of each transfer to be there.

    Every check runs in C over a whole column (``set(map(type, ...))``, ``min``/``max``, sets) or once per
    distinct value: this is on the path of every cold load.
    """
    bad = _complaint(source)
    cols = _check_common(data, bad)
    check_stack(data.get("undo", []), bad)
    amounts = cols["amount_minor"]
    if not _types(amounts) <= {int} or (amounts and (min(amounts) <= 0 or max(amounts) > _INT64_MAX)):
        raise bad("an amount is not a positive whole number of minor units")
    for name in _TEXT_COLUMNS:
        if not _types(cols[name]) <= {str}:
            raise bad(f"a {name} is not text")
    days = cols["date"]
    if not _types(days) <= {int} or (days and (min(days) < STORED_DAY_RANGE[0] or max(days) > STORED_DAY_RANGE[1])):
        raise bad(f"a date is not a whole number of days between {STORED_DAY_RANGE[0]} and {STORED_DAY_RANGE[1]}")
    low, high = STORED_MICROS_RANGE
    created, edited = cols["created_at"], cols["updated_at"]
    if not _types(created) <= {int} or (created and (min(created) < low or max(created) > high)):
        raise bad(f"a created_at is not a whole number of microseconds between {low} and {high}")
    if not _types(edited) <= {int} or (edited and (min(edited) < low - high or max(edited) > high - low)):
        raise bad("an updated_at is not a whole number of microseconds after created_at")
    if edited:  # both bounded above, so the sums fit in int64
        updated = np.array(created, dtype=np.int64) + np.array(edited, dtype=np.int64)
        if int(updated.min()) < low or int(updated.max()) > high:
            raise bad(f"an updated_at is not between {low} and {high} microseconds")
    for category in _unclean(cols["category"], clean_category):  # once per distinct category: cheap
        raise bad(f"the category {category[: MAX_CATEGORY + 10]!r} is empty, too long or not clean text")
    for joined in _unclean(cols["tags"], lambda t: TAG_SEPARATOR.join(clean_tags(t.split(TAG_SEPARATOR) if t else []))):
        raise bad(f"the tags {joined[:100]!r} are not sorted distinct words")
    _check_accounts(cols, bad, pairs)
    _check_splits(cols, bad)
    _check_originals(cols, bad)
    return data


def _check_splits(cols: dict[str, list[Any]], bad: Callable[[str], CorruptDataError]) -> None:
    """The ``splits`` column (schema 5): ``0``, or 2 to :data:`~tracker.model.MAX_SPLIT_LINES` lines
    ``[category, amount_minor, joined tags, note]`` of clean text and positive amounts summing to the row's
    amount, on a row of the category "Split" that is not a transfer. Whole-column checks (in C) over the lines,
    each distinct category, tag string and note checked once: this is on the path of every cold load."""
    splits = cols["splits"]
    if not _types(splits) <= {int, list}:
        raise bad("a split is neither 0 nor a list of lines")
    rows = list(itertools.compress(range(len(splits)), splits))
    if not rows:
        return
    parts = [splits[i] for i in rows]
    if not _types(parts) <= {list}:
        raise bad("a split is neither 0 nor a list of lines")
    sizes = list(map(len, parts))
    if min(sizes) < 2 or max(sizes) > MAX_SPLIT_LINES:
        raise bad(f"a split has fewer than 2 or more than {MAX_SPLIT_LINES} lines")
    lines = list(itertools.chain.from_iterable(parts))
    if not _types(lines) <= {list} or set(map(len, lines)) != {4}:
        raise bad("a split line is not [category, amount, tags, note]")
    categories, amounts, tags, notes = (list(map(operator.itemgetter(k), lines)) for k in range(4))
    if not _types(amounts) <= {int} or min(amounts) <= 0 or max(amounts) > _INT64_MAX:
        raise bad("a split line's amount is not a positive whole number of minor units")
    if not (_types(categories) | _types(tags) | _types(notes)) <= {str}:
        raise bad("a split line's category, tags or note is not text")
    for category in _unclean(categories, clean_line_category):
        raise bad(f"the split line category {category[: MAX_CATEGORY + 10]!r} is empty, too long or not clean text")
    for joined in _unclean(tags, lambda t: TAG_SEPARATOR.join(clean_tags(t.split(TAG_SEPARATOR) if t else []))):
        raise bad(f"the split line tags {joined[:100]!r} are not sorted distinct words")
    for note in _unclean(notes, clean_note):
        raise bad(f"the split line note {note[:60]!r} is not clean text")
    starts = np.cumsum([0, *sizes[:-1]])
    totals = np.add.reduceat(np.array(amounts, dtype=np.int64), starts)
    if not np.array_equal(totals, np.array([cols["amount_minor"][i] for i in rows], dtype=np.int64)):
        raise bad("a split's lines do not sum to its amount")
    if {cols["category"][i] for i in rows} != {SPLIT_CATEGORY} or "transfer" in {cols["type"][i] for i in rows}:
        raise bad(f"a split transaction is a transfer or its category is not {SPLIT_CATEGORY!r}")


def _check_originals(cols: dict[str, list[Any]], bad: Callable[[str], CorruptDataError]) -> None:
    """The original amounts (schema 5): a whole number >= 0 and a known currency, both or neither, not the row's."""
    amounts, currencies = cols["original_amount_minor"], cols["original_currency"]
    if not _types(amounts) <= {int} or (amounts and (min(amounts) < 0 or max(amounts) > _INT64_MAX)):
        raise bad("an original amount is not a whole number of minor units")
    if not set(currencies) <= {"", *CURRENCY_EXPONENTS}:
        raise bad("an original currency code is unknown")
    rows = range(len(amounts))
    given = list(itertools.compress(rows, amounts))
    if given != list(itertools.compress(rows, currencies)):
        raise bad("an original amount lacks its currency, or a currency its amount")
    mine = cols["currency"]
    if any(currencies[i] == mine[i] for i in given):
        raise bad("an original amount is in the transaction's own currency")


def _unclean(values: Iterable[Any], clean: Callable[[Any], Any]) -> Iterator[Any]:
    """The distinct values that ``clean`` refuses or would change (each distinct value checked once)."""
    for value in set(values):
        try:
            real = clean(value) == value
        except ValidationError:
            real = False
        if not real:
            yield value


def _check_accounts(cols: dict[str, list[Any]], bad: Callable[[str], CorruptDataError], pairs: bool) -> None:
    """The columns schema 4 added: account names, the reconciliation marks, transfer sides and (with ``pairs``)
    that each side's ``link`` is a transfer linking back in the other direction. Per distinct value, in C over
    a whole column, or over the transfers only."""
    for account in _unclean(cols["account"], clean_account):
        raise bad(f"the account {str(account)[:70]!r} is empty, too long or not clean text")
    for name in ("cleared", "reconciled"):
        if not _types(cols[name]) <= {int} or not set(cols[name]) <= {0, 1}:
            raise bad(f"a {name} mark is not 0 or 1")
    if 1 in cols["reconciled"] and any(map(operator.gt, cols["reconciled"], cols["cleared"])):
        raise bad("a transaction is reconciled but not cleared")
    if not set(cols["direction"]) <= {"", *DIRECTIONS}:
        raise bad("a transfer direction is neither out nor in")
    rows = range(len(cols["type"]))
    transfers = list(itertools.compress(rows, map("transfer".__eq__, cols["type"])))  # C loops, not Python ones
    if transfers != list(itertools.compress(rows, cols["direction"])) or transfers != list(
        itertools.compress(rows, cols["link"])
    ):
        raise bad("a transaction that is not a transfer has a direction or a linked side, or a transfer lacks one")
    ids, links, directions = cols["id"], cols["link"], cols["direction"]
    sides = {ids[i]: (links[i], directions[i]) for i in transfers}
    if pairs:
        for tx_id, (other, direction) in sides.items():
            twin = sides.get(other)
            if twin is None or twin[0] != tx_id or twin[1] == direction:
                raise bad(f"the transfer {tx_id!r} has no matching other side")


def undo_step(item: list[Any], source: str) -> UndoStep:
    """Decode one stored undo step (see :mod:`tracker.storage.undo`), its records checked as a snapshot's rows are."""

    def check_columns(cols: JsonDict) -> None:
        check_snapshot(
            {"format": FORMAT, "seq": 0, "transactions": cols},
            f"the undo step of change {item[0]} in {source}",
            pairs=False,
        )

    return decode(item, check_columns, _complaint(source))


def check_snapshot_v1(data: JsonDict, source: str) -> JsonDict:
    """Validate a version 1 snapshot (record-form columns) before it is migrated."""
    bad = _complaint(source)
    cols = _check_common(data, bad, ORIGINAL_FIELDS)
    amounts = cols["amount_minor"]
    if not _types(amounts) <= {int} or (amounts and min(amounts) <= 0):
        raise bad("an amount is not a positive whole number of minor units")
    for name in ("date", "category", "note", "external_id", "created_at", "updated_at"):
        if not _types(cols[name]) <= {str}:
            raise bad(f"a {name} is not text")
    if not _types(cols["tags"]) <= {list} or not _types(itertools.chain.from_iterable(cols["tags"])) <= {str}:
        raise bad("tags are not lists of text")
    if not set(map(len, cols["date"])) <= {10}:
        raise bad("a date is not in the form YYYY-MM-DD")
    for day in set(cols["date"]):  # once per distinct day: cheap
        try:
            real = clean_date(day).isoformat() == day
        except ValidationError:
            real = False
        if not real:
            raise bad(f"the date {day!r} is not a calendar date in the form YYYY-MM-DD")
    if any(not c.strip() for c in set(cols["category"])):
        raise bad("a category is empty")
    return data


def _types(values: Iterable[Any]) -> set[type]:
    """The exact types of the values (``bool`` is not ``int`` here)."""
    return set(map(type, values))


PATCH_META_BYTES = 8192
"""A meta object larger than this (as JSON) is journaled by its changed entries only (see :func:`meta_op`)."""


def _present(value: Any, key: str) -> list[Any]:
    return [value[key]] if isinstance(value, dict) and key in value else []


def meta_op(key: str, value: Any, before: Any) -> JsonDict:
    """The journal op that sets meta ``key`` from ``before`` to ``value``: the whole value, or for a large object
    becoming another object only its changed entries (``changes``)."""
    if isinstance(value, dict) and isinstance(before, dict) and len(json.dumps(before)) > PATCH_META_BYTES:
        changed = sorted(k for k in {*before, *value} if _present(before, k) != _present(value, k))
        return {"op": "meta", "key": key, "changes": {k: [_present(before, k), _present(value, k)] for k in changed}}
    return {"op": "meta", "key": key, "value": value, "before": before}


def patched(current: Any, changes: dict[str, list[list[Any]]], side: int = 1) -> dict[str, Any]:
    """``current`` (an object) with the ``changes`` of a meta op applied (``side`` 1), or taken back (0)."""
    out = dict(current) if isinstance(current, dict) else {}
    for k, pair in changes.items():
        if pair[side]:
            out[k] = pair[side][0]
        else:
            out.pop(k, None)
    return out


def apply_meta_op(meta: dict[str, Any], op: JsonDict) -> None:
    """Apply one journal meta op to ``meta`` in place (a whole value, ``None`` removing the key, or changes)."""
    key = op["key"]
    if "changes" in op:
        meta[key] = patched(meta.get(key), op["changes"])
    elif op.get("value") is None:
        meta.pop(key, None)
    else:
        meta[key] = op["value"]


def _is_changes(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str)
        and isinstance(v, list)
        and len(v) == 2
        and all(isinstance(s, list) and len(s) <= 1 for s in v)
        for k, v in value.items()
    )


def upgraded_entry(entry: JsonDict) -> JsonDict:
    """A version 1 journal entry with its records in today's form (the fields added since, as an old row's)."""
    ops = []
    for op in entry["ops"]:
        op = dict(op)
        for key in ("tx", "before"):
            if isinstance(op.get(key), dict):
                op[key] = dict(with_added_fields(op[key]))
        ops.append(op)
    return {**entry, "schema_version": JOURNAL_VERSION, "ops": ops}


def check_entry(entry: JsonDict, source: str) -> JsonDict:
    """Validate one journal entry, including every transaction record in it."""

    def bad(what: str) -> CorruptDataError:
        return CorruptDataError(f"{source} has a damaged entry (seq {entry.get('seq')!r}): {what}")

    version = entry.get("schema_version")
    if version not in (1, 2, JOURNAL_VERSION):
        if isinstance(version, int) and version > JOURNAL_VERSION:
            raise CorruptDataError(
                f"{source} was written by a newer version of Expense Tracker (schema {version}); it was left untouched"
            )
        raise bad("unknown schema_version")
    if isinstance(entry.get("seq"), bool) or not isinstance(entry.get("seq"), int):
        raise bad("'seq' is not a whole number")
    ops = entry.get("ops")
    if not isinstance(ops, list):
        raise bad("'ops' is not a list")
    puts: list[Any] = []
    befores: list[Any] = []
    try:
        for op in ops:
            kind = op.get("op")
            if kind == "put":
                puts.append(op["tx"])
                if op.get("before") is not None:
                    befores.append(op["before"])
            elif kind == "del":
                if not isinstance(op.get("id"), str) or not isinstance(op.get("before"), dict):
                    raise bad("a deletion has no id or no record of what it deleted")
                befores.append(op["before"])
            elif kind == "meta":
                if not isinstance(op.get("key"), str) or ("before" not in op and not _is_changes(op.get("changes"))):
                    raise bad("a settings change has no key or no value before it")
            else:
                raise bad(f"unknown operation {kind!r}")
        for records in (puts, befores):
            check_records(records, source)
    except (ValidationError, AttributeError, KeyError, TypeError) as exc:
        raise bad(str(exc)) from None
    return entry


def check_records(records: list[Any], source: str) -> None:
    """Validate journal records (storage form) as a snapshot's rows are, column by column (an import's entry
    holds thousands), and their notes and import ids as :func:`~tracker.model.from_record` does. Whatever
    the columns refuse is judged record by record, as before, so a message names the record's field."""
    if len(records) < 8:  # a person's change: one record or a few
        for record in records:
            from_record(record)
        return
    try:
        if len({r["id"] for r in records}) != len(records):
            raise ValueError("an id twice")  # the snapshot check wants unique ids: read them one by one
        cols = stored_columns(with_added_fields(r) for r in records)
        check_snapshot({"format": FORMAT, "seq": 0, "transactions": cols}, source, pairs=False)
        for note in _unclean(cols["note"], clean_note):
            raise ValueError(f"the note {str(note)[:60]!r} is not clean text")
        for ident in _unclean(cols["external_id"], clean_external_id):
            raise ValueError(f"the import id {str(ident)[:60]!r} is not clean text")
    except (CorruptDataError, ValidationError, ValueError, AttributeError, KeyError, TypeError):
        for record in records:  # what the columns refuse is judged as before, record by record (naming the field)
            from_record(record)
