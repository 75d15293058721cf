"""The sync transports: one contract run against a real folder and a real WebDAV server, then each one's failures."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from webdav_server import PASSWORD, USER, WebDAVServer

from tracker.errors import SyncError, ValidationError
from tracker.sync.transport import (
    STALE_TMP_SECONDS,
    CredentialsRefusedError,
    FileExistsInLocationError,
    FileMissingError,
    FolderTransport,
    LocationFullError,
    LocationMissingError,
    Transport,
    UnreachableError,
    WebDAVTransport,
    open_transport,
)

_collections = itertools.count()


@dataclass
class Location:
    """A transport and the folder on disk that holds its files (to look behind its back)."""

    transport: Transport
    folder: Path

    def files_on_disk(self) -> list[str]:
        return sorted(os.listdir(self.folder)) if self.folder.exists() else []


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDAVServer]:
    """One server for the contract tests; each test gets its own collection on it."""
    with WebDAVServer(tmp_path_factory.mktemp("dav") / "root") as server:
        yield server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WebDAVServer]:
    """A server of the test's own, for tests that stop it or fill it up."""
    with WebDAVServer(tmp_path / "root") as server:
        yield server


_opened: list[WebDAVTransport] = []


@pytest.fixture(autouse=True)
def _close_transports() -> Iterator[None]:
    """Close the connections of every WebDAV transport a test opened (through :func:`dav`)."""
    yield
    while _opened:
        _opened.pop().close()


def dav(url: str, user: str | None = USER, password: str | None = PASSWORD, timeout: float = 10) -> WebDAVTransport:
    """A WebDAV transport, closed after the test."""
    transport = WebDAVTransport(url, user, password, timeout=timeout)
    _opened.append(transport)
    return transport


def webdav_location(server: WebDAVServer, collection: str) -> Location:
    return Location(dav(server.url + collection), server.folder / collection)


