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

The category, when not given with ``@``, is guessed in this order: a past transaction of the same type
with the same description (its most frequent category, the most recent on a tie); a description word
that is the name of an existing category; the category most often used with the description's words
(plural ``s`` ignored); the first description word, capitalised; else ``Other`` (``Income`` for income).

Text that cannot be understood raises :class:`tracker.errors.ValidationError` naming the part: no amount,
a second amount, a number that is not an amount, a bad or second date, a bad tag.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

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
from tracker.money import CURRENCY_EXPONENTS, Minor, format_plain, normalize_currency, to_minor

if TYPE_CHECKING:
    from tracker.ledger import Ledger

CategorySource = Literal["explicit", "history", "category", "words", "word", "default"]
DEFAULT_EXPENSE_CATEGORY = "Other"
DEFAULT_INCOME_CATEGORY = "Income"
MAX_TEXT = 1000
EXAMPLE = "for example 'coffee 4.50 yesterday #work'"

SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
RELATIVE = {"today": 0, "yesterday": -1, "tomorrow": 1}
STOPWORDS = frozenset(
    ["a", "an", "the", "at", "for", "from", "in", "of", "on", "to", "with", "my", "our", "and", "or", "new", "some"]
)

_SYM = "$€£¥₹"
_AMOUNT = re.compile(rf"([+-]?)([{_SYM}]?)([+-]?)([0-9][0-9.,']*|[.,][0-9]+)([{_SYM}]?)")
_NUMERIC_ISH = re.compile(rf"[+-]?[{_SYM}]?[+-]?[0-9.,']*[0-9][0-9.,']*[{_SYM}]?")
_ISO_DATE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")
_DAY_FIRST = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_DATE_ISH = re.compile(r"[0-9]{1,4}[-/][0-9]{1,2}(?:[-/][0-9]{1,4})?|[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{2,3}")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


# --- the pieces --------------------------------------------------------------------------------------------


def parse_number(text: str) -> Decimal | None:
    """``"12,40"`` -> ``12.40``, ``"1,234.56"`` -> ``1234.56``, ``"1.234"`` -> ``1234``; ``None`` if not a number."""
    if re.fullmatch(r"[0-9]+", text):
        return Decimal(text)
    if re.fullmatch(r"[.,][0-9]+", text):
        return Decimal("0." + text[1:])
    parts = re.split(r"([.,'])", text)
    numbers, seps = parts[0::2], parts[1::2]
    if not all(re.fullmatch(r"[0-9]+", n) for n in numbers) or not seps:
        return None
    if len(set(seps)) == 1:
        if all(len(n) == 3 for n in numbers[1:]) and len(numbers[0]) <= 3:
            return Decimal("".join(numbers))  # 1,234 / 1.234.567 / 1'000: thousands
        if len(seps) == 1 and seps[0] in ".,":
            return Decimal(f"{numbers[0]}.{numbers[1]}")  # 12,40 / 4.5
        return None
    last = seps[-1]
    group = seps[0]
    if last not in ".," or seps.count(last) != 1 or any(s != group for s in seps[:-1]):
        return None
    whole = numbers[:-1]
    if len(whole[0]) > 3 or not all(len(n) == 3 for n in whole[1:]):
        return None
    return Decimal(f"{''.join(whole)}.{numbers[-1]}")


def parse_amount_token(token: str) -> tuple[Decimal, str, str | None] | None:
    """``"+$2,500"`` -> ``(Decimal("2500"), "+", "USD")``; ``None`` if the token is no amount."""
    match = _AMOUNT.fullmatch(token)
    if not match:
        return None
    sign1, sym1, sign2, digits, sym2 = match.groups()
    if (sign1 and sign2) or (sym1 and sym2) or (sign2 and not sym1):
        return None
    value = parse_number(digits)
    if value is None:
        return None
    symbol = sym1 or sym2
    return value, sign1 or sign2, SYMBOLS[symbol] if symbol else None


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


@functools.lru_cache(maxsize=1 << 16)
def _word_key(word: str) -> str:
    """A comparison key for a description word: case-folded, punctuation trimmed, plural ``s`` dropped."""
    key = _EDGE_PUNCT.sub("", word.casefold())
    if key.endswith("'s"):
        key = key[:-2]
    if len(key) > 3 and key.endswith("s") and not key.endswith("ss"):
        key = key[:-1]
    return key


def _content_keys(text: str) -> list[str]:
    keys = [_word_key(w) for w in text.split()]
    return [k for k in keys if len(k) >= 2 and k not in STOPWORDS and not k.isdigit()]


# --- category guessing ---------------------------------------------------------------------------------------


