"""Storage schemas 2 and 3 (tracker/storage/codec.py, the snapshot columns, the undo form of tracker/storage/undo.py).

What is checked here: a version 1 ledger written the way version 1 wrote it loads to the same frame and
is upgraded (with a byte-identical backup) at the first write; version 0 still migrates, through 1 and 2, to 3;
a version 2 undo history (whole journal entries) becomes the compact one, step for step;
awkward values survive the trip through a snapshot exactly; damaged version 2 files are refused with the
file and the backups named, and nothing on disk changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.errors import CorruptDataError
from tracker.frame import frame_from_transactions
from tracker.ledger import Ledger
from tracker.model import FIELDS, MAX_DATE, MAX_TAG, MIN_DATE, Transaction, from_record, iso_utc, make_transaction
from tracker.storage.codec import JOURNAL_VERSION, SCHEMA_VERSION, check_snapshot, upgrade_snapshot
from tracker.storage.columns import (
    EPOCH,
    STORED_MICROS_RANGE,
    micros,
    record_at,
    records_to_columns,
    stored_columns,
    transaction_at,
    with_added_columns,
    with_added_fields,
)

FilesOf = Callable[[Path], dict[str, bytes]]


def v1_bytes(transactions: list[Transaction], seq: int, meta: dict[str, Any] | None = None) -> bytes:
    """A snapshot exactly as version 1 of the app wrote it: record-form columns, UTF-8, compact."""
    records = sorted((t.to_record() for t in transactions), key=lambda r: (r["date"], r["created_at"], r["id"]))
    snap = {
        "format": "expense-tracker-ledger",
        "schema_version": 1,
        "seq": seq,
        "saved_at": "2026-01-02T03:04:05.000006Z",
        "transactions": records_to_columns(records),
        "meta": meta or {},
        "undo": [],
    }
    return json.dumps(snap, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def v1_journal_line(seq: int, tx: Transaction) -> bytes:
    entry = {
        "schema_version": 1,
        "seq": seq,
        "at": "2026-01-02T03:04:05.000006Z",
        "ops": [{"op": "put", "tx": tx.to_record(), "before": None}],
        "label": "add expense",
        "undo_of": None,
    }
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def tx(**fields: Any) -> Transaction:
    base: dict[str, Any] = {"type": "expense", "amount": "12.50", "category": "Food", "currency": "USD"}
    base["date"] = fields.pop("date", "2026-03-04")
    base["account"] = fields.pop("account", "Main")  # where the ledger (or the schema 4 migration) puts a draft
    return make_transaction(**{**base, **fields})


def awkward() -> list[Transaction]:
    """Values that stress every column's encoding."""
    low, high = STORED_MICROS_RANGE
    at_low = EPOCH + dt.timedelta(microseconds=low)
    at_high = EPOCH + dt.timedelta(microseconds=high)
    every_char = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "#")  # all printable ASCII but space
    rows = [
        tx(
            category="Café ☕ — Zürich",
            note='quote " backslash \\ slash / <tag> & 𝄞 emoji 🧾🇩🇪',
            tags=["naïve", "日本"],
        ),
        tx(
            category="Ünïcödé",
            note="",
            tags=[every_char[i : i + MAX_TAG] for i in range(0, 93, MAX_TAG)],
            currency="EUR",
        ),
        tx(category="x" * 60, note="n" * 500, tags=[f"t{i}" for i in range(20)], external_id="e" * 200),
        tx(category="Old", date=MIN_DATE, amount="0.01", now=at_low, tags=["#hash-is-dropped", "a#b"]),
        tx(category="Far", date=MAX_DATE, amount="9999999999.99", now=at_high),
        tx(
            category="Yen",
            currency="JPY",
            amount="1500",
            date="1969-12-31",
            now=dt.datetime(1969, 12, 31, 23, 59, 59, 999999, dt.UTC),
        ),
        tx(category="Dinar", currency="KWD", amount="1.234", type="income", now=EPOCH),
        tx(category="\u0627\u0644\u0639\u0631\u0628\u064a\u0629", note="\u202e right-to-left \u200b zero width"),
    ]
    # edited later, and one "edited" before it was created (a clock that went back): negative delta
    rows[1] = _replace(rows[1], updated_at=rows[1].created_at + dt.timedelta(days=3, microseconds=7))
    rows[2] = _replace(rows[2], updated_at=rows[2].created_at - dt.timedelta(seconds=1))
    return rows


def _replace(t: Transaction, **changes: Any) -> Transaction:
    return dataclasses.replace(t, **changes)


