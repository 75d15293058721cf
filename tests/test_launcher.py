"""The desktop launcher without a window: port choice, health waiting, shutdown, single instance.

Real processes throughout: the Streamlit server child runs a tiny script of its own (fast to start),
other "servers" are real sockets in this process.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop import SERVER_FLAG, child, server
from desktop.instance import FocusListener, InstanceLock, read_info, request_focus, write_info
from desktop.pages import error_html, is_rendered
from desktop.server import (
    BindFailed,
    ServerError,
    ServerExited,
    StartupTimeout,
    spawn,
    start_server,
    wait_for_health,
    wait_ready,
)

ROOT = Path(__file__).resolve().parents[1]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# -- helpers -------------------------------------------------------------------------------------


def proc_state(pid: int) -> str | None:
    """The /proc state letter of ``pid`` (None when it does not exist)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    """True for a running (not zombie) process."""
    return proc_state(pid) not in (None, "Z", "X")


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def server_children() -> list[int]:
    """This test process's server children that are still running."""
    return [
        pid
        for pid in children(os.getpid())
        if alive(pid) and "desktop.child" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    ]


@pytest.fixture
def running(app_env: Path) -> Iterator[server.ServerProcess]:
    srv = start_server(timeout=60)
    yield srv
    srv.stop()


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


class _FakeHealth(http.server.BaseHTTPRequestHandler):
    """Another program on the port: answers ``ok`` to every path, like a naive health check wants."""

    hits: list[str] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def squatter() -> Iterator[tuple[int, type[_FakeHealth]]]:
    """A port found free by a probe, then taken by another server before ours binds it."""
    with socket.socket() as probe:  # the probe: find a free port, release it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    class Handler(_FakeHealth):
        hits: list[str] = []

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)  # ... someone else grabs it
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield port, Handler
    httpd.shutdown()
    httpd.server_close()


# -- port choice ---------------------------------------------------------------------------------


@linux_only
def test_server_binds_a_free_port_and_serves_only_under_its_token(running: server.ServerProcess) -> None:
    assert 1024 <= running.port <= 65535
    assert running.token in running.url
    assert http_get(running.health_url) == (200, "ok")
    status, page = http_get(running.url)
    assert status == 200
    assert 'id="root"' in page
    # Without the token the server is not reachable: a guess at the port alone finds nothing.
    assert http_get(f"http://127.0.0.1:{running.port}/_stcore/health")[0] == 404
    assert http_get(f"http://127.0.0.1:{running.port}/")[0] == 404
    assert server_children() == [running.pid]


@linux_only
def test_a_port_taken_between_probe_and_bind_is_retried_on_another_port(
    app_env: Path, squatter: tuple[int, type[_FakeHealth]], caplog: pytest.LogCaptureFixture
) -> None:
    taken, fake = squatter
    caplog.set_level("WARNING", logger="desktop.server")
    srv = start_server(ports=(taken, 0), timeout=60)
    try:
        assert srv.port != taken
        assert http_get(srv.health_url) == (200, "ok")
        assert any("attempt 1" in r.getMessage() and str(taken) in r.getMessage() for r in caplog.records)
        # The impostor answering "ok" on the taken port was never asked: identity came from our child.
        assert fake.hits == []
        assert server_children() == [srv.pid]  # the first child (bind failed) is gone
    finally:
        srv.stop()


@linux_only
def test_every_port_taken_is_an_error_and_leaves_no_child(
    app_env: Path, squatter: tuple[int, type[_FakeHealth]]
) -> None:
    taken, _ = squatter
    with pytest.raises(ServerError, match=f"{taken}"):
        start_server(ports=(taken, taken), timeout=60)
    assert server_children() == []


def test_bind_failure_is_reported_by_the_child(app_env: Path, squatter: tuple[int, type[_FakeHealth]]) -> None:
    taken, _ = squatter
    proc, token, events = spawn(taken)
    with pytest.raises(BindFailed, match="not available"):
        wait_ready(proc, token, events, timeout=60)
    assert proc.wait(timeout=10) == child.EXIT_BIND_FAILED


