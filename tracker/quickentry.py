"""Quick entry: one line of text becomes a transaction, with a preview before it is saved.

What a line may contain, in any order (words are separated by spaces):

* one **amount**: ``4.50``, ``12,40``, ``1,234.56``, ``1.234,56``, ``2500``; a leading ``+`` marks income
  (``+2500`` or ``+ 2500``), anything else is an expense; a currency symbol (``$4.50``, ``4,50€``) or an ISO
  code word (``EUR``) sets the currency. A separator followed by exactly three digits groups thousands
  (``1,234`` and ``1.234`` are both 1234).
* at most one **date**: ``today``, ``yesterday``, ``tomorrow``, a weekday name (``monday``: the most recent
  Monday, today if today is Monday; ``last monday``: strictly before today), ``2026-11-01``, ``2026/11/01``
  or ``1.11.2026`` (day first); an ``on`` in front of a date is dropped. Without a date: today.
* **tags**: ``#work`` (several allowed); a **category** explicitly: ``@Groceries`` (``_`` for a space:
  ``@Eating_out``).
* everything else is the **description**, which becomes the note and is used to guess the category.

The category, when not given with ``@``, comes from the one categoriser imports use
(:mod:`tracker.categorize`): the user's import rules first (``rules add REWE Groceries``), then the history
(a past transaction of the same type with the same description; a description word that names an existing
category; the categories of past descriptions sharing a word, plural ``s`` ignored); then quick entry's own
step, the first description word capitalised as a new category; else ``Uncategorized``, as for imports.

Text that cannot be understood raises :class:`tracker.errors.ValidationError` naming the part: no amount,
a second amount, a number that is not an amount, a bad or second date, a bad tag.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from tracker.categorize import DEFAULT_CATEGORY, STOPWORDS, TYPED_SIMILARITY, Categoriser, History, Source
from tracker.errors import ValidationError
from tracker.model import (
    MAX_CATEGORY,
    Transaction,
    TxType,
    clean_category,
    clean_date,
    clean_note,
    clean_tags,
    make_transaction,
)
from tracker.money import (
    CURRENCY_EXPONENTS,
    Minor,
    format_plain,
    normalize_currency,
    parse_user_amount,
    read_any_number,
    to_minor,
)

if TYPE_CHECKING:
    from tracker.ledger import Ledger

CategorySource = Source
MAX_TEXT = 1000
EXAMPLE = "for example 'coffee 4.50 yesterday #work'"

SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
RELATIVE = {"today": 0, "yesterday": -1, "tomorrow": 1}

_SYM = "$€£¥₹"
_AMOUNT = re.compile(rf"([+-]?)([{_SYM}]?)([+-]?)([0-9][0-9.,']*|[.,][0-9]+)([{_SYM}]?)")
_NUMERIC_ISH = re.compile(rf"[+-]?[{_SYM}]?[+-]?[0-9.,']*[0-9][0-9.,']*[{_SYM}]?")
_ISO_DATE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")
_DAY_FIRST = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_DATE_ISH = re.compile(r"[0-9]{1,4}[-/][0-9]{1,2}(?:[-/][0-9]{1,4})?|[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{2,3}")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


# --- the pieces --------------------------------------------------------------------------------------------


def parse_amount_token(token: str, number_format: str | None = None) -> tuple[Decimal, str, str | None] | None:
    """``"+$2,500"`` -> ``(Decimal("2500"), "+", "USD")``; ``None`` if the token is no amount.

    The digits are read in ``number_format`` (Settings) as the forms read them; what that format refuses
    (``12,40`` in ``1,234.56``), and everything when no format is given, is read without one.
    """
    match = _AMOUNT.fullmatch(token)
    if not match:
        return None
    sign1, sym1, sign2, digits, sym2 = match.groups()
    if (sign1 and sign2) or (sym1 and sym2) or (sign2 and not sym1):
        return None
    value = _in_format(digits, number_format) if number_format else None
    if value is None:
        value = read_any_number(digits)
    if value is None:
        return None
    symbol = sym1 or sym2
    return value, sign1 or sign2, SYMBOLS[symbol] if symbol else None


def _in_format(digits: str, number_format: str) -> Decimal | None:
    try:
        return parse_user_amount(digits, number_format)
    except ValidationError:
        return None


def _date_from_token(token: str) -> dt.date | None:
    """An ISO (``2026-11-01``, ``2026/11/01``) or day-first (``1.11.2026``) date; ``ValidationError`` if invalid."""
    iso = _ISO_DATE.fullmatch(token)
    day_first = _DAY_FIRST.fullmatch(token)
    if iso:
        y, m, d = (int(g) for g in iso.groups())
    elif day_first:
        d, m, y = (int(g) for g in day_first.groups())
    elif _DATE_ISH.fullmatch(token):
        raise ValidationError("date", token, "is not a date I understand; write it as YYYY-MM-DD")
    else:
        return None
    try:
        day = dt.date(y, m, d)
    except ValueError:
        raise ValidationError("date", token, "is not a valid date") from None
    return clean_date(day)


def weekday_date(name: str, today: dt.date, *, strictly_before: bool = False) -> dt.date:
    """The most recent ``name`` day on or before ``today`` (strictly before with ``strictly_before``)."""
    wanted = WEEKDAYS[name]
    back = (today.weekday() - wanted) % 7
    if strictly_before and back == 0:
        back = 7
    return today - dt.timedelta(days=back)


# --- category guessing ---------------------------------------------------------------------------------------


def _categoriser(history: object) -> Categoriser:
    if history is None:
        return Categoriser()
    if isinstance(history, Categoriser):
        return history
    if isinstance(history, History):
        return Categoriser(history=history)
    if isinstance(history, pd.DataFrame):
        return Categoriser(history=History.from_frame(history))
    if isinstance(history, Iterable):
        return Categoriser(history=History.from_transactions(history))
    raise TypeError(
        f"history must be a Categoriser, a History, a DataFrame or transactions, not {type(history).__name__}"
    )


def guess_category(description: str, tx_type: str, history: object = None) -> tuple[str, CategorySource]:
    """The category for a description (see the module docstring for the order).

    ``history`` is a :class:`~tracker.categorize.Categoriser` (rules and history), a
    :class:`~tracker.categorize.History`, a transactions frame or transactions.
    """
    found = _categoriser(history).categorise(description, tx_type, similarity=TYPED_SIMILARITY)
    if found[1] != "default":
        return found
    for word in description.split():
        key = _EDGE_PUNCT.sub("", word)
        if len(key) >= 2 and key.casefold() not in STOPWORDS and len(key) <= MAX_CATEGORY and not key.isdigit():
            return key[0].upper() + key[1:], "word"
    return DEFAULT_CATEGORY, "default"


# --- the entry ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class QuickEntry:
    """The parsed preview of a quick-entry line; :meth:`to_transaction` makes it a transaction."""

    text: str
    type: TxType
    amount: Decimal
    amount_minor: Minor
    currency: str
    date: dt.date
    category: str
    category_source: CategorySource
    tags: tuple[str, ...]
    note: str
    description: str
    account: str = ""
    """The account it goes into (empty: the default account when saved)."""

    @property
    def amount_text(self) -> str:
        """``"4.50"``."""
        return format_plain(self.amount_minor, self.currency)

    def to_transaction(self, id: str | None = None) -> Transaction:
        """A validated transaction of this entry."""
        return make_transaction(
            type=self.type,
            amount=self.amount_text,
            currency=self.currency,
            date=self.date,
            category=self.category,
            tags=self.tags,
            note=self.note,
            account=self.account or None,
            id=id,
        )

    def to_json(self) -> dict[str, Any]:
        """The preview as JSON (amount as a decimal string)."""
        return {
            "type": self.type,
            "amount": self.amount_text,
            "currency": self.currency,
            "date": self.date.isoformat(),
            "category": self.category,
            "category_source": self.category_source,
            "tags": list(self.tags),
            "note": self.note,
            "account": self.account,
        }

    def summary(self) -> str:
        """One line: ``expense 4.50 USD on 2026-11-27 · Food · #work · coffee``."""
        parts = [f"{self.type} {self.amount_text} {self.currency} on {self.date.isoformat()}", self.category]
        if self.tags:
            parts.append(" ".join("#" + t for t in self.tags))
        if self.note:
            parts.append(self.note)
        return " · ".join(parts)


