"""Planning subcommands: ``budget``, ``recurring``, ``add-text``, ``category`` and ``tag``.

Also :func:`auto_post`, which the CLI entry point calls before a subcommand to post the recurring
transactions that fell due while nothing ran.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from tracker.cli.common import add_format_argument, open_ledger, print_json, print_table
from tracker.errors import TrackerError
from tracker.model import clean_date
from tracker.money import format_plain

AUTO_POST_SKIP = frozenset({"recurring", "undo", "backups", "serve"})
"""Subcommands before which :func:`auto_post` does nothing: ``recurring`` reports its own posting, ``undo``
must undo the user's last change (not an automatic one), ``backups`` must work on unreadable data, and
``serve`` posts from the app itself."""

Subparsers = argparse._SubParsersAction


def register(sub: Subparsers) -> None:
    """Add the planning subcommands."""
    _register_budget(sub)
    _register_recurring(sub)
    _register_add_text(sub)
    _register_names(sub)


# --- budget ---------------------------------------------------------------------------------------------------


def _register_budget(sub: Subparsers) -> None:
    p = sub.add_parser("budget", help="monthly budgets per category: set, status, list, delete")
    bsub = p.add_subparsers(dest="budget_command", metavar="ACTION", required=True)

    b = bsub.add_parser("set", help="set a category's budget for a month, or every month from a month on")
    b.add_argument("category")
    b.add_argument("amount", help="budget amount, e.g. 400 or 12.50 (0 allowed)")
    b.add_argument("--month", metavar="YYYY-MM", help="the month (default: this month)")
    b.add_argument("--every-month", action="store_true", help="apply to that month and every month after it")
    b.add_argument("--rollover", action="store_true", help="carry what is left (or overspent) into the budget")
    b.add_argument("--currency", help="ISO 4217 code (default: from settings)")
    b.set_defaults(func=run_budget_set)

    b = bsub.add_parser("status", help="spent, left and projection per budgeted category")
    b.add_argument("--month", metavar="YYYY-MM", help="the month (default: this month)")
    add_format_argument(b)
    b.set_defaults(func=run_budget_status)

    b = bsub.add_parser("list", help="the budget settings, oldest first (later ones override earlier ones)")
    add_format_argument(b)
    b.set_defaults(func=run_budget_list)

    b = bsub.add_parser("delete", help="remove a category's budget: all of it, one month, or from a month on")
    b.add_argument("category")
    b.add_argument("--month", metavar="YYYY-MM", help="only this month (with --every-month: from this month on)")
    b.add_argument("--every-month", action="store_true", help="no budget from --month on")
    b.set_defaults(func=run_budget_delete)


def run_budget_set(args: argparse.Namespace) -> int:
    from tracker.budgets import month_text, set_budget

    setting = set_budget(
        open_ledger(args),
        args.category,
        args.amount,
        month=args.month,
        every_month=args.every_month,
        rollover=args.rollover,
        currency=args.currency,
    )
    scope = "every month from" if setting.every_month else "in"
    extra = " with rollover" if setting.rollover else ""
    amount = format_plain(setting.amount_minor or 0, setting.currency)
    print(f"budget {setting.category}: {amount} {setting.currency} {scope} {month_text(setting.month)}{extra}")
    return 0


def run_budget_status(args: argparse.Namespace) -> int:
    from tracker.budgets import month_text, parse_month, status

    month = parse_month(args.month)
    rows = status(open_ledger(args), month)
    if args.format == "json":
        print_json([r.to_json() for r in rows])
        return 0
    if not rows:
        print(f"no budgets for {month_text(month)} (set one with 'expense-tracker budget set CATEGORY AMOUNT')")
        return 0
    table = []
    for r in rows:
        j = r.to_json()
        flag = "OVER" if r.over else "heading over" if r.heading_over else "ok"
        used = f"{r.percent}%" if r.percent is not None else "-"
        table.append([r.category, j["currency"], j["budget"], j["spent"], j["left"], used, j["projected"], flag])
    print(f"Budgets for {month_text(month)}")
    print_table(
        table, ["category", "cur", "budget", "spent", "left", "used", "projected", "status"], right=(2, 3, 4, 5, 6)
    )
    return 0


def run_budget_list(args: argparse.Namespace) -> int:
    from tracker.budgets import load_settings, month_text

    settings = load_settings(open_ledger(args))
    if args.format == "json":
        print_json([s.to_json() for s in settings])
        return 0
    if not settings:
        print("no budgets yet (set one with 'expense-tracker budget set CATEGORY AMOUNT')")
        return 0
    table = [
        [
            s.category,
            "none" if s.amount_minor is None else format_plain(s.amount_minor, s.currency),
            s.currency,
            ("from " if s.every_month else "only ") + month_text(s.month),
            "yes" if s.rollover else "",
        ]
        for s in settings
    ]
    print_table(table, ["category", "amount", "cur", "months", "rollover"], right=(1,))
    return 0


def run_budget_delete(args: argparse.Namespace) -> int:
    from tracker.budgets import delete_budget

    if args.every_month and not args.month:
        from tracker.errors import ValidationError

        raise ValidationError("every-month", "", "needs --month YYYY-MM (the first month without a budget)")
    label = delete_budget(open_ledger(args), args.category, month=args.month, every_month=args.every_month)
    print(label.removeprefix("budget: ").replace("delete", "deleted budget of", 1))
    return 0


# --- recurring ------------------------------------------------------------------------------------------------


def _register_recurring(sub: Subparsers) -> None:
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
    r.add_argument("--currency", help="ISO 4217 code (default: from settings)")
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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def run_recurring_add(args: argparse.Namespace) -> int:
    from tracker.recurring import add_template, make_template, post_due

    ledger = open_ledger(args)
    template = make_template(
        type=args.type,
        amount=args.amount,
        category=args.category,
        currency=args.currency or ledger.default_currency,
        every=args.every,
        start=args.start,
        end=args.end,
        tags=args.tags,
        note=args.note,
    )
    add_template(ledger, template)
    print(template.id)
    if not args.no_post:
        posted = post_due(ledger)
        if posted:
            print(f"posted {_plural(posted, 'due transaction')}")
    return 0


def run_recurring_list(args: argparse.Namespace) -> int:
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
    from tracker.recurring import post_due, update_template

    changes: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("type", "amount", "category", "currency", "every", "start", "end", "note")
        if getattr(args, name) is not None
    }
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
    if not args.no_post:
        posted = post_due(ledger)
        if posted:
            print(f"posted {_plural(posted, 'due transaction')}")
    return 0


def run_recurring_delete(args: argparse.Namespace) -> int:
    from tracker.recurring import delete_template

    gone = delete_template(open_ledger(args), args.id)
    print(f"deleted recurring {gone.id} ({gone.category} every {gone.interval_text}); its posted transactions stay")
    return 0


def run_recurring_run(args: argparse.Namespace) -> int:
    from tracker.recurring import post_due

    through = clean_date(args.through) if args.through else dt.date.today()
    posted = post_due(open_ledger(args), through)
    if args.format == "json":
        print_json({"posted": posted, "through": through.isoformat()})
    else:
        print(f"posted {_plural(posted, 'recurring transaction')}")
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
        print(f"expense-tracker: recurring transactions not posted: {exc}", file=sys.stderr)
        return 0
    if posted:
        print(f"expense-tracker: posted {_plural(posted, 'recurring transaction')} that fell due", file=sys.stderr)
    return posted


# --- add-text -------------------------------------------------------------------------------------------------


def _register_add_text(sub: Subparsers) -> None:
    p = sub.add_parser(
        "add-text",
        help='add a transaction from one line of text, e.g. "coffee 4.50 yesterday #work"',
        description="Words: one amount (+ marks income), a date (today, yesterday, monday, 2026-11-01), "
        "#tags, @Category; the rest is the note and guesses the category.",
    )
    p.add_argument("text", nargs="+", help="the line (quoting it is optional)")
    p.add_argument("--dry-run", action="store_true", help="show what would be added, save nothing")
    add_format_argument(p)
    p.set_defaults(func=run_add_text)


def run_add_text(args: argparse.Namespace) -> int:
    from tracker.quickentry import preview, save

    ledger = open_ledger(args)
    entry = preview(ledger, " ".join(args.text))
    tx_id = None if args.dry_run else save(ledger, entry).id
    if args.format == "json":
        print_json({**entry.to_json(), "id": tx_id, "saved": tx_id is not None})
        return 0
    print(entry.summary())
    print(f"added {tx_id}" if tx_id else "dry run: nothing saved")
    return 0


# --- category and tag -----------------------------------------------------------------------------------------


def _register_names(sub: Subparsers) -> None:
    p = sub.add_parser("category", help="rename, merge, colour and list categories")
    csub = p.add_subparsers(dest="category_command", metavar="ACTION", required=True)
    c = csub.add_parser("rename", help="rename a category on every transaction, budget and template")
    c.add_argument("old")
    c.add_argument("new")
    c.set_defaults(func=run_category_rename)
    c = csub.add_parser("merge", help="fold categories into one (new or existing)")
    c.add_argument("sources", nargs="+", metavar="SOURCE")
    c.add_argument("--into", required=True, metavar="TARGET")
    c.set_defaults(func=run_category_merge)
    c = csub.add_parser("color", help="set (or show, or --clear) the colour charts use for a category")
    c.add_argument("category")
    c.add_argument("color", nargs="?", help="#rrggbb")
    c.add_argument("--clear", action="store_true", help="remove the colour")
    c.set_defaults(func=run_category_color)
    c = csub.add_parser("list", help="categories with their number of transactions and colour")
    add_format_argument(c)
    c.set_defaults(func=run_category_list)

    p = sub.add_parser("tag", help="rename and merge tags")
    tsub = p.add_subparsers(dest="tag_command", metavar="ACTION", required=True)
    t = tsub.add_parser("rename", help="rename a tag on every transaction and template")
    t.add_argument("old")
    t.add_argument("new")
    t.set_defaults(func=run_tag_rename)
    t = tsub.add_parser("merge", help="replace tags by one tag (new or existing)")
    t.add_argument("sources", nargs="+", metavar="SOURCE")
    t.add_argument("--into", required=True, metavar="TARGET")
    t.set_defaults(func=run_tag_merge)


def _report(change: object) -> None:
    from tracker.categories import Change

    assert isinstance(change, Change)
    extra = []
    if change.budgets:
        extra.append(_plural(change.budgets, "budget setting"))
    if change.templates:
        extra.append(_plural(change.templates, "recurring template"))
    if change.rules:
        extra.append(_plural(change.rules, "import rule"))
    if change.colors:
        extra.append("the colour")
    tail = f" (also {', '.join(extra)})" if extra else ""
    print(
        f"{change.label}: {_plural(change.transactions, 'transaction')} changed{tail}; 'expense-tracker undo' reverts it"
    )


def run_category_rename(args: argparse.Namespace) -> int:
    from tracker.categories import rename_category

    _report(rename_category(open_ledger(args), args.old, args.new))
    return 0


def run_category_merge(args: argparse.Namespace) -> int:
    from tracker.categories import merge_categories

    _report(merge_categories(open_ledger(args), args.sources, args.into))
    return 0


def run_category_color(args: argparse.Namespace) -> int:
    from tracker.categories import category_colors, color_for, set_category_color

    ledger = open_ledger(args)
    if args.clear:
        set_category_color(ledger, args.category, None)
        print(f"removed the colour of {args.category}")
    elif args.color:
        value = set_category_color(ledger, args.category, args.color)
        print(f"{args.category}: {value}")
    else:
        print(color_for(category_colors(ledger), args.category) or "no colour set")
    return 0


def run_category_list(args: argparse.Namespace) -> int:
    from tracker.categories import category_colors, color_for

    ledger = open_ledger(args)
    frame = ledger.frame()
    counts = frame["category"].value_counts() if not frame.empty else {}
    colors = category_colors(ledger)
    rows = [
        {"category": c, "transactions": int(counts.get(c, 0)), "color": color_for(colors, c)}
        for c in ledger.categories()
    ]
    if args.format == "json":
        print_json(rows)
    else:
        print_table(
            [[r["category"], r["transactions"], r["color"] or ""] for r in rows],
            ["category", "transactions", "color"],
            right=(1,),
        )
    return 0


def run_tag_rename(args: argparse.Namespace) -> int:
    from tracker.categories import rename_tag

    _report(rename_tag(open_ledger(args), args.old, args.new))
    return 0


def run_tag_merge(args: argparse.Namespace) -> int:
    from tracker.categories import merge_tags

    _report(merge_tags(open_ledger(args), args.sources, args.into))
    return 0
