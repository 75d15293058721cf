"""Crash-safe file primitives: atomic durable replace, durable append, private permissions."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path

from tracker.errors import StorageError

POSIX = os.name == "posix"
TMP_MARK = ".tmp-"


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (a no-op where folders cannot be opened)."""
    if not POSIX:
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(folder: Path) -> None:
    """Create ``folder`` (and parents) with mode 0700; tighten it to 0700 if it exists."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if POSIX and (folder.stat().st_mode & 0o777) != 0o700:
            os.chmod(folder, 0o700)
    except OSError as exc:
        raise StorageError(f"cannot use the data folder {folder}: {describe_oserror(exc)}") from None


def describe_oserror(exc: OSError) -> str:
    """A short human reason for an ``OSError``."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EROFS: "the folder is on a read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ENOENT: "it does not exist",
        errno.EIO: "an input/output error occurred",
    }
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))


def tmp_path_for(path: Path) -> Path:
    """A unique temporary name beside ``path`` (same folder, so the rename is atomic)."""
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably, mode 0600.

    Temporary file in the same folder, write, fsync, rename over the target, fsync the folder.
    A crash at any instant leaves either the old or the new file; a failure removes the temporary file.
    A failure after the rename (the folder's fsync) says so: the new file is then in place, maybe not durably.
    """
    tmp = tmp_path_for(path)
    replaced = False
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        replaced = True
        fsync_dir(path.parent)
    except OSError as exc:
        if replaced:
            raise StorageError(
                f"wrote {path}, but could not make it durable: {describe_oserror(exc)}; a power cut now could undo it"
            ) from None
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StorageError(f"could not save {path}: {describe_oserror(exc)}; the previous data is unchanged") from None


def durable_append(path: Path, data: bytes, expected_size: int) -> int:
    """Append ``data`` to ``path`` at ``expected_size`` (cutting off any torn tail first), then fsync.

    Returns the new size. On failure the file is cut back to ``expected_size`` so that nothing half
    written stays behind, and ``StorageError`` is raised.
    """
    created = not path.exists()
    fd = -1
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        if os.fstat(fd).st_size != expected_size:
            os.ftruncate(fd, expected_size)
        os.lseek(fd, expected_size, os.SEEK_SET)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
        if created:
            fsync_dir(path.parent)
        return expected_size + len(data)
    except OSError as exc:
        undone = True
        if fd >= 0:
            try:
                os.ftruncate(fd, expected_size)
            except OSError:
                undone = False  # what was written stays: if it is a whole line, the change was saved
            with contextlib.suppress(OSError):
                os.fsync(fd)
        outcome = (
            "the previous data is unchanged"
            if undone
            else "the change may have been saved anyway: check (for example with `expense-tracker list`) before trying again"
        )
        raise StorageError(f"could not save {path}: {describe_oserror(exc)}; {outcome}") from None
    finally:
        if fd >= 0:
            os.close(fd)


def remove_stray_temporaries(folder: Path) -> list[Path]:
    """Delete temporary files a crashed writer left in ``folder``; call only while holding the lock."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        if entry.name.startswith(".") and TMP_MARK in entry.name:
            with contextlib.suppress(OSError):
                entry.unlink()
                removed.append(entry)
    if removed:
        with contextlib.suppress(OSError):
            fsync_dir(folder)
    return removed
