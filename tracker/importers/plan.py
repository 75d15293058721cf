"""The import plan: every row of a file read, categorised, identified and validated; nothing written."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tracker.categorize import History, categorise
from tracker.errors import TrackerError, ValidationError
from tracker.importers.base import Extraction, Importer, ImportFileError, ParsedRow, Problems, Statement
from tracker.importers.dedup import duplicate_reasons, external_ids
from tracker.importers.registry import ImportOptions, detect_format, importer_class, make_importer
from tracker.importers.rules import RULES, Rule
from tracker.model import TRANSFER_CATEGORY, Transaction, make_transaction, new_id, utcnow
from tracker.money import format_plain

if TYPE_CHECKING:
    from tracker.accounts import Account
    from tracker.ledger import Ledger

log = logging.getLogger(__name__)

Progress = Callable[[float], None]


TWIN_DAYS = 5
"""How far apart (in days) the two sides of a transfer between two of the user's accounts may be dated."""


@dataclasses.dataclass(frozen=True)
class Twin:
    """A stored income or expense that could be the other side of an imported row (a transfer)."""

    id: str
    account: str
    date: dt.date


@dataclasses.dataclass(frozen=True)
class LedgerView:
    """What planning needs to know about the ledger (a snapshot; pure data, no I/O).

    Without ``accounts`` (a bare view) rows go into the ledger's default account when stored and their
    duplicates are looked for in the whole ledger.
    """

    default_currency: str = "USD"
    rules: tuple[Rule, ...] = ()
    history: History | None = None
    external_ids: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()
    accounts: tuple[Account, ...] = ()
    default_account: str = ""
    ids_in: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    """Import identities per account (folded name)."""
    twins: Mapping[tuple[str, int], tuple[Twin, ...]] = dataclasses.field(default_factory=dict)
    """Incomes and expenses by (currency, signed minor units)."""

    @classmethod
    def of(cls, ledger: Ledger, *, learn: bool = True, twins: bool = False) -> LedgerView:
        """The view of a ledger now (call under ``ledger.locked()`` for a race-free import).

        ``learn=False`` skips the rules and the history (enough for re-checking duplicates); ``twins`` indexes
        the incomes and expenses an imported row may be the other side of (an import that proposes transfers).
        """
        from tracker.accounts import default_account, list_accounts

        frame = ledger.frame()
        ids_in: dict[str, set[str]] = {}
        for account, ext in zip(frame["account"].tolist(), frame["external_id"].tolist(), strict=True):
            if ext:
                ids_in.setdefault(account.casefold(), set()).add(ext)
        index: dict[tuple[str, int], list[Twin]] = {}
        if twins:
            plain = frame[frame["type"] != "transfer"]
            columns = (plain[c].tolist() for c in ("id", "account", "date", "currency", "signed_minor"))
            for tx_id, account, day, currency, signed in zip(*columns, strict=True):
                index.setdefault((currency, signed), []).append(Twin(tx_id, account, day.date()))
        return cls(
            default_currency=ledger.default_currency,
            rules=tuple(RULES.read(ledger)) if learn else (),
            history=History.from_frame(frame) if learn else None,
            external_ids=frozenset(e for e in frame["external_id"].astype(str) if e),
            ids=frozenset(frame["id"].astype(str)),
            accounts=tuple(list_accounts(ledger)),
            default_account=default_account(ledger).name,
            ids_in={k: frozenset(v) for k, v in ids_in.items()},
            twins={k: tuple(v) for k, v in index.items()},
        )

    def account(self, name: str) -> Account:
        """The account called ``name`` (case-insensitive); refused when unknown or closed."""
        from tracker.accounts import unknown_account

        found = next((a for a in self.accounts if a.name.casefold() == name.strip().casefold()), None)
        if found is None:
            raise unknown_account(name)
        if found.closed:
            raise ValidationError("account", found.name, "is closed (reopen it to import into it)")
        return found

    def known(self, key: str, account: str) -> frozenset[str]:
        """The import identities ``key`` is a duplicate among: a bank's own id (OFX) anywhere in the ledger
        (it names the bank account); a fingerprint or a CSV id within the account it goes into (``""``: the
        whole ledger, for a view without accounts)."""
        if not account or not self.accounts or key.startswith("ofx:"):
            return self.external_ids
        return self.ids_in.get(account.casefold(), frozenset())


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
    transfer_with: str = ""
    """A proposed transfer: the id of its other side (a stored row, or another new row of this file)."""
    counter_account: str = ""

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
            "account": tx.account if tx else None,
            "transfer": {"with": self.transfer_with, "account": self.counter_account} if self.transfer_with else None,
        }


