"""``expense-tracker serve``: the app's server alone, for use in a browser."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from tracker.errors import ValidationError, one_line

DEFAULT_HOST = "127.0.0.1"  # the same as tracker.ui.server (not imported here: it would load Streamlit)
DEFAULT_PORT = 8501


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` subcommand."""
    p = sub.add_parser(
        "serve",
        help="run the app in your browser (server only, Ctrl+C stops it)",
        description="Run the app's server and print its URL; open it in a browser. Ctrl+C stops it.",
    )
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    p.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}, this computer only)"
    )
    p.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until Ctrl+C / SIGTERM; exit status 0 after a clean stop."""
    if not 0 <= args.port <= 65535:
        raise ValidationError("port", args.port, "must be between 0 and 65535")
    from tracker.logs import setup_logging
    from tracker.ui import server

    setup_logging()
    if not server.is_loopback(args.host):
        print(
            f"warning: listening on {one_line(args.host)}, so other computers can reach your data; use 127.0.0.1 to keep it private",
            file=sys.stderr,
        )

    def ready(url: str) -> None:
        from tracker.storage.paths import default_data_dir

        say(f"Expense Tracker is running at {url}")
        say(f"Data folder: {default_data_dir()}. Press Ctrl+C to stop.")

    from filelock import FileLock, Timeout

    from tracker.errors import StorageError
    from tracker.storage.paths import SERVER_LOCK, default_data_dir

    data_dir = default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = FileLock(str(data_dir / SERVER_LOCK), mode=0o600)
    try:
        lock.acquire(timeout=0.5)
    except Timeout:
        raise StorageError(
            f"another Expense Tracker (a window or `serve`) is already running on the data folder {data_dir}; "
            "use it, or close it first"
        ) from None
    try:
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl+C while stopping
            server.run(args.port, args.host, on_ready=ready)
    finally:
        lock.release()
    say("Stopped.")
    return 0


def say(line: str) -> None:
    """Print ``line``; when stdout's reader has gone (a closed terminal or launcher), drop it and what follows.

    The rest of the output then goes to the null device, so neither this write nor the flush at exit
    fails or blocks a process that was asked to stop.
    """
    try:
        print(line, flush=True)
    except OSError:
        with contextlib.suppress(OSError, ValueError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())
            os.close(null)
