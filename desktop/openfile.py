"""Opening a file with the app: which files, and how a path reaches the Import page.

``expense-tracker statement.ofx`` (a file manager's "Open with Expense Tracker") checks the file
(:func:`check_file`), then the launcher that owns the window stores a *pending open* for it
(:func:`add_pending`): a small file ``desktop-open-<id>.json`` (0600) in the data folder holding the
path and until when it may be opened, under a random id. The window loads the Import page with that
id in the query (:func:`page_url`: ``import_export?open=<id>``). The page
(``tracker/ui/app_pages/import_export.py``, which may not import this package) claims the id by
removing the file, so it shows it once, reads the file and previews it as it does an upload. The URL
carries only the id: a path is taken only from an entry the launcher wrote.

Standard library only: the launcher checks the file before it imports anything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import time
from pathlib import Path

SUFFIXES = (".ofx", ".qfx", ".qif", ".csv", ".tsv", ".json")
"""The files the app opens: what its importers read (bank statements, and its own JSON export)."""

_MB = 1024 * 1024
MAX_BYTES = 50 * _MB
"""The largest file opened: the same as an upload (Streamlit's ``server.maxUploadSize``, 50 MB)."""

IMPORT_PAGE = "import_export"
"""The Import & Export page's address under the app's URL (Streamlit's name for ``import_export.py``)."""

QUERY_KEY = "open"
PENDING_PREFIX = "desktop-open-"
PENDING_SECONDS = 15 * 60.0
"""How long a pending open waits for the page (the window may still be starting)."""


class OpenFileError(Exception):
    """A file that cannot be opened; the message is one line, readable by a user."""


def shown(path: str | os.PathLike[str]) -> str:
    """A path in a message: quoted, on one line (control characters escaped)."""
    text = os.fsdecode(path)
    return "“" + "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text) + "”"


def check_file(path: str | os.PathLike[str]) -> Path:
    """The absolute path of a file the app can open; raises :class:`OpenFileError` saying why not."""
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


# -- pending opens -------------------------------------------------------------------------------


def _entry(data_dir: Path, ident: str) -> Path:
    return Path(data_dir) / f"{PENDING_PREFIX}{ident}.json"


def add_pending(data_dir: Path, path: Path, now: float | None = None) -> str:
    """Store a pending open of ``path`` (checked by the caller) in ``data_dir``; returns its id."""
    now = time.time() if now is None else now
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    _drop_expired(Path(data_dir), now)
    ident = secrets.token_hex(16)
    target = _entry(data_dir, ident)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"path": os.fsdecode(Path(path).absolute()), "until": now + PENDING_SECONDS}, fh)
    os.replace(tmp, target)
    return ident


def _drop_expired(data_dir: Path, now: float) -> None:
    """Remove the pending opens nobody claimed in time (best effort)."""
    with contextlib.suppress(OSError):
        for entry in data_dir.glob(f"{PENDING_PREFIX}*.json"):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > PENDING_SECONDS:
                    entry.unlink()


def page_url(ident: str) -> str:
    """The Import page with the pending open ``ident``, relative to the app's URL."""
    return f"{IMPORT_PAGE}?{QUERY_KEY}={ident}"
