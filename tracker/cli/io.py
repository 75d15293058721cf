"""Getting data in and out: ``import``, ``export``, and the import ``rules`` and CSV ``mappings``."""

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
)

if TYPE_CHECKING:
    from tracker.importers import ImportResult
    from tracker.importers.csv_importer import CsvMapping

FORMATS = ("csv", "ofx", "qif", "json")
"""``tracker.importers.FORMATS``, written out: building the parser must not import the importers."""
CSV_COLUMN_OPTIONS: dict[str, tuple[str, str]] = {
    "date_col": ("date", "column of the date (header text or 1-based number)"),
    "amount_col": ("amount", "column of the signed amount (negative = expense)"),
    "debit_col": ("debit", "column of money out (instead of --amount-col)"),
    "credit_col": ("credit", "column of money in (instead of --amount-col)"),
    "category_col": ("category", "column of a category"),
    "tags_col": ("tags", "column of tags (separated by spaces, commas or semicolons)"),
    "type_col": ("type", "column saying income/expense (credit/debit, Haben/Soll)"),
    "currency_col": ("currency_column", "column of the currency code"),
    "id_col": ("id_column", "column of the bank's transaction id (for de-duplication)"),
    "original_amount_col": (
        "original_amount",
        "column of what a purchase abroad cost in its own currency (read with --original-currency-col)",
    ),
    "original_currency_col": ("original_currency", "column of the currency a purchase abroad was paid in"),
    "rate_col": (
        "exchange_rate",
        (
            "column of the exchange rate: 1 unit of the original currency = RATE units of the account's currency "
            "(gives the original amount when the file has none)"
        ),
    ),
}
"""The one-column layout options, ``--date-col`` for ``date_col``: option -> (the ``CsvMapping`` field it sets, its
help). Written out like :data:`FORMATS`; a test checks that they are ``CsvMapping.COLUMN_FIELDS``."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``import``, ``export``, ``rules`` and ``mappings``."""
    p = sub.add_parser(
        "import",
        help="import a bank file (CSV, OFX/QFX, QIF) or a JSON export; all rows or none",
        description="Import a bank statement. Rows already imported are skipped as duplicates; a file with a bad row "
        "imports nothing and the message names the line and field. CSV layouts are detected; the options below fix "
        "what detection gets wrong, and --save-mapping keeps them for next time.",
    )
    p.add_argument("file", help="the file to import")
    p.add_argument("--as", dest="kind", choices=FORMATS, help="the file type (default: detected)")
    p.add_argument("--dry-run", action="store_true", help="show what would be imported; write nothing")
    p.add_argument("--include-duplicates", action="store_true", help="import the rows found to be duplicates too")
    p.add_argument(
        "--account",
        dest="accounts",
        action="append",
        default=[],
        metavar="NAME",
        help="the account it goes into (default: the one remembered for the file, else the default account); "
        "for a file of several accounts, STATEMENT=NAME for each (e.g. 'ofx:123/9100=Checking')",
    )
    p.add_argument(
        "--no-transfers", action="store_true", help="keep rows whose twin is in another account as income/expenses"
    )
    p.add_argument("--keep-signs", action="store_true", help="read the signs as they are, also into a credit card")
    add_format_argument(p)
    g = p.add_argument_group("CSV layout (each is detected when not given)")
    g.add_argument("--mapping", metavar="NAME", help="a saved mapping or a built-in bank layout (see 'mappings list')")
    g.add_argument("--save-mapping", metavar="NAME", help="save the layout used for this file under NAME")
    for dest, (_, text) in CSV_COLUMN_OPTIONS.items():
        g.add_argument("--" + dest.replace("_", "-"), dest=dest, metavar="COL", help=text)
    g.add_argument("--desc-col", metavar="COL", action="append", help="description column (repeatable: joined)")
    g.add_argument("--delimiter", metavar="D", help="cell separator: ',', ';', 'tab', '|'")
    g.add_argument("--encoding", metavar="ENC", help="text encoding, e.g. utf-8, cp1252, latin-1")
    g.add_argument("--invert-sign", action="store_true", help="amounts are positive for spending (credit-card exports)")
    s = p.add_argument_group("CSV and QIF")
    s.add_argument(
        "--date-format", metavar="FMT", help="date layout in strptime codes, e.g. %%d.%%m.%%Y or %%m/%%d/%%y"
    )
    s.add_argument("--decimal", choices=(".", ","), help="decimal separator of the amounts")
    s.add_argument(
        "--currency", metavar="CODE", help="currency of rows whose file does not say (default: from settings)"
    )
    p.set_defaults(func=run_import)

    p = sub.add_parser("export", help="write transactions to a CSV, JSON or XLSX file")
    p.add_argument(
        "--format", choices=("csv", "json", "xlsx"), help="file format (default: from the file name, else csv)"
    )
    p.add_argument("--output", "-o", required=True, metavar="FILE", help="the file to write (replaced atomically)")
    add_filter_arguments(p)
    p.set_defaults(func=run_export)

    p = sub.add_parser("rules", help="the ordered rules that categorise imported rows")
    rsub = p.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    r = rsub.add_parser("list", help="the rules in the order they are tried")
    add_format_argument(r)
    r.set_defaults(func=run_rules_list)
    r = rsub.add_parser("add", help="add a rule: descriptions containing PATTERN get CATEGORY")
    r.add_argument("pattern")
    r.add_argument("category")
    r.add_argument("--regex", action="store_true", help="PATTERN is a regular expression (case-insensitive)")
    r.add_argument("--position", type=int, metavar="N", help="insert as rule N (1 = tried first; default: last)")
    r.set_defaults(func=run_rules_add)
    r = rsub.add_parser("remove", help="remove rule N (see 'rules list')")
    r.add_argument("number", type=int)
    r.set_defaults(func=run_rules_remove)
    r = rsub.add_parser("test", help="the category an imported description would get, and why")
    r.add_argument("description")
    r.set_defaults(func=run_rules_test)

    p = sub.add_parser("mappings", help="saved CSV mappings and the built-in bank layouts")
    msub = p.add_subparsers(dest="mappings_command", metavar="ACTION", required=True)
    m = msub.add_parser("list", help="saved mappings and built-in layouts")
    add_format_argument(m)
    m.set_defaults(func=run_mappings_list)
    m = msub.add_parser("delete", help="delete a saved mapping")
    m.add_argument("name")
    m.set_defaults(func=run_mappings_delete)


