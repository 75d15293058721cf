"""Importing bank files (CSV, OFX/QFX, QIF) and our own JSON export, all or nothing.

The steps, each a pure function until the last:

1. :func:`~tracker.importers.registry.detect_format` asks each importer's ``sniff``; ``--as`` overrides it.
2. An :class:`~tracker.importers.base.Importer` reads every row (or refuses the file, naming the
   line and field of each problem). The class says what the pipeline may do with its format.
3. :func:`~tracker.importers.plan.plan_import` categorises the rows (file category, the user's rules,
   history, default), gives each its import identity (:mod:`tracker.importers.dedup`), marks duplicates
   and rows without money, and validates every draft transaction. A bad row refuses the whole file.
4. :func:`~tracker.importers.commit.commit_plan` stores the new rows as one commit (one undo step),
   re-checking duplicates under the ledger's lock so that a concurrent import cannot double them.

Every row goes into one of the user's accounts: the one chosen, the one remembered for the file's bank
account (OFX) or saved mapping, else the default account; the statement's currency must be that account's.

Saved CSV layouts are :mod:`tracker.importers.mappings`. This module only re-exports.
"""

from __future__ import annotations

from tracker.categorize import DEFAULT_CATEGORY
from tracker.importers.base import Importer, ImportFileError, ParsedRow
from tracker.importers.commit import ImportResult, commit_plan, import_file, statement_balances
from tracker.importers.csv_importer import CsvMapping
from tracker.importers.mappings import (
    MAPPINGS_KEY,
    check_mapping_name,
    delete_mapping,
    resolve_mapping,
    save_mapping,
    saved_mappings,
    stored_mappings,
)
from tracker.importers.plan import ImportPlan, LedgerView, PlannedRow, plan_import, statements_of
from tracker.importers.registry import FORMATS, IMPORTERS, ImportOptions, detect_format, importer_class, make_importer
from tracker.importers.rules import RULES_KEY

__all__ = [
    "DEFAULT_CATEGORY",
    "FORMATS",
    "IMPORTERS",
    "MAPPINGS_KEY",
    "RULES_KEY",
    "CsvMapping",
    "ImportFileError",
    "ImportOptions",
    "ImportPlan",
    "ImportResult",
    "Importer",
    "LedgerView",
    "ParsedRow",
    "PlannedRow",
    "check_mapping_name",
    "commit_plan",
    "delete_mapping",
    "detect_format",
    "import_file",
    "importer_class",
    "make_importer",
    "plan_import",
    "resolve_mapping",
    "save_mapping",
    "saved_mappings",
    "statement_balances",
    "statements_of",
    "stored_mappings",
]