@pytest.fixture(params=["folder", "webdav"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Location]:
    if request.param == "folder":
        folder = tmp_path / "sync"
        folder.mkdir()
        yield Location(FolderTransport(folder), folder)
        return
    made = webdav_location(request.getfixturevalue("shared_server"), f"c{next(_collections)}")
    made.transport.list()  # creates the collection, so tests can put files into it behind the transport's back
    yield made


# The contract: the same behaviour from every transport.


def test_files_are_written_listed_read_and_deleted(location: Location) -> None:
    transport = location.transport
    assert transport.list() == {}
    data = bytes(range(256)) * 50
    transport.write_new("seg-a-1", data)
    transport.write_new("seg-a-2", b"")
    assert transport.list() == {"seg-a-1": len(data), "seg-a-2": 0}
    assert transport.read("seg-a-1") == data
    assert transport.read("seg-a-2") == b""
    assert (location.folder / "seg-a-1").read_bytes() == data
    transport.delete("seg-a-1")
    assert transport.list() == {"seg-a-2": 0}
    transport.delete("seg-a-1")  # already gone: fine
    assert location.files_on_disk() == ["seg-a-2"]


def test_a_file_is_never_overwritten(location: Location) -> None:
    location.transport.write_new("keycheck.json", b"first")
    with pytest.raises(FileExistsInLocationError, match=r"^keycheck\.json is already .*; it was left as it was$"):
        location.transport.write_new("keycheck.json", b"second")
    assert location.transport.read("keycheck.json") == b"first"
    assert location.files_on_disk() == ["keycheck.json"]


def test_hidden_and_temporary_files_are_not_listed_and_none_are_left(location: Location) -> None:
    (location.folder / ".tmp-seg-b-1-0a1b2c").write_bytes(b"half")
    (location.folder / ".DS_Store").write_bytes(b"mac")
    location.transport.write_new("seg-a-1", b"whole")
    assert location.transport.list() == {"seg-a-1": 5}
    assert location.files_on_disk() == [".DS_Store", ".tmp-seg-b-1-0a1b2c", "seg-a-1"]


def test_foreign_files_are_listed_and_subfolders_are_not(location: Location) -> None:
    (location.folder / "notes (copy).txt").write_bytes(b"not ours")
    (location.folder / "Ärger é.seg").write_bytes(b"unicode")
    (location.folder / "sub").mkdir()
    (location.folder / "sub" / "inner").write_bytes(b"deep")
    assert location.transport.list() == {"notes (copy).txt": 8, "Ärger é.seg": 7}
    assert location.transport.read("Ärger é.seg") == b"unicode"


def test_a_name_with_spaces_and_accents_round_trips(location: Location) -> None:
    location.transport.write_new("seg é 1", b"x")
    assert location.transport.list() == {"seg é 1": 1}
    assert location.transport.read("seg é 1") == b"x"
    assert location.files_on_disk() == ["seg é 1"]


def test_reading_a_missing_file_names_it_and_the_location(location: Location) -> None:
    with pytest.raises(FileMissingError) as caught:
        location.transport.read("seg-z-9")
    assert "seg-z-9" in str(caught.value)
    assert location.transport.describe() in str(caught.value)
    assert not caught.value.transient


@pytest.mark.parametrize("name", ["", ".hidden", ".tmp-x", "a/b", "..", "a\\b"])
def test_a_name_that_is_not_plain_is_refused(location: Location, name: str) -> None:
    for call in (
        lambda: location.transport.write_new(name, b"x"),
        lambda: location.transport.read(name),
        lambda: location.transport.delete(name),
    ):
        with pytest.raises(ValidationError, match="file name"):
            call()


def test_cleanup_removes_only_stale_temporary_files(location: Location) -> None:
    old, fresh = location.folder / ".tmp-seg-a-1-aaaa", location.folder / ".tmp-seg-a-2-bbbb"
    for path in (old, fresh):
        path.write_bytes(b"partial")
    two_hours_ago = time.time_ns() - 2 * STALE_TMP_SECONDS * 10**9
    os.utime(old, ns=(two_hours_ago, two_hours_ago))
    (location.folder / "seg-a-0").write_bytes(b"old but real")
    os.utime(location.folder / "seg-a-0", ns=(two_hours_ago, two_hours_ago))
    assert location.transport.cleanup() == [old.name]
    assert location.files_on_disk() == [fresh.name, "seg-a-0"]


# The folder transport.


def test_a_missing_folder_is_a_clear_error_and_is_not_created(tmp_path: Path) -> None:
    folder = tmp_path / "Dropbox" / "expense-tracker"
    transport = FolderTransport(folder)
    for call in (
        transport.list,
        lambda: transport.read("a"),
        lambda: transport.write_new("a", b"x"),
        transport.cleanup,
    ):
        with pytest.raises(LocationMissingError) as caught:
            call()
        assert str(caught.value) == (
            f"the sync folder {folder} does not exist (is its drive or network share connected?)"
        )
        assert not caught.value.transient
    assert not folder.exists()


def test_a_file_in_place_of_the_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "sync").write_text("oops")
    with pytest.raises(LocationMissingError, match="is not a folder"):
        FolderTransport(tmp_path / "sync").list()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB file system (tmpfs), to fill up; skipped where it cannot be mounted."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    if not sys.platform.startswith("linux") or shutil.which("mount") is None:
        pytest.skip("a tiny file system is mounted with Linux's mount(8)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tiny tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_folder_loses_nothing_and_leaves_no_partial_file(tiny_disk: Path) -> None:
    transport = FolderTransport(tiny_disk)
    transport.write_new("seg-a-1", b"small")
    with pytest.raises(LocationFullError) as caught:
        transport.write_new("seg-a-2", os.urandom(256 * 1024))
    assert str(caught.value) == (
        f"the sync folder {tiny_disk} is full: the disk is full; nothing was lost, "
        "the change stays on this device and is sent when there is room"
    )
    assert not caught.value.transient
    assert transport.list() == {"seg-a-1": 5}
    assert sorted(os.listdir(tiny_disk)) == ["seg-a-1"]
    transport.write_new("seg-a-2", b"fits now")
    assert transport.read("seg-a-2") == b"fits now"


def test_a_written_file_is_private(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("file modes are POSIX")
    FolderTransport(tmp_path).write_new("seg-a-1", b"x")
    assert (tmp_path / "seg-a-1").stat().st_mode & 0o777 == 0o600


# The WebDAV transport.


def test_a_missing_collection_is_created_with_its_parents(shared_server: WebDAVServer) -> None:
    made = webdav_location(shared_server, f"p{next(_collections)}/expense tracker/sync")
    assert not made.folder.exists()
    assert made.transport.list() == {}
    assert made.folder.is_dir()
    made.transport.write_new("seg-a-1", b"x")
    assert (made.folder / "seg-a-1").read_bytes() == b"x"


def test_writing_first_creates_the_collection_too(shared_server: WebDAVServer) -> None:
    made = webdav_location(shared_server, f"w{next(_collections)}/deeper")
    made.transport.write_new("seg-a-1", b"x")
    assert made.files_on_disk() == ["seg-a-1"]


def test_a_wrong_password_is_refused_clearly(shared_server: WebDAVServer) -> None:
    transport = dav(shared_server.url, USER, "not-the-password")
    for call in (transport.list, lambda: transport.read("a"), lambda: transport.write_new("a", b"x")):
        with pytest.raises(CredentialsRefusedError) as caught:
            call()
        assert str(caught.value) == f"the WebDAV server at {shared_server.url} refused the user name or password"
        assert "not-the-password" not in str(caught.value)
        assert not caught.value.transient
    with pytest.raises(CredentialsRefusedError):
        dav(shared_server.url, None, None).list()


@pytest.mark.parametrize("partial", [False, True], ids=["refused", "half-stored"])
def test_a_full_server_loses_nothing_and_leaves_no_upload(server: WebDAVServer, partial: bool) -> None:
    made = webdav_location(server, "sync")
    made.transport.write_new("seg-a-1", b"small")
    server.set_full(True, partial=partial)
    with pytest.raises(LocationFullError) as caught:
        made.transport.write_new("seg-a-2", b"x" * 1000)
    assert str(caught.value) == (
        f"the WebDAV server at {server.url}sync/ has no room left (507 Insufficient Storage); "
        "nothing was lost, the change stays on this device and is sent when there is room"
    )
    assert made.transport.list() == {"seg-a-1": 5}
    assert made.files_on_disk() == ["seg-a-1"]
    server.set_full(False)
    made.transport.write_new("seg-a-2", b"fits now")
    assert made.transport.list() == {"seg-a-1": 5, "seg-a-2": 8}


def test_a_stopped_server_is_a_transient_error_and_a_restarted_one_works(server: WebDAVServer) -> None:
    made = webdav_location(server, "sync")
    made.transport.write_new("seg-a-1", b"before")
    server.stop()
    for call in (
        made.transport.list,
        lambda: made.transport.read("seg-a-1"),
        lambda: made.transport.write_new("b", b""),
    ):
        with pytest.raises(UnreachableError) as caught:
            call()
        assert caught.value.transient
        assert str(caught.value).startswith(f"cannot reach {server.url}sync/: ")
    server.restart()
    made.transport.write_new("seg-a-2", b"after")
    assert made.transport.list() == {"seg-a-1": 6, "seg-a-2": 5}
    assert made.transport.read("seg-a-1") == b"before"


def test_a_server_that_never_answers_times_out_as_a_transient_error() -> None:
    with socket.socket() as listener:  # accepts connections (the kernel's backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/dav/"
        with pytest.raises(UnreachableError, match=r"^cannot reach .*/dav/: no answer within 0\.3 seconds$") as caught:
            dav(url, timeout=0.3).list()
    assert caught.value.transient


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.org/x", "is not an http:// or https:// address"),
        ("https:///nohost", "is not an http:// or https:// address"),
        ("https://alice:hunter22@example.org/dav", "must not hold a user name or password"),
    ],
)
def test_a_bad_webdav_url_is_refused_without_showing_a_password(url: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as caught:
        WebDAVTransport(url, None, None)
    assert "hunter22" not in str(caught.value)


def test_describe_is_the_url_or_the_path(tmp_path: Path) -> None:
    assert WebDAVTransport("https://dav.example.org/files/et", "alice", "pw").describe() == (
        "https://dav.example.org/files/et/"
    )
    assert FolderTransport(tmp_path).describe() == str(tmp_path)


# open_transport


def test_open_transport_builds_the_configured_kind(tmp_path: Path) -> None:
    folder = open_transport({"kind": "folder", "path": str(tmp_path)}, None)
    assert isinstance(folder, FolderTransport)
    assert folder.describe() == str(tmp_path)
    dav = open_transport({"kind": "webdav", "url": "https://dav.example.org/et/", "user": "alice"}, "pw")
    assert isinstance(dav, WebDAVTransport)
    assert dav.describe() == "https://dav.example.org/et/"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"kind": "s3"}, "kind: 's3' is not a kind of sync location (folder, webdav)"),
        ({}, "kind: None is not a kind of sync location (folder, webdav)"),
        ({"kind": "folder"}, "path: '' is required for a folder sync location"),
        ({"kind": "webdav", "url": " "}, "url: ' ' is required for a webdav sync location"),
    ],
)
def test_open_transport_refuses_an_unknown_or_incomplete_config(config: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        open_transport(config, None)
    assert str(caught.value) == message


def test_every_transport_error_is_a_sync_error() -> None:
    for kind in (FileMissingError, FileExistsInLocationError, LocationFullError, LocationMissingError):
        assert issubclass(kind, SyncError)
    assert UnreachableError("x").transient
