"""Where the sync files live: a folder the user already syncs (Syncthing, Dropbox, a network share) or WebDAV.

A :class:`Transport` is deliberately small: list the files, read one, write a new one (never replacing one
that is there), delete one, clear away stale temporary files. Every device writes only files of its own, each under a new name, so no
transport needs locking. Every failure is a ``SyncError`` (a :class:`TransportError`) whose message names
the location and, where there is one, the file; ``transient`` says whether trying again later may help.

Other stores fit the same methods. An S3 transport through fsspec (``s3fs``), for example, would be (a sketch)::

    class S3Transport:
        def __init__(self, url: str, **options: str) -> None:
            self.fs, self.root = fsspec.core.url_to_fs(url, **options)   # "s3://bucket/expense-tracker"

        def list(self) -> dict[str, int]:
            return {PurePosixPath(e["name"]).name: e["size"] for e in self.fs.ls(self.root, detail=True)
                    if e["type"] == "file" and not PurePosixPath(e["name"]).name.startswith(".")}

        def write_new(self, name: str, data: bytes) -> None:
            # An S3 PUT is atomic (the object appears whole or not at all), so no temporary name is needed;
            # "never overwrite" is a conditional write (If-None-Match: *, 412 if the key exists; S3 has
            # honoured it since 2024), the extra keyword going through to PutObject.
            self.fs.pipe_file(f"{self.root}/{name}", data, IfNoneMatch="*")

with ``read`` = ``fs.cat_file``, ``delete`` = ``fs.rm_file`` (a missing key is fine), ``cleanup`` a no-op, and
botocore's errors mapped to the same :class:`TransportError` kinds (``EndpointConnectionError`` transient,
``AccessDenied`` refused credentials, ``PreconditionFailed`` already exists).
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import urlsplit, urlunsplit

from tracker.errors import SyncError, ValidationError, one_line
from tracker.storage.fsutil import describe_oserror, fsync_dir

TMP_PREFIX = ".tmp-"
STALE_TMP_SECONDS = 3600
"""A temporary file older than this (an hour) was left by a crashed or cut-off writer; :meth:`cleanup` removes it."""

ROOM_LATER = "nothing was lost, the change stays on this device and is sent when there is room"


class TransportError(SyncError):
    """The sync location cannot be listed, read or written; ``transient``: trying again later may work."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        self.transient = transient
        super().__init__(message)


class LocationMissingError(TransportError):
    """The folder or WebDAV collection is not there (an unplugged drive, an unmounted share)."""


class FileMissingError(TransportError):
    """The file asked for is not (or no longer) in the location."""


class FileExistsInLocationError(TransportError):
    """``write_new`` found a file of that name already there; it was left as it was."""


class LocationFullError(TransportError):
    """The location has no room left; nothing was written."""


class CredentialsRefusedError(TransportError):
    """The WebDAV server refused the user name or password."""


