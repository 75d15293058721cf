"""The Import & Export page, run by Streamlit's AppTest on a private data folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
