"""Entry point of the frozen (PyInstaller) binary: the whole ``expense-tracker`` command line.

``expense-tracker`` with no subcommand opens the window (through :func:`tracker.cli.main`), any
subcommand runs the CLI, and ``expense-tracker --desktop-server ...`` is the launcher's own server
child (the frozen binary has no separate Python to run it with).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def _ensure_streams() -> None:
    """A windowed executable (Windows ``console=False``) has no stdout/stderr: write to nowhere, not crash."""
    import os

    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the process


def run(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the server child or to the CLI; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    _ensure_streams()
    from desktop.child import SERVER_FLAG

    if args[:1] == [SERVER_FLAG]:
        from desktop.child import main as serve

        return serve(args[1:])
    if opens_the_window(args):  # a double-click: straight to the launcher, which starts its server first
        from desktop.launcher import main as launch

        return launch(args)
    from tracker.cli import main

    return main(args)


def opens_the_window(args: Sequence[str]) -> bool:
    """True for the arguments that only open the window: none, or just ``--data-dir DIR``.

    The command line (``tracker.cli``) would open the window for them too, but only after importing
    the ``tracker`` package (pandas: half a second) before the launcher can start the server.
    """
    if not args:
        return True
    if len(args) == 2 and args[0] == "--data-dir" and not args[1].startswith("-"):
        return True
    return len(args) == 1 and args[0].startswith("--data-dir=") and len(args[0]) > len("--data-dir=")


if __name__ == "__main__":
    sys.exit(run())
