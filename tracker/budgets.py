"""Monthly budgets per category: settings in ledger meta ``"budgets"`` and exact status arithmetic.

Settings
    A budget setting is ``(category, amount, currency, month, every_month, rollover)``. A one-month setting
    applies to its month only; an every-month setting applies to its month and every month after it.
    Settings are kept in the order they were made and **the latest applicable setting wins** for a month,
    so "400 every month from January" then "600 in March" gives 600 in March and 400 in the others, and a
    later "500 every month from February" then overrides March too. Deleting works the same way: "no
    budget in June" or "no budget from June on" are settings too (amount ``None``). Categories match
    case-insensitively.

Spent
    The sum of the *expenses* of the category in the month, in the budget's currency (income booked to
    the category, e.g. a refund, does not reduce it; transactions in other currencies are not counted).

Rollover (the choice made here, documented in the README)
    With rollover on for a month, what was left at the end of the previous month (budget - spent, itself
    including that month's carry if it rolled over) is added to this month's budget. **Overspending is
    carried too**: a negative leftover reduces the next month's budget, so over a run of rollover months
    budget - spent always adds up to the sum of the amounts minus the sum of the spending. The chain starts
    afresh after a month without a budget or when the currency changes.

Projection
    For the current month: ``spent / days elapsed (today included) * days in month``, rounded half up to a
    whole minor unit, computed in integers. For past and future months the projection is what is spent.
    ``over`` means spent > budget (left < 0); ``heading_over`` means not over yet but the projection is.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from tracker.errors import NotFoundError, ValidationError
from tracker.features import MetaFeature, NameChange, rename_entries
from tracker.model import clean_category
from tracker.money import Minor, format_plain, normalize_currency, to_decimal, to_minor

if TYPE_CHECKING:
    from tracker.ledger import Ledger
    from tracker.rates import RateBook

META_KEY = "budgets"
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$", re.ASCII)


def parse_month(value: object = None, today: dt.date | None = None) -> dt.date:
    """``"2026-11"`` (or a date, or ``None`` for the current month) -> the first day of that month."""
    if value is None or value == "":
        day = today or dt.date.today()
        return day.replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    if isinstance(value, str):
        match = _MONTH.match(value.strip())
        if match and 1900 <= int(match.group(1)) <= 2199 and 1 <= int(match.group(2)) <= 12:
            return dt.date(int(match.group(1)), int(match.group(2)), 1)
    raise ValidationError("month", value, "is not a month in the form YYYY-MM")


def month_text(month: dt.date) -> str:
    """``2026-11``."""
    return f"{month.year:04d}-{month.month:02d}"


def next_month(month: dt.date) -> dt.date:
    """The first day of the month after ``month``."""
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _month_index(month: dt.date) -> int:
    return month.year * 12 + month.month - 1


def budget_minor(amount: object, currency: str) -> Minor:
    """A budget amount in minor units: like :func:`tracker.money.to_minor`, but zero is allowed."""
    if isinstance(amount, str | int | Decimal) and not isinstance(amount, bool) and to_decimal(amount) == 0:
        return 0
    return to_minor(amount, currency)


@dataclasses.dataclass(frozen=True, slots=True)
class BudgetSetting:
    """One budget setting; ``amount_minor is None`` means "no budget" for the months it covers."""

    category: str
    amount_minor: Minor | None
    currency: str
    month: dt.date
    every_month: bool = False
    rollover: bool = False

    @property
    def key(self) -> str:
        """The case-insensitive category key."""
        return self.category.casefold()

    def applies_to(self, month: dt.date) -> bool:
        """True if this setting covers ``month``."""
        return self.month == month or (self.every_month and self.month <= month)

    def to_meta(self) -> dict[str, Any]:
        """The stored JSON form."""
        return {
            "category": self.category,
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "month": month_text(self.month),
            "every_month": self.every_month,
            "rollover": self.rollover,
        }

    def to_json(self) -> dict[str, Any]:
        """The public JSON form (amount as a decimal string, ``null`` for "no budget")."""
        return {
            "category": self.category,
            "amount": None if self.amount_minor is None else format_plain(self.amount_minor, self.currency),
            "currency": self.currency,
            "month": month_text(self.month),
            "every_month": self.every_month,
            "rollover": self.rollover,
        }


def setting_from_meta(data: Mapping[str, Any]) -> BudgetSetting:
    """Rebuild a setting from its stored form, validating it."""
    try:
        minor = data["amount_minor"]
        if minor is not None and (isinstance(minor, bool) or not isinstance(minor, int) or minor < 0):
            raise ValidationError("amount_minor", minor, "must be a whole number >= 0")
        return BudgetSetting(
            category=clean_category(data["category"]),
            amount_minor=minor,
            currency=normalize_currency(data["currency"]),
            month=parse_month(data["month"]),
            every_month=bool(data.get("every_month", False)),
            rollover=bool(data.get("rollover", False)),
        )
    except KeyError as exc:
        raise ValidationError("budgets", exc.args[0], "is missing from a stored budget") from None


def settings_from_meta(raw: object) -> list[BudgetSetting]:
    """All settings stored under meta ``"budgets"`` (``None`` -> none), in the order they were made."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError("budgets", type(raw).__name__, "must be a list of budget settings in the ledger")
    return [setting_from_meta(item) for item in raw]


