"""The Transactions page's table without widgets: the rows it shows, its edits as one batch, its CSV.

Besides the editable fields (:data:`TABLE_COLUMNS`) the table shows, read-only, what a purchase abroad cost
(``original``), where a transfer's money went or came from (``transfer``), the ``reconciled`` mark and, for one
account, its running ``balance`` (:func:`running_balances`). A split row shows the category "Split"; its lines
are edited in the split editor.

The data editor reports edits as ``{"edited_rows": {position: {column: cell}}, "deleted_rows":
[position, ...]}``. :func:`plan_edits` turns them into what :meth:`tracker.ledger.Ledger.update_many`
takes (one atomic, undoable commit), with every row that cannot be saved named in ``problems``.
Nothing here needs a running app, so it is tested directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tracker.errors import TrackerError, ValidationError
from tracker.export import to_csv
from tracker.frame import transactions_from_frame
from tracker.ledger import Ledger
from tracker.model import EDITABLE, FIELDS, apply_changes
from tracker.money import NUMBER_FORMATS, format_money, format_plain, parse_user_amount
from tracker.ui.formatting import error_text

if TYPE_CHECKING:
    from tracker.accounts import Account

TABLE_COLUMNS: tuple[str, ...] = tuple(
    name for name in EDITABLE if name not in ("splits", "original_amount", "original_currency")
)
"""The editor's editable columns, in order: the editable fields of a transaction but its split lines and original
amount (edited in the split editor and the add form)."""
TRANSFER_COLUMN = "transfer"
"""Read-only: a transfer's other account, ``to Savings`` (money out) or ``from Checking`` (money in)."""
BALANCE_COLUMN = "balance"
"""Read-only, shown for one account only: its balance after each row."""
ORIGINAL_COLUMN = "original"
"""Read-only: what a purchase abroad cost in the other currency, ``41.00 EUR`` (``""`` when none was recorded)."""
READ_ONLY: tuple[str, ...] = (ORIGINAL_COLUMN, TRANSFER_COLUMN, "reconciled", BALANCE_COLUMN)
FORCE_LABEL = "Allow changing reconciled transactions"
"""The checkbox that confirms editing or deleting reconciled rows (the command line's ``--force``)."""
_KINDS = {f.name: f.kind for f in FIELDS}


def column_order(with_balance: bool = False, with_original: bool = False) -> tuple[str, ...]:
    """The columns the editor shows: the editable ones, the original amount after the currency (when a row has
    one: ``with_original``), the transfer's other account after the account, then the reconciled mark and (for
    one account) the running balance."""
    order: list[str] = []
    for name in TABLE_COLUMNS:
        order.append(name)
        if name == "currency" and with_original:
            order.append(ORIGINAL_COLUMN)
        if name == "account":
            order.append(TRANSFER_COLUMN)
    order.append("reconciled")
    if with_balance:
        order.append(BALANCE_COLUMN)
    return tuple(order)


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


def counter_accounts(frame: pd.DataFrame, everything: pd.DataFrame) -> list[str]:
    """Per row of ``frame``: ``to Savings`` for a transfer out, ``from Checking`` for a transfer in, ``""``
    otherwise. The other sides are looked up in ``everything`` (the whole ledger: a filter may hide them)."""
    transfers = everything[everything["type"] == "transfer"]
    account_of = dict(zip(transfers["id"].tolist(), transfers["account"].tolist(), strict=True))
    out = []
    for tx_type, direction, link in zip(frame["type"], frame["direction"], frame["link"], strict=True):
        if tx_type != "transfer":
            out.append("")
            continue
        other = account_of.get(str(link), "?")
        out.append(f"to {other}" if direction == "out" else f"from {other}")
    return out


def original_amounts(frame: pd.DataFrame, number_format: str) -> list[str]:
    """Per row: ``41.00 EUR``, what it cost in the other currency, in the user's number format; ``""`` for none."""
    pairs = zip(frame["original_amount_minor"], frame["original_currency"], strict=True)
    return [f"{editable_amount(m, c, number_format)} {c}" if isinstance(c, str) and c else "" for m, c in pairs]


def running_balances(frame: pd.DataFrame, account: Account) -> dict[str, int]:
    """id -> ``account``'s balance right after that transaction, in minor units of the account's currency.

    ``frame`` is the ledger's frame (in date order, then creation): the balance is the opening balance (from
    the account's opening date on) plus the signed amounts of the account's rows up to and including that
    row, as :func:`tracker.accounts.balances` adds them (rows in another currency are left out).
    """
    key = account.name.casefold()
    mine = frame[
        frame["account"].map(lambda a: isinstance(a, str) and a.casefold() == key).to_numpy(dtype=bool)
        & (frame["currency"] == account.currency).to_numpy(dtype=bool)
    ]
    totals = np.cumsum(mine["signed_minor"].to_numpy(dtype=np.int64), dtype=np.int64)
    if account.opening_date is None:
        opened = np.ones(len(mine), dtype=bool)
    else:
        opened = (mine["date"] >= pd.Timestamp(account.opening_date)).to_numpy(dtype=bool)
    balance = totals + np.where(opened, np.int64(account.opening_minor), np.int64(0))
    return dict(zip(mine["id"].tolist(), (int(b) for b in balance), strict=True))


