"""Exchange rates: exact decimals by day and currency pair, looked up, and amounts converted with them.

A rate ``(day, base, quote, rate)`` says that on ``day`` one unit of ``base`` is ``rate`` units of ``quote``.
Rates are a feature of the ledger meta (key ``"rates"``, :data:`RATES`), entered by hand (:func:`add_rate`)
or read from a rates file (:func:`import_rates`: the European Central Bank's history CSV or a plain
``date,base,quote,rate`` CSV), each change one undoable commit.

**Stored form.** ``{"EUR/USD": SERIES, ...}``: one string per pair, so a cold load parses a few long
strings (30 years of daily rates for 30 currencies are about 1.7 MB) and a pair is decoded only when a
lookup needs it. ``SERIES`` is ``FIRST|GAPS|RATES``: ``FIRST`` the first day as whole days since
1970-01-01; ``GAPS`` the days from each entry to the next, one digit each (``1`` to ``9``), a longer gap in
parentheses (``(45)``); ``RATES`` the rates, comma-separated, as canonical decimal text (``1.0823``:
no exponent, no trailing zeros). ``"EUR/USD": "19727|13|1.0956,1.0919,1.0953"`` holds 2024-01-05 (day
19727), 2024-01-06 and 2024-01-09. A later sync merges per (pair, day) entry: decode both pair strings
(:meth:`RateBook.entries`), merge, store again (:meth:`RateBook.with_rates`).

**Lookup** (:meth:`RateBook.rate`): the rate of that day or the latest earlier one, directly, as the
inverse of the other direction, or through one common currency (GBP->USD from EUR->GBP and EUR->USD), each
leg at its latest day. The freshest route wins (its "as of" day: a triangulated rate's is its older leg's);
on the same day direct beats inverse beats triangulated, so a rate typed once never hides years of fresher
file rates. Inverses and products are rounded half-even to 34 significant digits.

**Conversion** (:func:`convert`): amounts in minor units, each row rounded half-even to the target's minor
unit from its exact product with the rate. Lookups are per distinct (currency, day); the rows are multiplied
in numpy floats where a proven error bound shows the rounding is the exact one, and in integers (base 10^8
limbs, or Python ints for a few rows) where a row is near a half or too large for a float: no Decimal per row.
There is never a default rate: a row with no rate on or before its day is reported missing, not guessed.

numpy is imported where it is used, never at the top: the meta features load this module.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.errors import NotFoundError, ValidationError
from tracker.features import MetaFeature
from tracker.model import MAX_DATE, MIN_DATE, clean_date
from tracker.money import CURRENCY_EXPONENTS, normalize_currency

if TYPE_CHECKING:
    import numpy as np

    from tracker.ledger import Ledger
    from tracker.rows import Coded

META_KEY = "rates"
PRECISION = 34
"""Significant digits of an inverse, a product and an observed rate (IEEE decimal128)."""
CONTEXT = Context(prec=PRECISION, rounding=ROUND_HALF_EVEN)
STALE_AFTER = 31
"""A rate more than this many days older than the row it converts is stale."""
RETIRED_CURRENCIES = frozenset({"CYP", "EEK", "HRK", "LTL", "LVL", "MTL", "ROL", "SIT", "SKK", "TRL"})
"""Withdrawn ISO 4217 codes whose columns the ECB history still has: skipped (no transaction can be in them)."""

Pair = tuple[str, str]
"""``(base, quote)``."""

_EPOCH = dt.date(1970, 1, 1).toordinal()
_NONE = -(2**62)
"""The "as of" day of a route with no rate (below every real day, still safe to subtract from)."""
_RATE_TEXT = re.compile(r"(?:[1-9]\d*(?:\.\d*[1-9])?|0\.\d*[1-9])")
"""A rate's canonical text: positive, plain decimal, no leading or trailing zeros."""
_TYPED_RATE = re.compile(r"\d+(?:\.\d+)?")
_PAIR_KEY = re.compile(r"([A-Z]{3})/([A-Z]{3})")
_GAPS = re.compile(r"(?:[1-9]|\([1-9]\d+\))*")
_GAP = re.compile(r"([1-9])|\(([1-9]\d+)\)")
_TEN34 = 10**PRECISION


def _day(number: int) -> dt.date:
    """The date of a day number (days since 1970-01-01)."""
    return dt.date.fromordinal(number + _EPOCH)


def _number(day: dt.date) -> int:
    """The day number of a date."""
    return day.toordinal() - _EPOCH


# -- one rate --------------------------------------------------------------------------------------------


