"""The app in a real browser: ``expense-tracker serve`` driven by Playwright with Debian's Chromium.

Screenshots go to the test's tmp folder and to ``test-output/<test name>/`` (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.chromium import CHROMIUM, CHROMIUM_ARGS
from tracker.ledger import Ledger

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make test installs it with apt)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(data_dir: Path) -> Iterator[str]:
    """``expense-tracker serve --port 0`` (the OS picks a free port, no race) on a private data folder."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "--data-dir", str(data_dir), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    url = ""
    deadline = time.monotonic() + 90
    while not url and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "running at" in line:
            url = line.split("running at", 1)[1].strip()
    if not url:
        proc.kill()
        raise AssertionError(f"serve did not start: {proc.communicate()}")
    yield url
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh page; every request it makes must go to the app's own server (works offline)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    requests: list[str] = []
    tab.on("request", lambda r: requests.append(r.url))
    yield tab
    context.close()
    outside = [u for u in requests if not u.startswith((server, "data:", "blob:", "about:"))]
    assert not outside, f"the page loaded things from outside the app: {outside}"


class Shots:
    """Screenshots saved in the test's tmp folder and copied to test-output/."""

    def __init__(self, page: Any, tmp: Path, keep: Path) -> None:
        self.page, self.tmp, self.keep = page, tmp, keep

    def __call__(self, name: str) -> Path:
        path = self.tmp / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        shutil.copy(path, self.keep / path.name)
        return path


