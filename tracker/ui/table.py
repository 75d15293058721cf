"""The Transactions page's table without widgets: the rows it shows, its edits as one batch, its CSV.

The data editor reports edits as ``{"edited_rows": {position: {column: cell}}, "deleted_rows":
[position, ...]}``. :func:`plan_edits` turns them into what :meth:`tracker.ledger.Ledger.update_many`
takes (one atomic, undoable commit), with every row that cannot be saved named in ``problems``.
Nothing here needs a running app, so it is tested directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from tracker.errors import TrackerError
from tracker.export import to_csv
from tracker.frame import transactions_from_frame
from tracker.ledger import Ledger
from tracker.model import EDITABLE, FIELDS, apply_changes
from tracker.money import NUMBER_FORMATS, format_plain, parse_user_amount
from tracker.ui.formatting import error_text

TABLE_COLUMNS: tuple[str, ...] = EDITABLE
"""The editor's columns, in order: the editable fields of a transaction."""
_KINDS = {f.name: f.kind for f in FIELDS}


# -- the rows shown -------------------------------------------------------------------------------


def editable_amount(minor: int, currency: str, number_format: str) -> str:
    """The exact amount as the table shows it for editing: ``1234.50``, or ``1234,50`` where ``,`` is the point.

    Without thousands separators, so that it reads back exactly in every number format (``1.500`` would
    be fifteen hundred with ``1.234,56``).
    """
    point = NUMBER_FORMATS.get(number_format, (",", "."))[1]
    return format_plain(int(minor), str(currency)).replace(".", point)


def _column(frame: pd.DataFrame, name: str, number_format: str) -> list[Any]:
    """One editor column from the ledger's frame: dates as dates, the amount as exact text, tags as lists."""
    kind = _KINDS[name]
    if kind == "date":
        return [d.date() for d in frame[name]]
    if kind == "money":
        pairs = zip(frame["amount_minor"], frame["currency"], strict=True)
        return [editable_amount(m, c, number_format) for m, c in pairs]
    if kind == "tags":
        return [list(t) for t in frame[name]]
    return frame[name].tolist()


def table_frame(frame: pd.DataFrame, number_format: str = "1,234.56") -> pd.DataFrame:
    """What the editor shows: newest first, one column per editable field, indexed by id."""
    rows = frame.iloc[::-1]
    columns = {name: pd.Series(_column(rows, name, number_format), dtype=object) for name in TABLE_COLUMNS}
    return pd.DataFrame(columns).set_axis(pd.Index(rows["id"].tolist(), dtype=object, name="id"))


def csv_download(frame: pd.DataFrame) -> bytes:
    """The rows of ``frame`` as the CSV export writes them (:func:`tracker.export.to_csv`)."""
    return to_csv(transactions_from_frame(frame))


# -- the edits ------------------------------------------------------------------------------------


def cell_value(column: str, value: object, number_format: str) -> object:
    """An edited cell as :func:`tracker.model.apply_changes` takes it.

    The editor gives text, dates or lists, and ``None`` for an emptied cell; an amount is read in the
    user's number format (``12,50`` with ``1.234,56``). Raises ``ValidationError`` for an amount that
    cannot be read.
    """
    kind = _KINDS[column]
    if value is None:
        return [] if kind == "tags" else False if kind == "flag" else ""
    if kind == "money":
        return parse_user_amount(str(value), number_format)
    if kind == "date" and isinstance(value, str):
        return value[:10]
    if kind == "date" and isinstance(value, dt.datetime):
        return value.date()
    return value


@dataclasses.dataclass(frozen=True)
class TableEdit:
    """A batch of table edits: what :meth:`~tracker.ledger.Ledger.update_many` takes, or why it cannot be saved."""

    changes: dict[str, dict[str, object]]
    """id -> field changes, only for rows the changes really change."""
    deletes: list[str]
    problems: list[str]
    """One line per row that cannot be saved (``Row 2 (2026-11-01 Rent): amount: ...``)."""

    @property
    def count(self) -> int:
        """How many transactions the batch changes or deletes."""
        return len(self.changes) + len(self.deletes)

    @property
    def label(self) -> str:
        """The undo label: ``edit 3 transactions in the table``."""
        return f"edit {self.count} transaction{'s' if self.count != 1 else ''} in the table"


def plan_edits(led: Ledger, shown: pd.DataFrame, edits: Mapping[str, Any], number_format: str) -> TableEdit:
    """The editor's pending ``edits`` of the rows ``shown`` (:func:`table_frame`), checked against ``led``.

    Every edited row is read and validated, so that every bad row is named, not only the first; the
    ledger checks the batch again when it is saved. A row that is both edited and deleted is deleted.
    """
    ids = list(shown.index)
    deletes = [ids[int(pos)] for pos in edits.get("deleted_rows", [])]
    gone = set(deletes)
    changes: dict[str, dict[str, object]] = {}
    problems = []
    for pos, cells in sorted((int(k), v) for k, v in edits.get("edited_rows", {}).items()):
        tx_id = ids[pos]
        if tx_id in gone:
            continue
        try:
            fields = {
                col: cell_value(col, value, number_format) for col, value in cells.items() if col in TABLE_COLUMNS
            }
            tx = led.get(tx_id)
            changed = apply_changes(tx, fields) != tx
        except TrackerError as exc:
            row = shown.iloc[pos]
            problems.append(f"Row {pos + 1} ({row['date']} {row['category']}): {error_text(exc, cells.get('amount'))}")
            continue
        if changed:
            changes[tx_id] = fields
    return TableEdit(changes, deletes, problems)


def describe(edited: int, deleted: int) -> str:
    """``2 changes and 1 deletion``."""
    parts = []
    if edited:
        parts.append(f"{edited} change{'s' if edited != 1 else ''}")
    if deleted:
        parts.append(f"{deleted} deletion{'s' if deleted != 1 else ''}")
    return " and ".join(parts) or "no changes"
