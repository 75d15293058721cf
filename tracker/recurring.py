"""Recurring transactions: templates in ledger meta ``"recurring"`` and idempotent posting of what is due.

A template says "post this transaction every N days/weeks/months/years from ``start`` (until ``end``)".
Occurrence ``n`` (0, 1, 2, ...) is computed from the start date, never from the previous occurrence, so
month-end dates do not drift: a monthly template that starts on Jan 31 falls on Feb 28 (Feb 29 in a leap
year), Mar 31, Apr 30, May 31; a yearly one that starts on Feb 29 falls on Feb 28 in common years and on
Feb 29 again in leap years.

Posting (:func:`post_due`) is idempotent, twice over:

* each template records ``next_index``, the first occurrence not yet posted, and the posted transactions
  and that state change are written in ONE atomic ledger commit, under the ledger's inter-process lock
  after a refresh, so a crash, a restart or a second process never posts an occurrence twice;
* each occurrence gets a deterministic id (``rec-<template id>-<YYYYMMDD>``); an id already in the ledger
  is never posted again, even if the state were somehow behind.

Deleting a posted transaction does not bring it back (the state has moved past it); undoing the posting
commit (``ledger.undo()``) restores the state too, so the occurrences are posted again on the next start.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from tracker.errors import NotFoundError, ValidationError
from tracker.features import MetaFeature, NameChange, rename_entries
from tracker.model import (
    MAX_DATE,
    Transaction,
    TxType,
    clean_account,
    clean_category,
    clean_date,
    clean_note,
    clean_tags,
    clean_type,
    make_transaction,
    new_id,
)
from tracker.money import Minor, format_plain, normalize_currency, to_minor

if TYPE_CHECKING:
    from tracker.ledger import Ledger

Unit = Literal["day", "week", "month", "year"]
UNITS: tuple[Unit, ...] = ("day", "week", "month", "year")
META_KEY = "recurring"
MAX_EVERY = 1000
MAX_CATCH_UP = 1000
"""A new template may not make more than this many past occurrences due at once (a typo guard: year 1026)."""
ID_PREFIX = "rec-"

_EVERY = re.compile(r"^\s*(?:every\s+)?(\d+)?\s*([a-z]+?)s?\s*$", re.ASCII)
_ADVERBS = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "yearly": "year",
    "annually": "year",
    "annual": "year",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Template:
    """One recurring transaction. Build it with :func:`make_template`; ``next_index`` is the posting state."""

    id: str
    type: TxType
    amount_minor: Minor
    currency: str
    category: str
    every: int
    unit: Unit
    start: dt.date
    end: dt.date | None = None
    tags: tuple[str, ...] = ()
    note: str = ""
    next_index: int = 0
    posted_until: dt.date | None = None
    """The last occurrence posted under an earlier schedule (set when an edit changes the schedule)."""
    account: str = ""
    """The account its transactions go into (empty: the default account when each is posted)."""

    @property
    def interval_text(self) -> str:
        """``"month"``, ``"2 weeks"``."""
        return self.unit if self.every == 1 else f"{self.every} {self.unit}s"

    def occurrence(self, index: int) -> dt.date:
        """The date of occurrence ``index`` (0 is ``start``); may exceed :data:`MAX_DATE` (then ``date.max``)."""
        return occurrence_date(self.start, self.every, self.unit, index)

    def occurrences(self, first: int = 0) -> Iterator[tuple[int, dt.date]]:
        """``(index, date)`` from ``first`` on, until ``end`` (inclusive) or the last representable date."""
        index = first
        while True:
            day = self.occurrence(index)
            if day > MAX_DATE or (self.end is not None and day > self.end):
                return
            yield index, day
            index += 1

    def due(self, through: dt.date) -> list[tuple[int, dt.date]]:
        """Occurrences not yet posted whose date is on or before ``through``."""
        out = []
        for index, day in self.occurrences(self.next_index):
            if day > through:
                break
            out.append((index, day))
        return out

    def upcoming(self, after: dt.date, count: int = 5) -> list[dt.date]:
        """The next ``count`` occurrence dates strictly after ``after`` (posted or not)."""
        out: list[dt.date] = []
        for _, day in self.occurrences(_first_index_after(self, after)):
            if day > after:
                out.append(day)
                if len(out) >= count:
                    break
        return out

    @property
    def finished(self) -> bool:
        """True when every occurrence up to ``end`` has been posted."""
        return next(iter(self.occurrences(self.next_index)), None) is None

    @property
    def last_posted(self) -> dt.date | None:
        """The date of the last posted occurrence (also under an earlier schedule), or ``None``."""
        return self.occurrence(self.next_index - 1) if self.next_index > 0 else self.posted_until

    def transaction_id(self, day: dt.date) -> str:
        """The deterministic id of the occurrence on ``day``."""
        return f"{ID_PREFIX}{self.id}-{day:%Y%m%d}"

    def to_transaction(self, day: dt.date) -> Transaction:
        """The transaction of the occurrence on ``day`` (validated like any other)."""
        return make_transaction(
            type=self.type,
            amount=format_plain(self.amount_minor, self.currency),
            currency=self.currency,
            category=self.category,
            date=day,
            tags=self.tags,
            note=self.note,
            account=self.account or None,
            id=self.transaction_id(day),
        )

    def to_meta(self) -> dict[str, Any]:
        """The JSON form stored in ledger meta."""
        return {
            "id": self.id,
            "type": self.type,
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "category": self.category,
            "tags": list(self.tags),
            "note": self.note,
            "every": self.every,
            "unit": self.unit,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "next_index": self.next_index,
            "posted_until": self.posted_until.isoformat() if self.posted_until else None,
        } | ({"account": self.account} if self.account else {})  # templates from before accounts stay as stored

    def to_json(self, today: dt.date | None = None) -> dict[str, Any]:
        """The public JSON form (amount as a decimal string, next due date)."""
        today = today or dt.date.today()
        nxt = next(iter(self.occurrences(self.next_index)), None)
        return {
            "id": self.id,
            "type": self.type,
            "amount": format_plain(self.amount_minor, self.currency),
            "currency": self.currency,
            "category": self.category,
            "tags": list(self.tags),
            "note": self.note,
            "account": self.account,
            "every": self.interval_text,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "posted": self.next_index,
            "last_posted": self.last_posted.isoformat() if self.last_posted else None,
            "next": nxt[1].isoformat() if nxt else None,
            "upcoming": [d.isoformat() for d in self.upcoming(today, 3)],
        }


def _first_index_after(template: Template, after: dt.date) -> int:
    """An index whose occurrence is on or before ``after`` and close to it (0 if ``after`` precedes the start)."""
    if after < template.start:
        return 0
    if template.unit in ("day", "week"):
        step = template.every * (7 if template.unit == "week" else 1)
        return (after - template.start).days // step
    step = template.every * (12 if template.unit == "year" else 1)
    months = (after.year - template.start.year) * 12 + after.month - template.start.month
    return max(0, months // step - 1)


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` moved by ``months`` calendar months, its day clamped to the month's end (Jan 31 + 1 = Feb 28/29)."""
    total = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(total, 12)
    if year > dt.MAXYEAR:
        return dt.date.max
    day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
    return dt.date(year, month0 + 1, day)


