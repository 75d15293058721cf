"""The transaction record: its fields declared once (:data:`FIELDS`), validation, and the record forms.

The DataFrame schema is :mod:`tracker.frame`; the snapshot's column encoding is :mod:`tracker.storage.columns`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

from tracker.errors import ValidationError
from tracker.money import Minor, format_plain, normalize_currency, to_decimal_amount, to_minor

TxType = Literal["income", "expense", "transfer"]
Category = str
Tag = str
TX_TYPES: tuple[TxType, ...] = ("income", "expense", "transfer")
"""A transfer is one side of a linked pair between two of the user's accounts (see :mod:`tracker.accounts`)."""
ENTERED_TYPES: tuple[TxType, ...] = ("income", "expense")
"""The types a person enters one transaction of (a transfer is made as a pair, by ``add_transfer``)."""
DIRECTIONS = ("out", "in")
"""A transfer's side: money leaving this account (``out``) or arriving (``in``)."""
TRANSFER_CATEGORY = "Transfer"
"""The category both sides of a transfer carry (never counted as income, expense or budget use)."""
MIGRATED_ACCOUNT = "Main"
"""The account of every transaction stored before accounts existed (storage schema 3 and older)."""
ACCOUNT_KINDS = ("checking", "savings", "credit-card", "cash", "loan", "asset")
"""What an account can be (:mod:`tracker.accounts` owns accounts; the CLI's help reads this without importing it)."""
SPLIT_CATEGORY = "Split"
"""The category a split transaction shows (its lines carry the real categories, see :class:`SplitLine`)."""
MAX_SPLIT_LINES = 100

MAX_CATEGORY = 60
MAX_TAG = 40
MAX_TAGS = 20
MAX_NOTE = 500
MAX_EXTERNAL_ID = 200
MAX_ACCOUNT = 60
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)

FieldKind = Literal[
    "id", "type", "money", "currency", "date", "text", "tags", "time", "direction", "flag", "splits", "original"
]
"""How a field is validated, stored and shown; each kind has its encoders here, in :mod:`tracker.frame` and in
:mod:`tracker.storage.columns`.

``id``, ``type``, ``currency`` and ``text`` are text; ``money`` an amount in the transaction's currency (the
attribute ``<name>_minor`` in integer minor units, ``<name>`` the exact ``Decimal``); ``date`` a calendar day;
``tags`` a sorted tuple of one-word tags; ``time`` a moment in UTC to the microsecond; ``direction`` a
transfer's side (``"out"``, ``"in"``, ``""`` for income and expenses); ``flag`` a ``bool``; ``splits`` the lines
of a split transaction (a tuple of :class:`SplitLine`, empty when not split); ``original`` an amount in another
currency (``original_currency``), ``0`` when none was recorded.
"""


@dataclasses.dataclass(frozen=True, slots=True)
class Field:
    """One field of a transaction, declared once; every field list in the program is derived from these.

    Attributes:
        name: the attribute of :class:`Transaction` and the key of its public JSON form (``amount`` is
            the exact decimal; the record form stores it as ``amount_minor``).
        kind: how the value is validated, stored, shown and turned into frame columns.
        editable: it can be changed by :func:`apply_changes` (the CLI's ``edit``, the table editor).
        listed: a column of the CLI's ``list`` table.
        limit: the most characters of a ``text`` or ``id`` value.
        optional: may be empty, and missing from a record (then empty); otherwise required.
        missing: the value a stored record written before the field existed gets (storage schema 3 and
            older); ``None`` for the original fields, which every record has.
    """

    name: str
    kind: FieldKind
    editable: bool = False
    listed: bool = False
    limit: int = 0
    optional: bool = False
    missing: Any = None

    @property
    def record(self) -> str:
        """The key in the storage record form, and the :class:`Transaction` attribute holding the value."""
        return f"{self.name}_minor" if self.kind in ("money", "original") else self.name


