"""``expense-tracker`` subcommands, for scripting and tests.

Each module in :data:`COMMAND_MODULES` has ``register(subparsers)`` that adds its subcommands;
each subcommand's parser sets ``func(args) -> int``. Building the parser imports every one of them, so
their top level imports only what ``register`` needs (argparse, small constants) and each ``run_*``
function imports the product it uses: ``--version``, ``--help`` and usage errors never import pandas,
numpy or Streamlit (``tests/test_cli_startup.py``). User errors are raised as
:class:`tracker.errors.TrackerError` and become exit status 2 with one line on stderr (values escaped:
:func:`tracker.errors.one_line`).

The console script is :func:`desktop.entry.run`: it opens the window for ``expense-tracker`` alone and
calls :func:`main` for anything else. This package never imports :mod:`desktop`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from tracker import __version__
from tracker.errors import TrackerError, one_line

COMMAND_MODULES = [
    "tracker.cli.core",
    "tracker.cli.serve",
    "tracker.cli.budgets",
    "tracker.cli.recurring",
    "tracker.cli.quick",
    "tracker.cli.names",
    "tracker.cli.report",
    "tracker.cli.io",
    "tracker.cli.accounts",
    "tracker.cli.rates",
    "tracker.cli.sync",
]


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line (arguments escaped), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: global options, then one subparser per subcommand."""
    parser = _Parser(prog="expense-tracker", description="Track income and expenses, exactly and offline.")
    parser.add_argument("--version", action="version", version=f"expense-tracker {__version__}")
    parser.add_argument(
        "--data-dir", metavar="DIR", help="where the data files live (default: the OS user-data folder)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _escape_unencodable_output() -> None:
    """Text the output's encoding cannot hold (a legacy code page, a redirected Windows console) is written
    as escapes (``\\u5bb6``) instead of failing the command."""
    import codecs

    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        if hasattr(stream, "reconfigure") and codecs.lookup(encoding).name != "utf-8":
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None, open_window: Callable[[], int] | None = None) -> int:
    """Run one subcommand; returns the exit status.

    ``open_window`` is what to do when no subcommand is given (the console script passes the launcher);
    without it that is a usage error.
    """
    _escape_unencodable_output()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data_dir:
        os.environ["EXPENSE_TRACKER_DATA_DIR"] = os.path.abspath(args.data_dir)
    if args.command is None:
        if open_window is None:
            parser.error("choose a command (`expense-tracker` alone opens the window)")
        return open_window()
    try:
        from tracker.cli.recurring import auto_post

        auto_post(args)  # recurring transactions that fell due are posted when the CLI starts
        return int(args.func(args) or 0)
    except TrackerError as exc:
        print(f"expense-tracker: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        import logging

        from tracker.logs import log_path, setup_logging

        setup_logging()
        logging.getLogger("tracker.cli").exception("unexpected error in %s", args.command)
        print(f"expense-tracker: unexpected error ({type(exc).__name__}); details are in {log_path()}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
