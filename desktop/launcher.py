"""The desktop launcher: one native window around the app's Streamlit server.

``expense-tracker`` (no subcommand) and ``python -m desktop`` call :func:`main`:

0. ``expense-tracker FILE`` (a file manager's "Open with"): a file the app cannot open is one line on
   stderr, exit 2; otherwise the window opens on the Import page with the file's preview
   (:mod:`desktop.openfile`), or the window already open for the data folder is sent the file;
1. no display on Linux -> a message suggesting ``expense-tracker serve``, exit 2;
2. spawn the server child at once (it imports Streamlit and the app, about a second, in parallel with
   everything below) but let it wait before it touches the data folder;
3. take the data folder's single-instance lock; if another window has it, end the waiting child, bring
   that window to the front (with the file to open, if any) or say clearly that it is running, and exit;
4. tell the child to start, on the address of the last launch if it is still free (so the window's
   persistent web cache, :mod:`desktop.webprofile`, applies), else on a port the OS chooses at bind
   time; open the window on a loading view;
5. a controller thread waits for the server's handshake and health, loads the app, and polls the
   page through ``evaluate_js`` until the dashboard has really rendered; a failure or timeout shows
   an error view with the log path, never a hang;
6. the window closing (close button, SIGINT, SIGTERM) stops the server; exit 0.

Knows nothing about money, and imports nothing of the ``tracker`` package before the child is started
(``import tracker`` loads pandas: half a second). Environment knobs for tests and benchmarks:
``EXPENSE_TRACKER_DESKTOP_TIMEOUT`` (seconds for each of server start and first render, default 60),
``EXPENSE_TRACKER_DESKTOP_PROBE`` (a JSON file written once the dashboard has rendered or failed:
status, timings, the page's text) and ``EXPENSE_TRACKER_DESKTOP_SCRIPT`` (another Streamlit script).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from desktop import openfile, webprofile
from desktop.instance import FocusListener, InstanceLock, read_info, request_focus, request_open, write_info
from desktop.pages import (
    APP_TITLE,
    RENDER_STATE_JS,
    error_html,
    icon_data_uri,
    is_rendered,
    loading_html,
    prefetch_js,
)
from desktop.server import DEFAULT_PORTS, ServerError, ServerProcess, go, spawn, start_server, stop_all

ENV_PROBE = "EXPENSE_TRACKER_DESKTOP_PROBE"
ENV_TIMEOUT = "EXPENSE_TRACKER_DESKTOP_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
EXIT_NO_DISPLAY = 2
EXIT_CANNOT_OPEN = 2
WINDOW_SIZE = (1280, 860)

_log = logging.getLogger("desktop.launcher")


def assets_dir() -> Path:
    """``assets/`` next to the package in a source tree, or inside the PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "assets"
    return Path(__file__).resolve().parent.parent / "assets"


def icon_path() -> Path | None:
    """The window icon (PNG), or None when the assets are not there."""
    path = assets_dir() / "icon.png"
    return path if path.is_file() else None