def settle(page: Any) -> None:
    """Wait until the script run is over and no element from the previous run is left on screen."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached")
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")


def metric(page: Any, label: str) -> Any:
    """The value of the KPI labelled exactly ``label`` ("Net" is not "Net worth (USD)")."""
    named = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stMetric").filter(has=named).get_by_test_id("stMetricValue")


def cut_values(page: Any) -> list[str]:
    """The KPI values drawn wider than their card (Streamlit then shows them cut, like ``$2,48…``)."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll("[data-testid='stMetricValue'], [data-testid='stMetricValue'] *")]
                .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent)"""
        )
    )


def form(page: Any, title: str) -> Any:
    return page.get_by_test_id("stForm").filter(has_text=title)


def choose_new(page: Any, where: Any, text: str) -> None:
    """Type a (new or existing) option into a selectbox and take it with Enter."""
    where.get_by_test_id("stSelectbox").get_by_role("combobox").click()
    page.keyboard.type(text)
    page.get_by_role("option", name=text).first.wait_for()
    page.keyboard.press("Enter")


def test_add_expense_and_income_see_them_and_filter(
    page: Any, server: str, data_dir: Path, tmp_path: Path, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    shot = Shots(page, tmp_path, output_dir)
    page.goto(server)
    expect(page.get_by_role("heading", name="Welcome! Let's record your first transaction.")).to_be_visible()
    shot("01-empty-dashboard")

    page.get_by_role("button", name="Add your first expense or income").click()
    expect(page.get_by_role("heading", name="Transactions", exact=True)).to_be_visible()
    settle(page)

    expense = form(page, "Add an expense")
    expense.get_by_label("Amount (USD)").fill("12,5x")
    choose_new(page, expense, "Groceries")
    expense.get_by_label("Note").fill("weekly shop")
    expense.get_by_role("button", name="Add an expense").click()
    expect(page.get_by_text("amount: '12,5x' is not an amount")).to_be_visible()
    settle(page)
    assert Ledger(data_dir).transactions() == []
    shot("02-invalid-amount")

    expense.get_by_label("Amount (USD)").fill("12.50")  # the category and note were kept
    expense.get_by_role("button", name="Add an expense").click()
    expect(page.get_by_text("Expense of $12.50 in Groceries")).to_be_visible()
    settle(page)

    income = form(page, "Add income")
    income.get_by_label("Amount (USD)").fill("2,500.00")
    choose_new(page, income, "Salary")
    income.get_by_role("button", name="Add income").click()
    expect(page.get_by_text("Income of $2,500.00 in Salary")).to_be_visible()
    settle(page)

    page.get_by_test_id("stDataFrame").scroll_into_view_if_needed()
    cells = page.get_by_test_id("stDataFrame").locator("[role=gridcell]")  # the grid's accessible (hidden) cells
    expect(cells.filter(has_text="Groceries")).to_have_count(1)
    expect(cells.filter(has_text="Salary")).to_have_count(1)
    expect(cells.filter(has_text="2500.00")).to_have_count(1)
    expect(cells.filter(has_text="weekly shop")).to_have_count(1)
    saved = sorted((t.type, t.amount_minor, t.category, t.note) for t in Ledger(data_dir).transactions())
    assert saved == [("expense", 1250, "Groceries", "weekly shop"), ("income", 250000, "Salary", "")]
    shot("03-transactions")

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Dashboard").click()
    expect(metric(page, "Income")).to_have_text("$2,500.00")
    expect(metric(page, "Expenses")).to_have_text("$12.50")
    expect(metric(page, "Net")).to_have_text("$2,487.50")
    expect(page.locator(".js-plotly-plot")).to_have_count(5)  # the four charts and net worth
    assert cut_values(page) == []
    shot("04-dashboard")

    categories = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Categories")
    categories.get_by_role("combobox").click()
    page.get_by_role("option", name="Groceries").click()
    page.keyboard.press("Escape")
    expect(metric(page, "Income")).to_have_text("$0.00")
    expect(metric(page, "Expenses")).to_have_text("$12.50")
    expect(page.get_by_text("Groceries", exact=False).first).to_be_visible()
    shot("05-dashboard-filtered-groceries")


def test_typed_entry_survives_reruns_theme_and_outside_changes(
    page: Any, server: str, data_dir: Path, tmp_path: Path, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    Ledger(data_dir).add_expense("3.20", category="Coffee")
    shot = Shots(page, tmp_path, output_dir)
    page.goto(server + "transactions")
    settle(page)
    expense = form(page, "Add an expense")
    expense.get_by_label("Amount (USD)").fill("7.77")
    expense.get_by_label("Note").fill("typed, not sent yet")
    for period in ("All time", "Last 30 days", "This month"):  # reruns while the form is half filled
        page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Period").click()
        page.get_by_role("option", name=period).click()
        settle(page)
    expect(expense.get_by_label("Amount (USD)")).to_have_value("7.77")
    expect(expense.get_by_label("Note")).to_have_value("typed, not sent yet")

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Settings").click()
    settle(page)
    settings = form(page, "Save settings")
    settings.get_by_text("Dark").click()
    settings.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.stApp')).backgroundColor !== 'rgb(255, 255, 255)'"
    )
    assert Ledger(data_dir).settings["theme"] == "dark"
    shot("06-settings-dark")

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Dashboard").click()
    expect(metric(page, "Expenses")).to_have_text("$3.20")
    Ledger(data_dir).add_expense("1.80", category="Coffee")  # e.g. from the CLI: shows without touching the page
    expect(metric(page, "Expenses")).to_have_text("$5.00")
    expect(page.locator(".js-plotly-plot")).to_have_count(5)  # the four charts and net worth
    settle(page)
    shot("07-dashboard-dark")


def test_large_kpi_values_are_shown_whole_in_a_small_window(
    page: Any, server: str, data_dir: Path, tmp_path: Path, output_dir: Path
) -> None:
    """Streamlit cuts a metric value that is wider than its card (``$67,3…``); the Dashboard sizes them to fit."""
    from playwright.sync_api import expect

    led = Ledger(data_dir)
    today = dt.date.today()
    led.add_income("1234567.89", category="Salary", date=today)
    led.add_expense("987654.32", category="House", date=today)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(server)
    expect(metric(page, "Income")).to_have_text("$1,234,567.89")
    settle(page)
    assert cut_values(page) == []
    expect(page.locator(".js-plotly-plot")).to_have_count(5)  # the four charts and net worth
    Shots(page, tmp_path, output_dir)("kpis-1280")


def test_accounts_page_and_a_reconciliation(
    page: Any, server: str, data_dir: Path, tmp_path: Path, output_dir: Path
) -> None:
    """Net worth and balances by kind, then a statement reconciled: difference, ticks, finish."""
    from playwright.sync_api import expect

    from tracker import accounts

    today = dt.date.today()
    led = Ledger(data_dir)
    accounts.add_account(led, "Checking", opening="100.00")
    accounts.add_account(led, "Visa", kind="credit-card", opening="250.00")
    salary = led.add_income("1000.00", category="Salary", date=today - dt.timedelta(days=8), account="Checking")
    food = led.add_expense("12.50", category="Groceries", date=today - dt.timedelta(days=4), account="Checking")
    shot = Shots(page, tmp_path, output_dir)
    page.goto(server + "accounts")
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    expect(metric(page, "Net worth (USD)")).to_have_text("$837.50")
    settle(page)
    shot("01-accounts")

    page.get_by_role("textbox", name="Statement balance (USD)").fill("1,087.50")
    page.keyboard.press("Enter")
    expect(metric(page, "Difference")).to_have_text("$987.50")
    expect(page.get_by_role("button", name="Finish reconciliation")).to_be_disabled()
    settle(page)
    page.get_by_test_id("stCheckbox").filter(has_text="Salary").locator("label").click()
    expect(metric(page, "Difference")).to_have_text("-$12.50")
    settle(page)
    page.get_by_test_id("stCheckbox").filter(has_text="Groceries").locator("label").click()
    expect(metric(page, "Difference")).to_have_text("$0.00")
    expect(page.get_by_text("The cleared balance matches the statement.")).to_be_visible()
    settle(page)
    shot("02-reconcile-balanced")

    page.get_by_role("button", name="Finish reconciliation").click()
    expect(page.get_by_text("2 transactions marked reconciled")).to_be_visible()
    settle(page)
    fresh = Ledger(data_dir)
    assert (fresh.get(salary.id).reconciled, fresh.get(food.id).reconciled) == (True, True)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.locator(".js-plotly-plot")).to_have_count(1)
    shot("03-reconciled")
