"""``expense-tracker report [filters] --output FILE``: a PDF report or a PNG image of the dashboard."""

from __future__ import annotations

import argparse

from tracker.cli.common import add_filter_arguments, filter_from_args, open_ledger


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="write a PDF report or a PNG dashboard image of the filtered transactions",
        description=(
            "Write a report of the transactions the filters select. FILE ending in .pdf gets a KPI page "
            "(compared with the previous period of equal length) and one page per chart; .png gets one "
            "1600x1000 image of the dashboard. Without --from/--to the report covers the dates of the data."
        ),
    )
    add_filter_arguments(p)
    p.add_argument("--output", "-o", required=True, metavar="FILE", help="where to write the report (.pdf or .png)")
    p.add_argument(
        "--currency",
        metavar="CODE",
        help="currency to report in (default: the default currency, or the one in use if it has no transactions)",
    )
    p.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    """Validate the target first, then compute and write; print the path written."""
    import dataclasses
    import datetime as dt

    from tracker.accounts import net_worth_days
    from tracker.analysis import Period
    from tracker.charts.colors import category_colors
    from tracker.conversion import net_worth_in, rate_book, reporting_currency
    from tracker.filters import apply_filter
    from tracker.money import normalize_currency
    from tracker.report import check_output, describe_filter, write_report

    target = check_output(args.output)
    flt = filter_from_args(args)
    currency = normalize_currency(args.currency) if args.currency else None
    ledger = open_ledger(args)
    frame = apply_filter(ledger.lines(), dataclasses.replace(flt, start=None, end=None))
    period = Period.covering(frame, flt.start, flt.end)
    chosen = currency or reporting_currency(ledger)
    rates = rate_book(ledger)
    days = net_worth_days(ledger, min(period.end, dt.date.today()))
    settings = ledger.settings
    written = write_report(
        target,
        frame,
        period,
        chosen,
        colors=category_colors(ledger.categories(), ledger.meta("category_colors") or {}),
        number_format=settings.get("number_format", "1,234.56"),
        description=describe_filter(flt),
        net_worth=(days, net_worth_in(ledger, chosen, days, rates)[0]),
        rates=rates,
    )
    print(written)
    return 0