# -- version 1 -> 2 --------------------------------------------------------------------------------------------------


def test_a_version_1_ledger_loads_to_the_same_frame_and_is_upgraded_at_the_first_write(
    data_dir: Path, files_of: FilesOf
) -> None:
    txs = awkward()
    extra = tx(category="In the journal", note="written by version 1")
    data_dir.mkdir(parents=True)
    original = v1_bytes(txs, seq=7, meta={"settings": {"currency": "EUR"}})
    (data_dir / "ledger.json").write_bytes(original)
    (data_dir / "ledger.journal").write_bytes(v1_journal_line(8, extra))
    before = files_of(data_dir)

    ledger = Ledger(data_dir)
    expected = frame_from_transactions([*txs, extra]).sort_values(["date", "created_at"], kind="stable")
    pd.testing.assert_frame_equal(ledger.frame(), expected.reset_index(drop=True))
    assert {t.id: t for t in ledger.transactions()} == {t.id: t for t in [*txs, extra]}
    assert ledger.revision == 8
    assert ledger.default_currency == "EUR"
    assert files_of(data_dir) == before  # reading never writes, not even to migrate
    assert ledger.backups() == []

    new = ledger.add("expense", "3", category="After")
    backups = ledger.backups()
    assert [b.reason for b in backups] == ["before-migration"]
    assert (data_dir / "backups" / backups[0].name).read_bytes() == original  # the v1 file itself, byte for byte
    stored = json.loads((data_dir / "ledger.json").read_bytes())
    assert stored["schema_version"] == SCHEMA_VERSION == 5
    assert stored["seq"] == 8  # the journal was folded into the new snapshot...
    assert [json.loads(line)["seq"] for line in (data_dir / "ledger.journal").read_bytes().splitlines()] == [9]
    again = Ledger(data_dir)
    assert {t.id: t for t in again.transactions()} == {t.id: t for t in [*txs, extra, new]}
    pd.testing.assert_frame_equal(again.frame(), ledger.frame())
    again.restore_backup(backups[0].name)  # the way back works: the v1 file, migrated again
    assert {t.id for t in Ledger(data_dir).transactions()} == {t.id for t in txs}


def test_version_1_columns_are_cleaned_as_they_are_migrated() -> None:
    """Version 1 checked less (it kept what version 0 had): tags come out sorted and folded, categories trimmed."""
    t = tx(tags=["b", "a"])
    snap = json.loads(v1_bytes([t], seq=1))
    snap["transactions"]["tags"] = [["b", "A", "a", "#c"]]
    snap["transactions"]["category"] = ["  Food "]
    upgraded, migrated = upgrade_snapshot(snap, "old.json")
    assert migrated
    check_snapshot(upgraded, "old.json")
    assert upgraded["transactions"]["tags"] == ["A b c"]
    assert upgraded["transactions"]["category"] == ["Food"]


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("date", "2026-02-30", "calendar date"),
        ("created_at", "2026-01-01 10:00:00", "could not be upgraded"),
        ("tags", [["two words"]], "one word"),
        ("tags", [[3]], "tags are not lists of text"),
        ("category", [""], "empty"),
    ],
)
def test_a_version_1_file_that_cannot_be_migrated_is_refused_untouched(
    data_dir: Path, files_of: FilesOf, column: str, value: Any, words: str
) -> None:
    snap = json.loads(v1_bytes([tx()], seq=1))
    snap["transactions"][column] = value if isinstance(value, list) else [value]
    data_dir.mkdir(parents=True)
    (data_dir / "ledger.json").write_text(json.dumps(snap))
    before = files_of(data_dir)
    with pytest.raises(CorruptDataError) as info:
        Ledger(data_dir).frame()
    assert str(data_dir / "ledger.json") in str(info.value)
    assert words in str(info.value)
    assert "backups" in str(info.value)
    assert files_of(data_dir) == before


def test_version_0_migrates_through_1_and_2_to_3(data_dir: Path) -> None:
    rows = [
        {"id": "a", "type": "expense", "amount": "12.50", "currency": "EUR", "date": "2025-03-04", "category": "Food",
         "tags": ["lunch", "Work"], "note": "Straße", "created_at": "2025-03-04T12:00:00.000000Z"},
        {"id": "b", "type": "income", "amount": "1000", "date": "1999-12-31", "category": "Salary",
         "created_at": "1999-12-31T23:59:59.999999Z", "updated_at": "2000-01-01T00:00:00.000001Z"},
    ]  # fmt: skip
    data_dir.mkdir(parents=True)
    (data_dir / "ledger.json").write_text(json.dumps({"schema_version": 0, "transactions": rows}))
    ledger = Ledger(data_dir)
    got = {t.id: t for t in ledger.transactions()}
    assert got["a"].tags == ("lunch", "Work")
    assert (got["a"].amount_minor, got["a"].note) == (1250, "Straße")
    assert iso_utc(got["b"].updated_at) == "2000-01-01T00:00:00.000001Z"
    ledger.add("expense", "1", category="X")
    assert json.loads((data_dir / "ledger.json").read_bytes())["schema_version"] == SCHEMA_VERSION == 5
    assert {t.id: t for t in Ledger(data_dir).transactions() if t.id in got} == got