class UnreachableError(TransportError):
    """The WebDAV server does not answer (offline, refused, timed out): always transient."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


class Transport(Protocol):
    """A place that holds the sync files of every device, flat (no subfolders)."""

    def describe(self) -> str:
        """The folder path or the URL, for messages (never a password)."""
        ...

    def list(self) -> dict[str, int]:
        """Name -> size of the files in the location, leaving out hidden and temporary ones (``.*``)."""
        ...

    def read(self, name: str) -> bytes:
        """The content of ``name``; :class:`FileMissingError` if it is not there."""
        ...

    def write_new(self, name: str, data: bytes) -> None:
        """Store ``data`` as ``name``, whole or not at all; :class:`FileExistsInLocationError` if it exists."""
        ...

    def delete(self, name: str) -> None:
        """Remove ``name``; a file that is not there is fine."""
        ...

    def cleanup(self) -> builtins.list[str]:
        """Remove temporary files older than :data:`STALE_TMP_SECONDS`; their names."""
        ...


def check_name(name: str) -> None:
    """Refuse a file name that is not a plain, visible name directly in the location."""
    if not name or name.startswith(".") or any(ch in name for ch in "/\\\0"):
        raise ValidationError(
            "file name", name, "cannot be used in a sync location (a plain name not starting with '.')"
        )


def temporary_name(name: str) -> str:
    """A fresh hidden name to write ``name`` under before it is complete."""
    return f"{TMP_PREFIX}{name}-{secrets.token_hex(6)}"


class FolderTransport:
    """A local folder; another program (or a network file system) carries it to the other devices."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def from_config(cls, config: Mapping[str, str], password: str | None) -> FolderTransport:
        """``{"kind": "folder", "path": ...}``."""
        return cls(Path(_required(config, "path")).expanduser())

    def describe(self) -> str:
        """The folder's path."""
        return str(self.path)

    def list(self) -> dict[str, int]:
        """Name -> size of the regular files directly in the folder, hidden and temporary ones left out."""
        return {entry.name: size for entry, size in self._entries() if not entry.name.startswith(".")}

    def read(self, name: str) -> bytes:
        """The content of ``name``."""
        check_name(name)
        try:
            return (self.path / name).read_bytes()
        except FileNotFoundError:
            self._require_folder()
            raise FileMissingError(f"{one_line(name)} is not in the sync folder {self.path}") from None
        except OSError as exc:
            raise TransportError(
                f"cannot read {one_line(name)} from the sync folder {self.path}: {describe_oserror(exc)}"
            ) from None

    def write_new(self, name: str, data: bytes) -> None:
        """Write ``data`` under a temporary name, fsync, link it to ``name`` (never replacing), fsync the folder."""
        check_name(name)
        tmp = self.path / temporary_name(name)
        try:
            _write_synced(tmp, data)
            _rename_new(tmp, self.path / name)
        except FileExistsError:
            _remove_quietly(tmp)
            raise FileExistsInLocationError(
                f"{one_line(name)} is already in the sync folder {self.path}; it was left as it was"
            ) from None
        except OSError as exc:
            _remove_quietly(tmp)
            raise self._write_error(name, exc) from None
        try:
            fsync_dir(self.path)
        except OSError as exc:
            raise TransportError(
                f"wrote {one_line(name)} to the sync folder {self.path}, but could not make it durable: "
                f"{describe_oserror(exc)}"
            ) from None

    def delete(self, name: str) -> None:
        """Remove ``name`` durably; a file that is not there is fine (the folder must be)."""
        check_name(name)
        try:
            (self.path / name).unlink()
        except FileNotFoundError:
            self._require_folder()
            return
        except OSError as exc:
            raise TransportError(
                f"cannot delete {one_line(name)} from the sync folder {self.path}: {describe_oserror(exc)}"
            ) from None
        with contextlib.suppress(OSError):
            fsync_dir(self.path)

    def cleanup(self) -> builtins.list[str]:
        """Remove ``.tmp-*`` files older than an hour (left by a writer that crashed or lost power)."""
        cutoff = time.time_ns() - STALE_TMP_SECONDS * 10**9
        removed: builtins.list[str] = []
        for entry, _size in self._entries():
            if entry.name.startswith(TMP_PREFIX) and _mtime_ns(entry) < cutoff:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                removed.append(entry.name)
        if removed:
            with contextlib.suppress(OSError):
                fsync_dir(self.path)
        return removed

    def _entries(self) -> Iterator[tuple[os.DirEntry[str], int]]:
        """The regular files in the folder, with their sizes (one that vanishes meanwhile is left out)."""
        try:
            with os.scandir(self.path) as scan:
                entries = list(scan)
        except OSError as exc:
            raise self._folder_error(exc) from None
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False):
                    yield entry, entry.stat(follow_symlinks=False).st_size
            except OSError:  # removed meanwhile, or not ours to read: not a sync file
                continue

    def _require_folder(self) -> None:
        """Raise :class:`LocationMissingError` unless the folder is there."""
        if not self.path.is_dir():
            raise self._folder_error(FileNotFoundError(errno.ENOENT, "missing"))

    def _folder_error(self, exc: OSError) -> TransportError:
        """The error for a folder that cannot be used at all."""
        if isinstance(exc, FileNotFoundError):
            return LocationMissingError(
                f"the sync folder {self.path} does not exist (is its drive or network share connected?)"
            )
        if isinstance(exc, NotADirectoryError):
            return LocationMissingError(f"the sync folder {self.path} is not a folder")
        return TransportError(f"cannot read the sync folder {self.path}: {describe_oserror(exc)}")

    def _write_error(self, name: str, exc: OSError) -> TransportError:
        """The error for a failed ``write_new`` (the temporary file is already removed)."""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return LocationFullError(f"the sync folder {self.path} is full: {describe_oserror(exc)}; {ROOM_LATER}")
        if isinstance(exc, FileNotFoundError | NotADirectoryError) and not self.path.is_dir():
            return self._folder_error(exc)
        return TransportError(
            f"cannot write {one_line(name)} to the sync folder {self.path}: {describe_oserror(exc)}; nothing was written"
        )


def _mtime_ns(entry: os.DirEntry[str]) -> int:
    """When ``entry`` was last written (nanoseconds); now, if it has vanished meanwhile."""
    try:
        return entry.stat(follow_symlinks=False).st_mtime_ns
    except FileNotFoundError:
        return time.time_ns()


