"""The error types the backend raises; the CLI and UI turn them into readable messages."""

from __future__ import annotations


class TrackerError(Exception):
    """Base class of every error meant for the user (CLI exit status 2)."""


class ValidationError(TrackerError, ValueError):
    """Bad input: the message names the field and the value.  Nothing was written."""

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        shown = repr(value) if not isinstance(value, str) else repr(value[:80] + ("…" if len(value) > 80 else ""))
        super().__init__(f"{field}: {shown} {problem}")


class NotFoundError(ValidationError):
    """An id (transaction, backup, template) that does not exist."""


class StorageError(TrackerError):
    """The data files cannot be read or written; the message names the file."""


class CorruptDataError(StorageError):
    """A data file is corrupt, truncated or of a newer schema; it is left untouched."""