@linux_only
def test_frozen_dispatch_runs_the_server_child(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The frozen binary starts its server with ``<binary> --desktop-server``: the entry point dispatches it."""
    monkeypatch.setattr(server, "server_command", lambda: [sys.executable, "-m", "desktop.entry", SERVER_FLAG])
    srv = start_server(timeout=60)
    try:
        assert http_get(srv.health_url) == (200, "ok")
        assert "desktop.entry" in Path(f"/proc/{srv.pid}/cmdline").read_bytes().decode()
    finally:
        srv.stop()


def test_frozen_dispatch_runs_the_cli(tmp_path: Path) -> None:
    """Any other arguments go to the CLI (``dist/expense-tracker/expense-tracker add ...``)."""
    data = tmp_path / "data"
    env = {**os.environ, "EXPENSE_TRACKER_LOG_DIR": str(tmp_path / "logs")}
    cmd = [sys.executable, "-m", "desktop.entry", "--data-dir", str(data)]
    added = subprocess.run([*cmd, "add", "expense", "5", "--category", "Food"], env=env, capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    listed = subprocess.run([*cmd, "list", "--format", "json"], env=env, capture_output=True, text=True, check=True)
    rows = json.loads(listed.stdout)
    assert [(r["category"], r["amount"]) for r in rows] == [("Food", "5.00")]


def test_server_command_of_a_frozen_binary_is_the_binary_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/et/expense-tracker")
    assert server.server_command() == ["/opt/et/expense-tracker", SERVER_FLAG]


# -- health waiting ------------------------------------------------------------------------------


def test_health_wait_times_out_on_a_server_that_never_answers() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never says anything
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/x/_stcore/health"
        start = time.monotonic()
        with pytest.raises(StartupTimeout, match=r"within 0\.8 s"):
            wait_for_health(url, timeout=0.8)
        assert time.monotonic() - start < 3.0  # bounded: the request itself cannot hang


def test_health_wait_rejects_an_answer_that_is_not_ok(squatter: tuple[int, type[_FakeHealth]]) -> None:
    port, handler = squatter
    handler.do_GET = lambda self: (self.send_response(200), self.end_headers(), self.wfile.write(b"nope"))  # type: ignore[method-assign]
    with pytest.raises(StartupTimeout, match="nope"):
        wait_for_health(f"http://127.0.0.1:{port}/h", timeout=0.6)


def test_health_wait_returns_once_the_server_says_ok() -> None:
    ready_at = time.monotonic() + 0.4

    class Late(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            late = time.monotonic() < ready_at
            self.send_response(503 if late else 200)
            self.end_headers()
            self.wfile.write(b"starting" if late else b"ok")

        def log_message(self, *args: object) -> None:
            return None

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Late)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        waited = wait_for_health(f"http://127.0.0.1:{httpd.server_address[1]}/h", timeout=10)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert 0.3 <= waited < 3


def test_health_wait_stops_at_once_when_the_server_has_exited() -> None:
    start = time.monotonic()
    with pytest.raises(ServerExited):
        wait_for_health("http://127.0.0.1:9/h", timeout=30, alive=lambda: False)
    assert time.monotonic() - start < 1


def test_a_child_that_exits_before_its_handshake_is_reported(app_env: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("raise SystemExit('no')\n")  # only runs per session; the server itself starts fine
    proc, token, events = spawn(0)
    proc.kill()  # dies before it could say anything
    with pytest.raises(ServerExited, match="before it was ready"):
        wait_ready(proc, token, events, timeout=30)


# -- shutdown ------------------------------------------------------------------------------------


@linux_only
def test_stop_ends_the_server_gracefully_and_quickly(app_env: Path) -> None:
    srv = start_server(timeout=60)
    start = time.monotonic()
    assert srv.stop() == 0  # closing its stdin is a graceful stop
    assert time.monotonic() - start < 5
    assert not alive(srv.pid)
    assert server_children() == []


@linux_only
def test_sigterm_stops_the_server_child_by_itself(app_env: Path) -> None:
    srv = start_server(timeout=60)
    try:
        os.kill(srv.pid, signal.SIGTERM)
        assert srv.process.wait(timeout=10) == 0
    finally:
        srv.stop()


@linux_only
def test_stop_all_stops_children_still_starting(app_env: Path) -> None:
    procs = [spawn(0)[0], spawn(0, lock_timeout=30)[0]]  # the second waits for the first's data-folder lock
    server.stop_all(timeout=5)
    assert [p.poll() is not None for p in procs] == [True, True]
    assert server_children() == []


def test_stop_escalates_to_kill_for_a_child_that_ignores_everything(tmp_path: Path) -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout is not None
    assert stubborn.stdout.readline() == b"up\n"
    srv = server.ServerProcess(stubborn, port=1, token="t")
    start = time.monotonic()
    status = srv.stop(timeout=0.5)
    assert status == -signal.SIGKILL
    assert time.monotonic() - start < 5


@linux_only
def test_server_child_dies_when_the_launcher_is_killed(app_env: Path, tmp_path: Path) -> None:
    """SIGKILL of the launcher process: nothing can clean up, the child must notice by itself."""
    parent_code = textwrap.dedent(
        """
        import sys, time
        from desktop.server import start_server
        srv = start_server(timeout=60)
        print(srv.pid, flush=True)
        time.sleep(120)
        """
    )
    launcher = subprocess.Popen(
        [sys.executable, "-c", parent_code],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert launcher.stdout is not None
        child_pid = int(launcher.stdout.readline())
        assert alive(child_pid)
        launcher.kill()
        launcher.wait(timeout=10)
        assert wait_gone(child_pid, timeout=5), "the server outlived its launcher"
    finally:
        launcher.kill()


@linux_only
def test_only_one_server_per_data_folder(running: server.ServerProcess) -> None:
    with pytest.raises(ServerExited, match="another server is running"):
        start_server(first=spawn(0, lock_timeout=0.5), timeout=60)
    assert server_children() == [running.pid]


# -- single instance -----------------------------------------------------------------------------


def test_instance_lock_is_exclusive_and_released_when_its_holder_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                f"from desktop.instance import InstanceLock; import time; l = InstanceLock({str(tmp_path)!r}); "
                "print(l.acquire(), flush=True); time.sleep(60)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "True"
        assert InstanceLock(tmp_path).acquire() is False
        holder.kill()  # no clean-up possible: the OS releases the lock
        holder.wait(timeout=10)
        mine = InstanceLock(tmp_path)
        assert mine.acquire() is True
        mine.release()
    finally:
        holder.kill()


def test_instance_file_round_trip_is_private_and_removed_on_release(tmp_path: Path) -> None:
    lock = InstanceLock(tmp_path)
    assert lock.acquire()
    write_info(tmp_path, {"pid": 42, "url": "http://127.0.0.1:1/x/"})
    assert read_info(tmp_path) == {"pid": 42, "url": "http://127.0.0.1:1/x/"}
    if os.name == "posix":
        assert (tmp_path / "desktop-instance.json").stat().st_mode & 0o077 == 0
    lock.release()
    assert read_info(tmp_path) is None


def test_focus_request_reaches_the_running_instance_only_with_its_token(tmp_path: Path) -> None:
    calls: list[str] = []
    listener = FocusListener(lambda: calls.append("focus"))
    try:
        assert request_focus({"control_port": listener.port, "control_token": "wrong"}) is False
        assert calls == []
        assert request_focus({"control_port": listener.port, "control_token": listener.token}) is True
        assert calls == ["focus"]
    finally:
        listener.close()
    assert request_focus({"control_port": listener.port, "control_token": listener.token}, timeout=1) is False
    assert request_focus({}) is False


def _desktop(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "EXPENSE_TRACKER_LOG_DIR": str(tmp_path / "logs"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "desktop", "--data-dir", str(tmp_path / "data"), *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_second_launch_brings_the_running_window_forward(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lock = InstanceLock(data)
    assert lock.acquire()
    calls: list[str] = []
    listener = FocusListener(lambda: calls.append("focus"))
    write_info(data, {"pid": os.getpid(), "control_port": listener.port, "control_token": listener.token})
    try:
        result = _desktop(tmp_path, env={"DISPLAY": ":0"})
    finally:
        listener.close()
        lock.release()
    assert result.returncode == 0, result.stderr
    assert "already open" in result.stderr
    assert calls == ["focus"]


def test_second_launch_says_so_when_the_running_one_does_not_answer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lock = InstanceLock(data)
    assert lock.acquire()
    write_info(data, {"pid": 4242})
    try:
        result = _desktop(tmp_path, env={"DISPLAY": ":0"})
    finally:
        lock.release()
    assert result.returncode == 1
    assert "already running" in result.stderr
    assert "4242" in result.stderr


# -- no display, imports, pages --------------------------------------------------------------------


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="a display is always there")
@pytest.mark.parametrize("via", ["python -m desktop", "expense-tracker"])
def test_without_a_display_it_says_what_to_do_and_exits_2(tmp_path: Path, via: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["EXPENSE_TRACKER_LOG_DIR"] = str(tmp_path / "logs")
    if via == "expense-tracker":
        cmd = [str(Path(sys.executable).with_name("expense-tracker")), "--data-dir", str(tmp_path / "data")]
    else:
        cmd = [sys.executable, "-m", "desktop", "--data-dir", str(tmp_path / "data")]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2
    assert "no display" in result.stderr
    assert "expense-tracker serve" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


def test_importing_the_launcher_loads_no_gui_and_no_streamlit() -> None:
    code = (
        "import sys, desktop.launcher; print(sorted(m for m in ('webview', 'PyQt6', 'streamlit') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


@linux_only
def test_signals_close_the_window_from_a_thread_not_the_main_thread(tmp_path: Path) -> None:
    """SignalCloser: a signal reaches the close callback through the wakeup fd, on its own thread.

    Qt's event loop keeps the main thread in C++, where no Python signal handler runs; the callback
    must therefore not depend on the main thread, and SIGTERM must not kill the process.
    """
    code = textwrap.dedent(
        """
        import threading
        from desktop.launcher import SignalCloser
        done = threading.Event()
        got = []
        SignalCloser(lambda sig: (got.append((sig, threading.current_thread().name)), done.set()))
        print("ready", flush=True)
        done.wait(30)
        print("closed by", got, flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert f"closed by [({int(signal.SIGTERM)}, 'signals')]" in out
    assert proc.returncode == 0  # SIGTERM did not kill it: the window closes, then it exits normally


def test_error_page_names_the_problem_and_the_log_file() -> None:
    page = error_html("The server <exited>", "/home/u/.local/state/ExpenseTracker/log/expense-tracker.log")
    assert "The server &lt;exited&gt;" in page
    assert "/home/u/.local/state/ExpenseTracker/log/expense-tracker.log" in page
    assert "expense-tracker serve" in page


@pytest.mark.parametrize(
    ("state", "rendered"),
    [
        ({"app": True, "script": "notRunning", "elements": 4, "loading": 0, "painted": True}, True),
        ({"app": True, "script": "running", "elements": 4, "loading": 0, "painted": True}, False),
        ({"app": True, "script": "initial", "elements": 0, "loading": 0, "painted": False}, False),
        ({"app": True, "script": "notRunning", "elements": 0, "loading": 0, "painted": True}, False),
        ({"app": True, "script": "notRunning", "elements": 4, "loading": 2, "painted": True}, False),
        ({"app": True, "script": "notRunning", "elements": 4, "loading": 0, "painted": False}, False),
        ({"app": False}, False),
        (None, False),
    ],
)
def test_rendered_means_run_finished_everything_loaded_and_painted(state: object, rendered: bool) -> None:
    assert is_rendered(state) is rendered