# --- import ---------------------------------------------------------------------------------------


def _mapping_from_args(args: argparse.Namespace) -> CsvMapping:
    from tracker.importers.csv_importer import CsvMapping, parse_delimiter

    fields: dict[str, Any] = {
        field: getattr(args, opt) for opt, (field, _) in CSV_COLUMN_OPTIONS.items() if getattr(args, opt)
    }
    if args.desc_col:
        fields["description"] = tuple(args.desc_col)
    if args.delimiter:
        fields["delimiter"] = parse_delimiter(args.delimiter)
    if args.encoding:
        fields["encoding"] = args.encoding
    if args.invert_sign:
        fields["invert"] = True
    return CsvMapping(**fields)


def run_import(args: argparse.Namespace) -> int:
    from tracker.importers import ImportFileError, ImportOptions, import_file, resolve_mapping
    from tracker.importers.csv_importer import CsvMapping

    ledger = open_ledger(args)
    overrides = _mapping_from_args(args)
    base = resolve_mapping(ledger, args.mapping) if args.mapping else CsvMapping()
    options = ImportOptions(
        kind=args.kind or "",
        mapping=base.merged(overrides),
        date_format=args.date_format or "",
        decimal=args.decimal or "",
        currency=args.currency or "",
        mapping_name=args.mapping or "",
        transfers=not args.no_transfers,
        keep_signs=args.keep_signs,
        **_accounts_from_args(args.accounts),
    )
    try:
        result = import_file(
            ledger,
            args.file,
            options,
            dry_run=args.dry_run,
            include_duplicates=args.include_duplicates,
            save_mapping_as=args.save_mapping or "",
        )
    except ImportFileError as exc:
        if args.format == "json":
            print_json(
                {
                    "file": args.file,
                    "dry_run": args.dry_run,
                    "added": 0,
                    "duplicates": 0,
                    "skipped": 0,
                    "errors": len(exc.problems),
                    "error": str(exc),
                    "problems": exc.messages(),
                }
            )
        raise
    if args.format == "json":
        print_json(result.to_json(rows=args.dry_run))
    else:
        _print_result(result)
    return 0


def _accounts_from_args(given: list[str]) -> dict[str, Any]:
    """``--account NAME`` (once) and ``--account STATEMENT=NAME`` (per statement) as import options."""
    from tracker.errors import ValidationError

    plain = [g for g in given if "=" not in g or g.startswith("=")]
    pairs = [tuple(part.strip() for part in g.split("=", 1)) for g in given if g not in plain]
    if len(plain) > 1:
        raise ValidationError("account", plain[1], "is a second account for the file: use STATEMENT=NAME for each")
    bad = next((p for p in pairs if not p[0] or not p[1]), None)
    if bad is not None:
        raise ValidationError("account", "=".join(bad), "must be STATEMENT=NAME, e.g. 'ofx:123/9100=Checking'")
    return {"account": plain[0] if plain else "", "statement_accounts": tuple(pairs)}


