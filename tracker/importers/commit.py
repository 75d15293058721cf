"""Storing a plan: one commit (one undo step), duplicates re-checked under the ledger's lock."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.errors import ValidationError
from tracker.importers.base import read_file_bytes
from tracker.importers.csv_importer import CsvMapping
from tracker.importers.mappings import MAPPINGS_KEY, check_mapping_name, with_mapping
from tracker.importers.plan import ImportPlan, LedgerView, PlannedRow, Progress, plan_import
from tracker.importers.registry import ImportOptions
from tracker.model import Transaction, new_id

if TYPE_CHECKING:
    from tracker.ledger import Ledger


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
        detected = plan.importer.detected(plan.details)
        if detected is not None:
            out["detected"] = detected
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
            meta[MAPPINGS_KEY] = with_mapping(
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
    """The rows with those now in the ledger marked duplicate (restored ids clash by id, others by import identity).

    A new row from a bank file whose id is taken meanwhile gets a fresh one.
    """
    by_id = plan.importer.restores_identity
    rows = []
    for row in plan.rows:
        tx = row.draft
        if row.status == "new" and tx is not None:
            clash = tx.id in view.ids if by_id else tx.external_id in view.external_ids
            if clash:
                row = dataclasses.replace(row, status="duplicate", reason="already in the ledger")
            elif not by_id and tx.id in view.ids:
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
    if save_mapping_as and not plan.importer.accepts_mapping:
        raise ValidationError("save_mapping", save_mapping_as, "only CSV mappings can be saved")
    if dry_run:
        return ImportResult(plan=plan, added=plan.drafts(include_duplicates), dry_run=True, revision=ledger.revision)
    return commit_plan(ledger, plan, include_duplicates=include_duplicates, save_mapping_as=save_mapping_as)
