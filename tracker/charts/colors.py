"""One colour per category: stable across runs, the same in Plotly and Matplotlib, overridable.

A category's colour comes from a fixed palette, picked by a stable hash of its name (BLAKE2b of the
case-folded name, not Python's per-process salted ``hash()``), so "Food" is the same colour today,
tomorrow and in the PDF. :func:`category_colors` assigns colours to a whole set of categories: a
name whose palette slot is already taken by another name of the set moves on to the next free slot
(12 extra colours follow the palette), so the charts do not show two categories in the same colour. Pass the
ledger's full category list (not only the filtered one) so that colours do not change with filters.
Colours the user picked (ledger meta ``"category_colors"``: ``{category: "#rrggbb"}``) always win.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Iterable, Mapping

from tracker.errors import ValidationError

PALETTE: tuple[str, ...] = (
    "#4e79a7",
    "#a0cbe8",
    "#f28e2b",
    "#ffbe7d",
    "#59a14f",
    "#8cd17d",
    "#b6992d",
    "#f1ce63",
    "#499894",
    "#86bcb6",
    "#e15759",
    "#ff9d9a",
    "#d37295",
    "#fabfd2",
    "#b07aa1",
    "#d4a6c8",
    "#9d7660",
    "#d7b5a6",
)
"""Tableau 20 without its greys: nine hues, each dark and light, distinguishable on white and on dark.
A category's preferred colour is one of these."""

EXTRA_COLORS: tuple[str, ...] = (
    "#3969ac",
    "#11a579",
    "#e68310",
    "#7f3c8d",
    "#f2b701",
    "#e73f74",
    "#008695",
    "#80ba5a",
    "#cf1c90",
    "#4b4b8f",
    "#17becf",
    "#bcbd22",
)
"""Colours handed out only once every palette colour is taken (more than 18 categories)."""

COLORS: tuple[str, ...] = PALETTE + EXTRA_COLORS

OTHER_COLOR = "#9d9d9d"
"""Neutral grey for the folded "Other" slice."""
INCOME_COLOR = "#59a14f"
EXPENSE_COLOR = "#e15759"
BALANCE_COLOR = "#4e79a7"
CURRENT_COLOR = "#f28e2b"
PREVIOUS_COLOR = "#8c8c8c"

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def clean_color(value: object) -> str:
    """A colour as lower-case ``#rrggbb``, or ``ValidationError`` naming the field and the value."""
    if not isinstance(value, str) or not _HEX.match(value.strip()):
        raise ValidationError("color", value, "is not a colour in the form #rrggbb")
    return value.strip().lower()


def _slot(name: str) -> int:
    digest = hashlib.blake2b(name.strip().casefold().encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % len(PALETTE)


def _generated(key: str, taken: set[str]) -> str:
    """A colour outside the palette for the 31st category on: a hue from the name's hash, not yet used."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8, person=b"hue").digest()
    hue = int.from_bytes(digest, "big") % 360
    color = ""
    for _ in range(360):  # 137 and 360 are coprime: every hue is tried once
        red, green, blue = colorsys.hls_to_rgb(hue / 360, 0.55, 0.5)
        color = f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"
        if color not in taken:
            break
        hue = (hue + 137) % 360
    return color


def category_color(name: str) -> str:
    """The palette colour of one category on its own (its preferred slot)."""
    return PALETTE[_slot(name)]


def _overrides(overrides: Mapping[str, object] | None) -> dict[str, str]:
    """Valid user colours by case-folded category; invalid stored values are ignored, never fatal."""
    clean: dict[str, str] = {}
    for name, value in (overrides or {}).items():
        try:
            clean[str(name).strip().casefold()] = clean_color(value)
        except ValidationError:
            continue
    return clean


def category_colors(categories: Iterable[str], overrides: Mapping[str, object] | None = None) -> dict[str, str]:
    """Colours for a set of categories: the user's choice, else the hashed palette slot, kept distinct.

    Names are matched case-insensitively (``"food"`` and ``"Food"`` share a colour). Collisions are
    resolved deterministically: names are placed in order of (preferred slot, case-folded name) and
    a taken colour moves a name on to the next free one (after the 18 palette colours come 12 extra
    ones); beyond 30 categories each further one gets a hue derived from its name that no other has.

    Args:
        categories: every category that can appear (the ledger's categories).
        overrides: ``{category: "#rrggbb"}`` from the ledger meta ``"category_colors"``.

    Returns:
        ``{category: "#rrggbb"}`` for every name given (with its original spelling).
    """
    chosen = _overrides(overrides)
    names: dict[str, str] = {}
    for name in categories:
        names.setdefault(str(name).strip().casefold(), str(name))
    by_key: dict[str, str] = {key: chosen[key] for key in names if key in chosen}
    taken = {color for color in by_key.values() if color in COLORS}
    for key in sorted((k for k in names if k not in by_key), key=lambda k: (_slot(k), k)):
        slot = _slot(key)
        if len(taken) < len(COLORS):
            while COLORS[slot] in taken:
                slot = (slot + 1) % len(COLORS)
            color = COLORS[slot]
        else:
            color = _generated(key, taken)
        by_key[key] = color
        taken.add(color)
    result: dict[str, str] = {}
    for name in categories:
        result[str(name)] = by_key[str(name).strip().casefold()]
    return result


def color_for(name: str, colors: Mapping[str, str] | None) -> str:
    """The colour of ``name`` in ``colors`` (exact, then case-insensitive), else its palette colour."""
    if colors:
        if name in colors:
            return colors[name]
        folded = name.strip().casefold()
        for key, value in colors.items():
            if key.strip().casefold() == folded:
                return value
    return category_color(name)
