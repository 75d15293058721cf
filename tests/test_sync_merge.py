"""The merge rules (tracker.sync.merge) and the clock (tracker.sync.clock), as pure functions."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.model import make_transaction
from tracker.sync.clock import Clock, make_stamp, parse_stamp
from tracker.sync.merge import (
    ALIVE,
    TX_GROUPS,
    concurrent,
    merged,
    meta_value,
    meta_values,
    pack,
    stamped,
    tx_entity,
    tx_record,
    tx_values,
    unpack,
)

A, B, C = "a" * 16, "b" * 16, "c" * 16


def record(**fields: object) -> dict:
    base = {"type": "expense", "amount": "10", "category": "Food", "currency": "USD", "account": "Main"}
    base.update(fields)
    return make_transaction(**base).to_record()  # type: ignore[arg-type]


def test_every_record_field_but_the_id_is_in_exactly_one_register() -> None:
    fields = [f for group in TX_GROUPS.values() for f in group]
    assert sorted(fields) == sorted(set(fields))
    assert set(fields) == set(record()) - {"id"}


def test_a_record_round_trips_through_its_registers() -> None:
    rec = record(tags=["a", "b"], note="hi")
    regs = stamped(tx_values(rec), None, make_stamp(1, 0, A), 1)
    assert tx_record(tx_entity(rec["id"]), regs) == rec


def test_a_split_keeps_its_category_whatever_register_won() -> None:
    split = record(category=None, splits=[{"category": "A", "amount": "4"}, {"category": "B", "amount": "6"}])
    regs = stamped(tx_values(split), None, make_stamp(1, 0, A), 1)
    later = {"category": [make_stamp(2, 0, B), "Dining", 1]}  # another device recategorised the unsplit original
    out = tx_record(tx_entity(split["id"]), merged(regs, later) or regs)
    assert out is not None
    assert out["category"] == "Split"
    unsplit = {"money": [make_stamp(3, 0, C), [*regs["money"][1][:4], [], *regs["money"][1][5:]], 1]}
    out = tx_record(tx_entity(split["id"]), merged(regs, unsplit) or regs)
    assert out is not None
    assert out["category"] == "Uncategorized"


def test_only_changed_registers_are_stamped_and_a_deletion_is_a_tombstone() -> None:
    rec = record()
    regs = stamped(tx_values(rec), None, make_stamp(1, 0, A), 1)
    edited = {**rec, "note": "changed"}
    assert set(stamped(tx_values(edited), regs, make_stamp(2, 0, A), 2)) == {"note"}
    gone = stamped(None, regs, make_stamp(3, 0, A), 3)
    assert gone == {ALIVE: [make_stamp(3, 0, A), False, 3]}
    assert tx_record(tx_entity(rec["id"]), {**regs, **gone}) is None


def test_concurrent_edits_are_told_from_later_ones() -> None:
    mine = {"note": [make_stamp(5, 0, A), "mine", 4]}
    theirs = {"note": [make_stamp(6, 0, B), "theirs", 9]}
    assert concurrent(mine, theirs, seen={A: 3}) == ["note"]  # they had not seen our segment 4
    assert concurrent(mine, theirs, seen={A: 4}) == []  # they had: a later edit, not a conflict


def test_meta_values_split_into_entries_and_come_back() -> None:
    accounts = {
        "accounts": [
            {"name": "Main", "kind": "checking", "currency": "USD", "opening_minor": 0},
            {"name": "Cash", "kind": "cash", "currency": "EUR", "opening_minor": 500},
        ],
        "default": "Main",
    }
    entries = meta_values("accounts", accounts)
    back = meta_value("accounts", entries)
    assert back["default"] == "Main"
    assert sorted(back["accounts"], key=lambda a: a["name"]) == sorted(accounts["accounts"], key=lambda a: a["name"])
    settings_value = {"currency": "EUR", "theme": "dark"}
    assert meta_value("settings", meta_values("settings", settings_value)) == settings_value
    rules = [{"pattern": "b"}, {"pattern": "a"}]
    assert meta_value("rules", meta_values("rules", rules)) == rules  # an ordered list merges as a whole
    assert meta_value("budgets", meta_values("budgets", [])) == []


def test_the_clock_moves_past_what_it_sees_and_never_back() -> None:
    now = [100]
    clock = Clock(A, now_ms=lambda: now[0])
    first = clock.tick()
    now[0] = 50
    second = clock.tick()  # the wall clock went back: the counter goes on
    assert second > first
    clock.see(make_stamp(150, 7, B))
    third = clock.tick()
    assert parse_stamp(third)[:2] == (150, 8)
    now[0] = 200
    assert clock.tick() == make_stamp(200, 0, A)
    clock.see(make_stamp(200 + 2 * 24 * 3600 * 1000, 0, B))  # absurdly far ahead: not followed
    assert clock.tick() == make_stamp(200, 1, A)


REG = st.tuples(st.integers(1, 6), st.sampled_from([A, B, C]), st.integers(0, 3))


@settings(max_examples=200)
@given(st.lists(st.dictionaries(st.sampled_from(["note", "tags", ALIVE]), REG, min_size=1), min_size=1, max_size=6))
def test_merging_is_independent_of_order_and_repetition(updates: list[dict]) -> None:
    batches = [{name: [make_stamp(w, c, d), f"{name}{w}{c}{d}", 1] for name, (w, d, c) in u.items()} for u in updates]
    results = []
    for order in itertools.islice(itertools.permutations(batches), 24):
        state: dict = {}
        for batch in [*order, *order[:1]]:  # one batch delivered twice
            state = merged(state, batch) or state
        results.append(state)
    assert all(r == results[0] for r in results)


@pytest.mark.parametrize("bad", ["", "1-2-3", make_stamp(1, 0, A)[:-1]])
def test_a_malformed_stamp_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_stamp(bad)


def test_registers_pack_with_their_common_stamp_once_and_unpack_the_same() -> None:
    regs = stamped(tx_values(record()), None, make_stamp(1, 0, A), 1)
    regs["note"] = [make_stamp(2, 0, B), "later", 4]
    packed = pack(regs)
    assert packed[:2] == [make_stamp(1, 0, A), 1]
    assert packed[3] == {"note": regs["note"]}
    assert unpack(packed) == regs
    for bad in ([], ["x", 1, {}], [make_stamp(1, 0, A), "1", {}], [make_stamp(1, 0, A), 1, {}, {"n": ["x", 1, 1]}]):
        with pytest.raises(ValueError):
            unpack(bad)
