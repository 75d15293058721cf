"""The columns that the filter and the totals read, as numpy arrays, over stored columns or a frame.

:func:`tracker.filters.filter_mask` and the sums here (:func:`sums`, :func:`grouped`) work on a
:class:`Rows`, so the fast CLI (``list``, ``summary``: no pandas, no DataFrame) and the DataFrame API
(``filter_data``, the app, the reports, ``tracker.analysis``) run one filter and one set of totals.

A :class:`Rows` is built from the snapshot's column encoding (:class:`StoredRows`, see
:mod:`tracker.storage.columns`) or from a transactions frame (:class:`FrameRows`); each column is
converted the first time it is read. This module never imports pandas (only :class:`FrameRows`' columns
come from a frame that the caller already has).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from tracker.storage.columns import TAG_SEPARATOR

if TYPE_CHECKING:
    import pandas as pd

Line = tuple[str, int, tuple[str, ...], str]
"""One line of a split transaction as the rows read it: (category, amount in minor units, its own tags, note)."""
Split = list[tuple[int, list[Line]]]
"""``(row, its lines)`` of every split transaction, in row order."""


LINES_ATTR = "lines"
"""``frame.attrs`` key set on a frame of lines (:func:`tracker.frame.lines_frame`)."""


@dataclasses.dataclass(frozen=True, eq=False)
class Coded:
    """A column as codes into its distinct values: row ``i`` holds ``values[codes[i]]``."""

    codes: np.ndarray
    """intp, one per row."""
    values: list[Any]
    """The distinct values, in order of first appearance."""

    def where(self, test: Callable[[Any], bool]) -> np.ndarray:
        """bool per row: ``test`` of its value, evaluated once per distinct value."""
        hits = np.fromiter((bool(test(v)) for v in self.values), dtype=bool, count=len(self.values))
        return hits[self.codes]

    def code_of(self, value: Any) -> int | None:
        """The code of ``value``, ``None`` when no row holds it."""
        try:
            return self.values.index(value)
        except ValueError:
            return None


def coded(values: Sequence[Any]) -> Coded:
    """Codes of a column of hashable values, by first appearance (a dict pass in C: no pandas)."""
    index = {v: i for i, v in enumerate(dict.fromkeys(values))}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.intp, count=len(values))
    return Coded(codes, list(index))


class Rows:
    """The hot columns of some transactions, in their order. Build a :class:`StoredRows` or a :class:`FrameRows`."""

    def __len__(self) -> int:
        return len(self.amount)

    def split_rows(self) -> Split:
        """``(row, lines)`` of every split transaction, in row order."""
        raise NotImplementedError

    def lines(self) -> Rows:
        """One row per line (:class:`LineRows`): what totals by category count. ``self`` when nothing is split.

        Built once per :class:`Rows`."""
        found = self.__dict__.get("_lines")
        if found is None:
            split = self.split_rows()
            found = self.__dict__["_lines"] = LineRows(self, split) if split else self
        return found

    @property
    def parent(self) -> np.ndarray:
        """intp per row: the transaction (row of the rows :meth:`lines` was called on) it belongs to."""
        return np.arange(len(self), dtype=np.intp)

    def transactions_in(self, mask: np.ndarray) -> int:
        """How many transactions the rows of ``mask`` belong to (a split one counts once, however many lines)."""
        return int(np.count_nonzero(mask))

    @cached_property
    def day(self) -> np.ndarray:
        """int64 days since 1970-01-01."""
        raise NotImplementedError

    @cached_property
    def amount(self) -> np.ndarray:
        """int64 amount in minor units, always positive."""
        raise NotImplementedError

    @cached_property
    def type(self) -> Coded:
        """``"income"`` or ``"expense"``."""
        raise NotImplementedError

    @cached_property
    def currency(self) -> Coded:
        """ISO 4217 codes."""
        raise NotImplementedError

    @cached_property
    def category(self) -> Coded:
        """Categories (a frame passed in may hold a missing value: anything that is not ``str``)."""
        raise NotImplementedError

    @cached_property
    def account(self) -> Coded:
        """Account names."""
        raise NotImplementedError

    @cached_property
    def tags(self) -> Coded:
        """Tags, each row's as a tuple of ``str``."""
        raise NotImplementedError

    def note_contains(self, needle: str) -> np.ndarray:
        """bool per row: whether the note, case-folded, contains ``needle`` (already case-folded)."""
        raise NotImplementedError

    @cached_property
    def direction(self) -> Coded:
        """A transfer's side (``"out"``, ``"in"``), ``""`` for income and expenses."""
        raise NotImplementedError

    @cached_property
    def cleared(self) -> np.ndarray:
        """bool: marked cleared."""
        raise NotImplementedError

    @cached_property
    def reconciled(self) -> np.ndarray:
        """bool: reconciled."""
        raise NotImplementedError

    @cached_property
    def signed(self) -> np.ndarray:
        """int64: what each row adds to its account's balance (income and transfers in positive)."""
        arriving = self.income | self.direction.where(lambda d: isinstance(d, str) and d == "in")
        return np.where(arriving, self.amount, -self.amount)

    @cached_property
    def expense(self) -> np.ndarray:
        """bool: the row is an expense (else income)."""
        return self.type.where(lambda t: isinstance(t, str) and t == "expense")

    @cached_property
    def income(self) -> np.ndarray:
        """bool: the row is income."""
        return self.type.where(lambda t: isinstance(t, str) and t == "income")

    def in_currency(self, currency: str) -> np.ndarray:
        """bool: the row is in ``currency``."""
        return self.currency.where(lambda c: isinstance(c, str) and c == currency)


