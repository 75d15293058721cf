"""The two-daemon Syncthing harness itself: files travel both ways byte-identical, changes made while one
daemon is down arrive after it restarts, deletions propagate, the daemons are private and leave nothing
running, and a folder that cannot converge fails with a diagnostic."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from syncthing_harness import SYNCTHING, SyncthingPair

pytestmark = [
    pytest.mark.sync,
    pytest.mark.skipif(
        not SYNCTHING.exists(),
        reason=f"Syncthing is not installed at {SYNCTHING} (Debian: apt-get install syncthing)",
    ),
]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[SyncthingPair]:
    with SyncthingPair(tmp_path / "syncthing", tmp_path / "device-a", tmp_path / "device-b") as p:
        yield p
    if p.sync_seconds:
        print("wait_in_sync took", ", ".join(f"{s:.2f} s" for s in p.sync_seconds))


def test_a_file_written_on_either_side_arrives_byte_identical(pair: SyncthingPair) -> None:
    small = b'{"id": "tx-1", "amount": "12.50"}\n'
    large = os.urandom(1024 * 1024 + 17)  # several blocks
    (pair.folder("a") / "events").mkdir()
    (pair.folder("a") / "events" / "0001.json").write_bytes(small)
    (pair.folder("a") / "blob.bin").write_bytes(large)
    pair.wait_in_sync()
    assert pair.files("b") == {"events/0001.json": small, "blob.bin": large}

    from_b = b'{"id": "tx-2", "amount": "-3.20"}\n'
    (pair.folder("b") / "events" / "0002.json").write_bytes(from_b)
    pair.wait_in_sync()
    assert pair.files("a")["events/0002.json"] == from_b
    assert pair.files("a") == pair.files("b")


def test_files_written_while_b_is_down_sync_after_it_restarts(pair: SyncthingPair) -> None:
    (pair.folder("a") / "before.json").write_bytes(b"before")
    pair.wait_in_sync()
    pair.stop_one("b")
    with pytest.raises(AssertionError, match="not running"):
        pair.wait_in_sync(timeout=1)

    (pair.folder("a") / "from-a.json").write_bytes(b"written on A while B was down")
    (pair.folder("b") / "from-b.json").write_bytes(b"written on B while its daemon was down")
    pair.rescan()  # only A is running: scans A
    pair.start_one("b")
    pair.wait_in_sync()

    expected = {
        "before.json": b"before",
        "from-a.json": b"written on A while B was down",
        "from-b.json": b"written on B while its daemon was down",
    }
    assert pair.files("a") == expected
    assert pair.files("b") == expected


def test_a_file_deleted_on_a_disappears_on_b(pair: SyncthingPair) -> None:
    (pair.folder("a") / "keep.json").write_bytes(b"keep")
    (pair.folder("a") / "doomed.json").write_bytes(b"doomed")
    pair.wait_in_sync()
    assert set(pair.files("b")) == {"keep.json", "doomed.json"}

    (pair.folder("a") / "doomed.json").unlink()
    pair.wait_in_sync()
    assert pair.files("b") == {"keep.json": b"keep"}
    assert not (pair.folder("b") / "doomed.json").exists()


def test_the_daemons_are_private_and_leave_nothing_running(tmp_path: Path) -> None:
    with SyncthingPair(tmp_path / "st", tmp_path / "A", tmp_path / "B") as pair:
        procs = list(pair.processes())
        assert len(procs) == 2
        for d, peer in ((pair.a, pair.b), (pair.b, pair.a)):
            cfg = d.api("GET", "/rest/config")
            opts = cfg["options"]
            assert opts["listenAddresses"] == [f"tcp://127.0.0.1:{d.listen_port}"]
            assert opts["globalAnnounceEnabled"] is False
            assert opts["localAnnounceEnabled"] is False
            assert opts["relaysEnabled"] is False
            assert opts["natEnabled"] is False
            assert opts["urAccepted"] == -1
            assert opts["crashReportingEnabled"] is False
            assert opts["autoUpgradeIntervalH"] == 0
            assert opts["startBrowser"] is False
            assert cfg["gui"]["address"] == f"127.0.0.1:{d.gui_port}"
            (folder,) = cfg["folders"]
            assert folder["id"] == "expense-sync"
            assert folder["type"] == "sendreceive"
            assert folder["ignorePerms"] is True
            assert {dev["deviceID"] for dev in folder["devices"]} == {d.device_id, peer.device_id}
            peer_cfg = next(dev for dev in cfg["devices"] if dev["deviceID"] == peer.device_id)
            assert peer_cfg["addresses"] == [f"tcp://127.0.0.1:{peer.listen_port}"]
            status = d.api("GET", "/rest/system/status")
            assert status.get("discoveryEnabled", False) is False  # 1.19 leaves the keys out when off
            assert not status.get("discoveryStatus")
            assert set(status["connectionServiceStatus"]) == {d.listen_address}
        assert not (tmp_path / "st" / "user-home" / ".config" / "syncthing").exists()
    for proc in procs:
        assert proc.poll() is not None
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)  # signal 0: does the process group still exist?
    assert list(pair.processes()) == []


def test_a_folder_that_cannot_converge_fails_with_a_diagnostic(pair: SyncthingPair) -> None:
    (pair.folder("b") / ".stignore").write_text("local-only.txt\n", encoding="utf-8")
    (pair.folder("b") / "local-only.txt").write_bytes(b"B ignores this, so A never gets it")
    with pytest.raises(AssertionError) as excinfo:
        pair.wait_in_sync(timeout=2)
    message = str(excinfo.value)
    assert "only in B: ['local-only.txt']" in message
    assert "daemon a" in message
    assert "daemon b" in message
    assert "last log lines" in message
