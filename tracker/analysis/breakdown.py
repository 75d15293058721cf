"""Where the money went: by category, by tag, the largest expenses, and the categories that grew most."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd

from tracker.analysis.kpi import percent_change
from tracker.analysis.period import Period
from tracker.analysis.prepared import Prepared, prepare
from tracker.rows import grouped

Kind = Literal["expense", "income"]

PERCENT_DECIMALS = 1
"""Shares are shown in percent with one decimal (``Decimal("12.5")``)."""
NO_TAG = "(no tag)"
"""Label of the row for transactions without any tag (a real tag cannot contain a space)."""
OTHER = "Other"
"""Label of the row that :func:`collapse_other` folds the smallest rows into."""

LARGEST_COLUMNS = ("id", "date", "category", "amount_minor", "tags", "note")


def largest_remainder(values: Sequence[int], units: int = 100 * 10**PERCENT_DECIMALS) -> list[int]:
    """Split ``units`` in proportion to ``values`` so that the parts add up to exactly ``units``.

    Each part is its exact quota rounded down; the units still missing go to the largest remainders
    (ties: the larger value, then the earlier one). All zeros (or no values) give all zeros.
    Integer arithmetic throughout, so the result is exact for any size of amounts.
    """
    total = sum(values)
    if total <= 0:
        return [0] * len(values)
    parts = [v * units // total for v in values]
    rests = [v * units % total for v in values]
    missing = units - sum(parts)
    for i in sorted(range(len(values)), key=lambda i: (-rests[i], -values[i], i))[:missing]:
        parts[i] += 1
    return parts


def _percents(values: Sequence[int]) -> list[Decimal]:
    return [Decimal(p).scaleb(-PERCENT_DECIMALS) for p in largest_remainder(values)]


def _table(
    key: str, names: Sequence[str], sums: Sequence[int] | np.ndarray, counts: Sequence[int] | np.ndarray
) -> pd.DataFrame:
    """Rows sorted by amount (largest first, then name), with percents that add up to exactly 100."""
    order = sorted(range(len(names)), key=lambda i: (-int(sums[i]), names[i].casefold(), names[i]))
    amounts = [int(sums[i]) for i in order]
    return pd.DataFrame(
        {
            key: pd.Series([names[i] for i in order], dtype="string"),
            "amount_minor": pd.Series(amounts, dtype="int64"),
            "count": pd.Series([int(counts[i]) for i in order], dtype="int64"),
            "percent": pd.Series(_percents(amounts), dtype="object"),
        }
    )


def _kind_mask(prep: Prepared, kind: Kind) -> np.ndarray:
    return prep.expense if kind == "expense" else ~prep.expense


def _grouped(prep: Prepared, rows: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Category names with the sum and count of the selected rows (exact int64 sums)."""
    idx = np.flatnonzero(rows)
    if idx.size == 0:
        return [], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    names, sums, counts = grouped(prep.cols, prep.cols.category, rows)
    return [str(n) for n in names], sums, counts


def _by_category(prep: Prepared, period: Period, kind: Kind = "expense") -> pd.DataFrame:
    names, sums, counts = _grouped(prep, prep.rows(period) & _kind_mask(prep, kind))
    return _table("category", names, sums, counts)


def by_category(frame: pd.DataFrame, period: Period, currency: str, kind: Kind = "expense") -> pd.DataFrame:
    """Expenses (or income) of ``period`` per category.

    Returns:
        A frame with ``category`` (string), ``amount_minor`` (int64), ``count`` (int64) and ``percent``
        (``Decimal`` with one decimal, largest-remainder rounded so the column adds up to exactly 100.0),
        largest amount first. Empty (same columns) when there is nothing to show.
    """
    return _by_category(prepare(frame, currency), period, kind)


def _by_tag(prep: Prepared, period: Period, kind: Kind = "expense", untagged: str | None = NO_TAG) -> pd.DataFrame:
    idx = np.flatnonzero(prep.rows(period) & _kind_mask(prep, kind))
    tag_lists = prep.frame["tags"].iloc[idx].tolist()
    lengths = np.fromiter(map(len, tag_lists), dtype=np.int64, count=len(tag_lists))
    flat = list(itertools.chain.from_iterable(tag_lists))
    names: list[str] = []
    sums = np.zeros(0, dtype=np.int64)
    counts = np.zeros(0, dtype=np.int64)
    if flat:
        spelled_codes, spellings = pd.factorize(pd.Series(flat, dtype=object))
        # Tags are compared case-insensitively (as the filters do); the first spelling seen names the row.
        folded_codes, _ = pd.factorize(pd.Series([str(s).casefold() for s in spellings], dtype=object))
        codes = folded_codes[spelled_codes]
        n = int(codes.max()) + 1
        first = np.full(n, len(codes), dtype=np.int64)
        np.minimum.at(first, codes, np.arange(len(codes)))
        names = [str(flat[i]) for i in first]
        sums = np.zeros(n, dtype=np.int64)
        np.add.at(sums, codes, np.repeat(prep.amount[idx], lengths))
        counts = np.bincount(codes, minlength=n)
    none = lengths == 0
    if untagged is not None and none.any():
        names.append(untagged)
        sums = np.append(sums, prep.amount[idx][none].sum(dtype=np.int64))
        counts = np.append(counts, np.count_nonzero(none))
    return _table("tag", names, sums, counts)


