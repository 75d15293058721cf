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
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from tracker.storage.columns import TAG_SEPARATOR

if TYPE_CHECKING:
    import pandas as pd


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


@dataclasses.dataclass(frozen=True, slots=True)
class Sums:
    """Income, expenses (positive) and the number of rows, in minor units of one currency."""

    income: int
    expenses: int
    count: int


def sums(rows: Rows, mask: np.ndarray) -> Sums:
    """The totals of the rows in ``mask`` (exact int64 sums; pick rows of one currency first)."""
    return Sums(
        income=int(rows.amount[mask & rows.income].sum(dtype=np.int64)),
        expenses=int(rows.amount[mask & rows.expense].sum(dtype=np.int64)),
        count=int(np.count_nonzero(mask)),
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
