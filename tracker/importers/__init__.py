"""Importing bank files (CSV, OFX/QFX, QIF) and our own JSON export, all or nothing.

The steps, each a pure function until the last:

1. :func:`detect_format` looks at the name and the first bytes; ``--as`` overrides it.
2. An :class:`~tracker.importers.base.Importer` reads every row (or refuses the file, naming the
   line and field of each problem).
3. :func:`plan_import` categorises the rows (file category, the user's rules, history, default),
   gives each its import identity (:mod:`tracker.importers.dedup`), marks duplicates and rows without
   money, and validates every draft transaction. A bad row refuses the whole file.
4. :func:`commit_plan` stores the new rows with one ``ledger.add_many`` (one commit, one undo step),
   re-checking duplicates under the ledger's lock so that a concurrent import cannot double them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import unicodedata
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.errors import TrackerError, ValidationError
from tracker.importers.base import (
    Extraction,
    Importer,
    ImportFileError,
    ParsedRow,
    Problems,
    read_file_bytes,
)
from tracker.importers.csv_importer import KNOWN_LAYOUTS, CsvImporter, CsvMapping
from tracker.importers.dedup import duplicate_reasons, external_ids
from tracker.importers.json_importer import JsonImporter
from tracker.importers.ofx import OfxImporter
from tracker.importers.qif import QifImporter
from tracker.importers.rules import DEFAULT_CATEGORY, History, Rule, categorise, load_rules
from tracker.model import Transaction, make_transaction, new_id, utcnow
from tracker.money import format_plain, normalize_currency

if TYPE_CHECKING:
    from tracker.ledger import Ledger

__all__ = [
    "DEFAULT_CATEGORY",
    "FORMATS",
    "CsvMapping",
    "ImportFileError",
    "ImportOptions",
    "ImportPlan",
    "ImportResult",
    "Importer",
    "LedgerView",
    "ParsedRow",
    "PlannedRow",
    "commit_plan",
    "delete_mapping",
    "detect_format",
    "import_file",
    "make_importer",
    "plan_import",
    "resolve_mapping",
    "save_mapping",
    "saved_mappings",
]

log = logging.getLogger(__name__)

FORMATS = ("csv", "ofx", "qif", "json")
MAPPINGS_KEY = "csv_mappings"
RULES_KEY = "rules"
Progress = Callable[[float], None]


def _importers() -> dict[str, type[Importer]]:
    return {"csv": CsvImporter, "ofx": OfxImporter, "qif": QifImporter, "json": JsonImporter}


# --- detection and options -----------------------------------------------------------------------


def detect_format(name: str, head: bytes) -> str:
    """``csv``, ``ofx``, ``qif`` or ``json`` from the content (strong signs first), then the extension."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    upper = text[:4096].upper()
    xml_ofx = upper.startswith(b"<?XML") and b"<OFX>" in upper
    if xml_ofx or upper.startswith((b"OFXHEADER", b"<?OFX", b"<OFX>")):
        return "ofx"
    if text.lower().lstrip(b"^ \r\n").startswith((b"!type:", b"!account", b"!option", b"!clear")):
        return "qif"
    if text.startswith((b"{", b"[")) and JsonImporter().sniff(name, head):
        return "json"
    suffix = Path(name).suffix.lower()
    for kind, cls in _importers().items():
        if suffix in cls.extensions:
            return kind
    if CsvImporter().sniff(name, head):
        return "csv"
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

    def __post_init__(self) -> None:
        if self.kind and self.kind not in FORMATS:
            raise ValidationError("as", self.kind, f"must be one of {', '.join(FORMATS)}")
        if self.decimal not in ("", ".", ","):
            raise ValidationError("decimal", self.decimal, "must be '.' or ','")
        if self.date_format and "%" not in self.date_format:
            raise ValidationError("date_format", self.date_format, "must use strptime codes such as %d.%m.%Y")
        if self.currency:
            object.__setattr__(self, "currency", normalize_currency(self.currency))

    def csv_mapping(self) -> CsvMapping:
        """The mapping with the shared date format and decimal separator folded in.

        ``currency`` is not folded in: it only fills rows whose file (or declared layout) names no currency.
        """
        extra = CsvMapping(date_format=self.date_format, decimal=self.decimal)
        return self.mapping.merged(extra)


