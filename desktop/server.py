"""Start, check and stop the Streamlit server child (the launcher's side of :mod:`desktop.child`).

Port choice without a race: the child binds the port itself. By default it asks for port ``0`` so the
OS picks a free port at bind time; when a caller asks for a specific port and another process holds
it, the child reports ``bind-failed`` and :func:`start_server` retries with the next candidate.
The launcher learns the bound port from the child's handshake on a private pipe, and the app is
served under a secret base path, so an answer from the URL is our server's, not another process's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop import SERVER_FLAG
from desktop.child import ENV_PARENT, ENV_TOKEN, GO, HANDSHAKE, base_path

HOST = "127.0.0.1"
DEFAULT_PORTS: tuple[int, ...] = (0, 0, 0)
"""Attempts: each lets the OS choose a free port when the child binds."""

_log = logging.getLogger("desktop.server")
_spawned: list[subprocess.Popen[bytes]] = []


class ServerError(Exception):
    """The server could not be started; the message is readable by a user."""


class BindFailed(ServerError):
    """The child could not bind its port (taken by another process)."""


class ServerExited(ServerError):
    """The child exited before it was ready."""


class StartupTimeout(ServerError):
    """The server did not become ready in time."""


def server_command() -> list[str]:
    """The command that starts the server child: this Python, or the frozen binary itself."""
    if getattr(sys, "frozen", False):
        return [sys.executable, SERVER_FLAG]
    return [sys.executable, "-m", "desktop.child"]


def _child_env(token: str) -> dict[str, str]:
    env = dict(os.environ)
    env[ENV_TOKEN] = token
    env[ENV_PARENT] = str(os.getpid())
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("PYTHONIOENCODING", "utf-8")
    if not getattr(sys, "frozen", False):  # make `-m desktop.child` importable from any cwd
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


@dataclass
class ServerProcess:
    """A running server child: ``url`` is the app's address (with the secret base path)."""

    process: subprocess.Popen[bytes]
    port: int
    token: str
    output: deque[str] = field(default_factory=lambda: deque(maxlen=40))

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/{base_path(self.token)}/"

    @property
    def health_url(self) -> str:
        return self.url + "_stcore/health"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        """Stop the child: close its stdin (a graceful stop on every OS), then terminate, then kill.

        Returns its exit status (``None`` only if it survived ``kill``, which should not happen).
        """
        proc = self.process
        if proc.poll() is None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _log.warning("server %s did not stop in %.0fs; terminating", proc.pid, timeout)
                proc.terminate()
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    try:
                        proc.wait(timeout=2)
                    except subprocess.TimeoutExpired:
                        return None
        _log.info("server %s stopped (status %s)", proc.pid, proc.returncode)
        return proc.returncode


