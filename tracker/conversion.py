"""Money of several currencies shown in one: the reporting currency, the ledger's rates (stored ones and those a
purchase abroad shows), rows converted, and what was left out for want of a rate.

:mod:`tracker.rates` owns the rates and the arithmetic; this module applies them to the ledger's rows. Amounts
of different currencies are never added without conversion, and a row without a usable rate is never given a
default one: it is left out and counted (:class:`LeftOut`), so every screen can say how many rows of which
currency lack a rate and how to add one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from tracker.rows import Converted, Rows

if TYPE_CHECKING:
    from tracker.ledger import Ledger
    from tracker.rates import RateBook


def reporting_currency(ledger: Ledger) -> str:
    """The currency totals, budgets' overview, reports and net worth are shown in (Settings; default: the
    default currency)."""
    return ledger.settings.get("reporting_currency") or ledger.default_currency


def rate_book(ledger: Ledger) -> RateBook:
    """The ledger's stored rates plus, where no rate is stored for that day and pair, the rate every transaction
    with an original amount shows (``original_currency`` -> its own currency)."""
    from tracker.filters import Filter
    from tracker.rates import RATES, observed_rate

    book = RATES.read(ledger)
    rows, _ = ledger.rows_where(Filter())
    cols = rows.cols
    given = list(itertools.compress(range(len(cols["original_currency"])), cols["original_currency"]))
    if not given:
        return book
    return book.plus(
        (
            dt.date(1970, 1, 1) + dt.timedelta(days=cols["date"][i]),
            cols["original_currency"][i],
            cols["currency"][i],
            observed_rate(
                cols["amount_minor"][i],
                cols["currency"][i],
                cols["original_amount_minor"][i],
                cols["original_currency"][i],
            ),
        )
        for i in given
    )


@dataclasses.dataclass(frozen=True)
class LeftOut:
    """Rows that could not be converted (no rate on or before their day), and rows converted with a stale rate
    (more than :data:`tracker.rates.STALE_AFTER` days older than the row), per currency."""

    target: str
    missing: Mapping[str, int] = dataclasses.field(default_factory=dict)
    stale: Mapping[str, int] = dataclasses.field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.missing or self.stale)

    def messages(self) -> list[str]:
        """One sentence per currency, what the dashboard, summary and report say."""
        from tracker.rates import STALE_AFTER, how_to_add

        out = []
        for code, n in sorted(self.missing.items()):
            out.append(
                f"{n} transaction{'s' if n != 1 else ''} in {code} {'have' if n != 1 else 'has'} no exchange rate to "
                f"{self.target} and {'are' if n != 1 else 'is'} left out: {how_to_add(code, self.target)}."
            )
        for code, n in sorted(self.stale.items()):
            out.append(
                f"{n} transaction{'s' if n != 1 else ''} in {code} {'were' if n != 1 else 'was'} converted with a rate "
                f"more than {STALE_AFTER} days old: {how_to_add(code, self.target)}."
            )
        return out

    def to_json(self) -> dict[str, dict[str, int]]:
        """``{"unconverted": {"GBP": 3}, "stale": {...}}``."""
        return {"unconverted": dict(sorted(self.missing.items())), "stale": dict(sorted(self.stale.items()))}


def convert_rows(rows: Rows, target: str, book: RateBook) -> Converted:
    """``rows`` with every amount in ``target``: rows in ``target`` unchanged, others at the rate of their day or
    the latest earlier one (inverse or through a third currency where only those exist), each rounded half-even
    to the target's minor unit. Rows without a rate are marked, never converted at a default rate."""
    from tracker.rates import convert

    done = convert(rows.amount, rows.currency, rows.day, target, book)
    return Converted(rows, done.minor, done.usable, target, done.stale)


def left_out(converted: Converted, mask: np.ndarray | None = None) -> LeftOut:
    """Of the rows in ``mask`` (default all), per currency: those without a rate, and those with a stale one."""
    counted = np.ones(len(converted), dtype=bool) if mask is None else mask
    base = converted.base
    return LeftOut(
        converted.target,
        _per_currency(base, ~converted.usable & counted),
        _per_currency(base, converted.stale & counted),
    )


def _per_currency(rows: Rows, mask: np.ndarray) -> dict[str, int]:
    currency = rows.currency
    counts = np.bincount(currency.codes[mask], minlength=len(currency.values))
    return {str(currency.values[i]): int(counts[i]) for i in np.flatnonzero(counts).tolist()}


def net_worth_in(ledger: Ledger, target: str, days: list[dt.date], book: RateBook) -> tuple[list[int], dict[str, int]]:
    """Net worth at the end of each of ``days`` in ``target``: each currency's net worth that day
    (:func:`tracker.accounts.net_worth_over_time`) converted at that day's rate and rounded, then added.
    Returns the values and, per currency left out for want of a rate, on how many of the days."""
    from tracker.accounts import net_worth_over_time
    from tracker.rates import convert
    from tracker.storage.columns import day_number

    per = net_worth_over_time(ledger, days)
    if not per or not days:
        return [0] * len(days), {}
    codes = list(per)
    amounts = np.array([v for code in codes for v in per[code]], dtype=np.int64)
    day_numbers = np.array([day_number(d) for d in days] * len(codes), dtype=np.int64)
    done = convert(amounts, [code for code in codes for _ in days], day_numbers, target, book)
    usable = done.usable | (amounts == 0)  # nothing to convert: no rate needed
    values = np.where(usable, done.minor, 0).reshape(len(codes), len(days)).sum(axis=0, dtype=np.int64)
    gaps = (~usable).reshape(len(codes), len(days)).sum(axis=1)
    return [int(v) for v in values], {code: int(n) for code, n in zip(codes, gaps.tolist(), strict=True) if n}