class StoredRows(Rows):
    """Rows over snapshot columns (:mod:`tracker.storage.columns`): lists as ``json`` parsed them."""

    def __init__(self, cols: Mapping[str, Sequence[Any]]) -> None:
        self.cols = cols

    def split_rows(self) -> Split:
        stored = self.cols["splits"]
        return [
            (i, [(c, m, tuple(t.split(TAG_SEPARATOR)) if t else (), n) for c, m, t, n in stored[i]])
            for i in itertools.compress(range(len(stored)), stored)
        ]

    @cached_property
    def day(self) -> np.ndarray:
        return np.array(self.cols["date"], dtype=np.int64)

    @cached_property
    def amount(self) -> np.ndarray:
        return np.array(self.cols["amount_minor"], dtype=np.int64)

    @cached_property
    def type(self) -> Coded:
        return coded(self.cols["type"])

    @cached_property
    def currency(self) -> Coded:
        return coded(self.cols["currency"])

    @cached_property
    def category(self) -> Coded:
        return coded(self.cols["category"])

    @cached_property
    def account(self) -> Coded:
        return coded(self.cols["account"])

    @cached_property
    def tags(self) -> Coded:
        joined = coded(self.cols["tags"])
        return Coded(joined.codes, [tuple(t.split(TAG_SEPARATOR)) if t else () for t in joined.values])

    def note_contains(self, needle: str) -> np.ndarray:
        notes = self.cols["note"]
        return np.fromiter((needle in n.casefold() for n in notes), dtype=bool, count=len(notes))

    @cached_property
    def direction(self) -> Coded:
        return coded(self.cols["direction"])

    @cached_property
    def cleared(self) -> np.ndarray:
        return np.array(self.cols["cleared"], dtype=bool)

    @cached_property
    def reconciled(self) -> np.ndarray:
        return np.array(self.cols["reconciled"], dtype=bool)


