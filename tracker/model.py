"""The transaction record, its validation, and the DataFrame schema ``load_data`` returns.

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

import dataclasses
import datetime as dt
import operator
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd

from tracker.errors import ValidationError
from tracker.money import CURRENCY_EXPONENTS, Minor, format_plain, normalize_currency, to_decimal_amount, to_minor

TxType = Literal["income", "expense"]
Category = str
Tag = str
TX_TYPES: tuple[TxType, ...] = ("income", "expense")

MAX_CATEGORY = 60
MAX_TAG = 40
MAX_TAGS = 20
MAX_NOTE = 500
MAX_EXTERNAL_ID = 200
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)

FieldKind = Literal["id", "type", "money", "currency", "date", "text", "tags", "time"]


@dataclasses.dataclass(frozen=True, slots=True)
class Field:
    """One field of a transaction, declared once; every field list in the program is derived from these.

    Attributes:
        name: the attribute of :class:`Transaction` and the key of its public JSON form (``amount`` is
            the exact decimal; the record form stores it as ``amount_minor``).
        kind: how the value is validated, stored, shown and turned into frame columns.
        editable: it can be changed by :func:`apply_changes` (the CLI's ``edit``, the table editor).
        listed: a column of the CLI's ``list`` table.
    """

    name: str
    kind: FieldKind
    editable: bool = False
    listed: bool = False

    @property
    def record(self) -> str:
        """The key in the storage record form."""
        return "amount_minor" if self.kind == "money" else self.name


FIELDS: tuple[Field, ...] = (
    Field("id", "id", listed=True),
    Field("date", "date", editable=True, listed=True),
    Field("type", "type", editable=True, listed=True),
    Field("amount", "money", editable=True, listed=True),
    Field("currency", "currency", editable=True, listed=True),
    Field("category", "text", editable=True, listed=True),
    Field("tags", "tags", editable=True, listed=True),
    Field("note", "text", editable=True, listed=True),
    Field("external_id", "text"),
    Field("created_at", "time"),
    Field("updated_at", "time"),
)
"""The transaction's fields in the order people see them (export columns, JSON keys, list columns)."""

PUBLIC_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS)
"""Keys of the public JSON form and columns of every CSV/XLSX export, in order."""
RECORD_FIELDS: tuple[str, ...] = tuple(f.record for f in FIELDS)
"""Keys of the storage record form (and the snapshot's columns), in order."""
EDITABLE: tuple[str, ...] = tuple(f.name for f in FIELDS if f.editable)
"""Fields :func:`apply_changes` accepts."""
LIST_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.listed)
"""Columns of the CLI's ``list`` table."""

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


@dataclasses.dataclass(frozen=True, slots=True)
class Transaction:
    """One validated transaction. Build it with :func:`make_transaction`, not directly."""

    id: str
    type: TxType
    amount_minor: Minor
    currency: str
    date: dt.date
    category: Category
    tags: tuple[Tag, ...] = ()
    note: str = ""
    external_id: str = ""
    created_at: dt.datetime = dataclasses.field(default_factory=lambda: utcnow())
    updated_at: dt.datetime = dataclasses.field(default_factory=lambda: utcnow())

    @property
    def amount(self) -> Decimal:
        """The exact amount as a ``Decimal``."""
        return to_decimal_amount(self.amount_minor, self.currency)

    @property
    def signed_minor(self) -> Minor:
        """Positive for income, negative for expense."""
        return self.amount_minor if self.type == "income" else -self.amount_minor

    def to_json(self) -> dict[str, Any]:
        """The public JSON form: amounts as decimal strings, dates ISO."""
        return {
            "id": self.id,
            "type": self.type,
            "amount": format_plain(self.amount_minor, self.currency),
            "currency": self.currency,
            "date": self.date.isoformat(),
            "category": self.category,
            "tags": list(self.tags),
            "note": self.note,
            "external_id": self.external_id,
            "created_at": iso_utc(self.created_at),
            "updated_at": iso_utc(self.updated_at),
        }

    def to_record(self) -> dict[str, Any]:
        """The storage form: amount in integer minor units."""
        return {
            "id": self.id,
            "type": self.type,
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "date": self.date.isoformat(),
            "category": self.category,
            "tags": list(self.tags),
            "note": self.note,
            "external_id": self.external_id,
            "created_at": iso_utc(self.created_at),
            "updated_at": iso_utc(self.updated_at),
        }