class CategoryHistory:
    """What the user's past transactions say about categories, indexed for :meth:`guess`.

    Build it once per ledger revision (``from_frame``) and reuse it for every keystroke of a preview.
    """

    def __init__(self, rows: Iterable[tuple[str, str, str, int]] = ()) -> None:
        """``rows`` are ``(type, note, category, order)``; a larger ``order`` is more recent."""
        self._exact: dict[tuple[str, str], dict[str, int]] = {}
        self._words: dict[tuple[str, str], dict[str, int]] = {}
        self._recent: dict[str, int] = {}
        self._names: dict[str, tuple[int, str]] = {}
        groups: dict[tuple[str, str, str], list[int]] = {}
        for tx_type, note, category, order in rows:
            group = groups.setdefault((tx_type, note, category), [0, order])
            group[0] += 1
            group[1] = max(group[1], order)
        self._index((t, n, c, count, last) for (t, n, c), (count, last) in groups.items())

    def _index(self, groups: Iterable[tuple[str, str, str, int, int]]) -> None:
        """Index ``(type, note, category, count, last order)`` groups: the work grows with distinct notes, not rows."""
        keys_of_note: dict[str, tuple[str, list[str]]] = {}
        for tx_type, note, category, count, last in groups:
            self._recent[category] = max(last, self._recent.get(category, last))
            name_key = _word_key(category)
            if name_key not in self._names or last >= self._names[name_key][0]:
                self._names[name_key] = (last, category)  # the most recent spelling
            if note not in keys_of_note:
                keys_of_note[note] = (" ".join(note.casefold().split()), sorted(set(_content_keys(note))))
            text, keys = keys_of_note[note]
            if not text:
                continue
            exact = self._exact.setdefault((tx_type, text), {})
            exact[category] = exact.get(category, 0) + count
            for key in keys:
                counts = self._words.setdefault((tx_type, key), {})
                counts[category] = counts.get(category, 0) + count

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> CategoryHistory:
        """From a transactions frame (``Ledger.frame()``); rows are in date order, so position is recency."""
        history = cls()
        if frame.empty:
            return history
        rows = pd.DataFrame(
            {
                "type": frame["type"].astype(str).to_numpy(),
                "note": frame["note"].astype(str).to_numpy(),
                "category": frame["category"].astype(str).to_numpy(),
                "order": range(len(frame)),
            }
        )
        grouped = rows.groupby(["type", "note", "category"], sort=False)["order"].agg(["size", "max"])
        history._index(
            (t, n, c, int(count), int(last))
            for (t, n, c), count, last in zip(grouped.index, grouped["size"], grouped["max"], strict=True)
        )
        return history

    @classmethod
    def from_transactions(cls, transactions: Iterable[Transaction]) -> CategoryHistory:
        """From transactions (ordered by date, then creation, for recency)."""
        txs = sorted(transactions, key=lambda t: (t.date, t.created_at))
        return cls((t.type, t.note, t.category, n) for n, t in enumerate(txs))

    def _best(self, counts: Mapping[str, int]) -> str:
        return max(counts, key=lambda c: (counts[c], self._recent.get(c, -1)))

    def guess(self, description: str, tx_type: str) -> tuple[str, CategorySource] | None:
        """The category for ``description`` and how it was found, or ``None`` if history says nothing."""
        text = " ".join(description.casefold().split())
        if not text:
            return None
        exact = self._exact.get((tx_type, text))
        if exact:
            return self._best(exact), "history"
        keys = _content_keys(description)
        for key in keys:
            if key in self._names:
                return self._names[key][1], "category"
        total: Counter[str] = Counter()
        for key in keys:
            total.update(self._words.get((tx_type, key), {}))
        if total:
            return self._best(total), "words"
        return None


def _as_history(history: object) -> CategoryHistory:
    if history is None:
        return CategoryHistory()
    if isinstance(history, CategoryHistory):
        return history
    if isinstance(history, pd.DataFrame):
        return CategoryHistory.from_frame(history)
    if isinstance(history, Iterable):
        return CategoryHistory.from_transactions(history)
    raise TypeError(f"history must be a DataFrame, transactions or a CategoryHistory, not {type(history).__name__}")


def guess_category(description: str, tx_type: str, history: object = None) -> tuple[str, CategorySource]:
    """The category for a description (see the module docstring for the order of the rules)."""
    found = _as_history(history).guess(description, tx_type)
    if found:
        return found
    for word in description.split():
        key = _EDGE_PUNCT.sub("", word)
        if len(key) >= 2 and key.casefold() not in STOPWORDS and len(key) <= MAX_CATEGORY and not key.isdigit():
            return key[0].upper() + key[1:], "word"
    return (DEFAULT_INCOME_CATEGORY if tx_type == "income" else DEFAULT_EXPENSE_CATEGORY), "default"


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
        }

    def summary(self) -> str:
        """One line: ``expense 4.50 USD on 2026-11-27 · Food · #work · coffee``."""
        parts = [f"{self.type} {self.amount_text} {self.currency} on {self.date.isoformat()}", self.category]
        if self.tags:
            parts.append(" ".join("#" + t for t in self.tags))
        if self.note:
            parts.append(self.note)
        return " · ".join(parts)


def parse_quick_entry(text: object, today: dt.date, history: object = None, *, currency: str = "USD") -> QuickEntry:
    """Parse one line (see the module docstring); raise ``ValidationError`` naming the part not understood.

    Args:
        text: the line, e.g. ``"coffee 4.50 yesterday #work"``.
        today: the date that ``today``/``yesterday``/weekday names are relative to.
        history: past transactions for the category guess: a frame, transactions or a :class:`CategoryHistory`.
        currency: used when the line names none.
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
        parsed = parse_amount_token(token)
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


def preview(ledger: Ledger, text: str, today: dt.date | None = None) -> QuickEntry:
    """Parse ``text`` with the ledger's history and default currency (nothing is saved)."""
    return parse_quick_entry(
        text, today or dt.date.today(), CategoryHistory.from_frame(ledger.frame()), currency=ledger.default_currency
    )


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
    )
