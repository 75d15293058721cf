"""tracker.report and ``expense-tracker report``: real PDF and PNG files, checked with pypdf and PIL."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from tracker import report
from tracker.analysis import Period, dashboard
from tracker.errors import ValidationError
from tracker.filters import Filter
from tracker.frame import empty_frame, frame_from_transactions
from tracker.ledger import Ledger
from tracker.model import make_transaction

DATA = Path(__file__).resolve().parent / "data" / "analysis"
NOV = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
CHART_TITLES = ["Spending by category", "Income vs expenses", "Balance", "Spending this month vs last month"]
RENT_COLOR = "#123456"


def fixture_transactions() -> list:
    rows = json.loads((DATA / "ledger_small.json").read_text(encoding="utf-8"))["transactions"]
    return [make_transaction(**row) for row in rows]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return frame_from_transactions(sorted(fixture_transactions(), key=lambda t: t.date))


def pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


# --- the library ----------------------------------------------------------------------------------------------


def test_pdf_has_a_kpi_page_then_one_page_per_chart(frame, tmp_path, output_dir):
    target = report.write_report(
        tmp_path / "november.pdf",
        frame,
        NOV,
        "EUR",
        colors={"Rent": RENT_COLOR},
        description="all",
        as_of=dt.date(2026, 11, 20),
    )
    assert target == tmp_path / "november.pdf"
    pages = pdf_pages(target)
    assert len(pages) == 5
    first = pages[0]
    for text in (
        "Expense report",
        "2026-11-01 – 2026-11-30",
        "compared with 2026-10-02 – 2026-10-31",
        "Income €2,000.00 €1,000.00 +€1,000.00 (+100.0 %)",
        "Expenses €500.00 €350.00 +€150.00 (+42.9 %)",
        "Net €1,500.00 €650.00 +€850.00 (+130.8 %)",
        "Savings rate 75.0 % 65.0 % +10.0 pts",
        "Transactions 6 4 +2 (+50.0 %)",
        "Average daily spend €16.67 €11.67 +€5.00 (+42.8 %)",
        "Rent €300.00 60.0 %",
        "1 transaction(s) in other currencies are not included",
    ):
        assert text in first, text
    for page, title in zip(pages[1:], CHART_TITLES, strict=True):
        assert title in page
    assert "€500.00" in pages[1]
    assert (output_dir / "november.pdf").write_bytes(target.read_bytes())


def test_png_is_one_dashboard_image_of_the_documented_size(frame, tmp_path, output_dir):
    target = report.write_report(tmp_path / "dash.png", frame, NOV, "EUR", colors={"Rent": RENT_COLOR})
    with Image.open(target) as image:
        assert image.format == "PNG"
        assert image.size == report.PNG_SIZE == (1600, 1000)
        colours = {rgba[:3] for _, rgba in image.convert("RGBA").getcolors(maxcolors=1_000_000)}
    # Rent's user colour fills the largest slice of the donut.
    assert (0x12, 0x34, 0x56) in colours
    (output_dir / "dashboard.png").write_bytes(target.read_bytes())


def test_kpi_rows_are_exact_money_in_the_number_format(frame):
    board = dashboard(frame, NOV, "EUR")
    rows = report.kpi_rows(board, "1.234,56")
    assert rows[0] == ("Income", "€2.000,00", "€1.000,00", "+€1.000,00 (+100.0 %)")
    assert rows[3] == ("Savings rate", "75.0 %", "65.0 %", "+10.0 pts")
    empty = report.kpi_rows(dashboard(empty_frame(), NOV, "EUR"))
    assert empty[1] == ("Expenses", "€0.00", "€0.00", "€0.00 (—)")
    assert empty[3] == ("Savings rate", "—", "—", "—")


def test_report_of_an_empty_ledger(tmp_path):
    target = report.write_report(tmp_path / "empty.pdf", empty_frame(), NOV, "USD")
    pages = pdf_pages(target)
    assert len(pages) == 5
    assert "No expenses" in pages[0]
    assert "No expenses in this period" in pages[1]


def test_pdf_with_net_worth_has_a_last_page_charting_it(frame, tmp_path, output_dir):
    days = [dt.date(2026, 9, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 20)]
    target = report.write_report(
        tmp_path / "worth.pdf",
        frame,
        NOV,
        "EUR",
        as_of=dt.date(2026, 11, 20),
        net_worth=(days, [150000, -20000, 275050]),
    )
    pages = pdf_pages(target)
    assert len(pages) == 6
    for page, title in zip(pages[1:5], CHART_TITLES, strict=True):
        assert title in page
    last = pages[5]
    assert report.NET_WORTH_TITLE in last
    assert "-€" in last  # money ticks on both sides of zero
    assert "€2,750.50" in last  # the last day's exact figure
    assert "Net worth" not in "".join(pages[:5])
    (output_dir / "worth.pdf").write_bytes(target.read_bytes())


def test_net_worth_months_of_a_ledger(ledger):
    from tracker import accounts

    ledger.add_income("1000.00", category="Salary", currency="USD", date="2026-09-10")
    ledger.add_expense("250.00", category="Rent", currency="USD", date="2026-10-05")
    accounts.add_account(ledger, "Visa", kind="credit-card", opening="100", opening_date="2026-08-20")
    days, values = accounts.net_worth_months(ledger, "USD", dt.date(2026, 11, 20))
    assert days == [dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 20)]
    assert values == [-10000, 90000, 65000, 65000]
    assert accounts.net_worth_months(ledger, "JPY", dt.date(2026, 11, 20)) == ([], [])
    target = report.write_report(
        ledger.location.parent / "ledger.pdf",
        ledger.frame(),
        NOV,
        "USD",
        net_worth=(days, values),
    )
    assert "$650.00" in pdf_pages(target)[5]  # the last month's exact figure


@pytest.mark.parametrize("name", ["report.txt", "report", "report.pdf.bak", "report.jpeg"])
def test_unknown_extension_is_refused_before_anything_is_written(frame, tmp_path, name):
    with pytest.raises(ValidationError, match=r"must end in \.pdf or \.png"):
        report.write_report(tmp_path / name, frame, NOV, "EUR")
    assert list(tmp_path.iterdir()) == []


def test_extension_is_case_insensitive(frame, tmp_path):
    target = report.write_report(tmp_path / "REPORT.PNG", frame, NOV, "EUR")
    with Image.open(target) as image:
        assert image.size == (1600, 1000)


def test_unwritable_targets(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ValidationError, match="does not exist"):
        report.check_output(tmp_path / "missing" / "r.pdf")
    with pytest.raises(ValidationError, match="does not exist"):
        report.check_output(tmp_path / "a-file" / "r.pdf")
    (tmp_path / "folder.pdf").mkdir()
    with pytest.raises(ValidationError, match="is a folder"):
        report.check_output(tmp_path / "folder.pdf")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ValidationError, match="permission denied"):
            report.check_output(folder / "r.pdf")
    finally:
        folder.chmod(0o700)


def test_a_failed_write_leaves_the_old_file_and_no_part_file(frame, tmp_path, monkeypatch):
    target = tmp_path / "r.pdf"
    target.write_bytes(b"old report")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "_write_pdf", disk_full)
    with pytest.raises(ValidationError, match="No space left on device"):
        report.write_report(target, frame, NOV, "EUR")
    assert target.read_bytes() == b"old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.pdf"]


def test_describe_filter():
    assert report.describe_filter(Filter()) == ""
    flt = Filter.build(categories=["Food", "Rent"], tags=["work"], tag_mode="all", type="expense", min_amount="5")
    assert report.describe_filter(flt) == "categories: Food, Rent; tags (all): work; only expense; amount ≥ 5"


# --- the command line ---------------------------------------------------------------------------------------------


@pytest.fixture
def seeded(data_dir: Path) -> Path:
    led = Ledger(data_dir)
    led.add_many(fixture_transactions(), label="fixture")
    led.update_settings(currency="EUR")
    return data_dir


def test_cli_report_pdf_with_dates(cli, seeded, tmp_path):
    out = tmp_path / "nov.pdf"
    done = cli("report", "--from", "2026-11-01", "--to", "2026-11-30", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    pages = pdf_pages(out)
    assert len(pages) == 6  # the CLI's report ends with net worth over the months
    assert "Net worth, every account" in pages[5]
    assert "Income €2,000.00 €1,000.00" in pages[0]
    assert "Expenses €500.00 €350.00" in pages[0]


def test_cli_report_applies_the_filters_but_compares_with_the_previous_period(cli, seeded, tmp_path):
    out = tmp_path / "food.pdf"
    done = cli("report", "--from", "2026-11-01", "--to", "2026-11-30", "--category", "food", "-o", str(out))
    assert done.returncode == 0, done.stderr
    first = pdf_pages(out)[0]
    assert "Filters: categories: food" in first
    assert "Expenses €100.00 €40.00 +€60.00 (+150.0 %)" in first
    assert "€300.00" not in first


def test_cli_report_uses_the_settings_and_the_chosen_currency(cli, seeded, tmp_path):
    Ledger(seeded).update_settings(number_format="1.234,56")
    out = tmp_path / "all.pdf"
    done = cli("report", "--output", str(out))
    assert done.returncode == 0, done.stderr
    first = pdf_pages(out)[0]
    assert "2026-09-30 – 2026-12-01" in first  # no dates: the span of the data
    assert "€3.500,00" in first  # every EUR income: 500 + 1000 + 2000
    out_usd = tmp_path / "usd.pdf"
    assert cli("report", "--currency", "usd", "--output", str(out_usd)).returncode == 0
    assert "$50,00" in pdf_pages(out_usd)[0]


def test_cli_report_png(cli, seeded, tmp_path):
    out = tmp_path / "dash.png"
    done = cli("report", "--from", "2026-11-01", "--to", "2026-11-30", "--output", str(out))
    assert done.returncode == 0, done.stderr
    with Image.open(out) as image:
        assert image.size == (1600, 1000)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "{tmp}/r.docx"], "output: '{tmp}/r.docx' must end in .pdf or .png"),
        (["--output", "{tmp}/a-file/r.pdf"], "cannot be written: the folder {tmp}/a-file does not exist"),
        (["--from", "2026-13-01", "--output", "{tmp}/r.pdf"], "date: '2026-13-01' is not a date"),
        (["--currency", "XYZ", "--output", "{tmp}/r.pdf"], "currency: 'XYZ' is not an ISO 4217"),
    ],
)
def test_cli_report_bad_input_exits_2_with_one_line(cli, seeded, tmp_path, files_of, args, message):
    (tmp_path / "a-file").write_text("not a folder")
    before = files_of(seeded)
    done = cli("report", *[a.format(tmp=tmp_path) for a in args])
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert message.format(tmp=tmp_path) in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert files_of(seeded) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["a-file"]


def test_cli_report_requires_an_output(cli, seeded):
    done = cli("report")
    assert done.returncode == 2
    assert "--output" in done.stderr
