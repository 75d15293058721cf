"""The Linux downloads (build/packages.py) made from the real bundle, installed and removed like a person would.

The ``.deb`` is installed with ``dpkg -i`` (as root), its menu entry validated, its ``Exec`` line started
under Xvfb until the dashboard has rendered, closed, and removed with ``dpkg -r``; the archive's
``install.sh`` is run in a temporary ``$HOME`` and undone with ``--uninstall``. The packages are built with
``--fast`` compression (gzip -1: what is tested is what they hold, not how small they are; ``make dist``
uses xz).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_build import bare_env, bundle, run  # noqa: F401  (bundle is a fixture)
from test_window import Launcher, alive, close_like_the_close_button, wait_all_gone

ROOT = Path(__file__).resolve().parents[1]
NAME = "expense-tracker"
MIME_TYPES = {"application/x-ofx", "application/vnd.intu.qfx", "application/x-qif"}

pytestmark = [
    pytest.mark.build,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux packages"),
    pytest.mark.timeout(2400),
]


@pytest.fixture(scope="module")
def packages(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:  # noqa: F811
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed (Debian's dpkg)")
    out = tmp_path_factory.mktemp("packages")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "build" / "packages.py"),
            "--dist",
            str(bundle.parent),
            "--out",
            str(out),
            "--fast",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr
    (deb,) = out.glob("*.deb")
    (archive,) = out.glob("*.tar.gz")
    return {"deb": deb, "archive": archive}


def desktop_entry(path: Path) -> dict[str, str]:
    """The ``[Desktop Entry]`` keys of a ``.desktop`` file."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out[key] = value
    return out


