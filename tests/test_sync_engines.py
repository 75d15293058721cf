"""Sync through the real engines: two Syncthing daemons on loopback, and a real WebDAV server.

Each device is a real data folder; the Syncthing devices each have their own sync folder, shared by their own
daemon (tests/syncthing_harness.py); the WebDAV devices talk HTTP to a wsgidav server with a user and password
(tests/webdav_server.py). Edits, deletions, undos and imports on both sides, a daemon stopped meanwhile, the
server stopped mid-sync and out of room, and a sync process killed at any moment: every device ends with the
same ledger, nothing lost and nothing doubled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_FIXTURES
from sync_helpers import Device, assert_converged

from tracker.errors import SyncError
from tracker.importers.commit import import_file
from tracker.ledger import Ledger
from tracker.sync.session import folder_location, webdav_location

pytestmark = pytest.mark.sync
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def keyring_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    from sync_fixtures import use_test_keyring

    return use_test_keyring(monkeypatch, tmp_path)


def notes(device: Device) -> list[str]:
    return sorted(Ledger(device.data_dir).frame()["note"])


# -- Syncthing ----------------------------------------------------------------------------------------------------


@pytest.fixture
def syncthing(tmp_path: Path) -> Iterator[Any]:
    from syncthing_harness import SYNCTHING, SyncthingPair

    if not Path(SYNCTHING).exists():
        pytest.skip(f"{SYNCTHING} is not installed (Debian package syncthing; `make test` installs it as root)")
    pair = SyncthingPair(tmp_path / "st", tmp_path / "sync-a", tmp_path / "sync-b")
    pair.start()
    try:
        yield pair
    finally:
        pair.stop()


def st_round(pair: Any, devices: list[Device], rounds: int = 2) -> None:
    """Each device syncs with its own folder and Syncthing carries the files across, ``rounds`` times."""
    for _ in range(rounds):
        for device in devices:
            device.sync()
            pair.wait_in_sync()


def test_two_devices_converge_through_syncthing(tmp_path: Path, syncthing: Any, keyring_file: Path) -> None:
    a = Device(tmp_path, "a", folder_location(syncthing.folder("a")), encrypted=True, passphrase=PASSPHRASE)
    pair_keycheck = syncthing.folder("a") / "keycheck.json"
    syncthing.wait_in_sync()
    assert (syncthing.folder("b") / "keycheck.json").read_bytes() == pair_keycheck.read_bytes()
    b = Device(tmp_path, "b", folder_location(syncthing.folder("b")), encrypted=True, passphrase=PASSPHRASE)
    statement = SHARED_FIXTURES / "ofx" / "checking.ofx"
    imported = len(import_file(a.ledger, statement).added)
    assert len(import_file(b.ledger, statement).added) == imported  # the same bank file on both devices
    kept = a.ledger.add_expense("10", category="Food", note="kept")
    edited = a.ledger.add_expense("20", category="Food", note="to edit")
    gone = b.ledger.add_expense("30", category="Rent", note="to delete")
    st_round(syncthing, [a, b])
    assert_converged([a, b])

    syncthing.stop_one("b")  # B's daemon is down: each side goes on changing and syncing with its own folder
    a.ledger.update(edited.id, note="edited on a")
    a.ledger.delete(gone.id)
    b.ledger.refresh()
    b.ledger.update(kept.id, category="Groceries")
    b.ledger.add_expense("40", category="Fun", note="added on b offline")
    b.ledger.add_expense("50", category="Fun", note="undone on b")
    b.ledger.undo()
    a.sync()
    b.sync()
    syncthing.start_one("b")
    syncthing.wait_in_sync()
    st_round(syncthing, [a, b])
    assert_converged([a, b])
    assert len(a.ledger) == imported + 3  # one copy of each imported row; kept, edited, added offline
    assert Ledger(a.data_dir).get(kept.id).category == "Groceries"
    assert "edited on a" in notes(a)
    assert "added on b offline" in notes(a)
    assert "undone on b" not in notes(a)
    for folder in (syncthing.folder("a"), syncthing.folder("b")):
        assert not [p.name for p in folder.iterdir() if "conflict" in p.name]  # never a conflicted copy of ours


# -- WebDAV -------------------------------------------------------------------------------------------------------


@pytest.fixture
def webdav(tmp_path: Path) -> Iterator[Any]:
    from webdav_server import WebDAVServer

    server = WebDAVServer(tmp_path / "dav")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def dav_devices(tmp_path: Path, server: Any, names: list[str]) -> list[Device]:
    location = webdav_location(server.url + "ledger/", "alice")
    return [Device(tmp_path, n, location, passphrase=PASSPHRASE, password="secret") for n in names]


def test_two_devices_converge_through_webdav_and_survive_the_server(
    tmp_path: Path, webdav: Any, keyring_file: Path
) -> None:
    a, b = dav_devices(tmp_path, webdav, ["a", "b"])
    first = a.ledger.add_expense("10", category="Food", note="first")
    b.ledger.add_income("100", category="Salary", note="pay")
    for device in (a, b, a):
        device.sync()
    assert_converged([a, b])
    for path in (webdav.folder / "ledger").iterdir():
        assert b"Salary" not in path.read_bytes()  # the server sees nothing

    webdav.stop()  # unreachable: a clear error, and nothing lost
    a.ledger.update(first.id, note="edited while the server was down")
    before = sorted(p.name for p in a.data_dir.iterdir())
    with pytest.raises(SyncError, match="cannot reach") as caught:
        a.sync()
    assert getattr(caught.value, "transient", False)
    assert sorted(p.name for p in a.data_dir.iterdir()) == before
    webdav.start()
    a.sync()
    b.sync()
    assert Ledger(b.data_dir).get(first.id).note == "edited while the server was down"

    webdav.set_full(True, partial=True)  # 507 Insufficient Storage: the change stays here until there is room
    a.ledger.add_expense("7", category="Food", note="while the server was full")
    with pytest.raises(SyncError, match="no room"):
        a.sync()
    assert "while the server was full" in notes(a)
    webdav.set_full(False)
    a.sync()
    b.sync()
    a.sync()
    assert_converged([a, b])
    assert "while the server was full" in notes(b)


def test_with_webdav_on_the_only_connections_go_to_the_configured_host(
    tmp_path: Path, webdav: Any, keyring_file: Path
) -> None:
    a, b = dav_devices(tmp_path, webdav, ["a", "b"])
    a.ledger.add_expense("1", category="A")
    seen: list[Any] = []
    watching = [True]

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if watching[0] and event in ("socket.connect", "socket.getaddrinfo", "socket.sendto"):
            seen.append((event, args[1] if event != "socket.getaddrinfo" else args[0]))

    sys.addaudithook(audit)
    try:
        a.sync()
        b.sync()
    finally:
        watching[0] = False
    hosts = {target[0] if isinstance(target, tuple) else target for _, target in seen}
    assert seen
    assert hosts <= {"127.0.0.1"}, seen


# -- killed mid-sync ----------------------------------------------------------------------------------------------


def _kill_during_sync(data_dir: Path, after: float) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "--data-dir", str(data_dir), "sync", "now"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(after)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.parametrize("transport", ["folder", "webdav"])
def test_a_sync_killed_at_any_moment_loses_nothing(
    tmp_path: Path, transport: str, keyring_file: Path, request: pytest.FixtureRequest
) -> None:
    if transport == "webdav":
        server = request.getfixturevalue("webdav")
        a, b = dav_devices(tmp_path, server, ["a", "b"])
    else:
        (tmp_path / "location").mkdir()
        location = folder_location(tmp_path / "location")
        a, b = (Device(tmp_path, n, location, passphrase=PASSPHRASE, encrypted=True) for n in ("a", "b"))
    rows = [a.ledger.add_expense(str(i + 1), category="Food", note=f"a{i}") for i in range(60)]
    b.ledger.add_expense("5", category="Rent", note="b0")
    for i, after in enumerate((0.3, 0.6, 0.9, 1.2, 1.5, 2.0)):  # at different moments of the sync
        a.ledger.update(rows[i].id, note=f"a{i} edited")
        _kill_during_sync(a.data_dir, after)
        _kill_during_sync(b.data_dir, after / 2)
    for device in (a, b, a, b):
        device.sync()
    assert_converged([a, b])
    expected = sorted([*(f"a{i} edited" for i in range(6)), *(f"a{i}" for i in range(6, 60)), "b0"])
    assert notes(a) == expected


def test_a_full_sync_folder_is_an_error_and_loses_nothing(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "tiny"
    folder.mkdir()
    if not sys.platform.startswith("linux") or shutil.which("mount") is None:
        pytest.skip("a tiny file system is mounted with Linux's mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tiny tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        a = Device(tmp_path, "a", folder_location(folder))
        b = Device(tmp_path, "b", folder_location(folder))
        a.ledger.add_expense("1", category="Food", note="fits")
        a.sync()
        (folder / "someone else's big file").write_bytes(b"x" * 50_000)  # the disk fills up meanwhile
        for i in range(300):
            a.ledger.add_expense(str(i + 2), category="Food", note=f"row {i} {os.urandom(40).hex()}")
        with pytest.raises(SyncError, match="full"):
            a.sync()
        assert len(Ledger(a.data_dir)) == 301  # every row still here
        (folder / "someone else's big file").unlink()
        a.sync()
        b.sync()
        assert_converged([a, b])
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_the_server_stopped_in_the_middle_of_a_sync_loses_nothing(
    tmp_path: Path, webdav: Any, keyring_file: Path
) -> None:
    from tracker.sync.session import open_location
    from tracker.sync.syncer import sync_now

    a, b = dav_devices(tmp_path, webdav, ["a", "b"])
    for i in range(20):
        a.ledger.add_expense(str(i + 1), category="Food", note=f"a{i}")
    b.ledger.add_expense("5", category="Rent", note="b0")
    a.sync()

    class StopsTheServer:
        """B's real transport, with the real server stopped right after B's first download."""

        def __init__(self) -> None:
            self.inner = open_location(b.config)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def read(self, name: str) -> bytes:
            data = self.inner.read(name)
            if name.startswith("seg-"):
                webdav.stop()
            return data

    with pytest.raises(SyncError, match="cannot reach"):
        sync_now(Ledger(b.data_dir), transport=StopsTheServer())  # type: ignore[arg-type]
    assert notes(b) in (["b0"], sorted(["b0", *(f"a{i}" for i in range(20))]))  # as before, or merged whole
    webdav.start()
    for device in (b, a, b):
        device.sync()
    assert_converged([a, b])
    assert notes(a) == sorted(["b0", *(f"a{i}" for i in range(20))])
