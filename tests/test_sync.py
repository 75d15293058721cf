"""Sync through a real folder (tracker.sync): what merges, what wins, what is refused, what is ignored.

Every device is a real data folder with its own ledger; the sync location is a real folder on disk (what
Syncthing or Dropbox would carry between computers; tests/test_sync_engines.py runs the real engines).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import SHARED_FIXTURES, THOROUGH
from hypothesis import given, settings
from hypothesis import strategies as st
from sync_helpers import Device, assert_converged, folder_devices, sync_all

from tracker.accounts import add_account, add_transfer
from tracker.budgets import set_budget
from tracker.errors import NotFoundError, SyncError
from tracker.importers.commit import import_file
from tracker.ledger import Ledger
from tracker.sync.session import folder_location, status, turn_off
from tracker.sync.syncer import sync_now

SCALE = 10 if THOROUGH else 1


def test_changes_made_on_each_device_reach_the_other(tmp_path: Path) -> None:
    a, b = folder_devices(tmp_path, ["laptop", "desktop"])
    lunch = a.ledger.add_expense("12.50", category="Food", note="lunch")
    b.ledger.add_income("100", category="Salary")
    first = a.sync()
    assert (first.sent, first.received) == (1, 0)
    second = b.sync()
    assert (second.sent, second.received) == (1, 1)
    a.sync()
    assert_converged([a, b])
    assert b.ledger.get(lunch.id) == lunch  # every field, the id, the creation time


def test_edits_of_different_fields_on_two_devices_both_survive(tmp_path: Path) -> None:
    a, b = folder_devices(tmp_path, ["a", "b"])
    tx = a.ledger.add_expense("20", category="Food")
    sync_all([a, b])
    a.ledger.update(tx.id, note="from a")
    b.ledger.update(tx.id, category="Dining", amount="21")
    sync_all([a, b])
    assert_converged([a, b])
    got = a.ledger.get(tx.id)
    assert (got.note, got.category, str(got.amount)) == ("from a", "Dining", "21.00")


def test_the_same_field_edited_on_both_keeps_the_later_and_lists_the_conflict(tmp_path: Path) -> None:
    a, b = folder_devices(tmp_path, ["a", "b"])
    tx = a.ledger.add_expense("20", category="Food")
    sync_all([a, b])
    a.ledger.update(tx.id, note="earlier")
    b.ledger.update(tx.id, note="later")
    a.sync()
    report = b.sync()
    assert report.conflicts_resolved == 1
    assert "edited on both devices; kept the later: 'later'" in report.conflicts[0]
    a.sync()
    assert_converged([a, b])
    assert a.ledger.get(tx.id).note == "later"
    assert "kept the later" in status(b.data_dir)["conflicts"][0]["text"]


def test_a_deletion_beats_an_edit_made_before_it_and_an_undo_brings_it_back(tmp_path: Path) -> None:
    a, b = folder_devices(tmp_path, ["a", "b"])
    tx = a.ledger.add_expense("20", category="Food")
    sync_all([a, b])
    b.ledger.update(tx.id, note="edited first")
    a.ledger.delete(tx.id)
    sync_all([a, b])
    assert_converged([a, b])
    assert len(b.ledger) == 0
    a.ledger.undo()  # the undo of the deletion is an ordinary change for the others
    sync_all([a, b])
    assert_converged([a, b])
    assert b.ledger.get(tx.id).amount == tx.amount


def test_undoing_a_merge_is_sent_like_any_change(tmp_path: Path) -> None:
    a, b = folder_devices(tmp_path, ["a", "b"])
    tx = a.ledger.add_expense("5", category="Coffee")
    sync_all([a, b])
    assert b.ledger.undo() == "sync from other devices"
    sync_all([a, b])
    assert_converged([a, b])
    with pytest.raises(NotFoundError):
        a.ledger.get(tx.id)


def test_a_first_sync_merges_what_each_device_already_had(tmp_path: Path) -> None:
    location = tmp_path / "location"
    location.mkdir()
    for name, amount in (("a", "1"), ("b", "2")):
        Ledger(tmp_path / name).add_expense(amount, category="Old", note=f"before sync on {name}")
    a = Device(tmp_path, "a", folder_location(location))
    b = Device(tmp_path, "b", folder_location(location))
    sync_all([a, b])
    assert_converged([a, b])
    assert sorted(a.ledger.frame()["note"]) == ["before sync on a", "before sync on b"]


def test_accounts_transfers_budgets_and_settings_sync_entry_by_entry(tmp_path: Path) -> None:
    a, b = folder_devices(tmp_path, ["a", "b"])
    add_account(a.ledger, "Savings", kind="savings")
    add_account(b.ledger, "Cash", kind="cash")
    set_budget(a.ledger, "Food", "300")
    set_budget(b.ledger, "Rent", "900")
    a.ledger.update_settings(theme="dark")
    b.ledger.update_settings(number_format="1.234,56")
    sync_all([a, b])
    add_transfer(b.ledger, "50", source="Cash", target="Savings")  # into an account made on the other device
    sync_all([a, b])
    assert_converged([a, b])
    names = {acc["name"] for acc in a.ledger.meta("accounts")["accounts"]}
    assert {"Savings", "Cash"} <= names
    assert {s["category"] for s in a.ledger.meta("budgets")} == {"Food", "Rent"}
    assert (a.ledger.settings["theme"], a.ledger.settings["number_format"]) == ("dark", "1.234,56")
    assert sorted(a.ledger.frame()["type"]) == ["transfer", "transfer"]


def test_the_same_bank_file_imported_on_two_devices_gives_one_copy(tmp_path: Path) -> None:
    a, b = folder_devices(tmp_path, ["a", "b"])
    statement = SHARED_FIXTURES / "ofx" / "checking.ofx"
    added_a = len(import_file(a.ledger, statement).added)
    added_b = len(import_file(b.ledger, statement).added)
    assert added_a == added_b > 0
    sync_all([a, b], rounds=3)
    assert_converged([a, b])
    assert len(a.ledger) == added_a
    assert len(import_file(a.ledger, statement).added) == 0  # and it is still recognised as imported


def test_splits_and_original_amounts_travel_whole(tmp_path: Path) -> None:
    a, b = folder_devices(tmp_path, ["a", "b"])
    tx = a.ledger.add_expense(
        "100",
        category=None,
        splits=[{"category": "Groceries", "amount": "70"}, {"category": "Household", "amount": "30"}],
        original_amount="92.00",
        original_currency="EUR",
    )
    sync_all([a, b])
    assert b.ledger.get(tx.id) == tx


def test_encrypted_files_reveal_nothing(tmp_path: Path, test_keyring: None) -> None:
    a, b = folder_devices(tmp_path, ["a", "b"], encrypted=True, passphrase="correct horse battery")
    a.ledger.add_expense("12.34", category="Pharmacy", note="very private note")
    sync_all([a, b])
    assert_converged([a, b])
    for path in (tmp_path / "location").iterdir():
        data = path.read_bytes()
        assert b"Pharmacy" not in data
        assert b"private" not in data


def test_foreign_and_conflicted_files_are_ignored_and_reported(tmp_path: Path) -> None:
    a, b = folder_devices(tmp_path, ["a", "b"])
    a.ledger.add_expense("3", category="Food")
    a.sync()
    location = tmp_path / "location"
    segment = next(p for p in location.iterdir() if p.name.startswith("seg-"))
    (location / f"{segment.stem} (conflicted copy 2026-12-04).ets").write_bytes(b"junk")
    (location / "holiday.jpg").write_bytes(b"\xff\xd8")
    (location / ".syncthing.seg-x.ets.tmp").write_bytes(b"partial")
    report = b.sync()
    assert report.received == 1
    assert sorted(report.ignored) == sorted([f"{segment.stem} (conflicted copy 2026-12-04).ets", "holiday.jpg"])


def test_a_damaged_segment_is_refused_and_reported_while_the_rest_syncs(tmp_path: Path) -> None:
    a, b, c = folder_devices(tmp_path, ["a", "b", "c"])
    a.ledger.add_expense("1", category="A")
    c.ledger.add_expense("2", category="C")
    a.sync()
    c.sync()
    location = tmp_path / "location"
    damaged = next(p for p in location.iterdir() if p.name.startswith(f"seg-{a.config.device}"))
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 0xFF
    damaged.write_bytes(bytes(data))
    report = b.sync()
    assert report.received == 1
    assert b.ledger.frame()["category"].tolist() == ["C"]
    assert any(damaged.name in p for p in report.problems)


def test_sync_without_set_up_or_an_unreachable_folder_is_a_clear_error(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "alone")
    with pytest.raises(SyncError, match="sync is not set up"):
        sync_now(ledger)
    (a,) = folder_devices(tmp_path, ["a"])
    a.ledger.add_expense("1", category="A")
    before = sorted(p.name for p in a.data_dir.iterdir())
    os.rename(tmp_path / "location", tmp_path / "moved")
    with pytest.raises(SyncError, match="location"):
        a.sync()
    assert sorted(p.name for p in a.data_dir.iterdir()) == before
    assert "location" in status(a.data_dir)["last_error"]
    os.rename(tmp_path / "moved", tmp_path / "location")
    assert a.sync().sent == 1


def test_sync_off_leaves_the_data_as_it_was(tmp_path: Path) -> None:
    (a,) = folder_devices(tmp_path, ["a"])
    a.ledger.add_expense("1", category="A")
    a.sync()
    frame = a.ledger.frame().copy()
    assert turn_off(a.data_dir)
    assert not (a.data_dir / "sync").exists()
    assert Ledger(a.data_dir).frame().equals(frame)


def test_segments_are_compacted_into_a_snapshot_and_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.sync import syncer

    monkeypatch.setattr(syncer, "SNAPSHOT_AFTER_SEGMENTS", 3)
    a, b = folder_devices(tmp_path, ["a", "b"])
    for i in range(5):
        a.ledger.add_expense(str(i + 1), category="Food")
        sync_all([a, b], rounds=1)
    for i in range(4):  # b's snapshot comes later and covers less of a's segments than a's own
        b.ledger.add_expense(str(i + 10), category="Rent")
        sync_all([b, a], rounds=1)
    sync_all([a, b])
    names = sorted(p.name for p in (tmp_path / "location").iterdir())
    mine = [n for n in names if n.startswith(f"seg-{a.config.device}")]
    assert len(mine) < 5
    assert any(n.startswith(f"snap-{a.config.device}") for n in names)
    assert any(n.startswith(f"snap-{b.config.device}") for n in names)
    late = Device(tmp_path, "late", folder_location(tmp_path / "location"))  # a new device starts from the snapshot
    late.sync()
    assert_converged([a, b, late])


OPS = st.lists(
    st.tuples(
        st.integers(0, 2),  # which device
        st.sampled_from(["add", "edit", "edit_amount", "delete", "undo", "sync", "carry", "carry"]),
        st.integers(0, 50),  # which row / what value / which files are carried
    ),
    min_size=1,
    max_size=30,
)


def _carry(source: Path, target: Path, pick: int | None = None) -> None:
    """What a file-sync engine does, in any order and a few files at a time: copy some of the files ``target``
    lacks (each whole: the engines rename a finished file into place). Deletions are not carried (a device's
    older acknowledgements may come back: it deletes them again)."""
    missing = sorted(p.name for p in source.iterdir() if not (target / p.name).exists())
    chosen = missing if pick is None else [n for i, n in enumerate(missing) if (pick >> (i % 6)) & 1]
    for name in chosen:
        (target / name).write_bytes((source / name).read_bytes())


@settings(max_examples=25 * SCALE)
@given(OPS)
def test_any_interleaving_and_delivery_order_on_three_devices_converges(
    tmp_path_factory: pytest.TempPathFactory, ops: list
) -> None:
    root = tmp_path_factory.mktemp("three")
    devices = []
    for i in range(3):
        folder = root / f"folder{i}"  # each device its own sync folder, as with Syncthing
        folder.mkdir()
        devices.append(Device(root, f"d{i}", folder_location(folder)))
    folders = [Path(d.config.location["path"]) for d in devices]
    for who, op, n in ops:
        device = devices[who]
        ledger = device.ledger
        ledger.refresh()
        ids = sorted(ledger.frame()["id"])
        if op == "add" or (not ids and op in ("edit", "edit_amount", "delete")):
            ledger.add_expense(str(n + 1), category=f"C{n % 4}")
        elif op == "edit":
            ledger.update(ids[n % len(ids)], note=f"n{n}", category=f"C{n % 3}")
        elif op == "edit_amount":
            ledger.update(ids[n % len(ids)], amount=str(n + 2))
        elif op == "delete":
            ledger.delete(ids[n % len(ids)])
        elif op == "undo":
            ledger.undo()
        elif op == "sync":
            device.sync()
        else:  # some of this device's folder's files reach the next device's folder
            _carry(folders[who], folders[(who + 1 + n % 2) % 3], pick=n)
    for _ in range(2):  # in the end everything reaches everyone
        for device in devices:
            device.sync()
        for i in range(3):
            for j in range(3):
                if i != j:
                    _carry(folders[i], folders[j])
    for device in devices:
        device.sync()
    assert_converged(devices)


@pytest.fixture
def test_keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from sync_fixtures import use_test_keyring

    use_test_keyring(monkeypatch, tmp_path)


def test_damaged_sync_settings_can_still_be_turned_off(tmp_path: Path) -> None:
    (a,) = folder_devices(tmp_path, ["a"])
    (a.data_dir / "sync" / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SyncError, match="set sync up again"):
        a.sync()
    assert turn_off(a.data_dir)
    assert status(a.data_dir) == {"set_up": False}


def test_rates_recurring_templates_and_rules_sync_too(tmp_path: Path) -> None:
    import datetime as dt

    from tracker.importers.rules import RULES, Rule, add_rule
    from tracker.rates import RATES, add_rate
    from tracker.recurring import add_template, load_templates, make_template

    a, b = folder_devices(tmp_path, ["a", "b"])
    add_rate(a.ledger, "2026-11-02", "EUR", "USD", "1.0823")
    add_rate(b.ledger, "2026-11-02", "GBP", "USD", "1.2710")
    add_rule(a.ledger, Rule("coffee", "Coffee"))
    template = make_template(
        type="expense", amount="40", category="Cleaner", start=dt.date(2026, 11, 2), unit="week", currency="USD"
    )
    add_template(b.ledger, template)
    sync_all([a, b])
    assert_converged([a, b])
    assert set(RATES.read(a.ledger).pairs()) == {("EUR", "USD"), ("GBP", "USD")}
    assert [r.category for r in RULES.read(b.ledger)] == ["Coffee"]
    assert [t.id for t in load_templates(a.ledger)] == [template.id]


def test_lost_bookkeeping_never_turns_an_older_merge_into_a_newer_change(tmp_path: Path) -> None:
    """A device whose sync state and dirty log are gone (killed between committing a merge and saving its state,
    or deleted by hand) compares its whole ledger again: what it holds from older merges must not come back as
    new changes that beat another device's later edit."""
    a, b = folder_devices(tmp_path, ["a", "b"])
    tx = a.ledger.add_expense("20", category="Food", note="original")
    gone = a.ledger.add_expense("5", category="Food", note="deleted on a")
    sync_all([a, b])
    a.ledger.update(tx.id, note="edited on a later")
    a.ledger.delete(gone.id)
    a.sync()
    for name in ("state.db", "state.db-wal", "state.db-shm", "dirty.log"):
        (b.data_dir / "sync" / name).unlink(missing_ok=True)
    b.sync()  # b still holds the original note and the deleted row: neither is news
    sync_all([a, b])
    assert_converged([a, b])
    assert Ledger(b.data_dir).get(tx.id).note == "edited on a later"
    assert list(Ledger(b.data_dir).frame()["id"]) == [tx.id]