V2_LEDGER = Path(__file__).parent / "data" / "storage" / "ledger-v2-undo.json"
"""A schema 2 file with an undo history, made by the schema 2 code (see ``make_ledger_v2.py`` beside it)."""


def test_a_version_2_undo_history_becomes_the_compact_form_step_for_step() -> None:
    old = json.loads(V2_LEDGER.read_bytes())
    new, migrated = upgrade_snapshot(json.loads(V2_LEDGER.read_bytes()), "old.json")
    assert migrated
    check_snapshot(new, "old.json")
    assert new["transactions"] == with_added_columns(old["transactions"])  # and on through 3 to 4
    assert set(new["transactions"]["account"]) == {"Main"}
    assert new["meta"] == old["meta"]
    assert [seq for seq, _ in new["undo"]] == [entry["seq"] for entry in old["undo"]] == [1, 2, 3, 4, 5, 6]
    for (_, text), entry in zip(new["undo"], old["undo"], strict=True):
        step = json.loads(text)
        assert step["label"] == entry["label"]
        assert step["added"] == [op["tx"]["id"] for op in entry["ops"] if op["op"] == "put" and op["before"] is None]
        befores = [op["before"] for op in entry["ops"] if op["op"] != "meta" and op["before"] is not None]
        assert [record_at(step["before"], i) for i in range(len(step["before"]["id"]))] == [
            with_added_fields(b) for b in befores
        ]
        assert step["meta"] == [[op["key"], op["before"]] for op in entry["ops"] if op["op"] == "meta"]
    assert len(json.dumps(new["undo"])) < len(json.dumps(old["undo"])) / 4  # 40 imported rows: ids, not records


def test_a_version_1_undo_history_migrates_through_2_to_3() -> None:
    t = tx()
    snap = json.loads(v1_bytes([t], seq=1))
    snap["undo"] = [json.loads(v1_journal_line(1, t))]
    upgraded, _ = upgrade_snapshot(snap, "old.json")
    check_snapshot(upgraded, "old.json")
    assert upgraded["schema_version"] == 5
    assert [[seq, json.loads(text)["added"]] for seq, text in upgraded["undo"]] == [[1, [t.id]]]


@pytest.mark.parametrize(
    "damage",
    [
        lambda undo: undo[0]["ops"][0].pop("tx"),
        lambda undo: undo[0].pop("ops"),
        lambda undo: undo[5]["ops"][0].__setitem__("op", "del"),
        lambda undo: undo.append("an entry"),
    ],
    ids=["a put without its record", "an entry without ops", "a deletion without a record", "not an entry"],
)
def test_a_version_2_undo_history_that_cannot_be_migrated_is_refused_untouched(
    data_dir: Path, files_of: FilesOf, damage: Callable[[list[Any]], None]
) -> None:
    snap = json.loads(V2_LEDGER.read_bytes())
    damage(snap["undo"])
    data_dir.mkdir(parents=True)
    (data_dir / "ledger.json").write_text(json.dumps(snap))
    before = files_of(data_dir)
    for attempt in (lambda: Ledger(data_dir).frame(), lambda: Ledger(data_dir).add("expense", "1", category="X")):
        with pytest.raises(CorruptDataError) as info:
            attempt()
        assert str(data_dir / "ledger.json") in str(info.value)
        assert "could not be upgraded from schema 2" in str(info.value)
    assert files_of(data_dir) == before


# -- round trips -----------------------------------------------------------------------------------------------------


