"""How the pages show numbers, user text and refused amounts (no running app needed)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tracker.errors import TrackerError, ValidationError
from tracker.ui import formatting


def test_percent_and_plain() -> None:
    assert formatting.percent(None) == "—"
    assert formatting.percent(12.345) == "12.3 %"
    assert formatting.plain(1250, "USD") == "12.50"
    assert formatting.plain(1250, "JPY") == "1250"


@pytest.mark.parametrize(
    "text", ["$5 and $6", "**bold**", ":smile:", "[link](http://x)", "a_b_c", "# title", "1. item"]
)
def test_md_escapes_user_text_so_it_shows_as_written(text: str) -> None:
    escaped = formatting.md(text)
    assert re.sub(r"\\(.)", r"\1", escaped) == text
    assert not re.search(r"(?<!\\)[$*:\[\]_#]", escaped)


def test_a_refused_amount_is_quoted_as_typed_not_as_its_decimal() -> None:
    refused = ValidationError("amount", Decimal("0.001"), "has more decimal places than EUR allows (2)")
    assert formatting.error_text(refused, "0,001") == "amount: '0,001' has more decimal places than EUR allows (2)"
    assert formatting.error_text(refused) == str(refused)  # nothing typed to quote
    other = ValidationError("category", "", "must not be empty")
    assert formatting.error_text(other, "0,001") == str(other)
    assert formatting.error_text(TrackerError("disk full"), "5") == "disk full"