FIELDS: tuple[Field, ...] = (
    Field("id", "id", listed=True, limit=64),
    Field("date", "date", editable=True, listed=True),
    Field("type", "type", editable=True, listed=True),
    Field("amount", "money", editable=True, listed=True),
    Field("currency", "currency", editable=True, listed=True),
    Field("account", "text", editable=True, listed=True, limit=MAX_ACCOUNT, optional=True, missing=MIGRATED_ACCOUNT),
    Field("category", "text", editable=True, listed=True, limit=MAX_CATEGORY),
    Field("tags", "tags", editable=True, listed=True, optional=True),
    Field("note", "text", editable=True, listed=True, limit=MAX_NOTE, optional=True),
    Field("splits", "splits", editable=True, optional=True, missing=()),
    Field("original_amount", "original", editable=True, optional=True, missing=0),
    Field("original_currency", "currency", editable=True, optional=True, missing=""),
    Field("direction", "direction", optional=True, missing=""),
    Field("link", "id", limit=64, optional=True, missing=""),
    Field("cleared", "flag", editable=True, missing=False),
    Field("reconciled", "flag", missing=False),
    Field("external_id", "text", limit=MAX_EXTERNAL_ID, optional=True),
    Field("created_at", "time"),
    Field("updated_at", "time"),
)
"""The transaction's fields in the order people see them (export columns, JSON keys, list columns).

``account`` is the name of the account (:mod:`tracker.accounts`); empty only in a draft not stored yet (the
ledger puts it into the default account). A transfer (``type`` ``"transfer"``) has its ``direction`` and the
id of the other side in ``link``; other transactions have neither. ``cleared`` and ``reconciled`` are the
reconciliation marks (a reconciled transaction is also cleared). A split transaction has two or more
``splits`` lines summing exactly to its amount and the category :data:`SPLIT_CATEGORY`. ``original_amount`` and
``original_currency`` record what a purchase abroad cost in the other currency (both or neither).
"""

PUBLIC_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS)
"""Keys of the public JSON form and columns of every CSV/XLSX export, in order."""
RECORD_FIELDS: tuple[str, ...] = tuple(f.record for f in FIELDS)
"""Keys of the storage record form (and the snapshot's columns), in order."""
EDITABLE: tuple[str, ...] = tuple(f.name for f in FIELDS if f.editable)
"""Fields :func:`apply_changes` accepts."""
LIST_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.listed)
"""Columns of the CLI's ``list`` table."""
FIELD: dict[str, Field] = {f.name: f for f in FIELDS}
"""Each field by name."""