def make_importer(kind: str, options: ImportOptions, default_currency: str = "") -> Importer:
    """The importer for ``kind``, configured by ``options`` (options that do not apply are refused)."""
    if kind != "csv" and not options.mapping.is_empty():
        given = ", ".join(sorted(options.mapping.to_dict()))
        raise ValidationError("mapping", given, f"applies to CSV files only, not {kind.upper()}")
    if kind in ("ofx", "json") and (options.date_format or options.decimal):
        raise ValidationError(
            "date_format" if options.date_format else "decimal",
            options.date_format or options.decimal,
            f"does not apply to {kind.upper()} files",
        )
    if kind == "csv":
        return CsvImporter(options.csv_mapping(), default_currency=options.currency or default_currency)
    if kind == "qif":
        return QifImporter(
            date_format=options.date_format,
            decimal=options.decimal,
            currency=options.currency,
            day_first=options.decimal == ",",
        )
    if kind == "ofx":
        return OfxImporter()
    if kind == "json":
        return JsonImporter()
    raise ValidationError("as", kind, f"must be one of {', '.join(FORMATS)}")


# --- the plan -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LedgerView:
    """What planning needs to know about the ledger (a snapshot; pure data, no I/O)."""

    default_currency: str = "USD"
    rules: tuple[Rule, ...] = ()
    history: History | None = None
    external_ids: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, ledger: Ledger, *, learn: bool = True) -> LedgerView:
        """The view of a ledger now (call under ``ledger.locked()`` for a race-free import).

        ``learn=False`` skips the rules and the history (enough for re-checking duplicates).
        """
        frame = ledger.frame()
        return cls(
            default_currency=ledger.default_currency,
            rules=tuple(load_rules(ledger.meta(RULES_KEY))) if learn else (),
            history=History.from_frame(frame) if learn else None,
            external_ids=frozenset(e for e in frame["external_id"].astype(str) if e),
            ids=frozenset(frame["id"].astype(str)),
        )


@dataclasses.dataclass
class PlannedRow:
    """One row of the file and what the import will do with it."""

    line: int
    status: str
    """``new``, ``duplicate`` or ``skipped``."""
    reason: str
    description: str
    category_source: str
    draft: Transaction | None

    def to_json(self) -> dict[str, Any]:
        """The row for ``--format json`` and the UI preview."""
        tx = self.draft
        return {
            "line": self.line,
            "status": self.status,
            "reason": self.reason,
            "date": tx.date.isoformat() if tx else None,
            "type": tx.type if tx else None,
            "amount": format_plain(tx.amount_minor, tx.currency) if tx else None,
            "currency": tx.currency if tx else None,
            "category": tx.category if tx else None,
            "category_source": self.category_source,
            "tags": list(tx.tags) if tx else [],
            "description": self.description,
            "external_id": tx.external_id if tx else "",
        }


@dataclasses.dataclass
class ImportPlan:
    """Everything an import would do; nothing has been written."""

    file: str
    kind: str
    unit: str
    rows: list[PlannedRow]
    warnings: list[str]
    details: dict[str, Any]

    @property
    def new(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.status == "new"]

    @property
    def duplicates(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.status == "duplicate"]

    @property
    def skipped(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.status == "skipped"]

    def drafts(self, include_duplicates: bool | Collection[int] = False) -> list[Transaction]:
        """The transactions to store: the new rows, plus the duplicates taken anyway.

        ``include_duplicates`` is ``True`` (all of them) or the positions (in :attr:`rows`) of those to take.
        A duplicate taken anyway keeps its import identity; from a JSON file it gets a fresh id.
        """
        out: list[Transaction] = []
        for i, row in enumerate(self.rows):
            if row.draft is None or row.status == "skipped":
                continue
            if row.status == "duplicate":
                take = include_duplicates is True or (
                    not isinstance(include_duplicates, bool) and i in include_duplicates
                )
                if not take:
                    continue
                out.append(dataclasses.replace(row.draft, id=new_id()) if self.kind == "json" else row.draft)
            else:
                out.append(row.draft)
        return out


