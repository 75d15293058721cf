"""An account's projected balance up to a date: what is known, and, apart and labelled, an estimate.

What is known: the balance today, the transactions already entered with a later date, and every
occurrence of the recurring templates that post into the account. The estimate adds the usual
spending that no template covers: the account's average daily spending over the last three full
months (recurring postings and transfers left out), as a straight line. Everything is in the account's
currency and integer minor units; rows in another currency are left out and counted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from tracker.errors import ValidationError
from tracker.model import clean_date
from tracker.money import Minor, format_plain

if TYPE_CHECKING:
    from tracker.accounts import Account
    from tracker.ledger import Ledger

MAX_YEARS = 10
"""How far ahead a forecast may look."""
ESTIMATE_MONTHS = 3
"""The full months before today that the usual spending is averaged over."""


@dataclasses.dataclass(frozen=True)
class Event:
    """One known change to come: an entered transaction or a recurring occurrence (signed, minor units)."""

    date: dt.date
    amount: Minor
    what: str
    source: str
    """``"entered"`` (already in the ledger) or ``"recurring"`` (a template's occurrence)."""


@dataclasses.dataclass(frozen=True)
class Forecast:
    """The projection of one account from ``today`` (end of day) to ``until``."""

    account: Account
    today: dt.date
    until: dt.date
    balance: Minor
    """Today's balance."""
    events: tuple[Event, ...]
    daily_spending: Fraction
    """The estimate's average spending per day (positive), from the months in ``based_on``."""
    based_on: tuple[dt.date, dt.date] | None
    """The first and last day the estimate averaged over (``None``: no history to estimate from)."""
    left_out: int = 0
    """Rows in another currency than the account's, not counted."""

    @property
    def projected(self) -> Minor:
        """The balance on ``until`` from what is known (no estimate)."""
        return self.balance + sum(e.amount for e in self.events)

    def estimated_spending(self, day: dt.date) -> Minor:
        """The estimate's spending from tomorrow to ``day``, rounded half-even to a minor unit."""
        return round(self.daily_spending * max((day - self.today).days, 0))

    @property
    def estimated(self) -> Minor:
        """The balance on ``until`` with the usual spending taken off too (an estimate)."""
        return self.projected - self.estimated_spending(self.until)

    def points(self) -> list[tuple[dt.date, Minor, Minor]]:
        """``(date, projected, estimated)`` today, after each day with events, and on ``until``: a chart's line."""
        out = [(self.today, self.balance, self.balance)]
        running = self.balance
        for i, event in enumerate(self.events):
            running += event.amount
            if i + 1 < len(self.events) and self.events[i + 1].date == event.date:
                continue  # one point per day
            out.append((event.date, running, running - self.estimated_spending(event.date)))
        if out[-1][0] != self.until:
            out.append((self.until, running, running - self.estimated_spending(self.until)))
        return out

    def monthly_spending(self) -> Minor:
        """The estimate as a month of 30.4375 days (what a person reads: "about 1,230.00 a month")."""
        return round(self.daily_spending * Fraction(365_25, 1200))

    def to_json(self) -> dict[str, Any]:
        code = self.account.currency

        def money(minor: Minor) -> str:
            return format_plain(minor, code)

        running = self.balance
        events = []
        for e in self.events:
            running += e.amount
            events.append(
                {"date": e.date.isoformat(), "amount": money(e.amount), "what": e.what, "source": e.source}
                | {"balance": money(running)}
            )
        return {
            "account": self.account.name,
            "currency": code,
            "from": self.today.isoformat(),
            "until": self.until.isoformat(),
            "balance": money(self.balance),
            "events": events,
            "projected_balance": money(self.projected),
            "estimate": {
                "label": "estimate: also takes off the usual spending no recurring template covers",
                "monthly_spending": money(self.monthly_spending()),
                "based_on": [d.isoformat() for d in self.based_on] if self.based_on else None,
                "projected_balance": money(self.estimated),
            },
            "left_out_other_currencies": self.left_out,
        }


def _month_start(day: dt.date, back: int) -> dt.date:
    months = day.year * 12 + day.month - 1 - back
    return dt.date(months // 12, months % 12 + 1, 1)


def forecast(ledger: Ledger, account: object, until: object, today: dt.date | None = None) -> Forecast:
    """Project ``account`` from today's balance to ``until`` (see the module docstring)."""
    from tracker.accounts import balances, default_account, get_account
    from tracker.filters import Filter
    from tracker.recurring import ID_PREFIX, load_templates

    found = get_account(ledger, account)
    today = today or dt.date.today()
    try:
        end = clean_date(until)
    except ValidationError as exc:
        raise ValidationError("until", exc.value, exc.problem) from None
    if end <= today:
        raise ValidationError("until", end.isoformat(), f"must be after today ({today.isoformat()})")
    if (end - today).days > MAX_YEARS * 366:
        raise ValidationError("until", end.isoformat(), f"is more than {MAX_YEARS} years ahead")
    code = found.currency
    balance = next(b for b in balances(ledger, today) if b.account.name == found.name).balance

    events: list[Event] = []
    left_out = 0
    later = ledger.transactions(Filter(start=today + dt.timedelta(days=1), end=end, accounts=(found.name,)))
    for tx in later:
        if tx.currency != code:
            left_out += 1
            continue
        events.append(Event(tx.date, tx.signed_minor, tx.note or tx.category, "entered"))
    entered = {tx.id for tx in later}
    default = default_account(ledger).name.casefold()
    for template in load_templates(ledger):
        if (template.account or default).casefold() != found.name.casefold():
            continue
        if template.currency != code:
            left_out += 1
            continue
        sign = 1 if template.type == "income" else -1
        for _, day in template.occurrences(template.next_index):
            if day > end:
                break
            if day > today and template.transaction_id(day) not in entered:
                events.append(Event(day, sign * template.amount_minor, template.note or template.category, "recurring"))
    events.sort(key=lambda e: (e.date, e.source, e.what))

    first, last = _month_start(today, ESTIMATE_MONTHS), _month_start(today, 0) - dt.timedelta(days=1)
    past = ledger.transactions(Filter(start=first, end=last, accounts=(found.name,), type="expense"))
    spent = sum(tx.amount_minor for tx in past if tx.currency == code and not tx.id.startswith(ID_PREFIX))
    days = (last - first).days + 1
    return Forecast(
        account=found,
        today=today,
        until=end,
        balance=balance,
        events=tuple(events),
        daily_spending=Fraction(spent, days) if past else Fraction(0),
        based_on=(first, last) if past else None,
        left_out=left_out,
    )
