"""The Streamlit server of the app, run inside this process.

:func:`streamlit_options` is the one place where the server is configured (``serve`` and the
desktop launcher both use it): loopback only, XSRF protection on, CORS not opened, no telemetry,
no developer toolbar, no tracebacks in the page. :class:`AppServer` starts and stops the server on
an asyncio loop; :func:`run` is the blocking form used by ``expense-tracker serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracker.errors import TrackerError

APP_SCRIPT = Path(__file__).resolve().with_name("app.py")
"""The router script Streamlit runs for every session."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
PRIMARY_COLOR = "#2e7d5b"
"""A calm green for buttons and selections (Streamlit's default red reads as "danger" next to money)."""

_log = logging.getLogger("tracker.ui.server")


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``127.x.y.z`` and ``::1``."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_for(host: str, port: int) -> str:
    """The address a browser opens: ``http://127.0.0.1:8501/`` (IPv6 hosts in brackets)."""
    wildcard = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # listening everywhere: show a local address
    shown = wildcard.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def port_is_free(host: str, port: int) -> bool:
    """Whether ``port`` can be bound on ``host`` now (a quick check for a clear message; ``0`` always is)."""
    if port == 0:
        return True
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if os.name != "nt":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError:
            return False
    return True


def saved_theme() -> str:
    """``"light"`` or ``"dark"`` from the ledger's settings (light when the ledger cannot be read).

    A quick look at the stored settings (:func:`tracker.storage.peek_meta`: no pandas, no DataFrame),
    so a server binds its port without waiting for them; the ledger itself is read by the warm-up
    (:func:`warm_up`) while the browser loads the frontend.
    """
    try:
        from tracker.plugins import ENV_BACKEND, make_backend, make_plugin_manager
        from tracker.storage import peek_meta
        from tracker.storage.paths import resolve_data_dir

        name = os.environ.get(ENV_BACKEND, "json")
        settings = peek_meta(make_backend(make_plugin_manager(), name, resolve_data_dir(None)), "settings")
        theme = settings.get("theme", "light") if isinstance(settings, dict) else "light"
    except Exception:  # a broken ledger is reported by the pages, not here
        return "light"
    return theme if theme in ("light", "dark") else "light"


def streamlit_options(
    port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, theme: str | None = None
) -> dict[str, object]:
    """Streamlit config options (dotted names, as ``streamlit run`` flags) for the app's server.

    Args:
        port: TCP port; ``0`` lets the operating system choose a free one at bind time (no race).
        host: address to listen on; loopback by default. A loopback host also restricts the
            accepted ``Host`` headers to loopback names (DNS-rebinding protection).
        theme: ``"light"`` or ``"dark"``; ``None`` reads the saved setting.
    """
    options: dict[str, object] = {
        "server.port": int(port),
        "server.address": host,
        "server.headless": True,
        "server.enableXsrfProtection": True,
        "server.enableCORS": True,  # True means CORS *protection* stays on
        "server.corsAllowedOrigins": [],
        "server.fileWatcherType": "none",
        "server.runOnSave": False,
        "server.enableStaticServing": False,
        "server.maxUploadSize": 50,
        "server.enableAgentApi": False,
        "browser.gatherUsageStats": False,
        "client.toolbarMode": "minimal",
        "client.showErrorDetails": "none",
        "client.showErrorLinks": "false",
        "global.developmentMode": False,
        "global.showWarningOnDirectExecution": False,
        "logger.hideWelcomeMessage": True,
        "logger.level": "warning",
        "theme.base": theme if theme in ("light", "dark") else saved_theme(),
        "theme.primaryColor": PRIMARY_COLOR,
    }
    if is_loopback(host):
        options["server.allowedHosts"] = ["localhost", "127.0.0.1", "::1"]
    return options


def keep_address_lookups_local() -> None:
    """Never let Streamlit look this computer's addresses up on the network.

    To judge a cross-origin request (any web page may send one to a local port), Streamlit compares
    its origin with this computer's "internal" address (a UDP socket aimed at 8.8.8.8) and "external"
    address (an HTTP request to checkip.amazonaws.com). The app only listens on loopback and no other
    origin is ever allowed, so both are answered locally: no packet and no lookup leave the computer.
    """
    from streamlit import net_util

    for name in ("get_internal_ip", "get_external_ip"):
        if hasattr(net_util, name):
            setattr(net_util, name, _loopback_address)


def _loopback_address() -> str:
    return DEFAULT_HOST


WARM_MODULES = (
    "tracker.ui.session",
    "tracker.ui.sidebar",
    "tracker.analysis",
    "tracker.filters",
    "tracker.budgets",
    "tracker.recurring",
    "tracker.charts.colors",
    "tracker.charts.dashboard",
    "tracker.charts.plotly_charts",
    "plotly.graph_objects",
)
"""What the Dashboard's first run imports."""