def plan_import(
    data: bytes,
    name: str,
    view: LedgerView,
    options: ImportOptions | None = None,
    *,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> ImportPlan:
    """Read, categorise, identify and validate every row of a file; raises :class:`ImportFileError`."""
    options = options or ImportOptions()
    kind = options.kind or detect_format(name, data[:8192])
    importer = make_importer(kind, options, view.default_currency)
    if isinstance(importer, CsvImporter) and progress:
        importer.progress = lambda f: progress(0.7 * f)
    extraction = _read(importer, data, name, kind)
    if progress:
        progress(0.7)
    rows = extraction.rows
    currencies = [row.currency or options.currency or view.default_currency for row in rows]
    exact = kind == "json"
    keys = [row.id or "" for row in rows] if exact else external_ids(rows, currencies)
    existing = view.ids if exact else view.external_ids
    reasons = duplicate_reasons(keys, existing)
    if exact:  # a JSON row is also a duplicate when its (non-empty) import identity is already known
        reasons = [
            r or ("already in the ledger" if row.external_id and row.external_id in view.external_ids else "")
            for r, row in zip(reasons, rows, strict=True)
        ]
    stamp = now or utcnow()
    problems = Problems(name, unit=importer.unit)
    planned: list[PlannedRow] = []
    rules = list(view.rules)
    for n, (row, currency, key, reason) in enumerate(zip(rows, currencies, keys, reasons, strict=True)):
        if progress and n % 500 == 0:
            progress(0.7 + 0.3 * n / max(len(rows), 1))
        if row.amount == 0:
            planned.append(PlannedRow(row.line, "skipped", "no amount", row.description, "", None))
            continue
        if exact:
            category, source = row.category, "file"
        else:
            category, source = categorise(row.description, row.category, rules, view.history)
        try:
            tx = make_transaction(
                type="income" if row.amount > 0 else "expense",
                amount=abs(row.amount),
                category=category,
                currency=currency,
                date=row.date,
                tags=row.tags,
                note=row.description,
                external_id=row.external_id if exact else key,
                id=row.id,
                now=stamp,
            )
        except ValidationError as exc:
            problems.add_error(row.line, exc)
            continue
        if exact:
            created = row.created_at or stamp
            tx = dataclasses.replace(tx, created_at=created, updated_at=row.updated_at or created)
        planned.append(PlannedRow(row.line, "duplicate" if reason else "new", reason, row.description, source, tx))
    problems.raise_if_any()
    planned.extend(PlannedRow(s.line, "skipped", s.reason, "", "", None) for s in extraction.skipped)
    planned.sort(key=lambda r: r.line)
    warnings = list(extraction.warnings)
    if not rows and not extraction.skipped:
        warnings.append("the file contains no transactions")
    if progress:
        progress(1.0)
    return ImportPlan(
        file=name, kind=kind, unit=importer.unit, rows=planned, warnings=warnings, details=extraction.details
    )


def _read(importer: Importer, data: bytes, name: str, kind: str) -> Extraction:
    """``importer.read`` with every failure turned into :class:`ImportFileError` (never a traceback)."""
    try:
        return importer.read(data, name)
    except TrackerError:
        raise
    except RecursionError:
        raise ImportFileError.single(name, f"is nested too deeply to be read as {kind.upper()}") from None
    except Exception as exc:
        log.exception("unexpected failure reading %s as %s", name, kind)
        raise ImportFileError.single(
            name, f"cannot be read as {kind.upper()} ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None


# --- committing -----------------------------------------------------------------------------------


@dataclasses.dataclass
class ImportResult:
    """What an import did (or, on a dry run, would do)."""

    plan: ImportPlan
    added: list[Transaction]
    dry_run: bool
    revision: int
    mapping_saved: str = ""

    def to_json(self, rows: bool = False) -> dict[str, Any]:
        """``added``, ``duplicates``, ``skipped``, ``errors`` (0: a refused file raises instead) and more."""
        plan = self.plan
        out: dict[str, Any] = {
            "file": plan.file,
            "format": plan.kind,
            "dry_run": self.dry_run,
            "added": len(self.added),
            "duplicates": len(plan.duplicates),
            "duplicates_taken": len(self.added) - len(plan.new),
            "skipped": len(plan.skipped),
            "errors": 0,
            "warnings": plan.warnings,
            "revision": self.revision,
        }
        if plan.kind == "csv":
            out["detected"] = {
                k: plan.details.get(k) for k in ("layout", "encoding", "delimiter", "decimal", "date_format", "columns")
            }
        if self.mapping_saved:
            out["mapping_saved"] = self.mapping_saved
        if rows:
            out["rows"] = [r.to_json() for r in plan.rows]
        return out


def commit_plan(
    ledger: Ledger,
    plan: ImportPlan,
    *,
    include_duplicates: bool | Collection[int] = False,
    save_mapping_as: str = "",
) -> ImportResult:
    """Store the plan's new rows (and the duplicates taken) as one commit; optionally save the CSV mapping with it.

    Under the ledger's lock the duplicates are checked again, so a file imported meanwhile by another
    process (or twice in a row from the UI) adds nothing the second time.
    """
    with ledger.locked():
        ledger.refresh()
        fresh = LedgerView.of(ledger, learn=False)
        rows = _recheck(plan, fresh)
        plan = dataclasses.replace(plan, rows=rows)
        drafts = plan.drafts(include_duplicates)
        label = f"import {plan.file} ({len(drafts)} transaction{'s' if len(drafts) != 1 else ''})"
        meta: dict[str, Any] = {}
        if save_mapping_as:
            meta[MAPPINGS_KEY] = _with_mapping(
                ledger, save_mapping_as, CsvMapping.from_dict(plan.details.get("mapping", {}))
            )
        if meta:
            ledger.commit(puts=drafts, meta=meta, label=label)
        elif drafts:
            ledger.add_many(drafts, label=label)
        return ImportResult(
            plan=plan, added=drafts, dry_run=False, revision=ledger.revision, mapping_saved=save_mapping_as
        )


def _recheck(plan: ImportPlan, view: LedgerView) -> list[PlannedRow]:
    rows = []
    for row in plan.rows:
        tx = row.draft
        if row.status == "new" and tx is not None:
            clash = tx.id in view.ids if plan.kind == "json" else tx.external_id in view.external_ids
            if clash:
                row = dataclasses.replace(row, status="duplicate", reason="already in the ledger")
            elif plan.kind != "json" and tx.id in view.ids:
                row = dataclasses.replace(row, draft=dataclasses.replace(tx, id=new_id()))
        rows.append(row)
    return rows


def import_file(
    ledger: Ledger,
    path: str | Path,
    options: ImportOptions | None = None,
    *,
    dry_run: bool = False,
    include_duplicates: bool = False,
    save_mapping_as: str = "",
    data: bytes | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Plan and (unless ``dry_run``) commit the import of one file. Raises :class:`ImportFileError`."""
    path = Path(path)
    raw = data if data is not None else read_file_bytes(path)
    if save_mapping_as:
        check_mapping_name(save_mapping_as)
    ledger.refresh()
    # Planning only reads (other processes may write meanwhile); commit_plan re-checks under the lock.
    plan = plan_import(raw, path.name, LedgerView.of(ledger), options, progress=progress)
    if save_mapping_as and plan.kind != "csv":
        raise ValidationError("save_mapping", save_mapping_as, "only CSV mappings can be saved")
    if dry_run:
        return ImportResult(plan=plan, added=plan.drafts(include_duplicates), dry_run=True, revision=ledger.revision)
    return commit_plan(ledger, plan, include_duplicates=include_duplicates, save_mapping_as=save_mapping_as)


# --- saved CSV mappings ----------------------------------------------------------------------------


def check_mapping_name(name: str) -> str:
    """A mapping name: 1-60 characters, no control characters."""
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > 60 or any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ValidationError("mapping name", name, "must be 1 to 60 characters without control characters")
    return text


def saved_mappings(ledger: Ledger) -> dict[str, CsvMapping]:
    """The user's saved CSV mappings by name (entries that are not valid mappings are left out)."""
    stored = ledger.meta(MAPPINGS_KEY) or {}
    out: dict[str, CsvMapping] = {}
    if isinstance(stored, Mapping):
        for name, value in stored.items():
            try:
                out[str(name)] = CsvMapping.from_dict(value, str(name))
            except (ValidationError, TypeError):
                log.warning("ignoring the invalid saved CSV mapping %r", name)
    return out


def resolve_mapping(ledger: Ledger, name: str) -> CsvMapping:
    """A saved mapping, or a built-in bank layout, by name."""
    stored = ledger.meta(MAPPINGS_KEY) or {}
    if isinstance(stored, Mapping) and name in stored:
        return CsvMapping.from_dict(stored[name], name)
    for layout in KNOWN_LAYOUTS:
        if layout.name == name:
            return layout.mapping
    known = sorted(saved_mappings(ledger)) + [lay.name for lay in KNOWN_LAYOUTS]
    raise ValidationError("mapping", name, f"is not a saved CSV mapping (known: {', '.join(known)})")


def _with_mapping(ledger: Ledger, name: str, mapping: CsvMapping | None) -> dict[str, Any]:
    stored = ledger.meta(MAPPINGS_KEY) or {}
    current = dict(stored) if isinstance(stored, Mapping) else {}
    if mapping is None:
        current.pop(name, None)
    else:
        current[check_mapping_name(name)] = mapping.to_dict()
    return current


def save_mapping(ledger: Ledger, name: str, mapping: CsvMapping) -> None:
    """Store a CSV mapping under ``name`` (one undoable change)."""
    with ledger.locked():
        ledger.refresh()
        ledger.set_meta(MAPPINGS_KEY, _with_mapping(ledger, name, mapping), label=f"save CSV mapping {name}")


def delete_mapping(ledger: Ledger, name: str) -> None:
    """Remove a saved CSV mapping (``NotFoundError`` style ``ValidationError`` when there is none)."""
    with ledger.locked():
        ledger.refresh()
        if name not in (ledger.meta(MAPPINGS_KEY) or {}):
            raise ValidationError("mapping", name, "is not a saved CSV mapping")
        ledger.set_meta(MAPPINGS_KEY, _with_mapping(ledger, name, None) or None, label=f"delete CSV mapping {name}")