def settings_to_meta(settings: Iterable[BudgetSetting]) -> list[dict[str, Any]] | None:
    """The stored form (``None`` when there are no settings, which removes the meta key)."""
    out = [s.to_meta() for s in settings]
    return out or None


def recategorize_settings(settings: Sequence[BudgetSetting], change: NameChange) -> tuple[list[BudgetSetting], int]:
    """The settings with the categories ``change`` folds renamed, and how many settings changed.

    In a merge the target's own budgets win: if the target has settings, the sources' settings are dropped.
    """
    own = any(change.is_target(s.category) for s in settings)
    kept = [s for s in settings if not (own and change.hits(s.category) and not change.is_target(s.category))]
    moved, count = rename_entries(kept, change)
    return moved, count + len(settings) - len(kept)


BUDGETS: MetaFeature[list[BudgetSetting]] = MetaFeature(
    META_KEY,
    load=settings_from_meta,
    dump=settings_to_meta,
    noun="budget setting",
    categories=lambda settings: [s.category for s in settings],
    rename_category=recategorize_settings,
    entry_key=lambda item: f"{str(item['category']).casefold()}|{item.get('month')}|{item.get('currency')}",
)
"""The budget settings' slice of the ledger meta."""


def add_setting(settings: Sequence[BudgetSetting], new: BudgetSetting) -> list[BudgetSetting]:
    """Append ``new`` and drop the older settings of its category that it fully overrides.

    If only "no budget" settings would remain for the category, all of its settings are dropped.
    """
    kept = []
    for old in settings:
        if old.key == new.key and (
            (new.every_month and old.month >= new.month)
            or (not new.every_month and not old.every_month and old.month == new.month)
        ):
            continue
        kept.append(old)
    kept.append(new)
    if all(s.amount_minor is None for s in kept if s.key == new.key):
        kept = [s for s in kept if s.key != new.key]
    return kept


def effective_setting(settings: Sequence[BudgetSetting], category: str, month: dt.date) -> BudgetSetting | None:
    """The latest setting of ``category`` that covers ``month`` (``None`` if none, or if it says "no budget")."""
    key = category.casefold()
    for setting in reversed(settings):
        if setting.key == key and setting.applies_to(month):
            return setting if setting.amount_minor is not None else None
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class BudgetStatus:
    """Where a category stands in a month. Every amount is in integer minor units of ``currency``."""

    category: str
    month: dt.date
    currency: str
    base_minor: Minor
    carried_minor: Minor
    spent_minor: Minor
    projected_minor: Minor
    rollover: bool
    days_left: int
    """Days of the month still to come, today included (0 for past months, all for future ones)."""

    @property
    def budget_minor(self) -> Minor:
        """The month's amount plus what was carried over."""
        return self.base_minor + self.carried_minor

    @property
    def left_minor(self) -> Minor:
        """Budget minus spent (negative when over)."""
        return self.budget_minor - self.spent_minor

    @property
    def over(self) -> bool:
        """Spent more than the budget."""
        return self.left_minor < 0

    @property
    def heading_over(self) -> bool:
        """Not over yet, but the projected month-end spend is above the budget."""
        return not self.over and self.projected_minor > self.budget_minor

    @property
    def percent(self) -> int | None:
        """Spent as a whole percentage of the budget (rounded down); ``None`` if the budget is not positive."""
        return self.spent_minor * 100 // self.budget_minor if self.budget_minor > 0 else None

    @property
    def per_day_left_minor(self) -> Minor | None:
        """What may still be spent per remaining day (rounded down), or ``None`` for past months."""
        if self.days_left <= 0:
            return None
        return max(self.left_minor, 0) // self.days_left

    @property
    def state(self) -> str:
        """``"over"``, ``"heading_over"`` or ``"ok"``."""
        return "over" if self.over else "heading_over" if self.heading_over else "ok"

    def to_json(self) -> dict[str, Any]:
        """The public JSON form: amounts as decimal strings."""
        plain = format_plain
        per_day = self.per_day_left_minor
        return {
            "category": self.category,
            "month": month_text(self.month),
            "currency": self.currency,
            "budget": plain(self.budget_minor, self.currency),
            "base": plain(self.base_minor, self.currency),
            "carried": plain(self.carried_minor, self.currency),
            "spent": plain(self.spent_minor, self.currency),
            "left": plain(self.left_minor, self.currency),
            "projected": plain(self.projected_minor, self.currency),
            "over": self.over,
            "heading_over": self.heading_over,
            "state": self.state,
            "percent": self.percent,
            "per_day_left": None if per_day is None else plain(per_day, self.currency),
            "rollover": self.rollover,
        }


