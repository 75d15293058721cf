"""Accounts: where money is (checking, savings, a credit card, cash, a loan), transfers between them, their
balances, net worth and reconciliation.

Accounts are a feature of the ledger meta (key ``"accounts"``: the declared accounts and the default one).
Every stored transaction names its account (:data:`tracker.model.FIELDS`, ``account``). An account that
transactions use but that was never declared (``"Main"`` after the storage schema 4 migration, or the first
account of a new ledger) is *implicit*: a checking account in the ledger's default currency, opening
balance 0, until it is edited (then it is declared). A draft with no account goes into the default account.

A **transfer** is a linked pair of transactions of type ``"transfer"``, one ``out`` of an account and one
``in`` to another, each pointing at the other (``link``), stored in one commit: editing one side edits the
other (date, note, tags; the amount too when both accounts have one currency), deleting one deletes both,
undo takes back both. Transfers never count as income, expense, category spending or budget use (those
count rows of type income or expense only); they do count in balances.

A balance is in minor units of one currency: the opening balance plus income and transfers in, minus
expenses and transfers out (:attr:`tracker.model.Transaction.signed_minor`). Credit cards and loans are
liabilities: what is owed is a negative balance. Net worth is the sum of every open and closed account's
balance per currency (liabilities being negative, assets minus liabilities).

No pandas: the balances are sums over the stored columns (:mod:`tracker.rows`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tracker.errors import NotFoundError, ValidationError
from tracker.features import MetaFeature
from tracker.model import (
    ACCOUNT_KINDS,
    MIGRATED_ACCOUNT,
    TRANSFER_CATEGORY,
    Transaction,
    clean_account,
    clean_date,
    clean_note,
    clean_tags,
    new_id,
    utcnow,
)
from tracker.money import Minor, format_plain, normalize_currency, to_minor, to_signed_minor

if TYPE_CHECKING:
    from tracker.ledger import Ledger

META_KEY = "accounts"
KINDS = ACCOUNT_KINDS
LIABILITIES = frozenset({"credit-card", "loan"})
"""Kinds whose balance is what is owed (negative)."""


@dataclasses.dataclass(frozen=True)
class Account:
    """One account. ``opening_minor`` is its balance on ``opening_date`` (before that day's transactions),
    negative for what is owed on a credit card or loan."""

    name: str
    kind: str = "checking"
    currency: str = "USD"
    opening_minor: Minor = 0
    opening_date: dt.date | None = None
    closed: bool = False
    note: str = ""
    declared: bool = True
    """False for an implicit account (used by transactions, never declared)."""
    sources: tuple[str, ...] = ()
    """What imports remember it by: an OFX statement (``ofx:BANKID/ACCTID``), a saved CSV mapping (``mapping:NAME``)."""

    @property
    def liability(self) -> bool:
        return self.kind in LIABILITIES

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "currency": self.currency,
            "opening": format_plain(self.opening_minor, self.currency),
            "opening_date": self.opening_date.isoformat() if self.opening_date else None,
            "closed": self.closed,
            "note": self.note,
        }


def clean_kind(value: object) -> str:
    """One of :data:`KINDS` (case-insensitive; ``credit card`` and ``credit_card`` too)."""
    if isinstance(value, str):
        kind = value.strip().lower().replace(" ", "-").replace("_", "-")
        if kind in KINDS:
            return kind
    raise ValidationError("kind", value, f"must be one of {', '.join(KINDS)}")


def _account_from_meta(data: Mapping[str, Any]) -> Account:
    currency = normalize_currency(data["currency"])
    opening = data.get("opening_minor", 0)
    if isinstance(opening, bool) or not isinstance(opening, int):
        raise ValidationError("opening", opening, "is not a whole number of minor units")
    return Account(
        name=clean_account(data["name"]),
        kind=clean_kind(data.get("kind", "checking")),
        currency=currency,
        opening_minor=opening,
        opening_date=clean_date(data["opening_date"]) if data.get("opening_date") else None,
        closed=bool(data.get("closed", False)),
        note=clean_note(data.get("note", "")),
        sources=tuple(str(k) for k in data.get("sources", ()) if isinstance(k, str) and k),
    )


@dataclasses.dataclass(frozen=True)
class AccountBook:
    """The declared accounts (in the order they were made) and the default account's name (or ``""``)."""

    accounts: tuple[Account, ...] = ()
    default: str = ""

    def __bool__(self) -> bool:
        return bool(self.accounts or self.default)

    def find(self, name: str) -> Account | None:
        key = name.casefold()
        return next((a for a in self.accounts if a.name.casefold() == key), None)


def _load(raw: object) -> AccountBook:
    if raw is None:
        return AccountBook()
    if not isinstance(raw, dict) or not isinstance(raw.get("accounts", []), list):
        raise ValidationError("accounts", raw, "is not a list of accounts")
    accounts = tuple(_account_from_meta(a) for a in raw.get("accounts", []))
    default = raw.get("default", "")
    return AccountBook(accounts, default if isinstance(default, str) else "")


def _dump(book: AccountBook) -> dict[str, Any] | None:
    if not book.accounts and not book.default:
        return None
    out = []
    for a in book.accounts:
        item = {"name": a.name, "kind": a.kind, "currency": a.currency, "opening_minor": a.opening_minor}
        if a.opening_date:
            item["opening_date"] = a.opening_date.isoformat()
        if a.closed:
            item["closed"] = True
        if a.note:
            item["note"] = a.note
        if a.sources:
            item["sources"] = list(a.sources)
        out.append(item)
    return {"accounts": out, "default": book.default}


ACCOUNTS: MetaFeature[AccountBook] = MetaFeature(
    key=META_KEY, load=_load, dump=_dump, noun="account", entry_key=lambda item: str(item["name"]).casefold()
)


# -- reading -------------------------------------------------------------------------------------------


def _book(ledger: Ledger, meta: Mapping[str, Any] | None = None) -> AccountBook:
    if meta is not None and META_KEY in meta:
        return _load(meta[META_KEY])
    return ACCOUNTS.read(ledger)


def _implicit(ledger: Ledger, name: str) -> Account:
    return Account(name=name, currency=ledger.default_currency, declared=False)


def list_accounts(ledger: Ledger, meta: Mapping[str, Any] | None = None) -> list[Account]:
    """Every account: the declared ones in order, then the implicit ones (used, never declared) by name."""
    book = _book(ledger, meta)
    declared = {a.name.casefold() for a in book.accounts}
    used = sorted((n for n in ledger.engine.distinct("account") if n.casefold() not in declared), key=str.casefold)
    return [*book.accounts, *(_implicit(ledger, n) for n in used)]


def default_account(ledger: Ledger, meta: Mapping[str, Any] | None = None) -> Account:
    """Where a transaction goes when none is named: the default set, else ``"Main"`` while it is open (where a
    ledger from before accounts keeps its rows: declaring a card does not send new rows there), else the first
    open account, else an implicit ``"Main"`` (a new ledger's first account)."""
    accounts = list_accounts(ledger, meta)
    book = _book(ledger, meta)
    for wanted in (book.default, MIGRATED_ACCOUNT):
        chosen = next((a for a in accounts if wanted and a.name.casefold() == wanted.casefold()), None)
        if chosen is not None and not chosen.closed:
            return chosen
    first = next((a for a in accounts if not a.closed), None)
    return first if first is not None else _implicit(ledger, "Main")


def get_account(ledger: Ledger, name: object, meta: Mapping[str, Any] | None = None) -> Account:
    """The account called ``name`` (case-insensitive); ``NotFoundError`` naming the field ``account`` otherwise."""
    wanted = clean_account(name)
    found = next((a for a in list_accounts(ledger, meta) if a.name.casefold() == wanted.casefold()), None)
    if found is None:  # a new ledger's first account exists before anything is in it
        fallback = default_account(ledger, meta)
        found = fallback if fallback.name.casefold() == wanted.casefold() else None
    if found is None:
        raise unknown_account(wanted)
    return found


def unknown_account(name: str) -> NotFoundError:
    """The error of a name that is no account's (the same words wherever an account is looked up)."""
    return NotFoundError("account", name, "is not an account (see `expense-tracker account list`)")


def account_from_json(data: object) -> Account:
    """An account as :meth:`Account.to_json` wrote it (a JSON export's ``accounts``), validated again."""
    if not isinstance(data, Mapping) or "name" not in data or "currency" not in data:
        raise ValidationError("accounts", data, "is not an account with a name and a currency")
    currency = normalize_currency(data["currency"])
    kind = clean_kind(data.get("kind", "checking"))
    opening = data.get("opening") or "0"
    return Account(
        name=clean_account(data["name"]),
        kind=kind,
        currency=currency,
        opening_minor=to_signed_minor(opening, currency, field="opening"),
        opening_date=clean_date(data["opening_date"]) if data.get("opening_date") else None,
        closed=data.get("closed") is True,
        note=clean_note(data.get("note") or ""),
    )


def declare_missing(ledger: Ledger, wanted: Iterable[Account]) -> dict[str, Any]:
    """The accounts' meta with those of ``wanted`` that the ledger does not know declared (``{}``: none)."""
    known = {a.name.casefold() for a in list_accounts(ledger)}
    book = ACCOUNTS.read(ledger)
    added = []
    for account in wanted:
        if account.name.casefold() not in known:
            known.add(account.name.casefold())
            added.append(dataclasses.replace(account, declared=True, sources=()))
    return ACCOUNTS.stored(AccountBook((*book.accounts, *added), book.default)) if added else {}


def account_for_source(accounts: Iterable[Account], key: str) -> Account | None:
    """The account an import source (see :attr:`Account.sources`) was last imported into, if any."""
    return next((a for a in accounts if key and key in a.sources), None) if key else None


def remembered(ledger: Ledger, pairs: Mapping[str, str]) -> dict[str, Any]:
    """The accounts' meta with each source key of ``pairs`` (key -> account name) remembered by that account
    (and forgotten by any other); ``{}`` when nothing changes. For a commit together with the import."""
    book = ACCOUNTS.read(ledger)
    accounts = list(book.accounts)
    for name in {n.casefold(): n for n in pairs.values()}.values():
        account = get_account(ledger, name)
        if not account.declared:
            accounts.append(dataclasses.replace(account, declared=True))
    changed = []
    for account in accounts:
        keys = [k for k in account.sources if pairs.get(k, account.name).casefold() == account.name.casefold()]
        keys += [k for k, n in pairs.items() if n.casefold() == account.name.casefold() and k not in keys]
        changed.append(dataclasses.replace(account, sources=tuple(keys)))
    if changed == list(book.accounts):
        return {}
    return ACCOUNTS.stored(AccountBook(tuple(changed), book.default))


def settle(ledger: Ledger, puts: Sequence[Transaction], meta: Mapping[str, Any] | None) -> list[Transaction]:
    """The transactions of a commit with their accounts checked: a draft with no account goes into the default
    account; a named account must exist (spelt as it is); a new or moved transaction never goes into a closed
    account. Called by :meth:`tracker.ledger.Ledger.commit` (under the lock, just refreshed)."""
    if not puts:
        return list(puts)
    accounts = {a.name.casefold(): a for a in list_accounts(ledger, meta)}
    fallback = default_account(ledger, meta)
    accounts.setdefault(fallback.name.casefold(), fallback)
    out: list[Transaction] = []
    for tx in puts:
        if not tx.account:
            account = fallback
        else:
            found = accounts.get(tx.account.casefold())
            if found is None:
                raise unknown_account(tx.account)
            account = found
        if account.closed:
            stored = ledger.engine.record(tx.id)
            if stored is None or stored.get("account", "").casefold() != account.name.casefold():
                raise ValidationError("account", account.name, "is closed (reopen it to add transactions)")
        if tx.account != account.name:
            tx = dataclasses.replace(tx, account=account.name)
        out.append(tx)
    return out


# -- changing accounts ------------------------------------------------------------------------------------


def _opening(value: object, currency: str, kind: str) -> Minor:
    """An opening balance typed by a person; for a liability a positive amount is what is owed."""
    if value is None or value == "":
        return 0
    minor = to_signed_minor(value, currency, field="opening")
    return -minor if kind in LIABILITIES else minor


def add_account(
    ledger: Ledger,
    name: object,
    *,
    kind: object = "checking",
    currency: object = None,
    opening: object = None,
    opening_date: object = None,
    note: object = None,
) -> Account:
    """Declare a new account (one undoable change). For a credit card or loan, ``opening`` is what is owed."""
    clean_name = clean_account(name)
    clean = clean_kind(kind)
    code = normalize_currency(currency if currency is not None else ledger.default_currency)
    account = Account(
        name=clean_name,
        kind=clean,
        currency=code,
        opening_minor=_opening(opening, code, clean),
        opening_date=clean_date(opening_date) if opening_date not in (None, "") else None,
        note=clean_note(note),
    )
    with ledger.locked():
        ledger.engine.refresh_locked()
        if any(a.name.casefold() == clean_name.casefold() for a in list_accounts(ledger)):
            raise ValidationError("name", clean_name, "is already the name of an account")
        book = ACCOUNTS.read(ledger)
        ACCOUNTS.write(
            ledger, dataclasses.replace(book, accounts=(*book.accounts, account)), f"add account {clean_name}"
        )
    return account


def _declared(ledger: Ledger, account: Account) -> tuple[AccountBook, list[Account]]:
    """The book with ``account`` declared (an implicit one is added), and its accounts as a list."""
    book = ACCOUNTS.read(ledger)
    accounts = list(book.accounts)
    if not account.declared:
        accounts.append(dataclasses.replace(account, declared=True))
    return book, accounts


def edit_account(
    ledger: Ledger,
    name: object,
    *,
    new_name: object = None,
    kind: object = None,
    note: object = None,
    opening: object = None,
    opening_date: object = None,
    closed: bool | None = None,
) -> Account:
    """Change an account; a new name moves its transactions (and the other sides' counterpart) in the same change."""
    with ledger.locked():
        ledger.engine.refresh_locked()
        account = get_account(ledger, name)
        book, accounts = _declared(ledger, account)
        changed = dataclasses.replace(account, declared=True)
        if kind is not None:
            changed = dataclasses.replace(changed, kind=clean_kind(kind))
        if note is not None:
            changed = dataclasses.replace(changed, note=clean_note(note))
        if opening is not None:
            changed = dataclasses.replace(changed, opening_minor=_opening(opening, changed.currency, changed.kind))
        if opening_date is not None:
            changed = dataclasses.replace(changed, opening_date=clean_date(opening_date) if opening_date else None)
        if closed is not None:
            changed = dataclasses.replace(changed, closed=closed)
        puts: list[Transaction] = []
        if new_name is not None:
            target = clean_account(new_name)
            clash = next((a for a in list_accounts(ledger) if a.name.casefold() == target.casefold()), None)
            if clash is not None and clash.name.casefold() != account.name.casefold():
                raise ValidationError("name", target, "is already the name of an account")
            changed = dataclasses.replace(changed, name=target)
            now = utcnow()
            puts = [
                dataclasses.replace(tx, account=target, updated_at=now)
                for tx in ledger.transactions_in(account.name)
                if tx.account != target
            ]
        accounts = [changed if a.name.casefold() == account.name.casefold() else a for a in accounts]
        default = book.default
        if default and default.casefold() == account.name.casefold():
            default = changed.name
        meta = ACCOUNTS.stored(AccountBook(tuple(accounts), default))
        if new_name is not None:
            meta |= _templates_moved(ledger, account.name, changed.name)
        ledger.commit(puts, meta=meta, label=f"edit account {changed.name}")
    return changed


def _templates_moved(ledger: Ledger, name: str, target: str | None) -> dict[str, Any]:
    """The recurring templates' meta with those of account ``name`` moved to ``target`` (``{}`` when none is
    in it). ``target`` ``None`` refuses: an account a template posts into is not deleted without --move-to."""
    from tracker.recurring import RECURRING

    templates = RECURRING.read(ledger)
    key = name.casefold()
    mine = [t for t in templates if t.account.casefold() == key]
    if not mine:
        return {}
    if target is None:
        raise ValidationError(
            "account",
            name,
            f"has {len(mine)} recurring template{'s' if len(mine) != 1 else ''}: move them with --move-to OTHER",
        )
    moved = [dataclasses.replace(t, account=target) if t.account.casefold() == key else t for t in templates]
    return RECURRING.stored(moved)


def close_account(ledger: Ledger, name: object, closed: bool = True) -> Account:
    """Close (or reopen) an account: it keeps its transactions and balance; nothing new goes into it."""
    return edit_account(ledger, name, closed=closed)


def set_default_account(ledger: Ledger, name: object) -> Account:
    """Where transactions go when none is named."""
    with ledger.locked():
        ledger.engine.refresh_locked()
        account = get_account(ledger, name)
        if account.closed:
            raise ValidationError("account", account.name, "is closed (reopen it first)")
        _, accounts = _declared(ledger, account)
        ACCOUNTS.write(ledger, AccountBook(tuple(accounts), account.name), f"default account {account.name}")
    return account


def delete_account(ledger: Ledger, name: object, move_to: object = None) -> int:
    """Remove an account. Refused while it has transactions, unless ``move_to`` names the account that gets
    them (in the same change); returns how many moved. A transfer with ``move_to`` is refused (it would become
    a transfer to itself): delete or move that transfer first."""
    with ledger.locked():
        ledger.engine.refresh_locked()
        account = get_account(ledger, name)
        txs = ledger.transactions_in(account.name)
        puts: list[Transaction] = []
        if txs:
            if move_to is None:
                raise ValidationError(
                    "account",
                    account.name,
                    f"has {len(txs)} transaction{'s' if len(txs) != 1 else ''}: move them with --move-to OTHER",
                )
            target = get_account(ledger, move_to)
            if target.name.casefold() == account.name.casefold():
                raise ValidationError("move_to", target.name, "is the account being deleted")
            if target.closed:
                raise ValidationError("move_to", target.name, "is closed")
            now = utcnow()
            for tx in txs:
                if tx.type == "transfer" and ledger.get(tx.link).account.casefold() == target.name.casefold():
                    raise ValidationError("move_to", target.name, f"is the other side of the transfer {tx.id}")
                if tx.currency != target.currency and tx.type == "transfer":
                    raise ValidationError("move_to", target.name, f"is not in {tx.currency} (the transfer {tx.id})")
                puts.append(dataclasses.replace(tx, account=target.name, updated_at=now))
        templates = _templates_moved(ledger, account.name, get_account(ledger, move_to).name if move_to else None)
        book = ACCOUNTS.read(ledger)
        remaining = tuple(a for a in book.accounts if a.name.casefold() != account.name.casefold())
        default = "" if book.default.casefold() == account.name.casefold() else book.default
        meta = ACCOUNTS.stored(AccountBook(remaining, default)) | templates
        ledger.commit(puts, meta=meta, label=f"delete account {account.name}")
    return len(puts)


# -- transfers ----------------------------------------------------------------------------------------------


def make_transfer(
    source: Account,
    target: Account,
    amount: object,
    *,
    to_amount: object = None,
    date: object = None,
    note: object = None,
    tags: object = None,
    today: dt.date | None = None,
) -> tuple[Transaction, Transaction]:
    """The two sides of a transfer of ``amount`` (in ``source``'s currency) from ``source`` to ``target``.

    Between accounts of two currencies ``to_amount`` (what arrives, in ``target``'s currency) is required;
    between accounts of one currency it is refused (the same amount arrives).
    """
    if source.name.casefold() == target.name.casefold():
        raise ValidationError("to", target.name, "is the account the money comes from")
    for account, field in ((source, "from"), (target, "to")):
        if account.closed:
            raise ValidationError(field, account.name, "is closed")
    sent = to_minor(amount, source.currency)
    if source.currency == target.currency:
        if to_amount is not None:
            raise ValidationError(
                "to_amount",
                to_amount,
                f"is only for accounts of two currencies ({target.name} is in {source.currency})",
            )
        received = sent
    else:
        if to_amount is None:
            raise ValidationError(
                "to_amount",
                None,
                f"is needed: {source.name} is in {source.currency} and {target.name} in {target.currency} "
                "(say what arrived; no exchange rate is assumed)",
            )
        received = to_minor(to_amount, target.currency, field="to_amount")
    day = clean_date(date) if date is not None else (today or dt.date.today())
    common = {
        "date": day,
        "category": TRANSFER_CATEGORY,
        "tags": clean_tags(tags),
        "note": clean_note(note),
        "type": "transfer",
    }
    now = utcnow()
    out_id, in_id = new_id(), new_id()

    def side(tx_id: str, account: Account, minor: Minor, direction: str, link: str) -> Transaction:
        return Transaction(
            id=tx_id,
            amount_minor=minor,
            currency=account.currency,
            account=account.name,
            direction=direction,
            link=link,
            created_at=now,
            updated_at=now,
            **common,  # type: ignore[arg-type]
        )

    out = side(out_id, source, sent, "out", in_id)
    arrived = side(in_id, target, received, "in", out_id)
    return out, arrived


def add_transfer(
    ledger: Ledger,
    amount: object,
    *,
    source: object,
    target: object,
    to_amount: object = None,
    date: object = None,
    note: object = None,
    tags: object = None,
) -> tuple[Transaction, Transaction]:
    """Store a transfer (both sides in one change); returns (out, in)."""
    with ledger.locked():
        ledger.engine.refresh_locked()
        out, arrived = make_transfer(
            get_account(ledger, source),
            get_account(ledger, target),
            amount,
            to_amount=to_amount,
            date=date,
            note=note,
            tags=tags,
        )
        ledger.commit([out, arrived], label="add transfer")
    return out, arrived


def linked_changes(side: Transaction, other: Transaction, changes: Mapping[str, object]) -> dict[str, object]:
    """What editing one side of a transfer does to the other: the date, note, tags and category alike; the
    amount too when both sides have one currency (else each side keeps its own). ``cleared`` and the account
    are each side's own; the currency of a side is its account's and is not edited."""
    if "currency" in changes and changes["currency"] != side.currency:
        raise ValidationError("currency", changes["currency"], "of a transfer is its account's (move it instead)")
    shared = {k: v for k, v in changes.items() if k in ("date", "note", "tags", "category")}
    if "amount" in changes and side.currency == other.currency:
        shared["amount"] = changes["amount"]
    return shared


# -- balances, net worth, reconciliation --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Balance:
    """An account's balances on a day, in its currency: everything, the cleared rows, the reconciled rows.

    ``others`` holds the balance of rows in other currencies (a ledger from before accounts may have them).
    """

    account: Account
    balance: Minor
    cleared: Minor
    reconciled: Minor
    others: dict[str, Minor]

    def to_json(self) -> dict[str, Any]:
        code = self.account.currency
        out = {
            "name": self.account.name,
            "kind": self.account.kind,
            "currency": code,
            "balance": format_plain(self.balance, code),
            "cleared": format_plain(self.cleared, code),
            "reconciled": format_plain(self.reconciled, code),
            "closed": self.account.closed,
        }
        if self.others:
            out["other_currencies"] = {c: format_plain(m, c) for c, m in sorted(self.others.items())}
        return out


def balances(ledger: Ledger, date: object = None) -> list[Balance]:
    """Every account's balance at the end of ``date`` (default: everything stored), in account order."""
    import numpy as np

    from tracker.filters import Filter

    day = clean_date(date) if date is not None else None
    rows, kept = ledger.rows_where(Filter(end=day))
    accounts = list_accounts(ledger)
    out = []
    for account in accounts:
        key = account.name.casefold()
        mine = kept & rows.account.where(lambda a: isinstance(a, str) and a.casefold() == key)  # noqa: B023
        opening = (
            account.opening_minor if account.opening_date is None or day is None or account.opening_date <= day else 0
        )
        own = mine & rows.in_currency(account.currency)
        signed = rows.signed
        total = int(signed[own].sum(dtype=np.int64))
        cleared = int(signed[own & rows.cleared].sum(dtype=np.int64))
        reconciled = int(signed[own & rows.reconciled].sum(dtype=np.int64))
        others: dict[str, Minor] = {}
        for code in rows.currency.values:
            if code != account.currency:
                part = mine & rows.in_currency(code)
                if part.any():
                    others[str(code)] = int(signed[part].sum(dtype=np.int64))
        out.append(Balance(account, opening + total, opening + cleared, opening + reconciled, others))
    return out


def net_worth(found: Iterable[Balance]) -> dict[str, Minor]:
    """Assets minus liabilities, per currency (liabilities' balances are negative): the sum of the balances."""
    totals: dict[str, Minor] = {}
    for b in found:
        totals[b.account.currency] = totals.get(b.account.currency, 0) + b.balance
        for code, minor in b.others.items():
            totals[code] = totals.get(code, 0) + minor
    return dict(sorted(totals.items()))


def net_worth_over_time(ledger: Ledger, days: Sequence[dt.date]) -> dict[str, list[Minor]]:
    """Net worth per currency at the end of each of ``days`` (any order), in one pass over the rows: the same
    figures as ``net_worth(balances(ledger, day))`` for every day (a currency that has nothing is left out)."""
    import numpy as np

    from tracker.filters import Filter

    if not days:
        return {}
    rows, kept = ledger.rows_where(Filter(end=max(days)))
    epoch = dt.date(1970, 1, 1)
    targets = np.array([(d - epoch).days for d in days], dtype=np.int64)
    opened = [a for a in list_accounts(ledger) if a.opening_minor]
    out: dict[str, list[Minor]] = {}
    for code in sorted({str(c) for c in rows.currency.values} | {a.currency for a in opened}):
        mask = kept & rows.in_currency(code)
        day = rows.day[mask]
        order = np.argsort(day, kind="stable")
        totals = np.concatenate(([0], np.cumsum(rows.signed[mask][order], dtype=np.int64)))
        values = totals[np.searchsorted(day[order], targets, side="right")]
        mine = [a for a in opened if a.currency == code]
        for account in mine:
            start = -(10**9) if account.opening_date is None else (account.opening_date - epoch).days
            values = values + np.where(targets >= start, account.opening_minor, 0)
        if mask.any() or mine:
            out[code] = [int(v) for v in values]
    return out


def net_worth_months(ledger: Ledger, currency: str, last: dt.date) -> tuple[list[dt.date], list[Minor]]:
    """Net worth in ``currency`` at the end of every month from the ledger's first day (its first transaction or
    an account's opening date) to ``last`` (the last point is ``last`` itself); ``([], [])`` when no account has
    anything in ``currency``. Every account counts, whatever a report or dashboard filters."""
    days = net_worth_days(ledger, last)
    values = net_worth_over_time(ledger, days).get(currency)
    return (days, values) if values is not None else ([], [])


def net_worth_days(ledger: Ledger, last: dt.date) -> list[dt.date]:
    """The end of every month from the ledger's first day (its first transaction or an account's opening date)
    to ``last`` (the last one being ``last``): the points of a net-worth chart."""
    from tracker.filters import Filter

    starts = [a.opening_date for a in list_accounts(ledger) if a.opening_date is not None]
    rows, kept = ledger.rows_where(Filter(end=last))
    day = rows.day[kept]
    if len(day):
        starts.append(dt.date(1970, 1, 1) + dt.timedelta(days=int(day.min())))
    return month_ends(min([*starts, last]), last)


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """The last day of every month from ``first``'s to ``last``'s, the last one being ``last`` itself."""
    out = []
    year, month = first.year, first.month
    while (year, month) < (last.year, last.month):
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        out.append(dt.date(year, month, 1) - dt.timedelta(days=1))
    return [*out, last]


@dataclasses.dataclass(frozen=True)
class Reconciliation:
    """A statement compared with the account: ``difference`` = statement - cleared balance on its date."""

    account: Account
    date: dt.date
    statement: Minor
    cleared: Minor
    reconciled: bool
    marked: int
    """How many transactions were marked reconciled now."""

    @property
    def difference(self) -> Minor:
        return self.statement - self.cleared

    def to_json(self) -> dict[str, Any]:
        code = self.account.currency
        return {
            "account": self.account.name,
            "date": self.date.isoformat(),
            "statement_balance": format_plain(self.statement, code),
            "cleared_balance": format_plain(self.cleared, code),
            "difference": format_plain(self.difference, code),
            "reconciled": self.reconciled,
            "marked": self.marked,
        }


def reconcile(ledger: Ledger, account: object, balance: object, date: object, *, finish: bool = True) -> Reconciliation:
    """Compare a statement (its closing ``balance`` on ``date``) with the account's cleared balance; when they
    agree (and ``finish``), mark the cleared transactions up to that date reconciled, in one change."""
    with ledger.locked():
        ledger.engine.refresh_locked()
        found = get_account(ledger, account)
        day = clean_date(date)
        statement = to_signed_minor(balance, found.currency, field="balance")
        cleared = next(b for b in balances(ledger, day) if b.account.name == found.name).cleared
        puts: list[Transaction] = []
        if statement == cleared and finish:
            now = utcnow()
            puts = [
                dataclasses.replace(tx, reconciled=True, updated_at=now)
                for tx in ledger.transactions_in(found.name)
                if tx.cleared and not tx.reconciled and tx.date <= day and tx.currency == found.currency
            ]
            if puts:
                ledger.commit(puts, label=f"reconcile {found.name}")
        return Reconciliation(found, day, statement, cleared, statement == cleared, len(puts))


def set_cleared(ledger: Ledger, ids: Iterable[str], cleared: bool = True, *, force: bool = False) -> int:
    """Mark transactions cleared (or not), in one change; returns the new revision. Un-clearing a reconciled
    transaction takes its reconciliation back and needs ``force``."""
    return ledger.update_many(
        {tx_id: {"cleared": cleared} for tx_id in ids}, label="cleared" if cleared else "uncleared", force=force
    )
