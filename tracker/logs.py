"""Logging to a file in platformdirs' user log directory (0600, folder 0700)."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

APP_NAME = "ExpenseTracker"


def log_dir() -> Path:
    """``EXPENSE_TRACKER_LOG_DIR`` or the OS user log directory."""
    override = os.environ.get("EXPENSE_TRACKER_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_path() -> Path:
    """The one log file of the app."""
    return log_dir() / "expense-tracker.log"


def setup_logging(level: int = logging.INFO) -> Path:
    """Send the ``tracker`` and ``desktop`` loggers to the log file; idempotent. Returns its path."""
    path = log_path()
    root = logging.getLogger()
    if any(getattr(h, "_expense_tracker", False) for h in root.handlers):
        return path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler._expense_tracker = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level))
    return path
