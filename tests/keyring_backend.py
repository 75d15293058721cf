"""A keyring backend for tests: secrets in a JSON file, so a subprocess sees what the test stored.

The file is named by ``EXPENSE_TRACKER_TEST_KEYRING``. Select the backend with
``PYTHON_KEYRING_BACKEND=keyring_backend.FileKeyring`` and this folder on ``PYTHONPATH`` (see
``sync_fixtures.use_test_keyring``). Not safe for real secrets: the file is plain text.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError

ENV = "EXPENSE_TRACKER_TEST_KEYRING"


class FileKeyring(KeyringBackend):
    """``{service: {user name: secret}}`` in the JSON file ``$EXPENSE_TRACKER_TEST_KEYRING``."""

    @properties.classproperty
    def priority(cls) -> float:
        """1 where a test asked for it (the file is named), else not viable: never picked by accident."""
        if ENV not in os.environ:
            raise RuntimeError(f"{ENV} is not set")
        return 1

    @staticmethod
    def _path() -> Path:
        try:
            return Path(os.environ[ENV])
        except KeyError:
            raise RuntimeError(f"{ENV} is not set: the test keyring has no file") from None

    def _load(self) -> dict[str, dict[str, str]]:
        path = self._path()
        if not path.exists():
            return {}
        data: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        path = self._path()
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data.setdefault(service, {})[username] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if username not in data.get(service, {}):
            raise PasswordDeleteError(f"no secret for {username!r} in {service!r}")
        del data[service][username]
        self._save(data)