def utcnow() -> dt.datetime:
    """The current time in UTC, to the microsecond."""
    return dt.datetime.now(dt.UTC)


def iso_utc(moment: dt.datetime) -> str:
    """``2026-11-28T01:02:03.000004Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> dt.datetime:
    """Inverse of :func:`iso_utc`."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def new_id() -> str:
    """A fresh random id: 16 hex digits."""
    return uuid.uuid4().hex[:16]


def _clean_text(field: str, value: object, limit: int, *, required: bool) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, value, "must be text")
    text = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise ValidationError(field, value, "contains control characters")
    if required and not text:
        raise ValidationError(field, value, "must not be empty")
    if len(text) > limit:
        raise ValidationError(field, value, f"is longer than {limit} characters")
    return text


def clean_category(value: object) -> Category:
    """Trimmed, non-empty, at most ``MAX_CATEGORY`` characters, no control characters."""
    return _clean_text("category", value, MAX_CATEGORY, required=True)


def clean_note(value: object) -> str:
    """At most ``MAX_NOTE`` characters; control characters other than none are refused."""
    if value is None:
        return ""
    return _clean_text("note", value, MAX_NOTE, required=False)


def clean_tags(values: object) -> tuple[Tag, ...]:
    """A sorted tuple of tags, duplicates folded case-insensitively (the first spelling wins)."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = values.replace(";", ",").split(",")
    if not isinstance(values, Iterable):
        raise ValidationError("tags", values, "must be a list of text")
    seen: dict[str, str] = {}
    for raw in values:
        tag = _clean_text("tag", raw, MAX_TAG, required=False).lstrip("#")
        if not tag:
            continue
        if any(ch.isspace() for ch in tag):
            raise ValidationError("tag", raw, "must be one word (no spaces)")
        seen.setdefault(tag.casefold(), tag)
    if len(seen) > MAX_TAGS:
        raise ValidationError(
            "tags", list(values) if not isinstance(values, list) else values, f"has more than {MAX_TAGS} tags"
        )
    return tuple(sorted(seen.values(), key=str.casefold))


def clean_type(value: object) -> TxType:
    """``"income"`` or ``"expense"`` (case-insensitive)."""
    if isinstance(value, str) and value.strip().lower() in TX_TYPES:
        return "income" if value.strip().lower() == "income" else "expense"
    raise ValidationError("type", value, "must be 'income' or 'expense'")


def clean_date(value: object) -> dt.date:
    """A calendar date from ``date``, ``YYYY-MM-DD`` text; datetimes are refused (ambiguous)."""
    if isinstance(value, dt.datetime):
        if isinstance(value, pd.Timestamp) and value == value.normalize() and value.tzinfo is None:
            value = value.date()
        else:
            raise ValidationError("date", value, "must be a calendar date, not a date and time")
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError("date", value, "is not a date in the form YYYY-MM-DD") from None
    if not isinstance(value, dt.date):
        raise ValidationError("date", value, "is not a date in the form YYYY-MM-DD")
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValidationError("date", value.isoformat(), f"is outside {MIN_DATE.year}-{MAX_DATE.year}")
    return value


def clean_external_id(value: object) -> str:
    """The identity of an imported row (bank FITID or fingerprint), or ``""``."""
    if value is None:
        return ""
    return _clean_text("external_id", value, MAX_EXTERNAL_ID, required=False)


def make_transaction(
    *,
    type: object,
    amount: object,
    category: object,
    currency: object,
    date: object = None,
    tags: object = None,
    note: object = None,
    external_id: object = None,
    id: str | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Transaction:
    """Validate every field and build a :class:`Transaction`; raise ``ValidationError`` on the first bad one."""
    code = normalize_currency(currency)
    stamp = now or utcnow()
    return Transaction(
        id=id or new_id(),
        type=clean_type(type),
        amount_minor=to_minor(amount, code),
        currency=code,
        date=clean_date(date if date is not None else (today or dt.date.today())),
        category=clean_category(category),
        tags=clean_tags(tags),
        note=clean_note(note),
        external_id=clean_external_id(external_id),
        created_at=stamp,
        updated_at=stamp,
    )


def apply_changes(tx: Transaction, changes: Mapping[str, object], now: dt.datetime | None = None) -> Transaction:
    """A copy of ``tx`` with ``changes`` validated and applied (``amount`` given as text/Decimal)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationError(field, changes[field], "is not a field that can be edited")
    currency = normalize_currency(changes.get("currency", tx.currency))
    fields: dict[str, Any] = {"currency": currency}
    if "type" in changes:
        fields["type"] = clean_type(changes["type"])
    if "amount" in changes:
        fields["amount_minor"] = to_minor(changes["amount"], currency)
    elif currency != tx.currency:
        fields["amount_minor"] = to_minor(to_decimal_amount(tx.amount_minor, tx.currency), currency)
    if "date" in changes:
        fields["date"] = clean_date(changes["date"])
    if "category" in changes:
        fields["category"] = clean_category(changes["category"])
    if "tags" in changes:
        fields["tags"] = clean_tags(changes["tags"])
    if "note" in changes:
        fields["note"] = clean_note(changes["note"])
    updated = dataclasses.replace(tx, **fields)
    if updated == tx:
        return tx
    return dataclasses.replace(updated, updated_at=now or utcnow())


