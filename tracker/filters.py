"""Filtering transactions: a frozen :class:`Filter`, :func:`filter_mask` over :class:`tracker.rows.Rows`
(stored columns or a frame), and :func:`apply_filter` for a frame. No pandas at import."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

import numpy as np

from tracker.errors import ValidationError
from tracker.model import TX_TYPES, clean_date
from tracker.money import to_decimal
from tracker.rows import FrameRows, Rows
from tracker.storage.columns import day_number

if TYPE_CHECKING:
    import pandas as pd

TagMode = Literal["any", "all"]


@dataclasses.dataclass(frozen=True)
class Filter:
    """What to keep. Every criterion left as ``None`` keeps everything.

    ``min_amount``/``max_amount`` are inclusive bounds on the (positive) amount, in major units,
    compared exactly in minor units of each row's currency.
    """

    start: dt.date | None = None
    end: dt.date | None = None
    categories: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    tag_mode: TagMode = "any"
    type: str | None = None
    text: str | None = None
    min_amount: str | None = None
    max_amount: str | None = None
    accounts: tuple[str, ...] | None = None

    @classmethod
    def build(
        cls,
        start: object = None,
        end: object = None,
        categories: Iterable[str] | str | None = None,
        tags: Iterable[str] | str | None = None,
        tag_mode: str = "any",
        type: str | None = None,
        text: str | None = None,
        min_amount: object = None,
        max_amount: object = None,
        accounts: Iterable[str] | str | None = None,
    ) -> Filter:
        """Validate loosely typed arguments (text dates, a single category) into a ``Filter``."""
        s = clean_date(start) if start is not None else None
        e = clean_date(end) if end is not None else None
        if s and e and s > e:
            raise ValidationError("from", s.isoformat(), f"is after the end date {e.isoformat()}")
        if tag_mode not in ("any", "all"):
            raise ValidationError("tag_mode", tag_mode, "must be 'any' or 'all'")
        if type is not None and type not in TX_TYPES:
            raise ValidationError("type", type, "must be 'income', 'expense' or 'transfer'")
        if text is not None and not isinstance(text, str):
            raise ValidationError("text", text, "must be text")
        lo = str(to_decimal(min_amount, "min")) if min_amount is not None else None
        hi = str(to_decimal(max_amount, "max")) if max_amount is not None else None
        return cls(
            start=s,
            end=e,
            categories=_as_tuple(categories, "categories"),
            tags=_as_tuple(tags, "tags"),
            tag_mode="all" if tag_mode == "all" else "any",
            type=type,
            text=text.strip() if text and text.strip() else None,
            min_amount=lo,
            max_amount=hi,
            accounts=_as_tuple(accounts, "accounts"),
        )


def _as_tuple(values: Iterable[str] | str | None, field: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    if isinstance(values, str):
        return (values,)
    items = tuple(values) if isinstance(values, Iterable) and not isinstance(values, bytes | dict) else None
    if items is None or not all(isinstance(v, str) for v in items):
        raise ValidationError(field, values, "must be text or a list of text")
    return items


def _amount_bounds(rows: Rows, bound: str, rounding: str) -> np.ndarray:
    """The bound in minor units of each row's currency (exact: Decimal scaled per currency).

    A bound between two minor units is rounded inwards: up for a minimum, down for a maximum.
    """
    from decimal import Context, Decimal

    from tracker.money import CURRENCY_EXPONENTS

    value = Decimal(bound)
    exact = Context(prec=max(28, len(value.as_tuple().digits)))  # never round the bound onto a neighbour
    currency = rows.currency
    per_currency = [
        int((value.scaleb(CURRENCY_EXPONENTS.get(c, 2), context=exact)).to_integral_value(rounding=rounding))
        for c in currency.values
    ]
    # Stored amounts are far inside int64: a bound beyond it compares the same once clamped to it.
    limits = np.iinfo(np.int64)
    per_currency = [min(max(v, int(limits.min)), int(limits.max)) for v in per_currency]
    return np.asarray(per_currency, dtype=np.int64).reshape(-1)[currency.codes]


def filter_mask(rows: Rows, flt: Filter) -> np.ndarray:
    """bool per row of ``rows``: whether it satisfies ``flt``. The one filter of the CLI, the app and the API.

    The category, tag and text criteria are judged line by line (:meth:`tracker.rows.Rows.lines`): a split
    transaction is kept when one of its lines matches. Over :class:`tracker.rows.LineRows` (what totals by
    category count) each line is kept or not, its amount bounds included.
    """
    if flt.categories is None and flt.tags is None and flt.text is None:
        return _mask(rows, flt)  # nothing judged line by line: a transaction is kept as a whole
    lines = rows.lines()
    if lines is rows:
        return _mask(rows, flt)
    matched = np.zeros(len(rows), dtype=bool)
    matched[lines.parent[_mask(lines, dataclasses.replace(flt, min_amount=None, max_amount=None))]] = True
    return matched & _mask(rows, Filter(min_amount=flt.min_amount, max_amount=flt.max_amount))


def _mask(rows: Rows, flt: Filter) -> np.ndarray:
    keep = np.ones(len(rows), dtype=bool)
    if not len(rows):
        return keep
    if flt.start is not None:
        keep &= rows.day >= day_number(flt.start)
    if flt.end is not None:
        keep &= rows.day <= day_number(flt.end)
    if flt.categories is not None:
        wanted = {c.casefold() for c in flt.categories}
        keep &= rows.category.where(lambda c: isinstance(c, str) and c.casefold() in wanted)
    if flt.accounts is not None:
        wanted_accounts = {a.casefold() for a in flt.accounts}
        keep &= rows.account.where(lambda a: isinstance(a, str) and a.casefold() in wanted_accounts)
    if flt.type is not None:
        keep &= rows.type.where(lambda t: isinstance(t, str) and t == flt.type)
    if flt.tags is not None:
        wanted_tags = {t.casefold().lstrip("#") for t in flt.tags}
        if flt.tag_mode == "all":
            keep &= rows.tags.where(lambda tags: wanted_tags <= {t.casefold() for t in tags})
        else:
            keep &= rows.tags.where(lambda tags: any(t.casefold() in wanted_tags for t in tags))
    if flt.text is not None:
        needle = flt.text.casefold()
        in_category = rows.category.where(lambda c: isinstance(c, str) and needle in c.casefold())
        keep &= in_category | rows.note_contains(needle)
    if flt.min_amount is not None:
        keep &= rows.amount >= _amount_bounds(rows, flt.min_amount, "ROUND_CEILING")
    if flt.max_amount is not None:
        keep &= rows.amount <= _amount_bounds(rows, flt.max_amount, "ROUND_FLOOR")
    return keep


def apply_filter(frame: pd.DataFrame, flt: Filter) -> pd.DataFrame:
    """The rows of ``frame`` that satisfy ``flt`` (:func:`filter_mask`), same columns and dtypes, original order."""
    if frame.empty:
        return frame
    return frame[filter_mask(FrameRows(frame), flt)]


def filter_data(
    frame: pd.DataFrame,
    start: object = None,
    end: object = None,
    categories: Iterable[str] | str | None = None,
    tags: Iterable[str] | str | None = None,
    tag_mode: str = "any",
    type: str | None = None,
    text: str | None = None,
    min_amount: object = None,
    max_amount: object = None,
    accounts: Iterable[str] | str | None = None,
) -> pd.DataFrame:
    """Filter a frame from :func:`tracker.load_data` (dates inclusive; categories and tags case-insensitive).

    ``tag_mode="any"`` keeps rows with at least one of ``tags``; ``"all"`` rows that have all of them.
    ``text`` is searched, case-insensitively, in the note and the category. ``accounts`` keeps the rows of
    those accounts (names, case-insensitive); ``type="transfer"`` keeps transfers.
    """
    flt = Filter.build(start, end, categories, tags, tag_mode, type, text, min_amount, max_amount, accounts)
    return apply_filter(frame, flt)
