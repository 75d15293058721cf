"""Output safety shared by every export path."""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Neutralise a text cell that a spreadsheet would run as a formula by prefixing ``'``.

    Numbers are left alone; text such as ``=HYPERLINK(...)`` or ``-2+3`` becomes ``'=HYPERLINK(...)``.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