def parse_quick_entry(
    text: object, today: dt.date, history: object = None, *, currency: str = "USD", number_format: str | None = None
) -> QuickEntry:
    """Parse one line (see the module docstring); raise ``ValidationError`` naming the part not understood.

    Args:
        text: the line, e.g. ``"coffee 4.50 yesterday #work"``.
        today: the date that ``today``/``yesterday``/weekday names are relative to.
        history: what guesses the category: a :class:`~tracker.categorize.Categoriser` (the user's rules and
            history), or only a history: a :class:`~tracker.categorize.History`, a frame or transactions.
        currency: used when the line names none.
        number_format: the user's number format (Settings), tried first for the amount.
    """
    if not isinstance(text, str):
        raise ValidationError("text", text, "must be text")
    if len(text) > MAX_TEXT:
        raise ValidationError("text", text, f"is longer than {MAX_TEXT} characters")
    tokens = text.split()
    if not tokens:
        raise ValidationError("text", text, f"is empty; write an amount and a description, {EXAMPLE}")
    amount: tuple[Decimal, str, str | None, str] | None = None  # value, sign, symbol currency, token
    date: tuple[dt.date, str] | None = None
    code: str | None = None
    category: str | None = None
    tags: list[str] = []
    words: list[str] = []
    pending_sign = ""

    def set_date(value: dt.date, token: str) -> None:
        nonlocal date
        if date is not None:
            raise ValidationError("date", token, f"is a second date (already found '{date[1]}'); write only one date")
        date = (value, token)

    i = 0
    while i < len(tokens):
        token = tokens[i]
        low = token.casefold()
        nxt = tokens[i + 1].casefold() if i + 1 < len(tokens) else ""
        i += 1
        if low in ("on", "last") and (nxt in WEEKDAYS or (low == "on" and _looks_like_date(nxt))):
            if low == "last":
                set_date(weekday_date(nxt, today, strictly_before=True), f"last {tokens[i]}")
                i += 1
            continue
        if token.startswith("#"):
            if len(token) == 1:
                raise ValidationError("tag", token, "is empty; write a tag like #work")
            tags.append(token[1:])
            continue
        if token.startswith("@") and len(token) > 1:
            if category is not None:
                raise ValidationError("category", token, f"is a second category (already '@{category}')")
            category = clean_category(token[1:].replace("_", " "))
            continue
        if low in RELATIVE:
            set_date(today + dt.timedelta(days=RELATIVE[low]), token)
            continue
        if low in WEEKDAYS:
            set_date(weekday_date(low, today), token)
            continue
        if token in ("+", "-") and not pending_sign and _unsigned_amount(nxt):
            pending_sign = token
            continue
        day = _date_from_token(token)
        if day is not None:
            set_date(day, token)
            continue
        parsed = parse_amount_token(token, number_format)
        if parsed is not None:
            if amount is not None:
                raise ValidationError(
                    "amount", token, f"is a second amount (already found '{amount[3]}'); write only one amount"
                )
            value, sign, symbol_code = parsed
            amount = (value, sign or pending_sign, symbol_code, (pending_sign + token) if pending_sign else token)
            pending_sign = ""
            continue
        if _NUMERIC_ISH.fullmatch(token):
            raise ValidationError("amount", token, "is not an amount I understand; write it like 12.50 or 12,50")
        if len(token) == 3 and token.isupper() and token in CURRENCY_EXPONENTS:
            if code is not None and code != token:
                raise ValidationError("currency", token, f"is a second currency (already {code})")
            code = token
            continue
        words.append(token)
    if amount is None:
        raise ValidationError("amount", text.strip(), f"has no amount; write one like 4.50, {EXAMPLE}")
    value, sign, symbol_code, amount_token = amount
    if symbol_code and code and symbol_code != code:
        raise ValidationError("currency", code, f"does not match the currency symbol of '{amount_token}'")
    cur = normalize_currency(symbol_code or code or currency)
    try:
        minor = to_minor(value, cur)
    except ValidationError as exc:
        raise ValidationError("amount", amount_token, exc.problem) from None
    tx_type: TxType = "income" if sign == "+" else "expense"
    description = clean_note(" ".join(words))
    source: CategorySource
    if category is not None:
        source = "explicit"
    else:
        category, source = guess_category(description, tx_type, history)
        category = clean_category(category)
    note = "" if description.casefold() == category.casefold() else description
    return QuickEntry(
        text=text,
        type=tx_type,
        amount=Decimal(format_plain(minor, cur)),
        amount_minor=minor,
        currency=cur,
        date=date[0] if date else clean_date(today),
        category=category,
        category_source=source,
        tags=clean_tags(tags),
        note=note,
        description=description,
    )


