"""Accounts on the command line: ``account``, ``transfer``, ``balance``, ``reconcile``, ``cleared``, ``uncleared``.

Thin over :mod:`tracker.accounts`; amounts are read in the ledger's number format like every typed amount.
"""

from __future__ import annotations

import argparse

from tracker.cli.common import (
    Subparsers,
    add_format_argument,
    open_ledger,
    plural,
    print_json,
    print_table,
    typed_amount,
)
from tracker.model import ACCOUNT_KINDS


def register(sub: Subparsers) -> None:
    """Add the account subcommands."""
    p = sub.add_parser("account", help="add, list, edit, close or delete accounts")
    asub = p.add_subparsers(dest="account_command", metavar="ACTION", required=True)
    a = asub.add_parser("add", help="declare an account")
    a.add_argument("name")
    a.add_argument("--kind", required=True, help=f"one of {', '.join(ACCOUNT_KINDS)}")
    a.add_argument("--currency", required=True, help="ISO 4217 code")
    a.add_argument("--opening", metavar="AMOUNT", help="the balance on the opening date (for a card or loan: owed)")
    a.add_argument("--opening-date", metavar="DATE", help="YYYY-MM-DD")
    a.add_argument("--note")
    a.set_defaults(func=run_account_add)
    a = asub.add_parser("list", help="every account with its balances")
    add_format_argument(a)
    a.set_defaults(func=run_account_list)
    a = asub.add_parser("edit", help="rename an account or change its kind or note")
    a.add_argument("name")
    a.add_argument("--name", dest="new_name", metavar="NEW")
    a.add_argument("--kind")
    a.add_argument("--note")
    a.set_defaults(func=run_account_edit)
    for action, closed in (("close", True), ("reopen", False)):
        a = asub.add_parser(action, help=f"{action} an account (it keeps its transactions)")
        a.add_argument("name")
        a.set_defaults(func=run_account_close, closed=closed)
    a = asub.add_parser("delete", help="remove an account (refused while it has transactions, unless --move-to)")
    a.add_argument("name")
    a.add_argument("--move-to", metavar="OTHER", help="the account that gets its transactions")
    a.set_defaults(func=run_account_delete)
    a = asub.add_parser("default", help="the account transactions go into when none is named")
    a.add_argument("name")
    a.set_defaults(func=run_account_default)

    p = sub.add_parser("transfer", help="move money between two of your accounts; prints the new id")
    p.add_argument("amount", help="what leaves the --from account, in its currency")
    p.add_argument("--from", dest="source", required=True, metavar="A")
    p.add_argument("--to", dest="target", required=True, metavar="B")
    p.add_argument("--to-amount", metavar="AMOUNT", help="what arrives, when the accounts have two currencies")
    p.add_argument("--date", help="YYYY-MM-DD (default: today)")
    p.add_argument("--note")
    p.add_argument("--tag", dest="tags", action="append", default=[], metavar="T")
    p.set_defaults(func=run_transfer)

    p = sub.add_parser("balance", help="each account's balance and the net worth")
    p.add_argument("--date", help="at the end of this day (default: everything)")
    p.add_argument("--currency", help="the net worth converted into this currency (default: the reporting currency)")
    add_format_argument(p)
    p.set_defaults(func=run_balance)

    p = sub.add_parser("reconcile", help="compare an account with a statement; reconciles it when they agree")
    p.add_argument("account")
    p.add_argument("--balance", required=True, metavar="AMOUNT", help="the statement's closing balance")
    p.add_argument("--date", required=True, help="the statement's date")
    add_format_argument(p)
    p.set_defaults(func=run_reconcile)

    p = sub.add_parser("forecast", help="an account's projected balance up to a date (recurring + entered)")
    p.add_argument("account")
    p.add_argument("--until", required=True, metavar="DATE", help="the last day to project")
    add_format_argument(p)
    p.set_defaults(func=run_forecast)

    for name, cleared in (("cleared", True), ("uncleared", False)):
        p = sub.add_parser(name, help=f"mark transactions {name}")
        p.add_argument("ids", nargs="+", metavar="ID")
        p.add_argument("--force", action="store_true", help="confirm un-clearing a reconciled transaction")
        p.set_defaults(func=run_cleared, cleared=cleared)


def run_account_add(args: argparse.Namespace) -> int:
    from tracker.accounts import add_account

    account = add_account(
        open_ledger(args),
        args.name,
        kind=args.kind,
        currency=args.currency,
        opening=typed_amount(args, args.opening, "opening"),
        opening_date=args.opening_date,
        note=args.note,
    )
    print(account.name)
    return 0


def run_account_list(args: argparse.Namespace) -> int:
    from tracker.accounts import balances

    found = balances(open_ledger(args))
    if args.format == "json":
        print_json([b.to_json() for b in found])
        return 0
    rows = []
    for b in found:
        shown = b.to_json()
        rows.append([b.account.name, b.account.kind, b.account.currency, shown["balance"], shown["cleared"],
                     shown["reconciled"], "closed" if b.account.closed else ""])  # fmt: skip
    print_table(rows, ["name", "kind", "currency", "balance", "cleared", "reconciled", ""], right=(3, 4, 5))
    print(plural(len(rows), "account"))
    return 0


