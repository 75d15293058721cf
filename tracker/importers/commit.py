"""Storing a plan: one commit (one undo step), duplicates re-checked under the ledger's lock."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.errors import NotFoundError, ValidationError
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
    balances: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """Per statement that states a closing balance: it, the account's balance on that day, the difference."""
    linked: int = 0
    """How many transfers were made of an imported row and its twin."""

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
        out["accounts"] = sorted({s.account for s in plan.statements}, key=str.casefold)
        out["transfers"] = self.linked
        if self.balances:
            out["balances"] = self.balances
            if len(self.balances) == 1:  # one account's statement: its figures at the top
                keys = ("statement_balance", "computed_balance", "difference")
                out.update({k: self.balances[0][k] for k in keys})
        if rows:
            out["rows"] = [r.to_json() for r in plan.rows]
        return out


def commit_plan(
    ledger: Ledger,
    plan: ImportPlan,
    *,
    include_duplicates: bool | Collection[int] = False,
    save_mapping_as: str = "",
    transfers: bool | Collection[int] = True,
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
        accepted, others = _linked(ledger, plan, transfers)
        drafts = plan.drafts(include_duplicates, accepted)
        label = f"import {plan.file} ({len(drafts)} transaction{'s' if len(drafts) != 1 else ''})"
        meta: dict[str, Any] = {}
        if save_mapping_as:
            meta[MAPPINGS_KEY] = with_mapping(
                ledger, save_mapping_as, CsvMapping.from_dict(plan.details.get("mapping", {}))
            )
        meta |= _remembered(ledger, plan, save_mapping_as)
        if plan.new_accounts:
            from tracker.accounts import declare_missing

            meta |= declare_missing(ledger, plan.new_accounts)
        if meta or others:
            ledger.commit(puts=[*drafts, *others], meta=meta, label=label)
        elif drafts:
            ledger.add_many(drafts, label=label)
        return ImportResult(
            plan=plan,
            added=drafts,
            dry_run=False,
            revision=ledger.revision,
            mapping_saved=save_mapping_as,
            balances=statement_balances(ledger, plan, ()),
            linked=plan.transfer_pairs(accepted),
        )


def _linked(ledger: Ledger, plan: ImportPlan, transfers: bool | Collection[int]) -> tuple[list[int], list[Transaction]]:
    """The accepted proposals still good under the lock, and their stored twins made the other sides. A twin
    changed meanwhile (gone, edited, or already a transfer) is not linked: its row is stored as it was read."""
    from tracker.importers.plan import transfer_side

    wanted = plan.proposed_transfers if transfers is True else [] if transfers is False else list(transfers)
    in_file = {r.draft.id for r in plan.rows if r.draft is not None and r.status == "new"}
    accepted: list[int] = []
    others: list[Transaction] = []
    for i in wanted:
        row = plan.rows[i]
        if row.draft is None or row.status != "new" or not row.transfer_with:
            continue
        if row.transfer_with in in_file:
            accepted.append(i)
            continue
        try:
            twin = ledger.get(row.transfer_with)
        except NotFoundError:
            continue
        if (
            twin.type != "transfer"
            and twin.currency == row.draft.currency
            and twin.signed_minor == -row.draft.signed_minor
        ):
            accepted.append(i)
            others.append(transfer_side(twin, row.draft.id))
    return accepted, others


def _remembered(ledger: Ledger, plan: ImportPlan, mapping: str) -> dict[str, Any]:
    """The accounts' meta remembering which account each statement (and a saved mapping) went into."""
    from tracker.accounts import remembered

    pairs = {s.key: s.account for s in plan.statements if s.key}
    if mapping and plan.statements:
        pairs[f"mapping:{mapping}"] = plan.statements[0].account
    return remembered(ledger, pairs) if pairs else {}


def statement_balances(ledger: Ledger, plan: ImportPlan, pending: Collection[Transaction]) -> list[dict[str, Any]]:
    """For each statement with a closing balance: the account's balance at the end of its day (with
    ``pending``, the drafts of a dry run, counted as if stored), and the difference statement - computed."""
    from tracker.accounts import balances
    from tracker.money import format_plain

    out = []
    for stmt in plan.statements:
        if stmt.balance is None or stmt.balance_date is None:
            continue
        found = next((b for b in balances(ledger, stmt.balance_date) if b.account.name == stmt.account), None)
        computed = found.balance if found else 0
        computed += sum(
            tx.signed_minor
            for tx in pending
            if tx.account == stmt.account and tx.currency == stmt.currency and tx.date <= stmt.balance_date
        )
        out.append(
            {
                "account": stmt.account,
                "statement": stmt.key,
                "date": stmt.balance_date.isoformat(),
                "statement_balance": format_plain(stmt.balance, stmt.currency),
                "computed_balance": format_plain(computed, stmt.currency),
                "difference": format_plain(stmt.balance - computed, stmt.currency),
                "agrees": stmt.balance == computed,
                "currency": stmt.currency,
            }
        )
    return out


def _recheck(plan: ImportPlan, view: LedgerView) -> list[PlannedRow]:
    """The rows with those now in the ledger marked duplicate (restored ids clash by id, others by import identity).

    A new row from a bank file whose id is taken meanwhile gets a fresh one.
    """
    by_id = plan.importer.restores_identity
    rows = []
    for row in plan.rows:
        tx = row.draft
        if row.status == "new" and tx is not None:
            clash = tx.id in view.ids if by_id else tx.external_id in view.known(tx.external_id, tx.account)
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
    twins = options is None or options.transfers
    plan = plan_import(raw, path.name, LedgerView.of(ledger, twins=twins), options, progress=progress)
    if save_mapping_as and not plan.importer.accepts_mapping:
        raise ValidationError("save_mapping", save_mapping_as, "only CSV mappings can be saved")
    if dry_run:
        drafts = plan.drafts(include_duplicates)
        return ImportResult(
            plan=plan,
            added=drafts,
            dry_run=True,
            revision=ledger.revision,
            balances=statement_balances(ledger, plan, drafts),
            linked=plan.transfer_pairs(plan.proposed_transfers),
        )
    return commit_plan(ledger, plan, include_duplicates=include_duplicates, save_mapping_as=save_mapping_as)