@dataclasses.dataclass(frozen=True)
class PlannedStatement:
    """One account's part of the file and the account of the user's it goes into."""

    key: str
    label: str
    account: str
    currency: str
    balance: int | None
    """The closing balance the file states, in the account's minor units (``None``: it states none)."""
    balance_date: dt.date | None
    rows: int


@dataclasses.dataclass
class ImportPlan:
    """Everything an import would do; nothing has been written."""

    file: str
    kind: str
    unit: str
    rows: list[PlannedRow]
    warnings: list[str]
    details: dict[str, Any]
    statements: list[PlannedStatement] = dataclasses.field(default_factory=list)
    new_accounts: list[Account] = dataclasses.field(default_factory=list)
    """Accounts a restore (JSON export) puts rows into that the ledger does not have: declared by the commit."""

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

    @property
    def proposed_transfers(self) -> list[int]:
        """Positions (in :attr:`rows`) of the new rows proposed as one side of a transfer."""
        return [i for i, r in enumerate(self.rows) if r.status == "new" and r.transfer_with]

    def transfer_pairs(self, positions: Collection[int]) -> int:
        """How many transfers the proposals at ``positions`` make: one per row linked to a stored twin, one per
        two rows linked to each other (the file's two accounts)."""
        in_file = {r.draft.id for r in self.rows if r.draft is not None and r.status == "new"}
        with_stored = sum(1 for i in positions if self.rows[i].transfer_with not in in_file)
        return with_stored + (len(positions) - with_stored) // 2

    def drafts(
        self, include_duplicates: bool | Collection[int] = False, transfers: bool | Collection[int] = True
    ) -> list[Transaction]:
        """The transactions to store: the new rows, plus the duplicates taken anyway.

        ``include_duplicates`` is ``True`` (all of them) or the positions (in :attr:`rows`) of those to take.
        A duplicate taken anyway keeps its import identity; one restored with its id (JSON) gets a fresh id.
        ``transfers`` accepts the proposed transfers (all, none, or the positions of those accepted): an
        accepted one is stored as its side of the transfer (the other side is linked by the commit).
        """
        accepted = set(self.proposed_transfers if transfers is True else () if transfers is False else transfers)
        partner = {r.draft.id: i for i, r in enumerate(self.rows) if r.draft is not None and r.status == "new"}
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
            elif i in accepted and (row.transfer_with not in partner or partner[row.transfer_with] in accepted):
                out.append(transfer_side(row.draft, row.transfer_with))
            else:
                out.append(row.draft)
        return out


def transfer_side(tx: Transaction, other_id: str) -> Transaction:
    """An income or expense made one side of a transfer with ``other_id``: money in for an income, out for an
    expense; category :data:`~tracker.model.TRANSFER_CATEGORY`."""
    return dataclasses.replace(
        tx,
        type="transfer",
        category=TRANSFER_CATEGORY,
        direction="in" if tx.type == "income" else "out",
        link=other_id,
    )


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
    exact = importer_class(kind).restores_identity
    fallback = None if exact or not view.accounts else _file_account(view, options)
    importer = make_importer(kind, options, fallback.currency if fallback else view.default_currency)
    if progress:
        importer.progress = lambda f: progress(0.7 * f)
    extraction = _read(importer, data, name)
    if progress:
        progress(0.7)
    rows = extraction.rows
    targets = [None] * len(extraction.statements) if fallback is None else _targets(name, extraction, view, options)
    if fallback is not None:
        _check_currencies(name, importer.unit, extraction, targets, options)
    warnings = list(extraction.warnings)
    rows = _signed_for_cards(rows, extraction, targets, options, warnings)
    accounts = [targets[row.statement] for row in rows]
    currencies = [
        row.currency or extraction.statements[row.statement].currency or options.currency or
        (account.currency if account else view.default_currency)
        for row, account in zip(rows, accounts, strict=True)
    ]  # fmt: skip
    keys = [row.id or "" for row in rows] if exact else external_ids(rows, currencies)
    if exact:
        reasons = duplicate_reasons(keys, view.ids)
    else:  # a fingerprint is a duplicate within its account; a bank's own id anywhere
        reasons = duplicate_reasons(
            keys, (), [view.known(k, a.name if a else "") for k, a in zip(keys, accounts, strict=True)]
        )
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
        lines = [
            {
                "amount": line.amount,
                "category": line.category
                if exact
                else categorise(line.note or row.description, line.category, rules, view.history)[0],
                "note": line.note,
                "tags": line.tags,
            }
            for line in row.splits
        ]
        account = accounts[n]
        try:
            tx = make_transaction(
                type="income" if row.amount > 0 else "expense",
                amount=abs(row.amount),
                category=None if lines else category,
                splits=lines,
                currency=currency,
                date=row.date,
                tags=row.tags,
                note=row.description,
                external_id=row.external_id if exact else key,
                account=account.name if account else None,
                original_amount=row.original_amount if row.original_currency != currency else None,
                original_currency=row.original_currency if row.original_currency != currency else "",
                id=row.id,
                now=stamp,
            )
        except ValidationError as exc:
            problems.add_error(row.line, exc)
            continue
        if exact:
            created = row.created_at or stamp
            tx = dataclasses.replace(tx, created_at=created, updated_at=row.updated_at or created)
            if row.restored:
                tx = dataclasses.replace(tx, **row.restored)
        planned.append(PlannedRow(row.line, "duplicate" if reason else "new", reason, row.description, source, tx))
    problems.raise_if_any()
    if fallback is not None and options.transfers:
        _propose_transfers(planned, view, warnings)
    planned.extend(PlannedRow(s.line, "skipped", s.reason, "", "", None) for s in extraction.skipped)
    planned.sort(key=lambda r: r.line)
    if not rows and not extraction.skipped:
        warnings.append("the file contains no transactions")
    if progress:
        progress(1.0)
    statements = [
        _planned_statement(stmt, account, sum(1 for r in rows if r.statement == i))
        for i, (stmt, account) in enumerate(zip(extraction.statements, targets, strict=True))
        if account is not None
    ]
    return ImportPlan(
        file=name,
        kind=kind,
        unit=importer.unit,
        rows=planned,
        warnings=warnings,
        details=extraction.details,
        statements=statements,
        new_accounts=_restored_accounts(planned, view, extraction.details.get("accounts", [])) if exact else [],
    )