def spawn(
    port: int = 0, token: str | None = None, lock_timeout: float = 15.0, wait_go: bool = False
) -> tuple[subprocess.Popen[bytes], str, queue.Queue[dict[str, Any]]]:
    """Start a server child; returns it, its token and a queue that receives its handshake events.

    ``lock_timeout``: how long the child waits for the data folder's server lock (a previous
    server of the same folder may still be shutting down). ``wait_go``: the child imports what it
    needs, then waits for :func:`go` before it touches the data folder (so it can be started before
    the caller knows it will be needed; :meth:`ServerProcess.stop` or closing its stdin ends it).

    Every output line of the child goes to the log; its end is signalled by ``{"event": "exit"}``.
    On Linux the child dies with the thread that calls this (``PR_SET_PDEATHSIG``): call it from a
    thread that lives as long as the server should.
    """
    token = token or secrets.token_hex(16)
    kwargs: dict[str, Any] = {}
    if os.name == "posix":
        kwargs["start_new_session"] = True  # Ctrl+C in a terminal reaches the launcher, which stops us
    else:
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) | getattr(
            subprocess, "CREATE_NO_WINDOW", 0
        )
    proc = subprocess.Popen(
        [
            *server_command(),
            "--port",
            str(port),
            "--lock-timeout",
            str(lock_timeout),
            *(["--wait-go"] if wait_go else []),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_child_env(token),
        **kwargs,
    )
    _spawned.append(proc)
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    threading.Thread(target=_pump, args=(proc, events), name=f"server-{proc.pid}-output", daemon=True).start()
    _log.info("server child %s started (port %s requested)", proc.pid, port or "any")
    return proc, token, events


def go(
    spawned: tuple[subprocess.Popen[bytes], str, queue.Queue[dict[str, Any]]],
    port: int | None = None,
    token: str | None = None,
) -> tuple[subprocess.Popen[bytes], str, queue.Queue[dict[str, Any]]]:
    """Let a child started with ``wait_go=True`` take the data folder and start serving.

    ``port`` and ``token`` (both or neither) replace the ones it was started with; returns the
    spawned triple with the token the child now uses (for :func:`wait_ready`).
    """
    proc, old_token, events = spawned
    line = GO
    if port is not None and token is not None:
        if not token.isalnum():
            raise ValueError("a token is letters and digits")
        line += f" {int(port)} {token}".encode("ascii")
    else:
        token = old_token
    if proc.stdin is not None and proc.poll() is None:
        with contextlib.suppress(OSError, ValueError):
            proc.stdin.write(line + b"\n")
            proc.stdin.flush()
    return proc, token, events


def stop_all(timeout: float = 5.0) -> None:
    """Stop every server child this process started that is still running (also one still starting)."""
    for proc in list(_spawned):
        if proc.poll() is None:
            ServerProcess(proc, port=0, token="").stop(timeout)
        _spawned.remove(proc)


def _pump(proc: subprocess.Popen[bytes], events: queue.Queue[dict[str, Any]]) -> None:
    """Forward the child's output to the log and its handshake lines to ``events``."""
    child_log = logging.getLogger("desktop.server.child")
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode("utf-8", "replace").rstrip()
        if line.startswith(HANDSHAKE):
            try:
                events.put(json.loads(line[len(HANDSHAKE) :]))
            except ValueError:
                child_log.warning("bad handshake line: %s", line)
            continue
        if line:
            child_log.info("[%s] %s", proc.pid, line)
            events.put({"event": "output", "line": line})
    status = proc.wait()
    events.put({"event": "exit", "status": status})


def wait_ready(
    proc: subprocess.Popen[bytes], token: str, events: queue.Queue[dict[str, Any]], timeout: float
) -> ServerProcess:
    """Wait for the child's handshake. Raises :class:`BindFailed`, :class:`ServerExited`, :class:`StartupTimeout`."""
    deadline = time.monotonic() + timeout
    tail: deque[str] = deque(maxlen=40)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill(proc)
            raise StartupTimeout(f"the server did not start within {timeout:.0f} s")
        try:
            event = events.get(timeout=min(remaining, 0.5))
        except queue.Empty:
            continue
        kind = event.get("event")
        if kind == "output":
            tail.append(str(event.get("line", "")))
        elif kind == "ready":
            if event.get("token") != token or not isinstance(event.get("port"), int):
                _kill(proc)
                raise ServerError("the server answered with a wrong token")
            server = ServerProcess(proc, int(event["port"]), token, tail)
            threading.Thread(target=_drain, args=(events, tail), name="server-events", daemon=True).start()
            return server
        elif kind == "bind-failed":
            proc.wait(timeout=10)
            raise BindFailed(str(event.get("message", "port not available")))
        elif kind == "error":
            _kill(proc)
            raise ServerExited(str(event.get("message", "the server failed")))
        elif kind == "exit":
            last = "\n".join(list(tail)[-5:])
            raise ServerExited(
                f"the server exited with status {event.get('status')} before it was ready\n{last}".strip()
            )


def _drain(events: queue.Queue[dict[str, Any]], tail: deque[str]) -> None:
    while True:
        event = events.get()
        if event.get("event") == "output":
            tail.append(str(event.get("line", "")))
        elif event.get("event") == "exit":
            _log.info("server exited with status %s", event.get("status"))
            return


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def start_server(
    ports: Sequence[int] = DEFAULT_PORTS,
    timeout: float = 60.0,
    first: tuple[subprocess.Popen[bytes], str, queue.Queue[dict[str, Any]]] | None = None,
) -> ServerProcess:
    """Start the server, trying each port of ``ports`` until one binds; wait until it answers health.

    Args:
        ports: the ports to try in order (``0``: any free port, chosen by the OS at bind time).
        timeout: seconds for the whole start (all attempts).
        first: an already spawned child (from :func:`spawn`) for the first attempt, so a caller can
            start the server early and wait for it later.
    """
    if not ports:
        raise ValueError("no port to try")
    deadline = time.monotonic() + timeout
    last: ServerError | None = None
    for attempt, port in enumerate(ports):
        spawned = first if attempt == 0 and first is not None else spawn(port)
        remaining = deadline - time.monotonic()
        try:
            server = wait_ready(*spawned, timeout=max(remaining, 0.1))
        except BindFailed as exc:
            _log.warning("attempt %d: %s; trying another port", attempt + 1, exc)
            last = exc
            continue
        try:
            wait_for_health(server.health_url, deadline - time.monotonic(), alive=server.alive)
        except ServerError:
            server.stop(timeout=2)
            raise
        _log.info("server %s ready at %s (attempt %d)", server.pid, f"http://{HOST}:{server.port}/", attempt + 1)
        return server
    raise ServerError(f"no port could be bound after {len(ports)} attempts: {last}")


def wait_for_health(url: str, timeout: float, alive: Callable[[], bool] | None = None, interval: float = 0.05) -> float:
    """Poll Streamlit's health endpoint until it answers ``ok``; returns the seconds waited.

    Raises :class:`ServerExited` as soon as ``alive()`` is false and :class:`StartupTimeout` at the
    deadline (each request is bounded too, so a server that accepts but never answers cannot hang us).
    """
    start = time.monotonic()
    deadline = start + max(timeout, 0.0)
    last = "no answer"
    while True:
        if alive is not None and not alive():
            raise ServerExited("the server exited while starting")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StartupTimeout(f"the server did not answer its health check within {timeout:.1f} s ({last})")
        try:
            with urllib.request.urlopen(url, timeout=min(2.0, max(remaining, 0.05))) as resp:
                body = resp.read(64).decode("utf-8", "replace").strip()
            if resp.status == 200 and body == "ok":
                return time.monotonic() - start
            last = f"HTTP {resp.status} {body[:20]!r}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            last = type(exc).__name__
        time.sleep(min(interval, max(deadline - time.monotonic(), 0)))
        interval = min(interval * 1.5, 0.25)