SpentIndex = dict[tuple[str, str, int], Minor]
"""(category casefolded, currency, month index) -> spent in minor units."""


def spent_index(frame: pd.DataFrame, into: Iterable[str] = (), rates: RateBook | None = None) -> SpentIndex:
    """Expenses summed per category (case-insensitive), currency and month, exactly (int64 sums).

    With ``rates``, the spending in every currency is also converted into each currency of ``into`` (the budgets'
    currencies; :mod:`tracker.conversion`, each row rounded, rows without a rate left out): a budget in EUR
    counts what was spent from a USD card too."""
    if frame.empty:
        return {}
    exp = frame[frame["type"] == "expense"]
    if exp.empty:
        return {}
    keys = exp["category"].astype(str).str.casefold()
    months = exp["date"].dt.year * 12 + exp["date"].dt.month - 1
    if rates is None:
        sums = exp["amount_minor"].groupby([keys, exp["currency"].astype(str), months]).sum()
        return {(str(k), str(c), int(m)): int(v) for (k, c, m), v in sums.items()}
    from tracker.conversion import convert_rows
    from tracker.rows import FrameRows

    out: SpentIndex = {}
    for code in sorted(set(into)):
        converted = convert_rows(FrameRows(exp), code, rates)
        usable = converted.usable
        amounts = pd.Series(converted.amount[usable], index=exp.index[usable])
        for (k, m), v in amounts.groupby([keys[usable], months[usable]]).sum().items():
            out[(str(k), code, int(m))] = int(v)
    return out


def project(spent: Minor, month: dt.date, today: dt.date) -> Minor:
    """Month-end spend at the current pace (see the module docstring), rounded half up in minor units."""
    if (today.year, today.month) != (month.year, month.month):
        return spent
    days = calendar.monthrange(month.year, month.month)[1]
    elapsed = today.day
    return (2 * spent * days + elapsed) // (2 * elapsed)


def category_status(
    settings: Sequence[BudgetSetting], category: str, month: dt.date, spent: SpentIndex, today: dt.date
) -> BudgetStatus | None:
    """The status of one category in ``month`` (``None`` if it has no budget then)."""
    key = category.casefold()
    mine = [s for s in settings if s.key == key]
    target = effective_setting(mine, category, month)
    if target is None:
        return None
    first = min(s.month for s in mine)
    carry = 0
    prev: BudgetSetting | None = None
    prev_left = 0
    current = first
    while True:
        setting = effective_setting(mine, category, current)
        if setting is not None and setting.amount_minor is not None:
            carry = prev_left if setting.rollover and prev is not None and prev.currency == setting.currency else 0
            used = spent.get((key, setting.currency, _month_index(current)), 0)
            prev_left = setting.amount_minor + carry - used
            prev = setting
        else:
            prev, prev_left, carry = None, 0, 0
        if current >= month:
            break
        current = next_month(current)
    assert target.amount_minor is not None
    used = spent.get((key, target.currency, _month_index(month)), 0)
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    if _month_index(month) < _month_index(today):
        days_left = 0
    elif _month_index(month) > _month_index(today):
        days_left = days_in_month
    else:
        days_left = days_in_month - today.day + 1
    return BudgetStatus(
        category=target.category,
        month=month,
        currency=target.currency,
        base_minor=target.amount_minor,
        carried_minor=carry,
        spent_minor=used,
        projected_minor=project(used, month, today),
        rollover=target.rollover,
        days_left=days_left,
    )


