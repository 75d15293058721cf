"""Import identity: the file's own transaction id, or a fingerprint, so that re-importing adds nothing.

The fingerprint hashes the date, the signed amount, the currency, the normalised description and
the *occurrence index* of that combination within the file: two identical coffees on the same day
in one statement get ``#0`` and ``#1`` and both import; importing the statement again finds both.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence
from decimal import Decimal

from tracker.importers.base import ParsedRow

FINGERPRINT_PREFIX = "fp:"

_NON_WORD = re.compile(r"[\W_]+")


def normalise_description(text: str) -> str:
    """Case-, accent-, space- and punctuation-insensitive form of a description."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", bare).strip()


def _amount_key(amount: Decimal) -> str:
    text = format(amount.normalize(), "f") if amount else "0"
    return text


def fingerprint(row: ParsedRow, currency: str, occurrence: int) -> str:
    """``fp:`` + 24 hex digits of SHA-256 over date, amount, currency, description and occurrence."""
    return _hash(
        (row.date.isoformat(), _amount_key(row.amount), currency, normalise_description(row.description)), occurrence
    )


def _hash(key: tuple[str, str, str, str], occurrence: int) -> str:
    text = "|".join((*key, str(occurrence)))
    return FINGERPRINT_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def external_ids(rows: Sequence[ParsedRow], currencies: Sequence[str]) -> list[str]:
    """The import identity of every row: its own id, else its fingerprint (occurrences counted in file order)."""
    seen: Counter[tuple[str, str, str, str]] = Counter()
    out = []
    for row, currency in zip(rows, currencies, strict=True):
        if row.external_id:
            out.append(row.external_id)
            continue
        key = (row.date.isoformat(), _amount_key(row.amount), currency, normalise_description(row.description))
        out.append(_hash(key, seen[key]))
        seen[key] += 1
    return out


def duplicate_reasons(
    keys: Sequence[str], existing: Collection[str], among: Sequence[Collection[str]] | None = None
) -> list[str]:
    """For each key: ``""`` (new), ``"already in the ledger"`` or ``"repeated in the file"``.

    ``among`` gives, per key, the identities it is looked for in instead of ``existing`` (its account's).
    """
    seen: set[str] = set()
    out = []
    for i, key in enumerate(keys):
        if key and key in (existing if among is None else among[i]):
            out.append("already in the ledger")
        elif key and key in seen:
            out.append("repeated in the file")
        else:
            out.append("")
        seen.add(key)
    return out
