"""Opening a file with the app (``expense-tracker statement.ofx``): which arguments go to the window, the
launcher's checks, the "open" request of the single-instance channel, and the Import page's preview of
a file the launcher stored. The real window is in ``test_window.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_helpers import texts
from streamlit.testing.v1 import AppTest

from desktop import launcher, openfile
from desktop.entry import opens_the_window
from desktop.instance import FocusListener, InstanceLock, request_open, write_info
from tracker.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "tracker" / "ui" / "app_pages" / "import_export.py"
CHECKING = ROOT.parent / "shared" / "fixtures" / "ofx" / "checking.ofx"
"""Three transactions: 0.01 in, 34.51 and 25.00 out."""
CSV = ROOT / "tests" / "fixtures" / "csv" / "sparkasse_camt.csv"


def open_page(ident: str) -> AppTest:
    """The Import page loaded as the launcher loads it: ``import_export?open=<id>``."""
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.query_params[openfile.QUERY_KEY] = ident
    at.run()
    assert not at.exception
    return at


# -- the Import page -------------------------------------------------------------------------------


def test_a_file_the_launcher_stored_shows_its_preview_once_and_imports(data_dir: Path) -> None:
    ident = openfile.add_pending(data_dir, CHECKING)
    entry = data_dir / f"desktop-open-{ident}.json"
    if os.name == "posix":
        assert entry.stat().st_mode & 0o077 == 0
    at = open_page(ident)
    assert not at.error
    assert "Opened with the app: checking.ofx" in texts(at.caption)
    assert "Read as OFX" in texts(at.caption)
    assert texts(at.metric) == ["3", "0", "0"]
    assert list(at.dataframe[0].value["Amount"]) == ["0.01", "34.51", "25.00"]
    assert openfile.QUERY_KEY not in at.query_params  # a refresh does not ask for it again
    assert not entry.exists()  # claimed
    assert Ledger(data_dir).transactions() == []  # nothing saved before the confirm

    at.button(key="imp_confirm").click().run()  # the usual button
    assert not at.exception
    assert "Imported 3 transactions from checking.ofx. Undo removes them all at once." in texts(at.success)
    assert sorted((t.type, t.amount_minor) for t in Ledger(data_dir).transactions()) == [
        ("expense", 2500),
        ("expense", 3451),
        ("income", 1),
    ]
    assert texts(at.metric) == ["0", "3", "0"]  # still shown on the reruns: now all duplicates

    again = open_page(ident)  # the same id again (a refresh of the old URL, another tab)
    assert not again.dataframe
    assert any("no longer known" in e for e in texts(again.error))
    assert "Choose a file to see a preview of its transactions." in texts(again.info)


@pytest.mark.parametrize(
    "ident",
    ["0" * 32, "../../desktop-instance", str(CHECKING), "", "ABCDEF0123456789ABCDEF0123456789"],
    ids=["unknown", "traversal", "a-path", "empty", "upper-case"],
)
def test_an_id_the_launcher_did_not_make_shows_a_message_and_no_file(data_dir: Path, ident: str) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "desktop-instance.json").write_text("{}")
    at = open_page(ident)
    assert not at.dataframe
    assert [e for e in texts(at.error) if "no longer known" in e]
    assert Ledger(data_dir).transactions() == []


def test_a_pending_open_past_its_time_or_of_a_vanished_file_is_an_error(data_dir: Path, tmp_path: Path) -> None:
    old = openfile.add_pending(data_dir, CHECKING, now=time.time() - openfile.PENDING_SECONDS - 5)
    assert any("no longer known" in e for e in texts(open_page(old).error))
    gone = tmp_path / "gone.ofx"
    gone.write_bytes(CHECKING.read_bytes())
    ident = openfile.add_pending(data_dir, gone)
    gone.unlink()
    at = open_page(ident)
    assert any("gone.ofx cannot be read" in e for e in texts(at.error))
    assert not at.dataframe


def test_an_upload_replaces_the_file_opened_with_the_app(data_dir: Path) -> None:
    at = open_page(openfile.add_pending(data_dir, CHECKING))
    at.file_uploader(key="imp_file").set_value((CSV.name, CSV.read_bytes(), "text/csv")).run()
    assert texts(at.metric) == ["5", "0", "0"]
    assert not [c for c in texts(at.caption) if c.startswith("Opened with the app")]


def test_the_launcher_and_the_page_agree_on_files_and_addresses() -> None:
    from tracker.importers import IMPORTERS
    from tracker.ui.server import streamlit_options

    extensions = {ext for cls in IMPORTERS for ext in cls.extensions}
    assert set(openfile.SUFFIXES) <= extensions
    assert int(streamlit_options()["server.maxUploadSize"]) * 1024 * 1024 == openfile.MAX_BYTES  # type: ignore[call-overload]
    assert PAGE.stem == openfile.IMPORT_PAGE
    assert '"app_pages/import_export.py"' in (ROOT / "tracker" / "ui" / "app.py").read_text()


# -- which arguments open the window ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "window"),
    [
        (["statement.ofx"], True),  # need not exist: the launcher says so
        (["Statement.QFX"], True),
        (["dir/export.json"], True),
        (["--data-dir", "/tmp/x", "statement.qif"], True),
        (["statement.csv", "--data-dir", "/tmp/x"], True),
        (["--data-dir=/tmp/x", "statement.tsv"], True),
        (["notes.txt"], True),  # exists (made below): the launcher says why it cannot open it
        (["./list"], True),  # a file named like a subcommand, written as a path
        (["list"], False),  # ... and as a word: the subcommand
        (["import", "statement.csv"], False),
        (["a.ofx", "b.ofx"], False),
        (["missing.txt"], False),
        (["-x.ofx"], False),
        (["--data-dir", "/tmp/x", "--data-dir", "/tmp/y", "a.ofx"], False),
        (["--data-dir", "--version", "a.ofx"], False),
        (["--version"], False),
        (["add", "expense", "5"], False),
    ],
)
def test_a_file_to_open_goes_to_the_window_and_subcommands_to_the_command_line(
    args: list[str], window: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("notes.txt", "list"):
        (tmp_path / name).write_text("x")
    assert opens_the_window(args) is window


def _expense_tracker(tmp_path: Path, *args: str, display: str | None = None) -> subprocess.CompletedProcess[str]:
    """The console script, run in ``tmp_path`` (with ``DISPLAY=display``, else without a display)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(EXPENSE_TRACKER_LOG_DIR=str(tmp_path / "logs"), EXPENSE_TRACKER_DATA_DIR=str(tmp_path / "data"))
    if display:
        env["DISPLAY"] = display
    script = Path(sys.executable).with_name("expense-tracker")
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)


