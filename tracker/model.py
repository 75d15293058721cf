"""The transaction record: its fields declared once (:data:`FIELDS`), validation, and the record forms.

The DataFrame schema is :mod:`tracker.frame`; the snapshot's column encoding is :mod:`tracker.storage.columns`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

import pandas as pd

from tracker.errors import ValidationError
from tracker.money import Minor, format_plain, normalize_currency, to_decimal_amount, to_minor

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