def table_frame(
    frame: pd.DataFrame,
    number_format: str = "1,234.56",
    *,
    everything: pd.DataFrame | None = None,
    account: Account | None = None,
) -> pd.DataFrame:
    """What the editor shows: newest first, indexed by id; the editable fields, the transfer's other account
    and the reconciled mark (:func:`column_order`), and with ``account`` its running balance after each row
    (formatted; empty for a row in another currency). ``everything`` is the whole ledger's frame (default
    ``frame``): where the other sides of transfers and the rows before the period are."""
    whole = frame if everything is None else everything
    rows = frame.iloc[::-1]
    columns = {name: pd.Series(_column(rows, name, number_format), dtype=object) for name in TABLE_COLUMNS}
    columns[ORIGINAL_COLUMN] = pd.Series(original_amounts(rows, number_format), dtype=object)
    columns[TRANSFER_COLUMN] = pd.Series(counter_accounts(rows, whole), dtype=object)
    columns["reconciled"] = pd.Series([bool(r) for r in rows["reconciled"]], dtype=bool)
    if account is not None:
        after = running_balances(whole, account)
        shown = [after.get(str(i)) for i in rows["id"]]
        columns[BALANCE_COLUMN] = pd.Series(
            ["" if b is None else format_money(b, account.currency, number_format) for b in shown], dtype=object
        )
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
    reconciled: list[str] = dataclasses.field(default_factory=list)
    """The ids of reconciled rows the batch changes or deletes (saved only when confirmed: ``force``)."""

    @property
    def count(self) -> int:
        """How many transactions the batch changes or deletes."""
        return len(self.changes) + len(self.deletes)

    @property
    def label(self) -> str:
        """The undo label: ``edit 3 transactions in the table``."""
        return f"edit {self.count} transaction{'s' if self.count != 1 else ''} in the table"


def _row_name(shown: pd.DataFrame, pos: int) -> str:
    """``Row 2 (2026-11-01 Rent)``: a row as the person sees it."""
    row = shown.iloc[pos]
    return f"Row {pos + 1} ({row['date']} {row['category']})"


def reconciled_problem(name: str) -> str:
    """What the table says about a reconciled row changed without confirmation."""
    return f"{name}: is reconciled against a statement; tick “{FORCE_LABEL}” to change it anyway"


def plan_edits(
    led: Ledger, shown: pd.DataFrame, edits: Mapping[str, Any], number_format: str, *, force: bool = False
) -> TableEdit:
    """The editor's pending ``edits`` of the rows ``shown`` (:func:`table_frame`), checked against ``led``.

    Every edited row is read and validated, so that every bad row is named, not only the first; the
    ledger checks the batch again when it is saved. A row that is both edited and deleted is deleted.
    A reconciled row changed or deleted is a problem unless ``force`` (the person confirmed it).
    """
    ids = list(shown.index)
    positions = {ids[int(pos)]: int(pos) for pos in edits.get("deleted_rows", [])}
    deletes = list(positions)
    changes: dict[str, dict[str, object]] = {}
    problems = []
    reconciled = []
    for tx_id, pos in positions.items():
        try:
            if led.get(tx_id).reconciled:
                reconciled.append(tx_id)
        except TrackerError as exc:
            problems.append(f"{_row_name(shown, pos)}: {exc}")
    for pos, cells in sorted((int(k), v) for k, v in edits.get("edited_rows", {}).items()):
        tx_id = ids[pos]
        if tx_id in positions:
            continue
        try:
            fields = {
                col: cell_value(col, value, number_format) for col, value in cells.items() if col in TABLE_COLUMNS
            }
            tx = led.get(tx_id)
            changed = apply_changes(tx, fields) != tx
        except TrackerError as exc:
            problems.append(f"{_row_name(shown, pos)}: {error_text(exc, cells.get('amount'))}")
            continue
        if changed:
            changes[tx_id] = fields
            if tx.reconciled:
                reconciled.append(tx_id)
    if not force:
        problems.extend(reconciled_problem(_row_name(shown, ids.index(tx_id))) for tx_id in reconciled)
    return TableEdit(changes, deletes, problems, reconciled)


def is_unconfirmed(exc: TrackerError) -> bool:
    """Whether the ledger refused a change because a reconciled transaction was not confirmed (``force``)."""
    return isinstance(exc, ValidationError) and exc.field == "force"


def describe(edited: int, deleted: int) -> str:
    """``2 changes and 1 deletion``."""
    parts = []
    if edited:
        parts.append(f"{edited} change{'s' if edited != 1 else ''}")
    if deleted:
        parts.append(f"{deleted} deletion{'s' if deleted != 1 else ''}")
    return " and ".join(parts) or "no changes"
