"""Recurring transactions: schedules (month ends, leap years), idempotent posting, restarts, crashes, concurrency."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.errors import NotFoundError, ValidationError
from tracker.ledger import Ledger
from tracker.recurring import (
    Template,
    add_months,
    add_template,
    delete_template,
    find_template,
    load_templates,
    make_template,
    occurrence_date,
    parse_every,
    plan_posting,
    post_due,
    templates_from_meta,
    templates_to_meta,
    upcoming_all,
)

D = dt.date


def monthly(start: D, **kw: object) -> Template:
    fields: dict[str, object] = {
        "type": "expense",
        "amount": "1200",
        "category": "Rent",
        "currency": "EUR",
        "start": start,
    }
    fields.update(kw)
    return make_template(**fields, today=D(2000, 1, 1))  # type: ignore[arg-type]


def dates(template: Template, n: int) -> list[D]:
    return [template.occurrence(i) for i in range(n)]


# --- schedules ------------------------------------------------------------------------------------------------


def test_monthly_from_the_31st_clamps_to_each_month_end_without_drifting() -> None:
    t = monthly(D(2026, 1, 31))
    assert dates(t, 6) == [
        D(2026, 1, 31),
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2026, 5, 31),
        D(2026, 6, 30),
    ]


def test_monthly_from_the_31st_in_a_leap_year_falls_on_feb_29() -> None:
    assert dates(monthly(D(2028, 1, 31)), 3) == [D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31)]


def test_monthly_from_the_30th_and_29th() -> None:
    assert dates(monthly(D(2027, 1, 30)), 3) == [D(2027, 1, 30), D(2027, 2, 28), D(2027, 3, 30)]
    assert dates(monthly(D(2027, 1, 29)), 3) == [D(2027, 1, 29), D(2027, 2, 28), D(2027, 3, 29)]


def test_yearly_on_feb_29_uses_feb_28_in_common_years_and_feb_29_in_leap_years() -> None:
    t = monthly(D(2024, 2, 29), every="year")
    assert dates(t, 5) == [D(2024, 2, 29), D(2025, 2, 28), D(2026, 2, 28), D(2027, 2, 28), D(2028, 2, 29)]
    # 2100 is not a leap year, 2400 would be
    assert occurrence_date(D(2096, 2, 29), 1, "year", 4) == D(2100, 2, 28)


def test_every_n_days_weeks_months_across_year_end() -> None:
    assert dates(monthly(D(2026, 12, 25), every="10 days"), 3) == [D(2026, 12, 25), D(2027, 1, 4), D(2027, 1, 14)]
    assert dates(monthly(D(2026, 12, 20), every="2 weeks"), 3) == [D(2026, 12, 20), D(2027, 1, 3), D(2027, 1, 17)]
    assert dates(monthly(D(2026, 11, 30), every="3 months"), 3) == [D(2026, 11, 30), D(2027, 2, 28), D(2027, 5, 30)]


@given(start=st.dates(min_value=D(1990, 1, 1), max_value=D(2150, 12, 31)), months=st.integers(0, 600))
def test_add_months_property(start: D, months: int) -> None:
    got = add_months(start, months)
    total = start.year * 12 + start.month - 1 + months
    assert got.year * 12 + got.month - 1 == total
    assert got.day == start.day or (got.day < start.day and (got + dt.timedelta(days=1)).day == 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("month", (1, "month")),
        ("monthly", (1, "month")),
        ("2 weeks", (2, "week")),
        ("3months", (3, "month")),
        ("every 10 days", (10, "day")),
        ("Year", (1, "year")),
        ("weekly", (1, "week")),
    ],
)
def test_parse_every(text: str, expected: tuple[int, str]) -> None:
    assert parse_every(text) == expected


@pytest.mark.parametrize("text", ["fortnight", "0 days", "-1 week", "2", "", "1001 days", "2 mon"])
def test_parse_every_rejects(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_every(text)
    assert info.value.field == "every"


def test_template_validation() -> None:
    with pytest.raises(ValidationError, match="end"):
        monthly(D(2026, 5, 1), end=D(2026, 4, 30))
    with pytest.raises(ValidationError, match="amount"):
        monthly(D(2026, 5, 1), amount="0")
    with pytest.raises(ValidationError, match="past occurrences"):
        make_template(
            type="expense",
            amount="1",
            category="X",
            currency="EUR",
            every="day",
            start="1990-01-01",
            today=D(2026, 1, 1),
        )


def test_meta_round_trip_and_corrupt_meta() -> None:
    t = dataclasses.replace(
        monthly(D(2026, 1, 31), tags=["home", "Fixed"], note="flat", end="2026-12-31"), next_index=3
    )
    assert templates_from_meta(json.loads(json.dumps(templates_to_meta([t])))) == [t]
    with pytest.raises(ValidationError):
        templates_from_meta([{"id": "x"}])
    with pytest.raises(ValidationError):
        templates_from_meta({"not": "a list"})


def test_due_respects_end_inclusive_and_state() -> None:
    t = monthly(D(2026, 1, 15), end=D(2026, 4, 15))
    assert [d for _, d in t.due(D(2026, 12, 31))] == [D(2026, 1, 15), D(2026, 2, 15), D(2026, 3, 15), D(2026, 4, 15)]
    t2 = dataclasses.replace(t, next_index=2)
    assert t2.due(D(2026, 3, 14)) == []
    assert [d for _, d in t2.due(D(2026, 3, 15))] == [D(2026, 3, 15)]
    assert dataclasses.replace(t, next_index=4).finished


def test_upcoming_lists_future_dates_only() -> None:
    t = monthly(D(2026, 1, 31))
    assert t.upcoming(D(2026, 3, 31), 3) == [D(2026, 4, 30), D(2026, 5, 31), D(2026, 6, 30)]
    weekly = monthly(D(2026, 11, 2), every="week", category="Gym")
    pairs = upcoming_all([t, weekly], D(2026, 11, 20), days=14)
    assert [(d, x.category) for d, x in pairs] == [
        (D(2026, 11, 23), "Gym"),
        (D(2026, 11, 30), "Gym"),
        (D(2026, 11, 30), "Rent"),
    ]


def test_plan_posting_skips_ids_already_present_but_advances_state() -> None:
    t = monthly(D(2026, 1, 31))
    existing = {t.transaction_id(D(2026, 2, 28))}
    plan = plan_posting([t], D(2026, 3, 31), existing)
    assert [x.date for x in plan.transactions] == [D(2026, 1, 31), D(2026, 3, 31)]
    assert plan.templates[0].next_index == 3
    assert all(x.id == t.transaction_id(x.date) for x in plan.transactions)


def test_find_template_by_prefix() -> None:
    a = monthly(D(2026, 1, 1), id="abcd1111")
    b = monthly(D(2026, 1, 1), id="abcd2222")
    assert find_template([a, b], "abcd2") is b
    with pytest.raises(ValidationError, match="several"):
        find_template([a, b], "abcd")
    with pytest.raises(NotFoundError):
        find_template([a, b], "zzzz")


# --- posting on a ledger --------------------------------------------------------------------------------------


def rec_ids(ledger: Ledger) -> list[str]:
    ids = [str(i) for i in ledger.frame()["id"]]
    return sorted(i for i in ids if i.startswith("rec-"))


def test_laptop_opened_after_three_weeks_posts_the_three_weekly_ones(ledger: Ledger) -> None:
    t = add_template(ledger, monthly(D(2026, 11, 2), every="week", category="Cleaner", amount="40"))
    assert post_due(ledger, D(2026, 11, 2)) == 1
    assert post_due(ledger, D(2026, 11, 8)) == 0
    assert post_due(ledger, D(2026, 11, 29)) == 3  # the 9th, 16th and 23rd
    got = sorted(tx.date for tx in ledger.transactions())
    assert got == [D(2026, 11, 2), D(2026, 11, 9), D(2026, 11, 16), D(2026, 11, 23)]
    assert all(tx.amount_minor == 4000 and tx.category == "Cleaner" for tx in ledger.transactions())
    assert load_templates(ledger)[0].next_index == 4
    assert rec_ids(ledger) == sorted(t.transaction_id(d) for d in got)


def test_posting_is_one_commit_and_a_restart_posts_nothing_more(data_dir: Path) -> None:
    led = Ledger(data_dir)
    add_template(led, monthly(D(2026, 1, 31), tags=["home"], note="flat"))
    before = led.revision
    assert post_due(led, D(2026, 5, 1)) == 4
    assert led.revision == before + 1
    again = Ledger(data_dir)  # a restart
    assert post_due(again, D(2026, 5, 1)) == 0
    assert again.revision == before + 1
    txs = again.transactions()
    assert [t.date for t in txs] == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30)]
    assert {(t.tags, t.note, t.type, t.currency) for t in txs} == {(("home",), "flat", "expense", "EUR")}


def test_undo_of_a_posting_reverts_transactions_and_state_together(ledger: Ledger) -> None:
    add_template(ledger, monthly(D(2026, 1, 10)))
    assert post_due(ledger, D(2026, 3, 10)) == 3
    assert ledger.undo() is not None
    assert len(ledger) == 0
    assert load_templates(ledger)[0].next_index == 0
    assert post_due(ledger, D(2026, 3, 10)) == 3
    assert len(rec_ids(ledger)) == 3


def test_a_deleted_occurrence_is_not_posted_again(ledger: Ledger) -> None:
    t = add_template(ledger, monthly(D(2026, 1, 10)))
    post_due(ledger, D(2026, 2, 10))
    ledger.delete(t.transaction_id(D(2026, 1, 10)))
    assert post_due(ledger, D(2026, 2, 20)) == 0
    assert rec_ids(ledger) == [t.transaction_id(D(2026, 2, 10))]


def test_state_behind_the_transactions_never_double_posts(ledger: Ledger) -> None:
    """A logic slip (state reset) cannot duplicate: the deterministic ids are checked."""
    t = add_template(ledger, monthly(D(2026, 1, 10)))
    post_due(ledger, D(2026, 3, 10))
    edited = ledger.transactions()[0]
    ledger.update(edited.id, note="edited by hand")
    ledger.set_meta("recurring", templates_to_meta([dataclasses.replace(t, next_index=0)]))
    assert post_due(ledger, D(2026, 4, 10)) == 1  # only April is new
    assert len(rec_ids(ledger)) == 4
    assert ledger.get(edited.id).note == "edited by hand"  # not overwritten
    assert load_templates(ledger)[0].next_index == 4


def test_end_date_and_delete(ledger: Ledger) -> None:
    t = add_template(ledger, monthly(D(2026, 1, 10), end=D(2026, 2, 10)))
    assert post_due(ledger, D(2027, 1, 1)) == 2
    assert load_templates(ledger)[0].finished
    gone = delete_template(ledger, t.id[:6])
    assert gone.id == t.id
    assert load_templates(ledger) == []
    assert len(ledger) == 2  # posted transactions stay
    with pytest.raises(NotFoundError):
        delete_template(ledger, t.id)


def test_nothing_due_takes_no_commit(ledger: Ledger) -> None:
    add_template(ledger, monthly(D(2030, 1, 1)))
    rev = ledger.revision
    assert post_due(ledger, D(2026, 1, 1)) == 0
    assert ledger.revision == rev
    assert post_due(Ledger(ledger.location)) == 0  # default today, empty of due


def test_leap_day_posting_across_years(ledger: Ledger) -> None:
    add_template(ledger, monthly(D(2024, 2, 29), every="year", category="Insurance"))
    assert post_due(ledger, D(2028, 2, 28)) == 4
    assert post_due(ledger, D(2028, 2, 29)) == 1
    assert [t.date for t in ledger.transactions()] == [
        D(2024, 2, 29),
        D(2025, 2, 28),
        D(2026, 2, 28),
        D(2027, 2, 28),
        D(2028, 2, 29),
    ]


# --- real processes -------------------------------------------------------------------------------------------


def _cli(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tracker.cli", "--data-dir", str(data_dir), *args]


def test_two_concurrent_cli_runs_post_each_occurrence_exactly_once(data_dir: Path) -> None:
    led = Ledger(data_dir)
    templates = [
        add_template(led, monthly(D(2025, 1, 31), category=f"Bill{n}", every=every))
        for n, every in enumerate(["month", "week", "3 days", "2 weeks", "day"])
    ]
    through = D(2026, 11, 1)
    expected = sorted(t.transaction_id(d) for t in templates for _, d in t.due(through))
    assert len(expected) > 700
    for _round in range(2):
        procs = [
            subprocess.Popen(
                _cli(data_dir, "recurring", "run", "--through", through.isoformat(), "--format", "json"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        posted = [json.loads(out)["posted"] for out, _ in outs]
        assert sum(posted) == (len(expected) if _round == 0 else 0)
    fresh = Ledger(data_dir)
    assert rec_ids(fresh) == expected
    assert len(fresh) == len(expected)


BARRIER_SCRIPT = """
import datetime as dt, sys
from tracker.ledger import Ledger
from tracker.recurring import post_due
led = Ledger(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()  # released by the test, all processes at once
print(post_due(led, dt.date.fromisoformat(sys.argv[2])), flush=True)
"""


@pytest.mark.slow
def test_four_processes_released_at_the_same_instant(data_dir: Path) -> None:
    led = Ledger(data_dir)
    templates = [add_template(led, monthly(D(2026, 1, 1), category=f"C{n}", every="day")) for n in range(3)]
    total = 0
    for through in (D(2026, 3, 1), D(2026, 6, 30)):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", BARRIER_SCRIPT, str(data_dir), through.isoformat()],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        total += sum(int(out) for out, _ in outs)
    expected = sorted(t.transaction_id(d) for t in templates for _, d in t.due(D(2026, 6, 30)))
    assert total == len(expected) == 3 * 181
    assert rec_ids(Ledger(data_dir)) == expected


@pytest.mark.slow
def test_killed_runs_then_a_restart_leave_exactly_the_due_occurrences(data_dir: Path) -> None:
    """SIGKILL ``recurring run`` at random instants; each time the ledger holds exactly occurrences 0..next_index-1."""
    led = Ledger(data_dir)
    t = add_template(led, monthly(D(2023, 1, 1), every="day", category="Daily"))
    rng = random.Random(7)
    horizon = D(2023, 1, 1)
    for _ in range(6):
        horizon += dt.timedelta(days=60)
        proc = subprocess.Popen(
            _cli(data_dir, "recurring", "run", "--through", horizon.isoformat()),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 1.2))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        check = Ledger(data_dir)
        state = load_templates(check)[0]
        assert rec_ids(check) == sorted(t.transaction_id(t.occurrence(i)) for i in range(state.next_index))
    done = subprocess.run(
        _cli(data_dir, "recurring", "run", "--through", horizon.isoformat()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    final = Ledger(data_dir)
    assert rec_ids(final) == sorted(t.transaction_id(d) for _, d in t.due(horizon))


@settings(max_examples=40, deadline=None)
@given(
    start=st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31)),
    every=st.integers(1, 5),
    unit=st.sampled_from(["day", "week", "month", "year"]),
    cuts=st.lists(st.integers(0, 400), min_size=1, max_size=5),
)
def test_posting_in_steps_equals_posting_at_once(start: D, every: int, unit: str, cuts: list[int]) -> None:
    t = make_template(
        type="income", amount="5", category="X", currency="USD", every=every, unit=unit, start=start, today=start
    )
    final = start + dt.timedelta(days=max(cuts))
    stepped: list[D] = []
    current = t
    for cut in sorted(cuts):
        plan = plan_posting([current], start + dt.timedelta(days=cut), {t.transaction_id(d) for d in stepped})
        stepped += [tx.date for tx in plan.transactions]
        current = plan.templates[0]
    once = [tx.date for tx in plan_posting([t], final).transactions]
    assert stepped == once
    assert len(set(stepped)) == len(stepped)
    assert stepped == sorted(stepped)
