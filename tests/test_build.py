"""The PyInstaller bundle: build it (or reuse a fresh dist/), then run the built binary like a user.

Health ``ok`` proves little (a missing hidden import still answers it), so the window's rendered page
text is checked, through the binary's own probe (``EXPENSE_TRACKER_DESKTOP_PROBE``), and the bundle's
server is read by Chromium as well.

Building takes several minutes; a dist/ newer than every source file is reused. ``ET_BUILD_TEST_REBUILD=1``
forces a build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_window import Launcher, alive, close_like_the_close_button, screenshot, wait_all_gone

from benchmarks.chromium import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist" / "expense-tracker"
BINARY = DIST / "expense-tracker"
SPEC = ROOT / "build" / "expense-tracker.spec"
SOURCES = [ROOT / "tracker", ROOT / "desktop", ROOT / "assets", SPEC]

pytestmark = [
    pytest.mark.build,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux bundle is built and run here"),
    pytest.mark.timeout(2400),
]


def newest_source() -> float:
    newest = 0.0
    for source in SOURCES:
        files = (
            [source]
            if source.is_file()
            else [p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        )
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


@pytest.fixture(scope="module")
def bundle() -> Path:
    """The built binary: dist/ when it is newer than the sources, else a fresh build into dist/ (as `make dist`)."""
    fresh = BINARY.exists() and BINARY.stat().st_mtime > newest_source()
    if not fresh or os.environ.get("ET_BUILD_TEST_REBUILD") == "1":
        pyinstaller = Path(sys.executable).with_name("pyinstaller")
        start = time.monotonic()
        result = subprocess.run(
            [str(pyinstaller), "--noconfirm", "--workpath", ".pyinstaller-work", "--distpath", "dist", str(SPEC)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=2400,
        )
        assert result.returncode == 0, result.stderr[-4000:]
        print(f"bundle built in {time.monotonic() - start:.0f} s")
    size = subprocess.run(["du", "-sh", str(DIST)], capture_output=True, text=True).stdout.split()[0]
    print(f"bundle size: {size}")
    return BINARY


def run(binary: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=120, env=env)


def bare_env(home: Path) -> dict[str, str]:
    """No Python of ours on the way: no venv on PATH, no PYTHONPATH/PYTHONHOME; a private HOME."""
    keep = {k: os.environ[k] for k in ("DISPLAY", "LANG", "LC_ALL", "TZ") if k in os.environ}
    return {**keep, "PATH": "/usr/bin:/bin", "HOME": str(home), "QTWEBENGINE_DISABLE_SANDBOX": "1"}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def test_the_bundle_is_trimmed(bundle: Path) -> None:
    internal = DIST / "_internal"
    locales = sorted(p.name for p in (internal / "PyQt6/Qt6/translations/qtwebengine_locales").iterdir())
    assert locales == ["en-US.pak"]
    assert not list((internal / "PyQt6/Qt6/translations").glob("*.qm"))
    assert not (internal / "PyQt6/Qt6/qml").exists()
    for gone in ("libgtk-3.so.0", "libarrow_flight.so.2600", "libQt6Quick3D.so.6", "libpulse.so.0"):
        assert not list(internal.rglob(gone)), gone
    assert not (internal / "plotly/package_data/plotly.min.js").exists()
    for kept in ("libQt6WebEngineCore.so.6", "icudtl.dat", "QtWebEngineProcess"):  # what the window needs
        assert list(internal.rglob(kept)), kept
    assert (internal / "tracker/ui/app.py").is_file()  # Streamlit runs the page scripts by path
    assert (internal / "assets/icon.png").is_file()


def test_the_bundle_runs_the_cli(bundle: Path, tmp_path: Path, home: Path) -> None:
    data = tmp_path / "data"
    env = bare_env(home)
    assert run(bundle, "--version", env=env).stdout.startswith("expense-tracker ")
    added = run(bundle, "--data-dir", str(data), "add", "expense", "5", "--category", "Food", env=env)
    assert added.returncode == 0, added.stderr
    listed = run(bundle, "--data-dir", str(data), "list", "--format", "json", env=env)
    assert [(r["category"], r["amount"]) for r in json.loads(listed.stdout)] == [("Food", "5.00")]
    bad = run(bundle, "--data-dir", str(data), "add", "expense", "abc", "--category", "Food", env=env)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_the_bundle_syncs_two_folders(bundle: Path, tmp_path: Path, home: Path) -> None:
    location = tmp_path / "Sync"
    location.mkdir()
    env = {**bare_env(home), "EXPENSE_TRACKER_SYNC_AFTER_SAVE": "0"}
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        done = run(
            bundle, "--data-dir", str(folder), "sync", "setup", "--folder", str(location), "--no-encryption", env=env
        )
        assert done.returncode == 0, done.stderr
    assert run(bundle, "--data-dir", str(a), "add", "expense", "7", "--category", "Books", env=env).returncode == 0
    for folder in (a, b):
        done = run(bundle, "--data-dir", str(folder), "sync", "now", "--format", "json", env=env)
        assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["received"] == 1
    listed = run(bundle, "--data-dir", str(b), "list", "--format", "json", env=env)
    assert [(r["category"], r["amount"]) for r in json.loads(listed.stdout)] == [("Books", "7.00")]
    # an encrypted set-up needs the OS keyring, which this bare environment has none of: one clear line, not a
    # traceback (the bundle carries cryptography and keyring)
    secret = tmp_path / "passphrase"
    secret.write_text("a long enough passphrase", encoding="utf-8")
    other = tmp_path / "Other"
    other.mkdir()
    args = (
        "--data-dir",
        str(tmp_path / "c"),
        "sync",
        "setup",
        "--folder",
        str(other),
        "--passphrase-file",
        str(secret),
    )
    refused = run(bundle, *args, env=env)
    assert refused.returncode == 2, refused.stderr
    assert "keyring" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not list(other.iterdir())  # nothing written to the location


def test_the_bundle_keeps_its_data_where_the_source_install_does(bundle: Path, home: Path) -> None:
    env = bare_env(home)
    assert run(bundle, "add", "expense", "3.50", "--category", "Coffee", env=env).returncode == 0
    source_env = {**env, "PATH": os.environ["PATH"]}
    listed = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "list", "--format", "json"],
        capture_output=True,
        text=True,
        env=source_env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert [(r["category"], r["amount"]) for r in json.loads(listed.stdout)] == [("Coffee", "3.50")]
    assert list(home.rglob("ExpenseTracker"))  # under the private HOME, platformdirs' user-data folder


@pytest.fixture
def launched() -> Iterator[list[Launcher]]:
    started: list[Launcher] = []
    yield started
    for launcher in started:
        launcher.kill()


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no X display (run under xvfb-run)")
def test_the_bundle_window_shows_the_dashboard_with_what_its_cli_added(
    bundle: Path, tmp_path: Path, home: Path, launched: list[Launcher]
) -> None:
    data = tmp_path / "data"
    env = bare_env(home)
    assert run(bundle, "--data-dir", str(data), "add", "expense", "5", "--category", "Food", env=env).returncode == 0

    launcher = Launcher(
        tmp_path, data, env={**env, "EXPENSE_TRACKER_LOG_DIR": str(tmp_path / "logs")}, command=[str(bundle)]
    )
    launched.append(launcher)
    probe = launcher.wait_probe("rendered", timeout=180)
    page = probe["page"]
    print(f"bundle: start to rendered dashboard {probe['seconds']:.2f} s")
    assert page["exceptions"] == 0, page["text"]  # e.g. a module the bundle lacks
    for expected in ("Dashboard", "Food", "$5.00"):
        assert expected in page["text"], page["text"]
    screenshot("bundle-dashboard")
    # The server is the bundle's own binary, not a Python interpreter.
    assert Path(f"/proc/{probe['server_pid']}/exe").resolve() == bundle.resolve()

    # An expense added now through the same binary's CLI shows in the app, which loads nothing from the network.
    assert (
        run(bundle, "--data-dir", str(data), "add", "expense", "7.25", "--category", "Books", env=env).returncode == 0
    )
    text, outside = read_page_with_chromium(probe["url"])
    assert "Books" in text, text
    assert "$12.25" in text, text  # 5.00 + 7.25 spent this month
    assert outside == []

    tree = launcher.tree()
    close_like_the_close_button()
    assert launcher.proc.wait(timeout=20) == 0
    left = wait_all_gone(tree, timeout=5)
    assert left == set(), [p for p in left if alive(p)]


def read_page_with_chromium(url: str) -> tuple[str, list[str]]:
    """The app's rendered text at ``url`` in headless Chromium, and every non-loopback request it tried."""
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium")  # Debian's; elsewhere (CI) Playwright's own Chromium
    outside: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium or None,
            args=CHROMIUM_ARGS,
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})

            def guard(route: object) -> None:
                request_url = route.request.url  # type: ignore[attr-defined]
                if request_url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    outside.append(request_url)
                    route.abort()  # type: ignore[attr-defined]

            page.route("**/*", guard)
            page.goto(url)
            page.wait_for_selector(
                '[data-testid="stApp"][data-test-script-state="notRunning"] [data-testid="stMetric"]', timeout=90_000
            )
            page.wait_for_function(
                "document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=60_000
            )
            text = page.inner_text('[data-testid="stMain"]')
        finally:
            browser.close()
    return text, outside
