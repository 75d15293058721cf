"""Hypothesis fuzzing of the Python API and the quick-entry parser with arbitrary values.

Every call either succeeds with a value that obeys the model's rules (and survives a reload exactly),
or raises :class:`tracker.errors.ValidationError` and writes nothing (the data files byte-identical).
Any other exception is a bug. The number of cases run goes to the reliability figures.
"""

from __future__ import annotations

import datetime as dt
import decimal
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import THOROUGH, record_figures

from tracker import filter_data
from tracker.categorize import History
from tracker.errors import ValidationError
from tracker.frame import COLUMNS
from tracker.ledger import Ledger
from tracker.model import EDITABLE, MAX_CATEGORY, MAX_NOTE, MAX_TAG, MAX_TAGS, Transaction
from tracker.quickentry import parse_quick_entry

CASES: dict[str, int] = {}
SCALE = 10 if THOROUGH else 1


def fuzz_settings(examples: int) -> Any:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    yield
    record_figures("fuzz_api", {**CASES, "total": sum(v for k, v in CASES.items() if "refused" not in k)})


def count(name: str) -> None:
    CASES[name] = CASES.get(name, 0) + 1


def refused(name: str, exc: ValidationError) -> None:
    """A refusal counts, and its message names the field."""
    CASES[f"{name} (refused)"] = CASES.get(f"{name} (refused)", 0) + 1
    assert exc.field
    assert str(exc).startswith(exc.field)


# -- values ------------------------------------------------------------------------------------------

weird_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=700),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\nb",
            "\u200f\u202e",
            "e\u0301",
            "👩‍👩‍👧",
            "NaN",
            "Infinity",
            "-0",
            "1e5",
            "0x10",
            "１２.５０",
            "٣٫٥",
            "1_000",
            "12,50",
            "1.234,56",
            "1,234.56",
            "  12.50  ",
            "+12",
            "=1+1",
            "9" * 40,
            "0.001",
            "0.00",
        ]
    ),
)
amounts = st.one_of(
    weird_text,
    st.from_regex(r"\A[+\-]?[0-9.,' ]{0,16}\Z"),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    weird_text,
    st.binary(max_size=20),
    st.dates(),
    st.datetimes(),
    st.lists(weird_text, max_size=25),
    st.tuples(weird_text, st.integers()),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.builds(object),
)
dates = st.one_of(
    anything,
    st.dates(),
    st.dates().map(dt.date.isoformat),
    st.from_regex(r"\A\d{4}-\d{1,2}-\d{1,2}\Z"),
    st.sampled_from(["today", "2026-02-29", "2024-02-29", "0001-01-01", "9999-12-31", "2026-13-01"]),
)
currencies = st.one_of(anything, st.sampled_from(["USD", "eur", "JPY", "BHD", "XXX", "usd ", "€", "", "EURO"]))


def mostly(valid: Any, weird: Any, odds: int = 4) -> Any:
    """``odds`` valid draws for one weird one: the accept path gets fuzzed too, not only the refusals."""
    return st.integers(0, odds).flatmap(lambda pick: weird if pick == 0 else valid)


printable = st.characters(blacklist_categories=("Cc", "Cs"))
valid_amounts = st.one_of(
    st.decimals(min_value=decimal.Decimal("0.01"), max_value=decimal.Decimal("99999999"), places=2).map(str),
    st.integers(1, 10**9).map(str),
    st.integers(1, 10**6).map(lambda n: f"{n:,}.99"),
)
valid_texts = st.one_of(
    st.sampled_from(["Food", "Café ☕", "家族", "مطعم", "👩‍👩‍👧", "Ünïcödé", "e\u0301", "עברית"]),
    st.text(alphabet=printable, min_size=1, max_size=60).filter(str.strip),
)
valid_tags = st.lists(st.text(alphabet=st.characters(categories=("L", "N", "So")), min_size=1, max_size=20), max_size=5)
valid_dates = st.dates(dt.date(1900, 1, 1), dt.date(2199, 12, 31))


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def check_transaction(tx: Transaction) -> None:
    """What every stored transaction obeys, whatever the input was."""
    assert isinstance(tx.amount_minor, int)
    assert not isinstance(tx.amount_minor, bool)
    assert tx.amount_minor > 0
    assert tx.type in ("income", "expense")
    assert tx.category == tx.category.strip()
    assert tx.category
    assert len(tx.category) <= MAX_CATEGORY
    assert len(tx.note) <= MAX_NOTE
    assert len(tx.tags) <= MAX_TAGS
    assert all(t and len(t) <= MAX_TAG and not any(c.isspace() for c in t) for t in tx.tags)
    for text in (tx.category, tx.note, *tx.tags):
        assert unicodedata.is_normalized("NFC", text)
        assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in text)
    assert dt.date(1900, 1, 1) <= tx.date <= dt.date(2199, 12, 31)


