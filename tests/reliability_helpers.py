"""Shared pieces of the reliability suites (issue 9): figures, in-process CLI runs, the crash writer.

* :func:`record_figures` merges a test's counts into ``test-output/reliability-figures.json`` (the
  README quotes them) and prints them.
* :func:`run_cli` runs ``tracker.cli.main(argv)`` in this process (fast enough for fuzzing), capturing
  stdout/stderr and argparse's exits; :func:`assert_rejected` is the "exit 2, one line" contract.
* Run as a script (``python tests/reliability_helpers.py zygote``) this module is the *zygote* of the
  crash suite: it imports the app once (CLI, importers, Streamlit and the Transactions page's save
  functions) and then forks one writer per request, so a SIGKILL round costs milliseconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import os
import struct
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "test-output" / "reliability-figures.json"
THOROUGH = os.environ.get("EXPENSE_TRACKER_THOROUGH") == "1"
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"
LOCAL_FIXTURES = ROOT / "tests" / "fixtures"


def scaled(quick: int, thorough: int) -> int:
    """``quick`` in the default run, ``thorough`` with ``EXPENSE_TRACKER_THOROUGH=1``."""
    return thorough if THOROUGH else quick


# -- figures --------------------------------------------------------------------------------------


def record_figures(section: str, values: Mapping[str, Any]) -> None:
    """Merge ``values`` under ``section`` into the figures file (atomically) and print them."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    try:
        current = json.loads(FIGURES.read_text(encoding="utf-8"))
        if not isinstance(current, dict):
            current = {}
    except (OSError, ValueError):
        current = {}
    entry = {**values, "mode": "thorough" if THOROUGH else "quick", "recorded_at": dt.datetime.now(dt.UTC).isoformat()}
    current[section] = entry
    tmp = FIGURES.with_name(f".{FIGURES.name}.{os.getpid()}")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, FIGURES)
    print(f"reliability figures [{section}]: {json.dumps(values, ensure_ascii=False, sort_keys=True)}")


# -- fixtures on disk -----------------------------------------------------------------------------


def bank_files() -> list[Path]:
    """Every real bank file of the fixtures (shared and the project's own copies), by path."""
    found: dict[str, Path] = {}
    for base in (SHARED_FIXTURES, LOCAL_FIXTURES):
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file() and path.suffix.lower() in {".csv", ".tsv", ".ofx", ".qfx", ".qif"}:
                    found.setdefault(f"{base.name}/{path.relative_to(base)}", path)
    return list(found.values())


