"""Two real Syncthing daemons on loopback sharing one folder, for end-to-end sync tests.

::

    with SyncthingPair(tmp_path / "st", tmp_path / "A", tmp_path / "B") as pair:
        (pair.folder("a") / "x.json").write_bytes(b"...")
        pair.wait_in_sync()
        assert pair.files("b")["x.json"] == b"..."

How it is set up (Syncthing 1.19, Debian's ``/usr/bin/syncthing``):

* each daemon gets its own home (``ROOT/a/home``, ``ROOT/b/home``) made by ``syncthing generate --home``; the
  generated ``config.xml`` is then rewritten *before the first start* (the REST config API is not needed, and
  nothing is ever restarted to apply settings): GUI/REST API on ``127.0.0.1:<free port>`` with our own API key,
  BEP listener ``tcp://127.0.0.1:<free port>`` only, global and local discovery, relays, NAT/UPnP/STUN,
  usage reporting (``urAccepted`` -1), crash reporting, auto-upgrade and browser launch all off;
* both devices know each other by explicit ``tcp://127.0.0.1:<port>`` addresses and share one
  ``sendreceive`` folder (``ignorePerms``, watcher with a 1 s delay, 10 s rescan, ``pullerPauseS`` 1 so a
  failed pull is retried after a second instead of 60 s);
* the daemons run with ``HOME`` and the XDG folders pointed under ``ROOT``, no proxy variables,
  ``STNODEFAULTFOLDER=1 STNOUPGRADE=1 STNORESTART=1``, ``STMONITORED=yes`` (one process instead of 1.19's
  monitor parent + child), ``STHASHING=minio`` (skips a 1 s benchmark) and ``--no-restart``, each in its own
  session; their output goes to ``ROOT/<a|b>/syncthing.log`` (harness notes are marked ``==== harness:``);
* readiness and sync are detected by polling the REST API against a deadline; nothing sleeps to synchronise;
* A is started before B (both starting together makes them dial each other at once, which stalls 1.19's
  Hello exchange for 20 s); should a connection still stall, the daemon just started is restarted.

Daemons are stopped with SIGTERM to their process group, then SIGKILL; an ``atexit`` guard kills any still
running when the interpreter exits (a test that forgot ``stop()``, Ctrl-C), and on Linux each daemon also gets
``PR_SET_PDEATHSIG`` = SIGKILL, so it dies with the Python process even when that is killed outright.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import ctypes
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

SYNCTHING = Path("/usr/bin/syncthing")
"""The binary the harness runs (Debian's package)."""

MARKER = ".stfolder"
IGNORED_TOP = frozenset({MARKER, ".stversions", ".stignore"})
"""Top-level names that are Syncthing's own and never synced (``.stignore`` is per device)."""

POLL_S = 0.1
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
CONNECT_STALL_S = 4.0
"""No connection this long after a daemon started: treat it as Syncthing 1.19's Hello stall (see _connect)."""
RESCAN_EVERY_S = 3.0
"""While waiting for sync, ask for a rescan again this often (covers a missed watcher event)."""

FOLDER_ATTRS = {
    "type": "sendreceive",
    "rescanIntervalS": "10",
    "fsWatcherEnabled": "true",
    "fsWatcherDelayS": "1",
    "ignorePerms": "true",
    "autoNormalize": "true",
}
FOLDER_OPTIONS = {
    "pullerPauseS": "1",
    "markerName": MARKER,
    "minDiskFree": "0",
    "scanProgressIntervalS": "-1",
}
OPTIONS = {
    "globalAnnounceEnabled": "false",
    "localAnnounceEnabled": "false",
    "relaysEnabled": "false",
    "natEnabled": "false",
    "urAccepted": "-1",
    "urSeen": "3",
    "crashReportingEnabled": "false",
    "autoUpgradeIntervalH": "0",
    "startBrowser": "false",
    "restartOnWakeup": "false",
    "announceLANAddresses": "false",
    "reconnectionIntervalS": "2",
    "setLowPriority": "false",
    "minHomeDiskFree": "0",
    "progressUpdateIntervalS": "-1",
}

STATUS_KEYS = (
    "state",
    "stateChanged",
    "error",
    "invalid",
    "errors",
    "pullErrors",
    "needTotalItems",
    "needBytes",
    "needDeletes",
    "localFiles",
    "globalFiles",
    "localDeleted",
    "globalDeleted",
    "sequence",
)
"""The fields of ``/rest/db/status`` the diagnostic shows."""

_LIBC: Any = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError):
        _LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here, not in the forked child

