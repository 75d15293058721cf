"""The measurements, their repeats and medians, the table and the JSON report.

Every size is measured on the ledger built each ``--built`` way (:mod:`benchmarks.built`: the direct
snapshot, one CSV import, many small commits); the figures of :data:`PER_WAY_GROUPS` are reported
for each, keyed ``name`` for the snapshot and ``name:import`` / ``name:commits`` (:func:`keyed`), so
the table shows them side by side; ``window`` and ``server`` run on the first way only, ``peers``
(:mod:`benchmarks.peers`) runs us on every way beside ledger-cli and hledger.

Every figure is the **median** of several samples (``--repeats K``: K samples for the slow figures,
``10 * K`` for the write operations and the dashboard computation, which take milliseconds). Each
size gets its own freshly generated data folder (see :mod:`benchmarks.generate`); the operations
that change the ledger work on a copy of it, so every read figure sees the same pristine ledger.
Figures are wall-clock times; where the work is CPU-bound, the JSON also has ``cpu_median`` (process
CPU time), which other load on the machine disturbs less. ``machine.loadavg_start``/``_end`` say how
busy the machine was.

What each figure is (the keys of the JSON report):

``import_s``            ``import tracker`` and the modules behind ``load_data`` (pandas) in a fresh interpreter.
``cold_load_s``         ``tracker.load_data(dir)`` in a fresh interpreter (after the import; warm OS file
                        cache): read + parse + check the snapshot and journal, build the DataFrame.
``frame_after_change_ms``  ``Ledger.frame()`` right after one commit (the overlay folded into the cached frame).
``add_ms``              ``Ledger.add`` on a loaded ledger: validate, lock, append one journal entry, fsync.
``first_add_of_day_ms`` the first add of a session when no backup is younger than a day: the same plus
                        the daily backup (a full snapshot written atomically).
``edit_ms``, ``delete_ms``  ``Ledger.update`` / ``Ledger.delete`` of a random existing transaction.
``backup_s``            ``Ledger.create_backup()``: a full snapshot written atomically.
``fold_commit_s``       the commit that folds the journal into a new snapshot (every 1,000 commits), plus the
                        ``frame()`` after it: write the snapshot, read it back, rebuild the frame. One sample.
``dashboard_ms``        on a loaded frame: the filter of the Dashboard page (no criteria), one calendar year as
                        the period, and ``tracker.analysis.dashboard`` (every KPI and every chart's data).
``apptest_dashboard_s`` the Dashboard page run in Streamlit's AppTest in a fresh session of a process that
                        already ran it once (a new browser tab of a running server: the shared ledger is
                        refreshed, not read again); period: the calendar year of the data's last day, as
                        a custom range. Its ``first_run_s`` is the first run of a fresh process (imports,
                        the ledger read, every chart built): what the first tab after a start costs.
``apptest_rerun_s``     a rerun of that page in the same session (what a click costs).
``stored_mb``           ``ledger.json`` + ``ledger.journal`` in MB (what a load reads; backups not counted).
``cli_list_month_s``    ``python -m tracker.cli list --format json`` for the last full month, whole process, wall time.
``cli_list_peak_rss_mb`` the same processes' peak RSS (``ru_maxrss`` from ``os.wait4``).
``cli_version_s``       ``python -m tracker.cli --version`` with an empty data folder, whole process.
``peer_<query>_s``      us, whole process, on the query of :data:`benchmarks.peers.QUERY_NAMES`; ``..._ledger_s``,
                        ``..._hledger_s``: ledger-cli / hledger on the same rows as a journal; ``..._vs_ledger``,
                        ``..._vs_hledger``: our median / theirs (skipped, with the apt line, where not installed).
``window_rendered_s``   ``python -m desktop`` spawned until its probe file says the dashboard has rendered in the
                        window (private Xvfb; see :mod:`benchmarks.window`), relaunched: the window's web cache
                        (user cache folder) holds what the launch before it left. Measured at N = 10,000 only.
``window_first_launch_s`` the same for the first launch, with an empty web cache folder.
``server_peak_rss_mb``  VmHWM of ``expense-tracker serve`` after a headless Chromium loaded the dashboard.
``browser_render_s``    the same run: from opening the page to the dashboard painted (the launcher's render
                        check, ``desktop.pages``), the first session of a freshly started server.
``rates_*``             the ECB's whole history imported, stored, read and used to convert (:mod:`benchmarks.rates`).
``sync_*``              a new device's first sync, one change sent, 1,000 applied, the save path (:mod:`benchmarks.sync`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import queue
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks import built, peers, rates, sync
from benchmarks.chromium import CHROMIUM, CHROMIUM_ARGS
from benchmarks.generate import CURRENCY, DEFAULT_SEED, END, START, generate

resource: types.ModuleType | None
try:
    import resource
except ImportError:  # Windows
    resource = None

ROOT = Path(__file__).resolve().parents[1]
PLOTS_JS = "() => document.querySelectorAll('.js-plotly-plot .main-svg').length"
"""How many Plotly charts have drawn their SVG."""
DASHBOARD_PLOTS = 4

_LAST_MONTH_END = END.replace(day=1) - dt.timedelta(days=1)
MONTH = (_LAST_MONTH_END.replace(day=1), _LAST_MONTH_END)
"""The month the CLI lists: the last full month of the generated decade."""
YEAR = (dt.date(END.year, 1, 1), dt.date(END.year, 12, 31))
"""The dashboard's period: the calendar year of the generated data's last day ("This year")."""

APPTEST_PERIOD = f"{YEAR[0].isoformat()}..{YEAR[1].isoformat()}"
"""The Dashboard page in AppTest shows this custom period, as ``dashboard_ms`` (the app opens on "This month")."""

DEFAULT_SIZES = (1_000, 10_000, 100_000)
WINDOW_SIZE = 10_000
"""The window figure is measured at this size only (the target is stated for it)."""

TARGETS: dict[str, tuple[float, int]] = {
    "cold_load_s": (0.3, 100_000),
    "add_ms": (10.0, 100_000),
    "dashboard_ms": (50.0, 100_000),
    "transfer_ms": (10.0, 100_000),
    "balances_ms": (50.0, 100_000),
    "apptest_dashboard_s": (0.3, 100_000),
    "cli_list_month_s": (1.5, 100_000),
    "cli_list_peak_rss_mb": (250.0, 100_000),
    "stored_mb": (12.0, 100_000),
    "window_rendered_s": (4.0, WINDOW_SIZE),
    "server_peak_rss_mb": (300.0, 100_000),
    "cli_version_s": (0.15, 100_000),
    "rates_import_s": (2.0, 100_000),
    "sync_first_publish_s": (10.0, 100_000),
    "sync_first_apply_s": (10.0, 100_000),
    "sync_send_one_ms": (50.0, 100_000),
    "sync_apply_1000_s": (1.0, 100_000),
    "sync_add_ms": (10.0, 100_000),
    "peer_totals_all_vs_ledger": (0.5, 100_000),
    "peer_register_month_vs_ledger": (0.5, 100_000),
    "peer_totals_month_vs_ledger": (0.5, 100_000),
}
"""Upper bounds from issue 14 (else issue 8): figure -> (limit, the size it applies to); checked for every built way."""
ADD_GROWTH_LIMIT = 2.0
"""``add_ms`` at 100,000 must stay within this factor of ``add_ms`` at 1,000."""

MEASURES = (
    "import_s",
    "cold_load_s",
    "stored_mb",
    "frame_after_change_ms",
    "add_ms",
    "transfer_ms",
    "first_add_of_day_ms",
    "edit_ms",
    "delete_ms",
    "backup_s",
    "fold_commit_s",
    "dashboard_ms",
    "balances_ms",
    "net_worth_series_ms",
    "apptest_dashboard_s",
    "apptest_rerun_s",
    "cli_list_month_s",
    "cli_list_peak_rss_mb",
    "cli_version_s",
    "window_rendered_s",
    "window_first_launch_s",
    "server_peak_rss_mb",
    "browser_render_s",
    *peers.figure_names(),
    *rates.FIGURES,
    *sync.FIGURES,
)
GROUPS = ("load", "writes", "fold", "dashboard", "apptest", "cli", "window", "server", "peers", "rates", "sync")
"""What ``--skip`` / ``--only`` take: each group measures some of :data:`MEASURES`."""
PER_WAY_GROUPS = ("load", "writes", "fold", "dashboard", "apptest", "cli")
"""Measured on the ledger of every ``--built`` way; the others on the first way only (``peers``: all in one run)."""


def keyed(name: str, way: str) -> str:
    """A figure's key in the report: the bare name for the ``snapshot`` way, ``name:way`` for the others."""
    return name if way == "snapshot" else f"{name}:{way}"


