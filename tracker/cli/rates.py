"""Exchange rates on the command line: ``rates add``, ``rates import``, ``rates list``, ``rates delete``.

Thin over :mod:`tracker.rates`. A rate is typed in the machine form (``1.0823``, a point before the decimals)
whatever the ledger's number format: ``1.082`` must never be read as 1082.
"""

from __future__ import annotations

import argparse

from tracker.cli.common import Subparsers, add_format_argument, open_ledger, print_json, print_table


def register(sub: Subparsers) -> None:
    """Add the ``rates`` subcommand and its actions."""
    p = sub.add_parser("rates", help="exchange rates: add, import, list or delete them")
    rsub = p.add_subparsers(dest="rates_command", metavar="ACTION", required=True)
    a = rsub.add_parser("add", help="store a rate: on DATE, 1 BASE is RATE QUOTE (replaces that day's rate)")
    a.add_argument("date", help="YYYY-MM-DD")
    a.add_argument("base", help="ISO 4217 code, for example EUR")
    a.add_argument("quote", help="ISO 4217 code, for example USD")
    a.add_argument("rate", help="how many QUOTE one BASE is, for example 1.0823")
    a.set_defaults(func=run_rates_add)
    a = rsub.add_parser(
        "import", help="store every rate of a file: the ECB's eurofxref-hist.csv or a date,base,quote,rate CSV"
    )
    a.add_argument("file")
    add_format_argument(a)
    a.set_defaults(func=run_rates_import)
    a = rsub.add_parser("list", help="the stored rates, by pair and date")
    a.add_argument("--base", metavar="CODE", help="only rates of this base currency")
    a.add_argument("--quote", metavar="CODE", help="only rates into this currency")
    add_format_argument(a)
    a.set_defaults(func=run_rates_list)
    a = rsub.add_parser("delete", help="remove one stored rate")
    a.add_argument("date", help="YYYY-MM-DD")
    a.add_argument("base")
    a.add_argument("quote")
    a.set_defaults(func=run_rates_delete)


def run_rates_add(args: argparse.Namespace) -> int:
    from tracker.rates import add_rate, rate_text

    rate, before = add_rate(open_ledger(args), args.date, args.base, args.quote, args.rate)
    shown = f"{rate.base}/{rate.quote} {rate.day.isoformat()} {rate_text(rate.rate)}"
    if before == rate.rate:
        shown += " (unchanged)"
    elif before is not None:
        shown += f" (was {rate_text(before)})"
    print(shown)
    return 0


def run_rates_import(args: argparse.Namespace) -> int:
    from tracker.rates import import_rates

    done = import_rates(open_ledger(args), args.file)
    if args.format == "json":
        print_json(done.to_json())
    elif done.changed:
        print(
            f"imported {_rates(done.added + done.replaced)} from {args.file} ({done.layout}): "
            f"{done.added:,} new, {done.replaced:,} replaced, {done.unchanged:,} already stored"
        )
    else:
        print(f"nothing new in {args.file}: {_rates(done.unchanged)} already stored")
    return 0


def _rates(n: int) -> str:
    return f"{n:,} rate{'s' if n != 1 else ''}"


def run_rates_list(args: argparse.Namespace) -> int:
    from tracker.money import normalize_currency
    from tracker.rates import rate_book

    base = normalize_currency(args.base) if args.base else None
    quote = normalize_currency(args.quote) if args.quote else None
    found = [r.to_json() for r in rate_book(open_ledger(args)).entries(base, quote)]
    if args.format == "json":
        print_json(found)
        return 0
    print_table([[r["date"], r["base"], r["quote"], r["rate"]] for r in found], ["date", "base", "quote", "rate"])
    print(_rates(len(found)))
    return 0


def run_rates_delete(args: argparse.Namespace) -> int:
    from tracker.rates import clean_pair, delete_rate, rate_text

    before = delete_rate(open_ledger(args), args.date, args.base, args.quote)
    base, quote = clean_pair(args.base, args.quote)
    print(f"deleted {base}/{quote} {args.date.strip()} ({rate_text(before)})")
    return 0