def files_of(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` (the lock file aside): relative name -> (bytes, mtime in ns)."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "ledger.lock"
    }


# -- the CLI in this process ------------------------------------------------------------------------


@dataclasses.dataclass
class CliResult:
    """What ``main(argv)`` did: exit status and what it printed."""

    argv: list[str]
    code: int
    out: str
    err: str

    def show(self) -> str:
        return f"argv={self.argv!r} -> {self.code}\nstdout: {self.out[-2000:]!r}\nstderr: {self.err[-2000:]!r}"


def run_cli(argv: Sequence[str], stdin: str = "") -> CliResult:
    """``tracker.cli.main(argv)`` in this process; argparse's exits become exit statuses."""
    from tracker.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin = old_stdin
    return CliResult(list(argv), int(code), out.getvalue(), err.getvalue())


def assert_rejected(result: CliResult, *words: str) -> None:
    """Rejected input: exit status 2, exactly one line on stderr (naming the program), no traceback."""
    shown = result.show()
    assert result.code == 2, shown
    assert result.err.endswith("\n"), shown
    assert result.err.count("\n") == 1, shown
    assert result.err.startswith("expense-tracker"), shown
    assert "Traceback" not in result.err + result.out, shown
    for word in words:
        assert word in result.err, shown


def assert_clean_outcome(result: CliResult) -> None:
    """Any outcome but a crash: 0, or a one-line rejection (2); never 1, never a traceback."""
    shown = result.show()
    assert "Traceback" not in result.err + result.out, shown
    assert result.code in (0, 2), shown
    if result.code == 2:
        assert result.err.endswith("\n"), shown
        assert result.err.count("\n") == 1, shown


# -- ledger state as plain data -----------------------------------------------------------------------


def load_state(data_dir: Path, frame: bool = True) -> tuple[Any, int, dict[str, dict[str, Any]]]:
    """A fresh ``Ledger`` on ``data_dir``, its revision and records by id (raises if it does not load).

    Every record is validated again (``transactions()``); ``frame`` also builds the DataFrame the UI shows.
    """
    from tracker.ledger import Ledger

    ledger = Ledger(data_dir)
    if frame:
        ledger.frame()
    return ledger, ledger.revision, {t.id: t.to_record() for t in ledger.transactions()}


# -- the crash zygote ---------------------------------------------------------------------------------

PHASES = {0: "idle", 1: "starting", 2: "in the change", 3: "journal append", 4: "journal fold", 5: "backup + rotation"}
PHASE_BYTES = 16  # phase (byte 0), then three uint32: folds, backups and appends started


class PhaseBoard:
    """A 16-byte shared file the writer marks where it is; the parent reads it (same page cache)."""

    def __init__(self, path: Path) -> None:
        import mmap

        fd = os.open(path, os.O_RDWR)
        try:
            self.map = mmap.mmap(fd, PHASE_BYTES)
        finally:
            os.close(fd)

    def get(self) -> int:
        return self.map[0]

    def set(self, phase: int) -> None:
        self.map[0] = phase

    def bump(self, slot: int) -> None:
        offset = 4 + 4 * slot
        (value,) = struct.unpack_from("<I", self.map, offset)
        struct.pack_into("<I", self.map, offset, value + 1)


def read_board(path: Path) -> tuple[int, int, int, int]:
    """The parent's view: (phase, folds started, backups started, appends started)."""
    data = path.read_bytes()
    return (data[0], *struct.unpack_from("<III", data, 4))


def load_page_functions() -> Any:
    """The Transactions page's functions (``submit``, ``save_edits``, ``table_frame``...) without rendering it.

    The page file is parsed and everything but its top-level ``with`` block (the rendering) is run
    as a module, so the UI's own save path is called exactly as the page calls it.
    """
    import ast
    import types

    path = ROOT / "tracker" / "ui" / "app_pages" / "transactions.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    keep = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
    tree.body = [node for node in tree.body if isinstance(node, keep)]
    module = types.ModuleType("transactions_page")
    module.__file__ = str(path)
    exec(compile(tree, str(path), "exec"), module.__dict__)
    for name in ("submit", "save_edits", "table_frame"):
        if not callable(getattr(module, name, None)):
            raise RuntimeError(f"the Transactions page has no {name}(): update tests/reliability_helpers.py")
    return module


CATEGORIES = ["Food", "Rent", "Café ☕", "Straße", "家族", "سفر", "Travel"]
TAGS = ["work", "fun", "trip", "家族", "עבודה", "🚀"]
CURRENCIES = ["USD", "EUR", "JPY"]


def _amount(rng: Any, currency: str) -> str:
    cents = rng.randint(1, 250000)
    if currency == "JPY":
        return str(cents)
    whole, frac = divmod(cents, 100)
    return f"{whole:,}.{frac:02d}" if whole >= 1000 and rng.random() < 0.5 else f"{whole}.{frac:02d}"


def _fields(rng: Any, key: str) -> dict[str, Any]:
    currency = rng.choice(CURRENCIES)
    return {
        "type": rng.choice(["income", "expense", "expense"]),
        "amount": _amount(rng, currency),
        "currency": currency,
        "category": rng.choice(CATEGORIES),
        "date": (dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 330))).isoformat(),
        "tags": rng.sample(TAGS, rng.randint(0, 2)),
        "note": f"{key} ✓ {rng.choice(['', 'ünï', 'مرحبا', '👩‍👩‍👧'])}",
    }


def _expect(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form the fields must give (validated the way every entry path validates)."""
    from tracker.model import make_transaction

    rec = make_transaction(**fields).to_record()
    return {k: rec[k] for k in ("type", "amount_minor", "currency", "date", "category", "tags", "note")}


class _Writer:
    """One forked writer: picks changes at random, logs each intent and completion (fsynced), loops forever."""

    def __init__(self, cfg: dict[str, Any], page: Any) -> None:
        import random

        import tracker.storage.engine as ledger_module
        from tracker.storage import jsonfile

        ledger_module.COMPACT_AFTER_ENTRIES = int(cfg["compact_after"])
        ledger_module.BACKUP_EVERY = dt.timedelta(milliseconds=int(cfg["backup_every_ms"]))
        ledger_module.KEEP_BACKUPS = int(cfg["keep_backups"])
        self.cfg = cfg
        self.page = page
        self.rng = random.Random(cfg["seed"])
        self.data_dir = cfg["data_dir"]
        self.board = PhaseBoard(Path(cfg["board"]))
        self.side = os.open(cfg["side"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.scratch = Path(cfg["scratch"])
        board = self.board

        def marked(method: Any, phase: int, slot: int) -> Any:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                before = board.get()
                board.bump(slot)
                board.set(phase)
                try:
                    return method(*args, **kwargs)
                finally:
                    board.set(before)

            return wrapper

        backend = jsonfile.JsonBackend
        backend.compact = marked(backend.compact, 4, 0)  # type: ignore[method-assign]
        backend.write_backup = marked(backend.write_backup, 5, 1)  # type: ignore[method-assign]
        backend.append = marked(backend.append, 3, 2)  # type: ignore[method-assign]

    def log(self, kind: str, payload: dict[str, Any]) -> None:
        os.write(self.side, (kind + " " + json.dumps(payload, ensure_ascii=False) + "\n").encode("utf-8"))
        os.fsync(self.side)

    # -- the CLI path ----------------------------------------------------------------------------

    def cli(self, *argv: str) -> str:
        from tracker.cli import main

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["--data-dir", self.data_dir, *argv])
        if code != 0:
            raise RuntimeError(f"{argv} exited {code}: {out.getvalue()}")
        return out.getvalue()

    def run_cli(self) -> None:
        from tracker.ledger import Ledger

        spy = Ledger(self.data_dir)  # an independent reader, to learn the ids the CLI created
        n = 0
        while True:
            n += 1
            key = f"c{self.cfg['seed']}-{n}"
            ids = [t.id for t in spy.transactions()]
            r = self.rng.random()
            self.board.set(2)
            if r < 0.36 or len(ids) < 3:
                fields = _fields(self.rng, key)
                expect = _expect(fields)
                self.log("I", {"op": "add", "via": "cli", "key": key, "expect": expect})
                argv = ["add", fields["type"], fields["amount"], "--category", fields["category"]]
                argv += ["--date", fields["date"], "--note", fields["note"], "--currency", fields["currency"]]
                for tag in fields["tags"]:
                    argv += ["--tag", tag]
                printed = self.cli(*argv).strip()
                spy.refresh()
                self.log("D", {"key": key, "new": {printed: expect["note"]}})
            elif r < 0.56:
                tx_id = self.rng.choice(ids)
                changes: dict[str, Any] = {"note": f"edit {key} ✎"}
                argv = ["edit", tx_id, "--note", changes["note"]]
                if self.rng.random() < 0.5:
                    changes["category"] = self.rng.choice(CATEGORIES)
                    argv += ["--category", changes["category"]]
                if self.rng.random() < 0.3:
                    changes["tags"] = self.rng.sample(TAGS, 1)
                    argv += ["--tag", changes["tags"][0]]
                self.log("I", {"op": "edit", "via": "cli", "key": key, "id": tx_id, "changes": changes})
                self.cli(*argv)
                spy.refresh()
                self.log("D", {"key": key})
            elif r < 0.80:
                tx_id = self.rng.choice(ids)
                self.log("I", {"op": "delete", "via": "cli", "key": key, "id": tx_id})
                self.cli("delete", tx_id)
                spy.refresh()
                self.log("D", {"key": key})
            elif r < 0.93:
                rows = []
                for i in range(self.rng.randint(2, 4)):
                    fields = _fields(self.rng, f"{key}.{i}")
                    fields.update(currency="USD", tags=[], amount=fields["amount"].replace(",", ""))
                    rows.append(fields)
                path = self.scratch / f"{key}.csv"
                lines = ["Date,Description,Amount,Category"]
                for f in rows:
                    sign = "-" if f["type"] == "expense" else ""
                    lines.append(f'{f["date"]},"{f["note"]}",{sign}{f["amount"]},"{f["category"]}"')
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
                self.log("I", {"op": "import", "via": "cli", "key": key, "rows": [_expect(f) for f in rows]})
                before = set(ids)
                self.cli("import", str(path), "--format", "json")
                spy.refresh()
                new = {t.id: t.note for t in spy.transactions() if t.id not in before}
                self.log("D", {"key": key, "new": new})
            else:
                self.log("I", {"op": "backup", "via": "cli", "key": key})
                self.cli("backups", "create")
                self.log("D", {"key": key})
            self.board.set(0)

    # -- the UI's save path ----------------------------------------------------------------------

    def run_ui(self) -> None:
        import streamlit as st

        from tracker.ledger import Ledger
        from tracker.money import parse_user_amount
        from tracker.ui import formatting, session

        ss = st.session_state
        led = Ledger(self.data_dir)  # the session's ledger, opened once like init_session does
        ss[session.LEDGER_KEY] = led
        page = self.page
        n = 0
        while True:
            n += 1
            key = f"u{self.cfg['seed']}-{n}"
            self.board.set(2)
            led.refresh()  # what init_session does at the start of every run
            ss.pop(formatting.FLASH_KEY, None)
            frame = led.frame()
            ids = list(frame["id"])
            if self.rng.random() < 0.5 or len(ids) < 4:
                fields = _fields(self.rng, key)
                kind = fields["type"]
                p = f"tx_{kind}"
                ss[f"{p}_amount"] = fields["amount"]
                ss[f"{p}_category"] = fields["category"]
                ss[f"{p}_date"] = dt.date.fromisoformat(fields["date"])
                ss[f"{p}_tags"] = list(fields["tags"])
                ss[f"{p}_note"] = fields["note"]
                fields["currency"] = led.default_currency  # the form adds in the default currency
                fields["amount"] = str(parse_user_amount(fields["amount"], led.settings["number_format"]))
                expect = _expect(fields)
                self.log("I", {"op": "add", "via": "ui", "key": key, "expect": expect})
                page.submit(kind)
                if ss.get(f"{p}_error"):
                    raise RuntimeError(f"the form refused valid input: {ss[f'{p}_error']}")
                new = [i for i in led.frame()["id"] if i not in set(ids)]
                self.log("D", {"key": key, "new": dict.fromkeys(new, expect["note"])})
            else:
                shown = page.table_frame(frame)
                positions = self.rng.sample(range(len(shown)), min(len(shown), self.rng.randint(1, 4)))
                deleted = positions[:1] if self.rng.random() < 0.6 else []
                edited = {}
                for pos in positions[len(deleted) :]:
                    change: dict[str, Any] = {"note": f"table {key} {pos} ✎"}
                    if self.rng.random() < 0.4:
                        change["category"] = self.rng.choice(CATEGORIES)
                    if self.rng.random() < 0.4:
                        change["amount"] = f"{self.rng.randint(1, 9999)}.{self.rng.randint(0, 99):02d}"
                    if self.rng.random() < 0.2:
                        change["tags"] = self.rng.sample(TAGS, 2)
                    edited[pos] = change
                row_ids = list(shown.index)
                currencies = dict(zip(frame["id"], frame["currency"], strict=True))
                for pos, change in edited.items():  # a JPY amount has no decimals: the editor would refuse it
                    if currencies[row_ids[pos]] == "JPY" and "amount" in change:
                        change["amount"] = change["amount"].split(".")[0]
                self.log(
                    "I",
                    {
                        "op": "batch",
                        "via": "ui",
                        "key": key,
                        "edits": {row_ids[pos]: change for pos, change in edited.items()},
                        "deletes": [row_ids[pos] for pos in deleted],
                    },
                )
                page.save_edits(led, shown, {"edited_rows": edited, "deleted_rows": deleted})
                if ss.get("tx_table_errors"):
                    raise RuntimeError(f"the table refused valid edits: {ss['tx_table_errors']}")
                self.log("D", {"key": key})
            self.board.set(0)


def _zygote() -> None:
    """Read requests on stdin: ``{"do": "run", ...}`` forks a writer (prints its pid), ``{"do": "reap"}`` waits."""
    import streamlit.logger as st_logger

    import tracker.importers
    import tracker.ledger
    from tracker.cli import build_parser

    build_parser()
    st_logger.set_log_level("error")  # Streamlit's "bare mode" warnings
    page = load_page_functions()
    import tracker.importers.csv_importer
    import tracker.recurring  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        if request["do"] == "run":
            pid = os.fork()
            if pid == 0:
                status = 4
                try:
                    null = os.open(os.devnull, os.O_RDWR)
                    os.dup2(null, 0)
                    os.dup2(null, 1)
                    err = os.open(request["side"] + ".stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    os.dup2(err, 2)
                    writer = _Writer(request, page)
                    writer.board.set(1)
                    writer.run_ui() if request["mode"] == "ui" else writer.run_cli()
                except BaseException:
                    import traceback

                    Path(request["side"] + ".error").write_text(traceback.format_exc(), encoding="utf-8")
                    status = 3
                os._exit(status)
            print(pid, flush=True)
        elif request["do"] == "reap":
            _, status = os.waitpid(int(request["pid"]), 0)
            print(status, flush=True)


class Zygote:
    """The forking parent of the crash writers: a separate, single-threaded process."""

    def __init__(self) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.live: set[int] = set()

    def ask(self, request: dict[str, Any]) -> int:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        assert answer, "the zygote died"
        return int(answer)

    def start(self, **request: Any) -> int:
        pid = self.ask({"do": "run", **request})
        self.live.add(pid)
        return pid

    def kill(self, pid: int) -> int:
        """SIGKILL the writer and reap it; returns the wait status."""
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        self.live.discard(pid)
        return self.ask({"do": "reap", "pid": pid})

    def close(self) -> None:
        import signal

        for pid in list(self.live):  # a failed round must not leave a writer running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                self.ask({"do": "reap", "pid": pid})
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@contextlib.contextmanager
def zygote() -> Iterator[Zygote]:
    z = Zygote()
    try:
        yield z
    finally:
        z.close()


def wait_until(predicate: Any, timeout: float, step: float = 0.0005) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` seconds passed; returns whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def _load_worker(data_dir: str, sync: str, name: str, seconds: float, shared: list[str]) -> None:
    """One of the load test's processes: changes the ledger for ``seconds`` and logs every acknowledged change.

    Its own transactions are added (through the API or ``main()``), edited and deleted; the ``shared``
    transactions get +1 minor unit by read-modify-write under the lock, and a shared counter in the
    ledger's meta data too. A line is written to ``ack-NAME.log`` only once the change has returned.
    """
    import random

    import tracker.storage.engine as ledger_module
    from tracker.cli import main
    from tracker.ledger import Ledger

    ledger_module.COMPACT_AFTER_ENTRIES = 50  # folds while the others read incrementally
    rng = random.Random(name)
    ledger = Ledger(data_dir)
    folder = Path(sync)
    ack = open(folder / f"ack-{name}.log", "a", encoding="utf-8")  # noqa: SIM115 - kept open for the whole run
    (folder / f"ready-{name}").touch()
    while not (folder / "go").exists():
        time.sleep(0.002)
    deadline = time.monotonic() + seconds
    mine: list[str] = []
    n = 0

    def log(record: dict[str, Any]) -> None:
        ack.write(json.dumps(record, ensure_ascii=False) + "\n")
        ack.flush()

    while time.monotonic() < deadline:
        n += 1
        r = rng.random()
        if r < 0.30 or len(mine) < 3:
            amount = f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}"
            note = f"{name}-{n}"
            if rng.random() < 0.25:  # the CLI's code path, in this process
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    code = main(
                        ["--data-dir", data_dir, "add", "expense", amount, "--category", "Load", "--note", note]
                    )
                assert code == 0, code
                tx_id = out.getvalue().strip()
            else:
                tx_id = ledger.add("expense", amount, category="Load", note=note).id
            mine.append(tx_id)
            log({"op": "add", "id": tx_id, "amount": amount, "note": note})
        elif r < 0.55:
            tx_id = rng.choice(mine)
            note = f"{name}-{n}-edited"
            ledger.update(tx_id, note=note)
            log({"op": "edit", "id": tx_id, "note": note})
        elif r < 0.70:
            tx_id = mine.pop(rng.randrange(len(mine)))
            ledger.delete(tx_id)
            log({"op": "delete", "id": tx_id})
        elif r < 0.90:
            tx_id = rng.choice(shared)
            with ledger.locked():  # read-modify-write: a lost update would lose a unit
                ledger.refresh()
                tx = ledger.get(tx_id)
                ledger.commit(puts=[dataclasses.replace(tx, amount_minor=tx.amount_minor + 1)], label="increment")
            log({"op": "increment", "id": tx_id})
        else:
            with ledger.locked():
                ledger.refresh()
                ledger.set_meta("load_counter", (ledger.meta("load_counter") or 0) + 1)
            log({"op": "count"})
    ack.close()


