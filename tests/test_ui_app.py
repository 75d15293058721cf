"""The router, the Dashboard and the Settings page in AppTest (the Transactions page has its own file)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from tracker.ledger import Ledger
from tracker.model import make_transaction
from tracker.money import format_money

APP = Path(__file__).resolve().parents[1] / "tracker" / "ui" / "app.py"
PAGES = sorted(p.relative_to(APP.parent).as_posix() for p in (APP.parent / "app_pages").glob("*.py"))
TODAY = dt.date.today()
FIRST = TODAY.replace(day=1)
PREVIOUS = (FIRST - dt.timedelta(days=1)).replace(day=15)  # inside the previous period of equal length


def open_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def shown(markdown: str) -> str:
    """The text a Markdown element displays (the app escapes user data with backslashes)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def money(shown: str) -> Decimal:
    """``"$1,234.50"`` -> ``Decimal("1234.50")``."""
    return Decimal(shown.replace("$", "").replace(",", ""))


def deltas(at: AppTest) -> dict[str, str]:
    return {m.label: m.delta for m in at.metric}


@pytest.fixture(autouse=True)
def _restore_theme() -> object:
    """The theme is a process-wide Streamlit option: put it back after each test."""
    before = st_config.get_option("theme.base")
    yield
    st_config.set_option("theme.base", before, "test")


@pytest.fixture
def populated(ledger: Ledger) -> Ledger:
    """This month: salary 2,500, food 12.50 (#work) and 30.00 (#home), rent 900; before: food 20.00."""
    ledger.add_income("2500.00", category="Salary", date=FIRST)
    ledger.add_expense("12.50", category="Food", date=FIRST, tags=["work"], note="team lunch")
    ledger.add_expense("30.00", category="Food", date=FIRST, tags=["home", "work"])
    ledger.add_expense("900.00", category="Rent", date=FIRST)
    ledger.add_expense("20.00", category="Food", date=PREVIOUS)
    return ledger


def usd(minor: int) -> str:
    return format_money(minor, "USD")


# -- every page ---------------------------------------------------------------------------------


