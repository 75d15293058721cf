"""The filter sidebar's pieces that need no running app: the periods of the presets, the view's line."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.analysis import Period
from tracker.filters import Filter
from tracker.ui import sidebar
from tracker.ui.formatting import md

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
    assert sidebar.preset_period(preset, DAY) == expected


def test_last_month_in_january_is_december() -> None:
    assert sidebar.preset_period("Last month", dt.date(2025, 1, 10)) == Period(
        dt.date(2024, 12, 1), dt.date(2024, 12, 31)
    )


def test_every_preset_but_custom_is_known() -> None:
    assert [p for p in sidebar.PRESETS if sidebar.preset_period(p, DAY) is None] == ["All time", "Custom range"]


def test_view_dates_and_description() -> None:
    flt = Filter.build(categories=["Food", "Rent"], tags=["a", "b"], tag_mode="all", type="expense", text="lunch")
    view = sidebar.View(flt, Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31)), "This month")
    assert (view.dated.start, view.dated.end) == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert view.filter.start is None
    assert sidebar.describe_view(view) == md(
        "This month (2024-03-01 – 2024-03-31) · Food, Rent · tagged #a and #b · expenses only · matching “lunch”"
    )
    assert sidebar.describe_view(sidebar.View(Filter(), None, "All time")) == "All time"
    assert view.key() != sidebar.View(flt, None, "All time").key()
