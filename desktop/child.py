"""The Streamlit server as a child process of the launcher.

The launcher runs ``python -m desktop.child --port N`` (or ``<frozen binary> --desktop-server --port N``).
The child:

* dies with the launcher: on Linux ``prctl(PR_SET_PDEATHSIG)``; on every OS a watchdog thread that
  reads stdin (a pipe only the launcher holds: end of file means the launcher has gone or asked us to
  stop) and, on POSIX, polls the parent pid;
* with ``--wait-go``, imports everything it needs, then waits for the line ``go [PORT TOKEN]`` on stdin
  before it touches the data folder: the launcher starts it first thing, in parallel with its own
  start-up, and sends ``go`` once it holds the data folder's window lock, with the address it wants
  (end of file instead means "not needed");
* takes ``desktop-server.lock`` in the data folder, so two servers never share one data folder;
* binds the port itself (``0`` = the OS picks a free one at bind time: no probe-then-bind race) and
  serves under a secret base path, so only a client that knows the token reaches the app;
* reports one handshake line on stdout: ``EXPENSE-TRACKER-SERVER {"event": "ready", "port": ...}``,
  or ``{"event": "bind-failed"}`` / ``{"event": "error"}`` and exits non-zero;
* once ready, warms up on a thread while the window loads the frontend
  (:func:`tracker.ui.server.warm_up`), so the first page run only computes.

Nothing of the ``tracker`` package is imported when this module is (``import tracker`` loads pandas):
the launcher imports this module before it starts the child and must stay quick.

The Streamlit options come from :func:`tracker.ui.server.streamlit_options` (shared with
``expense-tracker serve``); only the base path is added here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HANDSHAKE = "EXPENSE-TRACKER-SERVER "
ENV_TOKEN = "EXPENSE_TRACKER_DESKTOP_TOKEN"
ENV_PARENT = "EXPENSE_TRACKER_DESKTOP_PARENT"
ENV_SCRIPT = "EXPENSE_TRACKER_DESKTOP_SCRIPT"
"""Debug/test override of the Streamlit script (default: the app's router, tracker/ui/app.py)."""

GO = b"go"
"""The line the launcher writes to a ``--wait-go`` child's stdin once the child may start serving:
``go`` or ``go PORT TOKEN`` (the port to bind and the base-path token to use instead of the given ones)."""

EXIT_BIND_FAILED = 3
EXIT_LOCKED = 4
EXIT_ERROR = 5
HARD_EXIT_AFTER = 3.0
"""Seconds a graceful stop may take before the child ends itself with ``os._exit``."""


def base_path(token: str) -> str:
    """Streamlit's ``server.baseUrlPath`` for a token: the app lives at ``/et-<token>/``."""
    return f"et-{token}"


def announce(event: str, **fields: Any) -> None:
    """Write one handshake line for the launcher."""
    sys.stdout.write(HANDSHAKE + json.dumps({"event": event, "pid": os.getpid(), **fields}) + "\n")
    sys.stdout.flush()


class _Watchdog:
    """Stops this process when the launcher goes away (or closes our stdin to ask for a stop)."""

    def __init__(self, parent_pid: int) -> None:
        self.parent_pid = parent_pid
        self._stop: Callable[[], None] = lambda: os._exit(0)
        self._fired = threading.Event()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self.go = threading.Event()
        self.go_line = ""

    def set_stopper(self, stop: Callable[[], None]) -> None:
        """From now on, a stop is graceful (``stop`` is called from the watchdog thread)."""
        self._stop = stop

    def start(self) -> None:
        _set_parent_death_signal(self.parent_pid)
        threading.Thread(target=self._read_stdin, name="parent-pipe", daemon=True).start()
        if os.name == "posix":
            threading.Thread(target=self._poll_parent, name="parent-pid", daemon=True).start()

    def _read_stdin(self) -> None:
        # os.read on the raw descriptor: a daemon thread blocked in the buffered sys.stdin would
        # make the interpreter abort at exit (it cannot take the buffer's lock).
        try:
            fd = sys.stdin.fileno()
            pending = b""
            while chunk := os.read(fd, 4096):
                if not self.go.is_set():
                    pending = (pending + chunk)[:1024]
                    line, newline, _ = pending.partition(b"\n")
                    if newline and line.split(b" ", 1)[0] == GO:
                        self.go_line = line.decode("ascii", "replace")
                        self.go.set()
        except (OSError, ValueError, AttributeError):
            pass
        self._fire("stdin closed")

    def arm_hard_exit(self) -> None:
        """End the process with ``os._exit`` in :data:`HARD_EXIT_AFTER` seconds (once)."""
        with self._lock:
            if self._timer is None:
                self._timer = threading.Timer(HARD_EXIT_AFTER, os._exit, args=(0,))
                self._timer.daemon = True
                self._timer.start()

    def parent_gone(self) -> bool:
        """True once the launcher has died (POSIX: we were re-parented)."""
        return os.name == "posix" and os.getppid() != self.parent_pid

    def _poll_parent(self) -> None:
        while not self._fired.is_set():
            if self.parent_gone():
                self._fire("parent process gone")
                return
            time.sleep(0.5)

    def _fire(self, why: str) -> None:
        with self._lock:
            if self._fired.is_set():
                return
            self._fired.set()
        # Whatever happens to the graceful path (the launcher may be dead, and with it the pipes our
        # output goes to), this process ends soon.
        self.arm_hard_exit()
        if self.parent_gone():
            _silence_output()
        with contextlib.suppress(Exception):
            sys.stderr.write(f"desktop server: stopping ({why})\n")
            sys.stderr.flush()
        self._stop()


def _discard(_value: object) -> None:
    return None


def _silence_output() -> None:
    """Point stdout and stderr at the null device (their pipe's reader has gone)."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)


def _set_parent_death_signal(parent_pid: int) -> None:
    """Linux: have the kernel send SIGTERM when the launcher dies (checked against an early death)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the launcher died before prctl took effect
        os._exit(0)


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="desktop-server", description="The Streamlit server of the desktop app.")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "--lock-timeout", type=float, default=15.0, help="seconds to wait for the data folder's server lock"
    )
    parser.add_argument(
        "--wait-go", action="store_true", help="import, then wait for 'go' on stdin before using the data folder"
    )
    return parser.parse_args(list(argv))