def test_a_file_that_cannot_be_opened_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = _expense_tracker(tmp_path, "missing.ofx")
    assert missing.returncode == 2
    assert missing.stderr == "expense-tracker: cannot open “missing.ofx”: there is no such file\n"
    (tmp_path / "notes.txt").write_text("hello")
    other = _expense_tracker(tmp_path, "notes.txt")
    assert other.returncode == 2
    assert other.stderr.count("\n") == 1
    assert other.stderr.startswith("expense-tracker: cannot open “notes.txt”: Expense Tracker opens bank statements")
    assert not (tmp_path / "data").exists()  # nothing was started


def test_the_launcher_checks_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(openfile.OpenFileError, match="it is not a file"):
        openfile.check_file(tmp_path)
    big = tmp_path / "big.csv"
    big.write_bytes(b"date,amount\n" * 10)
    monkeypatch.setattr("tracker.opening.MAX_BYTES", 100)  # the limit is tracker.opening's
    with pytest.raises(openfile.OpenFileError, match="files up to 0 MB open"):
        openfile.check_file(big)
    odd = tmp_path / "line\nbreak.ofx"
    with pytest.raises(openfile.OpenFileError) as caught:
        openfile.check_file(odd)
    assert "\n" not in str(caught.value)


# -- the single-instance channel -------------------------------------------------------------------


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Path, FocusListener, list[object]]]:
    """A fake running window of ``tmp_path/data``: the lock held, the control listener as the launcher starts it."""
    data = tmp_path / "data"
    lock = InstanceLock(data)
    assert lock.acquire()
    calls: list[object] = []
    listener = FocusListener(lambda: calls.append("focus"), calls.append)
    write_info(data, {"pid": os.getpid(), "control_port": listener.port, "control_token": listener.token, "url": None})
    yield data, listener, calls
    listener.close()
    lock.release()


