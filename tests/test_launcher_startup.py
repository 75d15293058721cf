"""The launcher's quick start: the server child starts first and waits for ``go``; the window's web profile.

The child is a real process running a tiny Streamlit script (as in tests/test_launcher.py); the web
profile's files are real files in a tmp cache folder (``EXPENSE_TRACKER_CACHE_DIR``).
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from desktop import server, webprofile
from desktop.server import go, spawn, start_server, wait_ready

ROOT = Path(__file__).resolve().parents[1]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process details read from /proc")


def lock_is_free(data: Path) -> bool:
    lock = FileLock(str(data / "desktop-server.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    lock.release()
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the child waits for go ------------------------------------------------------------------------


def test_a_waiting_child_touches_nothing_until_go_then_serves(app_env: Path) -> None:
    proc, token, events = spawn(0, wait_go=True)
    time.sleep(4)  # long enough to have imported everything and, without the wait, to be serving
    assert proc.poll() is None
    assert events.empty() or all(e.get("event") == "output" for e in list(events.queue))
    assert not app_env.exists() or lock_is_free(app_env)
    srv = wait_ready(*go((proc, token, events)), timeout=60)
    assert not lock_is_free(app_env)  # now it holds the data folder
    server.wait_for_health(srv.health_url, 30, alive=srv.alive)
    assert srv.stop() == 0


def test_a_waiting_child_that_is_not_needed_ends_at_end_of_file(app_env: Path) -> None:
    proc, _token, events = spawn(0, wait_go=True)
    assert proc.stdin is not None
    proc.stdin.close()  # what the launcher does when another window already has the data folder
    assert proc.wait(timeout=30) == 0
    seen = [e.get("event") for e in list(events.queue)]
    assert "ready" not in seen
    assert not (app_env / "desktop-server.lock").exists() or lock_is_free(app_env)


def test_go_can_choose_the_port_and_the_base_path(app_env: Path) -> None:
    port, token = free_port(), "0123456789abcdef0123456789abcdef"
    srv = start_server((port, 0), timeout=60, first=go(spawn(0, wait_go=True), port, token))
    try:
        assert srv.port == port
        assert f"/et-{token}/" in srv.url
        with urllib.request.urlopen(srv.health_url, timeout=5) as resp:
            assert resp.read().decode() == "ok"
    finally:
        srv.stop()


def test_a_remembered_port_taken_by_another_program_falls_back_to_a_free_one(app_env: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = int(squatter.getsockname()[1])
        srv = start_server(
            (taken, 0), timeout=90, first=go(spawn(0, wait_go=True), taken, "0123456789abcdef0123456789abcdef")
        )
        try:
            assert srv.port != taken
            assert srv.alive()
        finally:
            srv.stop()


def test_go_refuses_a_token_that_is_not_alphanumeric(app_env: Path) -> None:
    spawned = spawn(0, wait_go=True)
    with pytest.raises(ValueError):
        go(spawned, 8000, "../x")  # it would end up in a URL path
    assert spawned[0].poll() is None  # nothing was sent: still waiting


def test_importing_the_launcher_loads_neither_pandas_nor_the_tracker_package() -> None:
    """The child is started before ``import tracker`` (which loads pandas, half a second) happens."""
    code = "import sys, desktop.launcher, desktop.__main__; print(sorted(m for m in ('pandas', 'tracker') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


# -- the web profile -------------------------------------------------------------------------------


def test_the_profile_lives_in_the_user_cache_folder_one_per_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(webprofile.ENV_CACHE_DIR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    first = webprofile.profile_dir(tmp_path / "a")
    assert first.is_relative_to(tmp_path / "xdg-cache" / "ExpenseTracker")
    assert first != webprofile.profile_dir(tmp_path / "b")
    assert first == webprofile.profile_dir(tmp_path / "x" / ".." / "a")  # the same folder, however written
    monkeypatch.setenv(webprofile.ENV_CACHE_DIR, str(tmp_path / "override"))
    assert webprofile.profile_dir(tmp_path / "a").is_relative_to(tmp_path / "override")


def test_the_origin_round_trips_privately_and_bad_files_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "profile"
    assert webprofile.load_origin(folder) is None
    webprofile.save_origin(folder, 43210, "0123456789abcdef0123456789abcdef")
    assert webprofile.load_origin(folder) == (43210, "0123456789abcdef0123456789abcdef")
    if os.name == "posix":
        assert stat.S_IMODE((folder / webprofile.ORIGIN_FILE).stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for bad in ('{"port": 80, "token": "0123456789abcdef0123456789abcdef"}', '{"port": 43210, "token": "../x"}', "{"):
        (folder / webprofile.ORIGIN_FILE).write_text(bad)
        assert webprofile.load_origin(folder) is None


def test_saving_the_origin_never_fails_the_launch(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    webprofile.save_origin(blocker / "profile", 43210, "0123456789abcdef0123456789abcdef")  # no exception
    assert webprofile.load_origin(blocker / "profile") is None


@pytest.mark.parametrize(
    ("args", "window"),
    [
        ([], True),
        (["--data-dir", "/tmp/x"], True),
        (["--data-dir=/tmp/x"], True),
        (["--data-dir", "/tmp/x", "list"], False),
        (["list"], False),
        (["--data-dir", "--help"], False),
        (["--data-dir="], False),
        (["--data-dir", ""], False),
        (["--data-dir"], False),
        (["--data-dir", "--version"], False),
        (["--version"], False),
        (["--help"], False),
    ],
)
def test_the_frozen_binary_opens_the_window_without_the_command_line_only_when_asked_to(
    args: list[str], window: bool
) -> None:
    from desktop.entry import opens_the_window

    assert opens_the_window(args) is window


def test_the_console_script_and_the_frozen_binary_start_at_the_same_entry() -> None:
    """pyproject's ``expense-tracker`` script is :func:`desktop.entry.run`; the PyInstaller spec builds that file."""
    import importlib
    import re
    import tomllib

    from desktop import entry

    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["expense-tracker"]
    module, _, name = target.partition(":")
    assert getattr(importlib.import_module(module), name) is entry.run
    spec = (ROOT / "build" / "expense-tracker.spec").read_text()
    script = re.search(r"Analysis\(\s*#[^\n]*\n\s*\[str\(ROOT / \"(\w+)\" / \"(\w+\.py)\"\)\]", spec)
    assert script is not None, "the spec's Analysis() names no entry script"
    assert ROOT / script[1] / script[2] == Path(entry.__file__)
    assert 'if __name__ == "__main__":\n    sys.exit(run())' in Path(entry.__file__).read_text()  # run as a script
