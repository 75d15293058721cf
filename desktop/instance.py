"""One window per data folder: a lock file, a small instance file, and a "come to the front" request.

The running launcher holds ``desktop.lock`` in the data folder (an OS lock: released when the process
dies, even on SIGKILL) and writes ``desktop-instance.json`` (0600) with its pid, the app's URL and a
loopback control port + token. A second launch fails to take the lock, reads the file and sends one
line to the control port:

* ``focus <token>``: the running launcher brings its window to the front and answers ``ok``;
* ``open <token> <path>`` (the absolute path, percent-encoded: one ASCII word): it checks the file
  (:func:`desktop.openfile.check_file`), shows it on the Import page and answers ``ok``, or
  ``refused <why>`` for a file it cannot open.

Any other line, or a wrong token, is answered ``denied``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from desktop.openfile import OpenFileError, check_file, shown

LOCK_NAME = "desktop.lock"
INFO_NAME = "desktop-instance.json"
MAX_REQUEST = 16 * 1024
"""The longest request line (a percent-encoded path of the OS's longest length fits)."""

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
    """A loopback control socket: ``focus <token>`` calls ``on_focus()``, ``open <token> <path>`` ``on_open(path)``.

    ``on_open`` gets a file :func:`~desktop.openfile.check_file` accepted; without it, ``open`` is denied.
    """

    def __init__(self, on_focus: Callable[[], None], on_open: Callable[[Path], None] | None = None) -> None:
        self.on_focus = on_focus
        self.on_open = on_open
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
                    request = _read_line(conn)
                    conn.sendall(self.answer(request).encode("utf-8") + b"\n")
                except OSError:
                    continue

    def answer(self, request: str) -> str:
        """The answer to one request line (and what it asks done)."""
        verb, _, rest = request.partition(" ")
        token, _, argument = rest.partition(" ")
        if not secrets.compare_digest(token.encode("ascii", "replace"), self.token.encode("ascii")):
            return "denied"
        if verb == "focus" and not argument:
            _log.info("another launch asked for this window")
            return self._call(self.on_focus)
        if verb == "open" and argument and self.on_open is not None:
            on_open = self.on_open
            try:
                path = Path(os.fsdecode(urllib.parse.unquote_to_bytes(argument)))
                if not path.is_absolute():
                    raise OpenFileError(f"cannot open {shown(path)}: not an absolute path")
                checked = check_file(path)
            except OpenFileError as exc:
                _log.warning("another launch asked to open a file that cannot be opened: %s", exc)
                return f"refused {exc}"
            _log.info("another launch asked to open %s", checked)
            return self._call(lambda: on_open(checked))
        return "denied"

    @staticmethod
    def _call(action: Callable[[], None]) -> str:
        try:
            action()
        except Exception:
            _log.exception("could not do what another launch asked for")
            return "failed"
        return "ok"

    def close(self) -> None:
        """Stop answering (a thread blocked in ``accept`` is woken by the shutdown)."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()


def _read_line(conn: socket.socket) -> str:
    """One request line (at most :data:`MAX_REQUEST` bytes), without its line break."""
    data = b""
    while b"\n" not in data and len(data) < MAX_REQUEST:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0][:MAX_REQUEST].decode("ascii", "replace").strip()


def _request(info: dict[str, Any], verb: str, *words: str, timeout: float) -> str:
    """Send ``<verb> <token> <words...>`` to the running launcher described by ``info``; its answer ("" if none)."""
    port, token = info.get("control_port"), info.get("control_token")
    if not isinstance(port, int) or not isinstance(token, str):
        return ""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(" ".join([verb, token, *words]).encode("ascii") + b"\n")
            answer = b""
            while b"\n" not in answer and len(answer) < 4096:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                answer += chunk
    except (OSError, UnicodeEncodeError):
        return ""
    return answer.decode("utf-8", "replace").strip()


def request_focus(info: dict[str, Any], timeout: float = 5.0) -> bool:
    """Ask the running launcher described by ``info`` to bring its window to the front."""
    return _request(info, "focus", timeout=timeout) == "ok"


def request_open(info: dict[str, Any], path: Path, timeout: float = 5.0) -> str:
    """Ask the running launcher described by ``info`` to show ``path`` (absolute) on its Import page.

    Returns its answer: ``ok``, ``refused <why>``, ``denied``, ``failed``, or ``""`` when none came.
    """
    encoded = urllib.parse.quote_from_bytes(os.fsencode(Path(path).absolute()), safe="/")
    return _request(info, "open", encoded, timeout=timeout)
