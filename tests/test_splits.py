"""tracker.splits: the remainder, spreading it over empty lines, typed lines read into ``splits=``."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker import splits
from tracker.errors import ValidationError
from tracker.ledger import Ledger
from tracker.splits import TypedLine


def test_the_remainder_counts_only_the_lines_with_an_amount() -> None:
    assert splits.remainder(10000, [7000, None, 1250]) == 1750
    assert splits.remainder(10000, []) == 10000
    assert splits.remainder(10000, [6000, 5000]) == -1000


@pytest.mark.parametrize(
    ("left", "slots", "parts"),
    [
        (1000, 3, [334, 333, 333]),
        (1001, 3, [334, 334, 333]),
        (900, 3, [300, 300, 300]),
        (1, 3, [1, 0, 0]),
        (0, 2, [0, 0]),
        (1250, 1, [1250]),
    ],
)
def test_distribute_spreads_evenly_the_first_lines_get_the_leftover(left: int, slots: int, parts: list[int]) -> None:
    assert splits.distribute(left, slots) == parts


@pytest.mark.parametrize(("left", "slots", "field"), [(100, 0, "split"), (-1, 2, "remainder")])
def test_distribute_refuses_no_lines_and_a_negative_remainder(left: int, slots: int, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        splits.distribute(left, slots)
    assert caught.value.field == field


@given(left=st.integers(min_value=0, max_value=10**14), slots=st.integers(min_value=1, max_value=100))
def test_distribute_sums_exactly_differs_by_one_at_most_first_gets_more(left: int, slots: int) -> None:
    parts = splits.distribute(left, slots)
    assert len(parts) == slots
    assert sum(parts) == left
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)  # the bigger parts come first


@given(
    total=st.integers(min_value=1, max_value=10**9),
    typed=st.lists(st.one_of(st.none(), st.integers(min_value=1, max_value=10**6)), min_size=1, max_size=12),
)
def test_filling_the_remainder_makes_the_lines_sum_to_the_total(total: int, typed: list[int | None]) -> None:
    lines = [TypedLine("Food", "" if m is None else f"{m // 100}.{m % 100:02d}") for m in typed]
    try:
        filled = splits.fill_remainder(total, lines, "1,234.56", "USD")
    except ValidationError:
        left = splits.remainder(total, typed)
        assert None not in typed or left < typed.count(None)  # no empty line, too little or over the total
        return
    assert set(filled) == {i for i, m in enumerate(typed) if m is None}
    assert all(part > 0 for part in filled.values())
    assert sum(m for m in typed if m is not None) + sum(filled.values()) == total


def test_fill_remainder_reads_amounts_in_the_number_format() -> None:
    lines = [TypedLine("Food", "1.000,50"), TypedLine("Home"), TypedLine("Fun", ""), TypedLine()]
    assert splits.fill_remainder(200000, lines, "1.234,56", "EUR") == {1: 33317, 2: 33317, 3: 33316}


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        (["100.00", "12x"], "line 2 amount: '12x' is not an amount"),
        (["100.00", "0.001"], "line 2 amount: '0.001' has more decimal places than USD allows"),
        (["100.00", "20.00"], "remainder: '0.00' has no empty line to go to"),
        (["90.00", "20.00", ""], "remainder: '-10.00' is negative"),
        (["100.00", ""], "remainder: '0.00' is nothing to share"),
        (["99.99", "", ""], "remainder: '0.01' is too little to share between 2 empty lines"),
    ],
)
def test_fill_remainder_says_why_it_cannot(amounts: list[str], message: str) -> None:
    lines = [TypedLine("Food", a) for a in amounts]
    total = 12000 if amounts[:2] == ["100.00", "20.00"] else 10000
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        splits.fill_remainder(total, lines, "1,234.56", "USD")


def test_to_splits_reads_the_lines_and_leaves_the_blank_ones_out() -> None:
    lines = [
        TypedLine(" Groceries ", "70", ("food",), " weekly "),
        TypedLine(),
        TypedLine("Household", "30,00", (), ""),
    ]
    assert splits.to_splits(lines, "1.234,56", "EUR") == [
        {"category": "Groceries", "amount": Decimal("70.00"), "tags": ["food"], "note": "weekly"},
        {"category": "Household", "amount": Decimal("30.00"), "tags": [], "note": ""},
    ]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([TypedLine("Food", "5"), TypedLine(None, "5")], "line 2 category: '' must not be empty"),
        ([TypedLine("Food", "5"), TypedLine("Home", "", note="x")], "line 2 amount: '' is needed"),
        ([TypedLine("Food", "5"), TypedLine("Home", "-5")], "line 2 amount: '-5'"),
        ([TypedLine("Food", "5"), TypedLine(), TypedLine("split", "5")], "line 3 category: 'split' is not a category"),
        ([TypedLine("Food", "5"), TypedLine("Home", "5", note="a\x00b")], "line 2 note"),
        ([TypedLine("Food", "5"), TypedLine()], "split: 1 needs two or more lines"),
        ([], "split: 0 needs two or more lines"),
    ],
)
def test_to_splits_names_the_line_of_a_problem(lines: list[TypedLine], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        splits.to_splits(lines, "1,234.56", "USD")


def test_the_lines_read_are_what_the_ledger_takes(ledger: Ledger) -> None:
    lines = splits.to_splits([TypedLine("Groceries", "70"), TypedLine("Household", "30")], "1,234.56", "USD")
    tx = ledger.add("expense", Decimal("100"), splits=lines)
    assert [(line.category, line.amount_minor) for line in tx.splits] == [("Groceries", 7000), ("Household", 3000)]


def test_the_module_does_not_import_streamlit() -> None:
    code = "import sys, tracker.splits; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