def from_record(record: Mapping[str, Any]) -> Transaction:
    """Rebuild a transaction from its storage form, checking every field again."""
    try:
        currency = normalize_currency(record["currency"])
        amount_minor = record["amount_minor"]
        if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
            raise ValidationError("amount_minor", amount_minor, "must be a positive whole number")
        return Transaction(
            id=_clean_text("id", record["id"], 64, required=True),
            type=clean_type(record["type"]),
            amount_minor=amount_minor,
            currency=currency,
            date=clean_date(record["date"]),
            category=clean_category(record["category"]),
            tags=clean_tags(record.get("tags", [])),
            note=clean_note(record.get("note", "")),
            external_id=clean_external_id(record.get("external_id", "")),
            created_at=parse_utc(record["created_at"]),
            updated_at=parse_utc(record["updated_at"]),
        )
    except KeyError as exc:
        raise ValidationError(str(exc.args[0]), None, "is missing from the record") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError("record", record.get("id"), f"is malformed ({exc})") from None


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


def records_to_columns(records: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Row records (storage form) to columns."""
    cols: dict[str, list[Any]] = {name: [] for name in RECORD_FIELDS}
    for rec in records:
        for name in RECORD_FIELDS:
            cols[name].append(rec[name])
    return cols


# -- the snapshot's column encoding (storage schema 2) ----------------------------------------------------------------
#
# A snapshot stores each field as one list, in a form that the standard ``json`` module parses fast and that
# turns into the frame with numpy/pyarrow, never row by row: ``date`` as whole days since 1970-01-01,
# ``created_at`` as whole microseconds since 1970-01-01T00:00:00Z, ``updated_at`` as whole microseconds after
# ``created_at`` (0 for a transaction never edited), ``tags`` as one string per row (the tags joined by
# :data:`TAG_SEPARATOR`, which no tag can contain: see :func:`clean_tags`), the rest as in the record form.
# Journal entries keep the record form (:meth:`Transaction.to_record`), which people can read.

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
