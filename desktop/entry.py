"""``expense-tracker``: the one entry point of the console script and of the frozen (PyInstaller) binary.

It decides what the arguments ask for:

* none, or only ``--data-dir DIR``: the window (:func:`desktop.launcher.main`), straight away: neither
  pandas nor the command line is imported before the launcher starts its server child;
* one file to open (``expense-tracker statement.ofx``, what a file manager's "Open with" runs), with or
  without ``--data-dir DIR``: the window too, on the Import page with that file's preview
  (:mod:`desktop.openfile`);
* ``--desktop-server ...``: the launcher's own server child (the frozen binary has no separate Python
  to run it with);
* anything else: the command line (:func:`tracker.cli.main`), which is handed the window for the
  spellings that name no subcommand (``--data-dir`` given twice, say).

``tracker.cli`` never imports ``desktop``: this module is the only place that knows both.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from desktop import SERVER_FLAG


def _ensure_streams() -> None:
    """A windowed executable (Windows ``console=False``) has no stdout/stderr: write to nowhere, not crash."""
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
    """True for the arguments that only open the window: none, a file to open (:func:`names_a_file`), and
    either with ``--data-dir DIR`` (``DIR`` not empty), before or after the file.

    Decided before anything else is imported: the command line would open the window for the first
    two too, but only after importing its subcommands and pandas (half a second) before the launcher can
    start the server. It never sees a file to open (it would take the file for an unknown subcommand).
    """
    rest = without_data_dir(args)
    if rest is None:
        return False
    return not rest or (len(rest) == 1 and names_a_file(rest[0]))


def without_data_dir(args: Sequence[str]) -> list[str] | None:
    """``args`` without one ``--data-dir DIR`` or ``--data-dir=DIR``; None when that option is given
    without a folder or more than once (the command line says what is wrong)."""
    rest: list[str] = []
    given = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--data-dir":
            folder = args[i + 1] if i + 1 < len(args) else ""
            if folder.startswith("-"):  # an option where the folder should be
                return None
            step = 2
        elif arg.startswith("--data-dir="):
            folder, step = arg[len("--data-dir=") :], 1
        else:
            rest.append(arg)
            i += 1
            continue
        if given or not folder:
            return None
        given = True
        i += step
    return rest


def names_a_file(arg: str) -> bool:
    """True when ``arg`` is a file to open, not a subcommand or an option: its name ends with one of the
    :data:`~desktop.openfile.SUFFIXES`, or it is an existing file named with a folder or an extension
    (``./notes``, ``notes.txt``: the launcher then says why it cannot open it). A bare word (``list``,
    ``report``) is always a subcommand, even when a file of that name is in the current folder."""
    from desktop.openfile import SUFFIXES

    if not arg or arg.startswith("-"):
        return False
    path = Path(arg)
    if path.suffix.lower() in SUFFIXES:
        return True
    named_as_path = bool(path.suffix) or os.sep in arg or (os.altsep is not None and os.altsep in arg)
    return named_as_path and path.is_file()


if __name__ == "__main__":
    sys.exit(run())
