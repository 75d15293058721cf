"""The Import & Export page, run by Streamlit's AppTest on a private data folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tracker.accounts import add_account
from tracker.importers.csv_importer import ORIGINAL_ROLES
from tracker.importers.rules import Rule, dump_rules
from tracker.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "tracker" / "ui" / "app_pages" / "import_export.py"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def page(data_dir: Path) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.run()
    assert not at.exception
    return at


def upload(at: AppTest, rel: str, name: str | None = None, data: bytes | None = None) -> AppTest:
    content = data if data is not None else (FIXTURES / rel).read_bytes()
    at.file_uploader(key="imp_file").set_value((name or Path(rel).name, content, "application/octet-stream"))
    return at.run()


def texts(elements: object) -> list[str]:
    """The text of elements as the user reads it (Markdown escapes removed)."""
    return [re.sub(r"\\(.)", r"\1", str(e.value)) for e in elements]  # type: ignore[attr-defined]


def test_empty_page_offers_the_upload(page: AppTest) -> None:
    assert texts(page.title) == ["Import & Export"]
    assert "Choose a file to see a preview of its transactions." in texts(page.info)
    assert "There is nothing to export yet." in texts(page.info)
    assert not page.error


def test_preview_then_confirm_then_nothing_new(page: AppTest, data_dir: Path) -> None:
    at = upload(page, "csv/sparkasse_camt.csv")
    assert not at.exception
    assert not at.error
    assert texts(at.metric) == ["5", "0", "0"]
    assert any("sparkasse-camt layout · cp1252" in c for c in texts(at.caption))
    preview = at.dataframe[0].value
    assert list(preview["Amount"]) == ["2500.00", "1234.56", "3.50", "3.50", "47.89"]
    assert list(preview["Category"]) == ["Uncategorized"] * 5
    assert Ledger(data_dir).transactions() == []  # nothing saved before the confirm
    at.button(key="imp_confirm").click().run()
    assert not at.exception
    assert "Imported 5 transactions from sparkasse_camt.csv. Undo removes them all at once." in texts(at.success)
    assert len(Ledger(data_dir).transactions()) == 5
    assert texts(at.metric) == ["0", "5", "0"]
    assert "Nothing new to import from this file." in texts(at.info)
    # the duplicates can be taken anyway
    at.checkbox(key="imp_take_dups").check().run()
    at.button(key="imp_confirm").click().run()
    assert len(Ledger(data_dir).transactions()) == 10


def test_values_in_messages_are_shown_as_written(page: AppTest) -> None:
    at = upload(page, "ofx/malformed/decimal_error.ofx")
    (problems,) = [str(m.value) for m in at.markdown if "TRNAMT" in str(m.value)]
    assert r"'\$120'" in problems  # escaped: Streamlit would otherwise start LaTeX at the dollar sign


def test_a_bad_file_shows_the_error_and_writes_nothing(
    page: AppTest, data_dir: Path, files_of: Callable[[Path], dict[str, bytes]]
) -> None:
    Ledger(data_dir).add_expense("1.00", category="X")
    before = files_of(data_dir)
    at = upload(page, "ofx/malformed/date_missing.ofx")
    assert not at.exception
    (error,) = texts(at.error)
    assert error.startswith("Nothing was imported: date_missing.ofx, line 33, field DTPOSTED: is missing")
    assert "Traceback" not in error
    assert not [b for b in at.button if b.key == "imp_confirm"]
    assert files_of(data_dir) == before


def test_garbage_upload_is_an_error_not_a_traceback(page: AppTest) -> None:
    at = upload(page, "", name="statement.csv", data=b"\x00\x01\x02 binary \xff" * 50)
    assert not at.exception
    assert any("not a text file" in e for e in texts(at.error))


def test_mapping_editor_fixes_what_detection_cannot(page: AppTest, data_dir: Path) -> None:
    text = "Tag;Wert;Notiz\n01.03.2024;-12,50;Kiosk\n02.03.2024;100,00;Bonus\n"
    at = upload(page, "", name="odd.csv", data=text.encode())
    assert any("cannot tell which column holds the date" in e for e in texts(at.error))
    at.selectbox(key="imp_date_col").set_value("Tag").run()
    at.selectbox(key="imp_amount_col").set_value("Wert").run()
    at.multiselect(key="imp_desc_cols").set_value(["Notiz"]).run()
    assert not at.error
    assert list(at.dataframe[0].value["Amount"]) == ["12.50", "100.00"]
    at.text_input(key="imp_save_name").input("Kasse").run()
    at.button(key="imp_confirm").click().run()
    led = Ledger(data_dir)
    assert sorted(t.note for t in led.transactions()) == ["Bonus", "Kiosk"]
    assert led.meta("csv_mappings")["Kasse"]["date"] == "Tag"
    assert "Saved the layout as “Kasse”" in texts(at.success)[0]


def test_rules_and_history_show_in_the_preview(page: AppTest, data_dir: Path) -> None:
    led = Ledger(data_dir)
    led.add_expense("40.00", category="Groceries", date="2024-01-02", note="REWE SAGT DANKE 0001")
    led.set_meta("rules", dump_rules([Rule("Kühn", "Coffee")]), label="rules")
    at = upload(page, "csv/sparkasse_camt.csv")
    preview = at.dataframe[0].value
    got = dict(zip(preview["Description"], zip(preview["Category"], preview["From"], strict=True), strict=True))
    assert got["Bäckerei Kühn Kaffee"] == ("Coffee", "rule")
    assert got["REWE Markt GmbH / REWE SAGT DANKE 4711"] == ("Groceries", "history")


def test_add_and_remove_a_rule(page: AppTest, data_dir: Path) -> None:
    at = page
    at.text_input(key="imp_rule_pattern").input("netflix")
    at.text_input(key="imp_rule_category").input("Streaming")
    at.button[[b.label for b in at.button].index("Add rule")].click().run()
    assert not at.exception
    assert Ledger(data_dir).meta("rules") == [{"pattern": "netflix", "category": "Streaming", "regex": False}]
    at.text_input(key="imp_rule_try").input("NETFLIX.COM 1234").run()
    assert any("Streaming" in m for m in texts(at.markdown))
    at.button(key="imp_rule_remove_button").click().run()
    assert Ledger(data_dir).meta("rules") is None


def test_a_bad_rule_is_an_error_message(page: AppTest, data_dir: Path) -> None:
    at = page
    at.text_input(key="imp_rule_pattern").input("(")
    at.text_input(key="imp_rule_category").input("X")
    at.checkbox(key="imp_rule_regex").check()
    at.button[[b.label for b in at.button].index("Add rule")].click().run()
    assert not at.exception
    assert any("is not a valid regular expression" in e for e in texts(at.error))
    assert Ledger(data_dir).meta("rules") is None


def test_downloads_are_offered(page: AppTest, data_dir: Path) -> None:
    Ledger(data_dir).add_expense("3.00", category="Food", date="2024-01-05", note="=1+1")
    at = page.run()
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download CSV", "Download JSON", "Download XLSX"]
    assert any("1 transaction selected." in c for c in texts(at.caption))


def test_the_router_lists_the_page() -> None:
    assert 'st.Page("app_pages/import_export.py"' in (ROOT / "tracker" / "ui" / "app.py").read_text()


def test_the_page_runs_from_the_router(data_dir: Path) -> None:
    at = AppTest.from_file(str(ROOT / "tracker" / "ui" / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/import_export.py").run()
    assert not at.exception
    assert texts(at.title) == ["Import & Export"]


def account_select(at: AppTest, label_start: str) -> Any:
    return next(s for s in at.selectbox if str(s.label).startswith(label_start))


@pytest.fixture
def banked(data_dir: Path) -> Ledger:
    ledger = Ledger(data_dir)
    add_account(ledger, "Checking", kind="checking", currency="USD")
    add_account(ledger, "Savings", kind="savings", currency="USD")
    add_account(ledger, "Giro", kind="checking", currency="EUR")
    return ledger


def test_the_account_is_chosen_remembered_and_its_currency_checked(
    banked: Ledger, data_dir: Path, files_of: Callable[[Path], dict[str, bytes]]
) -> None:
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    upload(at, "csv/sparkasse_camt.csv")  # in EUR: the default account (Checking) is in USD
    assert account_select(at, "Into account").value == "Checking"
    before = files_of(data_dir)
    (error,) = texts(at.error)
    assert "'EUR' is the currency of this row, but the account Checking is in USD" in error
    assert files_of(data_dir) == before
    account_select(at, "Into account").set_value("Giro").run()
    assert not at.error
    assert set(at.dataframe[0].value["Account"]) == {"Giro"}
    at.button(key="imp_confirm").click().run()
    assert {t.account for t in Ledger(data_dir).transactions()} == {"Giro"}

    ofx = AppTest.from_file(str(PAGE), default_timeout=60).run()
    upload(ofx, "ofx/checking.ofx")
    account_select(ofx, "Into account").set_value("Savings").run()
    ofx.button(key="imp_confirm").click().run()
    assert any("statement's balance on 2013-05-25 is 100.99 USD" in t for t in texts(ofx.info))
    again = AppTest.from_file(str(PAGE), default_timeout=60).run()
    upload(again, "ofx/checking.ofx")
    assert account_select(again, "Into account").value == "Savings"  # remembered for this bank account


def test_a_twin_is_offered_as_a_transfer_and_can_be_declined(banked: Ledger, data_dir: Path) -> None:
    banked.add("expense", "300", category="Misc", date="2026-01-14", account="Checking", note="to savings")
    csv = b"Date,Description,Amount\n2026-01-15,From checking,300\n2026-01-16,Interest,1.25\n"
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    upload(at, "", name="savings.csv", data=csv)
    account_select(at, "Into account").set_value("Savings").run()
    (box,) = [c for c in at.checkbox if str(c.key).startswith("imp_transfer_")]
    assert box.value is True
    assert "with Checking" in str(box.label)
    box.uncheck().run()
    at.button(key="imp_confirm").click().run()
    assert {t.type for t in Ledger(data_dir).transactions()} == {"income", "expense"}  # declined: nothing linked
    Ledger(data_dir).undo()

    again = AppTest.from_file(str(PAGE), default_timeout=60).run()
    upload(again, "", name="savings.csv", data=csv)
    account_select(again, "Into account").set_value("Savings").run()
    again.button(key="imp_confirm").click().run()
    assert "Linked 1 transfer with your other accounts." in texts(again.success)[0]
    arrived = next(t for t in Ledger(data_dir).transactions() if t.note == "From checking")
    assert arrived.type == "transfer"
    assert Ledger(data_dir).get(arrived.link).note == "to savings"


def test_a_file_of_two_accounts_asks_for_each(banked: Ledger, data_dir: Path) -> None:
    from test_importers_accounts import TWO_STATEMENTS

    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    upload(at, "", name="two.ofx", data=TWO_STATEMENTS.encode())
    assert any("This file holds 2 accounts" in str(m.value) for m in at.markdown)
    account_select(at, "Statement of checking 123/9100").set_value("Checking").run()
    account_select(at, "Statement of savings 123/9200").set_value("Savings").run()
    assert not at.error
    at.button(key="imp_confirm").click().run()
    assert not at.exception
    by_note = {t.note: t.account for t in Ledger(data_dir).transactions()}
    assert by_note == {"To savings": "Checking", "Grocer": "Checking", "From checking": "Savings"}


def test_original_columns_picked_in_the_editor_show_in_the_preview(page: AppTest, data_dir: Path) -> None:
    text = (
        "Date,Description,Amount,Fx Amt,Fx Cur,Fx Quote\n"
        "2024-03-04,Cafe Paris,-45.10,41.00,EUR,\n2024-03-05,Hotel Tokyo,-61.54,,JPY,0.0062\n2024-03-06,Kiosk,-2.00,,,\n"
    )
    at = upload(page, "", name="card.csv", data=text.encode())
    assert not at.error
    assert "Original" not in at.dataframe[0].value  # the headers alone say nothing
    offered = {str(s.key) for s in at.selectbox}
    assert {f"imp_{role}_col" for role in ORIGINAL_ROLES} <= offered  # one column choice per role
    at.selectbox(key="imp_original_amount_col").set_value("Fx Amt").run()
    at.selectbox(key="imp_original_currency_col").set_value("Fx Cur").run()
    at.selectbox(key="imp_exchange_rate_col").set_value("Fx Quote").run()
    assert not at.exception
    assert not at.error
    preview = at.dataframe[0].value
    assert list(preview["Original"]) == ["41.00 EUR", "9926 JPY", ""]  # 61.54 / 0.0062 = 9925.8... yen
    at.button(key="imp_confirm").click().run()
    assert not at.exception
    got = {t.note: (t.original_amount, t.original_currency) for t in Ledger(data_dir).transactions()}
    assert got == {
        "Cafe Paris": (Decimal("41.00"), "EUR"),
        "Hotel Tokyo": (Decimal("9926"), "JPY"),
        "Kiosk": (None, ""),
    }