def occurrence_date(start: dt.date, every: int, unit: str, index: int) -> dt.date:
    """Occurrence ``index`` of a schedule anchored on ``start`` (never chained, so month ends do not drift)."""
    if unit in ("day", "week"):
        days = index * every * (7 if unit == "week" else 1)
        if days > (dt.date.max - start).days:
            return dt.date.max
        return start + dt.timedelta(days=days)
    return add_months(start, index * every * (12 if unit == "year" else 1))


def parse_every(text: object) -> tuple[int, Unit]:
    """``"month"``, ``"2 weeks"``, ``"3months"``, ``"every 10 days"``, ``"weekly"`` -> ``(2, "week")``."""
    if not isinstance(text, str):
        raise ValidationError("every", text, "must be text such as 'month' or '2 weeks'")
    lowered = text.strip().lower()
    if lowered in _ADVERBS:
        return 1, _ADVERBS[lowered]  # type: ignore[return-value]
    match = _EVERY.match(lowered)
    if not match or match.group(2) not in UNITS:
        raise ValidationError("every", text, "is not an interval; write for example 'month', '2 weeks' or '1 year'")
    return clean_every(int(match.group(1) or 1)), match.group(2)  # type: ignore[return-value]


def clean_every(value: object) -> int:
    """A whole number from 1 to :data:`MAX_EVERY`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_EVERY:
        raise ValidationError("every", value, f"must be a whole number from 1 to {MAX_EVERY}")
    return value


def make_template(
    *,
    type: object,
    amount: object,
    category: object,
    currency: object,
    every: object = 1,
    unit: object = "month",
    start: object = None,
    end: object = None,
    tags: object = None,
    note: object = None,
    account: object = None,
    id: str | None = None,
    today: dt.date | None = None,
) -> Template:
    """Validate every field into a :class:`Template` (``every`` may also be text such as ``"2 weeks"``)."""
    today = today or dt.date.today()
    if isinstance(every, str):
        n, u = parse_every(every if not every.strip().isdigit() else f"{every} {unit}")
    else:
        n = clean_every(every)
        if unit not in UNITS:
            raise ValidationError("unit", unit, "must be one of day, week, month, year")
        u = unit
    code = normalize_currency(currency)
    first = clean_date(start) if start is not None else today
    last = clean_date(end) if end is not None and end != "" else None
    if last is not None and last < first:
        raise ValidationError("end", last.isoformat(), f"is before the start {first.isoformat()}")
    template = Template(
        id=id or new_id(),
        type=clean_type(type),
        amount_minor=to_minor(amount, code),
        currency=code,
        category=clean_category(category),
        every=n,
        unit=u,
        start=first,
        end=last,
        tags=clean_tags(tags),
        note=clean_note(note),
        account=clean_account(account) if account else "",
    )
    backlog = len(template.due(today)) if first <= today else 0
    if backlog > MAX_CATCH_UP:
        raise ValidationError(
            "start",
            first.isoformat(),
            f"would post {backlog} past occurrences at once (at most {MAX_CATCH_UP}); check the year",
        )
    return template


def template_from_meta(data: Mapping[str, Any]) -> Template:
    """Rebuild a template from its stored form, validating it again."""
    try:
        code = normalize_currency(data["currency"])
        minor = data["amount_minor"]
        if isinstance(minor, bool) or not isinstance(minor, int) or minor <= 0:
            raise ValidationError("amount_minor", minor, "must be a positive whole number")
        unit = data["unit"]
        if unit not in UNITS:
            raise ValidationError("unit", unit, "must be one of day, week, month, year")
        index = data.get("next_index", 0)
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValidationError("next_index", index, "must be a whole number >= 0")
        end = data.get("end")
        return Template(
            id=str(data["id"]),
            type=clean_type(data["type"]),
            amount_minor=minor,
            currency=code,
            category=clean_category(data["category"]),
            every=clean_every(data["every"]),
            unit=unit,
            start=clean_date(data["start"]),
            end=clean_date(end) if end else None,
            tags=clean_tags(data.get("tags", [])),
            note=clean_note(data.get("note", "")),
            next_index=index,
            posted_until=clean_date(data["posted_until"]) if data.get("posted_until") else None,
            account=clean_account(data["account"]) if data.get("account") else "",
        )
    except KeyError as exc:
        raise ValidationError("recurring", exc.args[0], "is missing from a stored template") from None


def templates_from_meta(raw: object) -> list[Template]:
    """All templates stored under meta ``"recurring"`` (``None`` -> none)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError("recurring", type(raw).__name__, "must be a list of templates in the ledger")
    return [template_from_meta(item) for item in raw]


