"""Sync on the command line through real subprocesses: setup, now, status, off; and what bad input gives.

Two data folders sync through one real folder; the passphrase is kept in a keyring (a file-backed test
keyring: no OS keyring daemon runs here), read by every subprocess. A bad setup is exit 2 with one line
and nothing written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli_core import assert_user_error

from tracker.ledger import Ledger


@pytest.fixture
def keyring_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    from sync_fixtures import use_test_keyring

    return use_test_keyring(monkeypatch, tmp_path)


def run(data_dir: Path, *args: str, send: bool = False) -> subprocess.CompletedProcess[str]:
    """One command; ``send``: a change it saves is sent by a ``sync now`` of its own afterwards, as people have it
    (off by default here, so that each test's own ``sync now`` is what sends)."""
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "EXPENSE_TRACKER_SYNC_AFTER_SAVE": "1" if send else "0"},
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_two_folders_sync_through_the_command_line(tmp_path: Path, keyring_file: Path) -> None:
    location = tmp_path / "Sync"
    location.mkdir()
    secret = tmp_path / "passphrase.txt"
    secret.write_text("correct horse battery staple\n", encoding="utf-8")
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, name in ((a, "laptop"), (b, "desktop")):
        shown = ok(
            run(
                folder,
                "sync",
                "setup",
                "--folder",
                str(location),
                "--passphrase-file",
                str(secret),
                "--device-name",
                name,
            )
        )
        assert f"syncs through {location} (encrypted) as '{name}'" in shown
    assert "correct horse" not in (a / "sync" / "config.json").read_text(encoding="utf-8")
    assert "correct horse" in keyring_file.read_text(encoding="utf-8")  # the keyring has it, our files do not
    ok(run(a, "add", "expense", "12.50", "--category", "Food", "--note", "lunch"))
    sent = json.loads(ok(run(a, "sync", "now", "--format", "json")))
    assert sent["sent"] == 1
    assert set(sent) >= {"sent", "received", "conflicts_resolved", "devices"}
    got = json.loads(ok(run(b, "sync", "now", "--format", "json")))
    assert (got["sent"], got["received"]) == (0, 1)
    rows = json.loads(ok(run(b, "list", "--format", "json")))
    assert [(r["amount"], r["note"]) for r in rows] == [("12.50", "lunch")]
    ok(run(a, "sync", "now"))
    state = json.loads(ok(run(a, "sync", "status", "--format", "json")))
    assert state["location"] == str(location)
    assert state["encrypted"] is True
    assert sorted(d["name"] for d in state["devices"]) == ["desktop", "laptop"]
    assert state["last_sync"]
    assert state["last_error"] is None
    table = ok(run(a, "sync", "status"))
    assert "desktop" in table
    assert "laptop (this one)" in table
    assert "sync is off" in ok(run(b, "sync", "off"))
    assert json.loads(ok(run(b, "sync", "status", "--format", "json"))) == {"set_up": False}
    assert len(Ledger(b)) == 1  # the data stays


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--folder", "{missing}", "--no-encryption"], ["folder", "is not an existing folder"]),
        (["--folder", "{location}", "--passphrase-file", "{short}"], ["passphrase", "too short"]),
        (["--folder", "{location}", "--passphrase-file", "{wrong}"], ["passphrase does not open"]),
        (["--folder", "{location}"], ["passphrase-file", "no terminal"]),
        (
            [
                "--webdav",
                "ftp://example.org/",
                "--user",
                "u",
                "--password-file",
                "{wrong}",
                "--passphrase-file",
                "{wrong}",
            ],
            ["webdav", "URL"],
        ),
        (["--webdav", "https://example.org/", "--no-encryption"], ["no-encryption", "always encrypted"]),
        (["--folder", "{location}", "--passphrase-file", "{nothing}"], ["passphrase-file"]),
    ],
)
def test_a_bad_setup_is_one_line_and_writes_nothing(
    tmp_path: Path, keyring_file: Path, args: list[str], words: list[str]
) -> None:
    location = tmp_path / "Sync"
    location.mkdir()
    good, short, wrong = tmp_path / "good", tmp_path / "short", tmp_path / "wrong"
    good.write_text("the right passphrase", encoding="utf-8")
    short.write_text("abc", encoding="utf-8")
    wrong.write_text("not the right one at all", encoding="utf-8")
    first = tmp_path / "first"
    ok(run(first, "sync", "setup", "--folder", str(location), "--passphrase-file", str(good)))
    data = tmp_path / "data"
    Ledger(data).add_expense("1", category="A")
    before_data, before_location = files(data), files(location)
    keyring_before = keyring_file.read_bytes()
    names = {
        "missing": tmp_path / "nope",
        "location": location,
        "short": short,
        "wrong": wrong,
        "nothing": tmp_path / "none",
    }
    result = run(data, "sync", "setup", *(a.format(**names) for a in args))
    assert_user_error(result, *words)
    assert files(data) == before_data
    assert files(location) == before_location
    assert keyring_file.read_bytes() == keyring_before


def test_sync_now_without_setup_says_how(tmp_path: Path) -> None:
    result = run(tmp_path / "data", "sync", "now")
    assert_user_error(result, "sync is not set up", "sync setup")


def test_a_change_made_on_the_command_line_is_sent_by_a_sync_of_its_own(tmp_path: Path) -> None:
    location = tmp_path / "Sync"
    location.mkdir()
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        ok(run(folder, "sync", "setup", "--folder", str(location), "--no-encryption"))
    ok(run(a, "add", "expense", "3.20", "--category", "Coffee", "--note", "sent on its own", send=True))
    device = json.loads((a / "sync" / "config.json").read_text(encoding="utf-8"))["device"]
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(f"seg-{device}-") for p in location.iterdir()):
        assert time.monotonic() < deadline, sorted(p.name for p in location.iterdir())
        time.sleep(0.1)
    got = json.loads(ok(run(b, "sync", "now", "--format", "json")))
    assert got["received"] == 1
    assert [r["note"] for r in json.loads(ok(run(b, "list", "--format", "json")))] == ["sent on its own"]


def test_without_a_keyring_an_encrypted_setup_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    location = tmp_path / "Sync"
    location.mkdir()
    secret = tmp_path / "passphrase"
    secret.write_text("a long enough passphrase", encoding="utf-8")
    setup = ["sync", "setup", "--folder", str(location), "--passphrase-file", str(secret)]
    result = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "--data-dir", str(tmp_path / "data"), *setup],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    assert_user_error(result, "keyring")
    assert not list(location.iterdir())
    assert not (tmp_path / "data" / "sync").exists()
