"""``add-text``: one transaction from one line of text (quick entry)."""

from __future__ import annotations

import argparse

from tracker.cli.common import Subparsers, add_format_argument, open_ledger, print_json


def register(sub: Subparsers) -> None:
    """Add ``add-text``."""
    p = sub.add_parser(
        "add-text",
        help='add a transaction from one line of text, e.g. "coffee 4.50 yesterday #work"',
        description="Words: one amount (+ marks income), a date (today, yesterday, monday, 2026-11-01), "
        "#tags, @Category; the rest is the note and guesses the category.",
    )
    p.add_argument("text", nargs="+", help="the line (quoting it is optional)")
    p.add_argument("--account", help="the account's name (default: the default account)")
    p.add_argument("--dry-run", action="store_true", help="show what would be added, save nothing")
    add_format_argument(p)
    p.set_defaults(func=run_add_text)


def run_add_text(args: argparse.Namespace) -> int:
    from tracker.quickentry import preview, save

    ledger = open_ledger(args)
    entry = preview(ledger, " ".join(args.text), account=args.account)
    tx_id = None if args.dry_run else save(ledger, entry).id
    if args.format == "json":
        print_json({**entry.to_json(), "id": tx_id, "saved": tx_id is not None})
        return 0
    print(entry.summary())
    print(f"added {tx_id}" if tx_id else "dry run: nothing saved")
    return 0
