"""Measurements that must run in a fresh process: ``python -m benchmarks.probe KIND DATA_DIR [...]``.

Each prints one JSON object on its last line of stdout. The runner starts these, so that "cold"
means a new interpreter that has never read the ledger (the OS file cache is warm, though).

Kinds:

* ``load DIR``: ``import tracker`` then ``tracker.load_data(DIR)``; reports both times.
* ``apptest DIR REPEATS [START..END]``: the Dashboard page through Streamlit's AppTest: a first run (imports,
  the ledger read, everything computed), then ``REPEATS`` fresh sessions (as a new browser tab of a running
  server: the process's shared ledger and caches are warm, the session's own state is empty) and ``REPEATS``
  reruns of one session, with the sidebar's period set to the custom range ``START..END``.
* ``cli-modules DIR``: runs ``expense-tracker list --format json`` in this process and reports which
  heavy modules it imported.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HEAVY_MODULES = (
    "plotly",
    "matplotlib",
    "streamlit",
    "openpyxl",
    "ofxtools",
    "quiffen",
    "webview",
    "PyQt6",
    "pypdf",
    "tracker.analysis",
    "tracker.importers",
)
"""Modules the command line should not pay for when it only lists transactions."""

APP_SCRIPT = Path(__file__).resolve().parents[1] / "tracker" / "ui" / "app.py"


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def probe_load(data_dir: str) -> dict[str, Any]:
    """Import the package and what ``load_data`` needs, then load the whole ledger into a DataFrame.

    ``import tracker`` alone is lazy (it imports pandas on first use of the data API), so the modules
    behind ``load_data`` and ``filter_data`` are imported here, in the import figure, not in the load.
    """
    t0 = time.perf_counter()
    import tracker
    import tracker.filters
    import tracker.ledger  # imported for its cost: load_data uses it

    t1, c1 = time.perf_counter(), time.process_time()
    frame = tracker.load_data(data_dir)
    t2, c2 = time.perf_counter(), time.process_time()
    return {"import_s": t1 - t0, "load_s": t2 - t1, "load_cpu_s": c2 - c1, "rows": len(frame)}


def _apptest(timeout: float, period: str | None, like: Any = None) -> Any:
    """A new AppTest of the app; ``like``: an AppTest whose component registry it reuses.

    A new AppTest scans every installed distribution for Streamlit components (about 0.4 s here) the
    first time it runs. A server does that once at start, not per browser tab, so the fresh sessions
    reuse the first AppTest's registry; the scan is timed on its own (``component_scan_s``).
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=timeout)
    if like is not None and getattr(like, "_bidi_component_manager", None) is not None:
        at._bidi_component_manager = like._bidi_component_manager
    if period:  # the sidebar's period, as if chosen before: a custom range START..END
        start, end = (dt.date.fromisoformat(day) for day in period.split(".."))
        at.session_state["dash_period"] = "Custom range"
        at.session_state["dash_date_range"] = (start, end)
    return at


def _problems(at: Any) -> list[str]:
    """Exceptions and error boxes a run left on the page (a benchmark of a broken page is no benchmark)."""
    found = [str(e.value)[:300] for e in at.exception]
    found += [str(e.value)[:300] for e in at.error]
    return found


def probe_apptest(data_dir: str, repeats: int, period: str | None = None, timeout: float = 120.0) -> dict[str, Any]:
    """Time the Dashboard page (the router's default page) in AppTest.

    ``first_s`` is the first run in this fresh process: importing Streamlit, plotly and the pages, the
    component scan, reading the ledger and building its frame, computing and building every chart.
    ``session_s`` are fresh sessions of the same process, as a new browser tab of a running server:
    the process's shared ``Ledger`` is refreshed (not read again), the figures of an unchanged ledger
    are reused, the session state starts empty. ``rerun_s`` are reruns of one session (what every
    click costs). ``changed_session_s`` are fresh sessions right after another ``Ledger`` committed an
    expense in the period: the frame, the numbers and the charts are made anew. ``component_scan_s`` is what each fresh session would add if it scanned the installed
    components again, as a new AppTest (not a server) does. ``period`` (``START..END``) is the sidebar's
    period (default: the page's own default, "This month").
    """
    os.environ["EXPENSE_TRACKER_DATA_DIR"] = data_dir
    t0 = time.perf_counter()
    at = _apptest(timeout, period)
    at.run()
    first = time.perf_counter() - t0
    problems = _problems(at)
    titles = [t.value for t in at.title]
    view = at.caption[0].value if len(at.caption) else None
    sessions, reruns, cpu = [], [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fresh = _apptest(timeout, period, like=at)
        fresh.run()
        sessions.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        problems += _problems(fresh)
    for _ in range(repeats):
        t0 = time.perf_counter()
        at.run()
        reruns.append(time.perf_counter() - t0)
    changed = []
    for i in range(repeats):  # another process commits, then a new tab opens: frame, numbers and charts anew
        from tracker.ledger import Ledger

        day = dt.date.fromisoformat(period.split("..")[0]) if period else dt.date.today()
        Ledger(data_dir).add_expense(f"{i + 1}.00", category="Benchmark", date=day)
        t0 = time.perf_counter()
        fresh = _apptest(timeout, period, like=at)
        fresh.run()
        changed.append(time.perf_counter() - t0)
        problems += _problems(fresh)
    from streamlit.components.v2.component_manager import BidiComponentManager

    t0 = time.perf_counter()
    BidiComponentManager().discover_and_register_components(start_file_watching=False)
    scan = time.perf_counter() - t0
    return {
        "first_s": first,
        "component_scan_s": scan,
        "session_s": sessions,
        "changed_session_s": changed,
        "session_cpu_s": cpu,
        "rerun_s": reruns,
        "titles": titles,
        "view": view,
        "metrics": len(at.metric),
        "problems": problems,
    }


def probe_cli_modules(data_dir: str, argv: list[str]) -> dict[str, Any]:
    """Run the ``list`` subcommand in-process and report the heavy modules it imported."""
    from tracker.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["--data-dir", data_dir, *argv])
    loaded = sorted(name for name in sys.modules if any(name == m or name.startswith(m + ".") for m in HEAVY_MODULES))
    tops = sorted({name.split(".")[0] if not name.startswith("tracker.") else name for name in loaded})
    return {"status": status, "heavy_modules": tops, "module_count": len(sys.modules)}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    kind, data_dir, rest = args[0], args[1], args[2:]
    if kind == "load":
        _emit(probe_load(data_dir))
    elif kind == "apptest":
        _emit(probe_apptest(data_dir, int(rest[0]) if rest else 1, rest[1] if len(rest) > 1 else None))
    elif kind == "cli-modules":
        _emit(probe_cli_modules(data_dir, rest))
    else:
        raise SystemExit(f"unknown probe {kind!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
