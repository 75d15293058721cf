"""tracker.ledger and the public API in tracker/__init__.py: commits, undo, settings, threads."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracker
import tracker.storage.engine as engine_module
from tracker.errors import NotFoundError, ValidationError
from tracker.filters import Filter
from tracker.frame import COLUMNS
from tracker.ledger import Ledger
from tracker.model import MAX_CATEGORY, MAX_NOTE, MAX_TAG, MAX_TAGS, Transaction, make_transaction

THOROUGH = os.environ.get("EXPENSE_TRACKER_THOROUGH") == "1"
MakeTx = Callable[..., Transaction]
FilesOf = Callable[[Path], dict[str, bytes]]


def by_id(ledger: Ledger) -> dict[str, Transaction]:
    return {t.id: t for t in ledger.transactions()}


def test_add_defaults_and_returns_what_is_stored(ledger: Ledger, data_dir: Path) -> None:
    tx = ledger.add("expense", "12.50", category="Food")
    assert (tx.currency, tx.date, tx.tags, tx.note, tx.external_id) == ("USD", dt.date.today(), (), "", "")
    assert Ledger(data_dir).get(tx.id) == tx
    inc = ledger.add_income(Decimal("100"), category="Job", date="2026-01-01", tags=["a"], note="n", currency="eur")
    exp = ledger.add_expense("3", category="Bus", external_id="row-7")
    assert (inc.type, inc.currency, inc.amount_minor) == ("income", "EUR", 10000)
    assert (exp.type, exp.external_id) == ("expense", "row-7")
    assert ledger.revision == 3
    assert len(ledger) == 3


def test_default_currency_comes_from_settings(ledger: Ledger) -> None:
    ledger.update_settings(currency="jpy")
    assert ledger.default_currency == "JPY"
    assert ledger.add("expense", "1500", category="Food").currency == "JPY"
    with pytest.raises(ValidationError, match="decimal places"):
        ledger.add("expense", "12.50", category="Food")


@pytest.mark.parametrize(
    "attempt",
    [
        lambda led, tx: led.add("expense", 12.5, category="Food"),
        lambda led, tx: led.add("expense", "12", category=""),
        lambda led, tx: led.add("gift", "12", category="Food"),
        lambda led, tx: led.add("expense", "12", category="Food", currency="EURO"),
        lambda led, tx: led.update(tx.id, amount="-1"),
        lambda led, tx: led.update(tx.id, id="new"),
        lambda led, tx: led.update("missing", note="x"),
        lambda led, tx: led.delete("missing"),
        lambda led, tx: led.commit(puts=[tx, tx]),
        lambda led, tx: led.commit(puts=["not a transaction"]),  # type: ignore[list-item]
        lambda led, tx: led.commit(deletes=[tx.id, "missing"]),
        lambda led, tx: led.commit(meta={"budgets": {1, 2}}),
        lambda led, tx: led.commit(meta={"budgets": float("nan")}),
        lambda led, tx: led.add_many([make_transaction(type="income", amount="1", category="x", currency="EUR"), tx]),
        lambda led, tx: led.update_settings(currency="ABC"),
        lambda led, tx: led.update_settings(theme="pink"),
        lambda led, tx: led.update_settings(colour="red"),
        lambda led, tx: led.get(42),  # type: ignore[arg-type]
    ],
)
def test_bad_changes_raise_and_write_nothing(
    ledger: Ledger, data_dir: Path, files_of: FilesOf, attempt: Callable[[Ledger, Transaction], Any]
) -> None:
    tx = ledger.add("expense", "1", category="Food")
    before = files_of(data_dir)
    revision = ledger.revision
    with pytest.raises(ValidationError) as info:
        attempt(ledger, tx)
    assert str(info.value).startswith(f"{info.value.field}: ")
    assert files_of(data_dir) == before
    assert ledger.revision == revision
    assert Ledger(data_dir).transactions() == [tx]


def test_update_changes_fields_and_keeps_identity(ledger: Ledger, data_dir: Path) -> None:
    tx = ledger.add("expense", "10", category="Food", tags=["a"], date="2026-01-01")
    new = ledger.update(tx.id, amount="11.50", category="Rent", tags=["b", "B"], note="x", date="2026-02-01")
    assert (new.id, new.created_at) == (tx.id, tx.created_at)
    assert new.updated_at > tx.updated_at
    assert (new.amount_minor, new.category, new.tags, new.note, new.date) == (
        1150,
        "Rent",
        ("b",),
        "x",
        dt.date(2026, 2, 1),
    )
    assert ledger.update(tx.id, type="income").signed_minor == 1150
    assert Ledger(data_dir).get(tx.id) == ledger.get(tx.id)


def test_update_many_edits_and_deletes_as_one_undoable_change(ledger: Ledger, data_dir: Path) -> None:
    a = ledger.add("expense", "1", category="A", date="2026-01-01")
    b = ledger.add("expense", "2", category="B", date="2026-01-02")
    c = ledger.add("expense", "3", category="C", date="2026-01-03")
    d = ledger.add("expense", "4", category="D", date="2026-01-04")
    revision = ledger.update_many(
        {a.id: {"amount": "1.50", "tags": "x"}, b.id: {"category": "Rent", "type": "income"}, c.id: {"note": ""}},
        deletes=[d.id],
        label="table edit",
    )
    assert revision == ledger.revision == 5
    stored = by_id(Ledger(data_dir))
    assert set(stored) == {a.id, b.id, c.id}
    assert (stored[a.id].amount_minor, stored[a.id].tags) == (150, ("x",))
    assert (stored[b.id].category, stored[b.id].type) == ("Rent", "income")
    assert stored[c.id] == c  # a change that changes nothing is not written (updated_at kept)
    assert stored[a.id].updated_at > a.updated_at
    assert ledger.update_many({c.id: {"note": ""}}) == 5  # nothing to do: no new revision
    assert ledger.undo() == "table edit"
    assert by_id(ledger) == {t.id: t for t in (a, b, c, d)}


@pytest.mark.parametrize(
    ("batch", "field"),
    [
        (lambda a, b: ({a: {"note": "fine"}, b: {"amount": "-3"}}, ()), "amount"),
        (lambda a, b: ({a: {"date": "2026-13-01"}, b: {"note": "fine"}}, ()), "date"),
        (lambda a, b: ({a: {"note": "fine"}, b: {"id": "other"}}, ()), "id"),
        (lambda a, b: ({a: {"note": "fine"}, "nope": {"note": "x"}}, ()), "id"),
        (lambda a, b: ({a: {"note": "fine"}}, ["nope"]), "id"),
        (lambda a, b: ({a: {"note": "fine"}}, [a]), "id"),
    ],
)
def test_update_many_writes_nothing_when_one_change_is_bad(
    ledger: Ledger, data_dir: Path, files_of: FilesOf, batch: Callable[[str, str], Any], field: str
) -> None:
    a = ledger.add("expense", "1", category="A")
    b = ledger.add("expense", "2", category="B")
    before = files_of(data_dir)
    changes, deletes = batch(a.id, b.id)
    with pytest.raises(ValidationError) as info:
        ledger.update_many(changes, deletes)
    assert info.value.field == field
    assert files_of(data_dir) == before
    assert ledger.revision == 2
    assert by_id(Ledger(data_dir)) == {a.id: a, b.id: b}


def test_each_change_reads_the_journal_once(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[object] = []
    read = ledger.backend.read

    def counted(cursor: object) -> Any:
        reads.append(cursor)
        return read(cursor)

    monkeypatch.setattr(ledger.backend, "read", counted)
    tx = ledger.add("expense", "1", category="A")
    assert len(reads) == 1
    ledger.add_income("2", category="Job")
    assert len(reads) == 2
    ledger.add_many([make_transaction(type="expense", amount="3", category="B", currency="USD")])
    assert len(reads) == 3
    ledger.update(tx.id, note="edited")
    assert len(reads) == 4
    ledger.update_many({tx.id: {"note": "again"}})
    assert len(reads) == 5
    ledger.delete(tx.id)
    assert len(reads) == 6
    ledger.set_meta("rules", [])
    assert len(reads) == 7
    ledger.undo()
    assert len(reads) == 8
    with ledger.locked():  # what an import or a category rename does: refresh, compute, commit
        ledger.refresh()
        ledger.commit(meta={"rules": [{"match": "x"}]})
        ledger.refresh()  # nobody else can commit while the lock is held
    assert len(reads) == 9
    ledger.refresh()  # released: another process may have committed since
    assert len(reads) == 10


def test_a_commit_by_another_ledger_is_seen_after_the_lock_was_released(data_dir: Path) -> None:
    first, second = Ledger(data_dir), Ledger(data_dir)
    with first.locked():
        first.refresh()
    tx = second.add("expense", "1", category="A")
    with first.locked():
        assert first.refresh()
        assert first.get(tx.id) == tx
        first.update(tx.id, note="both")
    assert second.get(tx.id).note == ""
    second.update(tx.id, category="B")  # its add's read was fresh only while it held the lock
    assert (second.get(tx.id).note, Ledger(data_dir).get(tx.id).category) == ("both", "B")


def test_delete_returns_the_removed_transaction(ledger: Ledger, data_dir: Path) -> None:
    keep = ledger.add("expense", "1", category="A")
    gone = ledger.add("expense", "2", category="B")
    assert ledger.delete(gone.id) == gone
    with pytest.raises(NotFoundError):
        ledger.get(gone.id)
    assert list(by_id(Ledger(data_dir))) == [keep.id]


def test_commit_is_one_atomic_change(ledger: Ledger, data_dir: Path, make_tx: MakeTx) -> None:
    a, b = ledger.add("expense", "1", category="A"), ledger.add("expense", "2", category="B")
    c = make_tx(amount="3")
    revision = ledger.commit(puts=[c], deletes=[a.id], meta={"rules": [{"match": "x"}]}, label="mixed")
    assert revision == ledger.revision == 3
    assert set(by_id(Ledger(data_dir))) == {b.id, c.id}
    assert ledger.meta("rules") == [{"match": "x"}]
    assert ledger.commit() == 3  # nothing to do: no new revision
    assert ledger.undo() == "mixed"
    assert set(by_id(ledger)) == {a.id, b.id}
    assert ledger.meta("rules") is None


def test_add_many_is_all_or_nothing_and_one_undo_step(ledger: Ledger, make_tx: MakeTx) -> None:
    first = ledger.add("expense", "1", category="A")
    drafts = [make_tx(amount=str(i + 1), note=f"row {i}") for i in range(5)]
    stored = ledger.add_many(drafts, label="import bank.csv")
    assert stored == [dataclasses.replace(d, account="Main") for d in drafts]  # drafts go into the default account
    assert ledger.revision == 2
    assert set(by_id(ledger)) == {first.id, *(d.id for d in drafts)}
    with pytest.raises(ValidationError, match="already used"):
        ledger.add_many([make_tx(), drafts[0]])
    assert ledger.revision == 2
    assert ledger.undo() == "import bank.csv"
    assert list(by_id(ledger)) == [first.id]


def test_undo_walks_back_each_kind_of_change(ledger: Ledger, data_dir: Path) -> None:
    assert ledger.undo() is None
    a = ledger.add("expense", "1", category="A")
    ledger.update(a.id, note="edited")
    ledger.set_meta("budgets", [{"limit": "10.00"}], label="set budgets")
    ledger.update_settings(theme="dark")
    ledger.delete(a.id)
    assert ledger.undo() == "delete"
    assert ledger.get(a.id).note == "edited"
    assert ledger.undo() == "change settings"
    assert ledger.settings["theme"] == "light"
    assert ledger.undo() == "set budgets"
    assert ledger.meta("budgets") is None
    assert ledger.undo() == "edit"
    assert ledger.get(a.id) == a
    assert ledger.undo() == "add expense"
    assert ledger.transactions() == []
    assert ledger.undo() is None
    assert Ledger(data_dir).transactions() == []
    assert ledger.revision == 10  # every undo is itself a commit


def test_undo_depth_is_bounded(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "UNDO_DEPTH", 3)
    txs = [ledger.add("expense", str(i + 1), category="A") for i in range(5)]
    assert [ledger.undo() for _ in range(4)] == ["add expense"] * 3 + [None]
    assert set(by_id(ledger)) == {txs[0].id, txs[1].id}


def test_undo_depth_is_kept_through_folds_and_reloads(
    ledger: Ledger, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "UNDO_DEPTH", 3)
    monkeypatch.setattr(engine_module, "COMPACT_AFTER_ENTRIES", 2)  # folds in the middle of it
    txs = [ledger.add("expense", str(i + 1), category="A") for i in range(5)]
    ledger.engine.fold()
    stored = json.loads((data_dir / "ledger.json").read_bytes())["undo"]
    assert [seq for seq, _ in stored] == [3, 4, 5]  # the newest three, in the compact form
    again = Ledger(data_dir)
    assert [again.undo() for _ in range(4)] == ["add expense"] * 3 + [None]
    assert set(by_id(Ledger(data_dir))) == {txs[0].id, txs[1].id}


def test_meta_values_are_copies(ledger: Ledger) -> None:
    ledger.set_meta("budgets", [{"limit": "10.00"}])
    got = ledger.meta("budgets")
    got.append("mutated")
    assert ledger.meta("budgets") == [{"limit": "10.00"}]
    assert ledger.meta("missing", "default") == "default"
    ledger.set_meta("budgets", None)
    assert ledger.meta("budgets") is None


def test_settings_defaults_and_validation(ledger: Ledger, data_dir: Path) -> None:
    assert ledger.settings == {
        "currency": "USD",
        "number_format": "1,234.56",
        "theme": "light",
        "reporting_currency": "",
    }
    ledger.update_settings(currency="eur", number_format="1.234,56", theme="dark")
    assert Ledger(data_dir).settings == {
        "currency": "EUR",
        "number_format": "1.234,56",
        "theme": "dark",
        "reporting_currency": "",
    }
    ledger.update_settings(reporting_currency="gbp")
    assert Ledger(data_dir).settings["reporting_currency"] == "GBP"
    with pytest.raises(ValidationError, match="currency"):
        ledger.update_settings(reporting_currency="XYZ")
    with pytest.raises(ValidationError) as info:
        ledger.update_settings(number_format="1_234.56")
    assert info.value.field == "number_format"


def test_categories_and_tags_in_use(ledger: Ledger) -> None:
    ledger.add("expense", "1", category="food", tags=["Work", "b"])
    ledger.add("expense", "1", category="Apple", tags=["a"])
    ledger.add("expense", "1", category="Zoo", tags=["work"])
    assert ledger.categories() == ["Apple", "food", "Zoo"]
    assert ledger.tags() == ["a", "b", "work", "Work"] or ledger.tags() == ["a", "b", "Work", "work"]


def test_frame_is_sorted_and_cached_per_revision(ledger: Ledger) -> None:
    late = ledger.add("expense", "1", category="A", date="2026-03-01")
    early = ledger.add("expense", "2", category="B", date="2026-01-01")
    same_day = ledger.add("expense", "3", category="C", date="2026-01-01")
    frame = ledger.frame()
    assert frame["id"].tolist() == [early.id, same_day.id, late.id]
    assert list(frame.columns) == list(COLUMNS)
    assert ledger.frame() is frame
    ledger.update(early.id, date="2026-04-01")
    moved = ledger.frame()
    assert moved is not frame
    assert moved["id"].tolist() == [same_day.id, late.id, early.id]
    assert frame["id"].tolist() == [early.id, same_day.id, late.id]  # the old frame was not modified


def test_locked_is_reentrant_and_makes_read_modify_write_safe(ledger: Ledger, data_dir: Path) -> None:
    other = Ledger(data_dir)
    with ledger.locked(), ledger.locked():
        ledger.refresh()
        ledger.set_meta("counter", (ledger.meta("counter") or 0) + 1)
    other.add("expense", "1", category="X")
    with ledger.locked():
        ledger.refresh()
        ledger.set_meta("counter", ledger.meta("counter") + 1)
    assert Ledger(data_dir).meta("counter") == 2
    assert len(Ledger(data_dir).transactions()) == 1


def test_two_ledgers_on_one_folder_in_two_threads_lose_nothing(data_dir: Path) -> None:
    """Like two Streamlit sessions: each thread has its own Ledger object on the same folder."""
    n = 30
    ledgers = [Ledger(data_dir) for _ in range(3)]
    errors: list[BaseException] = []

    def work(led: Ledger, name: str) -> None:
        try:
            for i in range(n):
                led.add("expense", "1", category="X", note=f"{name}-{i}")
                with led.locked():  # a read-modify-write: a lost update shows in the count
                    led.refresh()
                    led.set_meta("counter", (led.meta("counter") or 0) + 1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(led, f"t{k}")) for k, led in enumerate(ledgers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    final = Ledger(data_dir)
    assert final.meta("counter") == 3 * n
    notes = sorted(t.note for t in final.transactions())
    assert notes == sorted(f"t{k}-{i}" for k in range(3) for i in range(n))
    assert final.revision == 3 * n * 2


def test_one_ledger_shared_by_threads(ledger: Ledger, data_dir: Path) -> None:
    def work(k: int) -> None:
        for i in range(20):
            ledger.add("expense", "1", category="X", note=f"{k}-{i}")
            ledger.frame()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(Ledger(data_dir).transactions()) == 60


# -- the public API ----------------------------------------------------------------------------------


def test_public_api(data_dir: Path, tmp_path: Path) -> None:
    inc = tracker.add_income("1000", "Salary", date="2026-01-01", tags=["job"])
    exp = tracker.add_expense("12.50", "Food", date="2026-01-02", note="lunch", currency="EUR")
    frame = tracker.load_data()
    assert frame["id"].tolist() == [inc.id, exp.id]
    assert list(frame.columns) == list(tracker.COLUMNS)
    frame.loc[0, "category"] = "mutated"
    assert tracker.load_data()["category"].tolist() == ["Salary", "Food"]  # a copy each time
    assert tracker.filter_data(tracker.load_data(), type="income")["id"].tolist() == [inc.id]
    assert tracker.update_transaction(exp.id, amount="13").amount_minor == 1300
    assert tracker.delete_transaction(inc.id) == inc
    assert tracker.undo() == "delete"
    assert tracker.get_ledger() is tracker.get_ledger(data_dir)
    other = tmp_path / "other"
    tracker.add_expense("1", "X", data_dir=other)
    assert len(tracker.load_data(data_dir=other)) == 1
    assert len(tracker.load_data()) == 2
    Ledger(data_dir).add("expense", "5", category="Outside")  # another process, in effect
    assert len(tracker.load_data()) == 3  # get_ledger refreshes
    with pytest.raises(tracker.ValidationError):
        tracker.add_expense(1.5, "Food")


def test_empty_load_data_has_the_schema(data_dir: Path) -> None:
    frame = tracker.load_data()
    assert frame.empty
    assert {c: str(t) for c, t in frame.dtypes.items()} == {c: str(t) for c, t in COLUMNS.items()}


def test_the_backend_never_imports_the_ui_toolkits() -> None:
    code = (
        "import sys, tracker, tracker.cli, tracker.cli.core, tracker.ledger, tracker.storage, tracker.plugins;"
        "tracker.cli.build_parser();"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'webview', 'PyQt6'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# -- properties ---------------------------------------------------------------------------------------

text_chars = st.characters(blacklist_categories=("Cc", "Cs"))
categories = st.text(text_chars, min_size=1, max_size=MAX_CATEGORY).filter(lambda s: s.strip() != "")
notes = st.text(text_chars, max_size=MAX_NOTE)
tag = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1, max_size=MAX_TAG)


@st.composite
def drafts(draw: st.DrawFn) -> Transaction:
    currency = draw(st.sampled_from(["EUR", "USD", "JPY", "KWD", "CLF", "GBP"]))
    exp = {"JPY": 0, "KWD": 3, "CLF": 4}.get(currency, 2)
    minor = draw(st.integers(min_value=1, max_value=10**10 * 10**exp - 1))
    return make_transaction(
        type=draw(st.sampled_from(["income", "expense"])),
        amount=Decimal(minor).scaleb(-exp),
        currency=currency,
        category=draw(categories),
        date=draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31))),
        tags=draw(st.lists(tag.filter(lambda t: not t.isspace() and t.strip().lstrip("#")), max_size=MAX_TAGS)),
        note=draw(notes),
        external_id=draw(st.text(text_chars, max_size=40)),
    )


@settings(max_examples=400 if THOROUGH else 40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(drafts(), min_size=1, max_size=4), st.booleans())
def test_any_valid_transaction_survives_save_and_load_exactly(txs: list[Transaction], fold: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(folder)
        txs = ledger.add_many(txs)
        assert {t.account for t in txs} == {"Main"}
        if fold:
            ledger.engine.fold()
        again = Ledger(folder)
        assert by_id(again) == {t.id: t for t in txs}
        frame = again.frame().set_index("id")
        for t in txs:
            row = frame.loc[t.id]
            assert (row["amount_minor"], row["amount"], row["currency"]) == (t.amount_minor, t.amount, t.currency)
            assert (row["category"], row["note"], row["tags"], row["external_id"]) == (
                t.category,
                t.note,
                t.tags,
                t.external_id,
            )
            assert row["date"].date() == t.date
            assert row["created_at"].to_pydatetime() == t.created_at


operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), drafts()),
        st.tuples(st.just("many"), st.lists(drafts(), min_size=1, max_size=3)),
        st.tuples(st.just("edit"), st.integers(0, 50), categories),
        st.tuples(st.just("delete"), st.integers(0, 50)),
        st.tuples(st.just("meta"), st.sampled_from(["budgets", "rules"]), st.integers() | st.none()),
        st.tuples(st.just("fold")),
    ),
    min_size=1,
    max_size=10,
)


def full_state(ledger: Ledger) -> tuple[dict[str, Transaction], dict[str, Any]]:
    return by_id(ledger), {k: ledger.meta(k) for k in ("budgets", "rules")}


@settings(max_examples=300 if THOROUGH else 25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_undo_after_any_sequence_restores_each_previous_state(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(folder)
        history = []
        for op in ops:
            before = full_state(ledger)
            revision = ledger.revision
            ids = sorted(before[0])
            if op[0] == "add":
                ledger.add_many([op[1]])
            elif op[0] == "many":
                ledger.add_many(op[1])
            elif op[0] == "edit" and ids:
                ledger.update(ids[op[1] % len(ids)], category=op[2])
            elif op[0] == "delete" and ids:
                ledger.delete(ids[op[1] % len(ids)])
            elif op[0] == "meta":
                ledger.set_meta(op[1], op[2])
            elif op[0] == "fold":
                ledger.engine.fold()
            if ledger.revision != revision:
                history.append(before)
        for expected in reversed(history):
            assert ledger.undo() is not None
            assert full_state(ledger) == expected
            assert full_state(Ledger(folder)) == expected
        assert ledger.undo() is None


@pytest.mark.parametrize("kept", [0, 1, 2])
def test_a_fold_after_changing_all_or_all_but_some_stored_rows_keeps_exactly_the_state(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, kept: int
) -> None:
    """Folding when none, one or two rows of the stored snapshot are left unchanged (an edge of the column picking)."""
    led = Ledger(data_dir)
    stored = [led.add_expense(str(n), category="Food", date=f"2026-01-0{n}") for n in range(1, 5)]
    monkeypatch.setattr(engine_module, "COMPACT_AFTER_ENTRIES", 1)
    led.update(stored[0].id, note="folded")  # the 4 rows are now in the snapshot file
    assert (data_dir / "ledger.journal").read_bytes() == b""
    monkeypatch.setattr(engine_module, "COMPACT_AFTER_ENTRIES", 1000)
    for tx in stored[kept:]:
        if tx.amount_minor % 200:
            led.delete(tx.id)
        else:
            led.update(tx.id, amount="99")
    led.add_income("5", category="Gift", date="2026-01-02")
    expected = sorted((t.id, t.amount_minor, t.note) for t in led.transactions())
    monkeypatch.setattr(engine_module, "COMPACT_AFTER_ENTRIES", 1)
    led.add_expense("7", category="Food", date="2025-12-31")  # this commit folds
    assert (data_dir / "ledger.journal").read_bytes() == b""
    expected.append(next((t.id, t.amount_minor, t.note) for t in led.transactions() if t.amount_minor == 700))
    fresh = Ledger(data_dir)
    assert sorted((t.id, t.amount_minor, t.note) for t in fresh.transactions()) == sorted(expected)
    assert list(fresh.frame()["date"]) == sorted(fresh.frame()["date"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    days=st.lists(st.integers(0, 40), min_size=0, max_size=25),
    edits=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 40), st.booleans()), max_size=8),
    bounds=st.tuples(st.one_of(st.none(), st.integers(0, 40)), st.one_of(st.none(), st.integers(0, 40))),
)
def test_frame_where_is_the_frame_cut_to_the_dates(
    tmp_path_factory: pytest.TempPathFactory,
    days: list[int],
    edits: list[tuple[int, int, bool]],
    bounds: tuple[int | None, int | None],
) -> None:
    """Built from the stored columns and the journal's changes, it equals the whole frame filtered by date."""
    folder = tmp_path_factory.mktemp("between")
    base = dt.date(2026, 1, 1)
    writer = Ledger(folder)
    folding = engine_module.COMPACT_AFTER_ENTRIES
    engine_module.COMPACT_AFTER_ENTRIES = 1  # every commit folds: the rows added now end up in the snapshot file
    try:
        added = [
            writer.add_expense(str(n + 1), category="Food", date=base + dt.timedelta(days=d))
            for n, d in enumerate(days)
        ]
    finally:
        engine_module.COMPACT_AFTER_ENTRIES = folding  # what follows stays in the journal
    for pick, day, delete in edits:
        if not added:
            break
        tx = added[pick % len(added)]
        if delete:
            with contextlib.suppress(NotFoundError):
                writer.delete(tx.id)
        else:
            with contextlib.suppress(NotFoundError):
                writer.update(tx.id, date=base + dt.timedelta(days=day))
    writer.add_income("5", category="Gift", date=base + dt.timedelta(days=20))
    start, end = (None if b is None else base + dt.timedelta(days=b) for b in bounds)
    whole = Ledger(folder).frame()
    keep = pd.Series(True, index=whole.index)
    if start is not None:
        keep &= whole["date"] >= pd.Timestamp(start)
    if end is not None:
        keep &= whole["date"] <= pd.Timestamp(end)
    expected = whole[keep].reset_index(drop=True)
    fresh = Ledger(folder).frame_where(Filter(start=start, end=end))  # nothing built yet: from the columns
    pd.testing.assert_frame_equal(fresh, expected)
    built = Ledger(folder)
    built.frame()
    pd.testing.assert_frame_equal(built.frame_where(Filter(start=start, end=end)), expected)  # from the cached frame
    assert list(fresh.columns) == list(COLUMNS)