def run_account_edit(args: argparse.Namespace) -> int:
    from tracker.accounts import edit_account
    from tracker.errors import ValidationError

    if args.new_name is None and args.kind is None and args.note is None:
        raise ValidationError("account edit", args.name, "needs --name, --kind or --note")
    print(edit_account(open_ledger(args), args.name, new_name=args.new_name, kind=args.kind, note=args.note).name)
    return 0


def run_account_close(args: argparse.Namespace) -> int:
    from tracker.accounts import close_account

    account = close_account(open_ledger(args), args.name, closed=args.closed)
    print(f"{account.name} {'closed' if account.closed else 'open'}")
    return 0


def run_account_delete(args: argparse.Namespace) -> int:
    from tracker.accounts import delete_account

    moved = delete_account(open_ledger(args), args.name, move_to=args.move_to)
    print(f"deleted {args.name}" + (f"; moved {plural(moved, 'transaction')} to {args.move_to}" if moved else ""))
    return 0


def run_account_default(args: argparse.Namespace) -> int:
    from tracker.accounts import set_default_account

    print(set_default_account(open_ledger(args), args.name).name)
    return 0


def run_transfer(args: argparse.Namespace) -> int:
    from tracker.accounts import add_transfer

    out, _ = add_transfer(
        open_ledger(args),
        typed_amount(args, args.amount),
        source=args.source,
        target=args.target,
        to_amount=typed_amount(args, args.to_amount, "to_amount"),
        date=args.date,
        note=args.note,
        tags=args.tags,
    )
    print(out.id)
    return 0


def run_balance(args: argparse.Namespace) -> int:
    import datetime as dt

    from tracker.accounts import balances, net_worth
    from tracker.conversion import net_worth_in, rate_book, reporting_currency
    from tracker.model import clean_date
    from tracker.money import format_plain, normalize_currency
    from tracker.rates import how_to_add

    ledger = open_ledger(args)
    found = balances(ledger, args.date)
    worth = {code: format_plain(minor, code) for code, minor in net_worth(found).items()}
    target = normalize_currency(args.currency) if args.currency else reporting_currency(ledger)
    day = clean_date(args.date) if args.date else dt.date.today()
    (total,), missing = net_worth_in(ledger, target, [day], rate_book(ledger))
    converted = {"currency": target, "amount": format_plain(total, target), "unconverted": sorted(missing)}
    if args.format == "json":
        print_json(
            {"date": args.date, "accounts": [b.to_json() for b in found], "net_worth": worth, "converted": converted}
        )
        return 0
    rows = [[b.account.name, b.account.kind, b.account.currency, b.to_json()["balance"]] for b in found]
    rows += [["net worth", "", code, value] for code, value in worth.items()]
    if set(worth) - {target}:
        rows.append([f"net worth, all in {target}", "", target, converted["amount"]])
    print_table(rows, ["account", "kind", "currency", "balance"], right=(3,))
    for code in sorted(missing):
        print(f"left out of the net worth in {target}: {code} (no rate); {how_to_add(code, target)}")
    return 0


def run_reconcile(args: argparse.Namespace) -> int:
    from tracker.accounts import reconcile

    done = reconcile(open_ledger(args), args.account, typed_amount(args, args.balance, "balance"), args.date)
    shown = done.to_json()
    if args.format == "json":
        print_json(shown)
    elif done.reconciled:
        print(f"{done.account.name} reconciled on {shown['date']}: {plural(done.marked, 'transaction')} marked")
    else:
        print(
            f"{done.account.name}: the statement says {shown['statement_balance']}, the cleared balance is "
            f"{shown['cleared_balance']} (difference {shown['difference']}): mark the missing transactions "
            "cleared (`expense-tracker cleared ID...`) and run reconcile again"
        )
    return 0


def run_cleared(args: argparse.Namespace) -> int:
    from tracker.accounts import set_cleared

    set_cleared(open_ledger(args), args.ids, cleared=args.cleared, force=args.force)
    print(f"{'cleared' if args.cleared else 'uncleared'} {plural(len(args.ids), 'transaction')}")
    return 0


def run_forecast(args: argparse.Namespace) -> int:
    from tracker.forecast import forecast

    found = forecast(open_ledger(args), args.account, args.until)
    shown = found.to_json()
    if args.format == "json":
        print_json(shown)
        return 0
    code = shown["currency"]
    rows = [[shown["from"], "balance today", "", "", shown["balance"]]]
    rows += [[e["date"], e["what"], e["source"], e["amount"], e["balance"]] for e in shown["events"]]
    print_table(rows, ["date", "what", "from", "amount", "balance"], right=(3, 4))
    print(f"projected balance on {shown['until']}: {shown['projected_balance']} {code}")
    estimate = shown["estimate"]
    if estimate["based_on"]:
        first, last = estimate["based_on"]
        print(
            f"estimate, also taking off the usual spending ({estimate['monthly_spending']} {code} a month, "
            f"the average of {first} to {last}): {estimate['projected_balance']} {code}"
        )
    if shown["left_out_other_currencies"]:
        print(f"left out: {plural(shown['left_out_other_currencies'], 'row')} in another currency than {code}")
    return 0
