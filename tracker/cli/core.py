"""The everyday subcommands: add, list, summary, edit, delete, undo, backups."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from tracker.cli.common import (
    add_filter_arguments,
    add_format_argument,
    filter_from_args,
    open_ledger,
    plural,
    print_json,
    print_table,
    typed_amount,
)

if TYPE_CHECKING:
    import numpy as np

    from tracker.rates import RateBook
    from tracker.rows import Rows


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the core subcommands."""
    p = sub.add_parser("add", help="record income or an expense; prints the new id")
    p.add_argument("type", choices=("income", "expense"))
    p.add_argument("amount", help="amount as written, e.g. 12.50 (always positive)")
    p.add_argument("--category", help="the category (required unless the transaction is split)")
    _add_split_arguments(p)
    p.add_argument("--date", help="YYYY-MM-DD (default: today)")
    p.add_argument("--tag", dest="tags", action="append", default=[], metavar="T", help="a tag (repeatable)")
    p.add_argument("--note", default="")
    p.add_argument("--currency", help="ISO 4217 code (default: the account's)")
    p.add_argument("--account", help="the account's name (default: the default account)")
    p.add_argument("--cleared", action="store_true", help="mark it cleared (seen on a statement)")
    p.set_defaults(func=run_add)

    p = sub.add_parser("list", help="list transactions")
    add_filter_arguments(p)
    add_format_argument(p, ("table", "csv", "json"))
    p.set_defaults(func=run_list)

    p = sub.add_parser("summary", help="totals of income, expenses and net, by category")
    add_filter_arguments(p)
    p.add_argument("--currency", help="show the totals in this currency (default: the reporting currency)")
    add_format_argument(p)
    p.set_defaults(func=run_summary)

    p = sub.add_parser("edit", help="change fields of a transaction")
    p.add_argument("id")
    p.add_argument("--type", choices=("income", "expense"))
    p.add_argument("--amount")
    p.add_argument("--currency")
    p.add_argument("--category")
    p.add_argument("--date")
    p.add_argument("--tag", dest="tags", action="append", metavar="T", help="replaces the tags (repeatable)")
    p.add_argument("--no-tags", action="store_true", help="remove every tag")
    p.add_argument("--note")
    p.add_argument("--account", help="move it to this account")
    _add_split_arguments(p)
    p.add_argument("--unsplit", metavar="CATEGORY", help="make a split transaction whole again, in CATEGORY")
    p.add_argument("--no-original", action="store_true", help="forget the original amount")
    p.add_argument("--force", action="store_true", help="confirm changing a reconciled transaction")
    p.set_defaults(func=run_edit)

    p = sub.add_parser("delete", help="delete a transaction (a transfer: both sides)")
    p.add_argument("id")
    p.add_argument("--force", action="store_true", help="confirm deleting a reconciled transaction")
    p.set_defaults(func=run_delete)

    p = sub.add_parser("undo", help="undo the last change")
    p.set_defaults(func=run_undo)

    p = sub.add_parser("backups", help="list, create or restore backups")
    bsub = p.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    b = bsub.add_parser("list", help="backups, newest first")
    add_format_argument(b)
    b.set_defaults(func=run_backups_list)
    b = bsub.add_parser("create", help="make a backup now")
    b.set_defaults(func=run_backups_create)
    b = bsub.add_parser("restore", help="replace the ledger with a backup (the current state is backed up first)")
    b.add_argument("name")
    b.set_defaults(func=run_backups_restore)


def _add_split_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--split",
        dest="splits",
        action="append",
        metavar="CATEGORY=AMOUNT[:NOTE]",
        help="one line of a split transaction (repeat, two or more lines summing to the amount; #words in the "
        "note are the line's tags)",
    )
    p.add_argument("--original", metavar="'AMOUNT CUR'", help="what it cost in another currency, e.g. '41.00 EUR'")


