"""Exporting transactions to CSV, JSON and XLSX, written atomically.

* CSV and XLSX are for spreadsheets: amounts are positive plain decimals (``12.50``; numbers in
  XLSX) beside a ``type`` column, never negative text a spreadsheet could take for a formula, and
  every text cell that starts with ``= + - @`` (or a tab/CR) is neutralised by
  :func:`tracker.safety.safe_cell`. Our CSV importer recognises this layout, so a CSV export can be
  imported again (text cells that were neutralised keep their leading ``'``).
* A split transaction is one CSV/XLSX row per line (:data:`CSV_COLUMNS`: ``line`` numbers them, ``""`` for a
  transaction that is not split): the parent's id, date, type and account, the line's category, amount and
  tags (its own and the parent's) and note (else the parent's), so the amounts of a sheet add up.
* JSON is the exact form: importing it (``import --as json``) restores every field, ids and
  creation/update times included.

Files are written to a temporary file in the same folder, synced, then renamed over the target:
a crash leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tracker.errors import StorageError, ValidationError
from tracker.filters import Filter, apply_filter
from tracker.model import FIELDS, PUBLIC_FIELDS, Field, Transaction, clean_tags, iso_utc, utcnow
from tracker.money import CURRENCY_EXPONENTS
from tracker.safety import safe_cell

if TYPE_CHECKING:
    from tracker.accounts import Account
    from tracker.ledger import Ledger

EXPORT_FORMATS = ("csv", "json", "xlsx")
EXPORT_APP = "expense-tracker"
EXPORT_VERSION = 1


def select(ledger: Ledger, flt: Filter | None = None) -> list[Transaction]:
    """The ledger's transactions that pass ``flt`` (all when ``None``), by date then creation time."""
    txs = ledger.transactions()
    if flt is None or flt == Filter():
        return txs
    keep = set(apply_filter(ledger.frame(), flt)["id"].astype(str))
    return [t for t in txs if t.id in keep]


LINE_COLUMN = "line"
"""The CSV/XLSX column that numbers a split transaction's lines (1, 2, ...), in the place of ``splits``."""
CSV_COLUMNS: tuple[str, ...] = tuple(LINE_COLUMN if name == "splits" else name for name in PUBLIC_FIELDS)
"""The columns of a CSV or XLSX export (and of ``list --format csv``): the public fields, lines numbered."""


def line_views(tx: Transaction) -> list[tuple[str, Transaction]]:
    """``(line number, transaction as that line)`` per CSV row: ``[("", tx)]`` when not split, else one per line,
    each the parent with the line's category, amount, tags (with the parent's) and note (else the parent's)."""
    if not tx.splits:
        return [("", tx)]
    return [
        (
            str(number),
            dataclasses.replace(
                tx,
                category=line.category,
                amount_minor=line.amount_minor,
                tags=clean_tags([*line.tags, *tx.tags]),
                note=line.note or tx.note,
                splits=(),
            ),
        )
        for number, line in enumerate(tx.splits, start=1)
    ]


def cells(tx: Transaction) -> list[list[str]]:
    """A transaction as the text cells of its CSV rows (one per line, see :func:`line_views`), one cell per
    :data:`CSV_COLUMNS`: the values of its public JSON form, tags joined by one space; not yet neutralised."""
    return [text_cells({**view.to_json(), LINE_COLUMN: number}, CSV_COLUMNS) for number, view in line_views(tx)]


def text_cells(public: Mapping[str, Any], columns: Sequence[str]) -> list[str]:
    """The ``columns`` of a public JSON form as text: lists (tags) joined by one space (a tag is one word)."""
    return [" ".join(v) if isinstance(v, list) else str(v) for v in (public[name] for name in columns)]


def write_csv(out: TextIO, txs: Iterable[Transaction], lineterminator: str = "\r\n") -> None:
    """The one CSV writer of transactions: a header of :data:`CSV_COLUMNS`, then a row per transaction (per
    line of a split one), every cell neutralised against spreadsheet formulas (:func:`tracker.safety.safe_cell`)."""
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(CSV_COLUMNS)
    for tx in txs:
        writer.writerows([safe_cell(c) for c in row] for row in cells(tx))


