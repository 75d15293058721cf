"""The desktop window figure: the launcher's start until the dashboard has rendered in the window.

The launcher (``desktop/launcher.py``) writes a JSON file named by ``EXPENSE_TRACKER_DESKTOP_PROBE``
once its render check has seen the dashboard painted in the window (Streamlit's first script run
finished, elements shown, no placeholder left, two animation frames passed). This module starts
its own Xvfb, then for each repeat starts ``python -m desktop --data-dir DIR`` as a new process and
takes the wall time from spawning it until that file says ``rendered``; the launcher's own figure
(measured from the start of its ``main``, so without the interpreter's start-up and imports) is kept
beside it. SIGTERM closes the window (and the launcher stops its server) before the next launch.

The window keeps a web profile (HTTP and JavaScript code caches) in the user cache folder
(:mod:`desktop.webprofile`), so its first launch and the launches after it differ. Each repeat gets a
fresh data folder and an empty cache folder (``EXPENSE_TRACKER_CACHE_DIR``) and launches twice:
``window_first_launch_s`` is the first launch (empty profile: what a new install, or a cleared cache,
costs) and ``window_rendered_s`` the relaunch on the same data with the profile the first one left.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.runner import Context

MAX_WINDOW_REPEATS = 3
"""Each launch takes seconds: at most this many samples, whatever ``--repeats`` says."""
RENDER_TIMEOUT = 120.0


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    """A private X server for the window; yields its ``DISPLAY``."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise FileNotFoundError("Xvfb is not installed")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [binary, "-displayfd", str(write_fd), "-screen", "0", "1400x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "r") as pipe:
            number = pipe.readline().strip()
        if not number.isdigit():
            raise RuntimeError("Xvfb did not report its display number")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the launcher closes its window and stops its server
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def launch_once(ctx: Context, display: str, index: int, relaunch: bool = False) -> dict[str, Any]:
    """One launch: wall time to the probe's ``rendered``, and what it reported.

    A first launch gets a fresh copy of the data and an empty cache folder; a relaunch reuses both.
    """
    from benchmarks.runner import ROOT, _copy, _env

    data = ctx.work / f"window-{index}" if relaunch else _copy(ctx, f"window-{index}")
    cache = ctx.work / f"window-cache-{index}"
    if not relaunch:
        shutil.rmtree(cache, ignore_errors=True)
    name = f"{index}-{'relaunch' if relaunch else 'first'}"
    probe = ctx.work / f"window-probe-{name}.json"
    probe.unlink(missing_ok=True)
    env = {
        **_env(data),
        "EXPENSE_TRACKER_CACHE_DIR": str(cache),
        "DISPLAY": display,
        "EXPENSE_TRACKER_DESKTOP_PROBE": str(probe),
        "EXPENSE_TRACKER_DESKTOP_TIMEOUT": str(RENDER_TIMEOUT),
        "QTWEBENGINE_DISABLE_SANDBOX": "1",
    }
    env.pop("WAYLAND_DISPLAY", None)
    log = (ctx.work / f"window-{name}.log").open("wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop", "--data-dir", str(data)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = t0 + RENDER_TIMEOUT + 30
        while True:
            if probe.exists():
                try:
                    result = json.loads(probe.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    result = {}
                if result.get("status") in ("rendered", "error"):
                    wall = time.perf_counter() - t0
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"the launcher exited ({proc.returncode}) before rendering; see {log.name}")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"no rendered dashboard within {deadline - t0:.0f} s")
            time.sleep(0.02)
    finally:
        _stop(proc)
        log.close()
    if result["status"] != "rendered":
        raise RuntimeError(f"the launcher reported an error: {result.get('message')}")
    page = result.get("page") or {}
    if page.get("exceptions"):
        raise RuntimeError(f"the dashboard showed {page['exceptions']} exception(s)")
    return {
        "wall_s": wall,
        "launcher_s": float(result["seconds"]),
        "server_ready_s": float(result.get("server_ready_seconds") or 0.0),
        "elements": page.get("elements"),
    }


FIGURES = ("window_rendered_s", "window_first_launch_s")


def measure(ctx: Context) -> dict[str, dict[str, Any]]:
    """Median over up to three repeats of a first launch and a relaunch (``unavailable`` without the launcher or Xvfb)."""
    from benchmarks.runner import ROOT, figure, not_measured

    if not (ROOT / "desktop" / "launcher.py").exists():
        return {name: not_measured("unavailable", "desktop/launcher.py does not exist") for name in FIGURES}
    if shutil.which("Xvfb") is None:
        return {name: not_measured("unavailable", "Xvfb is not installed") for name in FIGURES}
    firsts, relaunches = [], []
    with xvfb() as display:
        for i in range(max(1, min(ctx.repeats, MAX_WINDOW_REPEATS))):
            firsts.append(launch_once(ctx, display, i))
            relaunches.append(launch_once(ctx, display, i, relaunch=True))

    def result(runs: list[dict[str, Any]], where: str) -> dict[str, Any]:
        return figure(
            [r["wall_s"] for r in runs],
            "s",
            where=where,
            launcher_reported_s=[r["launcher_s"] for r in runs],
            server_ready_s=[r["server_ready_s"] for r in runs],
            elements=[r["elements"] for r in runs],
        )

    spawn = "spawn of `python -m desktop` to the launcher's 'rendered' probe (Xvfb)"
    return {
        "window_rendered_s": result(relaunches, f"{spawn}; a relaunch: the web cache of the launch before is warm"),
        "window_first_launch_s": result(firsts, f"{spawn}; the first launch: empty web cache folder"),
    }


__all__ = ["measure", "xvfb"]