def _restored_accounts(planned: Sequence[PlannedRow], view: LedgerView, declared: Sequence[Account]) -> list[Account]:
    """The accounts restored rows are in that the ledger lacks: as the export declared them, else a checking
    account in the currency of its first row."""
    from tracker.accounts import Account

    known = {a.name.casefold() for a in view.accounts}
    given = {a.name.casefold(): a for a in declared}
    out: dict[str, Account] = {}
    for row in planned:
        tx = row.draft
        if tx is None or not tx.account or tx.account.casefold() in known or tx.account.casefold() in out:
            continue
        out[tx.account.casefold()] = given.get(tx.account.casefold()) or Account(name=tx.account, currency=tx.currency)
    return list(out.values())


# -- which account, in which currency, with which sign --------------------------------------------------


def _file_account(view: LedgerView, options: ImportOptions) -> Account:
    """The account of a file that names none of its own: the one chosen, else the one its saved mapping was
    last imported into, else the default account."""
    from tracker.accounts import account_for_source

    if options.account:
        return view.account(options.account)
    remembered = account_for_source(view.accounts, f"mapping:{options.mapping_name}") if options.mapping_name else None
    return view.account(remembered.name if remembered else view.default_account)


def _targets(name: str, extraction: Extraction, view: LedgerView, options: ImportOptions) -> list[Account | None]:
    """The user's account of every statement of the file (see :class:`~tracker.importers.registry.ImportOptions`)."""
    from tracker.accounts import account_for_source

    statements = extraction.statements
    given = dict(options.statement_accounts)
    unknown = sorted(set(given) - {s.key for s in statements})
    if unknown:
        known = ", ".join(s.key for s in statements if s.key) or "none"
        raise ValidationError("account", unknown[0], f"is not an account of {name} (it holds: {known})")
    out: list[Account | None] = []
    open_ones: list[int] = []
    for i, stmt in enumerate(statements):
        if stmt.key in given:
            out.append(view.account(given[stmt.key]))
            continue
        remembered = account_for_source(view.accounts, stmt.key)
        if remembered is not None and not (options.account and len(statements) == 1):
            out.append(view.account(remembered.name))
            continue
        out.append(None)
        open_ones.append(i)
    if len(open_ones) == 1:
        out[open_ones[0]] = _file_account(view, options)
    elif open_ones:
        keys = ", ".join(statements[i].key or f"statement {i + 1}" for i in open_ones)
        first = statements[open_ones[0]].key
        raise ValidationError(
            "account",
            name,
            f"holds {len(open_ones)} accounts not yet imported ({keys}): say which of yours each one is, "
            f"e.g. --account '{first}=Checking'",
        )
    return out


