"""Linux downloads from the PyInstaller bundle: a ``.deb`` and a compressed archive with ``install.sh``.

``python build/packages.py [--dist dist/expense-tracker] [--out dist]`` (``make dist`` runs it after PyInstaller):

* ``expense-tracker_VERSION_amd64.deb`` (``dpkg-deb``): the bundle in ``/opt/expense-tracker``,
  ``/usr/bin/expense-tracker``, the applications-menu entry (``build/linux/expense-tracker.desktop``,
  categories Office and Finance, "Open with" for ``.ofx``, ``.qfx``, ``.qif``), the icon, the MIME types, and
  maintainer scripts that refresh the desktop, MIME and icon caches;
* ``expense-tracker-VERSION-linux-x86_64.tar.xz``: the bundle folder plus ``install.sh`` (the same entry, icon
  and types for the current user; ``--uninstall``) and the ``share/`` files it installs.

The files every package shares are listed once, in :data:`SHARED`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "build" / "linux"
NAME = "expense-tracker"
PREFIX = Path("opt") / NAME
SHARED = {
    Path("applications") / f"{NAME}.desktop": LINUX / f"{NAME}.desktop",
    Path("icons/hicolor/512x512/apps") / f"{NAME}.png": ROOT / "assets" / "icon.png",
    Path("mime/packages") / f"{NAME}.xml": LINUX / f"{NAME}-mime.xml",
}
"""What goes under ``share/`` (``/usr/share`` for the .deb, the archive's ``share/`` for install.sh)."""
DEPENDS = (
    "libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-image0, libxcb-render-util0, libxkbcommon-x11-0, "
    "libxcb-xinerama0, libxcb-shape0, libxcb-randr0, libegl1, libgl1, libnss3, libasound2 | libasound2t64, "
    "libxkbfile1, libxcomposite1, libxdamage1, libxtst6, fonts-dejavu-core"
)
"""What the bundle needs from the system: Qt WebEngine's X11 and GL libraries (the rest is in the bundle)."""
REFRESH = """#!/bin/sh
set -e
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q /usr/share/applications || true; fi
if command -v update-mime-database >/dev/null 2>&1; then update-mime-database /usr/share/mime || true; fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true; fi
exit 0
"""


FORGET = f"""#!/bin/sh
# Qt WebEngine makes an empty folder inside the bundle at its first start (resources/locales); dpkg keeps folders
# it did not install, so removing the package removes what is left of /opt/{NAME} too (never on an upgrade).
if [ "$1" = remove ] || [ "$1" = purge ]; then rm -rf /opt/{NAME}; fi
"""


def version() -> str:
    """The app's version (``tracker.__version__``)."""
    sys.path.insert(0, str(ROOT))
    from tracker import __version__

    return __version__


def _copy_shared(share: Path) -> None:
    for target, source in SHARED.items():
        (share / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, share / target)
        os.chmod(share / target, 0o644)


def _control(size_kib: int, ver: str) -> str:
    return (
        f"Package: {NAME}\n"
        f"Version: {ver}\n"
        "Section: misc\n"
        "Priority: optional\n"
        "Architecture: amd64\n"
        f"Installed-Size: {size_kib}\n"
        f"Depends: {DEPENDS}\n"
        "Maintainer: Expense Tracker developers <expense-tracker@localhost>\n"
        "Description: local-first personal finance: income, expenses, budgets, accounts\n"
        " Expense Tracker keeps your transactions on your own computer, works offline,\n"
        " imports bank statements (OFX, QFX, QIF, CSV) and shows where the money goes.\n"
    )


def build_deb(bundle: Path, out: Path, ver: str, fast: bool = False) -> Path:
    """The ``.deb`` of ``bundle`` in ``out`` (``fast``: gzip -1 instead of xz -6, for tests)."""
    target = out / f"{NAME}_{ver}_amd64.deb"
    with tempfile.TemporaryDirectory(prefix="et-deb-", dir=out) as tmp:
        root = Path(tmp) / "root"
        shutil.copytree(bundle, root / PREFIX, symlinks=True)
        (root / "usr/bin").mkdir(parents=True)
        (root / "usr/bin" / NAME).symlink_to(Path("/") / PREFIX / NAME)
        _copy_shared(root / "usr/share")
        doc = root / "usr/share/doc" / NAME
        doc.mkdir(parents=True)
        (doc / "copyright").write_text("Expense Tracker and the libraries bundled with it; see /opt/expense-tracker.\n")
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
        debian = root / "DEBIAN"
        debian.mkdir()
        (debian / "control").write_text(_control(size, ver), encoding="utf-8")
        for script, text in (("postinst", REFRESH), ("postrm", FORGET + REFRESH.split("\n", 1)[1])):
            (debian / script).write_text(text, encoding="utf-8")
            os.chmod(debian / script, 0o755)
        for path in root.rglob("*"):  # dpkg wants no group/world-writable files; the bundle's own modes stay
            if not path.is_symlink():
                os.chmod(path, path.stat().st_mode & ~0o022)
        subprocess.run(
            [
                "dpkg-deb",
                "--root-owner-group",
                *(["-Zgzip", "-z1"] if fast else ["-Zxz", "-z6"]),
                "--build",
                str(root),
                str(target),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return target


def build_archive(bundle: Path, out: Path, ver: str, fast: bool = False) -> Path:
    """The ``.tar.xz`` of ``bundle`` with ``install.sh`` and its ``share/`` files, in ``out`` (``fast``: a
    ``.tar.gz`` at gzip -1, for tests)."""
    folder = f"{NAME}-{ver}"
    target = out / f"{NAME}-{ver}-linux-x86_64.tar.{'gz' if fast else 'xz'}"
    with tempfile.TemporaryDirectory(prefix="et-tar-", dir=out) as tmp:
        top = Path(tmp) / folder
        shutil.copytree(bundle, top, symlinks=True)
        shutil.copy2(LINUX / "install.sh", top / "install.sh")
        os.chmod(top / "install.sh", 0o755)
        _copy_shared(top / "share")
        env = {**os.environ, "XZ_OPT": "-6 -T0", "GZIP": "-1"}
        subprocess.run(
            [
                "tar",
                "-C",
                tmp,
                "--owner=0",
                "--group=0",
                "--numeric-owner",
                "-czf" if fast else "-cJf",
                str(target),
                folder,
            ],
            check=True,
            env=env,
        )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist" / NAME, help="the PyInstaller onedir bundle")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the packages go")
    parser.add_argument("--fast", action="store_true", help="compress little (gzip -1): for tests, not downloads")
    args = parser.parse_args(argv)
    if not (args.dist / NAME).is_file():
        parser.error(f"{args.dist / NAME} is missing: run `make dist` (PyInstaller) first")
    ver = version()
    args.out.mkdir(parents=True, exist_ok=True)
    for made in (build_deb(args.dist, args.out, ver, args.fast), build_archive(args.dist, args.out, ver, args.fast)):
        print(f"{made} ({made.stat().st_size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
