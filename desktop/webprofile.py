"""The window's web profile: a disk cache that lets a relaunch reuse the parsed frontend.

Streamlit's frontend is several megabytes of JavaScript (Plotly's chunk alone is 4.7 MB). In a private
(off-the-record) profile every launch downloads, parses and compiles all of it again. This module gives
the window a persistent profile in the user *cache* folder (platformdirs; ``EXPENSE_TRACKER_CACHE_DIR``
overrides it), one per data folder, with Chromium's disk HTTP cache, so a relaunch reads the scripts from
disk instead of the server (QtWebEngine 6.11 keeps no V8 code cache between launches, so they are still
compiled each time). Cookies stay in memory only.

Caches are keyed by URL, so the app must come back at the same address: :func:`load_origin` remembers
the last port and base-path token (``origin.json``, readable only by the user) and the launcher asks
the server child for that port first. If another program holds it now, the child reports so and the
launcher falls back to a port chosen by the OS (a first-launch speed, nothing worse).
Deleting the folder is always safe: it only holds caches.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

ENV_CACHE_DIR = "EXPENSE_TRACKER_CACHE_DIR"
APP_NAME = "ExpenseTracker"
ORIGIN_FILE = "origin.json"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")

_log = logging.getLogger("desktop.webprofile")


def cache_root() -> Path:
    """``$EXPENSE_TRACKER_CACHE_DIR``, else platformdirs' user cache folder of the app."""
    override = os.environ.get(ENV_CACHE_DIR)
    if override:
        return Path(override).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def profile_dir(data_dir: Path) -> Path:
    """The web profile of the window of ``data_dir`` (each data folder has its own: two windows never share one)."""
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode("utf-8")).hexdigest()[:16]
    return cache_root() / "webview" / digest


def ensure_private_dir(folder: Path) -> Path:
    """Create ``folder`` (and its parents) readable by the user only; return it."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)
    return folder


def load_origin(folder: Path) -> tuple[int, str] | None:
    """The port and token of the last launch (``None`` when unknown or unreadable)."""
    try:
        data = json.loads((folder / ORIGIN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    port, token = (
        data.get("port") if isinstance(data, dict) else None,
        data.get("token") if isinstance(data, dict) else None,
    )
    if not isinstance(port, int) or not 1024 <= port <= 65535 or not isinstance(token, str) or not _TOKEN.match(token):
        return None
    return port, token


def save_origin(folder: Path, port: int, token: str) -> None:
    """Remember the address of this launch for the next one (best effort: a cache, never an error)."""
    try:
        ensure_private_dir(folder)
        tmp = folder / f"{ORIGIN_FILE}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"port": int(port), "token": token}, out)
        os.replace(tmp, folder / ORIGIN_FILE)
    except OSError as exc:
        _log.info("could not remember the app's address in %s: %s", folder, exc)


APP_PATH_JS = r"/^\/et-[0-9a-f]+\/$/.test(location.pathname) && location.hostname === '127.0.0.1'"
"""True in the page of the app's own server (``http://127.0.0.1:PORT/et-<token>/``), false in the loading view."""


def install(folder: Path, startup_js: str = "") -> None:
    """Make pywebview's Qt backend use a persistent profile in ``folder`` (call before ``webview.start``).

    ``webview.start(private_mode=False)`` must be used with it. pywebview creates the named profile
    ``QWebEngineProfile("pywebview")`` and sets its storage path; the cache path, the disk HTTP
    cache and the in-memory cookies are set here, before the profile loads anything.

    ``startup_js`` runs in the app's page as soon as its document is created (before Streamlit's own
    scripts), only there (see :data:`APP_PATH_JS`): the launcher starts fetching and compiling the
    dashboard's frontend chunks with it while Streamlit boots and the server runs the page.
    """
    os.environ.setdefault("QT_API", "pyqt6")
    from webview.platforms import qt

    ensure_private_dir(folder)
    original = getattr(qt.QWebEngineProfile, "_expense_tracker_original", qt.QWebEngineProfile)

    def make_profile(*args: Any) -> Any:
        profile = original(*args)
        if args:  # the named (persistent) profile; an off-the-record one has no name
            profile.setPersistentStoragePath(str(folder / "storage"))
            profile.setCachePath(str(folder / "cache"))
            profile.setHttpCacheType(original.HttpCacheType.DiskHttpCache)
            profile.setHttpCacheMaximumSize(200 * 1024 * 1024)
            profile.setPersistentCookiesPolicy(original.PersistentCookiesPolicy.NoPersistentCookies)
            if startup_js:
                _add_startup_script(profile, startup_js)
            _log.info("web profile in %s", folder)
        return profile

    make_profile._expense_tracker_original = original  # type: ignore[attr-defined]
    qt.QWebEngineProfile = make_profile
    qt._profile_storage_path = str(folder / "storage")


def _add_startup_script(profile: Any, code: str) -> None:
    """Run ``code`` at document creation in the app's pages of ``profile`` (main frame, main world)."""
    from PyQt6.QtWebEngineCore import QWebEngineScript

    script = QWebEngineScript()
    script.setName("expense-tracker-startup")
    script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
    script.setRunsOnSubFrames(False)
    # __etStartup marks that it ran (the render check reports it: desktop.pages.RENDER_STATE_JS)
    script.setSourceCode(f"if ({APP_PATH_JS}) {{ window.__etStartup = performance.now(); {code}; }}")
    profile.scripts().insert(script)
