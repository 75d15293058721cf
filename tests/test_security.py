"""Security: loopback only, XSRF on and CORS closed, private files, spreadsheet-safe exports.

* The server (``expense-tracker serve``) is started for real. Every socket the process owns (TCP and
  UDP, IPv4 and IPv6, found through ``/proc/PID/fd`` and ``/proc/net/*``, and ``ss`` when present) is
  bound to loopback. Streamlit's options are read from ``tracker.ui.server``, then checked on the wire:
  the XSRF cookie is set and a write without its token is refused; a foreign ``Origin`` gets no
  ``Access-Control-Allow-Origin`` and its WebSocket is refused; a DNS-rebinding ``Host`` is refused;
  the page's own WebSocket is accepted (so the refusals are not just a broken server).
* Files: the app runs under ``umask 000``; the data, backups, exports, lock and log files are 0600 and
  their folders 0700 anyway.
* Exports (CSV, XLSX, ``list --format csv``, the UI's CSV download): a text that a spreadsheet would run
  as a formula is neutralised; no cell of the XLSX is a formula.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import record_figures, run_cli, websocket_handshake

from tracker.ledger import Ledger

POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and /proc")
DANGEROUS = ["=1+1", "+1+1", "-1+1", "@SUM(A1:A9)", '=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "-2+3"]
DANGEROUS += ["+31 6 1234 5678", "@attacker", "=2*3 and some words"]
"""Texts a spreadsheet would run as formulas (tab and CR prefixes cannot even be stored: control characters)."""


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str, data: Path, logs: Path) -> None:
        self.proc, self.url, self.data, self.logs = proc, url, data, logs

    @property
    def port(self) -> int:
        return int(self.url.rstrip("/").rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``expense-tracker serve --port 0`` under ``umask 000``, with its own data and log folders."""
    root = tmp_path_factory.mktemp("served")
    data, logs = root / "data", root / "logs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "--data-dir", str(data), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "EXPENSE_TRACKER_LOG_DIR": str(logs)},
        preexec_fn=(lambda: os.umask(0)) if os.name == "posix" else None,
    )
    assert proc.stdout is not None
    url = ""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not url:
        line = proc.stdout.readline()
        if not line:
            break
        if "running at" in line:
            url = line.split("running at", 1)[1].strip()
    if not url:
        proc.kill()
        pytest.fail(f"serve did not start: {proc.communicate()}")
    yield Served(proc, url, data, logs)
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def request(
    url: str, headers: dict[str, str] | None = None, data: bytes | None = None, method: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {}, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


# -- listening addresses ------------------------------------------------------------------------------


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def decode_address(hex_address: str) -> str:
    import ipaddress

    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    address = ipaddress.IPv6Address(words)
    return str(address.ipv4_mapped or address)


def bound_sockets(pid: int) -> list[tuple[str, str, int, str]]:
    """(table, local address, port, state) of every TCP/UDP socket of ``pid``."""
    inodes = socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        path = Path("/proc/net") / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                address, port = fields[1].rsplit(":", 1)
                found.append((table, decode_address(address), int(port, 16), fields[3]))
    return found


@POSIX_ONLY
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net")
def test_the_server_listens_on_loopback_only(served: Served) -> None:
    import ipaddress

    sockets = bound_sockets(served.proc.pid)
    listening = [s for s in sockets if s[0].startswith("tcp") and s[3] == "0A"]  # 0A: LISTEN
    assert listening, sockets
    assert served.port in {s[2] for s in listening}, (served.port, listening)
    for table, address, port, state in sockets:
        if table.startswith("udp") or state == "0A":
            assert ipaddress.ip_address(address).is_loopback, (table, address, port, state)
    if shutil.which("ss"):
        out = subprocess.run(["ss", "-ltnupH"], capture_output=True, text=True, timeout=30).stdout
        mine = [line for line in out.splitlines() if f"pid={served.proc.pid}," in line]
        assert mine, out
        for line in mine:
            local = line.split()[4]
            host = local.rsplit(":", 1)[0].strip("[]").split("%")[0]
            assert ipaddress.ip_address(host).is_loopback, line
    record_figures(
        "server_sockets", {"listening": [f"{a}:{p}" for _, a, p, _ in listening], "all_sockets": len(sockets)}
    )


# -- XSRF, CORS, DNS rebinding ---------------------------------------------------------------------------


def test_the_configured_options_keep_xsrf_on_and_cors_closed() -> None:
    from tracker.ui.server import streamlit_options

    options = streamlit_options(0)
    assert options["server.address"] == "127.0.0.1"
    assert options["server.enableXsrfProtection"] is True
    assert options["server.enableCORS"] is True  # True: CORS *protection* on
    assert options["server.corsAllowedOrigins"] == []
    assert set(options["server.allowedHosts"]) <= {"localhost", "127.0.0.1", "::1"}  # type: ignore[arg-type]
    assert options["browser.gatherUsageStats"] is False
    assert options["server.enableStaticServing"] is False
    assert options["global.developmentMode"] is False
    assert options["client.showErrorDetails"] == "none"


def test_xsrf_and_cors_hold_on_the_wire(served: Served) -> None:
    hostile = {"Origin": "http://evil.example", "Referer": "http://evil.example/"}
    for path in ("", "_stcore/health", "_stcore/host-config", "_stcore/upload_file/s/f"):
        status, headers, _ = request(served.url + path, headers=hostile)
        allowed = headers.get("access-control-allow-origin")
        assert allowed in (None, ""), (path, allowed)
        assert headers.get("access-control-allow-credentials") != "true", path
    status, headers, _ = request(served.url + "_stcore/health", headers=hostile)
    assert "_streamlit_xsrf" in headers.get("set-cookie", ""), headers  # XSRF protection is on
    for method in ("PUT", "POST", "DELETE"):  # a write from a foreign page carries no token: refused
        status, _, _ = request(
            served.url + "_stcore/upload_file/session/file", data=b"x", method=method, headers=hostile
        )
        assert status in (403, 405), (method, status)
    status, _, _ = request(served.url + "_stcore/upload_file/session/file", data=b"x", method="PUT")
    assert status == 403


def test_only_the_app_s_own_page_may_open_its_websocket(served: Served) -> None:
    own = f"http://127.0.0.1:{served.port}"
    cases = {
        "same origin (the app's page)": (own, None),
        "a foreign page": ("http://evil.example", None),
        "a Streamlit-hosted page": ("https://evil.streamlit.app", None),
        "a sandboxed frame": ("null", None),
        "DNS rebinding": (f"http://evil.example:{served.port}", f"evil.example:{served.port}"),
    }
    answers = {name: websocket_handshake(served.url, origin, host) for name, (origin, host) in cases.items()}
    assert answers["same origin (the app's page)"].split()[1] == "101", answers
    for name, line in answers.items():
        if name != "same origin (the app's page)":
            assert line.split()[1] in ("400", "403"), (name, line)
    record_figures("websocket_origins", answers)


# -- private files ---------------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@POSIX_ONLY
def test_data_backups_exports_and_logs_are_private_even_under_umask_000(served: Served, tmp_path: Path) -> None:
    data = served.data
    out = tmp_path / "exports"
    out.mkdir(mode=0o755)
    old = os.umask(0)
    try:
        for argv in (
            ["add", "expense", "12.50", "--category", "Food"],
            ["add", "income", "100", "--category", "Gift"],
            ["backups", "create"],
            ["export", "-o", str(out / "all.csv")],
            ["export", "-o", str(out / "all.xlsx")],
            ["export", "-o", str(out / "all.json")],
            ["report", "-o", str(out / "report.pdf")],
        ):
            result = run_cli(["--data-dir", str(data), *argv])
            assert result.code == 0, result.show()
        name = Ledger(data).backups()[0].name
        (data / "ledger.json").write_bytes(b"{broken")  # a restore sets the damaged file aside
        assert run_cli(["--data-dir", str(data), "backups", "restore", name]).code == 0
        assert run_cli(["--data-dir", str(data), "add", "expense", "1", "--category", "After"]).code == 0
        setup_logging_in(served.logs)
    finally:
        os.umask(old)
    folders = [data, data / "backups", served.logs]
    files = [p for folder in (data, served.logs) for p in folder.rglob("*") if p.is_file()]
    assert {"ledger.json", "ledger.journal", "ledger.lock", "expense-tracker.log"} <= {p.name for p in files}
    assert any(".unreadable-" in p.name for p in files)
    assert {str(p): oct(mode(p)) for p in folders} == {str(p): oct(0o700) for p in folders}
    assert {str(p): oct(mode(p)) for p in files} == {str(p): oct(0o600) for p in files}
    exports = sorted(out.iterdir())
    assert {p.name: oct(mode(p)) for p in exports} == {p.name: oct(0o600) for p in exports}
    record_figures("private_files", {"files_checked": len(files) + len(exports), "folders_checked": len(folders)})


def setup_logging_in(folder: Path) -> None:
    """The server already made the log file; log one more line from this process too (same rules)."""
    code = "from tracker.logs import setup_logging; import logging; setup_logging(); logging.getLogger('tracker').warning('x')"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "EXPENSE_TRACKER_LOG_DIR": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


# -- spreadsheet-safe exports ----------------------------------------------------------------------------


@pytest.fixture
def dangerous(data_dir: Path) -> Ledger:
    ledger = Ledger(data_dir)
    for i, text in enumerate(DANGEROUS):
        ledger.add("expense", f"{i + 1}", category=text, note=text, tags=["@tag", "-neg", "=t"])
    return ledger


def neutral(cell: str) -> bool:
    """Whether a spreadsheet would show the cell as text (never run it)."""
    return not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csv_and_xlsx_exports_never_hold_a_formula(dangerous: Ledger, data_dir: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from tracker.ui.table import csv_download

    for fmt in ("csv", "xlsx"):
        assert run_cli(["--data-dir", str(data_dir), "export", "-o", str(tmp_path / f"all.{fmt}")]).code == 0
    listed = run_cli(["--data-dir", str(data_dir), "list", "--format", "csv"])
    sources = {
        "export csv": (tmp_path / "all.csv").read_bytes().decode("utf-8-sig"),
        "list --format csv": listed.out,
        "the UI's CSV download": csv_download(dangerous.frame()).decode("utf-8-sig"),
    }
    checked = 0
    for name, text in sources.items():
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == len(DANGEROUS) + 1, name
        for row in rows[1:]:
            for cell in row:
                assert neutral(cell), (name, cell)
                checked += 1
        assert any(cell.startswith("'=") for row in rows for cell in row), name  # neutralised, not dropped
    book = load_workbook(tmp_path / "all.xlsx")
    sheet = book["Transactions"]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate  # never a formula cell
            if isinstance(cell.value, str):
                assert neutral(cell.value), (cell.coordinate, cell.value)
            checked += 1
    record_figures("spreadsheet_safety", {"formula_like_texts": len(DANGEROUS), "cells_checked": checked})


def test_the_exact_json_export_keeps_the_text_as_typed(dangerous: Ledger, data_dir: Path, tmp_path: Path) -> None:
    """JSON is not opened by spreadsheets: it keeps the text exactly (the round trip depends on it)."""
    assert run_cli(["--data-dir", str(data_dir), "export", "-o", str(tmp_path / "all.json")]).code == 0
    doc: dict[str, Any] = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    assert {t["category"] for t in doc["transactions"]} >= {"=1+1", "@SUM(A1:A9)", "-2+3"}