def warm_up() -> float:
    """Do what the first page run would: import the pages' modules, read the ledger, build its frame.

    Run on a thread once the server listens, while the browser (or the window) loads Streamlit's
    frontend, which takes about a second. The ledger is the process's shared one
    (:func:`tracker.ui.session.shared_ledger`), so the first session finds it read and its frame built;
    this month's dashboard is computed and drawn once (:func:`_exercise_dashboard`). Failures are left
    for the page to report. Returns the seconds taken.
    """
    import importlib
    import time

    t0 = time.perf_counter()
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the page reports it
            _log.debug("warm-up: cannot import %s", name, exc_info=True)
    try:
        from tracker.ui.session import shared_ledger

        led = shared_ledger()
        frame = led.lines()
        led.categories()
        led.tags()
        from tracker.conversion import rate_book, reporting_currency

        _exercise_dashboard(frame, reporting_currency(led), rate_book(led))
    except Exception:  # a ledger that cannot be read is shown by the page, with the backups
        _log.debug("warm-up stopped", exc_info=True)
    return time.perf_counter() - t0


def _exercise_dashboard(frame: Any, currency: str, rates: Any = None) -> None:
    """Compute this month's dashboard and draw its figures (:data:`~tracker.charts.dashboard.CHARTS`) once, and throw them away.

    The first call of each loads code the page would otherwise load in its first run (Plotly imports
    the validators of every property the first time it is set, pandas builds its kernels), so the
    first session only computes. Nothing is cached here: the page computes its own view.
    """
    import datetime as dt

    from tracker import analysis
    from tracker.analysis.period import Period, month_end, month_start
    from tracker.charts.dashboard import CHARTS

    today = dt.date.today()
    board = analysis.dashboard(frame, Period(month_start(today), month_end(today)), currency, as_of=today, rates=rates)
    for chart in CHARTS:
        chart.plotly(board).to_dict()


def start_warm_up(log: Callable[[str], None] | None = None) -> threading.Thread:
    """:func:`warm_up` on a daemon thread; ``log`` receives one line when it is done."""

    def run() -> None:
        seconds = warm_up()
        if log is not None:
            log(f"warmed up in {seconds:.2f} s")

    thread = threading.Thread(target=run, name="warm-up", daemon=True)
    thread.start()
    return thread


class AppServer:
    """The app's Streamlit server on the running asyncio loop.

    ``await start()`` returns once the socket is bound and sessions are accepted; ``stop()`` asks it
    to shut down (safe from signal handlers and other threads via ``loop.call_soon_threadsafe``);
    ``await wait_stopped()`` returns when it has.
    """

    def __init__(self, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, theme: str | None = None) -> None:
        self.host = host
        self.options = streamlit_options(port, host, theme)
        self._server: object | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one also when ``0`` was asked for)."""
        from streamlit import config

        return int(config.get_option("server.port"))

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/`` (plus ``server.baseUrlPath`` when one is set)."""
        base = str(self.options.get("server.baseUrlPath") or "").strip("/")
        return url_for(self.host, self.port) + (f"{base}/" if base else "")

    async def start(self) -> str:
        """Bind and start serving; return the URL. Raises ``TrackerError`` when the port is taken."""
        port = int(self.options["server.port"])  # type: ignore[call-overload]
        if not port_is_free(self.host, port):
            raise TrackerError(f"port {port} on {self.host} is not available; choose another with --port")
        from streamlit.web import bootstrap
        from streamlit.web.server import Server

        bootstrap.load_config_options(dict(self.options))
        keep_address_lookups_local()
        server = Server(str(APP_SCRIPT), is_hello=False)
        try:
            await server.start()
        except SystemExit:  # Streamlit exits when an explicitly chosen port is taken
            raise TrackerError(
                f"port {self.options['server.port']} on {self.host} is not available; choose another with --port"
            ) from None
        except OSError as exc:
            raise TrackerError(
                f"cannot listen on {self.host}:{self.options['server.port']} ({exc.strerror or exc})"
            ) from None
        bootstrap.prepare_streamlit_environment(str(APP_SCRIPT))
        self._server = server
        _log.info("server listening at %s", self.url)
        return self.url

    def stop(self) -> None:
        """Ask the server to stop (idempotent).

        Streamlit's own "Stopping..." line is not written: stdout may be a pipe nobody reads any more (a
        closed terminal or launcher), and a failed or blocked write must not leave the server running.
        """
        if self._server is not None:
            with contextlib.redirect_stdout(io.StringIO()):
                self._server.stop()  # type: ignore[attr-defined]

    async def wait_stopped(self) -> None:
        """Return when the server and its sessions have shut down."""
        if self._server is not None:
            await self._server.stopped  # type: ignore[attr-defined]


def run(
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    on_ready: Callable[[str], None] | None = None,
    theme: str | None = None,
) -> None:
    """Run the server until Ctrl+C or SIGTERM (blocking). ``on_ready(url)`` is called once it listens."""
    app = AppServer(port, host, theme)

    async def main() -> None:
        await app.start()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            stops = [signal.SIGINT, signal.SIGTERM]
            for sig in stops:
                try:
                    loop.add_signal_handler(sig, app.stop)
                except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
                    signal.signal(sig, lambda *_: loop.call_soon_threadsafe(app.stop))
        if on_ready is not None:
            on_ready(app.url)
        start_warm_up()
        await app.wait_stopped()

    asyncio.run(main())
    sys.stdout.flush()
