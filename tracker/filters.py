"""Filtering a transactions frame: a frozen :class:`Filter` and :func:`apply_filter`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd

from tracker.errors import ValidationError
from tracker.model import TX_TYPES, clean_date
from tracker.money import to_decimal

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
    ) -> Filter:
        """Validate loosely typed arguments (text dates, a single category) into a ``Filter``."""
        s = clean_date(start) if start is not None else None
        e = clean_date(end) if end is not None else None
        if s and e and s > e:
            raise ValidationError("from", s.isoformat(), f"is after the end date {e.isoformat()}")
        if tag_mode not in ("any", "all"):
            raise ValidationError("tag_mode", tag_mode, "must be 'any' or 'all'")
        if type is not None and type not in TX_TYPES:
            raise ValidationError("type", type, "must be 'income' or 'expense'")
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


def _amount_bound(frame: pd.DataFrame, bound: str, rounding: str) -> pd.Series:
    """The bound in minor units of each row's currency (exact: Decimal scaled per currency).

    A bound between two minor units is rounded inwards: up for a minimum, down for a maximum.
    """
    from decimal import Context, Decimal

    from tracker.money import CURRENCY_EXPONENTS

    value = Decimal(bound)
    exact = Context(prec=max(28, len(value.as_tuple().digits)))  # never round the bound onto a neighbour
    codes, currencies = pd.factorize(frame["currency"], use_na_sentinel=False)
    per_currency = [
        int((value.scaleb(CURRENCY_EXPONENTS.get(c, 2), context=exact)).to_integral_value(rounding=rounding))
        for c in currencies
    ]
    # Stored amounts are far inside int64: a bound beyond it compares the same once clamped to it.
    limits = np.iinfo(np.int64)
    per_currency = [min(max(v, int(limits.min)), int(limits.max)) for v in per_currency]
    return pd.Series(np.asarray(per_currency, dtype="int64")[codes], index=frame.index, dtype="int64")


def _per_value(column: pd.Series, test: Callable[[Any], bool]) -> np.ndarray:
    """``test`` of every row as a bool array, evaluated once per distinct value (categories, tag sets repeat)."""
    codes, values = pd.factorize(column, use_na_sentinel=False)
    return np.fromiter((test(v) for v in values), dtype=bool, count=len(values))[codes]


def apply_filter(frame: pd.DataFrame, flt: Filter) -> pd.DataFrame:
    """The rows of ``frame`` that satisfy ``flt``, same columns and dtypes, original order."""
    if frame.empty:
        return frame
    keep = np.ones(len(frame), dtype=bool)
    if flt.start is not None:
        keep &= (frame["date"] >= pd.Timestamp(flt.start)).to_numpy()
    if flt.end is not None:
        keep &= (frame["date"] <= pd.Timestamp(flt.end)).to_numpy()
    if flt.categories is not None:
        wanted = {c.casefold() for c in flt.categories}
        keep &= _per_value(frame["category"], lambda c: c is not pd.NA and c.casefold() in wanted)
    if flt.type is not None:
        keep &= (frame["type"] == flt.type).to_numpy(dtype=bool, na_value=False)
    if flt.tags is not None:
        wanted_tags = {t.casefold().lstrip("#") for t in flt.tags}
        if flt.tag_mode == "all":
            keep &= _per_value(frame["tags"], lambda tags: wanted_tags <= {t.casefold() for t in tags})
        else:
            keep &= _per_value(frame["tags"], lambda tags: any(t.casefold() in wanted_tags for t in tags))
    if flt.text is not None:
        needle = flt.text.casefold()
        in_note = frame["note"].str.casefold().str.contains(needle, regex=False).to_numpy(dtype=bool, na_value=False)
        keep &= in_note | _per_value(frame["category"], lambda c: c is not pd.NA and needle in c.casefold())
    if flt.min_amount is not None:
        keep &= (frame["amount_minor"] >= _amount_bound(frame, flt.min_amount, "ROUND_CEILING")).to_numpy()
    if flt.max_amount is not None:
        keep &= (frame["amount_minor"] <= _amount_bound(frame, flt.max_amount, "ROUND_FLOOR")).to_numpy()
    return frame[keep]


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
) -> pd.DataFrame:
    """Filter a frame from :func:`tracker.load_data` (dates inclusive; categories and tags case-insensitive).

    ``tag_mode="any"`` keeps rows with at least one of ``tags``; ``"all"`` rows that have all of them.
    ``text`` is searched, case-insensitively, in the note and the category.
    """
    flt = Filter.build(start, end, categories, tags, tag_mode, type, text, min_amount, max_amount)
    return apply_filter(frame, flt)