# -- the app's main flows, for the offline and security suites ------------------------------------------

NETWORK_AUDIT = r"""
import json, os, sys
_path = os.environ.get("ET_NETWORK_AUDIT")
_EVENTS = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname",
           "socket.gethostbyname_ex", "socket.gethostbyaddr", "socket.bind"}
if _path:
    def _hook(event, args):
        if event in _EVENTS:
            target = args[1] if event in ("socket.connect", "socket.sendto", "socket.bind") else args[0]
            if event == "socket.sendmsg":
                target = args[-1] if len(args) > 1 else None
            with open(_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"pid": os.getpid(), "event": event, "target": repr(target),
                                     "argv": " ".join(sys.argv[:6])}) + "\n")
    sys.addaudithook(_hook)
"""
"""A ``sitecustomize`` that logs every socket connect, send, bind and name lookup of a Python process."""

LOOPBACK_TARGETS = ("'127.", "('127.", "('::1'", "'::1'", "'localhost'", "('localhost'", "None")


def outbound(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audited events that aim at something other than this computer (loopback and local sockets are fine)."""
    found = []
    for event in events:
        target = event["target"]
        if target.startswith(LOOPBACK_TARGETS) or target.startswith(("'/", "b'", '"/')) or target == "''":
            continue  # loopback, a Unix socket path, or the port-0 wildcard of a loopback lookup
        found.append(event)
    return found


def _flows(data_dir: str, work: str, files: list[str]) -> None:
    """Run the app's main flows as real processes and write what happened to ``work/flows.json``.

    CLI: add, list, summary, report (PDF), import (each file given), export (CSV, XLSX), backups.
    Server: ``serve --port 0``, the page, a script it loads, the health check, a cross-origin WebSocket
    attempt (a hostile page's), then Ctrl+C.
    """
    import signal
    import subprocess
    import urllib.request

    exe = [sys.executable, "-m", "tracker.cli", "--data-dir", data_dir]
    out = Path(work)
    results: dict[str, Any] = {}

    def start(name: str, *args: str) -> tuple[str, subprocess.Popen[str]]:
        return name, subprocess.Popen([*exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(runs: list[tuple[str, subprocess.Popen[str]]]) -> None:
        for name, proc in runs:
            stdout, stderr = proc.communicate(timeout=240)
            results[name] = {"code": proc.returncode, "err": stderr[-500:], "out": stdout[-4000:]}

    finish([start("add expense", "add", "expense", "12.50", "--category", "Food", "--note", "offline ✓")])
    finish([start("add income", "add", "income", "2500", "--category", "Salary")])
    runs = [
        start("list", "list", "--format", "json"),
        start("summary", "summary", "--format", "json"),
        start("report pdf", "report", "-o", str(out / "report.pdf")),
        start("export csv", "export", "-o", str(out / "all.csv")),
        start("export xlsx", "export", "-o", str(out / "all.xlsx")),
        start("backups create", "backups", "create"),
    ]
    finish(runs)
    finish([start(f"import {Path(f).suffix}", "import", f) for f in files])

    serve = subprocess.Popen(
        [*exe, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = ""
    deadline = time.monotonic() + 90
    assert serve.stdout is not None
    while time.monotonic() < deadline and not url:
        line = serve.stdout.readline()
        if not line:
            break
        if "running at" in line:
            url = line.split("running at", 1)[1].strip()
    results["serve url"] = url
    if url:

        def get(path: str) -> tuple[int, bytes]:
            try:
                with urllib.request.urlopen(url + path, timeout=20) as resp:
                    return resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                return exc.code, b""

        status, page = get("")
        results["page"] = {"code": status, "html": b"<html" in page.lower(), "bytes": len(page)}
        import re

        scripts = re.findall(rb'src="\./(static/js/[^"]+)"', page)
        results["script"] = {"code": get(scripts[0].decode())[0] if scripts else 0}
        status, body = get("_stcore/health")
        results["health"] = {"code": status, "body": body.decode(errors="replace")}
        results["hostile websocket"] = {"status_line": websocket_handshake(url, origin="https://evil.example")}
        time.sleep(2.5)  # what the server does after such a request (e.g. look its origin up) happens now
        serve.send_signal(signal.SIGINT)
    try:
        _, err = serve.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        serve.kill()
        _, err = serve.communicate()
    results["serve"] = {"code": serve.returncode, "err": err[-800:]}
    (out / "flows.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


def websocket_handshake(url: str, origin: str | None, host: str | None = None) -> str:
    """The status line the server answers a WebSocket upgrade of ``/_stcore/stream`` with."""
    import socket
    from urllib.parse import urlparse

    where = urlparse(url)
    lines = [
        "GET /_stcore/stream HTTP/1.1",
        f"Host: {host or where.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    with socket.create_connection((where.hostname or "127.0.0.1", where.port or 80), timeout=20) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = conn.recv(4096).decode(errors="replace")
    return answer.split("\r\n", 1)[0]


if __name__ == "__main__" and sys.argv[1:2] == ["flows"]:
    _flows(sys.argv[2], sys.argv[3], sys.argv[4:])
elif __name__ == "__main__" and sys.argv[1:] == ["zygote"]:
    _zygote()
elif __name__ == "__main__" and sys.argv[1:2] == ["load-worker"]:
    _load_worker(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), json.loads(sys.argv[6]))