def validate(path: Path) -> None:
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (Debian's desktop-file-utils)")
    done = subprocess.run([validator, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "", done.stdout  # not even a hint


def test_the_deb_holds_the_bundle_the_command_the_menu_entry_and_the_file_types(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    deb = packages["deb"]
    fields = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    assert f"Package: {NAME}" in fields
    assert "Architecture: amd64" in fields
    assert "libnss3" in fields  # Qt WebEngine's system libraries are dependencies
    unpacked = tmp_path / "deb"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    assert os.readlink(unpacked / "usr/bin" / NAME) == f"/opt/{NAME}/{NAME}"
    assert (unpacked / "opt" / NAME / NAME).is_file()
    assert (unpacked / "opt" / NAME / "_internal").is_dir()
    entry = unpacked / "usr/share/applications" / f"{NAME}.desktop"
    validate(entry)
    keys = desktop_entry(entry)
    assert keys["Exec"] == f"{NAME} %f"
    assert keys["Categories"] == "Office;Finance;"
    assert set(filter(None, keys["MimeType"].split(";"))) == MIME_TYPES
    assert (unpacked / "usr/share/icons/hicolor/512x512/apps" / f"{NAME}.png").is_file()
    mime = (unpacked / "usr/share/mime/packages" / f"{NAME}.xml").read_text(encoding="utf-8")
    assert all(f'type="{t}"' in mime for t in MIME_TYPES)


@pytest.fixture
def installed(packages: dict[str, Path]) -> Iterator[list[str]]:
    """The .deb installed with dpkg (root only); its files as dpkg lists them. Removed afterwards in any case."""
    if os.geteuid() != 0 or shutil.which("dpkg") is None:
        pytest.skip("installing a .deb needs root and dpkg")
    done = subprocess.run(["dpkg", "-i", str(packages["deb"])], capture_output=True, text=True, timeout=900)
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        listed = subprocess.run(["dpkg", "-L", NAME], capture_output=True, text=True, check=True).stdout
        yield [line for line in listed.splitlines() if line.strip()]
    finally:
        subprocess.run(["dpkg", "-r", NAME], capture_output=True, timeout=600)


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no X display (run under xvfb-run)")
def test_the_installed_deb_opens_from_its_menu_entry_and_dpkg_r_removes_every_file(
    installed: list[str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = bare_env(home)
    assert run(Path(f"/usr/bin/{NAME}"), "--version", env=env).stdout.startswith(f"{NAME} ")
    assert "*.ofx" in Path("/usr/share/mime/globs2").read_text(encoding="utf-8")  # the MIME database knows it
    cache = Path("/usr/share/applications/mimeinfo.cache").read_text(encoding="utf-8")
    assert f"application/x-ofx={NAME}.desktop;" in cache or f"{NAME}.desktop" in cache  # "Open with"
    entry = Path(f"/usr/share/applications/{NAME}.desktop")
    validate(entry)

    data = tmp_path / "data"
    added = run(Path(f"/usr/bin/{NAME}"), "--data-dir", str(data), "add", "expense", "9", "--category", "Food", env=env)
    assert added.returncode == 0, added.stderr
    command = [part for part in shlex.split(desktop_entry(entry)["Exec"]) if part != "%f"]  # as the launcher runs it
    launcher = Launcher(tmp_path, data, env={**env, "EXPENSE_TRACKER_LOG_DIR": str(tmp_path / "logs")}, command=command)
    try:
        probe = launcher.wait_probe("rendered", timeout=180)
        page = probe["page"]
        assert page["exceptions"] == 0, page["text"]
        for expected in ("Dashboard", "Food", "$9.00"):
            assert expected in page["text"], page["text"]
        tree = launcher.tree()
        close_like_the_close_button()
        assert launcher.proc.wait(timeout=20) == 0
        left = wait_all_gone(tree, timeout=5)
        assert left == set(), [p for p in left if alive(p)]  # closing leaves nothing running
    finally:
        launcher.kill()

    # "Open with Expense Tracker" on a bank file: the Exec line with the file for %f lands on its Import preview
    statement = ROOT.parent / "shared" / "fixtures" / "ofx" / "checking.ofx"
    opened = Launcher(
        tmp_path,
        data,
        env={**env, "EXPENSE_TRACKER_LOG_DIR": str(tmp_path / "logs")},
        name="opened",
        command=command,
        args=(str(statement),),
    )
    try:
        page = opened.wait_probe("rendered", timeout=180)["page"]
        assert page["exceptions"] == 0, page["text"]
        for expected in ("Opened with the app: checking.ofx", "Import 3 transactions"):
            assert expected in page["text"], page["text"]
        close_like_the_close_button()
        assert opened.proc.wait(timeout=20) == 0
    finally:
        opened.kill()

    files = [p for p in installed if Path(p).is_file() or Path(p).is_symlink()]
    assert f"/usr/bin/{NAME}" in files
    assert len(files) > 100
    removed = subprocess.run(["dpkg", "-r", NAME], capture_output=True, text=True, timeout=600)
    assert removed.returncode == 0, removed.stderr
    left_over = [p for p in files if os.path.lexists(p)]
    assert left_over == []
    assert not Path(f"/opt/{NAME}").exists()


def test_install_sh_adds_the_menu_entry_and_icon_for_the_user_and_uninstall_removes_them(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    with tarfile.open(packages["archive"]) as tar:
        tar.extractall(tmp_path / "unpacked", filter="tar")
    (folder,) = (tmp_path / "unpacked").iterdir()
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    done = subprocess.run([str(folder / "install.sh")], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    share = home / ".local/share"
    entry = share / "applications" / f"{NAME}.desktop"
    icon = share / "icons/hicolor/512x512/apps" / f"{NAME}.png"
    mime = share / "mime/packages" / f"{NAME}.xml"
    link = home / ".local/bin" / NAME
    for path in (entry, icon, mime, link):
        assert os.path.lexists(path), path
    validate(entry)
    assert desktop_entry(entry)["Exec"] == f'"{folder}/{NAME}" %f'
    assert run(link, "--version", env=bare_env(home)).stdout.startswith(f"{NAME} ")
    if shutil.which("update-mime-database"):
        assert "*.qif" in (share / "mime/globs2").read_text(encoding="utf-8")

    undone = subprocess.run(
        [str(folder / "install.sh"), "--uninstall"], capture_output=True, text=True, env=env, timeout=300
    )
    assert undone.returncode == 0, undone.stderr
    for path in (entry, icon, mime, link):
        assert not os.path.lexists(path), path
    assert (folder / NAME).is_file()  # the app itself stays where it was unpacked

    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text("[Desktop Entry]\nType=Application\nName=Something else\nExec=other\n", encoding="utf-8")
    refused = subprocess.run(
        [str(folder / "install.sh"), "--uninstall"], capture_output=True, text=True, env=env, timeout=300
    )
    assert refused.returncode == 1
    assert entry.exists()  # an entry it did not install is left alone