def rate_text(value: Decimal) -> str:
    """The canonical text of a positive rate: ``Decimal("1.0800")`` -> ``"1.08"``, ``Decimal("1E+2")`` -> ``"100"``."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def clean_rate(value: object, field: str = "rate") -> Decimal:
    """A rate from text (``"1.0823"``: digits and a decimal point) or a ``Decimal``: positive, exact, canonical.

    Floats and booleans are refused (they cannot carry an exact rate), as are zero, negatives, more than
    34 significant digits, and rates beyond 10^-20..10^20 (a typo, not a currency).
    """
    if isinstance(value, str):
        if not _TYPED_RATE.fullmatch(value.strip()):
            raise ValidationError(field, value, "is not a rate; write it like 1.0823 (a point before the decimals)")
        number = Decimal(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    else:
        raise ValidationError(field, value, "must be given as text or Decimal, not a float")
    if not number.is_finite() or number <= 0:
        raise ValidationError(field, value, "must be a number greater than zero")
    number = number.normalize(Context(prec=len(number.as_tuple().digits) + 1))
    if len(number.as_tuple().digits) > PRECISION:
        raise ValidationError(field, value, f"has more than {PRECISION} significant digits")
    if not -20 <= number.adjusted() < 20:
        raise ValidationError(field, value, "is not a plausible exchange rate")
    return Decimal(rate_text(number))


def clean_pair(base: object, quote: object) -> Pair:
    """``(base, quote)`` as ISO codes; the same currency twice is refused."""
    pair = normalize_currency(base), normalize_currency(quote)
    if pair[0] == pair[1]:
        raise ValidationError("quote", quote, "is the base currency (a rate is between two currencies)")
    return pair


@dataclasses.dataclass(frozen=True)
class Rate:
    """On ``day``, one ``base`` is ``rate`` ``quote``."""

    day: dt.date
    base: str
    quote: str
    rate: Decimal

    @classmethod
    def make(cls, day: object, base: object, quote: object, rate: object) -> Rate:
        """A validated rate (the date as ``YYYY-MM-DD`` text or a ``date``; see :func:`clean_rate`)."""
        pair = clean_pair(base, quote)
        return cls(clean_date(day), pair[0], pair[1], clean_rate(rate))

    @property
    def pair(self) -> Pair:
        return self.base, self.quote

    def to_json(self) -> dict[str, str]:
        return {"date": self.day.isoformat(), "base": self.base, "quote": self.quote, "rate": rate_text(self.rate)}


@dataclasses.dataclass(frozen=True)
class FoundRate:
    """What a lookup found: ``rate`` as of ``day`` (the older leg's for a triangulated rate), and how.

    ``route`` is ``"direct"``, ``"inverse"`` (1 / the other direction's rate), ``"via EUR"`` (through EUR)
    or ``"same"`` (a currency into itself).
    """

    rate: Decimal
    day: dt.date
    route: str


# -- the stored series of one pair -------------------------------------------------------------------------


def _damaged(key: str, problem: str) -> ValidationError:
    return ValidationError("rates", key, f"is damaged in the ledger ({problem}); undo the change or restore a backup")


def encode_series(entries: Mapping[int, str]) -> str:
    """``{day number: canonical rate text}`` (not empty) as the stored string of one pair."""
    days = sorted(entries)
    gaps = [b - a for a, b in itertools.pairwise(days)]
    steps = (
        "".join(map(str, gaps)) if not gaps or max(gaps) < 10 else "".join(str(g) if g < 10 else f"({g})" for g in gaps)
    )
    return f"{days[0]}|{steps}|{','.join(map(entries.__getitem__, days))}"


class _Series:
    """One pair's rates, decoded: ``days`` (int64, ascending) and each day's rate text; parsed when used."""

    def __init__(self, key: str, days: np.ndarray, texts: list[str]) -> None:
        self.key = key
        self.days = days
        self.texts = texts
        self._numbers: tuple[Any, np.ndarray, np.ndarray] | None = None

    @classmethod
    def decode(cls, key: str, text: str) -> _Series:
        """A stored string (``FIRST|GAPS|RATES``) decoded and checked; a damaged one is a ``ValidationError``."""
        import numpy as np

        parts = text.split("|")
        if len(parts) != 3:
            raise _damaged(key, "not a FIRST|GAPS|RATES string")
        first, gaps, rates = parts
        try:
            start = int(first)
        except ValueError:
            raise _damaged(key, "the first day is not a number") from None
        if "(" in gaps:  # a long gap: typed rates, not a daily file
            if not _GAPS.fullmatch(gaps):
                raise _damaged(key, "a gap between days is not a number")
            steps = np.array([int(a or b) for a, b in _GAP.findall(gaps)], dtype=np.int64)
        else:
            steps = np.frombuffer(gaps.encode("ascii", "replace"), dtype=np.uint8).astype(np.int64) - 48
            if steps.size and not ((steps >= 1) & (steps <= 9)).all():
                raise _damaged(key, "a gap between days is not a digit 1-9")
        texts = rates.split(",")
        if len(texts) != len(steps) + 1:
            raise _damaged(key, f"{len(texts)} rates for {len(steps) + 1} days")
        days = np.empty(len(texts), dtype=np.int64)
        days[0] = start
        np.cumsum(steps, out=days[1:])
        days[1:] += start
        if not (_number(MIN_DATE) <= start and int(days[-1]) <= _number(MAX_DATE)):
            raise _damaged(key, "a day is outside 1900-2199")
        return cls(key, days, texts)

    @classmethod
    def of(cls, key: str, entries: Mapping[int, str]) -> _Series:
        """The series of ``{day number: rate text}``."""
        import numpy as np

        days = sorted(entries)
        return cls(key, np.array(days, dtype=np.int64), [entries[d] for d in days])

    def entries(self) -> dict[int, str]:
        """``{day number: rate text}``."""
        return dict(zip(self.days.tolist(), self.texts, strict=True))

    def _parse(self) -> tuple[Any, np.ndarray, np.ndarray]:
        """Every rate as mantissas (int64, or Python ints past 17 digits), exponents (digits after the point)
        and floats, in one pass over the bytes of the texts; checked to be positive plain decimals."""
        import numpy as np

        if self._numbers is not None:
            return self._numbers
        raw = np.frombuffer(",".join(self.texts).encode("ascii", "replace"), dtype=np.uint8)
        count = len(self.texts)
        comma, dot = raw == 44, raw == 46
        digit = (raw >= 48) & (raw <= 57)
        segment = np.cumsum(comma)
        digits = np.bincount(segment[digit], minlength=count)
        if (
            not (comma | dot | digit).all()
            or not digits.all()
            or (np.bincount(segment[dot], minlength=count) > 1).any()
        ):
            raise _damaged(self.key, "a rate is not a number")
        through, seen, dots = np.cumsum(digits), np.cumsum(digit), np.flatnonzero(dot)
        exponents = np.zeros(count, dtype=np.int64)
        exponents[segment[dots]] = through[segment[dots]] - seen[dots]
        mantissas: Any
        if digits.max() <= 17:  # each mantissa fits int64: sum the digits times their powers of ten
            values = np.where(digit, (raw.astype(np.int64) - 48) * np.power(10, through[segment] - seen), 0)
            mantissas = np.add.reduceat(values, np.concatenate(([0], np.flatnonzero(comma) + 1)))
            floats = mantissas / 10.0**exponents  # at most two roundings
        else:
            mantissas = [int(t.replace(".", "")) for t in self.texts]
            floats = np.array([m / 10 ** int(e) for m, e in zip(mantissas, exponents.tolist(), strict=True)])
        positive = all(m > 0 for m in mantissas) if isinstance(mantissas, list) else bool((mantissas > 0).all())
        if not positive:
            raise _damaged(self.key, "a rate is not greater than zero")
        self._numbers = (mantissas, exponents, floats)
        return self._numbers

    def parsed(self, i: int) -> tuple[int, int]:
        """Entry ``i``'s rate as ``(mantissa, exponent)``: the rate is ``mantissa * 10**exponent``."""
        mantissas, exponents, _ = self._parse()
        return int(mantissas[i]), -int(exponents[i])

    def floats(self, positions: np.ndarray) -> np.ndarray:
        """The rates of entries ``positions`` as floats, within two roundings of the exact rates."""
        return self._parse()[2][positions]

    def decimal(self, i: int) -> Decimal:
        """Entry ``i``'s rate."""
        mantissa, exponent = self.parsed(i)
        return Decimal(f"{mantissa}E{exponent}") if exponent else Decimal(mantissa)


def _load(raw: object) -> RateBook:
    """The stored value -> a book; checks the pairs and the shape of each string (the rest when decoded)."""
    if raw is None:
        return RateBook()
    if not isinstance(raw, dict):
        raise ValidationError("rates", raw, "is not a mapping of currency pairs to rates")
    stored: dict[Pair, str] = {}
    for key, text in raw.items():
        match = _PAIR_KEY.fullmatch(key) if isinstance(key, str) else None
        if match is None or match[1] not in CURRENCY_EXPONENTS or match[2] not in CURRENCY_EXPONENTS:
            raise _damaged(str(key), "not a pair of ISO codes such as EUR/USD")
        if match[1] == match[2]:
            raise _damaged(key, "a currency paired with itself")
        if not isinstance(text, str) or text.count("|") != 2:
            raise _damaged(key, "not a FIRST|GAPS|RATES string")
        stored[match[1], match[2]] = text
    return RateBook(stored)


def _dump(book: RateBook) -> dict[str, str] | None:
    """The stored rates (observations are never stored), ``None`` when there are none."""
    return {f"{b}/{q}": book.stored[b, q] for b, q in sorted(book.stored)} or None


# -- the book -------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class RateBook:
    """Every rate, by pair: ``stored`` (the encoded strings) and ``observed`` (:meth:`plus`), decoded lazily.

    Immutable: the methods that change rates return a new book. Equal books hold the same rates.
    """

    stored: Mapping[Pair, str] = dataclasses.field(default_factory=dict)
    observed: Mapping[Pair, Mapping[int, str]] = dataclasses.field(default_factory=dict)
    _series: dict[Pair, _Series | None] = dataclasses.field(default_factory=dict, init=False, repr=False)
    _factors: dict[tuple[Any, ...], tuple[int, int]] = dataclasses.field(default_factory=dict, init=False, repr=False)

    def __bool__(self) -> bool:
        return bool(self.stored or self.observed)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RateBook):
            return NotImplemented
        return self.stored == other.stored and self.observed == other.observed

    __hash__ = None  # type: ignore[assignment]

    # -- reading ---------------------------------------------------------------------------------------

    def pairs(self) -> list[Pair]:
        """Every pair with a rate, sorted."""
        return sorted({*self.stored, *self.observed})

    def series(self, pair: Pair) -> _Series | None:
        """One pair's rates (stored, then the observations on days without a stored rate either way), or ``None``."""
        if pair in self._series:
            return self._series[pair]
        key = f"{pair[0]}/{pair[1]}"
        text = self.stored.get(pair)
        found = _Series.decode(key, text) if text is not None else None
        extra = self.observed.get(pair)
        if extra:
            entries = found.entries() if found is not None else {}
            reverse = self.stored.get((pair[1], pair[0]))
            blocked = set(entries) | (set(_Series.decode(key, reverse).days.tolist()) if reverse else set())
            entries.update((d, t) for d, t in extra.items() if d not in blocked)
            found = _Series.of(key, entries) if entries else None
        self._series[pair] = found
        return found

    def entries(self, base: str | None = None, quote: str | None = None) -> list[Rate]:
        """The rates (of ``base`` and/or ``quote`` only), by pair then day: the unit a sync merges."""
        out: list[Rate] = []
        for pair in self.pairs():
            if (base is None or pair[0] == base) and (quote is None or pair[1] == quote):
                found = self.series(pair)
                if found is not None:
                    out += [
                        Rate(_day(d), pair[0], pair[1], found.decimal(i)) for i, d in enumerate(found.days.tolist())
                    ]
        return out

    def get(self, day: dt.date, base: str, quote: str) -> Decimal | None:
        """The rate of exactly that day and pair (stored or observed), or ``None``."""
        found = self.series((base, quote))
        if found is None:
            return None
        import numpy as np

        i = int(np.searchsorted(found.days, _number(day)))
        return found.decimal(i) if i < len(found.days) and found.days[i] == _number(day) else None

    # -- changing ---------------------------------------------------------------------------------------

    def with_rates(self, rates: Iterable[Rate]) -> RateBook:
        """A book with ``rates`` stored (a rate for a stored day and pair replaces it; later ones win)."""
        changed: dict[Pair, dict[int, str]] = {}
        for r in rates:
            entries = changed.get(r.pair)
            if entries is None:
                entries = changed[r.pair] = self.stored_entries(r.pair)
            entries[_number(r.day)] = rate_text(r.rate)
        return self.replaced(changed)

    def without(self, day: dt.date, base: str, quote: str) -> RateBook:
        """A book without the stored rate of that day and pair (``NotFoundError`` when there is none)."""
        entries = self.stored_entries((base, quote))
        if entries.pop(_number(day), None) is None:
            raise NotFoundError("rate", f"{day.isoformat()} {base} {quote}", "is not a stored rate")
        return self.replaced({(base, quote): entries})

    def stored_entries(self, pair: Pair) -> dict[int, str]:
        """The stored rates of one pair (no observations), ``{day number: rate text}``."""
        text = self.stored.get(pair)
        if text is None:
            return {}
        if self.observed.get(pair):
            return _Series.decode(f"{pair[0]}/{pair[1]}", text).entries()
        found = self.series(pair)
        return found.entries() if found is not None else {}

    def replaced(self, changed: Mapping[Pair, Mapping[int, str]]) -> RateBook:
        """A book whose stored rates of each pair in ``changed`` are those (``{day number: rate text}``; empty
        removes the pair)."""
        stored = dict(self.stored)
        for pair, entries in changed.items():
            if entries:
                stored[pair] = encode_series(entries)
            else:
                stored.pop(pair, None)
        return RateBook(stored, self.observed)

    def plus(self, observations: Iterable[tuple[dt.date, str, str, Decimal]]) -> RateBook:
        """A book with rates observed in transactions ``(day, base, quote, rate)`` added where no stored rate
        exists for that day and pair (in either direction): stored, typed and file rates win. The first
        observation of a day and pair counts."""
        observed = {pair: dict(entries) for pair, entries in self.observed.items()}
        low, high = MIN_DATE, MAX_DATE
        for day, base, quote, rate in observations:
            if (  # the usual, well-formed observation: checked without the cleaning functions
                type(day) is dt.date
                and low <= day <= high
                and base != quote
                and base in CURRENCY_EXPONENTS
                and quote in CURRENCY_EXPONENTS
                and type(rate) is Decimal
                and rate.is_finite()
                and rate > 0
                and -20 <= rate.adjusted() < 20
            ):
                entries = observed.setdefault((base, quote), {})
                if day.toordinal() - _EPOCH not in entries:
                    entries[day.toordinal() - _EPOCH] = rate_text(rate)
                continue
            pair = clean_pair(base, quote)
            observed.setdefault(pair, {}).setdefault(_number(clean_date(day)), rate_text(clean_rate(rate)))
        return RateBook(self.stored, observed)

    # -- lookup -----------------------------------------------------------------------------------------

    def rate(self, base: str, quote: str, day: dt.date) -> FoundRate | None:
        """The rate of ``day`` or the latest earlier one (direct, inverse or through one currency), or ``None``."""
        import numpy as np

        base, quote = normalize_currency(base), normalize_currency(quote)
        day = clean_date(day)
        if base == quote:
            return FoundRate(Decimal(1), day, "same")
        found = self._resolve(base, quote, np.array([_number(day)], dtype=np.int64))
        if not found.has[0]:
            return None
        mantissa, exponent = found.exact(0)
        value = Decimal(rate_text(Decimal(f"{mantissa}E{exponent}")))  # exact: the digits convert() uses
        return FoundRate(value, _day(int(found.asof[0])), found.routes[found.best[0]].name)

    def _links(self, code: str) -> set[str]:
        return {b if q == code else q for b, q in {*self.stored, *self.observed} if code in (b, q)}

    def _routes(self, base: str, quote: str) -> list[_Route]:
        """The ways from ``base`` to ``quote``, in order of preference on the same day."""
        routes = []
        direct, inverse = self.series((base, quote)), self.series((quote, base))
        if direct is not None:
            routes.append(_Route((base, quote), "direct", ((direct, None),)))
        if inverse is not None:
            routes.append(_Route((base, quote), "inverse", ((None, inverse),)))
        for via in sorted((self._links(base) & self._links(quote)) - {base, quote}):
            first = (self.series((base, via)), self.series((via, base)))
            second = (self.series((via, quote)), self.series((quote, via)))
            routes.append(_Route((base, quote), f"via {via}", (first, second)))
        return routes

    def _resolve(self, base: str, quote: str, days: np.ndarray) -> _Resolved:
        """The best route from ``base`` to ``quote`` on each of ``days`` (day numbers): the freshest, then the
        first in :meth:`_routes`' order."""
        import numpy as np

        routes = self._routes(base, quote)
        if not routes:
            return _Resolved(self, [], np.zeros(len(days), dtype=np.intp), np.full(len(days), _NONE), [])
        found = [route.evaluate(days) for route in routes]
        every = np.vstack([asof for asof, _ in found])
        best = every.argmax(axis=0)
        return _Resolved(self, routes, best, every[best, np.arange(len(days))], [legs for _, legs in found])

    def _exact(self, route: _Route, picks: tuple[tuple[int, int], ...]) -> tuple[int, int]:
        """The rate of ``route`` through the entries ``picks`` (``(entry, 1 if the leg is inverse)`` per leg), as
        ``(mantissa, exponent)``: a stored rate exactly, an inverse or a product rounded to 34 digits."""
        key = (*route.pair, route.name, picks)
        found = self._factors.get(key)
        if found is None:
            numerator, denominator, exponent = 1, 1, 0
            for (direct, inverse), (pos, inv) in zip(route.legs, picks, strict=True):
                series = inverse if inv else direct
                assert series is not None
                mantissa, exp = series.parsed(pos)
                if inv:
                    denominator *= mantissa
                    exponent -= exp
                else:
                    numerator *= mantissa
                    exponent += exp
            if denominator == 1 and len(picks) == 1:
                found = (numerator, exponent)
            else:
                q, k = divide(numerator, denominator)
                found = (q, k + exponent)
            self._factors[key] = found
        return found


class _Route:
    """A way from one currency to another: one leg (direct or inverse) or two through a third currency.

    Each leg is ``(series from->to, series to->from)``; either may be ``None``. A leg takes the fresher of the
    two on each day (direct on a tie).
    """

    def __init__(self, pair: Pair, name: str, legs: tuple[tuple[_Series | None, _Series | None], ...]) -> None:
        self.pair = pair
        self.name = name
        self.legs = legs

    def evaluate(self, days: np.ndarray) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """The route's "as of" day on each of ``days`` (``_NONE``: no rate; the older leg's) and, per leg, the
        entry it takes and whether from the inverse series (1)."""
        import numpy as np

        asof = np.full(len(days), 2**62, dtype=np.int64)
        legs = []
        for leg in self.legs:
            best = np.full(len(days), _NONE, dtype=np.int64)
            pos = np.zeros(len(days), dtype=np.int64)
            inverse = np.zeros(len(days), dtype=np.int64)
            for flag, series in enumerate(leg):
                if series is None:
                    continue
                at = np.searchsorted(series.days, days, side="right") - 1
                day = np.where(at >= 0, series.days[np.maximum(at, 0)], _NONE)
                better = day > best
                best = np.where(better, day, best)
                pos = np.where(better, at, pos)
                inverse = np.where(better, flag, inverse)
            asof = np.minimum(asof, best)
            legs.append((pos, inverse))
        return asof, legs


class _Resolved:
    """The best route on each of some days: its index in ``routes``, its "as of" day, and each leg's choice."""

    def __init__(
        self,
        book: RateBook,
        routes: list[_Route],
        best: np.ndarray,
        asof: np.ndarray,
        legs: list[list[tuple[np.ndarray, np.ndarray]]],
    ) -> None:
        self.book = book
        self.routes = routes
        self.best = best
        self.asof = asof
        self.legs = legs
        self.has = asof > _NONE

    def exact(self, i: int) -> tuple[int, int]:
        """Day ``i``'s rate as ``(mantissa, exponent)``."""
        return self.exact_many([i])[0]

    def exact_many(self, days: list[int]) -> list[tuple[int, int]]:
        """The rates of days ``days`` as ``(mantissa, exponent)``; direct rates read from their entries at once."""
        import numpy as np

        picked = np.asarray(days, dtype=np.intp)
        best = self.best[picked]
        out: list[tuple[int, int]] = [(0, 0)] * len(days)
        for b, route in enumerate(self.routes):
            chosen = np.flatnonzero(best == b)
            if not chosen.size:
                continue
            at = picked[chosen]
            direct = route.legs[0][0]
            if len(route.legs) == 1 and direct is not None:
                mantissas, exponents, _ = direct._parse()
                pos = self.legs[b][0][0][at]
                found = mantissas[pos].tolist() if isinstance(mantissas, np.ndarray) else [mantissas[i] for i in pos]
                for j, m, e in zip(chosen.tolist(), found, (-exponents[pos]).tolist(), strict=True):
                    out[j] = (m, e)
                continue
            legs = [(pos[at].tolist(), inv[at].tolist()) for pos, inv in self.legs[b]]
            for k, j in enumerate(chosen.tolist()):
                out[j] = self.book._exact(route, tuple((pos[k], inv[k]) for pos, inv in legs))
        return out

    def floats(self) -> np.ndarray:
        """Each day's rate as a float (NaN: none), within a few roundings (2**-53 each) of the exact rate."""
        import numpy as np

        out = np.full(len(self.asof), np.nan)
        for b, route in enumerate(self.routes):
            chosen = np.flatnonzero(self.has & (self.best == b))
            if not chosen.size:
                continue
            value = np.ones(len(chosen))
            for (direct, inverse), (pos, inv) in zip(route.legs, self.legs[b], strict=True):
                at, flip = pos[chosen], inv[chosen].astype(bool)
                leg = np.empty(len(chosen))
                if direct is not None:
                    leg[~flip] = direct.floats(at[~flip])
                if inverse is not None:
                    leg[flip] = 1.0 / inverse.floats(at[flip])
                value *= leg
            out[chosen] = value
        return out


def divide(numerator: int, denominator: int) -> tuple[int, int]:
    """``numerator / denominator`` (both positive) rounded half-even to 34 significant digits, as ``(q, k)``:
    the value ``q * 10**k``. The same digits as ``CONTEXT.divide`` of the two, in integer arithmetic."""
    shift = PRECISION - len(str(numerator)) + len(str(denominator))
    while True:
        if shift >= 0:
            den = denominator
            q, r = divmod(numerator * 10**shift, den)
        else:
            den = denominator * 10**-shift
            q, r = divmod(numerator, den)
        if q < _TEN34:
            break
        shift -= 1
    twice = 2 * r
    if twice > den or (twice == den and q & 1):
        q += 1
    return q, -shift


def observed_rate(amount_minor: int, currency: str, original_minor: int, original_currency: str) -> Decimal:
    """The rate a transaction shows: one ``original_currency`` unit was this many ``currency`` units.

    The exact quotient of the two major amounts, rounded to 34 significant digits. For a row booked as
    ``amount_minor`` in the account's ``currency`` and paid ``original_minor`` in ``original_currency``.
    """
    known = currency in CURRENCY_EXPONENTS and original_currency in CURRENCY_EXPONENTS
    paid, booked = (
        (original_currency, currency)
        if known and currency != original_currency
        else clean_pair(original_currency, currency)
    )
    if not amount_minor or not original_minor:
        raise ValidationError("amount", 0, "must not be zero to give a rate")
    quotient = CONTEXT.divide(Decimal(abs(amount_minor)), Decimal(abs(original_minor)))  # then the decimal point:
    return quotient.scaleb(CURRENCY_EXPONENTS[paid] - CURRENCY_EXPONENTS[booked], CONTEXT)  # exact, 34 digits


def how_to_add(currency: str, target: str) -> str:
    """The one line of advice shown where a rate is missing."""
    return (
        f"add a rate with `expense-tracker rates add DATE {currency} {target} RATE` or import a rates file, "
        "or in the app: Settings → Exchange rates"
    )


def pair_summary(book: RateBook) -> list[dict[str, Any]]:
    """The stored rates of each pair in one line, by pair: ``{"base": "EUR", "quote": "USD", "first": date,
    "last": date, "count": 3, "latest": "1.0953"}`` (the rate of the last day). Observed rates are not stored:
    left out."""
    out = []
    for pair in sorted(book.stored):
        entries = book.stored_entries(pair)
        if entries:
            first, last = min(entries), max(entries)
            out.append(
                {
                    "base": pair[0],
                    "quote": pair[1],
                    "first": _day(first),
                    "last": _day(last),
                    "count": len(entries),
                    "latest": entries[last],
                }
            )
    return out


# -- conversion ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Conversion:
    """Rows converted into one currency.

    Attributes:
        minor: int64, each row in the target's minor units (rounded half-even), 0 where not usable.
        usable: bool, the row was in the target currency or a rate was found.
        stale: bool, converted with a rate more than ``stale_after`` days older than the row.
        missing: currency -> rows with no rate on or before their day.
        stale_counts: currency -> rows converted with a stale rate.
    """

    minor: np.ndarray
    usable: np.ndarray
    stale: np.ndarray
    missing: dict[str, int]
    stale_counts: dict[str, int]


def convert(
    amounts: np.ndarray,
    currencies: Sequence[str] | Coded,
    days: np.ndarray,
    target: str,
    book: RateBook,
    stale_after: int = STALE_AFTER,
) -> Conversion:
    """Convert each row (``amounts`` int64 minor units, signed; its currency; its day as days since 1970-01-01)
    into ``target``, with the rate of its day or the latest earlier one. Rows in ``target`` pass unchanged.

    The lookups are per distinct (currency, day). Each row is rounded half-even from its exact product with the
    rate: in float arithmetic where the error bound proves the rounding (almost always), else in integers.
    """
    import numpy as np

    from tracker.rows import Coded, coded

    target = normalize_currency(target)
    amounts = np.asarray(amounts, dtype=np.int64)
    days = np.asarray(days, dtype=np.int64)
    column = currencies if isinstance(currencies, Coded) else coded(list(currencies))
    if not len(amounts) == len(days) == len(column.codes):
        raise ValidationError("rows", len(amounts), "need one currency and one day per amount")
    minor = np.zeros(len(amounts), dtype=np.int64)
    usable = np.zeros(len(amounts), dtype=bool)
    stale = np.zeros(len(amounts), dtype=bool)
    missing: dict[str, int] = {}
    stale_counts: dict[str, int] = {}
    for value, rows in _groups(column):
        code = value if isinstance(value, str) else ""
        if code == target:
            minor[rows] = amounts[rows]
            usable[rows] = True
            continue
        if code not in CURRENCY_EXPONENTS:  # not a currency (a missing value in a frame): no rate converts it
            missing[str(value)] = missing.get(str(value), 0) + len(rows)
            continue
        distinct, at = _distinct(days[rows])
        found = book._resolve(code, target, distinct)
        has = found.has[at]
        if not has.all():
            missing[code] = missing.get(code, 0) + int(np.count_nonzero(~has))
        if not has.any():
            continue
        hit, hit_at = rows[has], at[has]
        shift = CURRENCY_EXPONENTS[target] - CURRENCY_EXPONENTS[code]
        minor[hit] = _rounded(amounts[hit], found, hit_at, shift)
        usable[hit] = True
        old = hit[days[hit] - found.asof[hit_at] > stale_after]
        if old.size:
            stale[old] = True
            stale_counts[code] = stale_counts.get(code, 0) + len(old)
    return Conversion(minor, usable, stale, missing, stale_counts)


def _groups(column: Coded) -> Iterator[tuple[Any, np.ndarray]]:
    """Each value of ``column`` that some row holds, with those rows (ascending)."""
    import numpy as np

    if len(column.values) <= 8:  # a few currencies: one comparison each beats a sort
        for i, value in enumerate(column.values):
            rows = np.flatnonzero(column.codes == i)
            if rows.size:
                yield value, rows
        return
    order = np.argsort(column.codes, kind="stable")
    bounds = np.searchsorted(column.codes[order], np.arange(len(column.values) + 1))
    for i, value in enumerate(column.values):
        if bounds[i] < bounds[i + 1]:
            yield value, order[bounds[i] : bounds[i + 1]]


def _distinct(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct days (sorted) and each row's index among them: by counting when the range is short."""
    import numpy as np

    low, high = int(days.min()), int(days.max())
    if high - low > 4 * len(days) + 1024:
        distinct, at = np.unique(days, return_inverse=True)
        return distinct, at.reshape(-1)
    present = np.zeros(high - low + 1, dtype=bool)
    present[days - low] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, rank[days - low]


_TOLERANCE = 2.0**-48
"""A bound on the relative error of a row's float product, with room: at most 11 roundings of 2**-53 each (two
to read each leg's rate, one to invert each, one for the legs' product, two for the power of ten, two for the
amount), about 1.2e-15 against 3.6e-15 here."""
_FEW = 256
"""Up to this many rows are rounded exactly one by one; more go through :func:`_multiply`."""


def _rounded(amounts: np.ndarray, found: _Resolved, at: np.ndarray, shift: int) -> np.ndarray:
    """``amounts[i]`` times day ``at[i]``'s rate times ``10**shift``, rounded half-even to a whole number, exactly.

    The float product is within ``_TOLERANCE`` (relative) of the exact one, so where its fraction is further
    than that from one half, its rounding is the exact one; the few rows closer (ties, and products too large
    for a float's 53 bits) are computed from the exact rate in integers.
    """
    import numpy as np

    approx = np.abs(amounts.astype(np.float64)) * (found.floats()[at] * 10.0**shift)
    huge = ~(approx < 2.0**62)  # near or beyond int64: the integers decide (and refuse beyond it)
    whole = np.floor(np.where(huge, 0.0, approx))
    fraction = approx - whole
    result = (whole + (fraction > 0.5)).astype(np.int64)
    result = np.where(amounts < 0, -result, result)
    unsure = np.flatnonzero(huge | (np.abs(fraction - 0.5) <= approx * _TOLERANCE))
    if unsure.size:
        days, which = np.unique(at[unsure], return_inverse=True)
        factors = [(m, e + shift) for m, e in found.exact_many(days.tolist())]
        if len(unsure) > _FEW:
            result[unsure] = _multiply(amounts[unsure], which.reshape(-1), factors)
        else:
            picked = amounts[unsure].tolist()
            result[unsure] = [_exactly(a, *factors[w]) for a, w in zip(picked, which.tolist(), strict=True)]
    return result


def _exactly(amount: int, mantissa: int, exponent: int) -> int:
    """``amount * mantissa * 10**exponent`` rounded half-even to a whole number (Python integers)."""
    product = abs(amount) * mantissa
    if exponent >= 0:
        value = product * 10**exponent
    else:
        den = 10**-exponent
        value, rest = divmod(product, den)
        if 2 * rest > den or (2 * rest == den and value & 1):
            value += 1
    if value >= 2**63:
        raise ValidationError("amount", amount, "is too large to convert")
    return -value if amount < 0 else value


_LIMB = 10**8


def _multiply(amounts: np.ndarray, which: np.ndarray, factors: list[tuple[int, int]]) -> np.ndarray:
    """``amounts[i] * factor[which[i]]`` rounded half-even to a whole number, exactly (factors as (mantissa, exp)).

    Every factor is written as an integer over one common ``10**scale`` (a multiple of 8 digits) and split
    into base 10^8 limbs, as are the amounts (below 10^16); the schoolbook product of limbs never leaves int64.
    """
    import numpy as np

    used, which = np.unique(which, return_inverse=True)
    which = which.reshape(-1)
    chosen = [factors[i] for i in used.tolist()]
    scale = max(0, *(-e for _, e in chosen))
    scale += -scale % 8
    texts = [str(m * 10 ** (scale + e)) for m, e in chosen]
    width = max(scale + 8, *map(len, texts))  # at least one limb above the point
    width += -width % 8
    digits = np.frombuffer("".join(t.rjust(width, "0") for t in texts).encode("ascii"), dtype=np.uint8)
    grouped = (digits.reshape(len(texts), width // 8, 8).astype(np.int64) - 48) @ (10 ** np.arange(7, -1, -1))
    limbs = grouped[:, ::-1][which]  # little-endian, one row per amount
    if amounts.min() <= -(10**16) or amounts.max() >= 10**16:
        raise ValidationError("amount", int(np.abs(amounts).max()), "is too large to convert")
    magnitude = np.abs(amounts)
    low, high = magnitude % _LIMB, magnitude // _LIMB
    count = limbs.shape[1]
    product = np.empty((len(amounts), count + 2), dtype=np.int64)
    carry = np.zeros(len(amounts), dtype=np.int64)
    for c in range(count + 2):
        column = carry
        if c < count:
            column = column + low * limbs[:, c]
        if 1 <= c <= count:
            column = column + high * limbs[:, c - 1]
        product[:, c] = column % _LIMB
        carry = column // _LIMB
    point = scale // 8
    upper = product[:, point:]  # at least 3 limbs (the width above)
    edge = (upper[:, 3:] != 0).any(axis=1) | (upper[:, 2] > 921)  # at or near int64's limit: Python decides
    whole = upper[:, 0] + upper[:, 1] * _LIMB + np.where(edge, 0, upper[:, 2]) * _LIMB**2
    if point:
        top = product[:, point - 1]
        rest = (product[:, : point - 1] != 0).any(axis=1) if point > 1 else np.zeros(len(amounts), dtype=bool)
        half = _LIMB // 2
        whole += (top > half) | ((top == half) & (rest | (whole & 1 == 1)))
    whole = np.where(amounts < 0, -whole, whole)
    for i in np.flatnonzero(edge).tolist():
        whole[i] = _exactly(int(amounts[i]), *chosen[which[i]])
    return whole


# -- rates files -------------------------------------------------------------------------------------------


class RatesFileError(ValidationError):
    """A bad line in a rates file: the message names the field, the value, the file and the line."""

    def __init__(self, field: str, value: object, problem: str, path: Path, line: int) -> None:
        self.path = path
        self.line = line
        super().__init__(field, value, f"{problem} (file {path}, line {line})")


def _file_rate(text: str, field: str, path: Path, line: int) -> str:
    """A rate cell's canonical text, or refuse the file."""
    body = text.strip()
    if len(body) <= 20 and _RATE_TEXT.fullmatch(body):  # already canonical and plausible: most cells
        return body
    try:
        return rate_text(clean_rate(body, field))
    except ValidationError as exc:
        raise RatesFileError(field, text, exc.problem, path, line) from None


def _file_date(text: str, field: str, path: Path, line: int) -> int:
    try:
        return _number(clean_date(text))
    except ValidationError as exc:
        raise RatesFileError(field, text, exc.problem, path, line) from None


def _cells(line: str) -> list[str]:
    """One CSV line's cells (the csv module only for a line with quotes)."""
    return line.split(",") if '"' not in line else next(csv.reader([line]), [])


class _Found:
    """The rates read so far, ``{pair: {day number: rate text}}``; a second, different rate for a day is refused."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rates: dict[Pair, dict[int, str]] = {}
        self.lines: dict[tuple[Pair, int], int] = {}

    def add(self, pair: Pair, day: int, rate: str, line: int) -> None:
        known = self.rates.setdefault(pair, {}).setdefault(day, rate)
        if known != rate:
            first = self.lines.get((pair, day), "?")
            where = f"{pair[0]}/{pair[1]} on {_day(day)} (line {first})"
            raise RatesFileError("rate", rate, f"is a second rate for {where}", self.path, line)
        self.lines.setdefault((pair, day), line)


class RatesLayout:
    """One rates file layout: whether a header is its own, and the rates of the lines under it."""

    name = ""

    def identify(self, header: list[str]) -> bool:
        raise NotImplementedError

    def read(self, header: list[str], lines: list[str], path: Path) -> dict[Pair, dict[int, str]]:
        """``{pair: {day number: rate text}}`` of ``lines`` (the file's lines after the header), refusing the first
        bad one."""
        raise NotImplementedError


_ECB_CELL = r"(?:[1-9]\d*(?:\.\d+)?|0\.\d*[1-9]\d*|N/A)?"
_ECB_LINE = re.compile(rf"\d{{4}}-\d\d-\d\d(?:,{_ECB_CELL})*")
"""A line of positive plain rates (trailing zeros allowed): checked with one match, not cell by cell in Python."""


class EcbHistory(RatesLayout):
    """The ECB's ``eurofxref-hist.csv``: ``Date,USD,JPY,...,`` then a date and 1 EUR in each currency per line;
    ``N/A`` or empty is no rate; a trailing comma on every line (so an unnamed last column)."""

    name = "ECB history"

    def identify(self, header: list[str]) -> bool:
        return bool(header) and header[0].strip().lower() == "date" and "base" not in {h.lower() for h in header}

    def read(self, header: list[str], lines: list[str], path: Path) -> dict[Pair, dict[int, str]]:
        columns: list[tuple[int, str]] = []
        for i, cell in enumerate(header[1:], start=1):
            code = cell.strip().upper()
            if not code or code in RETIRED_CURRENCIES:
                continue
            if code not in CURRENCY_EXPONENTS:
                problem = "is not an ISO 4217 currency code (for example EUR, USD, JPY)"
                raise RatesFileError("currency", cell, problem, path, 1)
            if code == "EUR":
                raise RatesFileError("currency", cell, "is the base currency (the rates are of 1 EUR)", path, 1)
            columns.append((i, code))
        named = max((i for i, _ in columns), default=0)
        found = _Found(path)
        by_column = [(i, found.rates.setdefault(("EUR", code), {})) for i, code in columns]
        dates: dict[int, int] = {}
        for number, line in enumerate(lines, start=2):
            if not line.strip():
                continue
            cells = line.split(",")
            if not (_ECB_LINE.fullmatch(line) and named < len(cells) <= len(header)):
                cells = self._checked(header, named, columns, _cells(line), path, number)
            day = _file_date(cells[0], "Date", path, number)
            if day in dates:  # the same date twice: each rate must agree with the first line's
                found.lines.update(((("EUR", code), day), dates[day]) for _, code in columns)
                for i, code in columns:
                    cell = cells[i].rstrip("0").rstrip(".") if "." in cells[i] else cells[i]
                    if cell and cell != "N/A":
                        found.add(("EUR", code), day, cell, number)
                continue
            dates[day] = number
            for i, entries in by_column:
                cell = cells[i]
                if cell and cell != "N/A":
                    entries[day] = cell.rstrip("0").rstrip(".") if cell[-1] == "0" and "." in cell else cell
        return {pair: entries for pair, entries in found.rates.items() if entries}

    def _checked(
        self, header: list[str], named: int, columns: list[tuple[int, str]], cells: list[str], path: Path, number: int
    ) -> list[str]:
        """A line that is not plain canonical cells, each cell checked (the error names it) and made canonical."""
        if len(cells) <= named or any(c.strip() for c in cells[len(header) :]):
            problem = f"has {len(cells)} cells for {len(header)} columns"
            raise RatesFileError("line", ",".join(cells), problem, path, number)
        out = [cells[0].strip()] + [""] * (len(cells) - 1)
        for i, code in columns:
            cell = cells[i].strip()
            out[i] = cell if cell in ("", "N/A") else _file_rate(cell, code, path, number)
        return out


class PlainRates(RatesLayout):
    """A plain CSV with a header naming ``date``, ``base``, ``quote`` and ``rate`` (any order, other columns left
    alone): one rate a line."""

    name = "plain"
    FIELDS = ("date", "base", "quote", "rate")

    def identify(self, header: list[str]) -> bool:
        return set(self.FIELDS) <= {h.strip().lower() for h in header}

    def read(self, header: list[str], lines: list[str], path: Path) -> dict[Pair, dict[int, str]]:
        names = [h.strip().lower() for h in header]
        at = {field: names.index(field) for field in self.FIELDS}
        found = _Found(path)
        for number, line in enumerate(lines, start=2):
            cells = _cells(line)
            if not any(c.strip() for c in cells):
                continue
            if len(cells) <= max(at.values()):
                problem = f"has {len(cells)} cells for {len(header)} columns"
                raise RatesFileError("line", line, problem, path, number)
            codes = []
            for field in ("base", "quote"):
                try:
                    codes.append(normalize_currency(cells[at[field]]))
                except ValidationError as exc:
                    raise RatesFileError(field, cells[at[field]], exc.problem, path, number) from None
            if codes[0] == codes[1]:
                raise RatesFileError("quote", cells[at["quote"]], "is the base currency", path, number)
            day = _file_date(cells[at["date"]], "date", path, number)
            found.add((codes[0], codes[1]), day, _file_rate(cells[at["rate"]], "rate", path, number), number)
        return found.rates


LAYOUTS: tuple[RatesLayout, ...] = (PlainRates(), EcbHistory())
"""The rates file layouts :func:`read_rates_file` knows, asked in order."""


@dataclasses.dataclass(frozen=True)
class RatesFile:
    """What a rates file holds: ``{pair: {day number: rate text}}`` and its layout."""

    path: Path
    layout: str
    rates: dict[Pair, dict[int, str]]

    def __len__(self) -> int:
        return sum(map(len, self.rates.values()))


def read_rates_file(path: Path | str) -> RatesFile:
    """Every rate of a rates file (:data:`LAYOUTS`), all or nothing: the first bad line refuses the whole file
    (:class:`RatesFileError` names the file, the line and the field). A day and pair given twice with two
    rates is a bad line too."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ValidationError("file", str(path), "does not exist") from None
    except UnicodeDecodeError:
        raise RatesFileError("file", str(path), "is not UTF-8 text", path, 1) from None
    except OSError as exc:
        raise ValidationError("file", str(path), f"cannot be read ({exc.strerror})") from None
    lines = text.splitlines()
    try:
        header = _cells(lines[0]) if lines else []
        layout = next((layout for layout in LAYOUTS if layout.identify(header)), None)
        if layout is None:
            problem = "is not a rates file header (the ECB's Date,USD,JPY,... or date,base,quote,rate)"
            raise RatesFileError("header", ",".join(header), problem, path, 1)
        return RatesFile(path, layout.name, layout.read(header, lines[1:], path))
    except csv.Error as exc:
        raise RatesFileError("line", "", f"is not CSV ({exc})", path, 1) from None


# -- the ledger --------------------------------------------------------------------------------------------------

RATES: MetaFeature[RateBook] = MetaFeature(META_KEY, load=_load, dump=_dump, noun="exchange rate")


def rate_book(ledger: Ledger) -> RateBook:
    """The ledger's rates."""
    return RATES.read(ledger)


def add_rate(ledger: Ledger, day: object, base: object, quote: object, rate: object) -> tuple[Rate, Decimal | None]:
    """Store a rate typed by hand (replacing that day's rate of the pair) as one undoable commit.

    Returns the rate and the one it replaced (``None``: new; equal to it: nothing was written).
    """
    new = Rate.make(day, base, quote, rate)
    with ledger.locked():
        ledger.engine.refresh_locked()
        book = rate_book(ledger)
        before = book.get(new.day, new.base, new.quote)
        if before != new.rate:
            label = f"rate {new.base}/{new.quote} {new.day.isoformat()} {rate_text(new.rate)}"
            RATES.write(ledger, book.with_rates([new]), label)
    return new, before


def delete_rate(ledger: Ledger, day: object, base: object, quote: object) -> Decimal:
    """Remove one stored rate (``NotFoundError`` when there is none); returns it."""
    when = clean_date(day)
    pair = clean_pair(base, quote)
    with ledger.locked():
        ledger.engine.refresh_locked()
        book = rate_book(ledger)
        before = book.get(when, *pair)
        if before is None:
            raise NotFoundError("rate", f"{when.isoformat()} {pair[0]} {pair[1]}", "is not a stored rate")
        RATES.write(ledger, book.without(when, *pair), f"delete rate {pair[0]}/{pair[1]} {when.isoformat()}")
    return before


@dataclasses.dataclass(frozen=True)
class RatesImport:
    """What an import did: rates new to the ledger, replaced (another value that day), already there."""

    path: Path
    layout: str
    added: int
    replaced: int
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "layout": self.layout,
            "added": self.added,
            "replaced": self.replaced,
            "unchanged": self.unchanged,
        }


def import_rates(ledger: Ledger, path: Path | str) -> RatesImport:
    """Store every rate of a rates file as one undoable commit; a bad line refuses the file, nothing is stored.
    A rate for a day and pair already stored replaces it; importing the same file again writes nothing."""
    found = read_rates_file(path)
    with ledger.locked():
        ledger.engine.refresh_locked()
        book = rate_book(ledger)
        added = replaced = unchanged = 0
        changed: dict[Pair, dict[int, str]] = {}
        for pair, entries in found.rates.items():
            current = book.stored_entries(pair)
            same = sum(1 for day, rate in entries.items() if current.get(day) == rate) if current else 0
            new = len(entries.keys() - current.keys()) if current else len(entries)
            added, replaced, unchanged = added + new, replaced + len(entries) - new - same, unchanged + same
            if same < len(entries):
                changed[pair] = {**current, **entries}
        if changed:
            RATES.write(ledger, book.replaced(changed), f"import rates {found.path.name} ({len(found)} rates)")
    return RatesImport(found.path, found.layout, added, replaced, unchanged)