class Workspace:
    """One ledger per test function, shared by its examples (a fresh folder would cost an fsync each)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fuzz-api-"))
        self.ledger = Ledger(self.dir / "data")
        self.seed = self.ledger.add("expense", "12.50", category="Seed", tags=["a"], note="seed")


@pytest.fixture(scope="module")
def workspace() -> Workspace:
    return Workspace()


@fuzz_settings(300)
@given(
    kind=mostly(st.sampled_from(["income", "expense", "Income", " expense "]), st.one_of(st.just("gift"), anything)),
    amount=mostly(valid_amounts, amounts),
    category=mostly(valid_texts, st.one_of(weird_text, anything)),
    date=mostly(st.one_of(valid_dates, valid_dates.map(dt.date.isoformat)), dates),
    tags=mostly(valid_tags, st.one_of(st.lists(weird_text, max_size=25), anything)),
    note=mostly(st.text(alphabet=printable, max_size=500), st.one_of(weird_text, anything)),
    currency=mostly(st.sampled_from(["USD", "eur", "JPY", "BHD", " usd"]), currencies),
)
def test_add_accepts_valid_input_exactly_and_refuses_the_rest_writing_nothing(
    workspace: Workspace, kind: Any, amount: Any, category: Any, date: Any, tags: Any, note: Any, currency: Any
) -> None:
    count("api add")
    ledger = workspace.ledger
    before = files_of(ledger.location)
    try:
        tx = ledger.add(kind, amount, category=category, date=date, tags=tags, note=note, currency=currency)
    except ValidationError as exc:
        refused("api add", exc)
        assert files_of(ledger.location) == before, "a refused add wrote something"
        return
    check_transaction(tx)
    if isinstance(amount, float):
        pytest.fail(f"a float amount was accepted: {amount!r}")
    assert Ledger(ledger.location).get(tx.id) == tx


@fuzz_settings(200)
@given(
    changes=st.dictionaries(st.sampled_from([*EDITABLE, "id", "amount_minor", "created_at", "x"]), anything, max_size=4)
)
def test_update_with_arbitrary_changes_validates_or_changes_nothing(
    workspace: Workspace, changes: dict[str, Any]
) -> None:
    count("api update")
    ledger = workspace.ledger
    original = ledger.get(workspace.seed.id)
    before = files_of(ledger.location)
    try:
        updated = ledger.update(original.id, **changes)
    except ValidationError:
        assert files_of(ledger.location) == before
        assert ledger.get(original.id) == original
        return
    except TypeError:  # a keyword that is not a parameter at all
        assert files_of(ledger.location) == before
        return
    check_transaction(updated)
    assert (updated.id, updated.created_at) == (original.id, original.created_at)
    assert Ledger(ledger.location).get(updated.id) == updated
    workspace.seed = updated


@fuzz_settings(200)
@given(
    amount=amounts,
    currency=st.sampled_from(["USD", "EUR", "JPY", "BHD"]),
    value=st.one_of(anything, weird_text),
    field=st.sampled_from(["type", "currency", "date", "category", "tags", "note"]),
)
def test_update_of_each_field_with_typed_values(
    workspace: Workspace, amount: Any, currency: str, value: Any, field: str
) -> None:
    count("api update fields")
    ledger = workspace.ledger
    original = ledger.get(workspace.seed.id)
    for changes in ({"amount": amount, "currency": currency}, {field: value}):
        try:
            updated = ledger.update(original.id, **changes)
        except ValidationError:
            assert ledger.get(original.id) == original
            continue
        check_transaction(updated)
        original = updated
    workspace.seed = original


def _frame() -> pd.DataFrame:
    ledger = Ledger(Path(tempfile.mkdtemp(prefix="fuzz-filter-")) / "data")
    for i, (cat, tags) in enumerate([("Food", ["a", "B"]), ("Rent", []), ("Café ☕", ["a"]), ("ضريبة", ["家"])]):
        ledger.add(
            "expense" if i % 2 else "income", f"{i + 1}0.5{i}", category=cat, tags=tags, date=f"2026-0{i + 1}-15"
        )
    return ledger.frame()


FRAME = _frame()


@fuzz_settings(300)
@given(
    start=mostly(st.one_of(st.none(), valid_dates), dates, odds=9),
    end=mostly(st.one_of(st.none(), valid_dates.map(dt.date.isoformat)), dates, odds=9),
    categories=mostly(
        st.one_of(st.none(), st.lists(st.sampled_from(["food", "RENT", "café ☕", "x", ""]) | weird_text, max_size=3)),
        anything,
        odds=9,
    ),
    tags=mostly(
        st.one_of(st.none(), st.lists(st.sampled_from(["A", "b", "家", ""]) | weird_text, max_size=3)), anything, odds=9
    ),
    tag_mode=mostly(st.sampled_from(["any", "all"]), anything, odds=9),
    kind=mostly(st.sampled_from(["income", "expense", None]), anything, odds=9),
    text=mostly(st.one_of(st.none(), weird_text), anything, odds=9),
    lo=mostly(st.one_of(st.none(), valid_amounts), amounts, odds=9),
    hi=mostly(st.one_of(st.none(), valid_amounts), amounts, odds=9),
)
def test_filter_data_returns_a_subset_with_the_schema_or_refuses(
    start: Any, end: Any, categories: Any, tags: Any, tag_mode: Any, kind: Any, text: Any, lo: Any, hi: Any
) -> None:
    count("api filter")
    try:
        out = filter_data(FRAME, start, end, categories, tags, tag_mode, kind, text, lo, hi)
    except ValidationError as exc:
        refused("api filter", exc)
        return
    assert list(out.columns) == list(COLUMNS)
    assert {c: str(t) for c, t in out.dtypes.items()} == {c: str(t) for c, t in COLUMNS.items()}
    assert set(out["id"]) <= set(FRAME["id"])
    if isinstance(kind, str) and kind in ("income", "expense"):
        assert set(out["type"]) <= {kind}


# -- the quick-entry parser --------------------------------------------------------------------------

WORDS = ["coffee", "4.50", "+2500", "$3", "12,40€", "1.234,56", "yesterday", "today", "monday", "last", "friday"]
WORDS += ["on", "2026-11-01", "1.11.2026", "#work", "#", "@Food", "@Eating_out", "EUR", "jpy", "+", "-", "¥500"]
WORDS += ["1,234", "0", "0.00", "99999999999999", "2026-02-30", "@", "#家族", "café", "مرحبا", "👩‍👩‍👧", "\x00"]
words = st.sampled_from(WORDS)
valid_lines = (
    st.tuples(
        st.sampled_from(
            ["4.50", "+2500", "$3", "12,40€", "1.234,56", "¥500", "1,234", "0.99", "+ 12", "EUR 7", "3.333"]
        ),
        st.lists(
            st.sampled_from(["yesterday", "today", "monday", "last friday", "on 2026-11-01", "1.11.2026"]), max_size=1
        ),
        st.lists(st.sampled_from(["#work", "#家族", "#trip", "#a_b"]), max_size=3),
        st.lists(st.sampled_from(["@Food", "@Eating_out", "@Café"]), max_size=1),
        st.lists(
            st.sampled_from(["coffee", "lunch", "café", "مرحبا", "👩‍👩‍👧", "taxi", "the"]) | valid_texts, max_size=4
        ),
    )
    .flatmap(lambda parts: st.permutations([parts[0], *parts[1], *parts[2], *parts[3], *parts[4]]))
    .map(" ".join)
)
lines = mostly(
    valid_lines,
    st.one_of(
        st.lists(words, max_size=8).map(" ".join),
        st.lists(st.one_of(words, weird_text), max_size=6).map(" ".join),
        weird_text,
        anything,
    ),
)
HISTORY = History.from_frame(FRAME)


@fuzz_settings(800)
@given(
    text=lines,
    currency=st.sampled_from(["USD", "EUR", "JPY"]),
    day=st.dates(dt.date(1901, 1, 8), dt.date(2199, 12, 24)),
)
def test_quick_entry_parses_into_a_valid_transaction_or_says_what_it_did_not_understand(
    text: Any, currency: str, day: dt.date
) -> None:
    count("quick-entry parser")
    try:
        entry = parse_quick_entry(text, day, HISTORY, currency=currency)
    except ValidationError as exc:
        refused("quick-entry parser", exc)
        return
    tx = entry.to_transaction()  # what "Add" stores: must validate
    check_transaction(tx)
    assert entry.amount_minor == tx.amount_minor
    assert isinstance(entry.amount, decimal.Decimal)
    assert abs(entry.date - day).days <= 7 or str(entry.date.year) in str(text) or "." in str(text)