def test_awkward_values_survive_a_snapshot_exactly(data_dir: Path) -> None:
    txs = awkward()
    ledger = Ledger(data_dir)
    ledger.add_many(txs)
    ledger.engine.fold()  # into a schema 2 snapshot
    raw = (data_dir / "ledger.json").read_bytes()
    assert raw.isascii()
    reread = Ledger(data_dir)
    assert reread.revision == ledger.revision
    assert {t.id: t for t in reread.transactions()} == {t.id: t for t in txs}
    expected = frame_from_transactions(txs).sort_values(["date", "created_at"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(reread.frame(), expected)
    pd.testing.assert_frame_equal(ledger.frame(), expected)  # the writer's own frame after the fold, too
    cols = json.loads(raw)["transactions"]
    by_id = {t.id: t for t in txs}
    for i, tx_id in enumerate(cols["id"]):  # the documented encoding, column by column
        t = by_id[tx_id]
        assert cols["date"][i] == (t.date - dt.date(1970, 1, 1)).days
        assert cols["created_at"][i] == micros(t.created_at)
        assert cols["updated_at"][i] == micros(t.updated_at) - micros(t.created_at)
        assert cols["tags"][i].split(" ") == list(t.tags) if t.tags else cols["tags"][i] == ""


texts = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    category=texts,
    note=st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40),
    tags=st.lists(texts, max_size=5),
    created=st.integers(*STORED_MICROS_RANGE),
    edited=st.integers(-(10**12), 10**12),
    day=st.dates(MIN_DATE, MAX_DATE),
)
def test_stored_columns_round_trip_any_record(
    category: str, note: str, tags: list[str], created: int, edited: int, day: dt.date
) -> None:
    try:
        t = tx(category=category, note=note, tags=tags, date=day, now=EPOCH + dt.timedelta(microseconds=created))
    except ValueError:
        return  # not a valid transaction (e.g. a category that is only a mark): nothing to store
    low, high = STORED_MICROS_RANGE
    if low <= created + edited <= high:
        t = _replace(t, updated_at=t.created_at + dt.timedelta(microseconds=edited))
    record = t.to_record()
    cols = stored_columns([record])
    assert record_at(cols, 0) == record
    snap = {"format": "expense-tracker-ledger", "schema_version": 2, "seq": 1, "transactions": cols}
    check_snapshot(json.loads(json.dumps(snap, ensure_ascii=True)), "x")


# -- damaged current files (schema 3: the schema 2 columns) -----------------------------------------------------


def _current(data_dir: Path) -> dict[str, Any]:
    ledger = Ledger(data_dir)
    ledger.add_many([tx(tags=["a", "b"]), tx(category="Rent", amount="900")])
    ledger.engine.fold()
    ledger.create_backup()
    return dict(json.loads((data_dir / "ledger.json").read_bytes()))


V2_DAMAGE: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "date out of range": (lambda c: c["date"].__setitem__(0, 10**9), "date"),
    "date as text": (lambda c: c["date"].__setitem__(0, "2026-01-01"), "date"),
    "date as bool": (lambda c: c["date"].__setitem__(0, True), "date"),
    "created_at too late": (lambda c: c["created_at"].__setitem__(0, STORED_MICROS_RANGE[1] + 1), "created_at"),
    "created_at float": (lambda c: c["created_at"].__setitem__(0, 1.5e15), "created_at"),
    "updated_at overflows": (lambda c: c["updated_at"].__setitem__(0, STORED_MICROS_RANGE[1]), "updated_at"),
    "amount too big": (lambda c: c["amount_minor"].__setitem__(0, 2**63), "amount"),
    "amount bool": (lambda c: c["amount_minor"].__setitem__(0, True), "amount"),
    "tags unsorted": (lambda c: c["tags"].__setitem__(0, "b a"), "tags"),
    "tags double space": (lambda c: c["tags"].__setitem__(0, "a  b"), "tags"),
    "tags as a list": (lambda c: c["tags"].__setitem__(0, ["a", "b"]), "tags"),
    "tag with a tab": (lambda c: c["tags"].__setitem__(0, "a\tb"), "tags"),
    "category with a control character": (lambda c: c["category"].__setitem__(0, "Fo\x07od"), "category"),
    "category untrimmed": (lambda c: c["category"].__setitem__(0, " Food"), "category"),
    "note is null": (lambda c: c["note"].__setitem__(0, None), "note"),
    "id repeated": (lambda c: c["id"].__setitem__(1, c["id"][0]), "ids"),
    "a column is short": (lambda c: c["note"].pop(), "different lengths"),
    "a column is missing": (lambda c: c.pop("updated_at"), "incomplete"),
}


