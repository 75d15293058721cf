"""``category`` and ``tag``: rename, merge, colour and list the names transactions are filed under."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tracker.cli.common import Subparsers, add_format_argument, open_ledger, plural, print_json, print_table

if TYPE_CHECKING:
    from tracker.categories import Change


def register(sub: Subparsers) -> None:
    """Add ``category`` and ``tag`` and their actions."""
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


def _report(change: Change) -> None:
    also = change.also()
    tail = f" (also {', '.join(also)})" if also else ""
    print(
        f"{change.label}: {plural(change.transactions, 'transaction')} changed{tail}; 'expense-tracker undo' reverts it"
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
    frame = ledger.lines()  # a split transaction counts in each of its lines' categories
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