def no_display() -> bool:
    """True on Linux/BSD without an X11 or Wayland display (a server, SSH, a container)."""
    if sys.platform == "darwin" or os.name == "nt":
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def software_gl_only() -> bool:
    """True on Linux without a GPU render node (``/dev/dri/renderD*``) this user may open.

    OpenGL is then Mesa's software rasteriser (llvmpipe: a virtual machine, a remote or virtual X
    server such as Xvfb), and drawing the page through it costs more CPU than Chromium's own software
    compositing: about a second of CPU time until the dashboard is painted, on a machine that has little.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        nodes = [p for p in Path("/dev/dri").iterdir() if p.name.startswith("renderD")]
    except OSError:
        return True
    return not any(os.access(p, os.R_OK | os.W_OK) for p in nodes)


def use_software_rendering() -> None:
    """Draw with Qt Quick's software renderer and Chromium's software compositing (unless the user chose)."""
    os.environ.setdefault("QT_QUICK_BACKEND", "software")
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    if "--disable-gpu" not in flags:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join([*flags, "--disable-gpu"])


def _timeout() -> float:
    try:
        return max(float(os.environ.get(ENV_TIMEOUT, DEFAULT_TIMEOUT)), 1.0)
    except ValueError:
        return DEFAULT_TIMEOUT


class SignalCloser:
    """SIGINT/SIGTERM/SIGHUP close the window from any state of the GUI loop.

    Python runs signal handlers only between bytecodes of the main thread, which sits in Qt's (or
    Cocoa's) C++ event loop. ``signal.set_wakeup_fd`` makes the C-level handler write the signal
    number to a socket; a thread reads it and calls ``on_signal`` (which closes the window through
    pywebview, a thread-safe call). The Python-level handlers do nothing, so no KeyboardInterrupt
    lands in the middle of the shutdown.
    """

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

    def __init__(self, on_signal: Callable[[int], None]) -> None:
        self._on_signal = on_signal
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._old = {sig: signal.signal(sig, self._ignore) for sig in self.SIGNALS}
        threading.Thread(target=self._listen, name="signals", daemon=True).start()

    @staticmethod
    def _ignore(signum: int, frame: object) -> None:
        return None

    def _listen(self) -> None:
        while True:
            try:
                data = self._reader.recv(16)
            except OSError:
                return
            if not data:
                return
            for signum in data:
                if signum in self.SIGNALS:
                    _log.info("signal %s: closing the window", signal.Signals(signum).name)
                    self._on_signal(signum)

    def restore(self) -> None:
        signal.set_wakeup_fd(self._old_fd)
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._writer.close()
        self._reader.close()


class Session:
    """One window and its server, from the loading view to the shutdown."""

    def __init__(
        self,
        data_dir: Path,
        log_path: Path,
        started: float,
        first: tuple[subprocess.Popen[bytes], str, queue.Queue[dict[str, Any]]] | None = None,
        opening: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.started = started
        self.timeout = _timeout()
        self.window: Any = None
        self.server: ServerProcess | None = None
        self.failure: str | None = None
        self.closing = threading.Event()
        self.focus_requests = 0
        self.open_requests = 0
        # the app's page to load (relative to its URL): the Import page when a file is to be opened
        self._page = openfile.page_url(openfile.add_pending(data_dir, opening)) if opening else ""
        self._page_lock = threading.Lock()
        self._app_loaded = False
        self.icon = icon_path()
        self._icon_uri = ""
        self._minimized = threading.Event()
        self._probe_path = os.environ.get(ENV_PROBE)
        self.profile = webprofile.profile_dir(data_dir)
        origin = webprofile.load_origin(self.profile)
        self._ports: tuple[int, ...] = (origin[0], *DEFAULT_PORTS[1:]) if origin else DEFAULT_PORTS
        # from the main thread: on Linux the child dies with the thread that started it
        first = first or spawn(0, wait_go=True)
        self._first = go(first, *origin) if origin else go(first)

    # -- the window ----------------------------------------------------------------------------

    def run(self) -> int:
        """Show the window until it is closed; returns the exit status."""
        try:
            self._show_window()
        finally:
            self.closing.set()
            self.shutdown()
        _log.info("window closed after %.1f s", time.monotonic() - self.started)
        return 1 if self.failure else 0

    def _show_window(self) -> None:
        import webview

        gui: Literal["qt"] | None = "qt" if sys.platform.startswith(("linux", "freebsd", "openbsd")) else None
        if gui == "qt":
            from desktop import qt_downloads

            qt_downloads.install()
        if gui == "qt":
            webprofile.install(self.profile, startup_js=prefetch_js())
        webview.settings["ALLOW_DOWNLOADS"] = True
        webview.settings["OPEN_EXTERNAL_LINKS_IN_BROWSER"] = True
        self._icon_uri = icon_data_uri(self.icon)
        window = webview.create_window(
            APP_TITLE,
            html=loading_html(self._icon_uri),
            width=WINDOW_SIZE[0],
            height=WINDOW_SIZE[1],
            min_size=(720, 520),
            background_color="#f6f8f7",
        )
        if window is None:  # pragma: no cover - pywebview returns None only inside a running GUI loop
            raise RuntimeError("pywebview did not create the window")
        window.events.minimized += lambda: self._minimized.set()
        window.events.restored += lambda: self._minimized.clear()
        window.events.maximized += lambda: self._minimized.clear()
        self.window = window
        listener = FocusListener(self.bring_to_front, self.open_file)
        write_info(
            self.data_dir,
            {"pid": os.getpid(), "control_port": listener.port, "control_token": listener.token, "url": None},
        )
        closer = SignalCloser(lambda _sig: self.close())
        threading.Thread(target=self._control, name="controller", daemon=True).start()
        try:
            # not private: the profile keeps its HTTP and code caches on disk (cookies stay in memory)
            webview.start(gui=gui, icon=str(self.icon) if self.icon else None, private_mode=gui != "qt")
        finally:
            closer.restore()
            listener.close()

    def close(self) -> None:
        """Close the window (safe from any thread)."""
        self.closing.set()
        if self.window is not None:
            with contextlib.suppress(Exception):
                self.window.destroy()

    def bring_to_front(self) -> None:
        """A second launch asked for this window."""
        self.focus_requests += 1
        if self.window is None:
            return
        if self._minimized.is_set():
            self.window.restore()  # also raises and activates it
        else:  # raise it above the other windows
            self.window.on_top = True
            self.window.on_top = False
        self._write_probe(status="focus", focus_requests=self.focus_requests)

    def open_file(self, path: Path) -> None:
        """A second launch asked this window to open ``path`` (checked): show it on the Import page."""
        self.open_requests += 1
        page = openfile.page_url(openfile.add_pending(self.data_dir, path))
        with self._page_lock:  # the app not loaded yet: the controller loads this page first
            self._page = page
            server = self.server if self._app_loaded else None
        self.bring_to_front()
        if server is None or self.window is None or self.failure is not None:
            return
        _log.info("opening %s on the Import page", path)
        self.window.load_url(server.url + page)
        if self._probe_path:
            threading.Thread(target=self._probe_opened, name="open-probe", daemon=True).start()

    def _probe_opened(self) -> None:
        state = self._wait_rendered(time.monotonic() + self.timeout)
        if state is not None:
            self._write_probe(status="opened", open_requests=self.open_requests, page=self._with_tables(state))

    def _with_tables(self, state: dict[str, Any]) -> dict[str, Any]:
        """For the probe: the page once its tables show their rows too (they come just after the paint)."""
        deadline = time.monotonic() + 5
        while self._probe_path and "" in state.get("tables", []) and time.monotonic() < deadline:
            time.sleep(0.1)
            with contextlib.suppress(Exception):
                later = self.window.evaluate_js(RENDER_STATE_JS)
                state = later if is_rendered(later) else state
        return state

    def shutdown(self) -> None:
        """Stop the server, and any server child still starting."""
        if self.server is not None:
            self.server.stop()
        stop_all()

    # -- the controller thread -----------------------------------------------------------------

    def _control(self) -> None:
        try:
            self._start_app()
        except Exception as exc:  # never leave the user on the loading view
            _log.exception("start failed")
            self._fail(f"Unexpected error: {type(exc).__name__}: {exc}")
        # On Linux the server child (when it was re-spawned here) dies with this thread: keep it alive,
        # and watch the server while the window is open.
        while not self.closing.wait(0.5):
            server = self.server
            if server is not None and not server.alive() and self.failure is None:
                self._fail("The app's server stopped unexpectedly.")

    def _start_app(self) -> None:
        t_server = time.monotonic()
        try:
            server = start_server(self._ports, timeout=self.timeout, first=self._first)
        except ServerError as exc:
            self._fail(str(exc))
            return
        self.server = server
        webprofile.save_origin(self.profile, server.port, server.token)
        if self.closing.is_set():
            return
        ready_s = time.monotonic() - self.started
        _log.info("server ready in %.2f s (waited %.2f s)", ready_s, time.monotonic() - t_server)
        info = read_info(self.data_dir) or {}
        write_info(self.data_dir, {**info, "url": server.url, "server_pid": server.pid})
        with self._page_lock:
            self._app_loaded = True
            page = self._page
        self.window.load_url(server.url + page)
        state = self._wait_rendered(time.monotonic() + self.timeout)
        if state is None:
            if not self.closing.is_set():
                self._fail(f"The app did not finish loading within {self.timeout:.0f} seconds.")
            return
        seconds = time.monotonic() - self.started
        _log.info("dashboard rendered %.2f s after start (%d elements)", seconds, state.get("elements", 0))
        if state.get("exceptions"):
            _log.warning("the page shows %d error(s)", state["exceptions"])
        self._write_probe(
            status="rendered",
            seconds=round(seconds, 3),
            server_ready_seconds=round(ready_s, 3),
            page=self._with_tables(state),
        )

    def _wait_rendered(self, deadline: float) -> dict[str, Any] | None:
        """Poll the page until Streamlit has finished its first run and shows content."""
        window = self.window
        last = ""
        prefetch = prefetch_js()
        while not self.closing.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            server = self.server
            if server is not None and not server.alive():
                return None
            if not window.events.loaded.wait(min(remaining, 0.5)):
                continue
            if prefetch:
                with contextlib.suppress(Exception):
                    _log.info("prefetching %s frontend chunks", window.evaluate_js(prefetch))
                prefetch = ""
            try:
                state = window.evaluate_js(RENDER_STATE_JS)
            except Exception as exc:  # the page is (re)loading
                _log.debug("render check: %s", exc)
                state = None
            if is_rendered(state):
                return state
            summary = _render_summary(state)
            if summary != last:
                _log.info("page %.2f s after start: %s", time.monotonic() - self.started, summary)
                last = summary
            time.sleep(0.1)
        return None

    def _fail(self, message: str) -> None:
        self.failure = message
        _log.error("%s (log: %s)", message, self.log_path)
        print(f"expense-tracker: {message}\nDetails are in {self.log_path}", file=sys.stderr)
        shown = ""
        if self.window is not None and not self.closing.is_set():
            with contextlib.suppress(Exception):
                self.window.load_html(error_html(message, self.log_path, self._icon_uri))
                if self._probe_path and self.window.events.loaded.wait(10):
                    shown = str(self.window.evaluate_js("document.body.innerText"))
        self._write_probe(status="error", message=message, log_path=str(self.log_path), shown=shown)

    def _write_probe(self, **fields: Any) -> None:
        if not self._probe_path:
            return
        server = self.server
        data = {
            "launcher_pid": os.getpid(),
            "server_pid": server.pid if server else self._first[0].pid,
            "url": server.url if server else None,
            "focus_requests": self.focus_requests,
            **fields,
        }
        tmp = f"{self._probe_path}.{os.getpid()}.tmp"
        with contextlib.suppress(OSError):
            Path(tmp).write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, self._probe_path)


def _render_summary(state: Any) -> str:
    """One line about the page's progress, for the log."""
    if not isinstance(state, dict):
        return "loading"
    if not state.get("app"):
        return "no Streamlit app yet"
    return "script {script}, {elements} elements, {loading} loading, painted {painted}".format(
        **{k: state.get(k) for k in ("script", "elements", "loading", "painted")}
    )


