"""The importers by format name, what the user may fix instead of detection, and format detection.

Detection asks the importers themselves (:meth:`~tracker.importers.base.Importer.sniff`), in this
order: first every importer whose content signs beat a file's extension (OFX, QIF, JSON, in
:data:`IMPORTERS` order), then the extension, then the others' sniff (CSV: text with a delimiter).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tracker.errors import ValidationError
from tracker.importers.base import Importer, ImportFileError
from tracker.importers.csv_importer import CsvImporter, CsvMapping
from tracker.importers.json_importer import JsonImporter
from tracker.importers.ofx import OfxImporter
from tracker.importers.qif import QifImporter
from tracker.money import normalize_currency

IMPORTERS: tuple[type[Importer], ...] = (CsvImporter, OfxImporter, QifImporter, JsonImporter)
"""Every format, in the order they are offered (``--as``, the app's file type) and detected."""

FORMATS = tuple(cls.name for cls in IMPORTERS)


def importer_class(kind: str) -> type[Importer]:
    """The importer of the format named ``kind`` (``csv``, ``ofx``, ``qif``, ``json``)."""
    for cls in IMPORTERS:
        if cls.name == kind:
            return cls
    raise ValidationError("as", kind, f"must be one of {', '.join(FORMATS)}")


def detect_format(name: str, head: bytes) -> str:
    """``csv``, ``ofx``, ``qif`` or ``json`` from the content (strong signs first), then the extension."""
    strong = [cls for cls in IMPORTERS if cls.content_beats_extension]
    weak = [cls for cls in IMPORTERS if not cls.content_beats_extension]
    for cls in strong:
        if cls.sniff(name, head):
            return cls.name
    suffix = Path(name).suffix.lower()
    for cls in IMPORTERS:
        if suffix in cls.extensions:
            return cls.name
    for cls in weak:
        if cls.sniff(name, head):
            return cls.name
    raise ImportFileError.single(
        name, "is not a file type that can be imported (CSV, OFX/QFX, QIF or JSON); name the type (--as)"
    )


@dataclasses.dataclass(frozen=True)
class ImportOptions:
    """What the user fixed instead of detection. ``mapping`` is for CSV; ``date_format``/``decimal`` for CSV and QIF."""

    kind: str = ""
    mapping: CsvMapping = dataclasses.field(default_factory=CsvMapping)
    date_format: str = ""
    decimal: str = ""
    currency: str = ""
    account: str = ""
    """The account the file goes into (default: the one remembered for it, else the default account)."""
    statement_accounts: tuple[tuple[str, str], ...] = ()
    """For a file of several accounts: (statement key such as ``ofx:123/9100``, account name) pairs."""
    mapping_name: str = ""
    """The saved mapping the layout came from (it remembers the account it was last imported into)."""
    transfers: bool = True
    """Propose a row whose opposite twin is in another account as a transfer."""
    keep_signs: bool = False
    """Read the amounts' signs as they are, also into a credit card (no "all positive means charges")."""

    def __post_init__(self) -> None:
        if self.kind and self.kind not in FORMATS:
            raise ValidationError("as", self.kind, f"must be one of {', '.join(FORMATS)}")
        if self.decimal not in ("", ".", ","):
            raise ValidationError("decimal", self.decimal, "must be '.' or ','")
        if self.date_format and "%" not in self.date_format:
            raise ValidationError("date_format", self.date_format, "must use strptime codes such as %d.%m.%Y")
        if self.currency:
            object.__setattr__(self, "currency", normalize_currency(self.currency))


def make_importer(kind: str, options: ImportOptions, default_currency: str = "") -> Importer:
    """The importer for ``kind``, configured by ``options`` (options that do not apply are refused)."""
    return importer_class(kind).configured(options, default_currency)
