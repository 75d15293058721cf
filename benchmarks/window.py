"""The desktop window figure: the launcher's start until the dashboard has rendered in the window.

The launcher (``desktop/launcher.py``) writes a JSON file named by ``EXPENSE_TRACKER_DESKTOP_PROBE``
once its render check has seen the dashboard painted in the window (Streamlit's first script run
finished, elements shown, no placeholder left, two animation frames passed). This module starts
its own Xvfb, then for each repeat starts ``python -m desktop --data-dir DIR`` as a new process and
takes the wall time from spawning it until that file says ``rendered``; the launcher's own figure
(measured from the start of its ``main``, so without the interpreter's start-up and imports) is kept
beside it. SIGTERM closes the window (and the launcher stops its server) before the next repeat.
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


def launch_once(ctx: Context, display: str, index: int) -> dict[str, Any]:
    """One launch on a fresh copy of the data: wall time to the probe's ``rendered``, and what it reported."""
    from benchmarks.runner import ROOT, _copy, _env

    data = _copy(ctx, f"window-{index}")
    probe = ctx.work / f"window-probe-{index}.json"
    probe.unlink(missing_ok=True)
    env = {
        **_env(data),
        "DISPLAY": display,
        "EXPENSE_TRACKER_DESKTOP_PROBE": str(probe),
        "EXPENSE_TRACKER_DESKTOP_TIMEOUT": str(RENDER_TIMEOUT),
        "QTWEBENGINE_DISABLE_SANDBOX": "1",
    }
    env.pop("WAYLAND_DISPLAY", None)
    log = (ctx.work / f"window-{index}.log").open("wb")
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


def measure(ctx: Context) -> dict[str, dict[str, Any]]:
    """``window_rendered_s``: median over up to three launches (``unavailable`` without the launcher or Xvfb)."""
    from benchmarks.runner import ROOT, figure, not_measured

    if not (ROOT / "desktop" / "launcher.py").exists():
        return {"window_rendered_s": not_measured("unavailable", "desktop/launcher.py does not exist")}
    if shutil.which("Xvfb") is None:
        return {"window_rendered_s": not_measured("unavailable", "Xvfb is not installed")}
    runs = []
    with xvfb() as display:
        for i in range(max(1, min(ctx.repeats, MAX_WINDOW_REPEATS))):
            runs.append(launch_once(ctx, display, i))
    return {
        "window_rendered_s": figure(
            [r["wall_s"] for r in runs],
            "s",
            where="spawn of `python -m desktop` to the launcher's 'rendered' probe (Xvfb)",
            launcher_reported_s=[r["launcher_s"] for r in runs],
            server_ready_s=[r["server_ready_s"] for r in runs],
            elements=[r["elements"] for r in runs],
        )
    }


__all__ = ["measure", "xvfb"]
