"""The columns the analysis works on, pulled out of a transactions frame once as numpy arrays."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tracker.analysis.period import Period, day_number
from tracker.rows import Converted, FrameRows, Rows

if TYPE_CHECKING:
    from tracker.conversion import LeftOut
    from tracker.rates import RateBook


@dataclasses.dataclass(frozen=True, eq=False)
class Prepared:
    """A transactions frame with its hot columns as numpy arrays, for one currency.

    Every array has one entry per row of ``frame`` (no copy of the frame is made); ``mine`` marks the
    rows in ``currency``. Build it with :func:`prepare`.
    """

    frame: pd.DataFrame
    currency: str
    cols: Rows
    """The frame's columns as the filter and the totals read them (:mod:`tracker.rows`); converted into
    ``currency`` (:class:`tracker.rows.Converted`) when :func:`prepare` was given rates."""
    day: np.ndarray
    """int64 days since 1970-01-01."""
    amount: np.ndarray
    """int64 amount in minor units, always positive."""
    expense: np.ndarray
    """bool: the row is an expense (else income)."""
    mine: np.ndarray
    """bool: the row is in ``currency``."""

    def in_period(self, period: Period) -> np.ndarray:
        """bool mask of the rows dated inside ``period`` (any currency)."""
        return (self.day >= day_number(period.start)) & (self.day <= day_number(period.end))

    def rows(self, period: Period) -> np.ndarray:
        """bool mask of the rows in ``currency`` dated inside ``period``."""
        return self.mine & self.in_period(period)

    def before(self, period: Period) -> np.ndarray:
        """bool mask of the rows in ``currency`` dated before ``period`` starts."""
        return self.mine & (self.day < day_number(period.start))

    def excluded(self, period: Period) -> int:
        """How many rows inside ``period`` are in another currency (or, converted, have no rate): left out."""
        return int(np.count_nonzero(~self.mine & self.in_period(period)))

    def left_out(self, period: Period) -> LeftOut:
        """Per currency, the rows of ``period`` left out for want of a rate and those converted with a stale one."""
        from tracker.conversion import LeftOut, left_out

        if not isinstance(self.cols, Converted):
            return LeftOut(self.currency)
        return left_out(self.cols, self.in_period(period))


def prepare(frame: pd.DataFrame, currency: str, book: RateBook | None = None) -> Prepared:
    """Pull the date, amount, type and currency columns out of ``frame`` once (vectorised).

    With ``book`` every row is converted into ``currency`` (:func:`tracker.conversion.convert_rows`): the rows
    without a rate are left out like rows of another currency are without it.
    """
    cols: Rows = FrameRows(frame)
    if len(frame) == 0:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_b = np.zeros(0, dtype=bool)
        return Prepared(frame, currency, cols, empty_i, empty_i, empty_b, empty_b)
    if book is not None:
        from tracker.conversion import convert_rows

        cols = convert_rows(cols, currency, book)
    return Prepared(frame, currency, cols, cols.day, cols.amount, cols.expense, cols.in_currency(currency))


def currencies(frame: pd.DataFrame) -> list[str]:
    """The currencies used in ``frame``, most transactions first (ties by code)."""
    if len(frame) == 0:
        return []
    counts = frame["currency"].value_counts()
    return sorted((str(code) for code in counts.index), key=lambda code: (-int(counts[code]), code))


def choose_currency(frame: pd.DataFrame, preferred: str) -> str:
    """``preferred`` if ``frame`` has any row in it (or no rows at all), else its most used currency."""
    used = currencies(frame)
    return preferred if not used or preferred in used else used[0]