def _raw(listener: FocusListener, line: str) -> str:
    with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as conn:
        conn.sendall(line.encode() + b"\n")
        return conn.recv(4096).decode().strip()


def test_a_second_launch_delivers_the_file_to_the_running_window(
    running: tuple[Path, FocusListener, list[object]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _, calls = running
    statement = tmp_path / "März statement #1.ofx"  # spaces, a non-ASCII letter, a URL's special character
    statement.write_bytes(CHECKING.read_bytes())
    assert launcher._already_running(data, openfile.check_file(statement)) == 0
    assert calls == [statement]
    assert "it shows “" in capsys.readouterr().err


def test_the_running_window_checks_the_token_and_the_file(
    running: tuple[Path, FocusListener, list[object]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, listener, calls = running
    assert request_open({"control_port": listener.port, "control_token": "0" * 32}, CHECKING) == "denied"
    (tmp_path / "notes.txt").write_text("x")
    token = listener.token
    assert _raw(listener, f"open {token} relative.ofx").startswith(
        "refused cannot open “relative.ofx”: not an absolute"
    )
    assert "no such file" in _raw(listener, f"open {token} {tmp_path}/missing.ofx")
    assert "not a file" in _raw(listener, f"open {token} {tmp_path}")
    assert "opens bank statements" in _raw(listener, f"open {token} {tmp_path}/notes.txt")
    assert _raw(listener, f"open {token}") == "denied"
    assert calls == []
    assert _raw(listener, f"focus {token}") == "ok"  # the focus request is unchanged
    assert calls == ["focus"]
    # a file gone between the second launch's check and the request: its message, exit 2
    gone = tmp_path / "gone.ofx"
    gone.write_text("x")
    checked = openfile.check_file(gone)
    gone.unlink()
    assert launcher._already_running(data, checked) == launcher.EXIT_CANNOT_OPEN
    assert capsys.readouterr().err.count("\n") == 1


def test_open_is_denied_by_a_listener_that_opens_nothing(tmp_path: Path) -> None:
    listener = FocusListener(lambda: None)
    try:
        assert request_open({"control_port": listener.port, "control_token": listener.token}, CHECKING) == "denied"
    finally:
        listener.close()
    assert request_open({}, CHECKING) == ""


def test_expense_tracker_file_with_a_window_open_sends_it_and_exits_0(
    running: tuple[Path, FocusListener, list[object]], tmp_path: Path
) -> None:
    data, _, calls = running
    (tmp_path / "statement.ofx").write_bytes(CHECKING.read_bytes())
    result = _expense_tracker(
        tmp_path, "--data-dir", str(data), "statement.ofx", display=":0"
    )  # relative to its folder
    assert result.returncode == 0, result.stderr
    assert "already open" in result.stderr
    assert calls == [tmp_path / "statement.ofx"]


def test_pending_opens_nobody_claimed_are_removed_later(tmp_path: Path) -> None:
    stale = openfile.add_pending(tmp_path, CHECKING)
    entry = tmp_path / f"desktop-open-{stale}.json"
    past = time.time() - openfile.PENDING_SECONDS - 60
    os.utime(entry, (past, past))
    fresh = openfile.add_pending(tmp_path, CHECKING)
    assert not entry.exists()
    assert (tmp_path / f"desktop-open-{fresh}.json").exists()
    assert openfile.page_url(fresh) == f"import_export?open={fresh}"
