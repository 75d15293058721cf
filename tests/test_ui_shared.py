"""One Ledger per data folder shared by every session of a server process, and what is cached across sessions.

Each AppTest below is a separate Streamlit session in this one process, as two browser tabs of one
server are. They must share the ledger (read once), each see every commit (from another process, or
from the other session), keep their own filters, and never be shown a cached value older than the
data it claims to show.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tracker.errors import TrackerError
from tracker.ledger import Ledger
from tracker.money import format_money
from tracker.ui import caches, sidebar
from tracker.ui import session as ui_session

APP = Path(__file__).resolve().parents[1] / "tracker" / "ui" / "app.py"
TODAY = dt.date.today()
FIRST = TODAY.replace(day=1)


def session() -> AppTest:
    """A new session of the app (a new browser tab), run once."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def donut_labels(at: AppTest) -> set[str]:
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    (donut,) = [spec for spec in specs if spec["data"] and "labels" in spec["data"][0]]  # the one pie
    return set(donut["data"][0]["labels"])


@pytest.fixture
def populated(ledger: Ledger) -> Ledger:
    ledger.add_income("2500.00", category="Salary", date=FIRST)
    ledger.add_expense("12.50", category="Food", date=FIRST)
    ledger.add_expense("900.00", category="Rent", date=FIRST)
    return ledger


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every data folder a ``Ledger`` reads from now on (each entry is one full read of the ledger)."""
    folders: list[Path] = []
    original = Ledger.__init__

    def counting(self: Ledger, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if kwargs.get("load", True):
            folders.append(self.location)

    monkeypatch.setattr(Ledger, "__init__", counting)
    return folders


def test_two_sessions_share_one_ledger_read_once(populated: Ledger, opened: list[Path]) -> None:
    first = session()
    second = session()
    assert first.session_state[ui_session.LEDGER_KEY] is second.session_state[ui_session.LEDGER_KEY]
    assert first.session_state[ui_session.LEDGER_KEY] is ui_session.shared_ledger()
    assert opened.count(populated.location) <= 1  # at most once for the process (none when a test before read it)
    assert metrics(first) == metrics(second)
    assert metrics(second)["Expenses"] == format_money(91250, "USD")


def test_a_commit_from_another_process_is_seen_by_both_sessions(populated: Ledger, cli: Callable[..., Any]) -> None:
    first, second = session(), session()
    result = cli("add", "expense", "7.50", "--category", "Taxi", "--date", FIRST.isoformat())
    assert result.returncode == 0, result.stderr
    first.run()
    second.run()
    for at in (first, second):
        assert metrics(at)["Expenses"] == format_money(91250 + 750, "USD")
        assert "Taxi" in donut_labels(at)  # the cached figures follow the revision too


def test_a_commit_in_one_session_shows_in_the_other(populated: Ledger) -> None:
    first, second = session(), session()
    led = first.session_state[ui_session.LEDGER_KEY]
    led.add_expense("100.00", category="Books", date=FIRST)  # what a form of the first session does
    first.run()
    second.run()
    assert metrics(first)["Expenses"] == metrics(second)["Expenses"] == format_money(101250, "USD")


def test_each_session_keeps_its_own_filters(populated: Ledger) -> None:
    first, second = session(), session()
    first.sidebar.multiselect(key="dash_categories").set_value(["Food"]).run()
    second.run()
    assert metrics(first)["Expenses"] == format_money(1250, "USD")
    assert metrics(second)["Expenses"] == format_money(91250, "USD")
    assert second.sidebar.multiselect(key="dash_categories").value == []
    assert donut_labels(first) == {"Food"}
    assert donut_labels(second) == {"Food", "Rent"}


def test_figures_are_built_once_per_view_and_revision(populated: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.charts import plotly_charts

    built: list[str] = []
    original = plotly_charts.spending_donut

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append("donut")
        return original(*args, **kwargs)

    monkeypatch.setattr(plotly_charts, "spending_donut", counting)
    first = session()
    session()  # the same view of the same data in a new tab
    first.run()  # and a rerun
    assert built == ["donut"]
    Ledger(populated.location).add_expense("5.00", category="Food", date=FIRST)
    first.run()
    assert built == ["donut", "donut"]


def test_an_unreadable_ledger_is_not_kept(populated: Ledger) -> None:
    session()
    shared = ui_session.shared_ledger()
    (populated.location / "ledger.json").write_bytes(b"\x00garbage{")  # a damaged snapshot, as a refresh sees it
    broken = AppTest.from_file(str(APP), default_timeout=60)
    broken.run()
    assert any("cannot be opened" in str(t.value) for t in broken.title)
    with pytest.raises(TrackerError):
        ui_session.shared_ledger()  # read again, not the kept object
    # once the files are good again, a new Ledger is opened (the broken object is gone)
    for name in ("ledger.json", "ledger.journal"):
        (populated.location / name).unlink(missing_ok=True)
    Ledger(populated.location).add_expense("1.00", category="Fresh", date=FIRST)
    again = session()
    assert again.session_state[ui_session.LEDGER_KEY] is not shared
    assert metrics(again)["Expenses"] == format_money(100, "USD")


def test_a_commit_during_a_run_never_leaves_a_stale_value_behind(
    populated: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another tab commits after this run read the frame but before it cached the dashboard's numbers.

    Keyed on the revision of that moment, the numbers of the old frame would be served as the new
    revision's until the next commit. Keyed on the revision the run started from, the next run
    computes them again.
    """
    at = session()
    led = at.session_state[ui_session.LEDGER_KEY]
    start = led.revision
    original = sidebar.undated_frame

    def commit_after_reading(led_: Ledger, view: sidebar.View) -> Any:
        frame = original(led_, view)
        Ledger(led_.location).add_expense("3.00", category="Food", date=FIRST)  # another tab, meanwhile
        led_.refresh()
        return frame

    monkeypatch.setattr(sidebar, "undated_frame", commit_after_reading)
    at.run()
    assert led.revision == start + 1
    assert at.session_state[caches.RUN_REVISION_KEY] == start
    assert metrics(at)["Expenses"] == format_money(91250, "USD")  # what this run read
    monkeypatch.setattr(sidebar, "undated_frame", original)
    at.run()
    assert metrics(at)["Expenses"] == format_money(91250 + 300, "USD")


def test_dashboard_without_budgets_does_not_compute_them(populated: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker import budgets

    called: list[int] = []
    monkeypatch.setattr(budgets, "status", lambda *a, **k: called.append(1) or [])
    at = session()
    assert not called
    assert not [m for m in at.markdown if re.search(r"Budgets for", str(m.value))]


def test_shared_ledger_follows_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPENSE_TRACKER_DATA_DIR", str(tmp_path / "a"))
    a = ui_session.shared_ledger()
    monkeypatch.setenv("EXPENSE_TRACKER_DATA_DIR", str(tmp_path / "b"))
    b = ui_session.shared_ledger()
    assert a is not b
    assert a.location == (tmp_path / "a").resolve()
    assert b.location == (tmp_path / "b").resolve()
    assert ui_session.shared_ledger() is b


def test_the_servers_warm_up_reads_the_ledger_the_first_session_uses(populated: Ledger, opened: list[Path]) -> None:
    from tracker.ui import server

    assert server.warm_up() > 0
    reads = opened.count(populated.location)
    assert reads <= 1
    warmed = ui_session.shared_ledger()
    frame = warmed.frame()
    at = session()
    assert at.session_state[ui_session.LEDGER_KEY] is warmed
    assert warmed.frame() is frame  # built once, by the warm-up
    assert opened.count(populated.location) == reads  # the session did not read the ledger again