def _print_result(result: ImportResult) -> None:
    plan = result.plan
    out = sys.stdout
    found = plan.importer.describe(plan.details)
    out.write(f"{plan.file}: {plan.kind.upper()}" + (f" ({', '.join(found)})" if found else "") + "\n")
    if result.dry_run and plan.rows:
        rows = []
        for r in plan.rows:
            j = r.to_json()
            desc = r.description if len(r.description) <= 40 else r.description[:39] + "…"
            category = f"{j['category']} ({r.category_source})" if j["category"] else ""
            if r.transfer_with:
                category = f"transfer with {r.counter_account}?"
            rows.append(
                [
                    r.line,
                    r.status,
                    j["date"] or "",
                    j["type"] or "",
                    j["amount"] or "",
                    j["currency"] or "",
                    category,
                    desc,
                ]
            )
        print_table(
            rows, [plan.unit, "status", "date", "type", "amount", "currency", "category", "description"], right=(0, 4)
        )
    for warning in plan.warnings:
        out.write(f"warning: {warning}\n")
    taken = len(result.added) - len(plan.new)
    verb = "would add" if result.dry_run else "added"
    out.write(
        f"{verb} {len(result.added)}, duplicates {len(plan.duplicates)}"
        + (f" ({taken} taken anyway)" if taken else "")
        + f", skipped {len(plan.skipped)}, errors 0"
        + (" — dry run, nothing was written" if result.dry_run else "")
        + "\n"
    )
    if result.linked:
        verb = "would link" if result.dry_run else "linked"
        out.write(
            f"{verb} {plural(result.linked, 'transfer')} with your other accounts (--no-transfers keeps them apart):\n"
        )
        for i in plan.proposed_transfers[:20]:
            r = plan.rows[i]
            j = r.to_json()
            out.write(
                f"  {plan.unit} {r.line}: {j['date']} {j['amount']} {j['currency']} {r.description[:40]} <-> {r.counter_account}\n"
            )
    for b in result.balances:
        state = "they agree" if b["agrees"] else f"a difference of {b['difference']}"
        out.write(
            f"{b['account']}: the statement's balance on {b['date']} is {b['statement_balance']} {b['currency']}, "
            f"the app's is {b['computed_balance']} ({state})\n"
        )
    if plan.duplicates and not result.dry_run and not taken:
        out.write("duplicates were not imported (--include-duplicates takes them):\n")
        for r in plan.duplicates[:20]:
            j = r.to_json()
            out.write(
                f"  {plan.unit} {r.line}: {j['date']} {j['type']} {j['amount']} {j['currency']} {r.description[:40]} ({r.reason})\n"
            )
        if len(plan.duplicates) > 20:
            out.write(f"  … and {len(plan.duplicates) - 20} more\n")
    if result.mapping_saved:
        out.write(f"saved the CSV mapping {result.mapping_saved!r}\n")


# --- export ---------------------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    from tracker.export import export

    ledger = open_ledger(args)
    path, count, fmt = export(ledger, args.output, args.format, filter_from_args(args))
    sys.stdout.write(f"exported {count} transaction{'s' if count != 1 else ''} to {path} ({fmt})\n")
    return 0


# --- rules ----------------------------------------------------------------------------------------


def run_rules_list(args: argparse.Namespace) -> int:
    from tracker.importers.rules import RULES

    rules = RULES.read(open_ledger(args))
    if args.format == "json":
        print_json([{"number": n, **r.to_dict()} for n, r in enumerate(rules, 1)])
    elif not rules:
        sys.stdout.write("no rules yet (add one with: expense-tracker rules add PATTERN CATEGORY)\n")
    else:
        print_table(
            [[n, r.pattern, "regex" if r.regex else "contains", r.category] for n, r in enumerate(rules, 1)],
            ["#", "pattern", "match", "category"],
            right=(0,),
        )
    return 0


def run_rules_add(args: argparse.Namespace) -> int:
    from tracker.importers.rules import Rule, add_rule

    rule = Rule(args.pattern, args.category, args.regex)
    position = add_rule(open_ledger(args), rule, args.position)
    sys.stdout.write(f"rule {position}: {'regex' if rule.regex else 'contains'} {rule.pattern!r} -> {rule.category}\n")
    return 0


def run_rules_remove(args: argparse.Namespace) -> int:
    from tracker.importers.rules import remove_rule

    gone = remove_rule(open_ledger(args), args.number)
    sys.stdout.write(f"removed rule {args.number}: {gone.pattern!r} -> {gone.category}\n")
    return 0


def run_rules_test(args: argparse.Namespace) -> int:
    from tracker.categorize import categorise
    from tracker.importers import LedgerView

    view = LedgerView.of(open_ledger(args))
    category, source = categorise(args.description, "", view.rules, view.history)
    sys.stdout.write(f"{category} ({source})\n")
    return 0


# --- mappings -------------------------------------------------------------------------------------


def run_mappings_list(args: argparse.Namespace) -> int:
    from tracker.importers import saved_mappings
    from tracker.importers.csv_importer import KNOWN_LAYOUTS

    saved = saved_mappings(open_ledger(args))
    entries: list[dict[str, Any]] = [
        {"name": n, "kind": "saved", "mapping": m.to_dict()} for n, m in sorted(saved.items())
    ]
    entries += [{"name": lay.name, "kind": "built-in", "mapping": lay.mapping.to_dict()} for lay in KNOWN_LAYOUTS]
    if args.format == "json":
        print_json(entries)
    else:
        rows = [[e["name"], e["kind"], ", ".join(f"{k}={v}" for k, v in e["mapping"].items())] for e in entries]
        print_table(rows, ["name", "kind", "settings"])
    return 0


def run_mappings_delete(args: argparse.Namespace) -> int:
    from tracker.importers import delete_mapping

    delete_mapping(open_ledger(args), args.name)
    sys.stdout.write(f"deleted the CSV mapping {args.name!r}\n")
    return 0
