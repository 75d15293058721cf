"""The import plan: every row of a file read, categorised, identified and validated; nothing written."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from tracker.categorize import History, categorise
from tracker.errors import TrackerError, ValidationError
from tracker.importers.base import Extraction, Importer, ImportFileError, Problems
from tracker.importers.dedup import duplicate_reasons, external_ids
from tracker.importers.registry import ImportOptions, detect_format, importer_class, make_importer
from tracker.importers.rules import RULES, Rule
from tracker.model import Transaction, make_transaction, new_id, utcnow
from tracker.money import format_plain

if TYPE_CHECKING:
    from tracker.ledger import Ledger

log = logging.getLogger(__name__)

Progress = Callable[[float], None]


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
            rules=tuple(RULES.read(ledger)) if learn else (),
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
    def importer(self) -> type[Importer]:
        """The importer class of the file's format (what it can do: identity, mapping...)."""
        return importer_class(self.kind)

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
        A duplicate taken anyway keeps its import identity; one restored with its id (JSON) gets a fresh id.
        """
        fresh_id = self.importer.restores_identity
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
                out.append(dataclasses.replace(row.draft, id=new_id()) if fresh_id else row.draft)
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
    if progress:
        importer.progress = lambda f: progress(0.7 * f)
    extraction = _read(importer, data, name)
    if progress:
        progress(0.7)
    rows = extraction.rows
    currencies = [row.currency or options.currency or view.default_currency for row in rows]
    exact = importer.restores_identity
    keys = [row.id or "" for row in rows] if exact else external_ids(rows, currencies)
    existing = view.ids if exact else view.external_ids
    reasons = duplicate_reasons(keys, existing)
    if exact:  # a restored row is also a duplicate when its (non-empty) import identity is already known
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


def _read(importer: Importer, data: bytes, name: str) -> Extraction:
    """``importer.read`` with every failure turned into :class:`ImportFileError` (never a traceback)."""
    kind = importer.name
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
