"""Where the data lives: ``EXPENSE_TRACKER_DATA_DIR``, else the OS user-data folder."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ExpenseTracker"
ENV_DATA_DIR = "EXPENSE_TRACKER_DATA_DIR"
SERVER_LOCK = "desktop-server.lock"
"""Held by whichever app server (window or ``serve``) runs on a data folder: never two at once."""


def default_data_dir() -> Path:
    """``$EXPENSE_TRACKER_DATA_DIR`` if set, else platformdirs' user data dir for ``ExpenseTracker``."""
    override = os.environ.get(ENV_DATA_DIR)
    if override:
        return Path(override).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """An explicit folder wins over the environment and the OS default."""
    return Path(data_dir).expanduser().resolve() if data_dir is not None else default_data_dir()
