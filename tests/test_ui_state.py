"""The UI's shared helpers that need no running app: periods of the presets, amounts, CSV, labels."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tracker.analysis import Period
from tracker.filters import Filter
from tracker.frame import frame_from_transactions
from tracker.model import make_transaction
from tracker.ui import state

DAY = dt.date(2024, 3, 15)  # a leap year


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("This month", Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))),
        ("Last month", Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
        ("Last 30 days", Period(dt.date(2024, 2, 15), dt.date(2024, 3, 15))),
        ("This year", Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31))),
        ("All time", None),
    ],
)
def test_preset_periods(preset: str, expected: Period | None) -> None:
    assert state.preset_period(preset, DAY) == expected


def test_last_month_in_january_is_december() -> None:
    assert state.preset_period("Last month", dt.date(2025, 1, 10)) == Period(
        dt.date(2024, 12, 1), dt.date(2024, 12, 31)
    )


def test_every_preset_but_custom_is_known() -> None:
    assert [p for p in state.PRESETS if state.preset_period(p, DAY) is None] == ["All time", "Custom range"]


@pytest.mark.parametrize(
    ("typed", "number_format", "backend_reads"),
    [
        ("1.234,50", "1.234,56", "1234.50"),
        ("12,5", "1.234,56", "12.5"),
        ("12.50", "1.234,56", "12.50"),  # not in that format: passed on as typed
        ("1 234,50", "1 234,56", "1234.50"),
        ("1'234.50", "1'234.56", "1234.50"),
        ("1,234.50", "1,234.56", "1,234.50"),  # the backend reads this format itself
        ("12,5x", "1.234,56", "12,5x"),  # invalid text reaches the backend unchanged (its message quotes it)
    ],
)
def test_amount_text(typed: str, number_format: str, backend_reads: str) -> None:
    assert state.amount_text(typed, number_format) == backend_reads


def test_view_dates_and_description() -> None:
    flt = Filter.build(categories=["Food", "Rent"], tags=["a", "b"], tag_mode="all", type="expense", text="lunch")
    view = state.View(flt, Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31)), "This month")
    assert (view.dated.start, view.dated.end) == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert view.filter.start is None
    assert state.describe_view(view) == state.md(
        "This month (2024-03-01 – 2024-03-31) · Food, Rent · tagged #a and #b · expenses only · matching “lunch”"
    )
    assert state.describe_view(state.View(Filter(), None, "All time")) == "All time"
    assert view.key() != state.View(flt, None, "All time").key()


def test_csv_is_exact_and_formula_safe() -> None:
    txs = [
        make_transaction(
            type="expense", amount="1500", category="@SUM(A1)", currency="JPY", date="2024-03-02", note="-2+3"
        ),
        make_transaction(
            type="income", amount="0.10", category="Gift", currency="EUR", date="2024-03-01", tags=["x", "y"]
        ),
    ]
    data = state.csv_bytes(frame_from_transactions(txs))
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets open it as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(state.CSV_COLUMNS)
    rows[1:] = sorted(rows[1:])
    assert rows[1][:7] == ["2024-03-01", "income", "0.10", "EUR", "Gift", "x,y", ""]
    assert rows[2][:7] == ["2024-03-02", "expense", "1500", "JPY", "'@SUM(A1)", "", "'-2+3"]
    assert {rows[1][7], rows[2][7]} == {t.id for t in txs}


def test_percent_and_plain() -> None:
    assert state.percent(None) == "—"
    assert state.percent(12.345) == "12.3 %"
    assert state.plain(1250, "USD") == "12.50"
    assert state.plain(1250, "JPY") == "1250"


@pytest.mark.parametrize(
    "text", ["$5 and $6", "**bold**", ":smile:", "[link](http://x)", "a_b_c", "# title", "1. item"]
)
def test_md_escapes_user_text_so_it_shows_as_written(text: str) -> None:
    import re

    escaped = state.md(text)
    assert re.sub(r"\\(.)", r"\1", escaped) == text
    assert not re.search(r"(?<!\\)[$*:\[\]_#]", escaped)