_LIVE: dict[int, subprocess.Popen[bytes]] = {}
"""Every daemon process started and not yet reaped, by pid (the atexit guard kills what is left)."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: SIGKILL the daemon when the process that started it dies (even by SIGKILL, where atexit cannot
    help). Caveat: the kernel ties this to the *thread* that forked, so start pairs from a long-lived thread."""
    if _LIBC is not None:
        _LIBC.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG


def _kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_LIVE.values()):
        _kill_group(proc, signal.SIGKILL)
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
    _LIVE.clear()


class PortClashError(RuntimeError):
    """A daemon could not bind a port we picked (someone took it between our probe and its bind)."""


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback TCP ports that were free a moment ago (bind port 0, keep all open)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _is_ignored(rel: Path) -> bool:
    if rel.parts[0] in IGNORED_TOP:
        return True
    name = rel.name
    return (name.startswith(".syncthing.") and name.endswith(".tmp")) or name.startswith("~syncthing~")


def listing(folder: Path) -> dict[str, bytes | str | None]:
    """Everything Syncthing syncs under ``folder``: relative POSIX name -> bytes (files), ``None`` (folders)
    or ``"-> target"`` (symlinks, a ``str``); Syncthing's marker, versions, ``.stignore`` and temp files left
    out."""
    out: dict[str, bytes | str | None] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if _is_ignored(rel):
            continue
        try:
            if path.is_symlink():
                out[rel.as_posix()] = f"-> {os.readlink(path)}"
            elif path.is_dir():
                out[rel.as_posix()] = None
            elif path.is_file():
                out[rel.as_posix()] = path.read_bytes()
        except FileNotFoundError:  # a temp file renamed or a file deleted while we walk: next poll sees it
            continue
    return out


def _describe(entries: dict[str, bytes | str | None]) -> str:
    if not entries:
        return "    (empty)"
    lines = []
    for name, data in entries.items():
        if data is None:
            lines.append(f"    {name}/")
        elif isinstance(data, str):
            lines.append(f"    {name} {data}")
        else:
            lines.append(f"    {name}  {len(data)} B  sha256:{hashlib.sha256(data).hexdigest()[:12]}")
    return "\n".join(lines)