def _write_synced(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist), write ``data`` and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _rename_new(tmp: Path, final: Path) -> None:
    """Give ``tmp`` the name ``final`` atomically, never replacing a file (``FileExistsError`` then).

    A hard link refuses an existing target atomically; where the file system has no hard links (FAT, some
    network shares) an existence check and ``os.replace`` stand in (only this device writes its own names).
    """
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(final):
            raise FileExistsError(errno.EEXIST, "exists", str(final)) from None
        os.replace(tmp, final)
        return
    _remove_quietly(tmp)


def _remove_quietly(path: Path) -> None:
    """Remove ``path`` if it is there; a failure leaves it to :meth:`FolderTransport.cleanup`."""
    with contextlib.suppress(OSError):
        path.unlink()


def _required(config: Mapping[str, str], key: str) -> str:
    """``config[key]``, which must be a non-empty string."""
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(key, value or "", f"is required for a {config.get('kind')} sync location")
    return value


def _webdav_url(url: str) -> str:
    """``url`` as the collection's address (ending in ``/``), once it is http(s) with a host and no password."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("url", url, "is not an http:// or https:// address of a WebDAV folder")
    if parts.username is not None or parts.password is not None:
        safe = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
        raise ValidationError("url", safe, "must not hold a user name or password (give them separately)")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


class WebDAVTransport:
    """A collection on a WebDAV server (Nextcloud, ownCloud, a NAS, ``rclone serve webdav``)."""

    def __init__(self, url: str, user: str | None, password: str | None, timeout: float = 30) -> None:
        from webdav4.client import Client

        self.url = _webdav_url(url)
        self.timeout = timeout
        auth = (user, password or "") if user else None
        self._client = Client(self.url, auth=auth, retry=False, timeout=timeout)
        origin = urlunsplit((*urlsplit(self.url)[:2], "/", "", ""))
        self._root = Client(origin, auth=auth, retry=False, http_client=self._client.http)

    @classmethod
    def from_config(cls, config: Mapping[str, str], password: str | None) -> WebDAVTransport:
        """``{"kind": "webdav", "url": ..., "user": ...}`` (the password comes from the keyring)."""
        return cls(_required(config, "url"), config.get("user") or None, password)

    def describe(self) -> str:
        """The collection's URL (it never holds credentials)."""
        return self.url

    def close(self) -> None:
        """Close the connections to the server."""
        self._client.http.close()

    def list(self) -> dict[str, int]:
        """Name -> size of the files in the collection (created, empty, if it is missing)."""
        return {
            entry["name"]: int(entry.get("content_length") or 0)
            for entry in self._ls()
            if entry.get("type") == "file" and _plain(entry["name"])
        }

    def read(self, name: str) -> bytes:
        """The content of ``name`` (one GET)."""
        from webdav4.client import ResourceNotFound

        check_name(name)
        with self._errors(f"read {one_line(name)}"):
            try:
                return self._client.request("GET", name).content
            except ResourceNotFound:
                raise FileMissingError(f"{one_line(name)} is not on the WebDAV server at {self.url}") from None

    def write_new(self, name: str, data: bytes) -> None:
        """PUT ``data`` to a temporary name, then MOVE it to ``name`` without overwriting; the temporary goes on failure."""
        from webdav4.client import ResourceAlreadyExists

        check_name(name)
        tmp = temporary_name(name)
        with self._errors(f"store {one_line(name)}"):
            try:
                self._put(tmp, data)
                self._client.move(tmp, name, overwrite=False)
            except ResourceAlreadyExists:
                self._remove_quietly(tmp)
                raise FileExistsInLocationError(
                    f"{one_line(name)} is already on the WebDAV server at {self.url}; it was left as it was"
                ) from None
            except Exception:
                self._remove_quietly(tmp)
                raise

    def delete(self, name: str) -> None:
        """DELETE ``name``; a file that is not there is fine."""
        from webdav4.client import ResourceNotFound

        check_name(name)
        with self._errors(f"delete {one_line(name)}"), contextlib.suppress(ResourceNotFound):
            self._client.remove(name)

    def cleanup(self) -> builtins.list[str]:
        """Remove ``.tmp-*`` files older than an hour (an upload cut off before its MOVE)."""
        cutoff = datetime.now(UTC) - timedelta(seconds=STALE_TMP_SECONDS)
        stale = [
            entry["name"]
            for entry in self._ls()
            if entry.get("type") == "file"
            and entry["name"].startswith(TMP_PREFIX)
            and entry.get("modified") is not None
            and entry["modified"] < cutoff
        ]
        for name in stale:
            self._remove_quietly(name)
        return stale

    def _ls(self) -> builtins.list[dict[str, Any]]:
        """The collection's entries (PROPFIND, depth 1); a missing collection is created."""
        from webdav4.client import ResourceNotFound

        with self._errors("list its files"):
            try:
                return cast("builtins.list[dict[str, Any]]", self._client.ls("", detail=True))
            except ResourceNotFound:
                self._make_collection()
                return []

    def _put(self, name: str, data: bytes) -> None:
        """PUT ``data`` as ``name``; if the collection is missing (409 Conflict), create it and PUT again."""
        from webdav4.client import HTTPError

        try:
            self._client.upload_fileobj(io.BytesIO(data), name, overwrite=True)
        except HTTPError as exc:
            if exc.status_code != 409:
                raise
            self._make_collection()
            self._client.upload_fileobj(io.BytesIO(data), name, overwrite=True)

    def _make_collection(self) -> None:
        """MKCOL the collection and whichever of its parents are missing (a missing parent answers 409)."""
        from webdav4.client import ResourceAlreadyExists, ResourceConflict

        segments = [part for part in self._client.base_url.path.split("/") if part]
        depth = len(segments)
        while depth > 0:
            try:
                self._root.mkdir("/".join(segments[:depth]))
                break
            except ResourceAlreadyExists:
                break
            except ResourceConflict:
                depth -= 1
        for deeper in range(depth + 1, len(segments) + 1):
            with contextlib.suppress(ResourceAlreadyExists):
                self._root.mkdir("/".join(segments[:deeper]))

    def _remove_quietly(self, name: str) -> None:
        """DELETE ``name`` if possible; a failure leaves it to :meth:`cleanup`."""
        from webdav4.client import ClientError
        from webdav4.http import HTTPNetworkError, HTTPTimeoutException

        with contextlib.suppress(ClientError, HTTPNetworkError, HTTPTimeoutException):
            self._client.remove(name)

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn webdav4's and httpx's exceptions into :class:`TransportError` ones; ``doing``: "read x"."""
        import httpx
        from webdav4.client import ClientError

        try:
            yield
        except httpx.TimeoutException:
            raise UnreachableError(f"cannot reach {self.url}: no answer within {self.timeout:g} seconds") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise UnreachableError(f"cannot reach {self.url}: {one_line(str(exc)) or type(exc).__name__}") from None
        except ClientError as exc:
            raise self._client_error(exc, doing) from None

    def _client_error(self, exc: Exception, doing: str) -> TransportError:
        """The :class:`TransportError` for one of webdav4's exceptions."""
        from webdav4.client import BadGatewayError, ForbiddenOperation, HTTPError, InsufficientStorage, ResourceLocked

        status = exc.status_code if isinstance(exc, HTTPError) else None
        if status == 401:
            return CredentialsRefusedError(f"the WebDAV server at {self.url} refused the user name or password")
        if status == 403 or isinstance(exc, ForbiddenOperation):
            return CredentialsRefusedError(
                f"the WebDAV server at {self.url} refused the user name or password, "
                f"or does not let this user {doing} there (403 Forbidden)"
            )
        if isinstance(exc, InsufficientStorage) or status == 507:
            return LocationFullError(
                f"the WebDAV server at {self.url} has no room left (507 Insufficient Storage); {ROOM_LATER}"
            )
        if isinstance(exc, BadGatewayError | ResourceLocked) or status in _TRANSIENT_STATUS:
            return TransportError(
                f"the WebDAV server at {self.url} could not {doing} for now ({one_line(str(exc))}); it is tried again later",
                transient=True,
            )
        return TransportError(f"the WebDAV server at {self.url} could not {doing}: {one_line(str(exc))}")


_TRANSIENT_STATUS = frozenset({408, 423, 425, 429, 500, 502, 503, 504, 509})
"""HTTP statuses that say "not now" rather than "never"."""


def _plain(name: str) -> bool:
    """Whether ``name`` (from a listing) is a visible file directly in the location."""
    return bool(name) and not name.startswith(".") and "/" not in name


TRANSPORTS: dict[str, Callable[[Mapping[str, str], str | None], Transport]] = {
    "folder": FolderTransport.from_config,
    "webdav": WebDAVTransport.from_config,
}
"""Sync location kinds: ``config["kind"]`` -> a factory ``(config, password) -> Transport``."""


def open_transport(config: Mapping[str, str], password: str | None) -> Transport:
    """The transport ``config`` describes (``{"kind": "folder", "path": ...}`` or ``{"kind": "webdav", ...}``)."""
    kind = config.get("kind")
    factory = TRANSPORTS.get(kind) if isinstance(kind, str) else None
    if factory is None:
        raise ValidationError("kind", kind, f"is not a kind of sync location ({', '.join(sorted(TRANSPORTS))})")
    return factory(config, password)