@dataclasses.dataclass(frozen=True, slots=True)
class SplitLine:
    """One line of a split transaction: a category, a positive amount in the transaction's currency, tags, a note.

    A line's own tags and note add to the transaction's: a tag filter matches a line carrying the tag itself
    or belonging to a transaction that carries it.
    """

    category: Category
    amount_minor: Minor
    tags: tuple[Tag, ...] = ()
    note: str = ""

    def to_record(self) -> dict[str, Any]:
        """The storage form: ``{"category", "amount_minor", "tags", "note"}``."""
        return {
            "category": self.category,
            "amount_minor": self.amount_minor,
            "tags": list(self.tags),
            "note": self.note,
        }

    def to_json(self, currency: str) -> dict[str, Any]:
        """The public form: ``{"category", "amount", "tags", "note"}``, the amount as a decimal string."""
        return {
            "category": self.category,
            "amount": format_plain(self.amount_minor, currency),
            "tags": list(self.tags),
            "note": self.note,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Transaction:
    """One validated transaction. Build it with :func:`make_transaction`, not directly.

    Its attributes are those of :data:`FIELDS` (``Field.record``), in the same order.
    """

    id: str
    type: TxType
    amount_minor: Minor
    currency: str
    date: dt.date
    category: Category
    account: str = ""
    tags: tuple[Tag, ...] = ()
    note: str = ""
    splits: tuple[SplitLine, ...] = ()
    original_amount_minor: Minor = 0
    original_currency: str = ""
    direction: str = ""
    link: str = ""
    cleared: bool = False
    reconciled: bool = False
    external_id: str = ""
    created_at: dt.datetime = dataclasses.field(default_factory=lambda: utcnow())
    updated_at: dt.datetime = dataclasses.field(default_factory=lambda: utcnow())

    @property
    def amount(self) -> Decimal:
        """The exact amount as a ``Decimal``."""
        return to_decimal_amount(self.amount_minor, self.currency)

    @property
    def original_amount(self) -> Decimal | None:
        """The exact original amount in ``original_currency``, ``None`` when none was recorded."""
        if not self.original_currency:
            return None
        return to_decimal_amount(self.original_amount_minor, self.original_currency)

    @property
    def lines(self) -> tuple[SplitLine, ...]:
        """What the totals count: the split lines, or one line of the whole transaction when it is not split."""
        return self.splits or (SplitLine(self.category, self.amount_minor, (), ""),)

    @property
    def signed_minor(self) -> Minor:
        """What it adds to its account's balance: positive for income and a transfer in, negative otherwise."""
        return self.amount_minor if self.type == "income" or self.direction == "in" else -self.amount_minor

    def to_json(self) -> dict[str, Any]:
        """The public JSON form (keys :data:`PUBLIC_FIELDS`): amounts as decimal strings, dates ISO."""
        return {name: encode(self, attr) for name, attr, encode in _JSON_FORM}

    def to_record(self) -> dict[str, Any]:
        """The storage form (keys :data:`RECORD_FIELDS`): amount in integer minor units."""
        return {attr: encode(self, attr) for attr, encode in _RECORD_FORM}


def utcnow() -> dt.datetime:
    """The current time in UTC, to the microsecond."""
    return dt.datetime.now(dt.UTC)


def iso_utc(moment: dt.datetime) -> str:
    """``2026-11-28T01:02:03.000004Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> dt.datetime:
    """Inverse of :func:`iso_utc` (exactly its form, ``2026-01-31T12:00:00.000000Z``; ``ValueError`` otherwise)."""
    if (
        len(text) != 27
        or not text.isascii()
        or text[10] != "T"
        or text[19] != "."
        or text[26] != "Z"
        or not text[20:26].isdigit()
    ):
        raise ValueError(f"not a time of the form YYYY-MM-DDTHH:MM:SS.ffffffZ: {text!r}")
    return dt.datetime.fromisoformat(text[:26]).replace(tzinfo=dt.UTC)


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
    return clean_value(FIELD["category"], value)


def clean_note(value: object) -> str:
    """Trimmed, at most ``MAX_NOTE`` characters, no control characters; ``None`` is ``""``."""
    return clean_value(FIELD["note"], value)


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


def clean_type(value: object, allowed: tuple[TxType, ...] = ENTERED_TYPES) -> TxType:
    """``"income"`` or ``"expense"`` (case-insensitive); ``allowed`` :data:`TX_TYPES` also takes ``"transfer"``."""
    if isinstance(value, str):
        found = next((t for t in allowed if t == value.strip().lower()), None)
        if found is not None:
            return found
    raise ValidationError("type", value, "must be 'income' or 'expense'")


def clean_account(value: object) -> str:
    """An account name: trimmed, non-empty, at most ``MAX_ACCOUNT`` characters, no control characters."""
    return _clean_text("account", value, MAX_ACCOUNT, required=True)


def _direction_value(field: Field, value: object, currency: str) -> str:
    if value is None or value == "":
        return ""
    if value not in DIRECTIONS:
        raise ValidationError(field.name, value, "must be 'out' or 'in'")
    return str(value)


def _flag_value(field: Field, value: object, currency: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field.name, value, "must be true or false")
    return value


def check_transaction(tx: Transaction) -> Transaction:
    """The rules between fields: a transfer has its side and the other side's id (income and expenses have
    neither) and no split; split lines sum to the amount; an original amount has its currency. Returns ``tx``."""
    if tx.type == "transfer":
        if not tx.direction or not tx.link or tx.link == tx.id:
            raise ValidationError("transfer", tx.id, "has no direction or no other side")
        if tx.splits:
            raise ValidationError("split", tx.id, "is not possible for a transfer")
    elif tx.direction or tx.link:
        raise ValidationError("direction", tx.direction or tx.link, "is only for transfers")
    if tx.reconciled and not tx.cleared:
        raise ValidationError("reconciled", tx.id, "is set but cleared is not")
    if tx.splits:
        check_lines(tx.splits, tx.amount_minor, tx.currency)
        if tx.category != SPLIT_CATEGORY:
            raise ValidationError("category", tx.category, f"of a split transaction must be {SPLIT_CATEGORY!r}")
    if bool(tx.original_currency) != bool(tx.original_amount_minor):
        raise ValidationError(
            "original", tx.original_currency or tx.original_amount_minor, "needs both an amount and a currency"
        )
    if tx.original_currency and tx.original_currency == tx.currency:
        raise ValidationError("original", tx.original_currency, "must be in another currency than the transaction's")
    return tx


def check_lines(lines: tuple[SplitLine, ...], amount_minor: Minor, currency: str) -> None:
    """Two or more lines whose amounts sum exactly to ``amount_minor``; else ``ValidationError`` naming ``split``."""
    if len(lines) < 2:
        raise ValidationError("split", len(lines), "needs two or more lines (one line is the whole transaction)")
    if len(lines) > MAX_SPLIT_LINES:
        raise ValidationError("split", len(lines), f"has more than {MAX_SPLIT_LINES} lines")
    total = sum(line.amount_minor for line in lines)
    if total != amount_minor:
        raise ValidationError(
            "split",
            format_plain(total, currency),
            f"is the sum of the lines, not the amount {format_plain(amount_minor, currency)}",
        )


def clean_line_category(value: object) -> Category:
    """A split line's category: a category, and not :data:`SPLIT_CATEGORY`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError("split", value, "has a line with no category")
    category = clean_category(value)
    if category.casefold() == SPLIT_CATEGORY.casefold():
        raise ValidationError("split", category, "is not a category a line can have")
    return category


