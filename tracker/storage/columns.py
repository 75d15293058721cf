"""The snapshot's column encoding (storage schema 2) and the record form <-> columns.

A snapshot stores each field as one list, in a form that the standard ``json`` module parses fast and that
turns into the frame with numpy/pyarrow, never row by row: ``date`` as whole days since 1970-01-01,
``created_at`` as whole microseconds since 1970-01-01T00:00:00Z, ``updated_at`` as whole microseconds after
``created_at`` (0 for a transaction never edited), ``tags`` as one string per row (the tags joined by
:data:`TAG_SEPARATOR`, which no tag can contain: see :func:`clean_tags`), the rest as in the record form.
Journal entries keep the record form (:meth:`Transaction.to_record`), which people can read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tracker.model import MAX_DATE, MIN_DATE, RECORD_FIELDS, clean_category, clean_date, clean_tags, iso_utc, parse_utc

_ISO_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"


_ISO_UTC_SEPARATORS = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":", 19: ".", 26: "Z"}


_ISO_UTC_DIGITS = [i for i in range(27) if i not in _ISO_UTC_SEPARATORS]


_NS_RANGE = (
    np.datetime64(pd.Timestamp.min.ceil("us").to_datetime64(), "us"),
    np.datetime64(pd.Timestamp.max.floor("us").to_datetime64(), "us"),
)


def _utc_column(stamps: Sequence[Any]) -> pd.Series:
    """:func:`iso_utc` text to ``datetime64[ns, UTC]``.

    Fast path: when every value has exactly the shape ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (what
    :func:`iso_utc` writes), numpy parses them in C. Anything else (another shape, a leap second, a
    date numpy reads but pandas cannot hold) goes through pandas' strict ``strptime``, so the result
    and the errors are those of the format ``%Y-%m-%dT%H:%M:%S.%fZ``.
    """
    text = np.array(stamps)
    if text.dtype == np.dtype("U27") and text.ndim == 1:
        chars = text.view(np.uint32).reshape(len(text), 27)
        digits = chars[:, _ISO_UTC_DIGITS]
        shaped = bool(((digits >= ord("0")) & (digits <= ord("9"))).all()) and all(
            bool((chars[:, i] == ord(sep)).all()) for i, sep in _ISO_UTC_SEPARATORS.items()
        )
        if shaped:
            try:
                parsed = text.astype("U26").astype("datetime64[us]")
            except ValueError:
                parsed = None
            if parsed is not None and _NS_RANGE[0] <= parsed.min() and parsed.max() <= _NS_RANGE[1]:
                return pd.Series(parsed.astype("datetime64[ns]")).dt.tz_localize("UTC")
    return pd.to_datetime(pd.Series(stamps), format=_ISO_UTC, utc=True).astype("datetime64[ns, UTC]")


def records_to_columns(records: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Row records (storage form) to columns."""
    cols: dict[str, list[Any]] = {name: [] for name in RECORD_FIELDS}
    for rec in records:
        for name in RECORD_FIELDS:
            cols[name].append(rec[name])
    return cols


TAG_SEPARATOR = " "
"""Joins a row's tags in a snapshot. A tag is one word: :func:`clean_tags` refuses any whitespace in it."""


EPOCH_DAY = dt.date(1970, 1, 1).toordinal()


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


_MICROSECOND = dt.timedelta(microseconds=1)


