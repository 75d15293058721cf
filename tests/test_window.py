"""The real window under Xvfb (Qt WebEngine): it renders the dashboard, and every way of closing it
ends every process. Run by ``make test`` inside ``xvfb-run``; skipped without a display.

Screenshots go to test-output/desktop/ (look at them when something fails).
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from desktop.instance import InstanceLock, read_info
from tracker.storage.paths import SERVER_LOCK

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-output" / "desktop"
TITLE = "Expense Tracker"
START_TIMEOUT = 120  # generous: the suite may share two cores with other work

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt window test for Linux/X11"),
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no X display (run under xvfb-run)"),
    pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed"),
    pytest.mark.timeout(300),
]


# -- processes -----------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, grandchildren, ...)."""
    parent_of: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parent_of[int(entry.name)] = int(stat[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, pp in parent_of.items() if pp in frontier} - found
        found |= frontier
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def wait_all_gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = {p for p in pids if alive(p)}
        if not left:
            return set()
        time.sleep(0.1)
    return {p for p in pids if alive(p)}


# -- X11 -----------------------------------------------------------------------------------------


class _ClientMessage(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _ClientMessage), ("pad", ctypes.c_long * 24)]


def send_wm_delete_window(window: int) -> None:
    """What a window manager sends when the user clicks the close button: WM_PROTOCOLS/WM_DELETE_WINDOW.

    (xdotool 3.2016's ``windowclose`` destroys the X window instead, which is not what a user does.)
    """
    x11 = ctypes.cdll.LoadLibrary("libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = x11.XOpenDisplay(None)
    assert display, "cannot open the X display"
    try:
        event = _XEvent()
        event.xclient.type = 33  # ClientMessage
        event.xclient.display = display
        event.xclient.window = window
        event.xclient.message_type = x11.XInternAtom(display, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = x11.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
        event.xclient.data[1] = 0  # CurrentTime
        assert x11.XSendEvent(display, window, 0, 0, ctypes.byref(event))
        x11.XFlush(display)
    finally:
        x11.XCloseDisplay(display)


def find_windows(name: str, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(["xdotool", "search", "--name", f"^{name}$"], capture_output=True, text=True)
        ids = [int(w) for w in found.stdout.split()]
        if ids:
            return ids
        time.sleep(0.2)
    raise AssertionError(f"no window named {name!r}")


def close_like_the_close_button(name: str = TITLE) -> None:
    for window in find_windows(name):
        send_wm_delete_window(window)


def screenshot(name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=30)
    return path


def colours(path: Path, box: tuple[int, int, int, int] | None = None) -> set[tuple[int, ...]]:
    from PIL import Image

    with Image.open(path) as img:
        region = img.convert("RGB").crop(box) if box else img.convert("RGB")
        return {c for _, c in region.getcolors(maxcolors=1 << 20) or []}


# -- the launcher --------------------------------------------------------------------------------


class Launcher:
    """``python -m desktop`` (or ``command``) with a probe file, in its own session."""

    def __init__(
        self,
        tmp: Path,
        data: Path,
        env: dict[str, str] | None = None,
        name: str = "launcher",
        command: list[str] | None = None,
        args: tuple[str, ...] = (),
        cwd: Path = ROOT,
    ) -> None:
        self.probe = tmp / f"{name}-probe.json"
        self.log_dir = tmp / "logs"
        self.output = tmp / f"{name}-output.txt"
        full_env = {
            **os.environ,
            "QTWEBENGINE_DISABLE_SANDBOX": "1",
            "EXPENSE_TRACKER_LOG_DIR": str(self.log_dir),
            "EXPENSE_TRACKER_CACHE_DIR": str(tmp / "cache"),  # the window's web profile, never the user's
            "EXPENSE_TRACKER_DESKTOP_PROBE": str(self.probe),
            **(env or {}),
        }
        self.started = time.monotonic()
        with self.output.open("wb") as out:
            self.proc = subprocess.Popen(
                [*(command or [sys.executable, "-m", "desktop"]), "--data-dir", str(data), *args],
                cwd=cwd,
                env=full_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_probe(self, *statuses: str, timeout: float = START_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.probe.exists():
                data = json.loads(self.probe.read_text())
                if data.get("status") in statuses:
                    return data
            if self.proc.poll() is not None:
                raise AssertionError(f"the launcher exited ({self.proc.returncode}): {self.text()}")
            time.sleep(0.1)
        raise AssertionError(f"no probe {statuses} within {timeout} s; output: {self.text()}")

    def text(self) -> str:
        return self.output.read_text(errors="replace")[-3000:]

    def tree(self) -> set[int]:
        return descendants(self.proc.pid) | {self.proc.pid}

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with one expense, added through the CLI."""
    data = tmp_path_factory.mktemp("seed") / "data"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tracker.cli",
            "--data-dir",
            str(data),
            "add",
            "expense",
            "12.34",
            "--category",
            "Groceries",
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return data


@pytest.fixture
def data(seeded: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(seeded, copy)
    return copy


@pytest.fixture
def launchers() -> Iterator[list[Launcher]]:
    started: list[Launcher] = []
    yield started
    for launcher in started:  # a failed test must not leave windows behind
        launcher.kill()


def assert_dashboard(probe: dict) -> None:
    page = probe["page"]
    assert probe["status"] == "rendered"
    assert page["title"] == TITLE
    assert page["exceptions"] == 0, page["text"]
    for expected in ("Dashboard", "Groceries", "$12.34"):  # the seeded expense, computed and drawn
        assert expected in page["text"], page["text"]


# -- tests ---------------------------------------------------------------------------------------


def test_window_renders_the_dashboard_and_the_close_button_ends_everything(
    data: Path, tmp_path: Path, launchers: list[Launcher]
) -> None:
    launcher = Launcher(tmp_path, data)
    launchers.append(launcher)
    probe = launcher.wait_probe("rendered")
    assert_dashboard(probe)
    print(f"start to rendered dashboard: {probe['seconds']:.2f} s (server ready {probe['server_ready_seconds']:.2f} s)")

    shot = screenshot("window-dashboard")
    # Painted, not blank: the window area holds text, the KPI cards and the charts.
    assert len(colours(shot, (100, 100, 1300, 900))) > 200

    tree = launcher.tree()
    assert probe["server_pid"] in tree
    assert any("QtWebEngineProcess" in cmdline(p) for p in tree)
    info = read_info(data)
    assert info is not None
    assert info["url"] == probe["url"]

    close_like_the_close_button()
    assert launcher.proc.wait(timeout=15) == 0
    assert wait_all_gone(tree, timeout=5) == set(), [cmdline(p) for p in tree if alive(p)]
    assert read_info(data) is None
    lock = InstanceLock(data)
    assert lock.acquire()
    lock.release()


def test_the_web_cache_is_kept_in_the_cache_folder_and_a_relaunch_renders_from_it(
    data: Path, tmp_path: Path, launchers: list[Launcher]
) -> None:
    first = Launcher(tmp_path, data, name="first")
    launchers.append(first)
    probe = first.wait_probe("rendered")
    assert_dashboard(probe)
    (profile,) = (tmp_path / "cache" / "webview").iterdir()  # one profile, for this data folder
    assert (profile / "origin.json").is_file()
    cached = [p for p in (profile / "cache").rglob("*") if p.is_file() and p.stat().st_size > 0]
    assert sum(p.stat().st_size for p in cached) > 1_000_000  # Streamlit's scripts, kept on disk
    os.kill(first.proc.pid, signal.SIGTERM)
    assert first.proc.wait(timeout=30) == 0

    again = Launcher(tmp_path, data, name="again")
    launchers.append(again)
    second = again.wait_probe("rendered")
    assert_dashboard(second)
    assert second["url"] == probe["url"]  # the same address, so the cached scripts apply
    # the chunk prefetch ran as the app's document was created, in both launches
    assert isinstance(probe["page"]["startup"], int)
    assert isinstance(second["page"]["startup"], int)
    shot = screenshot("window-dashboard-relaunch")
    assert len(colours(shot, (100, 100, 1300, 900))) > 200
    os.kill(again.proc.pid, signal.SIGTERM)
    assert again.proc.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("sig", "command"),
    [
        (signal.SIGTERM, [sys.executable, "-m", "desktop.entry"]),  # `expense-tracker` with no subcommand
        (signal.SIGINT, None),  # `python -m desktop`; Ctrl+C in a terminal
    ],
    ids=["SIGTERM-expense-tracker", "SIGINT-python-m-desktop"],
)
def test_sigterm_and_sigint_close_the_window_and_exit_0(
    sig: signal.Signals, command: list[str] | None, data: Path, tmp_path: Path, launchers: list[Launcher]
) -> None:
    launcher = Launcher(tmp_path, data, command=command)
    launchers.append(launcher)
    launcher.wait_probe("rendered")
    tree = launcher.tree()
    launcher.proc.send_signal(sig)
    assert launcher.proc.wait(timeout=15) == 0
    assert wait_all_gone(tree, timeout=5) == set(), [cmdline(p) for p in tree if alive(p)]


def test_sigkill_of_the_launcher_takes_the_server_down_too(
    data: Path, tmp_path: Path, launchers: list[Launcher]
) -> None:
    launcher = Launcher(tmp_path, data)
    launchers.append(launcher)
    probe = launcher.wait_probe("rendered")
    tree = launcher.tree() - {launcher.proc.pid}
    assert probe["server_pid"] in tree
    launcher.proc.kill()  # the launcher only: no clean-up code runs
    launcher.proc.wait(timeout=10)
    left = wait_all_gone(tree, timeout=5)
    assert left == set(), [cmdline(p) for p in left]


def test_second_launch_brings_the_first_window_forward_and_starts_no_server(
    data: Path, tmp_path: Path, launchers: list[Launcher]
) -> None:
    first = Launcher(tmp_path, data, name="first")
    launchers.append(first)
    first.wait_probe("rendered")
    servers_before = {p for p in first.tree() if "desktop.child" in cmdline(p)}
    assert len(servers_before) == 1

    second = Launcher(tmp_path, data, name="second")
    launchers.append(second)
    assert second.proc.wait(timeout=60) == 0
    assert "already open" in second.text()
    focused = first.wait_probe("focus", timeout=10)
    assert focused["focus_requests"] == 1
    servers_after = {p for p in first.tree() if "desktop.child" in cmdline(p)}
    assert servers_after == servers_before
    close_like_the_close_button()
    assert first.proc.wait(timeout=15) == 0


def test_a_file_opened_with_the_app_shows_its_preview_and_a_second_launch_sends_it_another(
    data: Path, tmp_path: Path, launchers: list[Launcher]
) -> None:
    """``expense-tracker statement.ofx``: the window opens on the Import page with the file's preview; a second
    ``expense-tracker FILE`` hands its file to that window (the file manager's "Open with")."""
    ofx = ROOT.parent / "shared" / "fixtures" / "ofx" / "checking.ofx"
    first = Launcher(tmp_path, data, name="first", command=[sys.executable, "-m", "desktop.entry"], args=(str(ofx),))
    launchers.append(first)
    page = first.wait_probe("rendered")["page"]
    assert page["exceptions"] == 0, page["text"]
    for expected in ("Import & Export", "Opened with the app: checking.ofx", "Read as OFX", "Import 3 transactions"):
        assert expected in page["text"], page["text"]
    (rows,) = page["tables"]  # the preview's rows
    for expected in ("0.01", "34.51", "25.00", "AUTOMATIC WITHDRAWAL, ELECTRIC BILL"):
        assert expected in rows, rows

    statement = tmp_path / "März statement.csv"  # given relative to the second launch's folder
    shutil.copyfile(ROOT / "tests" / "fixtures" / "csv" / "sparkasse_camt.csv", statement)
    second = Launcher(
        tmp_path,
        data,
        name="second",
        command=[sys.executable, "-m", "desktop.entry"],
        args=(statement.name,),
        cwd=tmp_path,
    )
    launchers.append(second)
    assert second.proc.wait(timeout=60) == 0, second.text()
    assert "already open" in second.text()
    opened = first.wait_probe("opened", timeout=60)
    page = opened["page"]
    assert "Opened with the app: März statement.csv" in page["text"], page["text"]
    assert "Import 5 transactions" in page["text"], page["text"]
    (rows,) = page["tables"]
    assert "1234.56" in rows
    assert "Hausverwaltung Weiß / MIETE MÄRZ" in rows
    assert not list(data.glob("desktop-open-*.json"))  # each shown once
    close_like_the_close_button()
    assert first.proc.wait(timeout=15) == 0


def test_loading_view_then_a_readable_error_when_the_app_never_finishes(
    data: Path, tmp_path: Path, launchers: list[Launcher]
) -> None:
    hanging = tmp_path / "hanging_app.py"
    hanging.write_text("import time\nimport streamlit as st\nst.write('half a page')\ntime.sleep(600)\n")
    # While another server holds the data folder, the new one waits for it: the window shows its loading
    # view all that time (a fast start would replace it before a screenshot could catch it).
    other_server = FileLock(str(data / SERVER_LOCK))
    other_server.acquire()
    try:
        launcher = Launcher(
            tmp_path,
            data,
            env={"EXPENSE_TRACKER_DESKTOP_SCRIPT": str(hanging), "EXPENSE_TRACKER_DESKTOP_TIMEOUT": "8"},
        )
        launchers.append(launcher)
        find_windows(TITLE)

        def shows_loading_view() -> bool:
            # The loading view: the app icon's greens on the light background, not a blank or black
            # window, and not the error view (its title is dark red).
            seen = colours(screenshot("window-loading"))
            icon = any(r < 80 and g > 120 and b < 140 and g - r > 60 for r, g, b in seen)
            return icon and not any(r > 130 and g < 70 and b < 70 for r, g, b in seen)

        deadline = time.monotonic() + 20  # the window paints late on a busy machine: look again until it shows
        while not shows_loading_view():
            assert time.monotonic() < deadline, "no loading view"
            time.sleep(0.3)
    finally:
        other_server.release()

    probe = launcher.wait_probe("error", timeout=START_TIMEOUT)
    assert "did not finish loading within 8 seconds" in probe["message"]
    assert "could not start" in probe["shown"]  # the error view is what the window shows
    assert str(launcher.log_dir) in probe["shown"]  # with the log file's path
    deadline = time.monotonic() + 15  # and it is painted: dark text on the light page, not a blank window
    while not any(
        r < 90 and g < 90 and b < 90 for r, g, b in colours(screenshot("window-error"), box=(120, 120, 1280, 860))
    ):
        assert time.monotonic() < deadline, "the error view was never painted"
        time.sleep(0.3)
    assert "Details are in" in launcher.text()  # also on stderr

    tree = launcher.tree()
    close_like_the_close_button()
    assert launcher.proc.wait(timeout=15) == 1  # the start failed
    assert wait_all_gone(tree, timeout=5) == set()


DOWNLOAD_APP = """
import streamlit as st
st.title("Download test")
st.download_button("Export CSV", data="date,amount\\n2026-01-02,12.34\\n", file_name="export.csv", mime="text/csv")
"""

DOWNLOAD_HARNESS = """
import sys, threading, time
import webview
from desktop import qt_downloads
from desktop.server import start_server

qt_downloads.install()  # what the launcher does on Linux
webview.settings["ALLOW_DOWNLOADS"] = True
server = start_server()
window = webview.create_window("Download harness", server.url)

def click():
    window.events.loaded.wait(60)
    for _ in range(600):
        if window.evaluate_js("document.querySelectorAll('[data-testid=\\"stDownloadButton\\"] button').length"):
            break
        time.sleep(0.1)
    window.evaluate_js("document.querySelector('[data-testid=\\"stDownloadButton\\"] button').click()")
    print("clicked", flush=True)

threading.Thread(target=click, daemon=True).start()
webview.start(gui="qt")
server.stop()
"""


def test_a_download_in_the_window_reaches_the_file_the_user_chose(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(DOWNLOAD_APP)
    (tmp_path / "harness.py").write_text(DOWNLOAD_HARNESS)
    chosen = tmp_path / "chosen folder" / "my export.csv"
    chosen.parent.mkdir()
    env = {
        **os.environ,
        "QTWEBENGINE_DISABLE_SANDBOX": "1",
        "EXPENSE_TRACKER_DATA_DIR": str(tmp_path / "data"),
        "EXPENSE_TRACKER_DESKTOP_SCRIPT": str(tmp_path / "app.py"),
        "PYTHONPATH": str(ROOT),
    }
    harness = subprocess.Popen(
        [sys.executable, str(tmp_path / "harness.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert harness.stdout is not None
        assert harness.stdout.readline().strip() == "clicked"
        dialog = find_windows("Save file")[0]  # the save dialog, proposing the page's file name
        time.sleep(0.5)
        screenshot("download-dialog")
        subprocess.run(["xdotool", "windowfocus", "--sync", str(dialog)], check=True, timeout=10)
        subprocess.run(["xdotool", "key", "--clearmodifiers", "ctrl+a"], check=True, timeout=10)
        subprocess.run(["xdotool", "type", "--delay", "15", str(chosen)], check=True, timeout=30)
        subprocess.run(["xdotool", "key", "Return"], check=True, timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (chosen.exists() and chosen.stat().st_size):
            time.sleep(0.1)
        assert chosen.read_text() == "date,amount\n2026-01-02,12.34\n"
    finally:
        os.killpg(harness.pid, signal.SIGTERM)
        try:
            harness.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(harness.pid, signal.SIGKILL)


def test_downloads_propose_the_page_file_name() -> None:
    """Unit check of the handler with a stand-in download object (no dialog: cancel path)."""
    pytest.importorskip("PyQt6")
    code = textwrap.dedent(
        """
        from unittest import mock
        from desktop import qt_downloads
        class Download:
            def downloadFileName(self): return "budget report.pdf"
            def suggestedFileName(self): return "x"
            def cancel(self): print("cancelled")
            def accept(self): print("accepted")
        with mock.patch("qtpy.QtWidgets.QFileDialog.getSaveFileName", return_value=("", "")) as dialog:
            qt_downloads._on_download_requested(None, Download())
        print(dialog.call_args.args[2].endswith("budget report.pdf"), dialog.call_args.args[3])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.split() == ["cancelled", "True", "*.pdf"], out.stderr
