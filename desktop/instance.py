"""One window per data folder: a lock file, a small instance file, and a "come to the front" request.

The running launcher holds ``desktop.lock`` in the data folder (an OS lock: released when the process
dies, even on SIGKILL) and writes ``desktop-instance.json`` (0600) with its pid, the app's URL and a
loopback control port + token. A second launch fails to take the lock, reads the file and sends
``focus <token>`` to the control port; the running launcher brings its window to the front and
answers ``ok``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

LOCK_NAME = "desktop.lock"
INFO_NAME = "desktop-instance.json"

_log = logging.getLogger("desktop.instance")


class InstanceLock:
    """The single-instance lock of one data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._lock = FileLock(str(self.data_dir / LOCK_NAME))

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another launcher holds it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def release(self) -> None:
        """Release the lock and remove the instance file (idempotent)."""
        if self._lock.is_locked:
            with contextlib.suppress(OSError):
                (self.data_dir / INFO_NAME).unlink()
            self._lock.release(force=True)


def write_info(data_dir: Path, info: dict[str, Any]) -> None:
    """Atomically write the instance file (readable by this user only)."""
    path = Path(data_dir) / INFO_NAME
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh)
    os.replace(tmp, path)


def read_info(data_dir: Path) -> dict[str, Any] | None:
    """The running instance's file, or None when absent or unreadable."""
    try:
        data = json.loads((Path(data_dir) / INFO_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class FocusListener:
    """A loopback control socket: ``focus <token>`` calls ``on_focus()`` and answers ``ok``."""

    def __init__(self, on_focus: Callable[[], None]) -> None:
        self.on_focus = on_focus
        self.token = secrets.token_hex(16)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self.port: int = self._sock.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._serve, name="focus-listener", daemon=True).start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                if self._closed.is_set():
                    return
                conn.settimeout(2)
                try:
                    request = conn.recv(256).decode("ascii", "replace").strip()
                except OSError:
                    continue
                if request == f"focus {self.token}":
                    _log.info("another launch asked for this window")
                    try:
                        self.on_focus()
                        conn.sendall(b"ok\n")
                    except Exception:
                        _log.exception("could not bring the window to the front")
                        conn.sendall(b"failed\n")
                else:
                    conn.sendall(b"denied\n")

    def close(self) -> None:
        """Stop answering (a thread blocked in ``accept`` is woken by the shutdown)."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()


def request_focus(info: dict[str, Any], timeout: float = 5.0) -> bool:
    """Ask the running launcher described by ``info`` to bring its window to the front."""
    port, token = info.get("control_port"), info.get("control_token")
    if not isinstance(port, int) or not isinstance(token, str):
        return False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(f"focus {token}\n".encode("ascii"))
            return conn.recv(16).strip() == b"ok"
    except OSError:
        return False