def to_csv(txs: Sequence[Transaction]) -> bytes:
    """The CSV file: :func:`write_csv` in UTF-8 with a BOM (spreadsheets then read accents right), CRLF."""
    out = io.StringIO()
    out.write("\ufeff")
    write_csv(out, txs)
    return out.getvalue().encode("utf-8")


def to_json(txs: Sequence[Transaction], exported_at: str | None = None, accounts: Sequence[Account] = ()) -> bytes:
    """The exact export: ``{"app", "format_version", "exported_at", "count", "accounts", "transactions": [...]}``
    (``accounts``: the declarations of the accounts the transactions are in, so a restore can declare them)."""
    used = {tx.account.casefold() for tx in txs}
    doc: dict[str, Any] = {
        "app": EXPORT_APP,
        "format_version": EXPORT_VERSION,
        "exported_at": exported_at or iso_utc(utcnow()),
        "count": len(txs),
        "accounts": [a.to_json() for a in accounts if a.name.casefold() in used],
        "transactions": [tx.to_json() for tx in txs],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


_XLSX_WIDTHS = {"id": 18, "date": 12, "type": 9, "money": 12, "currency": 9, "tags": 18, "time": 28}
"""Column widths (characters) by field kind; text columns by their length limit."""


def _width(field: Field) -> int:
    return _XLSX_WIDTHS.get(field.kind) or (20 if field.limit <= 60 else 40)


def to_xlsx(txs: Sequence[Transaction]) -> bytes:
    """One sheet ``Transactions`` with the CSV's columns: real dates, amounts as exact numbers with their
    decimals, text neutralised."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Transactions")
    ws.freeze_panes = "A2"
    for number, field in enumerate(FIELDS, start=1):
        ws.column_dimensions[get_column_letter(number)].width = _width(field)
    bold = Font(bold=True)
    header = []
    for name in CSV_COLUMNS:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for tx in txs:
        for (_, view), texts in zip(line_views(tx), cells(tx), strict=True):
            row: list[Any] = []
            for field, text in zip(FIELDS, texts, strict=True):
                if field.kind == "date":
                    cell = WriteOnlyCell(ws, value=getattr(view, field.name))
                    cell.number_format = "yyyy-mm-dd"
                elif field.kind == "money":
                    cell = WriteOnlyCell(ws, value=getattr(view, field.name))
                    exp = CURRENCY_EXPONENTS.get(view.currency, 2)
                    cell.number_format = "0." + "0" * exp if exp else "0"
                else:
                    cell = _text(ws, text)
                row.append(cell)
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _text(ws: Any, value: str) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=safe_cell(value))
    cell.data_type = "s"  # never a formula, whatever the text
    return cell


def render(txs: Sequence[Transaction], fmt: str, accounts: Sequence[Account] = ()) -> bytes:
    """The bytes of an export in ``fmt`` (``csv``, ``json`` or ``xlsx``); JSON also declares ``accounts``."""
    if fmt == "csv":
        return to_csv(txs)
    if fmt == "json":
        return to_json(txs, accounts=accounts)
    if fmt == "xlsx":
        return to_xlsx(txs)
    raise ValidationError("format", fmt, f"must be one of {', '.join(EXPORT_FORMATS)}")


def format_for(path: str | Path, fmt: str | None = None) -> str:
    """The export format: ``fmt`` when given, else from the file's extension (default ``csv``)."""
    if fmt:
        if fmt not in EXPORT_FORMATS:
            raise ValidationError("format", fmt, f"must be one of {', '.join(EXPORT_FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in EXPORT_FORMATS else "csv"


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a synced temporary file and a rename (0600 on POSIX)."""
    target = Path(path).expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise StorageError(f"cannot write {target}: the folder {folder} does not exist")
    if target.is_dir():
        raise StorageError(f"cannot write {target}: it is a folder")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StorageError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if os.name == "posix":
        with contextlib.suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    return target


def export(
    ledger: Ledger, path: str | Path, fmt: str | None = None, flt: Filter | None = None
) -> tuple[Path, int, str]:
    """Export the (filtered) ledger to ``path``; returns the path, the number of transactions and the format."""
    chosen = format_for(path, fmt)
    from tracker.accounts import list_accounts

    txs = select(ledger, flt)
    return write_atomic(path, render(txs, chosen, list_accounts(ledger))), len(txs), chosen
