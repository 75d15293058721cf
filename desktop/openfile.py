"""Opening a file with the app, the launcher's side: which files it takes (:func:`check_file`).

``expense-tracker statement.ofx`` (a file manager's "Open with Expense Tracker") checks the file here, then the
launcher that owns the window stores a *pending open* for the Import page (:mod:`tracker.opening`, which owns
that exchange: the page claims it there).

Standard library only (and :mod:`tracker.opening`, which is too, imported on first use): the launcher checks the
file before it imports anything else.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

_FROM_TRACKER = frozenset(
    {
        "IMPORT_PAGE",
        "MAX_BYTES",
        "PENDING_PREFIX",
        "PENDING_SECONDS",
        "QUERY_KEY",
        "SUFFIXES",
        "add_pending",
        "page_url",
    }
)
"""What the pending opens are (:mod:`tracker.opening` owns them), read from there on first use: importing the
launcher imports no ``tracker`` module (its start must not wait for them)."""


def __getattr__(name: str) -> Any:
    if name in _FROM_TRACKER:
        from tracker import opening

        return getattr(opening, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_MB = 1024 * 1024


class OpenFileError(Exception):
    """A file that cannot be opened; the message is one line, readable by a user."""


def shown(path: str | os.PathLike[str]) -> str:
    """A path in a message: quoted, on one line (control characters escaped)."""
    text = os.fsdecode(path)
    return "“" + "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text) + "”"


def check_file(path: str | os.PathLike[str]) -> Path:
    """The absolute path of a file the app can open; raises :class:`OpenFileError` saying why not."""
    from tracker.opening import MAX_BYTES, SUFFIXES

    given = Path(path)
    name = shown(path)
    try:
        info = given.stat()
    except FileNotFoundError:
        raise OpenFileError(f"cannot open {name}: there is no such file") from None
    except OSError as exc:
        raise OpenFileError(f"cannot open {name}: {exc.strerror or type(exc).__name__}") from None
    if not stat.S_ISREG(info.st_mode):
        raise OpenFileError(f"cannot open {name}: it is not a file")
    if given.suffix.lower() not in SUFFIXES:
        raise OpenFileError(
            f"cannot open {name}: Expense Tracker opens bank statements and its exports ({', '.join(SUFFIXES)})"
        )
    if info.st_size > MAX_BYTES:
        raise OpenFileError(
            f"cannot open {name}: it is {info.st_size / _MB:.0f} MB; files up to {MAX_BYTES // _MB} MB open"
        )
    if not os.access(given, os.R_OK):
        raise OpenFileError(f"cannot open {name}: you may not read it")
    return given.absolute()
