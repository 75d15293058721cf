"""A real WebDAV server for tests: wsgidav on cheroot, in a subprocess, on a free loopback port.

``WebDAVServer(folder)`` serves ``folder`` at ``server.url`` with HTTP basic auth (``alice`` / ``secret``).
The port is chosen by the server itself (it binds port 0 and reports the port it got), so no other process
can take it in between; ``restart()`` binds the same port again. While ``server.full_flag`` (a file beside
the served folder, outside it) exists, every PUT is answered ``507 Insufficient Storage``; if the flag says
``partial``, the first half of the upload is stored first (as a server does that runs out of room midway).

Run as a script, this module is the server process: ``python webdav_server.py ROOT PORT FLAG``.
"""

from __future__ import annotations

import io
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

USER = "alice"
PASSWORD = "secret"
START_TIMEOUT = 15.0
"""Seconds a server may take to report its port and answer its first request."""
READY_PREFIX = "LISTENING "
PARTIAL = "partial"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class WebDAVServer:
    """A wsgidav server in a subprocess, serving ``folder``; a context manager."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.full_flag = self.folder.parent / f"{self.folder.name}.full.flag"
        self.log = self.folder.parent / f"{self.folder.name}.server.log"
        self.port = 0
        self._process: subprocess.Popen[str] | None = None
        self._drainer: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The served folder's address (``http://127.0.0.1:PORT/``)."""
        if not self.port:
            raise RuntimeError("the WebDAV server has not been started")
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        """Start the server (on the same port as before, after a ``stop``) and wait until it answers."""
        if self._process is not None:
            raise RuntimeError("the WebDAV server is already running")
        deadline = time.monotonic() + START_TIMEOUT
        with self.log.open("a", encoding="utf-8") as log:
            self._process = subprocess.Popen(
                [sys.executable, __file__, str(self.folder), str(self.port), str(self.full_flag)],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        try:
            self.port = self._reported_port(deadline)
            self._wait_until_answering(deadline)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (its port becomes free; connections to it are refused)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if self._drainer is not None:
            self._drainer.join(timeout=10)  # the pipe ends with the process
            self._drainer = None
        if process.stdout is not None:
            process.stdout.close()

    def restart(self) -> None:
        """Stop, then start again on the same port, serving the same folder."""
        self.stop()
        self.start()

    def set_full(self, full: bool, *, partial: bool = False) -> None:
        """Make the server answer 507 to every PUT (``True``; ``partial``: after storing half) or accept them again."""
        if full:
            self.full_flag.write_text(PARTIAL if partial else "", encoding="utf-8")
        else:
            self.full_flag.unlink(missing_ok=True)

    def __enter__(self) -> WebDAVServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _reported_port(self, deadline: float) -> int:
        """The port the server process prints once it has bound its socket."""
        process = self._process
        assert process is not None
        assert process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        self._drainer = threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True)
        self._drainer.start()
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise RuntimeError(f"the WebDAV server did not start in time; see {self.log}") from None
        if not line.startswith(READY_PREFIX):
            raise RuntimeError(f"the WebDAV server failed to start ({line.strip() or 'it exited'}); see {self.log}")
        return int(line[len(READY_PREFIX) :])

    def _wait_until_answering(self, deadline: float) -> None:
        """Poll with real requests until the server answers one (any HTTP status), or fail at ``deadline``."""
        import httpx

        while True:
            try:
                httpx.request("OPTIONS", self.url, auth=(USER, PASSWORD), timeout=2.0, trust_env=False)
                return
            except httpx.TransportError as exc:
                assert self._process is not None
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the WebDAV server does not answer ({exc}); see {self.log}") from None
                time.sleep(0.02)  # the interval between polls, not a guess at readiness


def _drain(stream: Any, lines: queue.Queue[str]) -> None:
    """Read the server's stdout to its end (so it never blocks on a full pipe); pass each line on."""
    for line in stream:
        lines.put(line)
    lines.put("")


class FullDisk:
    """WSGI middleware: answers ``507 Insufficient Storage`` to PUT while ``flag`` exists."""

    def __init__(self, app: WSGIApp, flag: Path) -> None:
        self.app = app
        self.flag = flag

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "PUT" and self.flag.exists():
            if self.flag.read_text(encoding="utf-8") == PARTIAL:
                self._store_half(environ)
            body = b"no room left\n"
            start_response(
                "507 Insufficient Storage", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return self.app(environ, start_response)

    def _store_half(self, environ: Environ) -> None:
        """Let wsgidav store the first half of the uploaded body (its answer is dropped)."""
        data = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        half = data[: len(data) // 2]
        environ = {**environ, "wsgi.input": io.BytesIO(half), "CONTENT_LENGTH": str(len(half))}
        answer = self.app(environ, lambda status, headers, exc_info=None: lambda chunk: None)
        for _chunk in answer:
            pass
        close = getattr(answer, "close", None)
        if close is not None:
            close()


def serve(root: Path, port: int, flag: Path) -> None:
    """Run the server in this process until it is terminated."""
    from cheroot import wsgi
    from wsgidav.wsgidav_app import WsgiDAVApp

    config = {
        "host": "127.0.0.1",
        "port": port,
        "provider_mapping": {"/": str(root)},
        "simple_dc": {"user_mapping": {"*": {USER: {"password": PASSWORD}}}},
        "http_authenticator": {"accept_basic": True, "accept_digest": False, "default_to_digest": False},
        "verbose": 1,
        "logging": {"enable": False},
        "dir_browser": {"enable": False},
    }

    class Server(wsgi.Server):  # type: ignore[misc]
        @classmethod
        def prepare_socket(cls, *args: Any, **kwargs: Any) -> socket.socket:
            """Cheroot's socket, with SO_REUSEADDR even on port 0, so a restart can bind that port again.

            (Without it, Linux refuses the port while the old server's closed connections linger.)
            """
            sock: socket.socket = super().prepare_socket(*args, **kwargs)
            if os.name == "posix":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            return sock

    server = Server(("127.0.0.1", port), FullDisk(WsgiDAVApp(config), flag))
    server.prepare()
    print(f"{READY_PREFIX}{server.bind_addr[1]}", flush=True)
    server.serve()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    serve(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
