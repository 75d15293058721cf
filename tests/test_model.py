"""tracker.model: validated transactions, their JSON/storage forms, and the DataFrame schema."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal

import pandas as pd
import pytest

from tracker.errors import ValidationError
from tracker.frame import COLUMNS, empty_frame, frame_from_transactions, transactions_from_frame
from tracker.importers import json_importer
from tracker.model import (
    EDITABLE,
    FIELD,
    FIELDS,
    LIST_FIELDS,
    MAX_CATEGORY,
    MAX_NOTE,
    MAX_TAG,
    MAX_TAGS,
    PUBLIC_FIELDS,
    RECORD_FIELDS,
    Transaction,
    apply_changes,
    clean_category,
    clean_date,
    clean_tags,
    clean_type,
    from_record,
    iso_utc,
    make_transaction,
    parse_utc,
)

MakeTx = Callable[..., Transaction]


def assert_schema(frame: pd.DataFrame) -> None:
    """Exactly the documented columns, in order, with exactly the documented dtypes."""
    assert list(frame.columns) == list(COLUMNS)
    assert {c: str(t) for c, t in frame.dtypes.items()} == {c: str(t) for c, t in COLUMNS.items()}


def test_make_transaction_validates_and_normalises(make_tx: MakeTx) -> None:
    tx = make_tx(type=" Expense ", amount="1,234.50", category="  Food ", currency="eur", tags="b;A,a,#c", note=" hi ")
    assert tx.type == "expense"
    assert tx.amount_minor == 123450
    assert tx.amount == Decimal("1234.50")
    assert tx.signed_minor == -123450
    assert tx.currency == "EUR"
    assert tx.date == dt.date(2026, 11, 2)
    assert tx.category == "Food"
    assert tx.tags == ("A", "b", "c")  # folded case-insensitively (first spelling wins), '#' dropped, sorted
    assert tx.note == "hi"
    assert tx.external_id == ""
    assert tx.created_at == tx.updated_at
    assert tx.created_at.tzinfo is not None
    assert len(tx.id) == 16
    assert make_tx().id != make_tx().id


def test_income_is_positive_expense_negative(make_tx: MakeTx) -> None:
    assert make_tx(type="income", amount="5").signed_minor == 500
    assert make_tx(type="expense", amount="5").signed_minor == -500


def test_date_defaults_to_today(make_tx: MakeTx) -> None:
    assert make_tx(date=None).date == dt.date.today()
    assert make_transaction(
        type="income", amount="1", category="x", currency="EUR", today=dt.date(2030, 1, 2)
    ).date == (dt.date(2030, 1, 2))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "transfer"),
        ("type", None),
        ("amount", 12.5),
        ("amount", "0"),
        ("amount", "-1"),
        ("amount", "nan"),
        ("amount", "12.345"),
        ("currency", "EURO"),
        ("category", ""),
        ("category", "   "),
        ("category", "x" * (MAX_CATEGORY + 1)),
        ("category", "a\nb"),
        ("category", "tab\there"),
        ("category", "\x00"),
        ("category", 5),
        ("date", "2026-02-30"),
        ("date", "yesterday"),
        ("date", dt.datetime(2026, 1, 2, 3, 4)),
        ("date", "1899-12-31"),
        ("date", "2200-01-01"),
        ("date", 20260102),
        ("note", "x" * (MAX_NOTE + 1)),
        ("note", "bell\x07"),
        ("note", "\ud800"),
        ("tags", ["two words"]),
        ("tags", ["x" * (MAX_TAG + 1)]),
        ("tags", [f"t{i}" for i in range(MAX_TAGS + 1)]),
        ("tags", [1]),
        ("tags", 7),
    ],
)
def test_bad_fields_are_refused_naming_field_and_value(make_tx: MakeTx, field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        make_tx(**{field: value})
    err = info.value
    assert err.field.rstrip("s") == field.rstrip("s")  # "tag" names the one bad tag of "tags"
    assert str(err).startswith(f"{err.field}: ")
    shown = repr(value) if not isinstance(value, str) else repr(value[:80])[:-1]
    if not isinstance(value, list | int) or isinstance(value, bool):
        assert shown[:20] in str(err)


def test_limits_are_inclusive(make_tx: MakeTx) -> None:
    tx = make_tx(
        category="c" * MAX_CATEGORY,
        note="n" * MAX_NOTE,
        tags=[f"t{i}" for i in range(MAX_TAGS)],
        date="2199-12-31",
    )
    assert len(tx.category) == MAX_CATEGORY
    assert len(tx.tags) == MAX_TAGS
    assert make_tx(date="1900-01-01").date == dt.date(1900, 1, 1)
    assert make_tx(tags=["T"] * 50).tags == ("T",)  # duplicates do not count against the limit


def test_unicode_is_kept_and_normalised(make_tx: MakeTx) -> None:
    tx = make_tx(category="Cafe\u0301 ☕", note="שלום 👋🏽 مرحبا", tags=["Ünïcödé", "ünïcödé", "日本"])
    assert tx.category == "Café ☕"  # NFC
    assert tx.note == "שלום 👋🏽 مرحبا"
    assert tx.tags == ("Ünïcödé", "日本")


def test_clean_helpers() -> None:
    assert clean_type("INCOME") == "income"
    assert clean_category(" a ") == "a"
    assert clean_tags(None) == ()
    assert clean_tags("") == ()
    assert clean_tags(["#", " ", "Work", "#work"]) == ("Work",)
    assert clean_date(dt.date(2026, 1, 2)) == dt.date(2026, 1, 2)
    assert clean_date(pd.Timestamp("2026-01-02")) == dt.date(2026, 1, 2)
    with pytest.raises(ValidationError):
        clean_date(pd.Timestamp("2026-01-02 10:00"))


def test_json_and_record_forms(make_tx: MakeTx) -> None:
    tx = make_tx(amount="7.5", tags=["b", "a"], note="n", external_id="FIT-1")
    public = tx.to_json()
    assert public["amount"] == "7.50"
    assert public["date"] == "2026-11-02"
    assert public["tags"] == ["a", "b"]
    assert public["created_at"].endswith("Z")
    assert set(public) == {
        "id",
        "type",
        "amount",
        "currency",
        "date",
        "account",
        "category",
        "tags",
        "note",
        "splits",
        "original_amount",
        "original_currency",
        "direction",
        "link",
        "cleared",
        "reconciled",
        "external_id",
        "created_at",
        "updated_at",
    }
    assert public["account"] == ""  # a draft: the ledger puts it into the default account
    record = tx.to_record()
    assert record["amount_minor"] == 750
    assert "amount" not in record
    assert json.loads(json.dumps(record)) == record
    assert from_record(json.loads(json.dumps(record))) == tx


def test_every_field_list_is_derived_from_the_one_declaration(make_tx: MakeTx) -> None:
    assert tuple(f.record for f in FIELDS) == RECORD_FIELDS == tuple(FIELD[name].record for name in PUBLIC_FIELDS)
    assert set(RECORD_FIELDS) == {f.name for f in dataclasses.fields(Transaction)}
    tx = make_tx(tags=["a"], note="n", external_id="x", account="Main")
    assert tuple(tx.to_json()) == PUBLIC_FIELDS
    assert tuple(tx.to_record()) == RECORD_FIELDS
    assert set(COLUMNS) == {*PUBLIC_FIELDS, *RECORD_FIELDS, "signed_minor"}
    assert [c for c in COLUMNS if c in PUBLIC_FIELDS] == list(PUBLIC_FIELDS)  # the frame follows the declaration
    assert set(EDITABLE) <= set(PUBLIC_FIELDS)
    assert set(LIST_FIELDS) <= set(PUBLIC_FIELDS)
    assert json_importer.FIELDS == PUBLIC_FIELDS
    for field in FIELDS:
        if field.editable and field.kind != "currency":
            value = tx.to_json()[field.name]
            assert apply_changes(tx, {field.name: value}) is tx  # its own public value is accepted as it is


def test_utc_text_round_trip() -> None:
    moment = dt.datetime(2026, 11, 28, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert iso_utc(moment) == "2026-11-28T01:02:03.000004Z"
    assert parse_utc(iso_utc(moment)) == moment
    local = moment.astimezone(dt.timezone(dt.timedelta(hours=5)))
    assert iso_utc(local) == "2026-11-28T01:02:03.000004Z"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_minor": 5}, "amount_minor"),
        ({"type": "income", "amount_minor": "x"}, "amount_minor"),
        ({"amount_minor": True}, "amount_minor"),
        ({"amount_minor": 0}, "amount_minor"),
        ({"currency": "ZZZ"}, "currency"),
        ({"date": "2026-13-01"}, "date"),
        ({"category": ""}, "category"),
        ({"created_at": "yesterday"}, "record"),
    ],
)
def test_from_record_checks_every_field(make_tx: MakeTx, change: dict[str, object], field: str) -> None:
    record = make_tx().to_record()
    if change == {"amount_minor": 5}:
        record.pop("amount_minor")
    else:
        record.update(change)
    with pytest.raises(ValidationError) as info:
        from_record(record)
    assert info.value.field == field


def test_apply_changes(make_tx: MakeTx) -> None:
    tx = make_tx(amount="10.00", tags=["a"])
    later = tx.created_at + dt.timedelta(seconds=5)
    changed = apply_changes(tx, {"amount": "11.25", "category": "Rent", "tags": [], "note": "x"}, now=later)
    assert (changed.amount_minor, changed.category, changed.tags, changed.note) == (1125, "Rent", (), "x")
    assert changed.id == tx.id
    assert changed.created_at == tx.created_at
    assert changed.updated_at == later
    assert apply_changes(tx, {"category": "Food"}, now=later) is tx  # nothing really changed
    assert apply_changes(tx, {"currency": "USD"}).amount_minor == 1000
    assert apply_changes(tx, {"currency": "JPY", "amount": "10"}).amount_minor == 10
    assert apply_changes(tx, {"currency": "JPY"}).amount_minor == 10
    with pytest.raises(ValidationError) as info:
        apply_changes(make_tx(amount="10.50"), {"currency": "JPY"})  # no exact JPY form without a new amount
    assert info.value.field == "amount"
    with pytest.raises(ValidationError) as info:
        apply_changes(tx, {"id": "other"})
    assert info.value.field == "id"
    with pytest.raises(ValidationError) as info:
        apply_changes(tx, {"amount": 1.5})
    assert info.value.field == "amount"


def test_transactions_are_frozen(make_tx: MakeTx) -> None:
    tx = make_tx()
    with pytest.raises(dataclasses.FrozenInstanceError):
        tx.amount_minor = 1  # type: ignore[misc]


def test_empty_frame_has_the_schema() -> None:
    assert_schema(empty_frame())
    assert_schema(frame_from_transactions([]))


def test_frame_round_trip(make_tx: MakeTx) -> None:
    txs = [
        make_tx(type="income", amount="1000", category="Salary", tags=["job"], date="2026-01-01"),
        make_tx(amount="3.10", currency="USD", note="coffee ☕", date="2026-01-02"),
        make_tx(amount="1500", currency="JPY", external_id="abc", date="2026-01-03"),
    ]
    frame = frame_from_transactions(txs)
    assert_schema(frame)
    assert frame["amount"].tolist() == [Decimal("1000.00"), Decimal("3.10"), Decimal("1500")]
    assert frame["signed_minor"].tolist() == [100000, -310, -1500]
    assert frame["date"].tolist() == [
        pd.Timestamp("2026-01-01"),
        pd.Timestamp("2026-01-02"),
        pd.Timestamp("2026-01-03"),
    ]
    assert frame["tags"].tolist() == [("job",), (), ()]
    assert transactions_from_frame(frame) == txs
