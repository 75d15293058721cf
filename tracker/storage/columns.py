"""The snapshot's column encoding (storage schema 2) and the record form <-> columns.

A snapshot stores each field as one list, in a form that the standard ``json`` module parses fast and that
turns into the frame with numpy/pyarrow, never row by row: ``date`` as whole days since 1970-01-01,
``created_at`` as whole microseconds since 1970-01-01T00:00:00Z, ``updated_at`` as whole microseconds after
``created_at`` (0 for a transaction never edited), ``tags`` as one string per row (the tags joined by
:data:`TAG_SEPARATOR`, which no tag can contain: see :func:`clean_tags`), ``flag`` fields (``cleared``,
``reconciled``) as 0 or 1, ``splits`` as ``0`` (not split) or a list of ``[category, amount_minor, joined tags,
note]``, the rest as in the record form.
Journal entries keep the record form (:meth:`Transaction.to_record`), which people can read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tracker.model import (
    FIELDS,
    MAX_DATE,
    MIN_DATE,
    RECORD_FIELDS,
    FieldKind,
    SplitLine,
    Transaction,
    clean_category,
    clean_date,
    clean_tags,
    iso_utc,
    parse_utc,
)

if TYPE_CHECKING:
    import pandas as pd

_ISO_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"


_ISO_UTC_SEPARATORS = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":", 19: ".", 26: "Z"}


_ISO_UTC_DIGITS = [i for i in range(27) if i not in _ISO_UTC_SEPARATORS]


_INT64_MAX = (1 << 63) - 1


STORED_MICROS_RANGE = (-(_INT64_MAX // 1000), _INT64_MAX // 1000)
"""The microsecond stamps a frame can hold (``datetime64[ns]``: 1677-09-21 to 2262-04-11).

pandas' ``Timestamp.min``/``max`` are -(2**63 - 1) and 2**63 - 1 nanoseconds, here rounded inwards to whole
microseconds (a test checks them against pandas, which this module does not import).
"""


_NS_RANGE = (np.datetime64(STORED_MICROS_RANGE[0], "us"), np.datetime64(STORED_MICROS_RANGE[1], "us"))


def _utc_column(stamps: Sequence[Any]) -> pd.Series:
    """:func:`iso_utc` text to ``datetime64[ns, UTC]``.

    Fast path: when every value has exactly the shape ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (what
    :func:`iso_utc` writes), numpy parses them in C. Anything else (another shape, a leap second, a
    date numpy reads but pandas cannot hold) goes through pandas' strict ``strptime``, so the result
    and the errors are those of the format ``%Y-%m-%dT%H:%M:%S.%fZ``.
    """
    import pandas as pd

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
    """Row records (storage form) of the original fields (schemas 0-3) to record-form columns (schema 1)."""
    names = [f.record for f in FIELDS if f.missing is None]
    cols: dict[str, list[Any]] = {name: [] for name in names}
    for rec in records:
        for name in names:
            cols[name].append(rec[name])
    return cols


TAG_SEPARATOR = " "
"""Joins a row's tags in a snapshot. A tag is one word: :func:`clean_tags` refuses any whitespace in it."""


EPOCH_DAY = dt.date(1970, 1, 1).toordinal()


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


_MICROSECOND = dt.timedelta(microseconds=1)


STORED_DAY_RANGE = (MIN_DATE.toordinal() - EPOCH_DAY, MAX_DATE.toordinal() - EPOCH_DAY)


def day_number(day: dt.date) -> int:
    """Whole days since 1970-01-01 (negative before)."""
    return day.toordinal() - EPOCH_DAY


def micros(moment: dt.datetime) -> int:
    """Whole microseconds since 1970-01-01T00:00:00Z (exact: integer arithmetic only)."""
    return (moment - EPOCH) // _MICROSECOND


RELATIVE_TIMES: dict[str, str] = {"updated_at": "created_at"}
"""``time`` columns stored as microseconds after another, earlier one (0 for a transaction never edited)."""


