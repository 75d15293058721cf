"""Faults: disk full and read-only folders, and damaged, huge or newer-schema data files.

*Simulated* faults wrap the very ``os`` calls ``tracker/storage/fsutil.py`` makes (``open``, ``write``,
``fsync``, ``replace``; ``unlink``/``ftruncate`` for the clean-up) and fail them with ENOSPC or EROFS
partway (after N bytes, on the file's fsync, on the folder's fsync, on the rename), for paths in the
data folder only. Every CLI command that writes runs under every fault. The contract checked:

* refused: exit status 2, one line naming the data folder and the reason, the ledger's files
  byte-identical and its state unchanged; or, when only the tidy-up after a saved change failed
  (journal fold, backup), saved: exit status 0 and the change really is there. Never a change
  reported as failed that was saved, never exit 1, never a traceback;
* no temporary file is left once the ledger has been opened again.

A *real* read-only folder is a read-only bind mount in a private mount namespace (``unshare -m``;
root does not care about ``chmod``). Damaged files are refused by the CLI and the UI with the file
named, the bytes and modification time untouched, and the backups offered and restorable.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import THOROUGH, CliResult, assert_rejected, load_state, record_figures, run_cli

import tracker.storage.engine as ledger_module
from tracker.errors import StorageError
from tracker.ledger import Ledger
from tracker.storage import jsonfile
from tracker.storage.fsutil import TMP_MARK

REASONS = {errno.ENOSPC: "the disk is full", errno.EROFS: "read-only file system"}
CALLS = (
    "open",
    "open@2",
    "write-0",
    "write-1",
    "write-37",
    "fsync",
    "fsync@2",
    "dir-fsync",
    "dir-fsync@2",
    "dir-fsync@3",
    "rename",
    "rename@2",
)
FIGURES: dict[str, Any] = {"fault_cases": 0, "fault_never_hit": 0, "refused": 0, "saved": 0, "uncertain": 0}
"""``saved``: only the tidy-up after a saved change failed; ``uncertain``: the message says the change may be there."""


class FaultyFS:
    """Fail one kind of file-system call for paths inside ``root`` (the lock file aside) with ``err``."""

    def __init__(self, mp: pytest.MonkeyPatch, root: Path, err: int, call: str, *, cleanup_fails: bool = False) -> None:
        # call: "open", "write-N" (N bytes get through, then writes fail), "fsync" (a file's), "dir-fsync",
        # "rename"; "@k" fails only the k-th such call (the later steps of a save), else every one fails.
        kind, _, nth = call.partition("@")
        self.root = str(root)
        self.err = err
        self.call = kind.split("-")[0] if kind.startswith("write") else kind
        self.allowed = int(kind.split("-")[1]) if kind.startswith("write") else 0
        self.nth = int(nth) if nth else 0
        self.seen = 0
        self.cleanup_fails = cleanup_fails
        self.fds: dict[int, str] = {}
        self.fired = 0
        self.real = {
            name: getattr(os, name) for name in ("open", "write", "fsync", "replace", "close", "unlink", "ftruncate")
        }
        for name in self.real:
            mp.setattr(os, name, getattr(self, f"_{name}"))

    def mine(self, path: Any) -> bool:
        text = os.fspath(path)
        return isinstance(text, str) and text.startswith(self.root) and not text.endswith(jsonfile.LOCKFILE)

    def due(self) -> bool:
        """Whether this matching call is the one to fail."""
        self.seen += 1
        return self.nth == 0 or self.seen == self.nth

    def fail(self) -> None:
        self.fired += 1
        raise OSError(self.err, os.strerror(self.err))

    def _open(self, path: Any, flags: int, mode: int = 0o777, *, dir_fd: Any = None) -> int:
        writing = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        if self.call == "open" and writing and self.mine(path) and self.due():
            self.fail()
        fd = self.real["open"](path, flags, mode, dir_fd=dir_fd)
        if self.mine(path):
            self.fds[fd] = os.fspath(path)
        return fd

    def _write(self, fd: int, data: Any) -> int:
        if self.call == "write" and fd in self.fds:
            if self.allowed <= 0:
                self.fail()
            n = self.real["write"](fd, bytes(data[: self.allowed]))
            self.allowed -= n
            return n
        return self.real["write"](fd, data)

    def _fsync(self, fd: int) -> None:
        path = self.fds.get(fd)
        if path is not None:
            is_dir = os.path.isdir(path)
            if ((self.call == "fsync" and not is_dir) or (self.call == "dir-fsync" and is_dir)) and self.due():
                self.fail()
        self.real["fsync"](fd)

    def _replace(self, src: Any, dst: Any, **kwargs: Any) -> None:
        if self.call == "rename" and self.mine(dst) and self.due():
            self.fail()
        self.real["replace"](src, dst, **kwargs)

    def _close(self, fd: int) -> None:
        self.fds.pop(fd, None)
        self.real["close"](fd)

    def _unlink(self, path: Any, **kwargs: Any) -> None:
        if self.cleanup_fails and self.mine(path):
            raise OSError(self.err, os.strerror(self.err))
        self.real["unlink"](path, **kwargs)

    def _ftruncate(self, fd: int, length: int) -> None:
        if self.cleanup_fails and fd in self.fds:
            raise OSError(self.err, os.strerror(self.err))
        self.real["ftruncate"](fd, length)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with a snapshot, a journal, a backup and an import file beside it."""
    folder = tmp_path_factory.mktemp("template")
    data = folder / "data"
    ledger = Ledger(data)
    for i in range(4):
        ledger.add("expense", f"{i + 1}.25", category="Food", date=f"2026-03-0{i + 1}", note=f"seed {i}")
    ledger.engine.fold()
    ledger.add("income", "1000", category="Salary", date="2026-03-05", tags=["job"])
    ledger.create_backup()
    (folder / "bank.csv").write_text(
        "Date,Description,Amount\n2026-04-01,COFFEE,-3.50\n2026-04-02,PAY,2000.00\n", encoding="utf-8"
    )
    return folder


