"""Helpers shared by the subcommands: the ledger, the filter options, and output formats."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decimal import Decimal

    from tracker.filters import Filter
    from tracker.ledger import Ledger

Subparsers = argparse._SubParsersAction
"""What each command module's ``register(sub)`` receives."""


def open_ledger(args: argparse.Namespace) -> Ledger:
    """The ledger of ``--data-dir`` (already exported as ``EXPENSE_TRACKER_DATA_DIR``) or the default, opened once."""
    from tracker.ledger import Ledger

    ledger = getattr(args, "_ledger", None)
    if ledger is None:
        from tracker.sync.plugin import send_after_exit

        send_after_exit()  # a change this command saves is sent by a sync of its own when it is done
        ledger = Ledger(getattr(args, "data_dir", None))
        args._ledger = ledger  # one load per command, shared by auto-posting and the command itself
    return ledger


def typed_amount(args: argparse.Namespace, text: str | None, field: str = "amount") -> Decimal | None:
    """An amount given on the command line, read in the ledger's number format (Settings), like the app's forms."""
    if text is None:
        return None
    from tracker.money import parse_user_amount

    return parse_user_amount(text, open_ledger(args).settings["number_format"], field=field)


def split_line(args: argparse.Namespace, text: str) -> dict[str, Any]:
    """One ``--split`` value, ``CATEGORY=AMOUNT[:NOTE]`` (words of the note starting with ``#`` are the line's
    tags: ``Gifts=5:for Ann #birthday``), as a line for :func:`tracker.model.clean_splits`."""
    from tracker.errors import ValidationError

    category, eq, rest = text.partition("=")
    if not eq or not category.strip():
        raise ValidationError("split", text, "must be CATEGORY=AMOUNT[:NOTE], for example Groceries=70")
    amount, _, note = rest.partition(":")
    words = note.split()
    return {
        "category": category.strip(),
        "amount": typed_amount(args, amount.strip(), field="split amount"),
        "tags": [w for w in words if w.startswith("#")],
        "note": " ".join(w for w in words if not w.startswith("#")),
    }


def original_amount(args: argparse.Namespace, text: str) -> tuple[Decimal, str]:
    """An ``--original`` value, ``"41.00 EUR"`` (or ``"EUR 41.00"``): the amount and the currency code."""
    from tracker.errors import ValidationError
    from tracker.money import normalize_currency

    parts = text.split()
    if len(parts) != 2:
        raise ValidationError("original", text, "must be an amount and a currency, for example '41.00 EUR'")
    amount, code = parts if not parts[0].isalpha() else parts[::-1]
    found = typed_amount(args, amount, field="original")
    assert found is not None
    return found, normalize_currency(code)


def plural(n: int, word: str) -> str:
    """``1 transaction``, ``2 transactions``."""
    return f"{n} {word}{'s' if n != 1 else ''}"


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """The filter options shared by ``list``, ``summary``, ``report`` and ``export``."""
    g = parser.add_argument_group("filters")
    g.add_argument("--from", dest="start", metavar="DATE", help="first date, YYYY-MM-DD (inclusive)")
    g.add_argument("--to", dest="end", metavar="DATE", help="last date, YYYY-MM-DD (inclusive)")
    g.add_argument(
        "--category", dest="categories", action="append", metavar="C", help="keep this category (repeatable)"
    )
    g.add_argument("--tag", dest="tags", action="append", metavar="T", help="keep this tag (repeatable)")
    g.add_argument(
        "--tag-mode", choices=("any", "all"), default="any", help="rows with any (default) or all of the tags"
    )
    g.add_argument("--type", choices=("income", "expense", "transfer"), help="only income, expenses or transfers")
    g.add_argument("--account", dest="accounts", action="append", metavar="A", help="keep this account (repeatable)")
    g.add_argument("--search", metavar="TEXT", help="text in the note or category")
    g.add_argument("--min", dest="min_amount", metavar="AMOUNT", help="smallest amount (inclusive)")
    g.add_argument("--max", dest="max_amount", metavar="AMOUNT", help="largest amount (inclusive)")


def filter_from_args(args: argparse.Namespace) -> Filter:
    """The validated :class:`Filter` of the filter options."""
    from tracker.filters import Filter

    return Filter.build(
        start=args.start,
        end=args.end,
        categories=args.categories,
        tags=args.tags,
        tag_mode=args.tag_mode,
        type=args.type,
        text=args.search,
        min_amount=typed_amount(args, args.min_amount, "min"),
        max_amount=typed_amount(args, args.max_amount, "max"),
        accounts=args.accounts,
    )


def add_format_argument(parser: argparse.ArgumentParser, choices: Sequence[str] = ("table", "json")) -> None:
    """``--format`` with ``table`` as the default."""
    parser.add_argument("--format", choices=tuple(choices), default="table", help="output format (default: table)")


def print_json(data: Any) -> None:
    """JSON on stdout, UTF-8, with a trailing newline (``\\uXXXX`` escapes where the output's encoding cannot hold a character)."""
    import json

    text = json.dumps(data, ensure_ascii=False, indent=2)
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        text = json.dumps(data, ensure_ascii=True, indent=2)  # still exact JSON
    sys.stdout.write(text + "\n")


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], right: Sequence[int] = ()) -> None:
    """A plain aligned text table (columns in ``right`` are right-aligned)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = io.StringIO()
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        out.write("  ".join(parts).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")
    sys.stdout.write(out.getvalue())