def test_the_router_lists_every_page_and_opens_the_dashboard(data_dir: Path) -> None:
    at = open_app()
    assert not at.exception
    assert [t.value for t in at.title] == ["Dashboard"]
    assert {"app_pages/dashboard.py", "app_pages/transactions.py", "app_pages/settings.py"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_ledger(data_dir: Path, page: str) -> None:
    at = open_app(page)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_a_populated_ledger(populated: Ledger, page: str) -> None:
    at = open_app(page)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title


# -- the dashboard --------------------------------------------------------------------------------


def test_empty_dashboard_invites_the_first_entry(data_dir: Path) -> None:
    at = open_app()
    assert any("first transaction" in s.value for s in at.subheader)
    assert not at.metric
    at.button(key="dash_start").click().run()
    assert [t.value for t in at.title] == ["Transactions"]


def test_kpis_of_this_month_with_changes_against_the_previous_period(populated: Ledger) -> None:
    at = open_app()
    shown = metrics(at)
    assert shown["Income"] == usd(250000)
    assert shown["Expenses"] == usd(94250)
    assert shown["Net"] == usd(250000 - 94250)
    assert shown["Savings rate"] == f"{(250000 - 94250) * 100 / 250000:.1f} %"
    change = deltas(at)
    assert change["Expenses"] == "+" + usd(94250 - 2000)
    assert change["Income"] == "+" + usd(250000)


def test_filters_change_the_numbers(populated: Ledger) -> None:
    at = open_app()
    at.multiselect(key="dash_categories").set_value(["Food"]).run()
    assert metrics(at)["Expenses"] == usd(4250)
    assert metrics(at)["Income"] == usd(0)
    at.multiselect(key="dash_tags").set_value(["home", "work"]).run()
    assert metrics(at)["Expenses"] == usd(4250)  # any of the tags
    at.radio(key="dash_tag_mode").set_value("all of these tags").run()
    assert metrics(at)["Expenses"] == usd(3000)
    at.multiselect(key="dash_tags").set_value([]).run()
    at.text_input(key="dash_search").input("lunch").run()
    assert metrics(at)["Expenses"] == usd(1250)
    at.text_input(key="dash_search").input("").run()
    at.multiselect(key="dash_categories").set_value([]).run()
    at.radio(key="dash_type").set_value("Income only").run()
    assert metrics(at)["Expenses"] == usd(0)
    assert metrics(at)["Income"] == usd(250000)
    at.radio(key="dash_type").set_value("Income and expenses").run()
    at.selectbox(key="dash_period").set_value("All time").run()
    assert metrics(at)["Expenses"] == usd(96250)
    assert deltas(at)["Expenses"] == ""  # nothing to compare "all time" with
    at.selectbox(key="dash_period").set_value("Custom range").run()
    at.date_input(key="dash_date_range").set_value((PREVIOUS, PREVIOUS)).run()
    assert metrics(at)["Expenses"] == usd(2000)
    assert not at.exception


def test_filters_are_kept_when_coming_back_to_the_page(populated: Ledger) -> None:
    at = open_app()
    at.multiselect(key="dash_categories").set_value(["Rent"]).run()
    at.switch_page("app_pages/settings.py").run()
    at.switch_page("app_pages/dashboard.py").run()
    assert metrics(at)["Expenses"] == usd(90000)


def test_a_change_made_elsewhere_shows_on_the_next_run(populated: Ledger) -> None:
    at = open_app()
    Ledger(populated.location).add_expense("7.50", category="Taxi", date=FIRST)  # another process, e.g. the CLI
    at.run()
    assert metrics(at)["Expenses"] == usd(94250 + 750)


def test_charts_come_from_the_analysis_layer(populated: Ledger) -> None:
    at = open_app()
    charts = {c.key: c for c in at.get("plotly_chart")}
    assert set(charts) == {"dash_pie", "dash_bar", "dash_line", "dash_mtd", "dash_net_worth"}
    import json

    donut = json.loads(charts["dash_pie"].proto.spec)
    assert set(donut["data"][0]["labels"]) == {"Food", "Rent"}
    headings = [m.value for m in at.markdown if m.value.startswith("**") and m.value.endswith("**")]
    month, last = dt.date.today().replace(day=1), (dt.date.today().replace(day=1) - dt.timedelta(days=1))
    for heading in ("Spending by category", "Income and expenses", "Balance over the period"):
        assert f"**{heading}**" in headings
    assert f"**Spent in {month:%B} so far, against {last:%B}**" in headings


def test_budget_progress_shows_once_a_budget_exists(populated: Ledger) -> None:
    from tracker import budgets

    at = open_app()
    assert not at.get("progress")
    budgets.set_budget(Ledger(populated.location), "Food", "40.00")
    at.run()
    bars = at.get("progress")
    assert len(bars) == 1
    assert shown(bars[0].proto.text) == f"Food: {usd(4250)} of {usd(4000)} · over by {usd(250)}"
    assert any("over budget" in e.value for e in at.error)


def test_unexpected_errors_show_a_message_and_no_traceback(
    populated: Ledger, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from tracker import analysis

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(analysis, "dashboard", broken)
    with caplog.at_level(logging.ERROR, logger="tracker.ui"):
        at = open_app()
    assert not at.exception
    assert any("unexpected problem (RuntimeError)" in e.value for e in at.error)
    assert "boom" in caplog.text


def test_unreadable_data_offers_the_backups_and_restores_one(populated: Ledger) -> None:
    populated.create_backup()
    (populated.location / "ledger.journal").write_bytes(b"\x00garbage\n{not json\n")
    (populated.location / "ledger.json").write_bytes(b"{broken")
    at = open_app()
    assert not at.exception
    assert [t.value for t in at.title] == ["Your data cannot be opened"]
    assert "ledger" in at.error[0].value
    restore = [b for b in at.button if b.label == "Restore"]
    assert restore
    restore[0].click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Dashboard"]
    assert metrics(at)["Expenses"] == usd(94250)
    assert any("Restored the backup" in shown(s.value) for s in at.success)


def test_a_rerun_with_thousands_of_transactions_is_quick(ledger: Ledger) -> None:
    drafts = [
        make_transaction(
            type="expense" if i % 10 else "income",
            amount=f"{(i % 500) + 1}.{i % 100:02d}",
            category=f"Category {i % 25}",
            currency="USD",
            date=TODAY - dt.timedelta(days=i % 400),
            tags=[f"t{i % 7}"],
        )
        for i in range(5000)
    ]
    ledger.add_many(drafts)
    at = open_app()
    assert not at.exception
    assert not at.error
    start = time.perf_counter()
    at.run()
    rerun = time.perf_counter() - start
    before = money(metrics(at)["Expenses"])
    Ledger(ledger.location).add_expense("1.00", category="Fresh", date=TODAY)  # a new revision: nothing cached
    start = time.perf_counter()
    at.run()
    changed = time.perf_counter() - start
    # The cached results are keyed on the ledger's revision: the change shows at once, exactly.
    assert money(metrics(at)["Expenses"]) == before + Decimal("1.00")
    at.switch_page("app_pages/transactions.py").run()
    start = time.perf_counter()
    at.run()
    rerun_table = time.perf_counter() - start
    assert not at.exception
    # Timings are reported, not asserted: speed is measured by the benchmarks (issue 8).
    print(
        f"5,000 transactions: dashboard rerun {rerun:.3f}s, after a change {changed:.3f}s; table rerun {rerun_table:.3f}s"
    )


# -- settings -------------------------------------------------------------------------------------


def test_settings_change_currency_format_and_theme(populated: Ledger) -> None:
    at = open_app("app_pages/settings.py")
    at.selectbox(key="set_currency").set_value("EUR")
    at.selectbox(key="set_number_format").set_value("1.234,56")
    at.radio(key="set_theme").set_value("dark")
    next(b for b in at.button if b.label == "Save settings").click().run()
    assert not at.exception
    assert not at.error
    assert Ledger(populated.location).settings == {
        "currency": "EUR",
        "number_format": "1.234,56",
        "theme": "dark",
        "reporting_currency": "",
    }
    assert st_config.get_option("theme.base") == "dark"
    at.switch_page("app_pages/dashboard.py").run()
    populated_again = Ledger(populated.location)
    populated_again.add_expense("1234.56", category="Laptop", date=FIRST)  # in EUR now
    at.run()
    assert metrics(at)["Expenses"] == "€1.234,56"


def test_settings_show_where_the_data_lives(populated: Ledger) -> None:
    at = open_app("app_pages/settings.py")
    assert any(c.value == str(populated.location) for c in at.code)


def test_backups_make_one_now_and_restore_it(populated: Ledger) -> None:
    at = open_app("app_pages/settings.py")
    before = len(populated.backups())
    next(b for b in at.button if b.label == "Make a backup now").click().run()
    made = Ledger(populated.location).backups()
    assert len(made) == before + 1
    Ledger(populated.location).add_expense("99.00", category="Later", date=FIRST)
    at.run()
    at.selectbox(key="set_restore_name").set_value(made[0].name)
    next(b for b in at.button if b.label == "Restore").click().run()
    assert len(Ledger(populated.location).transactions()) == 6  # not confirmed: nothing restored
    assert any("Tick the box" in w.value for w in at.warning)
    at.selectbox(key="set_restore_name").set_value(made[0].name)
    at.checkbox(key="set_restore_sure").check()
    next(b for b in at.button if b.label == "Restore").click().run()
    assert not at.exception
    assert not at.error
    assert sorted(t.category for t in Ledger(populated.location).transactions()) == sorted(
        t.category for t in populated.transactions()
    )


@pytest.mark.parametrize("script", ["app.py", *PAGES])
def test_no_page_script_holds_a_bare_string_that_streamlit_would_show(script: str) -> None:
    """Streamlit's "magic" writes every bare expression of a script to the page; only docstrings are skipped."""
    import ast

    tree = ast.parse((APP.parent / script).read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body
    }
    shown = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant | ast.JoinedStr)
        and id(node) not in docstrings
    ]
    assert not shown, f"{script}: bare strings on lines {shown} would be shown on the page"


def test_the_transactions_page_shows_no_source_text(data_dir: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/transactions.py").run()
    assert not at.exception
    assert not [m.value for m in at.markdown if "parser" in m.value or "editor lets through" in m.value]