def _line_of(raw: object, currency: str, stored: bool) -> SplitLine:
    if isinstance(raw, SplitLine):
        raw = raw.to_record()
    if not isinstance(raw, Mapping):
        raise ValidationError("split", raw, "is not a line (category, amount, tags, note)")
    if stored or ("amount_minor" in raw and "amount" not in raw):
        amount = _stored_minor(FIELD["amount"], raw["amount_minor"], currency)
    else:
        amount = to_minor(raw.get("amount"), currency, "split amount")
    return SplitLine(
        category=clean_line_category(raw.get("category")),
        amount_minor=amount,
        tags=clean_tags(raw.get("tags")),
        note=clean_note(raw.get("note")),
    )


def clean_splits(value: object, currency: str, *, stored: bool = False) -> tuple[SplitLine, ...]:
    """Split lines from :class:`SplitLine` values or dicts (``amount`` as text/``Decimal``, or ``amount_minor``);
    ``None`` or empty is no split. The sum is checked against the transaction by :func:`check_transaction`."""
    if value is None or value == () or value == []:
        return ()
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError("split", value, "must be a list of lines")
    return tuple(_line_of(raw, currency, stored) for raw in value)


def clean_date(value: object) -> dt.date:
    """A calendar date from ``date``, ``YYYY-MM-DD`` text; datetimes are refused (ambiguous)."""
    if isinstance(value, dt.datetime):
        if _is_midnight_timestamp(value):
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


def _is_midnight_timestamp(value: dt.datetime) -> bool:
    """A naive pandas ``Timestamp`` at midnight (a date read from a frame). Checked without importing pandas:
    a ``Timestamp`` can only exist once pandas is imported."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(value, pd.Timestamp) and value == value.normalize() and value.tzinfo is None


def clean_external_id(value: object) -> str:
    """The identity of an imported row (bank FITID or fingerprint), or ``""``."""
    return clean_value(FIELD["external_id"], value)


def _text_value(field: Field, value: object, currency: str) -> str:
    if value is None and field.optional:
        return ""
    return _clean_text(field.name, value, field.limit, required=not field.optional)


def _money_value(field: Field, value: object, currency: str) -> Minor:
    return to_minor(value, currency)


def _moment_value(field: Field, value: object, currency: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationError(field.name, value, "must be a date and time with a time zone")
    return value.astimezone(dt.UTC)


def _currency_value(field: Field, value: object, currency: str) -> str:
    if field.optional and (value is None or value == ""):
        return ""
    return normalize_currency(value)


def _original_value(field: Field, value: object, currency: str) -> Minor:
    """``currency`` is the original currency here (see :func:`clean_value`)."""
    if value is None or value == "" or value == 0:
        return 0
    if not currency:
        raise ValidationError("original", value, "needs its currency")
    return to_minor(value, currency, "original")


_Cleaner = Callable[[Field, object, str], Any]
_CLEANERS: dict[FieldKind, _Cleaner] = {
    "id": _text_value,
    "text": _text_value,
    "type": lambda field, value, currency: clean_type(value),
    "money": _money_value,
    "original": _original_value,
    "splits": lambda field, value, currency: clean_splits(value, currency),
    "currency": _currency_value,
    "date": lambda field, value, currency: clean_date(value),
    "tags": lambda field, value, currency: clean_tags(value),
    "time": _moment_value,
    "direction": _direction_value,
    "flag": _flag_value,
}
"""Per kind: a person's value, validated and normalised (see :func:`clean_value`)."""


