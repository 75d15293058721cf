"""``expense-tracker``: the one entry point of the console script and of the frozen (PyInstaller) binary.

It decides what the arguments ask for:

* none, or only ``--data-dir DIR``: the window (:func:`desktop.launcher.main`), straight away: neither
  pandas nor the command line is imported before the launcher starts its server child;
* ``--desktop-server ...``: the launcher's own server child (the frozen binary has no separate Python
  to run it with);
* anything else: the command line (:func:`tracker.cli.main`), which is handed the window for the
  spellings that name no subcommand (``--data-dir`` given twice, say).

``tracker.cli`` never imports ``desktop``: this module is the only place that knows both.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from desktop import SERVER_FLAG


def _ensure_streams() -> None:
    """A windowed executable (Windows ``console=False``) has no stdout/stderr: write to nowhere, not crash."""
    import os

    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the process


def run(argv: Sequence[str] | None = None) -> int:
    """Open the window, run the server child or run a subcommand; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    _ensure_streams()
    if args[:1] == [SERVER_FLAG]:
        from desktop.child import main as serve

        return serve(args[1:])
    if opens_the_window(args):  # a double-click: straight to the launcher, which starts its server first
        return open_window(args)
    from tracker.cli import main

    return main(args, open_window=open_window)


def open_window(args: Sequence[str] = ()) -> int:
    """The launcher (``--data-dir`` is already in the environment when the command line calls this)."""
    from desktop.launcher import main as launch

    return launch(args)


def opens_the_window(args: Sequence[str]) -> bool:
    """True for the arguments that only open the window: none, or just ``--data-dir DIR`` (``DIR`` not empty).

    Decided before anything else is imported: the command line would open the window for them too,
    but only after importing its subcommands and pandas (half a second) before the launcher can start
    the server.
    """
    if not args:
        return True
    if len(args) == 2 and args[0] == "--data-dir" and args[1] and not args[1].startswith("-"):
        return True
    return len(args) == 1 and args[0].startswith("--data-dir=") and len(args[0]) > len("--data-dir=")


if __name__ == "__main__":
    sys.exit(run())
