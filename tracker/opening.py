"""A file opened with the app ("Open with Expense Tracker"): the *pending opens* the desktop launcher leaves for
the Import page, written by one side and claimed by the other through this one module.

``expense-tracker statement.ofx`` checks the file (``desktop.openfile.check_file``), then the launcher that owns
the window stores a pending open for it (:func:`add_pending`): ``desktop-open-<id>.json`` (0600) in the data
folder, holding the path and until when it may be opened, under a random id. The window loads the Import page
with that id in the query (:func:`page_url`). The page claims the id (:func:`claim_pending`: the entry is
removed, so it is shown once) and previews the file as it does an upload. The URL carries only the id: a path
is taken only from an entry the launcher wrote.

Standard library only: the launcher uses it before it imports anything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from pathlib import Path

from tracker.errors import TrackerError

SUFFIXES = (".ofx", ".qfx", ".qif", ".csv", ".tsv", ".json")
"""The files the app opens: what its importers read (bank statements, and its own JSON export)."""
MAX_BYTES = 50 * 1024 * 1024
"""The largest file opened: the same as an upload (Streamlit's ``server.maxUploadSize``, 50 MB)."""
IMPORT_PAGE = "import_export"
"""The Import & Export page's address under the app's URL (Streamlit's name for ``import_export.py``)."""
QUERY_KEY = "open"
PENDING_PREFIX = "desktop-open-"
PENDING_SECONDS = 15 * 60.0
"""How long a pending open waits for the page (the window may still be starting)."""
_ID = re.compile(r"[0-9a-f]{32}")


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


def claim_pending(data_dir: Path, ident: str, now: float | None = None) -> Path:
    """The path of the pending open ``ident``, once (its entry is removed); ``TrackerError`` when there is none
    (an id of another form, one shown already, expired) or it is not a file that can be imported."""
    gone = TrackerError("The file to open is no longer known (it was shown already): choose it below.")
    if not _ID.fullmatch(ident):
        raise gone
    entry = _entry(data_dir, ident)
    try:
        pending = json.loads(entry.read_text(encoding="utf-8"))
        entry.unlink()  # whoever removes it shows it
    except (OSError, ValueError):
        raise gone from None
    path, until = (pending.get("path"), pending.get("until")) if isinstance(pending, dict) else (None, None)
    if not isinstance(path, str) or not isinstance(until, int | float) or (now or time.time()) > until:
        raise gone
    if Path(path).suffix.lower() not in SUFFIXES:
        raise TrackerError(f"{Path(path).name} is not a file that can be imported.")
    return Path(path)


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
