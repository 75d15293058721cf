"""``expense-tracker serve`` and the server configuration: loopback, XSRF, CORS, no telemetry, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracker.ui import server

EXE = [sys.executable, "-m", "tracker.cli"]


# -- the configuration ----------------------------------------------------------------------------


def test_options_keep_the_server_private_and_quiet() -> None:
    opts = server.streamlit_options(8765, "127.0.0.1", theme="dark")
    assert opts["server.port"] == 8765
    assert opts["server.address"] == "127.0.0.1"
    assert opts["server.headless"] is True
    assert opts["server.enableXsrfProtection"] is True
    assert opts["server.enableCORS"] is True  # CORS protection on, nothing opened
    assert opts["server.corsAllowedOrigins"] == []
    assert opts["browser.gatherUsageStats"] is False
    assert opts["client.toolbarMode"] == "minimal"
    assert opts["client.showErrorDetails"] == "none"
    assert opts["server.allowedHosts"] == ["localhost", "127.0.0.1", "::1"]
    assert opts["theme.base"] == "dark"


def test_options_are_valid_streamlit_options() -> None:
    from streamlit import config

    known = set(config._config_options_template)
    assert set(server.streamlit_options(0, "127.0.0.1", "light")) <= known


def test_a_non_loopback_host_does_not_restrict_host_names() -> None:
    assert "server.allowedHosts" not in server.streamlit_options(8765, "192.0.2.1", "light")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.5.0.1", True),
        ("0.0.0.0", False),
        ("192.168.1.2", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert server.is_loopback(host) is loopback


def test_url_for() -> None:
    assert server.url_for("127.0.0.1", 8501) == "http://127.0.0.1:8501/"
    assert server.url_for("::1", 9000) == "http://[::1]:9000/"
    assert server.url_for("0.0.0.0", 9000) == "http://127.0.0.1:9000/"


def test_saved_theme_comes_from_the_ledger(data_dir: Path) -> None:
    from tracker.ledger import Ledger

    assert server.saved_theme() == "light"
    Ledger(data_dir).update_settings(theme="dark")
    assert server.saved_theme() == "dark"


# -- the real server ------------------------------------------------------------------------------


def start_serve(data_dir: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``serve`` and return the process and the URL it printed."""
    proc = subprocess.Popen(
        [*EXE, "--data-dir", str(data_dir), "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "running at" in line:
            return proc, line.split("running at", 1)[1].strip()
    proc.kill()
    out, err = proc.communicate()
    raise AssertionError(f"serve did not start: {out}\n{err}")


@pytest.fixture
def served(data_dir: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc, url = start_serve(data_dir, "--port", "0")
    yield proc, url
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def get(
    url: str, headers: dict[str, str] | None = None, data: bytes | None = None, method: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {}, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) with a socket listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                found.add(address)
    return found


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the tests that only look at it."""
    proc, url = start_serve(tmp_path_factory.mktemp("served"), "--port", "0")
    yield url
    proc.kill()
    proc.wait(10)


def test_serve_prints_the_url_answers_and_listens_on_loopback_only(running: str) -> None:
    url = running
    assert url.startswith("http://127.0.0.1:")
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    status, _, body = get(url + "_stcore/health")
    assert (status, body) == (200, b"ok")
    status, _, body = get(url)
    assert status == 200
    assert b"<html" in body.lower()
    if sys.platform.startswith("linux"):
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1 and nothing else


def test_xsrf_protection_is_on_and_cors_is_not_opened(running: str) -> None:
    status, headers, _ = get(running + "_stcore/health", headers={"Origin": "http://evil.example"})
    assert status == 200
    assert "_streamlit_xsrf" in headers.get("set-cookie", "")  # the token a same-origin page must echo
    assert "access-control-allow-origin" not in headers
    # A write without the XSRF token (what a hostile page would send) is refused before anything else.
    status, _, _ = get(running + "_stcore/upload_file/session/file", data=b"x", method="PUT")
    assert status == 403


def test_ctrl_c_stops_cleanly_with_status_0(served: tuple[subprocess.Popen[str], str]) -> None:
    proc, url = served
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert time.monotonic() - start < 10
    assert "Stopped." in out
    assert "Traceback" not in err
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_sigterm_stops_cleanly_too(served: tuple[subprocess.Popen[str], str]) -> None:
    proc, _ = served
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_sigterm_stops_it_when_nobody_reads_its_output_any_more(data_dir: Path) -> None:
    """A terminal or launcher that went away closed the pipe of our stdout: SIGTERM still stops it, promptly."""
    proc, url = start_serve(data_dir, "--port", "0")
    try:
        assert proc.stdout is not None
        assert "Press Ctrl+C" in proc.stdout.readline()  # the last line it writes while it runs
        proc.stdout.close()  # the only read end: from now on a write to stdout fails
        assert get(url + "_stcore/health")[2] == b"ok"
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("serve did not stop within 10 s of SIGTERM once its stdout was closed")
        assert proc.stderr is not None
        err = proc.stderr.read()
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_a_taken_port_is_a_clear_error(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*EXE, "--data-dir", str(data_dir), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert f"port {port}" in done.stderr
    assert "--port" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_port_is_refused(data_dir: Path) -> None:
    done = subprocess.run(
        [*EXE, "--data-dir", str(data_dir), "serve", "--port", "70000"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "port" in done.stderr


def test_a_second_server_on_the_same_data_folder_is_refused(
    served: tuple[subprocess.Popen[str], str], data_dir: Path
) -> None:
    first, url = served
    done = subprocess.run(
        [*EXE, "--data-dir", str(data_dir), "serve", "--port", "0"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "already running on the data folder" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert first.poll() is None  # the first one keeps serving
    assert get(url.rstrip("/") + "/_stcore/health")[2] == b"ok"
