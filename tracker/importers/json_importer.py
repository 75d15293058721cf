"""Our own JSON export read back: every field restored exactly (ids, amounts, dates, times)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tracker.accounts import account_from_json
from tracker.errors import ValidationError
from tracker.importers.base import Extraction, Importer, ImportFileError, ParsedLine, ParsedRow, Problems, strip_head
from tracker.model import FIELD, PUBLIC_FIELDS, TX_TYPES, clean_date, clean_type, clean_value, parse_utc
from tracker.money import normalize_currency, to_decimal, to_minor

EXPORT_APP = "expense-tracker"
EXPORT_VERSION = 1
FIELDS = PUBLIC_FIELDS
RESTORED = ("account", "direction", "link", "cleared", "reconciled")
"""The account fields a restore keeps exactly (a transfer comes back as its linked pair)."""


class JsonImporter(Importer):
    """``{"app": "expense-tracker", "transactions": [...]}`` (or the bare list) of :meth:`Transaction.to_json`."""

    name = "json"
    extensions = (".json",)
    unit = "transaction"
    restores_identity = True

    @classmethod
    def sniff(cls, name: str, head: bytes) -> bool:
        """An object or a list that names transactions or amounts (or any, in a ``.json`` file)."""
        text = strip_head(head)
        return text.startswith((b"{", b"[")) and (
            name.lower().endswith(".json") or b'"transactions"' in text or b'"amount"' in text
        )

    def read(self, data: bytes, name: str) -> Extraction:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ImportFileError.single(name, "is not UTF-8 text", line=line) from None
        if not text.strip():
            raise ImportFileError.single(name, "is empty")
        try:
            doc = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise ImportFileError.single(
                name, f"is not valid JSON ({exc.msg}, column {exc.colno})", line=exc.lineno
            ) from None
        except (ValueError, RecursionError) as exc:
            raise ImportFileError.single(name, f"is not valid JSON ({type(exc).__name__})") from None
        records = doc.get("transactions") if isinstance(doc, Mapping) else doc
        if isinstance(doc, Mapping) and doc.get("app") not in (None, EXPORT_APP):
            raise ImportFileError.single(
                name, "is not an Expense Tracker export", field="app", value=str(doc.get("app"))
            )
        if not isinstance(records, list):
            raise ImportFileError.single(name, "has no list of transactions (expected an Expense Tracker JSON export)")
        problems = Problems(name, unit=self.unit)
        rows: list[ParsedRow] = []
        for n, rec in enumerate(records, 1):
            try:
                rows.append(_row(n, rec))
            except ValidationError as exc:
                problems.add_error(n, exc)
        problems.raise_if_any()
        declared = doc.get("accounts", []) if isinstance(doc, Mapping) else []
        if not isinstance(declared, list):
            raise ImportFileError.single(name, "has accounts that are not a list", field="accounts")
        try:
            accounts = [account_from_json(a) for a in declared]
        except ValidationError as exc:
            raise ImportFileError.single(name, exc.problem, field=exc.field, value=exc.value) from None
        return Extraction(
            rows=rows,
            details={"exported_at": doc.get("exported_at") if isinstance(doc, Mapping) else None, "accounts": accounts},
        )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _row(n: int, rec: object) -> ParsedRow:
    if not isinstance(rec, Mapping):
        raise ValidationError("transaction", rec, "is not an object")
    unknown = sorted(set(rec) - set(FIELDS))
    if unknown:
        raise ValidationError(unknown[0], rec[unknown[0]], "is not a transaction field")
    for key in ("type", "amount", "currency", "date", "category"):
        if key not in rec:
            raise ValidationError(key, None, "is missing")
    amount = rec["amount"]
    if isinstance(amount, bool) or not isinstance(amount, (str, int, Decimal)):
        raise ValidationError("amount", amount, 'must be a decimal number written as text, such as "12.50"')
    value = to_decimal(amount)
    if value <= 0:
        raise ValidationError("amount", amount, "must be greater than zero (the type says income or expense)")
    kind = clean_type(rec["type"], TX_TYPES)
    ident = rec.get("id")
    if ident is not None and (not isinstance(ident, str) or not ident.strip() or len(ident) > 64):
        raise ValidationError("id", ident, "must be non-empty text of at most 64 characters")
    note = rec.get("note", "")
    tags = rec.get("tags", [])
    if not isinstance(tags, list):
        raise ValidationError("tags", tags, "must be a list of text")
    external = rec.get("external_id", "")
    category = rec["category"]
    if not isinstance(note, str) or not isinstance(external, str) or not isinstance(category, str):
        bad = next(k for k in ("note", "external_id", "category") if not isinstance(rec.get(k, ""), str))
        raise ValidationError(bad, rec.get(bad), "must be text")
    restored = {"type": kind} | {
        name: clean_value(FIELD[name], rec[name]) for name in RESTORED if name in rec and rec[name] is not None
    }
    if kind == "transfer" and (not restored.get("direction") or not restored.get("link")):
        raise ValidationError("link" if restored.get("direction") else "direction", rec.get("link"),
                              "is missing (a transfer names its direction and its other side)")  # fmt: skip
    restored |= _original(rec)
    coming_in = kind == "income" or restored.get("direction") == "in"
    return ParsedRow(
        line=n,
        date=clean_date(rec["date"]),
        amount=value if coming_in else -value,
        restored=restored,
        currency=normalize_currency(rec["currency"]),
        description=note,
        category=category,
        tags=tuple(tags),
        external_id=external,
        id=ident,
        created_at=_time(rec, "created_at"),
        updated_at=_time(rec, "updated_at"),
        splits=_lines(rec.get("splits")),
    )


def _lines(value: object) -> tuple[ParsedLine, ...]:
    """The ``splits`` of a record (``[{"category", "amount", "tags", "note"}]``), checked as the model checks them."""
    if value is None or value == []:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ValidationError("splits", value, "must be a list of lines")
    lines = []
    for line in value:
        amount = line.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, (str, int, Decimal)):
            raise ValidationError("split amount", amount, 'must be a decimal number written as text, such as "12.50"')
        tags = line.get("tags", [])
        if not isinstance(tags, list):
            raise ValidationError("tags", tags, "must be a list of text")
        lines.append(
            ParsedLine(to_decimal(amount, "split amount"), line.get("category"), line.get("note") or "", tuple(tags))
        )
    return tuple(lines)


def _original(rec: Mapping[str, Any]) -> dict[str, Any]:
    """The original amount of a record as the transaction's fields (none when the record has none)."""
    code = rec.get("original_currency") or ""
    amount = rec.get("original_amount") or ""
    if not code and not amount:
        return {}
    if not code or not amount:
        raise ValidationError("original", code or amount, "needs both an amount and a currency")
    currency = normalize_currency(code)
    if currency == normalize_currency(rec["currency"]):
        raise ValidationError("original", code, "must be in another currency than the transaction's")
    return {"original_currency": currency, "original_amount_minor": to_minor(amount, currency, "original")}


def _time(rec: Mapping[str, Any], key: str) -> Any:
    text = rec.get(key)
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValidationError(key, text, "must be a time such as 2026-01-31T12:00:00.000000Z")
    try:
        return parse_utc(text)
    except ValueError:
        raise ValidationError(key, text, "must be a time such as 2026-01-31T12:00:00.000000Z") from None
