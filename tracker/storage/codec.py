"""The meaning of stored dicts: snapshot and journal-entry formats, validation, and migrations.

Snapshot (``schema_version`` 1)::

    {"format": "expense-tracker-ledger", "schema_version": 1, "seq": 42, "saved_at": "...Z",
     "transactions": {"id": [...], "type": [...], "amount_minor": [...], "currency": [...],
                      "date": [...], "category": [...], "tags": [[...]], "note": [...],
                      "external_id": [...], "created_at": [...], "updated_at": [...]},
     "meta": {"settings": {...}, "budgets": [...], ...},
     "undo": [<journal entries that can still be undone, oldest first>]}

Journal entry (one per committed change)::

    {"schema_version": 1, "seq": 43, "at": "...Z", "label": "add expense",
     "undo_of": null, "ops": [{"op": "put", "tx": {record}, "before": {record} | null},
                              {"op": "del", "id": "...", "before": {record}},
                              {"op": "meta", "key": "budgets", "value": ..., "before": ...}]}

Schema version 0 is the original design's single file, ``{"schema_version": 0, "transactions":
[{..., "amount": "12.50"}]}``, migrated on load; files of a newer version are refused untouched.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from tracker.errors import CorruptDataError, ValidationError
from tracker.model import RECORD_FIELDS, clean_date, from_record, iso_utc, records_to_columns, utcnow
from tracker.money import CURRENCY_EXPONENTS, to_minor

FORMAT = "expense-tracker-ledger"
SCHEMA_VERSION = 1
JsonDict = dict[str, Any]


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
    snap = empty_snapshot()
    snap["transactions"] = records_to_columns(records)
    snap["meta"] = data.get("meta", {})
    return snap


MIGRATIONS: dict[int, Callable[[JsonDict], JsonDict]] = {0: _migrate_0_to_1}
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
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptDataError(f"{source} could not be upgraded from schema {version}: {exc}") from None
        version += 1
    return data, migrated


def check_snapshot(data: JsonDict, source: str) -> JsonDict:
    """Validate a current-version snapshot column by column; raise ``CorruptDataError`` naming ``source``."""

    def bad(what: str) -> CorruptDataError:
        return CorruptDataError(
            f"{source} is damaged: {what}. It was left untouched; restore a backup with `expense-tracker backups restore NAME`"
        )

    if data.get("format") != FORMAT:
        raise bad("it is not an Expense Tracker ledger (format field)")
    seq = data.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise bad("'seq' is not a whole number")
    cols = data.get("transactions")
    if not isinstance(cols, dict) or any(not isinstance(cols.get(n), list) for n in RECORD_FIELDS):
        raise bad("the transactions table is incomplete")
    n = len(cols["id"])
    if any(len(cols[name]) != n for name in RECORD_FIELDS):
        raise bad("the transactions table has columns of different lengths")
    # Each check runs in C over a whole column (set(map(type, ...))): this is on the path of every cold load.
    ids = set(cols["id"])
    if len(ids) != n or not _types(cols["id"]) <= {str} or "" in ids:
        raise bad("transaction ids are missing or repeated")
    amounts = cols["amount_minor"]
    if not _types(amounts) <= {int} or (amounts and min(amounts) <= 0):
        raise bad("an amount is not a positive whole number of minor units")
    if not set(cols["type"]) <= {"income", "expense"}:
        raise bad("a transaction type is neither income nor expense")
    if not set(cols["currency"]) <= CURRENCY_EXPONENTS.keys():
        raise bad("a currency code is unknown")
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
    if not isinstance(data.get("meta", {}), dict) or not isinstance(data.get("undo", []), list):
        raise bad("'meta' or 'undo' has the wrong type")
    return data


def _types(values: Iterable[Any]) -> set[type]:
    """The exact types of the values (``bool`` is not ``int`` here)."""
    return set(map(type, values))


def check_entry(entry: JsonDict, source: str) -> JsonDict:
    """Validate one journal entry, including every transaction record in it."""

    def bad(what: str) -> CorruptDataError:
        return CorruptDataError(f"{source} has a damaged entry (seq {entry.get('seq')!r}): {what}")

    version = entry.get("schema_version")
    if version != SCHEMA_VERSION:
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise CorruptDataError(
                f"{source} was written by a newer version of Expense Tracker (schema {version}); it was left untouched"
            )
        raise bad("unknown schema_version")
    if isinstance(entry.get("seq"), bool) or not isinstance(entry.get("seq"), int):
        raise bad("'seq' is not a whole number")
    ops = entry.get("ops")
    if not isinstance(ops, list):
        raise bad("'ops' is not a list")
    try:
        for op in ops:
            kind = op.get("op")
            if kind == "put":
                from_record(op["tx"])
                if op.get("before") is not None:
                    from_record(op["before"])
            elif kind == "del":
                if not isinstance(op.get("id"), str):
                    raise bad("a deletion has no id")
            elif kind == "meta":
                if not isinstance(op.get("key"), str):
                    raise bad("a settings change has no key")
            else:
                raise bad(f"unknown operation {kind!r}")
    except (ValidationError, AttributeError, KeyError, TypeError) as exc:
        raise bad(str(exc)) from None
    return entry
