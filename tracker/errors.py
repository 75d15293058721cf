"""The error types the backend raises; the CLI and UI turn them into readable messages."""

from __future__ import annotations

import unicodedata

_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
"""What :meth:`str.splitlines` splits on."""


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped (``a\\nb`` -> ``a\\\\nb``): one line always.

    Every message shown on one line (a CLI error, a log line) goes through this, so a value typed with a
    newline in it (an argument, a file name) shows as an escape instead of starting a second line.
    """
    if text.isprintable():
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if ch in _LINE_BREAKS or unicodedata.category(ch) == "Cc" else ch
        for ch in text
    )


def shown(value: object, limit: int = 80) -> str:
    """How a message shows a value: its ``repr`` (text quoted, escapes for line breaks), text cut at ``limit``."""
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit] + "…"
    return one_line(repr(value))


class TrackerError(Exception):
    """Base class of every error meant for the user (CLI exit status 2)."""


class ValidationError(TrackerError, ValueError):
    """Bad input: the message names the field and the value.  Nothing was written."""

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}: {shown(value)} {problem}")


class NotFoundError(ValidationError):
    """An id (transaction, backup, template) that does not exist."""


class StorageError(TrackerError):
    """The data files cannot be read or written; the message names the file."""


class CorruptDataError(StorageError):
    """A data file is corrupt, truncated or of a newer schema; it is left untouched."""


class SyncError(TrackerError):
    """The sync location cannot be reached, read or written, or what it holds cannot be opened; the message names
    the location (a folder or a URL) and, where there is one, the file. The local ledger is never changed by it."""