# -- results ----------------------------------------------------------------------------------------


def figure(samples: list[float], unit: str, **info: Any) -> dict[str, Any]:
    """A measured figure: median, min, max and every sample."""
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": samples,
        "unit": unit,
        **info,
    }


def not_measured(status: str, reason: str) -> dict[str, Any]:
    """A figure that was not measured: ``status`` is ``skipped``, ``unavailable`` or ``error``."""
    return {"status": status, "reason": reason}


@dataclasses.dataclass
class Context:
    """One size: its data folder and how many repeats to take."""

    n: int
    data_dir: Path
    work: Path
    repeats: int
    seed: int = DEFAULT_SEED
    log: Callable[[str], None] = print
    window_size: int = WINDOW_SIZE
    folders: dict[str, Path] = dataclasses.field(default_factory=dict)
    """Every built way's data folder (the ``peers`` group runs us on each)."""

    @property
    def fast_repeats(self) -> int:
        """Samples of the millisecond-scale figures."""
        return max(10 * self.repeats, 3)


def _python() -> str:
    return sys.executable


def _env(data_dir: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if data_dir is not None:
        env["EXPENSE_TRACKER_DATA_DIR"] = str(data_dir)
    return env


def _probe(kind: str, data_dir: Path, *args: str, timeout: float = 600) -> dict[str, Any]:
    proc = subprocess.run(
        [_python(), "-m", "benchmarks.probe", kind, str(data_dir), *args],
        capture_output=True,
        text=True,
        env=_env(data_dir),
        cwd=ROOT,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"probe {kind} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _copy(ctx: Context, name: str) -> Path:
    target = ctx.work / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(ctx.data_dir, target)
    if hasattr(os, "sync"):  # no pending writeback of the copy may slow down the fsyncs being measured
        os.sync()
    return target


# -- the measurements -------------------------------------------------------------------------------


def measure_load(ctx: Context) -> dict[str, dict[str, Any]]:
    """Cold ``load_data`` in fresh interpreters."""
    imports, loads, cpu = [], [], []
    for _ in range(ctx.repeats):
        result = _probe("load", ctx.data_dir)
        if result["rows"] != ctx.n:
            raise RuntimeError(f"load_data returned {result['rows']} rows, expected {ctx.n}")
        imports.append(result["import_s"])
        loads.append(result["load_s"])
        cpu.append(result["load_cpu_s"])
    paths = [ctx.data_dir / name for name in ("ledger.json", "ledger.journal")]
    present = {path.name: path.stat().st_size for path in paths if path.exists()}
    return {
        "stored_mb": figure([sum(present.values()) / 1e6], "MB", files=present, where="ledger.json + ledger.journal"),
        "import_s": figure(imports, "s", where="fresh process"),
        "cold_load_s": figure(loads, "s", cpu_median=statistics.median(cpu), where="fresh process, warm OS file cache"),
    }


def measure_writes(ctx: Context) -> dict[str, dict[str, Any]]:
    """Durable add, edit, delete (and the frame rebuilt after a change) on a loaded ledger."""
    from tracker.ledger import Ledger

    folder = _copy(ctx, "writes")
    led = Ledger(folder)
    led.frame()
    rng = random.Random(ctx.seed + 1)
    ids = list(led.frame()["id"])
    k = ctx.fast_repeats

    def add() -> None:
        led.add("expense", f"{rng.randrange(100, 99999) / 100:.2f}", category="Groceries", date="2026-11-15")

    t0 = time.perf_counter()
    add()  # no backup yet in this folder: the first commit of the day writes one
    first = (time.perf_counter() - t0) * 1000
    adds, frames, add_cpu = [], [], []
    for _ in range(k):
        t0, c0 = time.perf_counter(), time.process_time()
        add()
        adds.append((time.perf_counter() - t0) * 1000)
        add_cpu.append((time.process_time() - c0) * 1000)
        t0 = time.perf_counter()
        led.frame()
        frames.append((time.perf_counter() - t0) * 1000)
    from tracker.accounts import add_transfer

    transfers = []
    for _ in range(k):
        t0 = time.perf_counter()
        add_transfer(
            led, f"{rng.randrange(100, 99999) / 100:.2f}", source="Checking", target="Savings", date="2026-11-15"
        )
        transfers.append((time.perf_counter() - t0) * 1000)
    shown = led.frame()
    plain = set(shown[(shown["type"] != "transfer") & (shown["splits"].map(len) == 0)]["id"])  # a new amount fits
    chosen = rng.sample([i for i in ids if i in plain], min(len(plain), 2 * k))
    edits, deletes = [], []
    for tx_id in chosen[:k]:
        t0 = time.perf_counter()
        led.update(tx_id, amount=f"{rng.randrange(100, 99999) / 100:.2f}", note="edited by the benchmark")
        edits.append((time.perf_counter() - t0) * 1000)
    for tx_id in chosen[k:]:
        t0 = time.perf_counter()
        led.delete(tx_id)
        deletes.append((time.perf_counter() - t0) * 1000)
    backups = []
    for _ in range(ctx.repeats):
        t0 = time.perf_counter()
        led.create_backup("benchmark")
        backups.append(time.perf_counter() - t0)
    journal = folder / "ledger.journal"
    return {
        "frame_after_change_ms": figure(frames, "ms"),
        "add_ms": figure(adds, "ms", cpu_median=statistics.median(add_cpu), journal_bytes=journal.stat().st_size),
        "first_add_of_day_ms": figure([first], "ms", where="one sample: the first commit of a fresh folder"),
        "transfer_ms": figure(transfers, "ms", where="add_transfer: both sides in one durable commit"),
        "edit_ms": figure(edits, "ms"),
        "delete_ms": figure(deletes, "ms"),
        "backup_s": figure(backups, "s"),
    }


def measure_fold(ctx: Context) -> dict[str, dict[str, Any]]:
    """The commit that folds the journal into a new snapshot (every ``COMPACT_AFTER_ENTRIES`` commits).

    The commits before it are made untimed (the first one writes the daily backup, so the fold does
    not); the folding one is timed together with the ``frame()`` after it (the ledger is read back
    and the frame rebuilt). One sample.
    """
    from tracker.ledger import Ledger
    from tracker.storage import engine as ledger_module

    led = Ledger(_copy(ctx, "fold"))
    led.frame()
    journal = led.location / "ledger.journal"
    for i in range(ledger_module.COMPACT_AFTER_ENTRIES - 1):
        led.add("expense", f"{1 + i % 500}.25", category="Coffee", date="2026-11-20")
    if journal.read_bytes().count(b"\n") != ledger_module.COMPACT_AFTER_ENTRIES - 1:
        raise RuntimeError("the journal was folded before COMPACT_AFTER_ENTRIES commits")
    t0 = time.perf_counter()
    led.add("expense", "3.50", category="Coffee", date="2026-11-20")
    led.frame()
    seconds = time.perf_counter() - t0
    if journal.stat().st_size:
        raise RuntimeError("the journal was not folded after COMPACT_AFTER_ENTRIES commits")
    return {"fold_commit_s": figure([seconds], "s", where="one sample: the folding add plus the frame() after it")}


def dashboard_computation(frame: Any, currency: str = CURRENCY, rates: Any = None) -> Any:
    """What the Dashboard page computes from the ledger's lines (``Ledger.lines()``) for one calendar year.

    The page filters by the sidebar's criteria except the dates (none here), then hands the frame, the
    period and the ledger's rates to ``tracker.analysis.dashboard`` (every row converted into the reporting
    currency); the filtered rows of the year are also counted.
    """
    from tracker.analysis import Period, dashboard
    from tracker.filters import Filter, apply_filter

    undated = apply_filter(frame, Filter())
    period = Period(*YEAR)
    shown = apply_filter(frame, Filter(start=period.start, end=period.end))
    result = dashboard(undated, period, currency, as_of=END, rates=rates)
    return result, len(shown)


def measure_dashboard(ctx: Context) -> dict[str, dict[str, Any]]:
    """The dashboard computation on a loaded frame."""
    try:
        import tracker.analysis  # noqa: F401
    except ImportError as exc:
        return {"dashboard_ms": not_measured("unavailable", f"tracker.analysis cannot be imported: {exc}")}
    from tracker.conversion import rate_book
    from tracker.ledger import Ledger

    source = Ledger(ctx.data_dir)
    t0 = time.perf_counter()
    frame = source.lines()
    lines_ms = (time.perf_counter() - t0) * 1000
    rates = rate_book(source)
    result, rows = dashboard_computation(frame, rates=rates)  # warm-up (first calls import numpy paths, build caches)
    samples, cpu = [], []
    for _ in range(ctx.fast_repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        dashboard_computation(frame, rates=rates)
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    from tracker.accounts import balances, month_ends, net_worth, net_worth_over_time

    ledger = Ledger(ctx.data_dir)
    worth = net_worth(balances(ledger))  # warm-up
    sums, series = [], []
    days = month_ends(START, END)
    for _ in range(ctx.fast_repeats):
        t0 = time.perf_counter()
        net_worth(balances(ledger))
        sums.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        net_worth_over_time(ledger, days)
        series.append((time.perf_counter() - t0) * 1000)
    return {
        "dashboard_ms": figure(
            samples,
            "ms",
            cpu_median=statistics.median(cpu),
            rows_in_period=rows,
            empty=bool(result.empty),
            converted_into=CURRENCY,
            left_out=result.left_out.to_json(),
            lines_frame_ms=round(lines_ms, 1),
        ),
        "balances_ms": figure(
            sums, "ms", accounts=len(balances(ledger)), currencies=len(worth), where="every balance and the net worth"
        ),
        "net_worth_series_ms": figure(series, "ms", points=len(days), where="net worth at every month end"),
    }


def measure_apptest(ctx: Context) -> dict[str, dict[str, Any]]:
    """The Dashboard page in AppTest (in a fresh process, so Streamlit state cannot leak)."""
    page = ROOT / "tracker" / "ui" / "app_pages" / "dashboard.py"
    if not page.exists():
        reason = f"{page.relative_to(ROOT)} does not exist yet"
        return {k: not_measured("unavailable", reason) for k in ("apptest_dashboard_s", "apptest_rerun_s")}
    result = _probe("apptest", _copy(ctx, "apptest"), str(ctx.repeats), APPTEST_PERIOD)
    if result["problems"]:
        reason = "the page showed errors: " + " | ".join(result["problems"])[:1000]
        return {k: not_measured("error", reason) for k in ("apptest_dashboard_s", "apptest_rerun_s")}
    info = {
        "first_run_s": result["first_s"],
        "component_scan_s": result.get("component_scan_s"),
        "after_a_change_s": result.get("changed_session_s"),
        "titles": result["titles"],
        "view": result["view"],
        "metrics": result["metrics"],
    }
    return {
        "apptest_dashboard_s": figure(
            result["session_s"],
            "s",
            cpu_median=statistics.median(result["session_cpu_s"]),
            where=(
                "fresh AppTest session in a process that already ran the page (shared ledger, warm caches, "
                "component registry reused as a server does); first_run_s: the first run of a fresh process"
            ),
            **info,
        ),
        "apptest_rerun_s": figure(result["rerun_s"], "s", where="rerun of one session"),
    }


_LAUNCHER = r"""
import json, os, subprocess, sys, time
t0 = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as out:
    json.dump({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss,
               "status": os.waitstatus_to_exitcode(status)}, out)
"""
"""Starts the measured process from a small process of its own and reports its wall time and rusage: the peak RSS
Linux reports for a child includes what its parent held when it forked (the benchmark holds a loaded ledger)."""


def _measured_child(argv: list[str], timeout: float = 600) -> tuple[int, bytes, bytes, dict[str, Any]]:
    """Run ``argv`` to its end through :data:`_LAUNCHER`: (exit status, stdout, stderr, its wall time, CPU time
    and peak RSS as the launcher measured them)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "usage.json"
        status, out, err, _ = _run_child([_python(), "-c", _LAUNCHER, str(report), *argv], timeout)
        usage = json.loads(report.read_text()) if report.exists() else {}
    return usage.get("status", status), out, err, usage


def _run_child(argv: list[str], timeout: float = 600) -> tuple[int, bytes, bytes, Any]:
    """Run a process to its end: (exit status, stdout, stderr, its own rusage, None where ``os.wait4`` is missing)."""
    if not hasattr(os, "wait4"):
        proc = subprocess.run(argv, capture_output=True, env=_env(), cwd=ROOT, timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr, None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(argv, stdout=out, stderr=err, env=_env(), cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return child.returncode, out.read(), err.read(), usage


def measure_cli(ctx: Context) -> dict[str, dict[str, Any]]:
    """``list --format json`` for one month as a whole process (wall time from spawn to exit)."""
    argv = ["list", "--format", "json", "--from", MONTH[0].isoformat(), "--to", MONTH[1].isoformat()]
    samples, cpu, peaks, rows = [], [], [], -1
    for _ in range(ctx.repeats):
        status, stdout, stderr, usage = _measured_child(
            [_python(), "-m", "tracker.cli", "--data-dir", str(ctx.data_dir), *argv]
        )
        samples.append(usage["wall_s"])
        cpu.append(usage["cpu_s"])
        peaks.append(usage["maxrss_kb"] / 1024)
        if status != 0:
            raise RuntimeError(f"the CLI failed ({status}): {stderr.decode()[-1000:]}")
        rows = len(json.loads(stdout))
    modules = _probe("cli-modules", ctx.data_dir, *argv)
    rss = {"cli_list_peak_rss_mb": figure(peaks, "MB", where="ru_maxrss of the list process, started by a small one")}
    versions = []
    for _ in range(ctx.repeats):
        status, _, stderr, usage = _measured_child(
            [_python(), "-m", "tracker.cli", "--data-dir", str(ctx.work / "empty"), "--version"]
        )
        versions.append(usage["wall_s"])
        if status != 0:
            raise RuntimeError(f"--version failed ({status}): {stderr.decode()[-1000:]}")
    return {
        "cli_version_s": figure(versions, "s", where="whole process, an empty data folder"),
        **rss,
        "cli_list_month_s": figure(
            samples,
            "s",
            cpu_median=statistics.median(cpu),
            rows=rows,
            heavy_modules_imported=modules["heavy_modules"],
            modules=modules["module_count"],
        ),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lines(stream: Any) -> queue.Queue[str | None]:
    """Read a child's output on a thread (so waiting for a line can time out)."""
    out: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            out.put(line)
        out.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return out


def _wait_for(lines: queue.Queue[str | None], pattern: str, timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise RuntimeError(f"no line matching {pattern!r} within {timeout:.0f} s; output: {''.join(seen)[-1500:]}")


def _status_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    if not match:
        raise RuntimeError(f"{field} not in /proc/{pid}/status")
    return int(match.group(1))


@dataclasses.dataclass
class _Child:
    proc: subprocess.Popen[str]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


@contextlib.contextmanager
def _serve(data_dir: Path) -> Iterator[tuple[_Child, str]]:
    port = _free_port()
    proc = subprocess.Popen(
        [_python(), "-m", "tracker.cli", "--data-dir", str(data_dir), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(data_dir),
        cwd=ROOT,
    )
    child = _Child(proc)
    try:
        url = _wait_for(_lines(proc.stdout), r"running at (\S+)", timeout=120).group(1)
        yield child, url
    finally:
        child.stop()


def _wait_rendered(page: Any, timeout: float) -> dict[str, Any]:
    """Poll the page with the launcher's own render check (``desktop.pages``) until the dashboard is painted."""
    from desktop.pages import RENDER_STATE_JS, is_rendered

    deadline = time.monotonic() + timeout
    state: Any = None
    while time.monotonic() < deadline:
        state = page.evaluate(RENDER_STATE_JS)
        if is_rendered(state):
            return dict(state)
        time.sleep(0.05)
    raise RuntimeError(f"the dashboard did not render within {timeout:.0f} s (last state: {str(state)[:300]})")


def measure_server(ctx: Context) -> dict[str, dict[str, Any]]:
    """Peak RSS of ``expense-tracker serve`` after a real browser rendered the dashboard."""
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is not installed"
        return {k: not_measured("unavailable", reason) for k in ("server_peak_rss_mb", "browser_render_s")}
    from playwright.sync_api import sync_playwright

    peaks, renders, current, plots = [], [], [], []
    for _ in range(max(1, min(ctx.repeats, 2))):
        with _serve(_copy(ctx, "server")) as (child, url):
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    t0 = time.perf_counter()
                    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
                    state = _wait_rendered(page, timeout=120)
                    renders.append(time.perf_counter() - t0)
                    with contextlib.suppress(Exception):  # the charts draw last; wait for them before measuring
                        page.wait_for_function(f"() => ({PLOTS_JS})() >= {DASHBOARD_PLOTS}", timeout=30_000)
                    shot = ctx.work / f"server-dashboard-{ctx.n}.png"
                    page.screenshot(path=str(shot), full_page=False)
                    if state.get("exceptions"):
                        raise RuntimeError(f"the dashboard shows {state['exceptions']} exception(s); see {shot}")
                    plots.append(int(page.evaluate(PLOTS_JS)))
                finally:
                    browser.close()
            peaks.append(_status_kb(child.proc.pid, "VmHWM") / 1024)
            current.append(_status_kb(child.proc.pid, "VmRSS") / 1024)
    return {
        "server_peak_rss_mb": figure(peaks, "MB", vm_rss_after_mb=current, where="VmHWM of the serve process"),
        "browser_render_s": figure(
            renders, "s", where="page.goto to the dashboard rendered (desktop.pages render check)", charts=plots
        ),
    }


def measure_window(ctx: Context) -> dict[str, dict[str, Any]]:
    """The launcher's start until the dashboard has rendered in the window (under Xvfb)."""
    from benchmarks import window

    return window.measure(ctx)


def measure_peers(ctx: Context) -> dict[str, dict[str, Any]]:
    """The same rows as a ledger journal: us (each built way) vs ledger-cli vs hledger, whole processes."""
    journal = peers.write_journal(ctx.work / "peers.journal", generate(ctx.n, ctx.seed))
    folders = ctx.folders or {"snapshot": ctx.data_dir}
    return peers.measure(folders, journal, MONTH, ctx.repeats, _env(), ROOT, keyed)


MEASURE_GROUPS: dict[str, Callable[[Context], dict[str, dict[str, Any]]]] = {
    "load": measure_load,
    "writes": measure_writes,
    "fold": measure_fold,
    "dashboard": measure_dashboard,
    "apptest": measure_apptest,
    "cli": measure_cli,
    "window": measure_window,
    "server": measure_server,
    "peers": measure_peers,
    "rates": rates.measure,
    "sync": sync.measure,
}
GROUP_FIGURES = {
    "load": ("import_s", "cold_load_s", "stored_mb"),
    "writes": (
        "frame_after_change_ms",
        "add_ms",
        "transfer_ms",
        "first_add_of_day_ms",
        "edit_ms",
        "delete_ms",
        "backup_s",
    ),
    "fold": ("fold_commit_s",),
    "dashboard": ("dashboard_ms", "balances_ms", "net_worth_series_ms"),
    "apptest": ("apptest_dashboard_s", "apptest_rerun_s"),
    "cli": ("cli_list_month_s", "cli_list_peak_rss_mb", "cli_version_s"),
    "window": ("window_rendered_s", "window_first_launch_s"),
    "server": ("server_peak_rss_mb", "browser_render_s"),
    "peers": peers.figure_names(),
    "rates": rates.FIGURES,
    "sync": sync.FIGURES,
}


def run_size(
    ctx: Context, groups: tuple[str, ...], way: str = "snapshot", part: tuple[str, ...] = GROUPS
) -> dict[str, dict[str, Any]]:
    """The selected measurements of ``part`` at one size on the ledger built ``way`` (keys: :func:`keyed`).

    A failing measurement is recorded, not fatal. The ``peers`` group keys its own figures.
    """
    results: dict[str, dict[str, Any]] = {}
    for group in part:
        rename = (lambda name: name) if group == "peers" else (lambda name: keyed(name, way))
        names = [rename(name) for name in GROUP_FIGURES[group]]
        if group not in groups:
            results.update({name: not_measured("skipped", "not selected") for name in names})
            continue
        if group == "window" and ctx.n != ctx.window_size:
            reason = f"measured at N = {ctx.window_size:,} only"
            results.update({name: not_measured("skipped", reason) for name in names})
            continue
        ctx.log(f"  N={ctx.n:,} {way}: {group} ...")
        t0 = time.perf_counter()
        try:
            results.update({rename(name): value for name, value in MEASURE_GROUPS[group](ctx).items()})
        except Exception as exc:  # a broken measurement must not hide the others
            reason = f"{type(exc).__name__}: {exc}"[:2000]
            results.update({name: not_measured("error", reason) for name in names})
        ctx.log(f"  N={ctx.n:,} {way}: {group} done in {time.perf_counter() - t0:.1f} s")
    return results


# -- the machine and the report ---------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    with_info = Path("/proc/cpuinfo")
    if with_info.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", with_info.read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    mem = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"^MemTotal:\s+(\d+) kB", meminfo.read_text(), re.MULTILINE)
        mem = round(int(match.group(1)) / 1024 / 1024, 1) if match else None
    import pandas

    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "memory_gb": mem,
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "platform": platform.platform(),
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def display(name: str, result: dict[str, Any]) -> str:
    """One table cell."""
    if "median" not in result:
        return result.get("status", "?")
    value = result["median"]
    unit = result["unit"]
    if unit == "MB":
        return f"{value:,.1f} MB" if value < 100 else f"{value:,.0f} MB"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def verdicts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target: the figure at the size it applies to, the limit, and whether it is met."""
    out: dict[str, dict[str, Any]] = {}
    sizes = report["results"]
    for base, (limit, n) in TARGETS.items():
        for name in [keyed(base, way) for way in report.get("built", ["snapshot"])]:
            result = sizes.get(str(n), {}).get(name)
            if result is None or "median" not in result:
                status = "not measured" if result is None else result["status"]
                out[name] = {"limit": limit, "size": n, "value": None, "met": None, "status": status}
            else:
                out[name] = {"limit": limit, "size": n, "value": result["median"], "met": result["median"] <= limit}
    small, big = sizes.get("1000", {}).get("add_ms"), sizes.get("100000", {}).get("add_ms")
    if small and big and "median" in small and "median" in big:
        ratio = big["median"] / small["median"]
        out["add_ms_growth"] = {
            "limit": ADD_GROWTH_LIMIT,
            "size": 100_000,
            "value": ratio,
            "met": ratio <= ADD_GROWTH_LIMIT,
        }
    return out


def table(report: dict[str, Any]) -> str:
    """The report as a plain text table: one row per figure, one column per size, then the target."""
    sizes = [int(n) for n in report["results"]]
    checks = report["targets"]
    header = ["figure", *[f"N={n:,}" for n in sizes], "target", "status"]
    rows = []
    ways = report.get("built", ["snapshot"])
    for name in [keyed(base, way) for base in MEASURES for way in dict.fromkeys(["snapshot", *ways])]:
        cells = [display(name, report["results"][str(n)].get(name, {"status": "-"})) for n in sizes]
        if all(c in ("skipped", "-") for c in cells):
            continue
        target, mark = "", ""
        if name in checks:
            check = checks[name]
            unit = "x" if "_vs_" in name else name.split(":")[0].rsplit("_", 1)[1]
            at = "" if check["size"] == 100_000 else f" at {check['size']:,}"
            target = f"<= {check['limit']:g}{'' if unit == 'x' else ' '}{unit.replace('mb', 'MB')}{at}"
            mark = {True: "ok", False: "MISSED", None: check.get("status", "")}[check["met"]]
        rows.append([name, *cells, target, mark])
    if "add_ms_growth" in checks:
        check = checks["add_ms_growth"]
        blank = [""] * len(sizes)
        blank[-1] = f"{check['value']:.2f}x"
        rows.append(["add_ms 100k / 1k", *blank, f"<= {check['limit']:g}x", "ok" if check["met"] else "MISSED"])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(h, widths, strict=True))
        ).rstrip()
        for h in [header]
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    """The table of :func:`table` as Markdown (for the README)."""
    lines = table(report).splitlines()
    header, rows = lines[0], lines[2:]
    widths = [len(part) for part in lines[1].split("  ")]

    def cells(line: str) -> list[str]:
        out, at = [], 0
        for w in widths:
            out.append(line[at : at + w].strip())
            at += w + 2
        return out

    head = cells(header.ljust(sum(widths) + 2 * len(widths)))
    body = [cells(row.ljust(sum(widths) + 2 * len(widths))) for row in rows]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(["---", *["---:"] * (len(head) - 1)]) + "|"]
    out += [
        "| " + " | ".join(f"`{c}`" if i == 0 and c and " " not in c else c for i, c in enumerate(r)) + " |"
        for r in body
    ]
    return "\n".join(out)


def run(
    sizes: list[int],
    repeats: int,
    groups: tuple[str, ...] = GROUPS,
    seed: int = DEFAULT_SEED,
    workdir: Path | None = None,
    keep: bool = False,
    log: Callable[[str], None] = print,
    window_size: int = WINDOW_SIZE,
    ways: tuple[str, ...] = built.WAYS,
) -> dict[str, Any]:
    """Build a ledger per size and way, take every selected measurement, return the report (a JSON-able dict).

    The built ledgers are cached under ``workdir`` (see :mod:`benchmarks.built`) and reused by a later run
    with the same ``workdir``; without one they go into the temporary folder and are removed.
    """
    report: dict[str, Any] = {
        "benchmark": "expense-tracker",
        "version": 1,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "-m", "benchmarks", *sys.argv[1:]]),
        "seed": seed,
        "repeats": repeats,
        "machine": machine(),
        "built": list(ways),
        "data": {},
        "results": {},
    }
    base = Path(tempfile.mkdtemp(prefix="et-bench-", dir=workdir))
    own_logs = "EXPENSE_TRACKER_LOG_DIR" not in os.environ
    if own_logs:  # the servers and launchers started here must not write into the user's log folder
        os.environ["EXPENSE_TRACKER_LOG_DIR"] = str(base / "logs")
    try:
        for n in sizes:
            folder = base / f"n{n}"
            folder.mkdir(parents=True)
            data: dict[str, Any] = {"built": {}}
            folders: dict[str, Path] = {}
            for way in ways:
                log(f"N={n:,}: building the ledger: {way} ...")
                folders[way], info = built.build(way, n, workdir or base, seed)
                data["built"][way] = info
                how = "cached" if info["cached"] else f"built in {info['build_s']:.1f} s"
                log(f"N={n:,}: {way}: {how}")
            if "snapshot" in folders:
                data["generate_s"] = data["built"]["snapshot"]["build_s"]
                data["snapshot_bytes"] = (folders["snapshot"] / "ledger.json").stat().st_size
            report["data"][str(n)] = data
            results: dict[str, dict[str, Any]] = {}
            for i, way in enumerate(ways):
                ctx = Context(
                    n=n,
                    data_dir=folders[way],
                    work=folder / way,
                    repeats=repeats,
                    seed=seed,
                    log=log,
                    window_size=window_size,
                    folders=folders,
                )
                ctx.work.mkdir()
                part = PER_WAY_GROUPS if i else GROUPS
                results.update(run_size(ctx, groups, way, part))
            report["results"][str(n)] = results
    finally:
        if own_logs:
            os.environ.pop("EXPENSE_TRACKER_LOG_DIR", None)
        if keep:
            log(f"data kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    report["machine"]["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    report["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    report["targets"] = verdicts(report)
    return report