def _already_running(data_dir: Path, opening: Path | None = None) -> int:
    """Another launcher holds the data folder: bring its window forward (showing ``opening``), or say so."""
    info = read_info(data_dir) or {}
    if opening is not None:
        answer = request_open(info, opening)
        if answer == "ok":
            print(
                f"Expense Tracker is already open for {data_dir}; it shows {openfile.shown(opening)} on its Import page.",
                file=sys.stderr,
            )
            return 0
        if answer.startswith("refused "):
            print(f"expense-tracker: {answer.removeprefix('refused ')}", file=sys.stderr)
            return EXIT_CANNOT_OPEN
    elif request_focus(info):
        print(f"Expense Tracker is already open for {data_dir}; its window was brought to the front.", file=sys.stderr)
        return 0
    pid = info.get("pid", "?")
    print(
        f"Expense Tracker is already running for {data_dir} (process {pid}) but did not answer.\n"
        "Wait until it has finished starting, or close it first.",
        file=sys.stderr,
    )
    return 1


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m desktop", description=f"Open {APP_TITLE} in a window.")
    parser.add_argument(
        "--data-dir", metavar="DIR", help="where the data files live (default: the OS user-data folder)"
    )
    parser.add_argument("file", nargs="?", help="a bank statement or export to preview on the Import page")
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Open the app's window; returns the exit status (0 after a normal close)."""
    started = time.monotonic()
    args = _parse(argv or [])
    opening: Path | None = None
    if args.file is not None:
        try:
            opening = openfile.check_file(args.file)
        except openfile.OpenFileError as exc:
            print(f"expense-tracker: {exc}", file=sys.stderr)
            return EXIT_CANNOT_OPEN
    if args.data_dir:
        os.environ["EXPENSE_TRACKER_DATA_DIR"] = os.path.abspath(args.data_dir)
    if no_display():
        print(
            "expense-tracker: no display found (DISPLAY and WAYLAND_DISPLAY are not set), so no window can open.\n"
            "Run `expense-tracker serve` to use the app in a web browser instead.",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY

    # The server child imports for about a second: start it now. It waits for `go` (sent by the Session,
    # once the data folder's window lock is ours) before it touches the data folder.
    first = spawn(0, wait_go=True)
    used = False
    try:
        from tracker.logs import setup_logging
        from tracker.storage.paths import default_data_dir

        log_path = setup_logging()
        data_dir = default_data_dir()
        lock = InstanceLock(data_dir)
    except BaseException:
        stop_all()
        raise
    try:
        if not lock.acquire():
            stop_all(timeout=2)  # the waiting child was not needed
            return _already_running(data_dir, opening)
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # Chromium refuses its sandbox as root
            os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
        os.environ.setdefault("QT_API", "pyqt6")
        if software_gl_only() and "QT_QUICK_BACKEND" not in os.environ:
            use_software_rendering()
            _log.info("no GPU render node: software rendering")
        _log.info("starting the window for %s", data_dir)
        session = Session(data_dir, log_path, started, first, opening)
        used = True
        return session.run()
    except Exception as exc:
        _log.exception("the window could not start")
        print(
            f"expense-tracker: the window could not start ({type(exc).__name__}: {exc}).\nDetails are in {log_path}",
            file=sys.stderr,
        )
        return 1
    finally:
        if not used:
            stop_all(timeout=2)
        lock.release()