@pytest.mark.parametrize("damage", list(V2_DAMAGE))
def test_a_damaged_version_2_snapshot_is_refused_untouched(data_dir: Path, files_of: FilesOf, damage: str) -> None:
    snap = _current(data_dir)
    change, words = V2_DAMAGE[damage]
    change(snap["transactions"])
    (data_dir / "ledger.json").write_text(json.dumps(snap, ensure_ascii=True))
    before = files_of(data_dir)
    for attempt in (lambda: Ledger(data_dir).frame(), lambda: Ledger(data_dir).add("expense", "1", category="X")):
        with pytest.raises(CorruptDataError) as info:
            attempt()
        message = str(info.value)
        assert str(data_dir / "ledger.json") in message
        assert words in message
        assert "expense-tracker backups restore" in message
    assert files_of(data_dir) == before


def test_a_newer_snapshot_is_refused_untouched(data_dir: Path, files_of: FilesOf) -> None:
    snap = _current(data_dir)
    snap["schema_version"] = SCHEMA_VERSION + 1
    (data_dir / "ledger.json").write_text(json.dumps(snap))
    before = files_of(data_dir)
    with pytest.raises(CorruptDataError, match="newer version"):
        Ledger(data_dir)
    assert files_of(data_dir) == before


def test_journal_entries_keep_their_own_version(data_dir: Path) -> None:
    ledger = Ledger(data_dir)
    ledger.add("expense", "1", category="X")
    entry = json.loads((data_dir / "ledger.journal").read_bytes())
    assert entry["schema_version"] == JOURNAL_VERSION == 3
    (data_dir / "ledger.journal").write_bytes(
        (data_dir / "ledger.journal").read_bytes().replace(b'"schema_version":3', b'"schema_version":4')
    )
    with pytest.raises(CorruptDataError, match="newer version"):
        Ledger(data_dir)


def test_the_stored_microsecond_range_is_the_span_a_frame_can_hold() -> None:
    """Written without pandas in :mod:`tracker.storage.columns`; here checked against pandas' own limits."""
    low, high = STORED_MICROS_RANGE
    assert low == -(-pd.Timestamp.min.value // 1000)  # rounded inwards (towards zero) to whole microseconds
    assert high == pd.Timestamp.max.value // 1000

    def in_ns(stamp: int) -> pd.Series:
        return pd.Series(np.array([stamp], dtype="datetime64[us]")).astype("datetime64[ns]")

    assert in_ns(low).iloc[0].year == 1677
    assert in_ns(high).iloc[0].year == 2262
    for outside in (low - 1, high + 1):
        with pytest.raises(pd.errors.OutOfBoundsDatetime):
            in_ns(outside)


def test_a_row_read_straight_from_the_columns_is_the_checked_record_form() -> None:
    """``transaction_at`` (what ``list`` reads, unchecked) equals ``from_record(record_at(...))`` (checked)."""
    rows = [*awkward(), tx(account="Visa", cleared=True), tx(note="edited later")]
    rows[-1] = dataclasses.replace(rows[-1], updated_at=rows[-1].created_at + dt.timedelta(days=3, microseconds=7))
    cols = stored_columns(t.to_record() for t in rows)
    for i, want in enumerate(rows):
        got = transaction_at(cols, i)
        assert got == from_record(record_at(cols, i)) == want
        assert [type(getattr(got, f.record)) for f in FIELDS] == [type(getattr(want, f.record)) for f in FIELDS]


def test_a_big_journal_entry_is_checked_by_columns_and_a_bad_record_still_named(
    make_tx: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.storage import codec
    from tracker.storage.codec import check_entry

    records = [make_tx(category=f"Cat {i}", note=f"row {i}", account="Main").to_record() for i in range(30)]

    def entry(recs: list[dict[str, Any]]) -> dict[str, Any]:
        ops = [{"op": "put", "tx": r, "before": None} for r in recs]
        return {"schema_version": JOURNAL_VERSION, "seq": 7, "at": iso_utc(dt.datetime.now(dt.UTC)), "ops": ops}

    one_by_one = []
    monkeypatch.setattr(codec, "from_record", lambda r: one_by_one.append(r) or from_record(r))
    assert check_entry(entry(records), "ledger.journal")["seq"] == 7
    assert one_by_one == []  # the columns' checks, not a record at a time
    assert check_entry(entry(records[:3]), "ledger.journal")["seq"] == 7
    assert len(one_by_one) == 3  # a person's change of a few records: one by one
    for field, value, words in (
        ("category", "  ", "category"),
        ("note", "bell \x07", "note"),
        ("amount_minor", -5, "amount"),
        ("currency", "XYZ", "currency"),
        ("date", "2026-02-30", "date"),
    ):
        broken = [dict(r) for r in records]
        broken[17][field] = value
        with pytest.raises(CorruptDataError, match=f"damaged entry \\(seq 7\\).*{words}"):
            check_entry(entry(broken), "ledger.journal")