def stored_micros(
    cols: Mapping[str, Sequence[Any]], name: str, done: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """The ``time`` column ``name`` of snapshot columns as microseconds since the epoch (int64).

    ``done`` keeps the columns converted so far (a relative column's base is then not converted twice).
    """
    done = {} if done is None else done
    if name not in done:
        values = np.array(cols[name], dtype=np.int64)
        base = RELATIVE_TIMES.get(name)
        done[name] = values if base is None else values + stored_micros(cols, base, done)
    return done[name]


def _day_of(text: str) -> int:
    return day_number(dt.date.fromisoformat(text))


def _iso_day(day: int) -> str:
    return dt.date.fromordinal(day + EPOCH_DAY).isoformat()


def _joined(tags: Sequence[str]) -> str:
    return TAG_SEPARATOR.join(tags)


def _split(joined: str) -> list[str]:
    return joined.split(TAG_SEPARATOR) if joined else []


def _micros_of(text: str) -> int:
    return micros(parse_utc(text))


def _iso_micros(value: int) -> str:
    return iso_utc(EPOCH + value * _MICROSECOND)


def _stored_lines(lines: Sequence[Any]) -> Any:
    """Split lines (record form) to ``[[category, amount_minor, joined tags, note], ...]``; ``0`` for no split."""
    return [[ln["category"], ln["amount_minor"], _joined(ln["tags"]), ln["note"]] for ln in lines] if lines else 0


def _record_lines(stored: Any) -> list[dict[str, Any]]:
    if not stored:
        return []
    return [{"category": c, "amount_minor": m, "tags": _split(t), "note": n} for c, m, t, n in stored]


def split_lines(stored: Any) -> tuple[SplitLine, ...]:
    """A snapshot's ``splits`` value (``0`` or a list of ``[category, amount_minor, joined tags, note]``) as lines."""
    if not stored:
        return ()
    return tuple(SplitLine(c, m, tuple(t.split(TAG_SEPARATOR)) if t else (), n) for c, m, t, n in stored)


_ENCODERS: dict[FieldKind, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "date": (_day_of, _iso_day),
    "tags": (_joined, _split),
    "time": (_micros_of, _iso_micros),
    "flag": (int, bool),
    "splits": (_stored_lines, _record_lines),
}
"""Per kind: (record value -> snapshot value, snapshot value -> record value); other kinds are stored as they are."""

_CODECS: tuple[tuple[str, Callable[[Any], Any] | None, Callable[[Any], Any] | None, str | None], ...] = tuple(
    (f.record, *_ENCODERS.get(f.kind, (None, None)), RELATIVE_TIMES.get(f.record)) for f in FIELDS
)
"""Per field, in ``RECORD_FIELDS`` order: its key, encoder, decoder and the column its stored value is relative to."""


ADDED_FIELDS = tuple(f for f in FIELDS if f.missing is not None)
"""Fields added after storage schema 3 (accounts, transfers, reconciliation; schema 5: split lines, original
amounts): older records lack them."""
ORIGINAL_FIELDS = tuple(f for f in FIELDS if f.missing is None)
"""The fields of storage schemas 0-3."""
_STORED_MISSING = {
    f.record: _ENCODERS[f.kind][0](f.missing) if f.kind in _ENCODERS else f.missing for f in ADDED_FIELDS
}


_RECORD_MISSING = {f.record: list(f.missing) if isinstance(f.missing, tuple) else f.missing for f in ADDED_FIELDS}


def with_added_fields(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """A record (storage form) written before :data:`ADDED_FIELDS` existed, with their values for old records."""
    if len(record) >= len(RECORD_FIELDS) or all(f.record in record for f in ADDED_FIELDS):
        return record
    return {**_RECORD_MISSING, **record}


def with_added_columns(cols: Mapping[str, Any]) -> dict[str, Any]:
    """Snapshot columns written before :data:`ADDED_FIELDS` existed, with those columns added (old rows' values).

    Only the added columns are filled in: a table missing another column stays incomplete (and is refused)."""
    ids = cols.get("id")
    n = len(ids) if isinstance(ids, list) else 0
    return {**cols, **{name: [value] * n for name, value in _STORED_MISSING.items() if name not in cols}}


def stored_row(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """One record (storage form) in the snapshot's column encoding, field by field in ``RECORD_FIELDS`` order."""
    row: list[Any] = []
    absolute: dict[str, Any] = {}
    for name, encode, _, base in _CODECS:
        value = record[name]
        if encode is not None:
            value = absolute[name] = encode(value)
            if base is not None:
                value -= absolute[base]
        row.append(value)
    return tuple(row)


def stored_columns(records: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Records (storage form) to snapshot columns, one record at a time (for the few rows of a journal)."""
    rows = [stored_row(rec) for rec in records]
    if not rows:
        return {name: [] for name in RECORD_FIELDS}
    return {name: list(values) for name, values in zip(RECORD_FIELDS, zip(*rows, strict=True), strict=True)}


def record_at(cols: Mapping[str, Sequence[Any]], i: int) -> dict[str, Any]:
    """Row ``i`` of snapshot columns back in the storage form (what :meth:`Transaction.to_record` gives)."""
    record: dict[str, Any] = {}
    absolute: dict[str, Any] = {}
    for name, _, decode, base in _CODECS:
        value = cols[name][i]
        if decode is not None:
            if base is not None:
                value += absolute[base]
            absolute[name] = value
            value = decode(value)
        record[name] = value
    return record


def _day_value(day: int) -> dt.date:
    return dt.date.fromordinal(day + EPOCH_DAY)


def _moment_value(value: int) -> dt.datetime:
    return EPOCH + value * _MICROSECOND


_VALUES: dict[FieldKind, Callable[[Any], Any]] = {
    "date": _day_value,
    "tags": lambda joined: tuple(joined.split(TAG_SEPARATOR)) if joined else (),
    "time": _moment_value,
    "flag": bool,
    "splits": split_lines,
}
"""Per kind: a snapshot value -> the value :class:`Transaction` holds (other kinds hold it as stored)."""

_ATTRS: tuple[tuple[str, Callable[[Any], Any] | None, str | None], ...] = tuple(
    (f.record, _VALUES.get(f.kind), RELATIVE_TIMES.get(f.record)) for f in FIELDS
)


def transaction_at(cols: Mapping[str, Sequence[Any]], i: int) -> Transaction:
    """Row ``i`` of snapshot columns as a :class:`Transaction`, without the record form's text round trip.

    Only for columns already checked (a loaded snapshot: :func:`tracker.storage.codec.check_snapshot`; journal
    records: ``check_entry``): nothing is validated again. ``from_record(record_at(cols, i))`` gives the same
    transaction, checked (a test holds them equal).
    """
    values: dict[str, Any] = {}
    micros_of: dict[str, int] = {}
    for name, decode, base in _ATTRS:
        value = cols[name][i]
        if base is not None:
            value += micros_of[base]
        if decode is _moment_value:
            micros_of[name] = value
        values[name] = value if decode is None else decode(value)
    return Transaction(**values)


def _stored_days(texts: Sequence[Any]) -> list[int]:
    days = {}
    for text in set(texts):  # once per distinct day
        if not isinstance(text, str) or clean_date(text).isoformat() != text:
            raise ValueError(f"the date {text!r} is not a calendar date in the form YYYY-MM-DD")
        days[text] = _day_of(text)
    return [days[d] for d in texts]


def _stored_tags(lists: Sequence[Any]) -> list[str]:
    joined = {}
    for tags in lists:
        key = tuple(tags)
        if key not in joined:  # once per distinct list of tags; cleaned (sorted, folded) as a new transaction's
            if not all(isinstance(t, str) for t in key):
                raise TypeError(f"the tags {list(key)!r} are not text")
            joined[key] = _joined(clean_tags(list(key)))
    return [joined[tuple(t)] for t in lists]


def _stored_times(texts: Sequence[Any]) -> np.ndarray:
    return _utc_column(texts).dt.tz_convert(None).to_numpy(dtype="datetime64[ns]").astype("int64") // 1000


_COLUMN_ENCODERS: dict[FieldKind, Callable[[Sequence[Any]], Any]] = {
    "date": _stored_days,
    "tags": _stored_tags,
    "time": _stored_times,
}
"""Per kind, a whole record-form column to its snapshot encoding; other kinds are stored as they are."""


def stored_from_record_columns(cols: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """Record-form columns (schema 1) to snapshot columns (schema 2: the original fields), a whole column at a time.

    Strict: a date must be a real ``YYYY-MM-DD`` day, a time exactly :func:`iso_utc`'s form; categories and
    tags are cleaned as :func:`clean_category`/:func:`clean_tags` do (an older file may hold them uncleaned);
    otherwise ``ValueError``/``TypeError`` (``ValidationError`` is a ``ValueError``).
    """
    out: dict[str, Any] = {}
    for field in ORIGINAL_FIELDS:
        encode = _COLUMN_ENCODERS.get(field.kind)
        out[field.record] = list(cols[field.record]) if encode is None else encode(cols[field.record])
    categories = {c: clean_category(c) for c in set(out["category"])}
    out["category"] = [categories[c] for c in out["category"]]
    for name, base in RELATIVE_TIMES.items():
        out[name] = out[name] - out[base]
    return {name: values if isinstance(values, list) else values.tolist() for name, values in out.items()}