def templates_to_meta(templates: Iterable[Template]) -> list[dict[str, Any]]:
    """The stored form of templates."""
    return [t.to_meta() for t in templates]


def _stored(templates: Iterable[Template]) -> list[dict[str, Any]] | None:
    return templates_to_meta(templates) or None  # no templates left removes the meta key


def retag_templates(templates: Iterable[Template], change: NameChange) -> tuple[list[Template], int]:
    """The templates with the tags ``change`` folds replaced by its target, and how many templates changed."""
    out: list[Template] = []
    moved = 0
    for template in templates:
        tags = clean_tags([change.apply(tag) for tag in template.tags])
        if tags != template.tags:
            template = dataclasses.replace(template, tags=tags)
            moved += 1
        out.append(template)
    return out, moved


RECURRING: MetaFeature[list[Template]] = MetaFeature(
    META_KEY,
    load=templates_from_meta,
    dump=_stored,
    noun="recurring template",
    categories=lambda templates: [t.category for t in templates],
    rename_category=rename_entries,
    tags=lambda templates: [tag for t in templates for tag in t.tags],
    rename_tag=retag_templates,
    entry_key=lambda item: str(item["id"]),
)
"""The recurring templates' slice of the ledger meta (their posting state included)."""


def find_template(templates: Sequence[Template], ident: str) -> Template:
    """The template with id ``ident`` or a unique id prefix of at least 4 characters; ``NotFoundError``."""
    ident = ident.strip()
    exact = [t for t in templates if t.id == ident]
    if exact:
        return exact[0]
    matches = [t for t in templates if len(ident) >= 4 and t.id.startswith(ident)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ValidationError("id", ident, "matches several recurring templates; give more characters")
    raise NotFoundError("id", ident, "is not a recurring template (see 'expense-tracker recurring list')")


@dataclasses.dataclass(frozen=True)
class PostingPlan:
    """What posting would do: new transactions and the templates with their advanced state."""

    transactions: list[Transaction]
    templates: list[Template]
    changed: bool


def plan_posting(templates: Sequence[Template], through: dt.date, existing_ids: Iterable[str] = ()) -> PostingPlan:
    """Pure: the occurrences due on or before ``through`` and the advanced templates.

    Occurrences whose deterministic id is in ``existing_ids`` are skipped (never posted twice) but still
    advance the state.
    """
    have = set(existing_ids)
    posts: list[Transaction] = []
    updated: list[Template] = []
    changed = False
    for template in templates:
        due = template.due(through)
        if not due:
            updated.append(template)
            continue
        changed = True
        for _, day in due:
            if template.transaction_id(day) not in have:
                posts.append(template.to_transaction(day))
                have.add(template.transaction_id(day))
        updated.append(dataclasses.replace(template, next_index=due[-1][0] + 1))
    return PostingPlan(posts, updated, changed)


def load_templates(ledger: Ledger) -> list[Template]:
    """The templates stored in ``ledger``."""
    return RECURRING.read(ledger)


def post_due(ledger: Ledger, today: dt.date | None = None) -> int:
    """Post every occurrence due on or before ``today`` (default: the local date); return how many were posted.

    Cheap when nothing is due: decided from the templates' schedules in the ledger meta alone (no lock
    taken, no DataFrame built). Otherwise, under the ledger lock and after a refresh, the new transactions
    and the templates' advanced state are written in one atomic commit. Safe to call from several
    processes at once and as often as you like.
    """
    today = today or dt.date.today()
    ledger.refresh()
    if not any(t.due(today) for t in load_templates(ledger)):
        return 0
    with ledger.locked():
        ledger.refresh()
        templates = load_templates(ledger)
        candidates = {t.transaction_id(d) for t in templates for _, d in t.due(today)}
        existing = _existing_ids(ledger, candidates)
        plan = plan_posting(templates, today, existing)
        if not plan.changed:
            return 0
        count = len(plan.transactions)
        label = f"recurring: post {count} due transaction{'s' if count != 1 else ''}"
        ledger.commit(puts=plan.transactions, meta=RECURRING.stored(plan.templates), label=label)
        return count


def _existing_ids(ledger: Ledger, candidates: set[str]) -> set[str]:
    """The candidate ids already in the ledger, looked up one by one (no DataFrame is built for posting)."""
    found = set()
    for tx_id in candidates:
        try:
            ledger.get(tx_id)
        except NotFoundError:
            continue
        found.add(tx_id)
    return found


def _in_open_account(ledger: Ledger, template: Template) -> Template:
    """``template`` with its account's name as declared; refused when the account is unknown or closed."""
    if not template.account:
        return template
    from tracker.accounts import get_account

    account = get_account(ledger, template.account)
    if account.closed:
        raise ValidationError("account", account.name, "is closed (reopen it first)")
    return dataclasses.replace(template, account=account.name)


def add_template(ledger: Ledger, template: Template) -> Template:
    """Store a new template (one undoable commit). Its due occurrences are posted by :func:`post_due`."""
    with ledger.locked():
        ledger.refresh()
        templates = load_templates(ledger)
        if any(t.id == template.id for t in templates):
            raise ValidationError("id", template.id, "is already a recurring template")
        template = _in_open_account(ledger, template)
        templates.append(template)
        RECURRING.write(ledger, templates, f"recurring: add {template.category} every {template.interval_text}")
    return template


def delete_template(ledger: Ledger, ident: str) -> Template:
    """Remove a template (its posted transactions stay). One undoable commit; ``NotFoundError``."""
    with ledger.locked():
        ledger.refresh()
        templates = load_templates(ledger)
        gone = find_template(templates, ident)
        kept = [t for t in templates if t.id != gone.id]
        RECURRING.write(ledger, kept, f"recurring: delete {gone.category} every {gone.interval_text}")
    return gone


EDITABLE = frozenset({"type", "amount", "currency", "category", "tags", "note", "every", "start", "end", "account"})
"""The fields :func:`update_template` changes; ``every`` and ``start`` make a new schedule."""


def edit_template(template: Template, changes: Mapping[str, Any], today: dt.date | None = None) -> Template:
    """Pure: ``template`` with ``changes`` applied to its FUTURE occurrences, validated like a new template.

    What was posted stays as it is (those are ordinary transactions now). Changing the amount, category,
    tags, note, type, currency or end keeps the schedule and its posting state. Changing ``every`` or
    ``start`` makes a new schedule from ``start`` (default: the next occurrence that is not posted yet),
    which must come after the last posted occurrence, so nothing is posted twice or back-dated.
    ``end`` of ``None`` or ``""`` removes the end.
    """
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise ValidationError("field", unknown[0], f"cannot be edited; choose from {', '.join(sorted(EDITABLE))}")
    today = today or dt.date.today()
    reschedule = "every" in changes or "start" in changes
    fields: dict[str, Any] = {
        "type": template.type,
        "amount": format_plain(template.amount_minor, template.currency),
        "currency": template.currency,
        "category": template.category,
        "tags": template.tags,
        "note": template.note,
        "every": template.every,
        "unit": template.unit,
        "start": template.start,
        "end": template.end,
        "account": template.account,
    }
    fields.update(changes)  # an amount kept while the currency changes is checked against the new currency
    if reschedule and "start" not in changes:
        upcoming = next(iter(template.occurrences(template.next_index)), None)
        last = template.last_posted
        fields["start"] = upcoming[1] if upcoming else max(today, last + dt.timedelta(days=1) if last else today)
    edited = make_template(
        **fields,
        id=template.id,
        # an unchanged schedule keeps its state: its past occurrences are not a new backlog
        today=today if reschedule else clean_date(fields["start"]),
    )
    if not reschedule:
        return dataclasses.replace(edited, next_index=template.next_index)
    last = template.last_posted
    if last is not None and edited.start <= last:
        raise ValidationError(
            "start",
            edited.start.isoformat(),
            f"must be after the last posted occurrence {last.isoformat()} (posted transactions are not moved)",
        )
    return dataclasses.replace(edited, posted_until=last)


def update_template(ledger: Ledger, ident: str, **changes: Any) -> tuple[Template, Template]:
    """Edit a template's future occurrences (see :func:`edit_template`); one undoable commit.

    Returns ``(before, after)``. Due occurrences of the new schedule are posted by :func:`post_due`.
    """
    if not changes:
        raise ValidationError("edit", ident, "needs at least one field to change (for example the amount)")
    with ledger.locked():
        ledger.refresh()
        templates = load_templates(ledger)
        before = find_template(templates, ident)
        after = edit_template(before, changes)
        if after.account != before.account:
            after = _in_open_account(ledger, after)
        if after == before:
            return before, after
        RECURRING.write(
            ledger,
            [after if t.id == before.id else t for t in templates],
            f"recurring: edit {after.category} every {after.interval_text}",
        )
    return before, after


def upcoming_all(
    templates: Iterable[Template], today: dt.date, days: int = 60, limit: int = 200
) -> list[tuple[dt.date, Template]]:
    """Occurrences of all templates after ``today`` up to ``today + days``, by date (at most ``limit``)."""
    horizon = today + dt.timedelta(days=days)
    out: list[tuple[dt.date, Template]] = []
    for template in templates:
        for _, day in template.occurrences(max(template.next_index, _first_index_after(template, today))):
            if day > horizon or len(out) > limit * 2:
                break
            if day > today:
                out.append((day, template))
    out.sort(key=lambda pair: (pair[0], pair[1].category.casefold()))
    return out[:limit]
