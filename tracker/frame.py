"""The transactions DataFrame: its schema (derived from :data:`tracker.model.FIELDS`) and the one builder.

DataFrame schema ``load_data`` returns (the same columns and dtypes also for an empty ledger):

=============  ======================  =====================================================
column         dtype                   meaning
=============  ======================  =====================================================
id             string                  stable unique id
date           datetime64[ns]          calendar date (midnight, no time zone)
type           string                  ``"income"``, ``"expense"`` or ``"transfer"`` (one side of a pair)
amount_minor   int64                   exact amount in integer minor units, always > 0
amount         object (``Decimal``)    the same amount as an exact ``Decimal`` (for display)
signed_minor   int64                   what it adds to its account's balance: ``+amount_minor`` for income
                                       and a transfer in, ``-amount_minor`` for an expense and a transfer out
currency       string                  ISO 4217 code
account        string                  the name of its account
category       string                  trimmed, non-empty (``"Transfer"`` for a transfer)
tags           object (``tuple[str]``) sorted, folded case-insensitively
note           string                  may be empty
splits         object (``tuple``)      a split transaction's lines (:class:`tracker.model.SplitLine`), ``()`` if
                                       not split (then ``category`` is the real one, else ``"Split"``)
original_amount_minor  int64           the amount in ``original_currency`` (minor units), 0 when none recorded
original_amount  object (``Decimal``)  the same as an exact ``Decimal``, ``None`` when none recorded
original_currency  string              the currency of a purchase abroad, ``""`` when none recorded
direction      string                  a transfer's side, ``"out"`` or ``"in"``; ``""`` otherwise
link           string                  the id of a transfer's other side; ``""`` otherwise
cleared        bool                    marked cleared (seen on a statement)
reconciled     bool                    reconciled against a statement (then also cleared)
external_id    string                  id of the bank file row it was imported from, or ``""``
created_at     datetime64[ns, UTC]     when it was added
updated_at     datetime64[ns, UTC]     when it last changed
=============  ======================  =====================================================

:func:`lines_frame` turns a transactions frame into one row per line (what every total by category counts).

Every frame is built by :func:`frame_from_stored` from columns in the snapshot's encoding
(:mod:`tracker.storage.columns`); records and transactions are encoded into them first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from tracker.model import FIELDS, TX_TYPES, Field, FieldKind, Transaction, clean_type
from tracker.money import CURRENCY_EXPONENTS, to_decimal_amount
from tracker.storage.columns import TAG_SEPARATOR, split_lines, stored_columns, stored_micros

_KIND_DTYPES: dict[FieldKind, str] = {
    "id": "string",
    "type": "string",
    "currency": "string",
    "text": "string",
    "date": "datetime64[ns]",
    "tags": "object",
    "time": "datetime64[ns, UTC]",
    "direction": "string",
    "flag": "bool",
    "splits": "object",
}


def _columns_of(field: Field) -> dict[str, Any]:
    """The frame columns of one field: a ``money`` field is three (minor units, ``Decimal``, signed)."""
    if field.kind == "money":
        return {field.record: "int64", field.name: "object", "signed_minor": "int64"}
    if field.kind == "original":
        return {field.record: "int64", field.name: "object"}
    return {field.name: _KIND_DTYPES[field.kind]}


COLUMNS: dict[str, Any] = {name: dtype for f in FIELDS for name, dtype in _columns_of(f).items()}
"""The fixed column order and dtypes of every transactions frame (derived from :data:`tracker.model.FIELDS`)."""


def empty_frame() -> pd.DataFrame:
    """An empty frame with exactly the documented columns and dtypes."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in COLUMNS.items()})


def _string_column(values: Sequence[Any]) -> pd.Series:
    """``pd.Series(values, dtype="string")``, built straight from a pyarrow array when that is the storage.

    Only lists of ``str``/``None`` take the direct route (pyarrow refuses anything else); the result
    is the same array pandas would build, without its per-value pass in Python.
    """
    dtype = pd.StringDtype()
    if dtype.storage == "pyarrow":
        try:
            import pyarrow as pa

            array = pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()))
        except (ImportError, TypeError, ValueError):  # pyarrow's ArrowTypeError/ArrowInvalid are TypeError/ValueError
            pass
        else:
            if array.dtype == dtype:
                return pd.Series(array)
    return pd.Series(values, dtype="string")


