"""The transactions DataFrame: its schema and the one builder from stored columns.

DataFrame schema ``load_data`` returns.

DataFrame schema (the same columns and dtypes also for an empty ledger):

=============  ======================  =====================================================
column         dtype                   meaning
=============  ======================  =====================================================
id             string                  stable unique id
type           string                  ``"income"`` or ``"expense"``
amount_minor   int64                   exact amount in integer minor units, always > 0
amount         object (``Decimal``)    the same amount as an exact ``Decimal`` (for display)
signed_minor   int64                   ``+amount_minor`` for income, ``-amount_minor`` for expense
currency       string                  ISO 4217 code
date           datetime64[ns]          calendar date (midnight, no time zone)
category       string                  trimmed, non-empty
tags           object (``tuple[str]``) sorted, folded case-insensitively
note           string                  may be empty
external_id    string                  id of the bank file row it was imported from, or ``""``
created_at     datetime64[ns, UTC]     when it was added
updated_at     datetime64[ns, UTC]     when it last changed
=============  ======================  =====================================================
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from tracker.model import Transaction, clean_type
from tracker.money import CURRENCY_EXPONENTS
from tracker.storage.columns import TAG_SEPARATOR, _utc_column, records_to_columns

COLUMNS: dict[str, Any] = {
    "id": "string",
    "type": "string",
    "amount_minor": "int64",
    "amount": "object",
    "signed_minor": "int64",
    "currency": "string",
    "date": "datetime64[ns]",
    "category": "string",
    "tags": "object",
    "note": "string",
    "external_id": "string",
    "created_at": "datetime64[ns, UTC]",
    "updated_at": "datetime64[ns, UTC]",
}
"""The fixed column order and dtypes of every transactions frame."""


def empty_frame() -> pd.DataFrame:
    """An empty frame with exactly the documented columns and dtypes."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in COLUMNS.items()})


def frame_from_columns(cols: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Build the frame from storage columns (``amount_minor``, ISO date and time strings).

    This is the hot path of a cold load, so it works column by column, never row by row: dates and
    amounts are converted once per distinct value, timestamps by numpy's ISO parser (see
    :func:`_utc_column`).
    """
    if not cols.get("id"):
        return empty_frame()
    minor = pd.Series(cols["amount_minor"], dtype="int64")
    types = _string_column(cols["type"])
    currency = _string_column(cols["currency"])
    created = _utc_column(cols["created_at"])
    frame = pd.DataFrame(
        {
            "id": _string_column(cols["id"]),
            "type": types,
            "amount_minor": minor,
            "amount": pd.Series(_decimal_column(minor.to_numpy(), cols["currency"]), dtype="object"),
            "signed_minor": minor.where(types == "income", -minor).astype("int64"),
            "currency": currency,
            "date": _date_column(cols["date"]),
            "category": _string_column(cols["category"]),
            "tags": pd.Series([tuple(t) for t in cols["tags"]], dtype="object"),
            "note": _string_column(cols["note"]),
            "external_id": _string_column(cols["external_id"]),
            "created_at": created,
            "updated_at": _updated_column(cols["updated_at"], cols["created_at"], created),
        }
    )
    return frame


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


def _date_column(dates: Sequence[Any]) -> pd.Series:
    """``YYYY-MM-DD`` text to ``datetime64[ns]``, parsed strictly once per distinct day."""
    codes, days = pd.factorize(pd.Series(dates, dtype=object), use_na_sentinel=False)
    parsed = pd.to_datetime(pd.Series(days, dtype=object), format="%Y-%m-%d").astype("datetime64[ns]")
    return pd.Series(parsed.to_numpy()[codes], dtype="datetime64[ns]")


def _updated_column(updated: Sequence[Any], created: Sequence[Any], created_utc: pd.Series) -> pd.Series:
    """:func:`_utc_column` of ``updated``, parsing only the rows that differ from ``created``.

    Most transactions are never edited, so their ``updated_at`` is the same text as their ``created_at``.
    """
    if len(updated) != len(created):
        return _utc_column(updated)
    changed = np.flatnonzero(np.fromiter(map(operator.ne, updated, created), dtype=bool, count=len(updated)))
    if len(changed) > len(updated) // 2:
        return _utc_column(updated)
    values = created_utc.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]", copy=True)
    if len(changed):
        values[changed] = _utc_column([updated[int(i)] for i in changed]).dt.tz_convert(None).to_numpy()
    return pd.Series(values, dtype="datetime64[ns]").dt.tz_localize("UTC")


def frame_from_stored(cols: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Build the frame from snapshot columns (see :data:`TAG_SEPARATOR` for the encoding), column by column.

    The hot path of a cold load: integers go straight to numpy, strings straight to Arrow, and each
    distinct amount and tag string is converted once.
    """
    if not cols.get("id"):
        return empty_frame()
    minor = np.array(cols["amount_minor"], dtype=np.int64)
    types = _string_column(cols["type"])
    income = (types == "income").to_numpy(dtype=bool)
    created = np.array(cols["created_at"], dtype=np.int64)
    updated = created + np.array(cols["updated_at"], dtype=np.int64)
    return pd.DataFrame(
        {
            "id": _string_column(cols["id"]),
            "type": types,
            "amount_minor": pd.Series(minor, dtype="int64"),
            "amount": pd.Series(_decimal_column(minor, cols["currency"]), dtype="object"),
            "signed_minor": pd.Series(np.where(income, minor, -minor), dtype="int64"),
            "currency": _string_column(cols["currency"]),
            "date": pd.Series(
                np.array(cols["date"], dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]"),
                dtype="datetime64[ns]",
            ),
            "category": _string_column(cols["category"]),
            "tags": pd.Series(_tags_column(cols["tags"]), dtype="object"),
            "note": _string_column(cols["note"]),
            "external_id": _string_column(cols["external_id"]),
            "created_at": _stamp_column(created),
            "updated_at": _stamp_column(updated),
        }
    )


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


def frame_from_transactions(transactions: Iterable[Transaction]) -> pd.DataFrame:
    """A frame of the documented schema from transactions (sorted by date, then creation)."""
    return frame_from_columns(records_to_columns(t.to_record() for t in transactions))


def transactions_from_frame(frame: pd.DataFrame) -> list[Transaction]:
    """Rows of a frame of the documented schema back to transactions."""
    out = []
    for row in frame.itertuples(index=False):
        out.append(
            Transaction(
                id=str(row.id),
                type=clean_type(row.type),
                amount_minor=int(row.amount_minor),
                currency=str(row.currency),
                date=row.date.date(),
                category=str(row.category),
                tags=tuple(row.tags),
                note=str(row.note),
                external_id=str(row.external_id),
                created_at=row.created_at.to_pydatetime(),
                updated_at=row.updated_at.to_pydatetime(),
            )
        )
    return out
