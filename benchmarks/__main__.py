"""``python -m benchmarks [--n N | --sizes 1000,10000,100000] [--repeats K] [--json FILE]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.built import WAYS
from benchmarks.generate import DEFAULT_SEED
from benchmarks.runner import DEFAULT_SIZES, GROUPS, WINDOW_SIZE, markdown, run, table

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers") from None
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def _groups(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    return chosen


def _ways(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [w for w in chosen if w not in WAYS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown way(s) {', '.join(unknown)}; choose from {', '.join(WAYS)}")
    return chosen


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure Expense Tracker on generated ledgers of N transactions (medians over repeats).",
    )
    parser.add_argument("--n", type=int, help="one size (default: --sizes)")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated sizes (default: 1000,10000,100000)",
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="samples per slow figure; 10x for ms figures (default 5)"
    )
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help=f"write the report here (default {DEFAULT_JSON})"
    )
    parser.add_argument("--only", type=_groups, help=f"measure only these groups ({', '.join(GROUPS)})")
    parser.add_argument("--skip", type=_groups, default=(), help="leave out these groups")
    parser.add_argument(
        "--window-at",
        type=int,
        default=WINDOW_SIZE,
        metavar="N",
        help=f"the size the window figure is measured at (default {WINDOW_SIZE:,})",
    )
    parser.add_argument(
        "--built",
        type=_ways,
        default=WAYS,
        help=f"how the ledgers are built, comma-separated ({', '.join(WAYS)}; default all)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the generator's seed")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where the generated data folders go, built ledgers cached for the next run (default: the temp folder)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated data folders")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    parser.add_argument(
        "--report", type=Path, metavar="JSON", help="measure nothing: print the table of an earlier JSON report"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.repeats < 1:
        print("python -m benchmarks: --repeats must be at least 1", file=sys.stderr)
        return 2
    if args.report:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        print(table(report))
        if args.markdown:
            print(markdown(report))
        return 0
    sizes = [args.n] if args.n else args.sizes
    groups = tuple(g for g in (args.only or GROUPS) if g not in args.skip)

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    report = run(
        sizes,
        args.repeats,
        groups,
        seed=args.seed,
        workdir=args.workdir,
        keep=args.keep,
        log=log,
        window_size=args.window_at,
        ways=args.built,
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    m = report["machine"]
    print(f"Machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}, pandas {m['pandas']}")
    print(f"Load average at start: {', '.join(f'{x:.2f}' for x in m['loadavg_start'] or [])}")
    print(table(report))
    if args.markdown:
        print(markdown(report))
    print(f"JSON report: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