def copy_of(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest / "data"


def ledger_files(data: Path) -> dict[str, bytes]:
    return {n: (data / n).read_bytes() for n in ("ledger.json", "ledger.journal") if (data / n).exists()}


def temporaries(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if TMP_MARK in p.name]


OPERATIONS: dict[str, Callable[[Path, dict[str, Any]], list[str]]] = {
    "add": lambda data, ctx: ["add", "expense", "12.50", "--category", "Food", "--note", "fault"],
    "edit": lambda data, ctx: ["edit", ctx["id"], "--note", "edited under a fault"],
    "delete": lambda data, ctx: ["delete", ctx["id"]],
    "undo": lambda data, ctx: ["undo"],
    "import": lambda data, ctx: ["import", str(data.parent / "bank.csv")],
    "backups create": lambda data, ctx: ["backups", "create"],
    "backups restore": lambda data, ctx: ["backups", "restore", ctx["backup"]],
}
MAINTENANCE = {
    "plain": {},
    "fold every commit": {"COMPACT_AFTER_ENTRIES": 1},
    "backup every commit": {"BACKUP_EVERY": 0},
}


def check_fault_outcome(
    result: CliResult, data: Path, before: tuple[dict[str, bytes], int, dict[str, Any]], err: int, op: str
) -> str:
    """``refused`` (nothing changed), ``uncertain`` (the message says the change may be there) or ``saved``."""
    files, revision, state = before
    assert "Traceback" not in result.err + result.out, result.show()
    _, revision_after, state_after = load_state(data)  # opening the ledger also removes temporaries
    assert not temporaries(data), temporaries(data)
    if result.code == 2:
        assert_rejected(result, REASONS[err], str(data))
        if "may have been saved" in result.err or "could not make it durable" in result.err:
            assert revision_after in (revision, revision + 1), f"{op}: {revision} -> {revision_after}"
            return "uncertain"
        assert "the previous data is unchanged" in result.err, result.show()
        assert ledger_files(data) == files, f"{op}: refused, but the data files changed"
        assert (revision_after, state_after) == (revision, state), f"{op}: refused, but the ledger changed"
        return "refused"
    assert result.code == 0, result.show()
    if op.startswith("backups create"):
        return "saved"
    assert revision_after > revision, f"{op}: reported as done, but the ledger did not change ({result.show()})"
    return "saved"


@pytest.mark.parametrize("op", list(OPERATIONS))
def test_disk_full_and_read_only_at_every_write_step(
    op: str, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = 0
    for maintenance, settings in MAINTENANCE.items():
        if maintenance != "plain" and op != "add" and not THOROUGH:
            continue
        for number, call in enumerate(CALLS):
            for err in REASONS if THOROUGH else [list(REASONS)[number % 2]]:
                cases += 1
                data = copy_of(template, tmp_path / f"case-{cases}")
                ledger = Ledger(data)
                ctx = {"id": ledger.transactions()[0].id, "backup": ledger.backups()[0].name}
                before = (ledger_files(data), *load_state(data)[1:])
                with pytest.MonkeyPatch.context() as mp:
                    for name, value in settings.items():
                        mp.setattr(
                            ledger_module, name, ledger_module.dt.timedelta(0) if name == "BACKUP_EVERY" else value
                        )
                    faults = FaultyFS(mp, data, err, call)
                    result = run_cli(["--data-dir", str(data), *OPERATIONS[op](data, ctx)])
                outcome = check_fault_outcome(
                    result, data, before, err, f"{op} / {maintenance} / {call} / {errno.errorcode[err]}"
                )
                FIGURES["fault_cases"] += 1
                if faults.fired == 0:
                    FIGURES["fault_never_hit"] += 1
                    assert result.code == 0, result.show()
                else:
                    FIGURES[outcome] = FIGURES.get(outcome, 0) + 1
                if cases % 5 == 0:  # the ledger still takes changes once the disk has room again
                    after = Ledger(data).add("expense", "1", category="Later")
                    assert Ledger(data).get(after.id) == after
    record_figures("disk_full_and_read_only", FIGURES)


@pytest.mark.parametrize("err", list(REASONS))
@pytest.mark.parametrize("call", ["open", "write-0", "write-20", "fsync"])
def test_the_api_raises_storage_error_and_keeps_the_ledger_usable(
    template: Path, tmp_path: Path, err: int, call: str
) -> None:
    data = copy_of(template, tmp_path / "case")
    ledger = Ledger(data)
    files, before = ledger_files(data), ledger.transactions()
    with pytest.MonkeyPatch.context() as mp:
        FaultyFS(mp, data, err, call)
        with pytest.raises(StorageError, match=REASONS[err]) as info:
            ledger.add("expense", "3.00", category="Fault")
    assert str(data / "ledger.journal") in str(info.value)
    assert "unchanged" in str(info.value)
    assert ledger_files(data) == files
    assert ledger.transactions() == before  # the in-memory state did not take the change either
    tx = ledger.add("expense", "3.00", category="Fault")  # the same object works once there is room
    after = Ledger(data).transactions()
    assert tx in after
    assert len(after) == len(before) + 1


@pytest.mark.parametrize("err", list(REASONS))
def test_a_failed_clean_up_leaves_nothing_the_next_start_does_not_remove(
    err: int, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write fails and so does its clean-up (unlink of the temporary file, cut of the journal)."""
    for n, (op, call) in enumerate([("add", "write-37"), ("backups create", "fsync"), ("add", "fsync")]):
        data = copy_of(template, tmp_path / f"case-{n}")
        revision, state = load_state(data)[1:]
        monkeypatch.setattr(ledger_module, "COMPACT_AFTER_ENTRIES", 1)
        with pytest.MonkeyPatch.context() as mp:
            FaultyFS(mp, data, err, call, cleanup_fails=True)
            result = run_cli(["--data-dir", str(data), *OPERATIONS[op](data, {})])
        assert "Traceback" not in result.err, result.show()
        if result.code == 2:
            assert_rejected(result, REASONS[err])
            if "may have been saved" not in result.err:
                assert load_state(data)[1:] == (revision, state)  # a torn journal tail is ignored
        else:
            assert result.code == 0, result.show()
        assert not temporaries(data), "the next start removes what the failed write left"
        monkeypatch.setattr(ledger_module, "COMPACT_AFTER_ENTRIES", 1000)
        tx = Ledger(data).add("expense", "2", category="Later")  # and the next append cuts a torn tail
        assert Ledger(data).get(tx.id) == tx
        assert (data / "ledger.journal").read_bytes().endswith(b"\n")


def test_export_under_a_full_disk_leaves_the_old_file(template: Path, tmp_path: Path) -> None:
    data = copy_of(template, tmp_path / "case")
    out = tmp_path / "exports"
    out.mkdir()
    target = out / "all.csv"
    target.write_bytes(b"the previous export\n")
    for call in ("fsync", "rename"):
        with pytest.MonkeyPatch.context() as mp:
            FaultyFS(mp, out, errno.ENOSPC, call)
            result = run_cli(["--data-dir", str(data), "export", "-o", str(target)])
        assert_rejected(result, str(target))
        assert target.read_bytes() == b"the previous export\n"
        assert sorted(p.name for p in out.iterdir()) == ["all.csv"]


def test_the_ui_form_under_a_full_disk_shows_the_error_and_keeps_the_input(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    app = Path(__file__).resolve().parents[1] / "tracker" / "ui" / "app.py"
    Ledger(data_dir).add("expense", "5", category="Food")
    files = ledger_files(data_dir)
    at = AppTest.from_file(str(app), default_timeout=60)
    at.run()
    at.switch_page("app_pages/transactions.py").run()
    at.text_input(key="tx_expense_amount").input("42.50")
    box = at.selectbox(key="tx_expense_category")
    box.options.append("Groceries")
    box.set_value("Groceries")
    with pytest.MonkeyPatch.context() as mp:
        FaultyFS(mp, data_dir, errno.ENOSPC, "write-10")
        next(b for b in at.button if b.label == "Add an expense").click().run()
    assert not at.exception
    shown = [e.value for e in at.error]
    assert any("disk is full" in e and "unchanged" in e for e in shown), shown
    assert at.text_input(key="tx_expense_amount").value == "42.50"  # the input is kept for another try
    assert ledger_files(data_dir) == files
    next(b for b in at.button if b.label == "Add an expense").click().run()  # room again: it saves
    assert [t.amount_minor for t in Ledger(data_dir).transactions()] == [500, 4250]


# -- a real read-only folder ---------------------------------------------------------------------------


def unshare_mount_works() -> str:
    """Empty if a private mount namespace with a read-only bind mount can be made here, else why not."""
    if sys.platform != "linux" or not shutil.which("unshare") or not shutil.which("mount"):
        return "needs Linux with unshare(1) and mount(1)"
    probe = subprocess.run(
        [
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            "mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"cannot make a read-only bind mount here (needs root or CAP_SYS_ADMIN): {probe.stderr.strip()}"
    return ""


def test_a_real_read_only_folder_reads_and_refuses_writes_untouched(template: Path, tmp_path: Path) -> None:
    reason = unshare_mount_works()
    if reason:
        pytest.skip(reason)
    data = copy_of(template, tmp_path / "case")
    some_id = Ledger(data).transactions()[0].id
    (data / ".ledger.json.tmp-1-dead").write_bytes(b"left by a crash")  # cleaning up must not be attempted
    files = {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in data.rglob("*") if p.is_file()}
    out = tmp_path / "out.json"
    commands = {
        "list": ["list", "--format", "json"],
        "summary": ["summary", "--format", "json"],
        "backups list": ["backups", "list", "--format", "json"],
        "add": ["add", "expense", "1", "--category", "X"],
        "edit": ["edit", some_id, "--note", "x"],
        "delete": ["delete", some_id],
        "undo": ["undo"],
        "backups create": ["backups", "create"],
        "backups restore": ["backups", "restore", Ledger(data, load=False).backups()[0].name],
        "import": ["import", str(data.parent / "bank.csv")],
    }
    # One Python inside the namespace runs every command through main() (one start-up, not ten), and
    # one real CLI process checks the exit status and stderr of a refused write end to end.
    runner = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from reliability_helpers import run_cli; "
        "cmds = json.loads(sys.argv[3]); "
        "json.dump({k: vars(run_cli(['--data-dir', sys.argv[2], *v])) for k, v in cmds.items()}, open(sys.argv[4], 'w'))"
    )
    script = "\n".join(
        [
            f"mount --bind {data} {data} && mount -o remount,bind,ro {data} || exit 9",
            f"touch {data}/probe 2>/dev/null && exit 8",
            f"{sys.executable} -m tracker.cli --data-dir {data} add expense 1 --category X 2>{tmp_path}/add.err",
            f"echo $? >{tmp_path}/add.rc",
            'exec "$@"',
        ]
    )
    here = str(Path(__file__).resolve().parent)
    inner = [sys.executable, "-c", runner, here, str(data), json.dumps(commands), str(out)]
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", *inner],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "EXPENSE_TRACKER_LOG_DIR": str(tmp_path / "logs")},
    )
    assert done.returncode != 8, "the bind mount was not read-only"
    assert done.returncode == 0, done.stderr
    results = {name: CliResult(**r) for name, r in json.loads(out.read_text()).items()}
    for name in ("list", "summary", "backups list"):
        assert results[name].code == 0, results[name].show()
        assert results[name].err == "", results[name].show()
    assert len(json.loads(results["list"].out)) == 5
    for name in ("add", "edit", "delete", "undo", "backups create", "backups restore", "import"):
        assert_rejected(results[name], "read-only file system", str(data))
    real = CliResult(["add"], int((tmp_path / "add.rc").read_text()), "", (tmp_path / "add.err").read_text())
    assert_rejected(real, "read-only file system")
    after = {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in data.rglob("*") if p.is_file()}
    assert after == files
    record_figures(
        "real_read_only_folder", {"commands": len(commands) + 1, "mount": "read-only bind mount in unshare -m"}
    )


# -- damaged, huge and newer files --------------------------------------------------------------------

NEWER = b'{"format": "expense-tracker-ledger", "schema_version": 99, "seq": 1, "transactions": {}}'


def _journal_line(data: Path, n: int = 0) -> bytes:
    return (data / "ledger.journal").read_bytes().splitlines(keepends=True)[n]


DAMAGE: dict[str, tuple[str, Callable[[Path], None], str]] = {
    # name: (file, how, words in the message)
    "snapshot truncated": (
        "ledger.json",
        lambda d: (d / "ledger.json").write_bytes((d / "ledger.json").read_bytes()[:-30]),
        "truncated",
    ),
    "snapshot empty": ("ledger.json", lambda d: (d / "ledger.json").write_bytes(b""), "is empty"),
    "snapshot binary": ("ledger.json", lambda d: (d / "ledger.json").write_bytes(os.urandom(4096)), "binary"),
    "snapshot huge": (
        "ledger.json",
        lambda d: os.truncate(d / "ledger.json", jsonfile.MAX_FILE_BYTES + 1),
        "larger than any ledger",
    ),
    "snapshot newer": ("ledger.json", lambda d: (d / "ledger.json").write_bytes(NEWER), "newer version"),
    "journal damaged line": (
        "ledger.journal",
        lambda d: (d / "ledger.journal").write_bytes(_journal_line(d)[:40] + b"\n" + _journal_line(d)),
        "damaged entry",
    ),
    "journal binary": (
        "ledger.journal",
        lambda d: (d / "ledger.journal").write_bytes(os.urandom(2048) + b"\n"),
        "damaged entry",
    ),
    "journal huge": (
        "ledger.journal",
        lambda d: os.truncate(d / "ledger.journal", jsonfile.MAX_FILE_BYTES + 1),
        "larger than any ledger",
    ),
    "journal newer": (
        "ledger.journal",
        lambda d: (d / "ledger.journal").write_bytes(
            _journal_line(d).replace(b'"schema_version":3', b'"schema_version":7')
        ),
        "newer version",
    ),
}


def fingerprint(folder: Path) -> dict[str, tuple[int, int, int, str]]:
    """Every file: size, mtime, inode and a hash of its first MiB (huge sparse files are not read whole)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != jsonfile.LOCKFILE:
            st = p.stat()
            with open(p, "rb") as fh:
                head = hashlib.sha256(fh.read(1 << 20)).hexdigest()
            out[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns, st.st_ino, head)
    return out


@pytest.fixture
def damaged(template: Path, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, str, str]:
    name = request.param
    data = copy_of(template, tmp_path / "case")
    file, how, words = DAMAGE[name]
    how(data)
    return data, file, words


@pytest.mark.parametrize("damaged", list(DAMAGE), indirect=True)
def test_damaged_files_are_refused_untouched_and_a_backup_brings_the_data_back(damaged: tuple[Path, str, str]) -> None:
    data, file, words = damaged
    before = fingerprint(data)
    edit_id = "0" * 16
    for argv in (
        ["list"],
        ["add", "expense", "1", "--category", "X"],
        ["summary"],
        ["edit", edit_id, "--note", "x"],
        ["undo"],
        ["export", "-o", str(data.parent / "x.csv")],
    ):
        result = run_cli(["--data-dir", str(data), *argv])
        assert_rejected(result, str(data / file), words, "backups restore")
    with pytest.raises(StorageError):
        Ledger(data)
    assert fingerprint(data) == before, "a refused file must be left exactly as it was (bytes and mtime)"
    listed = run_cli(["--data-dir", str(data), "backups", "list", "--format", "json"])
    assert listed.code == 0, listed.show()
    name = json.loads(listed.out)[0]["name"]
    restored = run_cli(["--data-dir", str(data), "backups", "restore", name])
    assert restored.code == 0, restored.show()
    after = run_cli(["--data-dir", str(data), "list", "--format", "json"])
    assert after.code == 0, after.show()
    assert sorted(r["note"] for r in json.loads(after.out)) == ["", "seed 0", "seed 1", "seed 2", "seed 3"]
    aside = [p for p in data.iterdir() if p.name.startswith(f"{file}.unreadable-")]
    assert len(aside) == 1, "the damaged file is kept beside the restored data, renamed"
    assert aside[0].stat().st_ino == before[file][2]


@pytest.mark.parametrize("damaged", list(DAMAGE), indirect=True)
def test_the_app_shows_what_is_damaged_and_offers_the_backups(
    damaged: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    data, file, words = damaged
    monkeypatch.setenv("EXPENSE_TRACKER_DATA_DIR", str(data))
    before = fingerprint(data)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "tracker" / "ui" / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Your data cannot be opened"]
    message = re.sub(r"\\(.)", r"\1", at.error[0].value)  # the page escapes Markdown
    assert str(data / file) in message
    assert words in message
    restore = [b for b in at.button if b.label == "Restore"]
    assert restore, "the backups are offered"
    assert fingerprint(data) == before
    if file == "ledger.journal" and "huge" not in words:
        restore[0].click().run()
        assert not at.exception
        assert [t.value for t in at.title] == ["Dashboard"]
        assert len(Ledger(data).transactions()) == 5
