"""``budget``: monthly budgets per category (set, status, list, delete)."""

from __future__ import annotations

import argparse

from tracker.cli.common import Subparsers, add_format_argument, open_ledger, print_json, print_table, typed_amount


def register(sub: Subparsers) -> None:
    """Add ``budget`` and its actions."""
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
    from tracker.money import format_plain

    setting = set_budget(
        open_ledger(args),
        args.category,
        typed_amount(args, args.amount),
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
    from tracker.money import format_plain

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