def _decimal_column(minor: np.ndarray, currencies: Sequence[Any]) -> np.ndarray:
    """``to_decimal_amount`` of every row, computed once per distinct (amount, decimal places).

    Currencies with the same number of decimal places share their ``Decimal`` values (an amount of
    1250 minor units is ``Decimal("12.50")`` in USD and in EUR), so a ledger in USD, EUR and GBP
    converts each distinct amount once.
    """
    out = np.empty(len(minor), dtype=object)
    places = {code: CURRENCY_EXPONENTS.get(code, 2) for code in set(currencies)}
    if len(set(places.values())) == 1:
        groups: list[tuple[Any, int]] = [(slice(None), next(iter(places.values())))]
    else:
        per_row = np.fromiter((places[c] for c in currencies), dtype=np.int64, count=len(minor))
        groups = [(np.flatnonzero(per_row == exp), exp) for exp in sorted(set(places.values()))]
    for rows, exp in groups:
        codes, amounts = pd.factorize(minor[rows])
        values = np.empty(len(amounts), dtype=object)
        # exactly to_decimal_amount(m, code): Decimal(m).scaleb(-exp) if exp else Decimal(m)
        values[:] = [Decimal(m).scaleb(-exp) for m in amounts.tolist()] if exp else list(map(Decimal, amounts.tolist()))
        out[rows] = values[codes]
    return out


def _stamp_column(values: np.ndarray) -> pd.Series:
    """Microseconds since the epoch (int64) to ``datetime64[ns, UTC]``."""
    stamps = values.astype("datetime64[us]").astype("datetime64[ns]")
    return pd.Series(stamps, dtype="datetime64[ns]").dt.tz_localize("UTC")


def _tags_column(joined: Sequence[str]) -> np.ndarray:
    """Joined tag strings to tuples of tags, split once per distinct string."""
    codes, distinct = pd.factorize(pd.Series(joined, dtype=object), use_na_sentinel=False)
    values = np.empty(len(distinct), dtype=object)
    values[:] = [tuple(t.split(TAG_SEPARATOR)) if t else () for t in distinct.tolist()]
    return values[codes]


_Columns = Mapping[str, Sequence[Any]]
_MICROS = "\0micros"
"""The key, in the columns being built, of the time columns as microseconds (not a frame column)."""


def _text_columns(field: Field, cols: _Columns, built: dict[str, Any]) -> None:
    built[field.name] = _string_column(cols[field.record])


def _money_columns(field: Field, cols: _Columns, built: dict[str, Any]) -> None:
    minor = np.array(cols[field.record], dtype=np.int64)
    types = built["type"] if "type" in built else _string_column(cols["type"])
    income = (types == "income").to_numpy(dtype=bool)
    if "transfer" in set(cols["type"]):
        income |= np.fromiter((d == "in" for d in cols["direction"]), dtype=bool, count=len(minor))
    built[field.record] = pd.Series(minor, dtype="int64")
    built[field.name] = pd.Series(_decimal_column(minor, cols["currency"]), dtype="object")
    built["signed_minor"] = pd.Series(np.where(income, minor, -minor), dtype="int64")


def _original_columns(field: Field, cols: _Columns, built: dict[str, Any]) -> None:
    minor = np.array(cols[field.record], dtype=np.int64)
    values = np.full(len(minor), None, dtype=object)
    given = np.flatnonzero(minor)
    if len(given):
        currencies = cols["original_currency"]
        values[given] = [to_decimal_amount(int(minor[i]), currencies[i]) for i in given.tolist()]
    built[field.record] = pd.Series(minor, dtype="int64")
    built[field.name] = pd.Series(values, dtype="object")


def _splits_columns(field: Field, cols: _Columns, built: dict[str, Any]) -> None:
    stored = cols[field.record]
    values = np.empty(len(stored), dtype=object)
    values.fill(())
    for i in itertools.compress(range(len(stored)), stored):
        values[i] = split_lines(stored[i])
    built[field.name] = pd.Series(values, dtype="object")


