"""``recurring``: transactions that repeat (add, list, edit, delete, run).

Also :func:`auto_post`, which the CLI entry point calls before a subcommand to post the recurring
transactions that fell due while nothing ran.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TYPE_CHECKING, Any

from tracker.cli.common import (
    Subparsers,
    add_format_argument,
    open_ledger,
    plural,
    print_json,
    print_table,
    typed_amount,
)
from tracker.errors import TrackerError, one_line

if TYPE_CHECKING:
    from tracker.ledger import Ledger

AUTO_POST_SKIP = frozenset({"recurring", "undo", "backups", "serve"})
"""Subcommands before which :func:`auto_post` does nothing: ``recurring`` reports its own posting, ``undo``
must undo the user's last change (not an automatic one), ``backups`` must work on unreadable data, and
``serve`` posts from the app itself."""


def register(sub: Subparsers) -> None:
    """Add ``recurring`` and its actions."""
    p = sub.add_parser("recurring", help="recurring transactions: add, list, delete, run")
    rsub = p.add_subparsers(dest="recurring_command", metavar="ACTION", required=True)

    r = rsub.add_parser("add", help="a transaction that repeats; prints the template id and posts what is due")
    r.add_argument("type", choices=("income", "expense"))
    r.add_argument("amount", help="amount as written, e.g. 1200 or 9.99")
    r.add_argument("--category", required=True)
    r.add_argument(
        "--every", default="month", metavar="INTERVAL", help="'month' (default), '2 weeks', '10 days', 'year'"
    )
    r.add_argument("--start", metavar="DATE", help="first occurrence, YYYY-MM-DD (default: today)")
    r.add_argument("--end", metavar="DATE", help="last possible occurrence, YYYY-MM-DD (default: none)")
    r.add_argument("--tag", dest="tags", action="append", default=[], metavar="T", help="a tag (repeatable)")
    r.add_argument("--note", default="")
    r.add_argument("--currency", help="ISO 4217 code (default: the account's)")
    r.add_argument("--account", help="the account its transactions go into (default: the default account)")
    r.add_argument("--no-post", action="store_true", help="do not post the occurrences already due now")
    r.set_defaults(func=run_recurring_add)

    r = rsub.add_parser("list", help="the templates with their next dates")
    r.add_argument(
        "--upcoming", type=int, default=0, metavar="DAYS", help="instead, list occurrences due in the next DAYS days"
    )
    add_format_argument(r)
    r.set_defaults(func=run_recurring_list)

    r = rsub.add_parser(
        "edit", help="change a template's future occurrences (what it posted stays); posts what is then due"
    )
    r.add_argument("id", help="template id (or a unique prefix of 4+ characters)")
    r.add_argument("--type", choices=("income", "expense"))
    r.add_argument("--amount")
    r.add_argument("--category")
    r.add_argument("--currency")
    r.add_argument("--account", help="the account its future transactions go into")
    r.add_argument("--every", metavar="INTERVAL", help="a new schedule: 'month', '2 weeks', ...")
    r.add_argument("--start", metavar="DATE", help="a new schedule from DATE (after the last posted occurrence)")
    ends = r.add_mutually_exclusive_group()
    ends.add_argument("--end", metavar="DATE", help="last possible occurrence, YYYY-MM-DD")
    ends.add_argument("--no-end", action="store_true", help="repeat without an end")
    tags = r.add_mutually_exclusive_group()
    tags.add_argument("--tag", dest="tags", action="append", metavar="T", help="replace the tags (repeatable)")
    tags.add_argument("--no-tags", action="store_true", help="remove all tags")
    r.add_argument("--note")
    r.add_argument("--no-post", action="store_true", help="do not post the occurrences due after the change")
    r.set_defaults(func=run_recurring_edit)

    r = rsub.add_parser("delete", help="delete a template (the transactions it posted stay)")
    r.add_argument("id", help="template id (or a unique prefix of 4+ characters)")
    r.set_defaults(func=run_recurring_delete)

    r = rsub.add_parser("run", help="post every occurrence that is due; prints how many were posted")
    r.add_argument("--through", metavar="DATE", help="post what is due up to this date (default: today)")
    add_format_argument(r)
    r.set_defaults(func=run_recurring_run)


def run_recurring_add(args: argparse.Namespace) -> int:
    from tracker.accounts import default_account, get_account
    from tracker.recurring import add_template, make_template

    ledger = open_ledger(args)
    account = get_account(ledger, args.account) if args.account else default_account(ledger)
    template = make_template(
        type=args.type,
        amount=typed_amount(args, args.amount),
        category=args.category,
        currency=args.currency or account.currency,
        account=args.account,
        every=args.every,
        start=args.start,
        end=args.end,
        tags=args.tags,
        note=args.note,
    )
    add_template(ledger, template)
    print(template.id)
    _post_unless_asked_not_to(args, ledger)
    return 0


def _post_unless_asked_not_to(args: argparse.Namespace, ledger: Ledger) -> None:
    """After an add or an edit: post what is now due (unless ``--no-post``) and say how many."""
    from tracker.recurring import post_due

    if not args.no_post:
        posted = post_due(ledger)
        if posted:
            print(f"posted {plural(posted, 'due transaction')}")


def run_recurring_list(args: argparse.Namespace) -> int:
    from tracker.money import format_plain
    from tracker.recurring import load_templates, upcoming_all

    templates = load_templates(open_ledger(args))
    today = dt.date.today()
    if args.upcoming:
        pairs = upcoming_all(templates, today, days=args.upcoming)
        if args.format == "json":
            print_json([{"date": d.isoformat(), **t.to_json(today)} for d, t in pairs])
        else:
            rows = [
                [d.isoformat(), t.type, format_plain(t.amount_minor, t.currency), t.currency, t.category, t.id]
                for d, t in pairs
            ]
            print_table(rows, ["date", "type", "amount", "cur", "category", "template"], right=(2,))
        return 0
    if args.format == "json":
        print_json([t.to_json(today) for t in templates])
        return 0
    if not templates:
        print("no recurring transactions yet (add one with 'expense-tracker recurring add')")
        return 0
    rows = []
    for t in templates:
        j = t.to_json(today)
        rows.append(
            [
                t.id,
                t.type,
                j["amount"],
                t.currency,
                t.category,
                t.interval_text,
                j["start"],
                j["end"] or "",
                j["next"] or "finished",
                j["posted"],
            ]
        )
    print_table(
        rows, ["id", "type", "amount", "cur", "category", "every", "start", "end", "next", "posted"], right=(2, 9)
    )
    return 0


def run_recurring_edit(args: argparse.Namespace) -> int:
    from tracker.money import format_plain
    from tracker.recurring import update_template

    changes: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("type", "amount", "category", "currency", "every", "start", "end", "note", "account")
        if getattr(args, name) is not None
    }
    if args.amount is not None:
        changes["amount"] = typed_amount(args, args.amount)
    if args.no_end:
        changes["end"] = None
    if args.no_tags:
        changes["tags"] = []
    elif args.tags is not None:
        changes["tags"] = args.tags
    ledger = open_ledger(args)
    before, after = update_template(ledger, args.id, **changes)
    if after == before:
        print(f"recurring {after.id} unchanged")
        return 0
    nxt = after.to_json()["next"]
    print(
        f"edited recurring {after.id}: {format_plain(after.amount_minor, after.currency)} {after.currency} "
        f"{after.category} every {after.interval_text}, next {nxt or 'none (finished)'}; "
        "posted transactions stay as they are"
    )
    _post_unless_asked_not_to(args, ledger)
    return 0


def run_recurring_delete(args: argparse.Namespace) -> int:
    from tracker.recurring import delete_template

    gone = delete_template(open_ledger(args), args.id)
    print(f"deleted recurring {gone.id} ({gone.category} every {gone.interval_text}); its posted transactions stay")
    return 0


def run_recurring_run(args: argparse.Namespace) -> int:
    from tracker.model import clean_date
    from tracker.recurring import post_due

    through = clean_date(args.through) if args.through else dt.date.today()
    posted = post_due(open_ledger(args), through)
    if args.format == "json":
        print_json({"posted": posted, "through": through.isoformat()})
    else:
        print(f"posted {plural(posted, 'recurring transaction')}")
    return 0


def auto_post(args: argparse.Namespace, today: dt.date | None = None) -> int:
    """Post due recurring transactions before a subcommand runs (see :data:`AUTO_POST_SKIP`).

    Never fails the command: a problem is reported on stderr and the command goes on (it will then
    report the problem itself if it touches the ledger). Returns how many were posted.
    """
    if getattr(args, "command", None) in AUTO_POST_SKIP or getattr(args, "command", None) is None:
        return 0
    from tracker.errors import StorageError
    from tracker.recurring import post_due

    try:
        posted = post_due(open_ledger(args), today)
    except StorageError:
        return 0  # unreadable or unwritable data: the command reports it itself (one line), or does not need to write
    except TrackerError as exc:
        print(f"expense-tracker: recurring transactions not posted: {one_line(str(exc))}", file=sys.stderr)
        return 0
    if posted:
        print(f"expense-tracker: posted {plural(posted, 'recurring transaction')} that fell due", file=sys.stderr)
    return posted