def _preload() -> None:
    """Import what the server needs to listen (Streamlit's server, the app's server module): about half a
    second. pandas and the pages (another half second) are imported by the warm-up once it listens, while
    the window loads the frontend."""
    import filelock  # noqa: F401
    import streamlit.web.bootstrap
    import streamlit.web.server  # noqa: F401

    import tracker.ui.server  # noqa: F401


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until the launcher stops it. Returns the exit status."""
    args = _parse(sys.argv[1:] if argv is None else argv)
    parent_pid = int(os.environ.get(ENV_PARENT, os.getppid()))
    token = os.environ.pop(ENV_TOKEN, "")
    watchdog = _Watchdog(parent_pid)
    watchdog.start()
    if not token:
        announce("error", message=f"{ENV_TOKEN} is not set")
        return EXIT_ERROR
    _preload()
    if args.wait_go:
        watchdog.go.wait()  # end of file instead ends this process (the watchdog's stop)
        parts = watchdog.go_line.split()
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isalnum():  # the token goes into URLs
            args.port, token = int(parts[1]), parts[2]

    from filelock import FileLock, Timeout

    from tracker.storage.paths import SERVER_LOCK, default_data_dir

    data_dir = default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(data_dir / SERVER_LOCK))
    try:
        lock.acquire(timeout=args.lock_timeout)
    except Timeout:
        announce("error", message=f"another server is running on the data folder {data_dir}")
        return EXIT_LOCKED

    from tracker.errors import TrackerError
    from tracker.ui import server as ui_server

    script = os.environ.get(ENV_SCRIPT)
    if script:
        ui_server.APP_SCRIPT = Path(script).resolve()
    app = ui_server.AppServer(port=args.port)
    app.options["server.baseUrlPath"] = base_path(token)

    async def serve() -> int:
        try:
            await app.start()
        except TrackerError as exc:
            announce("bind-failed", message=str(exc))
            return EXIT_BIND_FAILED
        loop = asyncio.get_running_loop()

        def stop() -> None:
            watchdog.arm_hard_exit()  # a stop always ends this process, graceful or not
            if watchdog.parent_gone():
                _silence_output()  # the launcher, which read our output, is dead: writes would fail
            app.stop()

        watchdog.set_stopper(lambda: _discard(loop.call_soon_threadsafe(stop)))
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop)
            except (NotImplementedError, RuntimeError, ValueError):  # Windows
                signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop))
        announce("ready", port=app.port, token=token, base_path=base_path(token))
        ui_server.start_warm_up(log=lambda text: _discard(sys.stderr.write(f"desktop server: {text}\n")))
        await app.wait_stopped()
        return 0

    try:
        return asyncio.run(serve())
    finally:
        lock.release()


if __name__ == "__main__":
    sys.exit(main())