def test_peek_meta_reads_the_committed_value_without_the_ledger(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``peek_meta`` (the server's quick look at the theme) agrees with the ledger through changes, undo and folds."""
    from tracker.storage import JsonBackend, peek_meta

    def peeked() -> Any:
        return peek_meta(JsonBackend(data_dir), "settings", {})

    led = Ledger(data_dir)
    assert peeked() == {}
    led.update_settings(theme="dark")
    led.add_expense("1", category="Food")
    assert peeked() == Ledger(data_dir).meta("settings") == led.meta("settings")
    assert peeked()["theme"] == "dark"
    led.update_settings(theme="light", currency="EUR")
    assert peeked()["currency"] == "EUR"
    led.undo()
    assert peeked()["theme"] == "dark"
    assert peeked() == Ledger(data_dir).meta("settings")
    monkeypatch.setattr(engine_module, "COMPACT_AFTER_ENTRIES", 1)
    led.update_settings(number_format="1.234,56")  # folds: the value now comes from the snapshot
    assert (data_dir / "ledger.journal").read_bytes() == b""
    assert peeked() == Ledger(data_dir).meta("settings")
    assert peeked()["number_format"] == "1.234,56"
    led.set_meta("settings", None, label="reset")  # deleting the key
    assert peeked() == {}