class Daemon:
    """One Syncthing instance: its home, folder, ports, API key and process."""

    def __init__(self, name: str, root: Path, folder: Path) -> None:
        self.name = name
        self.dir = root / name
        self.home = self.dir / "home"
        self.log_path = self.dir / "syncthing.log"
        self.folder = folder
        self.api_key = secrets.token_urlsafe(24)
        self.device_id = ""
        self.gui_port = 0
        self.listen_port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy

    # -- addresses ---------------------------------------------------------------------------------------

    @property
    def gui_url(self) -> str:
        return f"http://127.0.0.1:{self.gui_port}"

    @property
    def listen_address(self) -> str:
        return f"tcp://127.0.0.1:{self.listen_port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- REST --------------------------------------------------------------------------------------------

    def api(self, method: str, path: str, timeout: float = 10.0, **params: str) -> Any:
        """Call the REST API (``/rest/...``); returns the decoded JSON (or text, or ``None`` if empty)."""
        url = self.gui_url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = b"" if method in ("POST", "PUT") else None
        req = urllib.request.Request(url, data=data, method=method, headers={"X-API-Key": self.api_key})
        with self._opener.open(req, timeout=timeout) as resp:
            body = resp.read()
        if not body.strip():
            return None
        try:
            return json.loads(body)
        except ValueError:
            return body.decode("utf-8", "replace")

    def try_api(self, path: str, **params: str) -> Any:
        """GET ``path``, or a short error string instead of raising (for diagnostics and polling)."""
        try:
            return self.api("GET", path, timeout=5.0, **params)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            return f"<{type(exc).__name__}: {exc}>"

    # -- setup -------------------------------------------------------------------------------------------

    def env(self, root: Path) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if "proxy" not in k.lower() and not (k.startswith("ST") and "_" not in k and k != "STTRACE")
        }
        user_home = root / "user-home"
        env.update(
            HOME=str(user_home),
            XDG_CONFIG_HOME=str(user_home / ".config"),
            XDG_DATA_HOME=str(user_home / ".local" / "share"),
            XDG_STATE_HOME=str(user_home / ".local" / "state"),
            XDG_CACHE_HOME=str(user_home / ".cache"),
            STNODEFAULTFOLDER="1",
            STNOUPGRADE="1",
            STNORESTART="1",
            STMONITORED="yes",  # run the real process directly: no monitor parent (it is what the monitor sets)
            STHASHING="minio",  # skip the ~1 s SHA-256 implementation benchmark at every start
        )
        return env

    def generate(self, root: Path) -> None:
        """Create the home with keys and a default config (once), and learn our device ID from it."""
        generated = self.home / "config.generated.xml"
        if not generated.exists():
            shutil.rmtree(self.home, ignore_errors=True)
            self.home.mkdir(parents=True)
            subprocess.run(
                [str(SYNCTHING), "generate", "--home", str(self.home), "--no-default-folder", "--skip-port-probing"],
                env=self.env(root),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=60,
            )
            shutil.copyfile(self.home / "config.xml", generated)
        tree = ET.parse(generated)
        device = tree.getroot().find("device")
        assert device is not None, f"no <device> in {generated}"
        self.device_id = device.attrib["id"]

    def write_config(self, peer: Daemon, folder_id: str) -> None:
        """Rewrite ``config.xml`` from the generated one: our ports, API key, the peer and the folder."""
        tree = ET.parse(self.home / "config.generated.xml")
        cfg = tree.getroot()
        defaults = cfg.find("defaults")
        assert defaults is not None
        folder_tpl = defaults.find("folder")
        device_tpl = defaults.find("device")
        assert folder_tpl is not None
        assert device_tpl is not None
        for old in cfg.findall("device") + cfg.findall("folder"):
            cfg.remove(old)

        for index, daemon in enumerate((self, peer)):
            dev = copy.deepcopy(device_tpl)
            dev.attrib.update(id=daemon.device_id, name=daemon.name, introducer="false")
            _set(dev, "address", daemon.listen_address)
            _set(dev, "autoAcceptFolders", "false")
            cfg.insert(index, dev)

        folder = copy.deepcopy(folder_tpl)
        folder.attrib.update(id=folder_id, label=folder_id, path=str(self.folder), **FOLDER_ATTRS)
        fdev_tpl = folder.find("device")
        assert fdev_tpl is not None
        for old in folder.findall("device"):
            folder.remove(old)
        for index, daemon in enumerate((self, peer)):
            fdev = copy.deepcopy(fdev_tpl)
            fdev.attrib["id"] = daemon.device_id
            folder.insert(1 + index, fdev)
        for key, value in FOLDER_OPTIONS.items():
            _set(folder, key, value)
        cfg.insert(2, folder)

        gui = cfg.find("gui")
        assert gui is not None
        gui.attrib.update(enabled="true", tls="false")
        _set(gui, "address", f"127.0.0.1:{self.gui_port}")
        _set(gui, "apikey", self.api_key)

        options = cfg.find("options")
        assert options is not None
        for old in options.findall("listenAddress"):
            options.remove(old)
        ET.SubElement(options, "listenAddress").text = self.listen_address
        for key, value in OPTIONS.items():
            _set(options, key, value)

        (self.home / "config.xml").write_bytes(ET.tostring(cfg, encoding="utf-8"))

    # -- process -----------------------------------------------------------------------------------------

    def launch(self, root: Path) -> None:
        assert not self.running, f"daemon {self.name} is already running"
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / MARKER).mkdir(exist_ok=True)
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._log = self.log_path.open("ab")
        self._log.write(f"==== harness: {time.strftime('%H:%M:%S')} starting daemon {self.name} ====\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            [
                str(SYNCTHING),
                "serve",
                "--home",
                str(self.home),
                "--no-browser",
                "--no-restart",
                "--no-upgrade",
                "--logflags=6",
            ],
            env=self.env(root),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        _LIVE[self.proc.pid] = self.proc

    def note(self, text: str) -> None:
        """Write a harness line into the daemon's log (it shows up in the diagnostic's log tail)."""
        with self.log_path.open("ab") as fh:
            fh.write(f"==== harness: {time.strftime('%H:%M:%S')} {text} ====\n".encode())

    def log_since_start(self) -> str:
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(getattr(self, "_log_offset", 0))
                return fh.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except FileNotFoundError:
            return "    (no log)"
        kept = [line for line in text.splitlines() if "Running database migration" not in line]
        return "\n".join("    " + line for line in kept[-lines:])

    def check_alive(self) -> None:
        if self.proc is None:
            raise AssertionError(f"daemon {self.name} is not running (stopped)")
        code = self.proc.poll()
        if code is not None:
            log = self.log_since_start()
            if "address already in use" in log:
                raise PortClashError(f"daemon {self.name} could not bind its ports:\n{self.log_tail()}")
            raise AssertionError(f"daemon {self.name} exited with {code}; log {self.log_path}:\n{self.log_tail()}")

    def wait_ready(self, deadline: float) -> None:
        """Until the REST API answers and the BEP listener is up on our address (or raise)."""
        last: Any = None
        while True:
            self.check_alive()
            if "address already in use" in self.log_since_start():
                raise PortClashError(f"daemon {self.name} could not bind its ports:\n{self.log_tail()}")
            try:
                if self.api("GET", "/rest/system/ping", timeout=2.0) == {"ping": "pong"}:
                    status = self.api("GET", "/rest/system/status", timeout=5.0)
                    last = listener = status.get("connectionServiceStatus", {}).get(self.listen_address)
                    if listener and listener.get("error"):
                        if "address already in use" in str(listener["error"]):
                            raise PortClashError(f"daemon {self.name}: {self.listen_address}: {listener['error']}")
                        raise AssertionError(f"daemon {self.name}: {self.listen_address}: {listener['error']}")
                    if listener and listener.get("lanAddresses"):
                        return
            except (OSError, urllib.error.URLError, ValueError) as exc:
                last = exc
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"daemon {self.name} not ready on {self.gui_url} / {self.listen_address} (last: {last!r}); "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(POLL_S)

    def signal_stop(self, kill: bool = False) -> None:
        """Send SIGTERM (Syncthing shuts down cleanly) or SIGKILL to the daemon's process group."""
        if self.proc is not None and self.proc.poll() is None:
            _kill_group(self.proc, signal.SIGKILL if kill else signal.SIGTERM)

    def reap(self) -> None:
        """Wait for the daemon to exit (SIGKILL after ``STOP_TIMEOUT_S``), then kill whatever is left in its
        process group (without ``STMONITORED`` Syncthing 1.19 runs a monitor parent *and* the real process,
        even with --no-restart)."""
        proc = self.proc
        if proc is None:
            return
        try:
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _kill_group(proc, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT_S)
            _kill_group(proc, signal.SIGKILL)
        finally:
            _LIVE.pop(proc.pid, None)
            self.proc = None
            if self._log is not None:
                self._log.close()
                self._log = None

    def terminate(self, kill: bool = False) -> None:
        self.signal_stop(kill)
        self.reap()

    # -- state -------------------------------------------------------------------------------------------

    def sync_state(self, folder_id: str, peer: Daemon) -> tuple[bool, dict[str, Any]]:
        """(in sync from this daemon's point of view, the raw answers for the diagnostic)."""
        status = self.try_api("/rest/db/status", folder=folder_id)
        completion = self.try_api("/rest/db/completion", folder=folder_id, device=peer.device_id)
        conns = self.try_api("/rest/system/connections")
        connected = (
            isinstance(conns, dict) and conns.get("connections", {}).get(peer.device_id, {}).get("connected") is True
        )
        info = {"connected_to_peer": connected, "status": status, "completion_of_peer": completion}
        ok = (
            connected
            and isinstance(status, dict)
            and isinstance(completion, dict)
            and status.get("state") == "idle"
            and status.get("needTotalItems") == 0
            and status.get("pullErrors", 0) == 0
            and completion.get("completion") == 100
            and completion.get("needItems", 0) == 0
            and completion.get("needDeletes", 0) == 0
            and completion.get("remoteState", "valid") == "valid"  # newer Syncthing only; 1.19 has no such key
        )
        return ok, info