def _date_columns(field: Field, cols: _Columns, built: dict[str, Any]) -> None:
    days = np.array(cols[field.record], dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    built[field.name] = pd.Series(days, dtype="datetime64[ns]")


def _tags_columns(field: Field, cols: _Columns, built: dict[str, Any]) -> None:
    built[field.name] = pd.Series(_tags_column(cols[field.record]), dtype="object")


def _flag_columns(field: Field, cols: _Columns, built: dict[str, Any]) -> None:
    built[field.name] = pd.Series(np.array(cols[field.record], dtype=bool), dtype="bool")


def _time_columns(field: Field, cols: _Columns, built: dict[str, Any]) -> None:
    micros = built.setdefault(_MICROS, {})  # each time column converted once, also as another's base
    built[field.name] = _stamp_column(stored_micros(cols, field.record, micros))


_FRAME_BUILDERS: dict[FieldKind, Callable[[Field, _Columns, dict[str, Any]], None]] = {
    "id": _text_columns,
    "type": _text_columns,
    "currency": _text_columns,
    "text": _text_columns,
    "money": _money_columns,
    "date": _date_columns,
    "tags": _tags_columns,
    "time": _time_columns,
    "direction": _text_columns,
    "flag": _flag_columns,
    "splits": _splits_columns,
    "original": _original_columns,
}
"""How each kind of field turns its snapshot column into frame columns (see :func:`_columns_of`)."""


def frame_from_stored(cols: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Build the frame from snapshot columns (:mod:`tracker.storage.columns`), column by column.

    The one frame builder, and the hot path of a cold load: integers go straight to numpy, strings
    straight to Arrow, and each distinct amount and tag string is converted once.
    """
    if not cols.get("id"):
        return empty_frame()
    built: dict[str, Any] = {}
    for field in FIELDS:
        _FRAME_BUILDERS[field.kind](field, cols, built)
    return pd.DataFrame({name: built[name] for name in COLUMNS})


def frame_from_records(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A frame of the documented schema from records (storage form), in their order."""
    return frame_from_stored(stored_columns(records))


def frame_from_transactions(transactions: Iterable[Transaction]) -> pd.DataFrame:
    """A frame of the documented schema from transactions, in their order."""
    return frame_from_records(t.to_record() for t in transactions)


def _row_value(field: Field, value: Any) -> Any:
    """A frame cell back to the value :class:`Transaction` holds."""
    kind = field.kind
    if kind in ("money", "original"):
        return int(value)
    if kind == "splits":
        return tuple(value)
    if kind == "date":
        return value.date()
    if kind == "tags":
        return tuple(value)
    if kind == "time":
        return value.to_pydatetime()
    if kind == "type":
        return clean_type(value, TX_TYPES)
    if kind == "flag":
        return bool(value)
    return str(value)


def transactions_from_frame(frame: pd.DataFrame) -> list[Transaction]:
    """Rows of a frame of the documented schema back to transactions."""
    rows = frame[[f.record for f in FIELDS]].itertuples(index=False, name=None)
    return [Transaction(**{f.record: _row_value(f, v) for f, v in zip(FIELDS, row, strict=True)}) for row in rows]


def lines_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per line: each split transaction's row replaced by its lines, in order (the same columns).

    A line row has the line's category, amount, note and tags (its own and the transaction's, see
    :class:`tracker.rows.LineRows`), ``splits`` empty, and the transaction's id and other columns: what every
    total by category, budget, chart and report counts. A frame with no split transaction is returned as it is.
    """
    from tracker.rows import LINES_ATTR, FrameRows, LineRows, with_tags

    base = FrameRows(frame)
    lines = base.lines()
    if not isinstance(lines, LineRows):
        return frame
    out = frame.take(lines.parent).reset_index(drop=True)
    at, items = lines.at, lines.items
    category = lines.category
    out["category"] = _string_column(category.values).take(category.codes).reset_index(drop=True)
    tags = out["tags"].to_numpy(dtype=object, copy=True)
    tags[at] = _objects([with_tags(tags[i], line[2]) for line, i in zip(items, at.tolist(), strict=True)])
    out["tags"] = pd.Series(tags, dtype="object")
    note = out["note"].to_numpy(dtype=object)
    note[at] = [
        line[3] or note[i] for line, i in zip(items, at.tolist(), strict=True)
    ]  # the line's, else the receipt's
    out["note"] = _string_column(note.tolist())
    amount = lines.amount
    decimals = out["amount"].to_numpy(dtype=object, copy=True)
    decimals[at] = _decimal_column(amount[at], out["currency"].to_numpy(dtype=object)[at].tolist())
    out["amount"] = pd.Series(decimals, dtype="object")
    splits = out["splits"].to_numpy(dtype=object, copy=True)
    splits[at] = _objects([()] * len(at))
    out["splits"] = pd.Series(splits, dtype="object")
    out["amount_minor"] = pd.Series(amount, dtype="int64")
    out["signed_minor"] = pd.Series(np.sign(out["signed_minor"].to_numpy(dtype=np.int64)) * amount, dtype="int64")
    out.attrs[LINES_ATTR] = True
    return out


def _objects(values: list[Any]) -> np.ndarray:
    """``values`` as a 1-d object array (tuples stay elements, not a second dimension)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out