def by_tag(
    frame: pd.DataFrame, period: Period, currency: str, kind: Kind = "expense", untagged: str | None = NO_TAG
) -> pd.DataFrame:
    """Expenses (or income) of ``period`` per tag.

    A transaction with several tags counts in full under **each** of its tags, so the amounts add up
    to more than the total spending when transactions carry more than one tag; ``percent`` is the
    share of the sum of the rows (it adds up to exactly 100.0). Tags are grouped case-insensitively.
    Transactions without tags form one row labelled ``untagged`` (default ``"(no tag)"``; pass
    ``None`` to leave them out).

    Returns:
        A frame with ``tag``, ``amount_minor``, ``count`` and ``percent``, as :func:`by_category`.
    """
    return _by_tag(prepare(frame, currency), period, kind, untagged)


def collapse_other(table: pd.DataFrame, max_rows: int, label: str = OTHER) -> pd.DataFrame:
    """Keep the ``max_rows - 1`` largest rows of a :func:`by_category`/:func:`by_tag` table, fold the rest into one.

    The folded row is called ``label`` (merged into an existing row of that name) and comes last;
    percents are recomputed so they still add up to exactly 100.0.
    """
    if len(table) <= max(max_rows, 1):
        return table
    key = str(table.columns[0])
    keep = max(max_rows - 1, 0)
    head, rest = table.iloc[:keep], table.iloc[keep:]
    names = [str(n) for n in head[key]]
    sums = [int(v) for v in head["amount_minor"]]
    counts = [int(v) for v in head["count"]]
    extra_sum, extra_count = int(rest["amount_minor"].sum()), int(rest["count"].sum())
    if label in names:
        at = names.index(label)
        sums[at] += extra_sum
        counts[at] += extra_count
    else:
        names.append(label)
        sums.append(extra_sum)
        counts.append(extra_count)
    return pd.DataFrame(
        {
            key: pd.Series(names, dtype="string"),
            "amount_minor": pd.Series(sums, dtype="int64"),
            "count": pd.Series(counts, dtype="int64"),
            "percent": pd.Series(_percents(sums), dtype="object"),
        }
    )


def _largest_expenses(prep: Prepared, period: Period, n: int = 10) -> pd.DataFrame:
    idx = np.flatnonzero(prep.rows(period) & prep.expense)
    # Largest amount first; among equal amounts the most recent; then the frame's order (lexsort is stable).
    order = np.lexsort((-prep.day[idx], -prep.amount[idx]))[: max(n, 0)]
    columns = [prep.frame.columns.get_loc(name) for name in LARGEST_COLUMNS]
    out = prep.frame.iloc[idx[order], columns].reset_index(drop=True)
    out["amount_minor"] = pd.Series(prep.amount[idx[order]], dtype="int64")  # in the currency shown (converted)
    return out


def largest_expenses(frame: pd.DataFrame, period: Period, currency: str, n: int = 10) -> pd.DataFrame:
    """The ``n`` largest expenses of ``period``: columns ``id, date, category, amount_minor, tags, note``."""
    return _largest_expenses(prepare(frame, currency), period, n)


GROWTH_COLUMNS = ("category", "current", "previous", "change", "percent")


def _category_growth(prep: Prepared, period: Period, n: int = 5) -> pd.DataFrame:
    now_names, now_sums, _ = _grouped(prep, prep.rows(period) & prep.expense)
    old_names, old_sums, _ = _grouped(prep, prep.rows(period.previous()) & prep.expense)
    now = dict(zip(now_names, (int(v) for v in now_sums), strict=True))
    old = dict(zip(old_names, (int(v) for v in old_sums), strict=True))
    grown = [(c, now[c], old.get(c, 0)) for c in now if now[c] > old.get(c, 0)]
    grown.sort(key=lambda r: (-(r[1] - r[2]), r[0].casefold(), r[0]))
    grown = grown[: max(n, 0)]
    return pd.DataFrame(
        {
            "category": pd.Series([r[0] for r in grown], dtype="string"),
            "current": pd.Series([r[1] for r in grown], dtype="int64"),
            "previous": pd.Series([r[2] for r in grown], dtype="int64"),
            "change": pd.Series([r[1] - r[2] for r in grown], dtype="int64"),
            "percent": pd.Series([percent_change(r[1], r[2]) for r in grown], dtype="Float64"),
        }
    )


def category_growth(frame: pd.DataFrame, period: Period, currency: str, n: int = 5) -> pd.DataFrame:
    """The ``n`` categories whose spending grew most against the previous period of equal length.

    Only categories that grew are listed, the largest absolute growth first.

    Returns:
        A frame with ``category``, ``current``, ``previous`` and ``change`` (int64 minor units) and
        ``percent`` (nullable ``Float64``: ``<NA>`` when the category had no spending before).
    """
    return _category_growth(prepare(frame, currency), period, n)
