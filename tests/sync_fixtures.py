"""Helpers the sync tests share (imported explicitly, so they stay out of every other test's way)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def use_test_keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Keep keyring secrets in a JSON file under ``tmp_path``, for this process and its subprocesses.

    Sets ``EXPENSE_TRACKER_TEST_KEYRING``, ``PYTHON_KEYRING_BACKEND`` and ``PYTHONPATH`` (the tests folder
    first), and makes :class:`keyring_backend.FileKeyring` this process's keyring; all undone after the test.
    Returns the file's path.
    """
    import keyring
    import keyring.core
    from keyring_backend import ENV, FileKeyring

    store = tmp_path / "keyring.json"
    monkeypatch.setenv(ENV, str(store))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring_backend.FileKeyring")
    paths = [str(TESTS), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    # Registered so that monkeypatch puts the previous backend back (keyring has no "unset" of its own).
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    keyring.set_keyring(FileKeyring())
    return store
