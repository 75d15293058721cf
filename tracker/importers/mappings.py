"""Saved CSV mappings: the user's layouts by name, in the ledger meta under :data:`MAPPINGS_KEY`.

The stored form is ``{name: CsvMapping.to_dict()}``. An entry that is not a valid mapping is left out of
what is offered, and kept as stored when another mapping is saved.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tracker.errors import ValidationError
from tracker.features import MetaFeature
from tracker.importers.csv_importer import KNOWN_LAYOUTS, CsvMapping

if TYPE_CHECKING:
    from tracker.ledger import Ledger

log = logging.getLogger(__name__)

MAPPINGS_KEY = "csv_mappings"


def check_mapping_name(name: str) -> str:
    """A mapping name: 1-60 characters, no control characters."""
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > 60 or any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ValidationError("mapping name", name, "must be 1 to 60 characters without control characters")
    return text


def stored_mappings(value: object) -> dict[str, Any]:
    """The stored form (the meta value, ``None`` when absent) as a new dict; anything but an object is empty."""
    return dict(value) if isinstance(value, Mapping) else {}


MAPPINGS: MetaFeature[dict[str, Any]] = MetaFeature(MAPPINGS_KEY, load=stored_mappings, dump=lambda m: m or None)
"""The saved CSV mappings' slice of the ledger meta (stored form by name; a mapping names columns, never a category)."""


def saved_mappings(ledger: Ledger) -> dict[str, CsvMapping]:
    """The user's saved CSV mappings by name (entries that are not valid mappings are left out)."""
    out: dict[str, CsvMapping] = {}
    for name, value in MAPPINGS.read(ledger).items():
        try:
            out[str(name)] = CsvMapping.from_dict(value, str(name))
        except (ValidationError, TypeError):
            log.warning("ignoring the invalid saved CSV mapping %r", name)
    return out


def resolve_mapping(ledger: Ledger, name: str) -> CsvMapping:
    """A saved mapping, or a built-in bank layout, by name."""
    stored = MAPPINGS.read(ledger)
    if name in stored:
        return CsvMapping.from_dict(stored[name], name)
    for layout in KNOWN_LAYOUTS:
        if layout.name == name:
            return layout.mapping
    known = sorted(saved_mappings(ledger)) + [lay.name for lay in KNOWN_LAYOUTS]
    raise ValidationError("mapping", name, f"is not a saved CSV mapping (known: {', '.join(known)})")


def with_mapping(ledger: Ledger, name: str, mapping: CsvMapping | None) -> dict[str, Any]:
    """The stored mappings with ``name`` set to ``mapping`` (``None``: removed); the ledger is not changed."""
    current = MAPPINGS.read(ledger)
    if mapping is None:
        current.pop(name, None)
    else:
        current[check_mapping_name(name)] = mapping.to_dict()
    return current


def save_mapping(ledger: Ledger, name: str, mapping: CsvMapping) -> None:
    """Store a CSV mapping under ``name`` (one undoable change)."""
    with ledger.locked():
        ledger.refresh()
        MAPPINGS.write(ledger, with_mapping(ledger, name, mapping), label=f"save CSV mapping {name}")


def delete_mapping(ledger: Ledger, name: str) -> None:
    """Remove a saved CSV mapping (``NotFoundError`` style ``ValidationError`` when there is none)."""
    with ledger.locked():
        ledger.refresh()
        if name not in MAPPINGS.read(ledger):
            raise ValidationError("mapping", name, "is not a saved CSV mapping")
        MAPPINGS.write(ledger, with_mapping(ledger, name, None), label=f"delete CSV mapping {name}")