def _split_and_original(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--split`` lines and the ``--original`` amount given, as fields of :meth:`Ledger.add`/``update``."""
    from tracker.cli.common import original_amount, split_line

    fields: dict[str, Any] = {}
    if args.splits:
        fields["splits"] = [split_line(args, text) for text in args.splits]
    if args.original:
        fields["original_amount"], fields["original_currency"] = original_amount(args, args.original)
    return fields


def run_add(args: argparse.Namespace) -> int:
    if args.category is None and not args.splits:
        from tracker.errors import TrackerError

        raise TrackerError("--category is required (or give two or more --split CATEGORY=AMOUNT lines)")
    ledger = open_ledger(args)
    tx = ledger.add(
        args.type,
        typed_amount(args, args.amount),
        **_split_and_original(args),
        category=args.category,
        date=args.date,
        tags=args.tags,
        note=args.note,
        currency=args.currency,
        account=args.account,
        cleared=args.cleared,
    )
    print(tx.id)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from tracker.export import text_cells, write_csv
    from tracker.model import LIST_FIELDS

    ledger = open_ledger(args)
    txs = ledger.transactions(filter_from_args(args))  # the stored columns, filtered: no DataFrame
    if args.format == "json":
        rows = [tx.to_json() for tx in txs]
        for tx, row in zip(txs, rows, strict=True):
            if tx.type == "transfer":  # this side's account, and where the money went or came from
                row["counter_account"] = ledger.get(tx.link).account
        print_json(rows)
    elif args.format == "csv":
        write_csv(sys.stdout, txs, lineterminator="\n")  # the export's columns and neutralisation
    else:
        table = []
        for tx in txs:
            table.append(text_cells(tx.to_json(), LIST_FIELDS))
            for line in tx.splits:  # each line under its transaction: "  ↳ Groceries  70.00"
                shown = {**dict.fromkeys(LIST_FIELDS, ""), **line.to_json(tx.currency)}
                table.append(text_cells({**shown, "category": f"  ↳ {line.category}"}, LIST_FIELDS))
        print_table(table, LIST_FIELDS, right=(LIST_FIELDS.index("amount"),))
        print(plural(len(txs), "transaction"))
    return 0


def summarize(
    rows: Rows, currency: str, keep: np.ndarray | None = None, book: RateBook | None = None
) -> dict[str, Any]:
    """Totals in exact minor units: the top level in ``currency``, each currency's own under ``by_currency``.

    The totals are :mod:`tracker.rows`' (the dashboard's and the reports'), over the stored columns or a frame;
    over lines (:meth:`tracker.rows.Rows.lines`) ``by_category`` counts each line in its category. ``keep``
    (default all) marks the rows counted. With ``book`` the top level converts every row into ``currency``
    (:func:`tracker.conversion.convert_rows`) and says what it left out (``unconverted``, ``stale``: rows per
    currency); without it the top level counts the rows in ``currency`` only.
    """
    import numpy as np

    keep = np.ones(len(rows), dtype=bool) if keep is None else keep
    masks = {code: rows.in_currency(code) & keep for code in sorted(str(c) for c in rows.currency.values)}
    per = {code: _totals(rows, mask, code) for code, mask in masks.items() if mask.any()}
    if book is None:
        main = per.get(currency) or _totals(rows, np.zeros(len(rows), dtype=bool), currency)
        return {**main, "count": rows.transactions_in(keep), "by_currency": per}
    from tracker.conversion import convert_rows, left_out

    converted = convert_rows(rows, currency, book)
    main = _totals(converted, converted.in_currency(currency) & keep, currency)
    return {**main, "count": rows.transactions_in(keep), **left_out(converted, keep).to_json(), "by_currency": per}


def _totals(rows: Rows, mine: np.ndarray, code: str) -> dict[str, Any]:
    """Income, expenses, net, count and spending by category of the rows of ``mine`` (all in ``code``)."""
    from tracker.money import format_plain
    from tracker.rows import grouped, sums

    total = sums(rows, mine)
    names, minor, _ = grouped(rows, rows.category, mine & rows.expense)
    ordered = sorted(
        zip(map(str, names), minor.tolist(), strict=True), key=lambda kv: (-kv[1], kv[0].casefold(), kv[0])
    )
    return {
        "currency": code,
        "income": format_plain(total.income, code),
        "expense": format_plain(total.expenses, code),
        "net": format_plain(total.income - total.expenses, code),
        "count": total.count,
        "by_category": {cat: format_plain(m, code) for cat, m in ordered},
    }


def run_summary(args: argparse.Namespace) -> int:
    from tracker.conversion import rate_book, reporting_currency
    from tracker.filters import filter_mask
    from tracker.money import normalize_currency
    from tracker.rows import StoredRows

    ledger = open_ledger(args)
    flt = filter_from_args(args)
    lines = StoredRows(ledger.select(flt)).lines()  # each line of a split transaction in its own category
    target = normalize_currency(args.currency) if args.currency else reporting_currency(ledger)
    result = summarize(lines, target, filter_mask(lines, flt), rate_book(ledger))
    if args.format == "json":
        print_json(result)
        return 0
    blocks = list(result["by_currency"].values())
    if set(result["by_currency"]) - {target}:
        blocks.insert(0, {**result, "title": f"All, in {target}"})  # every currency converted
    for block in blocks or [result]:
        code = block["currency"]
        print_table(
            [
                ["Income", block["income"]],
                ["Expenses", block["expense"]],
                ["Net", block["net"]],
                ["Transactions", block["count"]],
            ],
            [block.get("title", "Total"), code],
            right=(1,),
        )
        if block["by_category"]:
            print()
            print_table([[c, m] for c, m in block["by_category"].items()], ["Category", f"Spent ({code})"], right=(1,))
        print()
    if not result["by_currency"]:
        print("No transactions match.")
    from tracker.conversion import LeftOut

    for line in LeftOut(target, result["unconverted"], result["stale"]).messages():
        print(line)
    return 0


def run_edit(args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {
        k: getattr(args, k)
        for k in ("type", "amount", "currency", "category", "date", "note", "account")
        if getattr(args, k) is not None
    }
    if args.amount is not None:
        changes["amount"] = typed_amount(args, args.amount)
    if args.no_tags:
        changes["tags"] = []
    elif args.tags is not None:
        changes["tags"] = args.tags
    changes.update(_split_and_original(args))
    if args.unsplit is not None:
        changes.update(splits=[], category=args.unsplit)
    if args.no_original:
        changes.update(original_amount=None, original_currency="")
    if not changes:
        from tracker.errors import ValidationError

        raise ValidationError("edit", args.id, "needs at least one field to change (for example --amount 12.50)")
    tx = open_ledger(args).update(args.id, force=args.force, **changes)
    print(tx.id)
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from tracker.money import format_plain

    tx = open_ledger(args).delete(args.id, force=args.force)
    print(
        f"deleted {tx.id} ({tx.date.isoformat()} {tx.category} {format_plain(tx.amount_minor, tx.currency)} {tx.currency})"
    )
    return 0


def run_undo(args: argparse.Namespace) -> int:
    label = open_ledger(args).undo()
    print(f"undone: {label}" if label else "nothing to undo")
    return 0


def run_backups_list(args: argparse.Namespace) -> int:
    backend = open_ledger_for_backups(args)
    found = backend.list_backups()
    if args.format == "json":
        print_json(
            [
                {"name": b.name, "created_at": b.created_at.isoformat(), "size": b.size, "reason": b.reason}
                for b in found
            ]
        )
    elif found:
        rows = [[b.name, b.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"), f"{b.size:,}", b.reason] for b in found]
        print_table(rows, ["name", "created", "bytes", "reason"], right=(2,))
    else:
        print(f"no backups yet in {backend.describe()}/backups")
    return 0


def run_backups_create(args: argparse.Namespace) -> int:
    info = open_ledger(args).create_backup()
    print(info.name)
    return 0


def run_backups_restore(args: argparse.Namespace) -> int:
    from tracker.ledger import restore_backup

    restore_backup(args.data_dir, args.name)
    print(f"restored {args.name}")
    return 0


def open_ledger_for_backups(args: argparse.Namespace) -> Any:
    """The storage backend alone: listing backups must work even when the ledger itself is unreadable."""
    from tracker.ledger import open_backend

    return open_backend(args.data_dir)
