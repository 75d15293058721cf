"""Split lines as a person types them: what is left of the amount, a remainder spread evenly over the empty lines,
the typed lines read into what :meth:`tracker.ledger.Ledger.add` and ``update`` take as ``splits=``.

Pure functions over integer minor units and typed text; the split editor (``tracker/ui/split_editor.py``) keeps
the lines and shows them. Every error names the line as the editor numbers it (``line 2 amount: ...``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from tracker.errors import ValidationError
from tracker.model import clean_line_category, clean_note, clean_tags
from tracker.money import format_plain, parse_user_amount, to_decimal_amount, to_minor

Minor = int


@dataclasses.dataclass(frozen=True)
class TypedLine:
    """One line of the split editor as typed; nothing checked yet (``category`` ``None`` when none was chosen)."""

    category: str | None = None
    amount: str = ""
    tags: tuple[str, ...] = ()
    note: str = ""

    @property
    def blank(self) -> bool:
        """Nothing typed in it at all: such a line is left out when saving."""
        return not (self.category or "").strip() and not self.amount.strip() and not self.tags and not self.note.strip()


def remainder(total_minor: Minor, line_minors: Iterable[Minor | None]) -> Minor:
    """What is left of ``total_minor`` for the lines whose amount is still empty (``None``): negative when the
    lines sum to more than the total."""
    return total_minor - sum(m for m in line_minors if m is not None)


def distribute(remainder_minor: Minor, slots: int) -> list[Minor]:
    """``remainder_minor`` spread evenly over ``slots`` lines, the leftover minor units one at a time from the first
    line: 10.00 over 3 is 3.34, 3.33, 3.33. The parts sum exactly to the remainder and differ by at most one unit.

    Raises:
        ValidationError: no line to spread over, or a negative remainder.
    """
    if slots < 1:
        raise ValidationError("split", slots, "has no empty line to distribute the remainder over")
    if remainder_minor < 0:
        raise ValidationError("remainder", remainder_minor, "is negative: the lines sum to more than the amount")
    share, extra = divmod(remainder_minor, slots)
    return [share + 1 if i < extra else share for i in range(slots)]


def line_minor(line: TypedLine, number: int, number_format: str, currency: str) -> Minor | None:
    """Line ``number``'s amount in minor units of ``currency``, ``None`` when it is empty; quoted as typed when it
    cannot be read (``line 2 amount: '12,345' has more decimal places than USD allows (2)``)."""
    text = line.amount.strip()
    if not text:
        return None
    field = f"line {number} amount"
    try:
        return to_minor(parse_user_amount(text, number_format, field=field), currency, field)
    except ValidationError as exc:
        raise ValidationError(field, line.amount, exc.problem) from None


def line_minors(lines: Sequence[TypedLine], number_format: str, currency: str) -> list[Minor | None]:
    """Every line's amount (:func:`line_minor`), ``None`` for the empty ones; the first unreadable one raises."""
    return [line_minor(line, n, number_format, currency) for n, line in enumerate(lines, 1)]


def fill_remainder(
    total_minor: Minor, lines: Sequence[TypedLine], number_format: str, currency: str
) -> dict[int, Minor]:
    """What "Distribute the remainder" puts in the lines whose amount is empty: position (0-based) -> minor units.

    Raises:
        ValidationError: an amount cannot be read, no line is empty, or nothing (or less than one minor unit per
            empty line) is left, or the lines are over the total; amounts quoted in ``currency``'s decimals.
    """
    minors = line_minors(lines, number_format, currency)
    empty = [i for i, m in enumerate(minors) if m is None]
    left = remainder(total_minor, minors)
    if not empty:
        raise ValidationError("remainder", format_plain(left, currency), "has no empty line to go to (add a line)")
    if left < 0:
        raise ValidationError(
            "remainder", format_plain(left, currency), "is negative: the lines already sum to more than the amount"
        )
    if left == 0:
        raise ValidationError(
            "remainder", format_plain(left, currency), "is nothing to share: the lines already sum to the amount"
        )
    if left < len(empty):
        raise ValidationError(
            "remainder", format_plain(left, currency), f"is too little to share between {len(empty)} empty lines"
        )
    return dict(zip(empty, distribute(left, len(empty)), strict=True))


def to_splits(lines: Sequence[TypedLine], number_format: str, currency: str) -> list[dict[str, Any]]:
    """The typed lines as ``splits=`` takes them (``{"category", "amount", "tags", "note"}``, the amount a
    ``Decimal``), blank lines left out. Each line needs a category and an amount; two lines are needed at least.
    Whether they sum to the transaction's amount the ledger checks (``split: '90.00' is the sum of the lines, ...``).

    Raises:
        ValidationError: naming the line as the editor numbers it (``line 3 category: '' must not be empty``).
    """
    out = []
    for number, line in enumerate(lines, 1):
        if line.blank:
            continue
        out.append(_read_line(line, number, number_format, currency))
    if len(out) < 2:
        raise ValidationError("split", len(out), "needs two or more lines with a category and an amount")
    return out


def _read_line(line: TypedLine, number: int, number_format: str, currency: str) -> dict[str, Any]:
    """One non-blank line checked as the ledger will check it, its errors naming the line."""
    category = (line.category or "").strip()
    if not category:
        raise ValidationError(f"line {number} category", line.category or "", "must not be empty")
    minor = line_minor(line, number, number_format, currency)
    if minor is None:
        raise ValidationError(f"line {number} amount", line.amount, "is needed (or remove the line)")
    try:
        category = clean_line_category(category)
    except ValidationError as exc:
        raise ValidationError(f"line {number} category", category, exc.problem) from None
    try:
        tags, note = clean_tags(list(line.tags)), clean_note(line.note)
    except ValidationError as exc:
        raise ValidationError(f"line {number} {exc.field}", exc.value, exc.problem) from None
    amount: Decimal = to_decimal_amount(minor, currency)
    return {"category": category, "amount": amount, "tags": list(tags), "note": note}