def _check_currencies(
    name: str, unit: str, extraction: Extraction, targets: Sequence[Account | None], options: ImportOptions
) -> None:
    """Refuse a statement (or a row of a file without one) in another currency than its account's. An implicit
    account (used, never declared: the ``Main`` of a ledger from before accounts) has no currency of its own."""
    targets = [a if a is not None and a.declared else None for a in targets]
    for stmt, account in zip(extraction.statements, targets, strict=True):
        stated = stmt.currency or options.currency or None
        if account is not None and stated and stated != account.currency:
            raise ImportFileError.single(
                name,
                f"is the statement's currency, but the account {account.name} is in {account.currency}: import it "
                f"into an account in {stated}",
                field="currency",
                value=stated,
            )
    for row in extraction.rows:
        account = targets[row.statement]
        if account is None or extraction.statements[row.statement].currency or not row.currency:
            continue
        if row.currency != account.currency:
            raise ImportFileError.single(
                name,
                f"is the currency of this row, but the account {account.name} is in {account.currency}: import "
                f"the file into an account in {row.currency}",
                line=row.line,
                field="currency",
                value=row.currency,
                unit=unit,
            )


def _signed_for_cards(
    rows: list[ParsedRow],
    extraction: Extraction,
    targets: Sequence[Account | None],
    options: ImportOptions,
    warnings: list[str],
) -> list[ParsedRow]:
    """Into a credit card, a statement whose every amount is positive lists charges: read them as spending."""
    if options.keep_signs or options.mapping.invert:
        return rows
    flip: set[int] = set()
    for i, account in enumerate(targets):
        if account is None or account.kind != "credit-card":
            continue
        mine = [r.amount for r in rows if r.statement == i and r.amount]
        if mine and all(a > 0 for a in mine):
            flip.add(i)
            warnings.append(
                f"every amount is positive: read as charges to the credit card {account.name} "
                "(to read them as payments, import with --keep-signs)"
            )
    if not flip:
        return rows
    return [dataclasses.replace(r, amount=-r.amount) if r.statement in flip else r for r in rows]


def _planned_statement(stmt: Statement, account: Account, count: int) -> PlannedStatement:
    from tracker.money import to_signed_minor

    balance = to_signed_minor(stmt.balance, account.currency, field="LEDGERBAL") if stmt.balance is not None else None
    return PlannedStatement(
        key=stmt.key,
        label=stmt.label,
        account=account.name,
        currency=account.currency,
        balance=balance,
        balance_date=stmt.balance_date,
        rows=count,
    )


def _propose_transfers(planned: list[PlannedRow], view: LedgerView, warnings: list[str]) -> None:
    """Mark each new row whose opposite twin (same amount, other sign, at most :data:`TWIN_DAYS` apart) is in
    another account as one side of a transfer, when that twin is the only one and wants no other row."""
    news = [r for r in planned if r.status == "new" and r.draft is not None and r.draft.account]
    by_key: dict[tuple[str, int], list[PlannedRow]] = {}
    for r in news:
        assert r.draft is not None
        by_key.setdefault((r.draft.currency, r.draft.signed_minor), []).append(r)
    found: dict[int, list[tuple[str, str, dt.date]]] = {}
    claims: dict[str, int] = {}
    for r in news:
        tx = r.draft
        assert tx is not None
        near = [
            (t.id, t.account, t.date)
            for t in view.twins.get((tx.currency, -tx.signed_minor), ())
            if t.account.casefold() != tx.account.casefold() and abs((t.date - tx.date).days) <= TWIN_DAYS
        ]
        near += [
            (o.draft.id, o.draft.account, o.draft.date)
            for o in by_key.get((tx.currency, -tx.signed_minor), [])
            if o.draft is not None
            and o.draft.account.casefold() != tx.account.casefold()
            and abs((o.draft.date - tx.date).days) <= TWIN_DAYS
        ]
        found[id(r)] = near
        for other_id, _, _ in near:
            claims[other_id] = claims.get(other_id, 0) + 1
    for r in news:
        near = found[id(r)]
        if not near:
            continue
        if len(near) == 1 and claims[near[0][0]] == 1:
            other_id, account, day = near[0]
            r.transfer_with, r.counter_account = other_id, account
            r.reason = f"a transfer with {account} ({day.isoformat()})?"
        else:
            where = ", ".join(f"{a} {d.isoformat()}" for _, a, d in near[:3])
            warnings.append(
                f"{r.draft.date.isoformat() if r.draft else ''} {r.description!r}: more than one possible other side "
                f"of a transfer ({where}{', ...' if len(near) > 3 else ''}): kept as an income or expense"
            )


def statements_of(data: bytes, name: str, options: ImportOptions | None = None) -> list[Statement]:
    """The accounts a file speaks of (a form asks which of the user's accounts each one is); ``[]`` when the
    file cannot be read (planning it says why)."""
    options = options or ImportOptions()
    try:
        kind = options.kind or detect_format(name, data[:8192])
        return _read(make_importer(kind, options), data, name).statements
    except TrackerError:
        return []


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