def budget_status(
    frame: pd.DataFrame,
    settings: Sequence[BudgetSetting],
    month: object = None,
    today: dt.date | None = None,
    rates: RateBook | None = None,
) -> list[BudgetStatus]:
    """The status of every category with a budget in ``month`` (default: this month), sorted by category.

    With ``rates`` each budget counts the spending of every currency converted into its own (:func:`spent_index`).
    """
    today = today or dt.date.today()
    first = parse_month(month, today)
    index = spent_index(frame, {s.currency for s in settings}, rates)
    seen: dict[str, str] = {}
    for s in settings:
        seen[s.key] = s.category
    out = [st for name in seen.values() if (st := category_status(settings, name, first, index, today)) is not None]
    return sorted(out, key=lambda st: st.category.casefold())


def totals(statuses: Iterable[BudgetStatus]) -> dict[str, dict[str, Minor]]:
    """Budget, spent and left summed per currency."""
    out: dict[str, dict[str, Minor]] = {}
    for st in statuses:
        row = out.setdefault(st.currency, {"budget": 0, "spent": 0, "left": 0})
        row["budget"] += st.budget_minor
        row["spent"] += st.spent_minor
        row["left"] += st.left_minor
    return out


# --- on a ledger ---------------------------------------------------------------------------------------------


def load_settings(ledger: Ledger) -> list[BudgetSetting]:
    """The budget settings stored in ``ledger``."""
    return BUDGETS.read(ledger)


def _spelling(ledger: Ledger, category: str) -> str:
    """The spelling the ledger's transactions use most for ``category`` (case-insensitive), else ``category``."""
    from tracker.categories import preferred_spellings

    name = clean_category(category)
    return preferred_spellings(ledger.lines()).get(name.casefold(), name)


def set_budget(
    ledger: Ledger,
    category: str,
    amount: object,
    *,
    month: object = None,
    every_month: bool = False,
    rollover: bool = False,
    currency: str | None = None,
    today: dt.date | None = None,
) -> BudgetSetting:
    """Set the budget of ``category`` for ``month`` (default: this month), or every month from it on.

    One undoable commit. ``amount`` is text or ``Decimal`` in major units (``"400"``, ``"12.50"``; zero allowed).
    """
    code = normalize_currency(currency or ledger.default_currency)
    setting = BudgetSetting(
        category=_spelling(ledger, category),
        amount_minor=budget_minor(amount, code),
        currency=code,
        month=parse_month(month, today),
        every_month=every_month,
        rollover=rollover,
    )
    scope = f"from {month_text(setting.month)}" if every_month else f"for {month_text(setting.month)}"
    with ledger.locked():
        ledger.refresh()
        settings = add_setting(load_settings(ledger), setting)
        BUDGETS.write(ledger, settings, f"budget: {setting.category} {scope}")
    return setting


def delete_budget(
    ledger: Ledger, category: str, *, month: object = None, every_month: bool = False, today: dt.date | None = None
) -> str:
    """Remove budgets of ``category``: all of them (``month=None``), one month, or every month from ``month`` on.

    Returns the commit label (a description of what was removed). ``NotFoundError`` if there is no such budget.
    One undoable commit; later settings can bring the budget back.
    """
    name = clean_category(category)
    with ledger.locked():
        ledger.refresh()
        settings = load_settings(ledger)
        mine = [s for s in settings if s.key == name.casefold()]
        if not mine:
            raise NotFoundError("category", name, "has no budget (see 'expense-tracker budget list')")
        if month is None:
            kept = [s for s in settings if s.key != name.casefold()]
            label = f"budget: delete {mine[-1].category}"
        else:
            first = parse_month(month, today)
            if not every_month and effective_setting(mine, name, first) is None:
                raise NotFoundError("month", month_text(first), f"has no budget for {mine[-1].category}")
            stop = BudgetSetting(mine[-1].category, None, mine[-1].currency, first, every_month)
            kept = add_setting(settings, stop)
            label = f"budget: delete {mine[-1].category} {'from' if every_month else 'for'} {month_text(first)}"
        BUDGETS.write(ledger, kept, label)
    return label


def status(ledger: Ledger, month: object = None, today: dt.date | None = None) -> list[BudgetStatus]:
    """:func:`budget_status` of the ledger's transactions and settings."""
    from tracker.conversion import rate_book

    return budget_status(ledger.lines(), load_settings(ledger), month, today, rate_book(ledger))