class FrameRows(Rows):
    """Rows over a transactions frame (:data:`tracker.frame.COLUMNS`), without copying it."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def transactions_in(self, mask: np.ndarray) -> int:
        if not self.frame.attrs.get(LINES_ATTR):
            return int(np.count_nonzero(mask))
        return int(self.frame["id"][mask].nunique())  # a lines frame: a split transaction's lines share its id

    def split_rows(self) -> Split:
        stored = self.frame["splits"].to_numpy(dtype=object)
        return [
            (i, [(ln.category, ln.amount_minor, ln.tags, ln.note) for ln in stored[i]])
            for i in itertools.compress(range(len(stored)), stored)
        ]

    def _coded(self, name: str) -> Coded:
        import pandas as pd

        codes, values = pd.factorize(self.frame[name], use_na_sentinel=False)
        return Coded(np.asarray(codes, dtype=np.intp), list(values))

    @cached_property
    def day(self) -> np.ndarray:
        return self.frame["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)

    @cached_property
    def amount(self) -> np.ndarray:
        return self.frame["amount_minor"].to_numpy(dtype=np.int64)

    @cached_property
    def type(self) -> Coded:
        return self._coded("type")

    @cached_property
    def currency(self) -> Coded:
        return self._coded("currency")

    @cached_property
    def category(self) -> Coded:
        return self._coded("category")

    @cached_property
    def account(self) -> Coded:
        return self._coded("account")

    @cached_property
    def tags(self) -> Coded:
        found = self._coded("tags")
        return Coded(found.codes, [tuple(t) if isinstance(t, tuple | list) else () for t in found.values])

    def note_contains(self, needle: str) -> np.ndarray:
        notes = self.frame["note"].str.casefold().str.contains(needle, regex=False)
        return notes.to_numpy(dtype=bool, na_value=False)

    @cached_property
    def direction(self) -> Coded:
        return self._coded("direction")

    @cached_property
    def cleared(self) -> np.ndarray:
        return self.frame["cleared"].to_numpy(dtype=bool)

    @cached_property
    def reconciled(self) -> np.ndarray:
        return self.frame["reconciled"].to_numpy(dtype=bool)


def with_tags(own: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    """A split line's tags: its own (``extra``) with its transaction's (``own``), sorted, folded case-insensitively."""
    if not extra:
        return own
    return tuple(sorted({t.casefold(): t for t in (*extra, *own)}.values(), key=str.casefold))


class LineRows(Rows):
    """One row per line of some transactions: a split transaction's lines in its place, each with its own
    category, amount, tags (its own and the transaction's) and note; the other columns are the transaction's.

    Build it with :meth:`Rows.lines`. ``parent`` maps each line to its transaction's row; ``at`` are the
    positions of the split transactions' lines, in order, and ``items`` those lines.
    """

    def __init__(self, base: Rows, split: Split) -> None:
        self.base = base
        n = len(base)
        counts = np.ones(n, dtype=np.intp)
        rows = np.fromiter((i for i, _ in split), dtype=np.intp, count=len(split))
        sizes = np.fromiter((len(lines) for _, lines in split), dtype=np.intp, count=len(split))
        counts[rows] = sizes
        self._parent = np.repeat(np.arange(n, dtype=np.intp), counts)
        starts = (np.cumsum(counts) - counts)[rows]
        self.items: list[Line] = [line for _, lines in split for line in lines]
        self.at = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(len(self.items), dtype=np.intp)

    def split_rows(self) -> Split:
        return []

    def lines(self) -> Rows:
        return self

    @property
    def parent(self) -> np.ndarray:
        return self._parent

    def transactions_in(self, mask: np.ndarray) -> int:
        return int(np.unique(self._parent[mask]).size)

    def _spread(self, column: Coded) -> Coded:
        return Coded(column.codes[self._parent], column.values)

    def _line_coded(self, column: Coded, values_of: list[Any]) -> Coded:
        """``column`` spread over the lines, the split lines holding ``values_of`` (one per line of :attr:`items`)."""
        found = coded(values_of)
        codes = column.codes[self._parent]
        index = {v: i for i, v in enumerate(column.values)}
        values = list(column.values)
        remap = np.empty(len(found.values), dtype=np.intp)
        for k, value in enumerate(found.values):
            code = index.get(value)
            if code is None:
                code = index[value] = len(values)
                values.append(value)
            remap[k] = code
        codes[self.at] = remap[found.codes]
        return Coded(codes, values)

    @cached_property
    def day(self) -> np.ndarray:
        return self.base.day[self._parent]

    @cached_property
    def amount(self) -> np.ndarray:
        amount = self.base.amount[self._parent]
        amount[self.at] = np.fromiter((line[1] for line in self.items), dtype=np.int64, count=len(self.items))
        return amount

    @cached_property
    def type(self) -> Coded:
        return self._spread(self.base.type)

    @cached_property
    def currency(self) -> Coded:
        return self._spread(self.base.currency)

    @cached_property
    def category(self) -> Coded:
        return self._line_coded(self.base.category, [line[0] for line in self.items])

    @cached_property
    def account(self) -> Coded:
        return self._spread(self.base.account)

    @cached_property
    def tags(self) -> Coded:
        own = self.base.tags
        parents = own.codes[self._parent[self.at]].tolist()
        joined = [with_tags(own.values[p], line[2]) for line, p in zip(self.items, parents, strict=True)]
        return self._line_coded(own, joined)

    def note_contains(self, needle: str) -> np.ndarray:
        hits = self.base.note_contains(needle)[self._parent]
        own = np.fromiter((needle in line[3].casefold() for line in self.items), dtype=bool, count=len(self.items))
        hits[self.at] |= own
        return hits

    @cached_property
    def direction(self) -> Coded:
        return self._spread(self.base.direction)

    @cached_property
    def cleared(self) -> np.ndarray:
        return self.base.cleared[self._parent]

    @cached_property
    def reconciled(self) -> np.ndarray:
        return self.base.reconciled[self._parent]


class Converted(Rows):
    """Rows with their amounts in one currency (:func:`tracker.conversion.convert_rows`): ``currency`` is the
    target on every usable row and ``""`` on the rows left out (no rate), whose amount is 0."""

    def __init__(self, base: Rows, amount: np.ndarray, usable: np.ndarray, target: str, stale: np.ndarray) -> None:
        self.base = base
        self._amount = amount
        self.usable = usable
        """bool: in the target currency, or a rate was found."""
        self.stale = stale
        """bool: converted with a rate more than :data:`tracker.rates.STALE_AFTER` days older than the row."""
        self.target = target

    def split_rows(self) -> Split:
        return []  # converted after the lines were taken

    def transactions_in(self, mask: np.ndarray) -> int:
        return self.base.transactions_in(mask)

    @cached_property
    def day(self) -> np.ndarray:
        return self.base.day

    @cached_property
    def amount(self) -> np.ndarray:
        return self._amount

    @cached_property
    def type(self) -> Coded:
        return self.base.type

    @cached_property
    def currency(self) -> Coded:
        return Coded(np.where(self.usable, 0, 1).astype(np.intp), [self.target, ""])

    @cached_property
    def category(self) -> Coded:
        return self.base.category

    @cached_property
    def account(self) -> Coded:
        return self.base.account

    @cached_property
    def tags(self) -> Coded:
        return self.base.tags

    def note_contains(self, needle: str) -> np.ndarray:
        return self.base.note_contains(needle)

    @cached_property
    def direction(self) -> Coded:
        return self.base.direction

    @cached_property
    def cleared(self) -> np.ndarray:
        return self.base.cleared

    @cached_property
    def reconciled(self) -> np.ndarray:
        return self.base.reconciled


@dataclasses.dataclass(frozen=True, slots=True)
class Sums:
    """Income, expenses (positive) and the number of transactions, in minor units of one currency."""

    income: int
    expenses: int
    count: int


def sums(rows: Rows, mask: np.ndarray) -> Sums:
    """The totals of the rows in ``mask`` (exact int64 sums; pick rows of one currency first)."""
    return Sums(
        income=int(rows.amount[mask & rows.income].sum(dtype=np.int64)),
        expenses=int(rows.amount[mask & rows.expense].sum(dtype=np.int64)),
        count=rows.transactions_in(mask),
    )


def grouped(rows: Rows, column: Coded, mask: np.ndarray) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """The values of ``column`` in the rows of ``mask``, with the sum of their amounts and their count.

    Exact int64 sums; values in order of first appearance; values with no row in ``mask`` left out.
    """
    idx = np.flatnonzero(mask)
    found = np.zeros(len(column.values), dtype=np.int64)
    np.add.at(found, column.codes[idx], rows.amount[idx])
    counts = np.bincount(column.codes[idx], minlength=len(column.values))
    used = np.flatnonzero(counts)
    return [column.values[i] for i in used.tolist()], found[used], counts[used]
