"""tracker.filters: every criterion alone, bad arguments, and property tests against a reference."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.errors import ValidationError
from tracker.filters import Filter, apply_filter, filter_data
from tracker.frame import COLUMNS, frame_from_transactions
from tracker.model import Transaction, make_transaction

THOROUGH = os.environ.get("EXPENSE_TRACKER_THOROUGH") == "1"
EXAMPLES = 1500 if THOROUGH else 100

MakeTx = Callable[..., Transaction]


@pytest.fixture
def frame(make_tx: MakeTx) -> pd.DataFrame:
    return frame_from_transactions(
        [
            make_tx(id="salary", type="income", amount="2500", category="Salary", date="2026-01-01", tags=["job"]),
            make_tx(
                id="coffee", amount="3.20", category="Food", date="2026-01-05", note="Coffee with Ana", tags=["fun"]
            ),
            make_tx(id="rent", amount="900", category="Rent", date="2026-01-31", tags=["home", "fixed"]),
            make_tx(
                id="sushi", amount="1500", currency="JPY", category="food", date="2026-02-01", tags=["Fun", "trip"]
            ),
            make_tx(
                id="book", amount="12.505", currency="KWD", category="Books", date="2026-02-10", note="rent a book"
            ),
        ]
    )


def ids(frame: pd.DataFrame) -> list[str]:
    return frame["id"].tolist()


def test_no_criteria_keeps_everything(frame: pd.DataFrame) -> None:
    assert ids(filter_data(frame)) == ids(frame)


def test_dates_are_inclusive(frame: pd.DataFrame) -> None:
    assert ids(filter_data(frame, start="2026-01-05", end="2026-01-31")) == ["coffee", "rent"]
    assert ids(filter_data(frame, start=dt.date(2026, 2, 1))) == ["sushi", "book"]
    assert ids(filter_data(frame, end="2026-01-01")) == ["salary"]


def test_categories_are_case_insensitive(frame: pd.DataFrame) -> None:
    assert ids(filter_data(frame, categories=["FOOD"])) == ["coffee", "sushi"]
    assert ids(filter_data(frame, categories="Rent")) == ["rent"]
    assert ids(filter_data(frame, categories=["Rent", "books"])) == ["rent", "book"]
    assert ids(filter_data(frame, categories=[])) == []


def test_tags_any_and_all(frame: pd.DataFrame) -> None:
    assert ids(filter_data(frame, tags=["fun"])) == ["coffee", "sushi"]
    assert ids(filter_data(frame, tags=["#FUN", "home"])) == ["coffee", "rent", "sushi"]
    assert ids(filter_data(frame, tags=["fun", "trip"], tag_mode="all")) == ["sushi"]
    assert ids(filter_data(frame, tags=["fixed", "home"], tag_mode="all")) == ["rent"]
    assert ids(filter_data(frame, tags=["nope"])) == []


def test_type(frame: pd.DataFrame) -> None:
    assert ids(filter_data(frame, type="income")) == ["salary"]
    assert len(filter_data(frame, type="expense")) == 4


def test_text_searches_note_and_category(frame: pd.DataFrame) -> None:
    assert ids(filter_data(frame, text="rent")) == ["rent", "book"]  # category "Rent", note "rent a book"
    assert ids(filter_data(frame, text="  ANA ")) == ["coffee"]
    assert ids(filter_data(frame, text="a.*")) == []  # plain text, not a regular expression
    assert ids(filter_data(frame, text="   ")) == ids(frame)


def test_amount_bounds_are_inclusive_and_exact_per_currency(frame: pd.DataFrame) -> None:
    assert ids(filter_data(frame, min_amount="900")) == ["salary", "rent", "sushi"]
    assert ids(filter_data(frame, min_amount="900.01")) == ["salary", "sushi"]
    assert ids(filter_data(frame, max_amount="3.20")) == ["coffee"]
    assert ids(filter_data(frame, max_amount="3.19")) == []
    assert ids(filter_data(frame, min_amount="12.505", max_amount="12.505")) == ["book"]
    assert ids(filter_data(frame, min_amount="12.5051")) == ["salary", "rent", "sushi"]


def test_a_max_between_two_cents_excludes_the_larger_cent(frame: pd.DataFrame) -> None:
    assert ids(filter_data(frame, max_amount="3.199")) == []
    assert ids(filter_data(frame, max_amount="3.201")) == ["coffee"]
    assert "sushi" not in ids(filter_data(frame, max_amount="1499.5"))  # 1500 JPY is above 1499.5
    # more digits than Decimal's default precision must not be rounded onto the next cent
    assert ids(filter_data(frame, max_amount="3.1999999999999999999999999999999")) == []
    assert ids(filter_data(frame, min_amount="3.2000000000000000000000000000001", max_amount="4")) == []


def test_criteria_combine(frame: pd.DataFrame) -> None:
    got = filter_data(frame, start="2026-01-02", type="expense", tags=["fun"], categories=["food"], max_amount="5")
    assert ids(got) == ["coffee"]


def test_result_keeps_schema_and_order(frame: pd.DataFrame) -> None:
    got = filter_data(frame, type="expense")
    assert list(got.columns) == list(COLUMNS)
    assert got.dtypes.to_dict() == frame.dtypes.to_dict()
    empty = filter_data(frame, categories=["none"])
    assert empty.empty
    assert empty.dtypes.to_dict() == frame.dtypes.to_dict()
    nothing = filter_data(frame.iloc[0:0], type="income")
    assert nothing.dtypes.to_dict() == frame.dtypes.to_dict()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": "2026-02-01", "end": "2026-01-01"}, "from"),
        ({"start": "not a date"}, "date"),
        ({"tag_mode": "some"}, "tag_mode"),
        ({"type": "transfers"}, "type"),
        ({"min_amount": 1.5}, "min"),
        ({"max_amount": "ten"}, "max"),
        ({"max_amount": "-3"}, "max"),
    ],
)
def test_bad_arguments_name_the_field(frame: pd.DataFrame, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        filter_data(frame, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_filter_is_frozen_and_reusable(frame: pd.DataFrame) -> None:
    flt = Filter.build(categories="food")
    assert flt.categories == ("food",)
    assert ids(apply_filter(frame, flt)) == ids(apply_filter(frame, flt)) == ["coffee", "sushi"]
    with pytest.raises(AttributeError):
        flt.type = "income"  # type: ignore[misc]


# -- properties ------------------------------------------------------------------------------------

CATEGORIES = ["Food", "food", "Rent", "Café", "CAFÉ", "Travel ✈", "Straße"]
TAGS = ["fun", "Fun", "work", "home", "ß", "SS", "日本"]
WORDS = ["", "coffee", "Coffee with Ana", "rent", "straße", "✈ trip", "100%"]


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    currency = draw(st.sampled_from(["EUR", "JPY", "KWD", "USD"]))
    exp = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}[currency]
    minor = draw(st.integers(min_value=1, max_value=50_000))
    return make_transaction(
        type=draw(st.sampled_from(["income", "expense"])),
        amount=Decimal(minor).scaleb(-exp),
        currency=currency,
        category=draw(st.sampled_from(CATEGORIES)),
        date=dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 60))),
        tags=draw(st.lists(st.sampled_from(TAGS), max_size=3)),
        note=draw(st.sampled_from(WORDS)),
    )


bounds = st.none() | st.decimals(min_value=0, max_value=600, places=3, allow_nan=False).map(str)
days = st.none() | st.integers(0, 60).map(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))


@st.composite
def filters(draw: st.DrawFn) -> dict[str, object]:
    start, end = draw(days), draw(days)
    if start and end and start > end:
        start, end = end, start
    return {
        "start": start,
        "end": end,
        "categories": draw(st.none() | st.lists(st.sampled_from([*CATEGORIES, "food", "STRASSE"]), max_size=3)),
        "tags": draw(st.none() | st.lists(st.sampled_from([*TAGS, "#fun", "none"]), min_size=1, max_size=3)),
        "tag_mode": draw(st.sampled_from(["any", "all"])),
        "type": draw(st.sampled_from([None, "income", "expense"])),
        "text": draw(st.none() | st.sampled_from(["coffee", "ANA", "rent", "é", "✈", "%", "ss"])),
        "min_amount": draw(bounds),
        "max_amount": draw(bounds),
    }


def reference(tx: Transaction, f: dict[str, object]) -> bool:
    """The documented meaning of each criterion, written independently of the implementation."""
    if f["start"] is not None and tx.date < f["start"]:  # type: ignore[operator]
        return False
    if f["end"] is not None and tx.date > f["end"]:  # type: ignore[operator]
        return False
    if f["categories"] is not None and tx.category.casefold() not in {c.casefold() for c in f["categories"]}:  # type: ignore[attr-defined]
        return False
    if f["type"] is not None and tx.type != f["type"]:
        return False
    if f["tags"] is not None:
        wanted = {t.lstrip("#").casefold() for t in f["tags"]}  # type: ignore[attr-defined]
        have = {t.casefold() for t in tx.tags}
        if f["tag_mode"] == "all" and not wanted <= have:
            return False
        if f["tag_mode"] == "any" and not wanted & have:
            return False
    if f["text"] is not None:
        needle = str(f["text"]).casefold()
        if needle not in tx.note.casefold() and needle not in tx.category.casefold():
            return False
    if f["min_amount"] is not None and tx.amount < Decimal(str(f["min_amount"])):
        return False
    return not (f["max_amount"] is not None and tx.amount > Decimal(str(f["max_amount"])))


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(transactions(), max_size=25), filters())
def test_filter_results_are_exactly_the_rows_satisfying_the_predicates(
    txs: list[Transaction], f: dict[str, object]
) -> None:
    frame = frame_from_transactions(txs)
    got = filter_data(frame, **f)  # type: ignore[arg-type]
    assert list(got.columns) == list(COLUMNS)
    assert got.dtypes.to_dict() == frame.dtypes.to_dict()
    assert set(got["id"]) <= set(frame["id"])  # a subset
    assert ids(got) == [i for i in ids(frame) if i in set(got["id"])]  # in the original order
    by_id = {t.id: t for t in txs}
    for tx_id in got["id"]:
        assert reference(by_id[tx_id], f), f"{by_id[tx_id]} kept but fails {f}"
    kept = set(got["id"])
    for tx in txs:
        if tx.id not in kept:
            assert not reference(tx, f), f"{tx} dropped but satisfies {f}"


# -- the stored columns: the fast CLI's path gives the DataFrame API's answer ---------------------------


@settings(max_examples=max(EXAMPLES // 3, 30), deadline=None)
@given(
    st.lists(transactions(), min_size=1, max_size=20),
    st.lists(transactions(), max_size=8),
    st.lists(st.tuples(st.integers(0, 19), st.sampled_from(["edit", "delete"]), transactions()), max_size=5),
    filters(),
)
def test_a_ledger_filtered_on_its_stored_columns_matches_the_frame_filter_and_its_totals(
    folded: list[Transaction],
    journaled: list[Transaction],
    changes: list[tuple[int, str, Transaction]],
    f: dict[str, object],
) -> None:
    """Snapshot rows, journal rows, and journal edits and deletions of snapshot rows: ``select`` (no frame)
    keeps exactly the rows ``filter_data`` keeps, in ``frame()``'s order, and the summary's totals agree."""
    import tempfile

    from tracker.cli.core import summarize
    from tracker.ledger import Ledger
    from tracker.rows import FrameRows, StoredRows

    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(folder)
        ledger.add_many(folded)
        ledger.engine.fold()
        ledger.add_many(journaled)
        for index, action, other in changes:
            target = folded[index % len(folded)].id
            if not any(t.id == target for t in ledger.transactions()):
                continue
            if action == "delete":
                ledger.delete(target)
            else:
                ledger.update(
                    target, amount=other.amount, currency=other.currency, category=other.category, date=other.date
                )
        fresh = Ledger(folder)  # read back from the files: the snapshot plus the journal
        flt = Filter(**f)  # type: ignore[arg-type]
        frame = fresh.frame()
        expected = filter_data(frame, **f)  # type: ignore[arg-type]
        cols = Ledger(folder).select(flt)  # a ledger whose frame was never built
        assert cols["id"] == ids(expected)
        assert [t.id for t in Ledger(folder).transactions(flt)] == ids(expected)
        assert [t.id for t in fresh.transactions(flt)] == ids(expected)  # and one whose frame was
        assert {t.id for t in fresh.transactions() if reference(t, f)} == set(ids(expected))
        for currency in ("EUR", "JPY"):
            assert summarize(StoredRows(cols), currency) == summarize(FrameRows(expected), currency)