def _unsigned_amount(token: str) -> bool:
    parsed = parse_amount_token(token)
    return parsed is not None and not parsed[1]


def _looks_like_date(word: str) -> bool:
    return (
        word in RELATIVE
        or word in WEEKDAYS
        or bool(_ISO_DATE.fullmatch(word) or _DAY_FIRST.fullmatch(word) or _DATE_ISH.fullmatch(word))
    )


# --- on a ledger ----------------------------------------------------------------------------------------------


def preview(
    ledger: Ledger,
    text: str,
    today: dt.date | None = None,
    account: str | None = None,
    categoriser: Categoriser | None = None,
) -> QuickEntry:
    """Parse ``text`` with the ledger's rules and history (``categoriser``: one built already, e.g. cached per
    revision), into ``account`` (default: the default account) and in its currency unless the line names one
    (nothing is saved)."""
    from tracker.accounts import default_account, get_account

    into = get_account(ledger, account) if account else default_account(ledger)
    entry = parse_quick_entry(
        text,
        today or dt.date.today(),
        categoriser or Categoriser.of(ledger),
        currency=into.currency,
        number_format=ledger.settings["number_format"],
    )
    return dataclasses.replace(entry, account=into.name)


def save(ledger: Ledger, entry: QuickEntry) -> Transaction:
    """Add the previewed entry to the ledger (one undoable commit)."""
    return ledger.add(
        entry.type,
        entry.amount_text,
        category=entry.category,
        date=entry.date,
        tags=entry.tags,
        note=entry.note,
        currency=entry.currency,
        account=entry.account or None,
    )