def clean_value(field: Field, value: object, currency: str = "") -> Any:
    """A person's value for ``field`` validated and normalised, as the :class:`Transaction` holds it.

    ``currency`` (a code from :func:`normalize_currency`) is the transaction's, for a ``money`` or ``splits``
    field; for the ``original`` amount it is the original currency.
    Raises ``ValidationError`` naming the field (``tag`` for one bad tag).
    """
    return _CLEANERS[field.kind](field, value, currency)


def _stored_minor(field: Field, value: object, currency: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(field.record, value, "must be a positive whole number")
    return value


def _stored_moment(field: Field, value: object, currency: str) -> dt.datetime:
    return parse_utc(value)  # type: ignore[arg-type]  # not text: TypeError, reported as a malformed record


def _stored_original(field: Field, value: object, currency: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(field.record, value, "must be a whole number, 0 for none")
    return value


_STORED: dict[FieldKind, _Cleaner] = {
    **_CLEANERS,
    "money": _stored_minor,
    "original": _stored_original,
    "splits": lambda field, value, currency: clean_splits(value, currency, stored=True),
    "time": _stored_moment,
    "type": lambda field, value, currency: clean_type(value, TX_TYPES),
}
"""Per kind: a value of the record form (:meth:`Transaction.to_record`) checked again and decoded."""


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
    account: object = None,
    cleared: bool = False,
    splits: object = None,
    original_amount: object = None,
    original_currency: object = None,
    id: str | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Transaction:
    """Validate every field and build a :class:`Transaction`; raise ``ValidationError`` on the first bad one.

    ``type`` is income or expense (a transfer is built as a pair by :func:`tracker.accounts.make_transfer`);
    ``account`` ``None`` leaves it to the ledger (its default account). With ``splits`` (two or more lines)
    the category is :data:`SPLIT_CATEGORY` and ``category`` may be left ``None``.
    """
    code = normalize_currency(currency)
    if splits:
        category = SPLIT_CATEGORY if category is None or category == "" else category
    elif isinstance(category, str) and category.strip().casefold() == SPLIT_CATEGORY.casefold():
        raise ValidationError("category", category, "is for split transactions only (give the lines)")
    stamp = now or utcnow()
    given = {
        "type": type,
        "amount": amount,
        "date": date if date is not None else (today or dt.date.today()),
        "category": category,
        "tags": tags,
        "note": note,
        "external_id": external_id,
        "account": account,
        "cleared": cleared,
        "splits": splits,
        "original_currency": original_currency,
    }
    values = {FIELD[name].record: clean_value(FIELD[name], value, code) for name, value in given.items()}
    values["original_amount_minor"] = clean_value(
        FIELD["original_amount"], original_amount, values["original_currency"]
    )
    tx = Transaction(id=id or new_id(), currency=code, created_at=stamp, updated_at=stamp, **values)
    return check_transaction(tx)


def apply_changes(tx: Transaction, changes: Mapping[str, object], now: dt.datetime | None = None) -> Transaction:
    """A copy of ``tx`` with ``changes`` validated and applied (``amount`` given as text/Decimal).

    A new currency without a new amount keeps the amount, which must then be exact in that currency.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationError(field, changes[field], "is not a field that can be edited")
    if "type" in changes and tx.type == "transfer":
        raise ValidationError("type", changes["type"], "of a transfer cannot be changed (delete the transfer instead)")
    currency = normalize_currency(changes.get("currency", tx.currency))
    fields: dict[str, Any] = {"currency": currency, **_split_changes(tx, changes)}
    original = _currency_value(FIELD["original_currency"], changes.get("original_currency", tx.original_currency), "")
    for f in FIELDS:
        if f.name in fields or f.record in fields:
            continue
        if f.name in changes:
            if f.kind != "currency":
                fields[f.record] = clean_value(f, changes[f.name], original if f.kind == "original" else currency)
        elif f.kind == "money" and currency != tx.currency:
            fields[f.record] = to_minor(to_decimal_amount(getattr(tx, f.record), tx.currency), currency)
        elif f.kind == "splits" and currency != tx.currency and tx.splits:
            fields[f.record] = tuple(
                dataclasses.replace(
                    line, amount_minor=to_minor(to_decimal_amount(line.amount_minor, tx.currency), currency)
                )
                for line in tx.splits
            )
        elif f.kind == "original" and original != tx.original_currency and tx.original_currency and original:
            fields[f.record] = to_minor(to_decimal_amount(tx.original_amount_minor, tx.original_currency), original)
    fields["original_currency"] = original
    if not original:
        fields["original_amount_minor"] = 0
    if "account" in changes:
        fields["account"] = clean_account(changes["account"])
    updated = dataclasses.replace(tx, **fields)
    if updated.reconciled and not updated.cleared:
        updated = dataclasses.replace(updated, reconciled=False)  # un-clearing takes the reconciliation back
    check_transaction(updated)
    if updated == tx:
        return tx
    return dataclasses.replace(updated, updated_at=now or utcnow())


def _split_changes(tx: Transaction, changes: Mapping[str, object]) -> dict[str, Any]:
    """``splits`` and ``category`` after ``changes``: new lines make it a split (category :data:`SPLIT_CATEGORY`);
    no lines unsplit it into the category given; a split's category changes only through its lines."""
    category = changes.get("category")
    if "splits" in changes:
        lines = clean_splits(changes["splits"], normalize_currency(changes.get("currency", tx.currency)))
        if lines:
            return {"splits": lines, "category": SPLIT_CATEGORY}
        if tx.splits and "category" not in changes:
            raise ValidationError("category", None, "is needed to unsplit a transaction (the category it goes back to)")
        return {"splits": (), **({"category": _unsplit_category(category)} if "category" in changes else {})}
    if "category" in changes:
        if tx.splits:
            if isinstance(category, str) and category.strip() == SPLIT_CATEGORY:
                return {}
            raise ValidationError(
                "category", category, "of a split transaction comes from its lines (unsplit it first)"
            )
        return {"category": _unsplit_category(category)}
    return {}


def _unsplit_category(value: object) -> Category:
    category = clean_category(value)
    if category.casefold() == SPLIT_CATEGORY.casefold():
        raise ValidationError("category", category, "is for split transactions only (give the lines)")
    return category


def from_record(record: Mapping[str, Any]) -> Transaction:
    """Rebuild a transaction from its storage form, checking every field again."""
    try:
        values = {key: decode(f, _stored_value(f, key, record), "") for f, key, decode in _RECORD_DECODERS}
        return check_transaction(Transaction(**values))
    except KeyError as exc:
        raise ValidationError(str(exc.args[0]), None, "is missing from the record") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError("record", record.get("id"), f"is malformed ({exc})") from None


def _stored_value(field: Field, key: str, record: Mapping[str, Any]) -> Any:
    if key in record:
        return record[key]
    if field.missing is not None:
        return field.missing
    return None if field.optional else record[key]


def _plain(tx: Transaction, attr: str) -> Any:
    return getattr(tx, attr)


def _iso_day(tx: Transaction, attr: str) -> str:
    return str(getattr(tx, attr).isoformat())


def _tag_list(tx: Transaction, attr: str) -> list[str]:
    return list(getattr(tx, attr))


def _iso_time(tx: Transaction, attr: str) -> str:
    return iso_utc(getattr(tx, attr))


def _decimal_text(tx: Transaction, attr: str) -> str:
    return format_plain(getattr(tx, attr), tx.currency)


def _line_records(tx: Transaction, attr: str) -> list[dict[str, Any]]:
    return [line.to_record() for line in tx.splits]


def _line_json(tx: Transaction, attr: str) -> list[dict[str, Any]]:
    return [line.to_json(tx.currency) for line in tx.splits]


def _original_text(tx: Transaction, attr: str) -> str:
    return format_plain(tx.original_amount_minor, tx.original_currency) if tx.original_currency else ""


_Encoder = Callable[[Transaction, str], Any]
_RECORD_ENCODERS: dict[FieldKind, _Encoder] = {
    "date": _iso_day,
    "tags": _tag_list,
    "time": _iso_time,
    "splits": _line_records,
}
_JSON_ENCODERS: dict[FieldKind, _Encoder] = {
    **_RECORD_ENCODERS,
    "money": _decimal_text,
    "splits": _line_json,
    "original": _original_text,
}
_RECORD_FORM: tuple[tuple[str, _Encoder], ...] = tuple((f.record, _RECORD_ENCODERS.get(f.kind, _plain)) for f in FIELDS)
_RECORD_DECODERS: tuple[tuple[Field, str, _Cleaner], ...] = tuple((f, f.record, _STORED[f.kind]) for f in FIELDS)
_JSON_FORM: tuple[tuple[str, str, _Encoder], ...] = tuple(
    (f.name, f.record, _JSON_ENCODERS.get(f.kind, _plain)) for f in FIELDS
)