STORED_MICROS_RANGE = (
    int(pd.Timestamp.min.ceil("us").value // 1000),
    int(pd.Timestamp.max.floor("us").value // 1000),
)
"""The microsecond stamps a frame can hold (``datetime64[ns]``: 1677-09-21 to 2262-04-11)."""


STORED_DAY_RANGE = (MIN_DATE.toordinal() - EPOCH_DAY, MAX_DATE.toordinal() - EPOCH_DAY)


def day_number(day: dt.date) -> int:
    """Whole days since 1970-01-01 (negative before)."""
    return day.toordinal() - EPOCH_DAY


def micros(moment: dt.datetime) -> int:
    """Whole microseconds since 1970-01-01T00:00:00Z (exact: integer arithmetic only)."""
    return (moment - EPOCH) // _MICROSECOND


def stored_row(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """One record (storage form) in the snapshot's column encoding, field by field in ``RECORD_FIELDS`` order."""
    created = micros(parse_utc(record["created_at"]))
    encoded = {
        **record,
        "date": day_number(dt.date.fromisoformat(record["date"])),
        "tags": TAG_SEPARATOR.join(record["tags"]),
        "created_at": created,
        "updated_at": micros(parse_utc(record["updated_at"])) - created,
    }
    return tuple(encoded[name] for name in RECORD_FIELDS)


def stored_columns(records: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Records (storage form) to snapshot columns, one record at a time (for the few rows of a journal)."""
    rows = [stored_row(rec) for rec in records]
    if not rows:
        return {name: [] for name in RECORD_FIELDS}
    return {name: list(values) for name, values in zip(RECORD_FIELDS, zip(*rows, strict=True), strict=True)}


def record_at(cols: Mapping[str, Sequence[Any]], i: int) -> dict[str, Any]:
    """Row ``i`` of snapshot columns back in the storage form (what :meth:`Transaction.to_record` gives)."""
    tags = cols["tags"][i]
    return {
        "id": cols["id"][i],
        "type": cols["type"][i],
        "amount_minor": cols["amount_minor"][i],
        "currency": cols["currency"][i],
        "date": dt.date.fromordinal(cols["date"][i] + EPOCH_DAY).isoformat(),
        "category": cols["category"][i],
        "tags": tags.split(TAG_SEPARATOR) if tags else [],
        "note": cols["note"][i],
        "external_id": cols["external_id"][i],
        "created_at": iso_utc(EPOCH + cols["created_at"][i] * _MICROSECOND),
        "updated_at": iso_utc(EPOCH + (cols["created_at"][i] + cols["updated_at"][i]) * _MICROSECOND),
    }


def stored_from_record_columns(cols: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """Record-form columns (schema 1) to snapshot columns (schema 2), a whole column at a time.

    Strict: a date must be a real ``YYYY-MM-DD`` day, a time exactly :func:`iso_utc`'s form; categories and
    tags are cleaned as :func:`clean_category`/:func:`clean_tags` do (an older file may hold them uncleaned);
    otherwise ``ValueError``/``TypeError`` (``ValidationError`` is a ``ValueError``).
    """
    days = {}
    for text in set(cols["date"]):  # once per distinct day
        if not isinstance(text, str) or clean_date(text).isoformat() != text:
            raise ValueError(f"the date {text!r} is not a calendar date in the form YYYY-MM-DD")
        days[text] = day_number(dt.date.fromisoformat(text))
    joined = {}
    for tags in cols["tags"]:
        key = tuple(tags)
        if key not in joined:  # once per distinct list of tags; cleaned (sorted, folded) as a new transaction's
            if not all(isinstance(t, str) for t in key):
                raise TypeError(f"the tags {list(key)!r} are not text")
            joined[key] = TAG_SEPARATOR.join(clean_tags(list(key)))
    categories = {c: clean_category(c) for c in set(cols["category"])}
    created = _utc_column(cols["created_at"]).dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    updated = _utc_column(cols["updated_at"]).dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    return {
        "id": list(cols["id"]),
        "type": list(cols["type"]),
        "amount_minor": list(cols["amount_minor"]),
        "currency": list(cols["currency"]),
        "date": [days[d] for d in cols["date"]],
        "category": [categories[c] for c in cols["category"]],
        "tags": [joined[tuple(t)] for t in cols["tags"]],
        "note": list(cols["note"]),
        "external_id": list(cols["external_id"]),
        "created_at": (created.astype("int64") // 1000).tolist(),
        "updated_at": ((updated.astype("int64") - created.astype("int64")) // 1000).tolist(),
    }
