"""Sync secrets in the OS keyring (a file-backed test keyring here), and secrets given as a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.compat import properties
from keyring.errors import KeyringLocked
from sync_fixtures import use_test_keyring

from tracker.errors import SyncError, ValidationError
from tracker.sync.secrets import SERVICE, forget_secrets, load_secret, read_secret_file, store_secret

ROOT = Path(__file__).resolve().parents[1]
SECRET = "tr0ub4dor & 3 spaces "


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter with this test's environment (so its keyring settings)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60
    )


def test_a_secret_is_stored_loaded_and_forgotten(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    store = use_test_keyring(monkeypatch, tmp_path)
    assert load_secret("loc1", "passphrase") is None
    store_secret("loc1", "passphrase", SECRET)
    store_secret("loc1", "password", "webdav-pw")
    store_secret("loc2", "passphrase", "another one")
    assert load_secret("loc1", "passphrase") == SECRET
    assert load_secret("loc1", "password") == "webdav-pw"
    assert json.loads(store.read_text())[SERVICE] == {
        "loc1:passphrase": SECRET,
        "loc1:password": "webdav-pw",
        "loc2:passphrase": "another one",
    }
    store_secret("loc1", "passphrase", "changed passphrase")
    assert load_secret("loc1", "passphrase") == "changed passphrase"
    forget_secrets("loc1")
    assert load_secret("loc1", "passphrase") is None
    assert load_secret("loc1", "password") is None
    assert load_secret("loc2", "passphrase") == "another one"
    forget_secrets("loc1")  # nothing left to forget: fine
    forget_secrets("never-set-up")


def test_a_subprocess_shares_the_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_test_keyring(monkeypatch, tmp_path)
    store_secret("loc1", "passphrase", SECRET)
    done = run_python(
        "import sys; from tracker.sync.secrets import load_secret, store_secret\n"
        "print(repr(load_secret('loc1', 'passphrase')))\n"
        "store_secret('loc1', 'password', sys.argv[1])",
        "from-the-child",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(SECRET)
    assert load_secret("loc1", "password") == "from-the-child"
    done = run_python("from tracker.sync.secrets import forget_secrets; forget_secrets('loc1')")
    assert done.returncode == 0, done.stderr
    assert load_secret("loc1", "passphrase") is None
    assert load_secret("loc1", "password") is None


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_no_keyring_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: KeyringBackend) -> None:
    use_test_keyring(monkeypatch, tmp_path)
    keyring.set_keyring(backend)
    for call in (
        lambda: store_secret("loc1", "passphrase", SECRET),
        lambda: load_secret("loc1", "passphrase"),
        lambda: forget_secrets("loc1"),
    ):
        with pytest.raises(SyncError) as caught:
            call()
        message = str(caught.value)
        assert message.startswith("no system keyring is available to keep the sync passphrase")
        assert message.endswith(
            "Install and unlock one (GNOME Keyring, KWallet, macOS Keychain, Windows Credential Manager) and try again"
        )
        assert SECRET not in message
        assert "\n" not in message
    with pytest.raises(SyncError, match="to keep the WebDAV password"):
        store_secret("loc1", "password", "pw")


class LockedKeyring(KeyringBackend):
    """A keyring that is there but locked (the user dismissed the unlock prompt); only ever set explicitly."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("not a keyring to pick automatically")

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("the collection is locked")


def test_a_locked_keyring_is_a_clear_error_naming_the_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_test_keyring(monkeypatch, tmp_path)
    keyring.set_keyring(LockedKeyring())
    with pytest.raises(SyncError, match=r"keep the sync passphrase \(KeyringLocked: the collection is locked\)"):
        store_secret("loc1", "passphrase", SECRET)
    with pytest.raises(SyncError, match="KeyringLocked"):
        forget_secrets("loc1")


def test_a_subprocess_without_a_keyring_gets_the_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_test_keyring(monkeypatch, tmp_path)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    done = run_python(
        "from tracker.errors import SyncError\nfrom tracker.sync.secrets import load_secret\n"
        "try:\n    load_secret('loc1', 'passphrase')\nexcept SyncError as exc:\n    print(exc)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("no system keyring is available to keep the sync passphrase (")


def test_keyring_is_imported_only_when_a_secret_is_needed() -> None:
    done = run_python("import sys, tracker.sync.secrets; print('keyring' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("location_id", "kind", "field"), [("", "passphrase", "location id"), ("loc1", "token", "kind")]
)
def test_a_bad_location_or_kind_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, location_id: str, kind: str, field: str
) -> None:
    use_test_keyring(monkeypatch, tmp_path)
    for call in (lambda: store_secret(location_id, kind, SECRET), lambda: load_secret(location_id, kind)):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field
        assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"hunter2 hunter2\n", "hunter2 hunter2"),
        (b"  spaced out  \r\nsecond line\n", "  spaced out  "),
        (b"no newline", "no newline"),
        ("pässwörd\n".encode(), "pässwörd"),
        (b"\xef\xbb\xbfwith a BOM\n", "with a BOM"),
    ],
)
def test_a_secret_file_gives_its_first_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "passphrase.txt"
    path.write_bytes(content)
    assert read_secret_file(path, "passphrase-file") == expected
    assert read_secret_file(str(path), "passphrase-file") == expected


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "does not exist"),
        (b"", "is empty (the secret must be on its first line)"),
        (b"\nsecret on line two\n", "has nothing on its first line (where the secret must be)"),
        (b"\r\n", "has nothing on its first line (where the secret must be)"),
        (b"\xff\xfe secret", "is not UTF-8 text"),
    ],
)
def test_a_missing_or_empty_secret_file_is_refused(tmp_path: Path, content: bytes | None, problem: str) -> None:
    path = tmp_path / "passphrase.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValidationError) as caught:
        read_secret_file(path, "passphrase-file")
    assert caught.value.field == "passphrase-file"
    assert str(caught.value) == f"passphrase-file: {str(path)!r} {problem}"
