"""Editing a recurring template: future occurrences change, posted transactions stay, one undoable commit."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tracker.errors import NotFoundError, ValidationError
from tracker.ledger import Ledger
from tracker.recurring import add_template, edit_template, load_templates, make_template, post_due, update_template

D = dt.date


def rent(**kw: object) -> Any:
    fields: dict[str, object] = {"type": "expense", "amount": "1200", "category": "Rent", "currency": "EUR"}
    fields.update(kw)
    return make_template(**fields, today=D(2026, 1, 1))  # type: ignore[arg-type]


def posted(ledger: Ledger) -> list[tuple[str, int, str]]:
    return sorted((t.date.isoformat(), t.amount_minor, t.category) for t in Ledger(ledger.location).transactions())


def test_editing_the_amount_changes_future_occurrences_only(ledger: Ledger) -> None:
    tpl = add_template(ledger, rent(start=D(2026, 1, 31)))
    assert post_due(ledger, D(2026, 3, 15)) == 2  # Jan 31, Feb 28
    before, after = update_template(ledger, tpl.id[:6], amount="1250.50", category="Housing", tags=["home"])
    assert before == dataclasses_replace_index(tpl, 2)
    assert after.next_index == 2
    assert (after.amount_minor, after.category, after.tags, after.start) == (
        125050,
        "Housing",
        ("home",),
        D(2026, 1, 31),
    )
    assert post_due(ledger, D(2026, 4, 30)) == 2  # Mar 31, Apr 30 at the new amount
    assert posted(ledger) == [
        ("2026-01-31", 120000, "Rent"),
        ("2026-02-28", 120000, "Rent"),
        ("2026-03-31", 125050, "Housing"),
        ("2026-04-30", 125050, "Housing"),
    ]


def test_an_edit_is_one_undoable_commit_and_a_bad_edit_changes_nothing(ledger: Ledger) -> None:
    tpl = add_template(ledger, rent(start=D(2026, 1, 1)))
    post_due(ledger, D(2026, 2, 1))
    files = {p.name: p.read_bytes() for p in ledger.location.iterdir() if p.is_file()}
    for bad in ({"amount": "-5"}, {"amount": "1.234"}, {"end": "2025-01-01"}, {"every": "fortnightly"}, {"id": "x"}):
        with pytest.raises(ValidationError):
            update_template(ledger, tpl.id, **bad)
    with pytest.raises(NotFoundError):
        update_template(ledger, "nope-nope", amount="1")
    assert {p.name: p.read_bytes() for p in ledger.location.iterdir() if p.is_file()} == files
    revision = ledger.revision
    update_template(ledger, tpl.id, note="new lease")
    assert ledger.revision == revision + 1
    assert load_templates(Ledger(ledger.location))[0].note == "new lease"
    assert ledger.undo() == "recurring: edit Rent every month"
    assert load_templates(Ledger(ledger.location)) == [dataclasses_replace_index(tpl, 2)]


def dataclasses_replace_index(tpl: Any, index: int) -> Any:
    import dataclasses

    return dataclasses.replace(tpl, next_index=index)


def test_a_new_schedule_starts_after_the_last_posted_occurrence(ledger: Ledger) -> None:
    tpl = add_template(ledger, rent(start=D(2026, 1, 1)))
    post_due(ledger, D(2026, 3, 10))  # Jan 1, Feb 1, Mar 1
    # without a start, the new schedule begins at the next unposted occurrence (Apr 1)
    _, weekly = update_template(ledger, tpl.id, every="2 weeks")
    assert (weekly.every, weekly.unit, weekly.start, weekly.next_index) == (2, "week", D(2026, 4, 1), 0)
    assert weekly.last_posted == D(2026, 3, 1)  # remembered across the new schedule
    with pytest.raises(ValidationError, match="after the last posted occurrence 2026-03-01"):
        update_template(ledger, tpl.id, start="2026-03-01")
    post_due(ledger, D(2026, 4, 30))
    assert [d for d, _, _ in posted(ledger)] == [
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
        "2026-04-01",
        "2026-04-15",
        "2026-04-29",
    ]


def test_an_unchanged_schedule_keeps_its_state_even_with_a_long_past(ledger: Ledger) -> None:
    daily = make_template(
        type="expense",
        amount="3",
        category="Coffee",
        currency="EUR",
        every="day",
        start=D(2020, 1, 1),
        today=D(2020, 1, 1),
    )
    add_template(ledger, daily)
    stored = load_templates(ledger)[0]
    # thousands of past days are not a "backlog" when only the note changes
    edited = edit_template(dataclasses_replace_index(stored, 2000), {"note": "oat milk"}, today=D(2026, 1, 1))
    assert (edited.next_index, edited.note, edited.start) == (2000, "oat milk", D(2020, 1, 1))
    # but a new schedule starting years back is refused like a new template
    with pytest.raises(ValidationError, match="past occurrences"):
        edit_template(stored, {"start": "2020-01-01", "every": "day"}, today=D(2026, 1, 1))


def test_removing_and_setting_the_end(ledger: Ledger) -> None:
    tpl = add_template(ledger, rent(start=D(2026, 1, 1), end=D(2026, 3, 1)))
    _, open_ended = update_template(ledger, tpl.id, end=None)
    assert open_ended.end is None
    _, ended = update_template(ledger, tpl.id, end="2026-02-15")
    assert ended.end == D(2026, 2, 15)
    assert post_due(ledger, D(2026, 12, 31)) == 2


def test_cli_edit(cli: Callable[..., Any], data_dir: Path) -> None:
    done = cli("recurring", "add", "expense", "9.99", "--category", "Streaming", "--start", "2020-01-05", "--no-post")
    assert done.returncode == 0, done.stderr
    ident = done.stdout.strip()
    edited = cli("recurring", "edit", ident, "--amount", "12.49", "--tag", "tv", "--no-post")
    assert edited.returncode == 0, edited.stderr
    assert "12.49 USD Streaming every month" in edited.stdout
    bad = cli("recurring", "edit", ident, "--amount", "abc")
    assert bad.returncode == 2
    assert "amount" in bad.stderr
    assert "Traceback" not in bad.stderr
    listed = json.loads(cli("recurring", "list", "--format", "json").stdout)
    assert [(t["amount"], t["tags"]) for t in listed] == [("12.49", ["tv"])]
    assert cli("recurring", "edit", ident, "--no-tags", "--no-post").returncode == 0
    assert json.loads(cli("recurring", "list", "--format", "json").stdout)[0]["tags"] == []