def _set(parent: ET.Element, tag: str, value: str) -> None:
    elem = parent.find(tag)
    if elem is None:
        elem = ET.SubElement(parent, tag)
    elem.text = value


class SyncthingPair:
    """Two Syncthing daemons (``"a"`` and ``"b"``) on loopback, sharing ``folder_id`` between ``folder_a``
    and ``folder_b``. Everything of theirs (homes, logs, a fake ``HOME``) lives under ``root``."""

    def __init__(self, root: Path, folder_a: Path, folder_b: Path, folder_id: str = "expense-sync") -> None:
        self.root = Path(root).resolve()
        self.folder_id = folder_id
        self.a = Daemon("a", self.root, Path(folder_a).resolve())
        self.b = Daemon("b", self.root, Path(folder_b).resolve())
        self.sync_seconds: list[float] = []
        """How long each successful :meth:`wait_in_sync` took (for reporting)."""
        self.connect_restarts = 0
        """How often a daemon was restarted because the connection stalled (see :meth:`_connect`)."""

    # -- access ------------------------------------------------------------------------------------------

    def daemon(self, which: str) -> Daemon:
        if which not in ("a", "b"):
            raise ValueError(f"which must be 'a' or 'b', not {which!r}")
        return self.a if which == "a" else self.b

    def peer(self, which: str) -> Daemon:
        return self.b if which == "a" else self.a

    def folder(self, which: str) -> Path:
        return self.daemon(which).folder

    def files(self, which: str) -> dict[str, bytes]:
        """The synced files of one side: relative POSIX name -> bytes (no folders, no Syncthing files)."""
        return {k: v for k, v in listing(self.folder(which)).items() if isinstance(v, bytes)}

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Both daemons up, each knowing the other and sharing the folder, and connected to each other.
        Picks free ports; one retry with new ports if a daemon could not bind (a real port clash)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for d in (self.a, self.b):
            d.dir.mkdir(parents=True, exist_ok=True)
            d.generate(self.root)
        for attempt in (1, 2):
            self.a.gui_port, self.a.listen_port, self.b.gui_port, self.b.listen_port = free_ports(4)
            self.a.write_config(self.b, self.folder_id)
            self.b.write_config(self.a, self.folder_id)
            try:
                deadline = time.monotonic() + READY_TIMEOUT_S
                # one after the other, so that they do not dial each other at the same instant (see _connect)
                self.a.launch(self.root)
                self.a.wait_ready(deadline)
                self.b.launch(self.root)
                self.b.wait_ready(deadline)
                self._connect(self.b, deadline)
                return
            except PortClashError:
                self.stop(kill=True)
                if attempt == 2:
                    raise
            except BaseException:
                self.stop(kill=True)
                raise

    def stop(self, kill: bool = False) -> None:
        """Stop both daemons at once: SIGTERM to their process groups (SIGKILL with ``kill``, or if one takes
        longer than ``STOP_TIMEOUT_S``), and wait for them; nothing is left running."""
        try:
            for d in (self.a, self.b):
                d.signal_stop(kill)
        finally:
            try:
                self.a.reap()
            finally:
                self.b.reap()

    def stop_one(self, which: str, kill: bool = False) -> None:
        """Stop one daemon (cleanly, or SIGKILL with ``kill`` to simulate a crash); its home, ports and folder
        stay, so :meth:`start_one` brings it back as it was."""
        self.daemon(which).terminate(kill)

    def start_one(self, which: str) -> None:
        """Start a daemon stopped by :meth:`stop_one` (same home, same ports) and wait until it is ready and
        connected to the other one (if that one is running)."""
        daemon = self.daemon(which)
        daemon.launch(self.root)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            daemon.wait_ready(deadline)
            if self.peer(which).running:
                self._connect(daemon, deadline)
        except BaseException:
            daemon.terminate(kill=True)
            raise

    def __enter__(self) -> SyncthingPair:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- sync --------------------------------------------------------------------------------------------

    def rescan(self) -> None:
        """Ask every running daemon to rescan the folder now; returns once the scans are done (Syncthing's
        ``POST /rest/db/scan`` answers when the scan has finished)."""
        for d in (self.a, self.b):
            if d.running:
                d.api("POST", "/rest/db/scan", timeout=30.0, folder=self.folder_id)

    def wait_in_sync(self, timeout: float = 60, rescan: bool = True) -> float:
        """Return (the seconds it took) once both folders hold the same files (names and bytes) and both
        daemons report the folder idle, nothing needed and 100 % completion for the other device.
        With ``rescan`` (default) both daemons rescan first and every few seconds while waiting, so changes
        are seen without waiting for the watcher. Raises ``AssertionError`` with a diagnostic on timeout."""
        start = time.monotonic()
        deadline = start + timeout
        next_rescan = start
        while True:
            for d in (self.a, self.b):
                d.check_alive()
            if rescan and time.monotonic() >= next_rescan:
                with contextlib.suppress(OSError, urllib.error.URLError):
                    self.rescan()
                next_rescan = time.monotonic() + RESCAN_EVERY_S
            same = listing(self.a.folder) == listing(self.b.folder)
            if same:
                ok_a, _ = self.a.sync_state(self.folder_id, self.b)
                ok_b, _ = self.b.sync_state(self.folder_id, self.a)
                # the daemons are settled; the disk may have moved meanwhile, so compare it once more
                if ok_a and ok_b and listing(self.a.folder) == listing(self.b.folder):
                    elapsed = time.monotonic() - start
                    self.sync_seconds.append(elapsed)
                    return elapsed
            if time.monotonic() > deadline:
                raise AssertionError(f"folders not in sync after {timeout:.0f} s\n{self.diagnostic()}")
            time.sleep(POLL_S)

    def connected(self) -> bool:
        """Both daemons see each other connected and the folder shared by the other end."""
        for d, peer in ((self.a, self.b), (self.b, self.a)):
            conns = d.try_api("/rest/system/connections")
            if not (
                isinstance(conns, dict)
                and conns.get("connections", {}).get(peer.device_id, {}).get("connected") is True
            ):
                return False
            comp = d.try_api("/rest/db/completion", folder=self.folder_id, device=peer.device_id)
            if not (isinstance(comp, dict) and comp.get("remoteState", "valid") == "valid"):
                return False
        return True

    def _connect(self, newcomer: Daemon, deadline: float) -> None:
        """Until both daemons are :meth:`connected`. ``newcomer`` is the one just started.

        Syncthing 1.19 exchanges the BEP Hello of every new connection one at a time with a 20 s deadline, so
        when both daemons dial each other at the same instant each waits for the other's Hello and the pair
        stalls for 20 s. A healthy loopback connection takes well under a second; if nothing is connected after
        ``CONNECT_STALL_S`` the newcomer is killed and started again (that unblocks the other daemon at once)."""
        stall_at = time.monotonic() + CONNECT_STALL_S
        while True:
            for d in (self.a, self.b):
                d.check_alive()
            if self.connected():
                return
            now = time.monotonic()
            if now > deadline:
                raise AssertionError(f"daemons did not connect to each other\n{self.diagnostic()}")
            if now > stall_at:
                self.connect_restarts += 1
                newcomer.note(f"no connection after {CONNECT_STALL_S:.0f} s (Hello stall?): restarting {newcomer.name}")
                newcomer.terminate(kill=True)
                newcomer.launch(self.root)
                newcomer.wait_ready(deadline)
                stall_at = time.monotonic() + CONNECT_STALL_S
            time.sleep(POLL_S)

    def diagnostic(self) -> str:
        """Both listings, what each daemon reports, folder errors and the last log lines."""
        parts = []
        la, lb = listing(self.a.folder), listing(self.b.folder)
        only_a = sorted(set(la) - set(lb))
        only_b = sorted(set(lb) - set(la))
        differ = sorted(k for k in set(la) & set(lb) if la[k] != lb[k])
        parts.append(f"only in A: {only_a}\nonly in B: {only_b}\ncontent differs: {differ}")
        for d, entries in ((self.a, la), (self.b, lb)):
            parts.append(f"--- {d.name.upper()}: {d.folder}\n{_describe(entries)}")
        for d, peer in ((self.a, self.b), (self.b, self.a)):
            if d.running:
                _, info = d.sync_state(self.folder_id, peer)
                status, completion = info["status"], info["completion_of_peer"]
                if isinstance(status, dict):
                    info["status"] = {k: status.get(k) for k in STATUS_KEYS if k in status}
                if isinstance(completion, dict):
                    info["completion_of_peer"] = {k: v for k, v in completion.items() if k != "globalBytes"}
                errors = d.try_api("/rest/folder/errors", folder=self.folder_id)
                info["folder_errors"] = errors.get("errors") if isinstance(errors, dict) else errors
                state = "\n".join(f"    {k}: {json.dumps(v, default=str)}" for k, v in info.items())
            else:
                state = "    (not running)"
            parts.append(
                f"--- daemon {d.name} ({d.device_id[:7]}, gui {d.gui_url}, listen {d.listen_address}):\n{state}\n"
                f"--- last log lines of {d.log_path}:\n{d.log_tail()}"
            )
        return "\n".join(parts)

    def processes(self) -> Iterator[subprocess.Popen[bytes]]:
        """The running daemon processes (for tests that check nothing outlives the pair)."""
        for d in (self.a, self.b):
            if d.proc is not None:
                yield d.proc
