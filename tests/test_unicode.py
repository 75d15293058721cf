"""Unicode everywhere: categories, tags and notes in any script, emoji, right-to-left text, combining
marks, very long strings and control characters.

Text is stored as typed, except that it is trimmed and NFC-normalised (``e`` + combining acute is
stored as ``é``: the same text, one spelling, so that filters and categories match). It comes back
exactly through the API, a reload, the CLI (json, csv, table; in-process and a real process),
exports (CSV, JSON, XLSX), a re-import of the exports, and the UI's table. Control characters, lone
surrogates and over-long text are refused with a message naming the field.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import assert_rejected, record_figures, run_cli

from tracker.errors import ValidationError
from tracker.ledger import Ledger
from tracker.model import MAX_CATEGORY, MAX_NOTE, MAX_TAG

APP = Path(__file__).resolve().parents[1] / "tracker" / "ui" / "app.py"

# (category, tags, note): every script and the tricky parts of Unicode.
SAMPLES: list[tuple[str, list[str], str]] = [
    ("Café ☕", ["work", "Straße"], "Crème brûlée, naïve façade — ½ price"),
    ("食料品", ["家族", "東京"], "スーパーで買い物 (日本語)"),
    ("مطعم", ["عمل"], "عشاء مع الأصدقاء في المطعم"),  # Arabic, right-to-left
    ("מסעדה", ["עבודה"], "ארוחת ערב ‏(RTL mark)‏"),  # Hebrew with U+200F
    ("Ελληνικά", ["ταξίδι"], "Καλημέρα κόσμε"),
    ("Продукты", ["дом"], "Съешь же ещё этих мягких французских булок"),
    ("हिन्दी", ["घर"], "नमस्ते दुनिया"),  # Devanagari: combining vowel signs
    ("ภาษาไทย", ["บ้าน"], "สวัสดีครับ"),
    ("한국어", ["가족"], "안녕하세요"),
    ("👩‍👩‍👧 Family", ["🚀", "🇩🇪"], "ZWJ 👩‍👩‍👧, flag 🇯🇵, skin tone 👍🏽, keycap 1️⃣"),
    ("Zalgo", ["z̸"], "Z̴̡̪̫͖̥̔̿̃̈̏̎͠a̵̜̩͈͉̓̈́l̷̢͎͖̦̓g̵̛̟̩̍o̴̧̠̿"),  # stacked combining marks
    ("Mixed עברית English", ["bidi"], "‮override‬ and ‪embed‬"),  # U+202E/U+202C bidi controls (format, allowed)
    ("Math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", ["𝒯"], "astral plane 𝄞 𐍈"),
    ("=HYPERLINK()", ["@at"], "-2+3 looks like a formula"),
]
DECOMPOSED = ("Cafe\u0301", ["Stra\u00dfe", "e\u0301te\u0301"], "De\u0301compose\u0301 cre\u0300me bru\u0302le\u0301e")
REFUSED = {
    "category": ["Bell\x07", "line\nbreak", "tab\tstop", "esc \x1b[31mred\x1b[0m", "nul\x00", "C1 \x9b control", ""],
    "note": ["\x1b]0;pwned\x07", "cr\rlf", "lone \ud800 surrogate", "x" * (MAX_NOTE + 1)],
    "tags": [["two words"], ["bell\x07"], ["x" * (MAX_TAG + 1)], [f"t{i}" for i in range(21)]],
}


def unformula(cell: str) -> str:
    """A spreadsheet cell as typed: the ``'`` that neutralises a formula-like text taken off."""
    return cell[1:] if cell[:2] in ("'=", "'-", "'@", "'+") else cell


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


@pytest.fixture
def filled(data_dir: Path) -> tuple[Ledger, dict[str, tuple[str, list[str], str]]]:
    """A ledger with one transaction per sample (ids -> what was typed)."""
    ledger = Ledger(data_dir)
    typed = {}
    for i, (category, tags, note) in enumerate([*SAMPLES, DECOMPOSED]):
        tx = ledger.add("expense", f"{i + 1}.50", category=category, tags=tags, note=note, date=f"2026-03-{i + 1:02d}")
        typed[tx.id] = (category, tags, note)
    return ledger, typed


def expected(typed: tuple[str, list[str], str]) -> tuple[str, list[str], str]:
    category, tags, note = typed
    return nfc(category), sorted((nfc(t).lstrip("#") for t in tags), key=str.casefold), nfc(note)


def test_text_in_any_script_survives_storage_and_reload_exactly(filled: Any, data_dir: Path) -> None:
    ledger, typed = filled
    fresh = Ledger(data_dir)
    for tx_id, sample in typed.items():
        tx = fresh.get(tx_id)
        assert (tx.category, list(tx.tags), tx.note) == expected(sample)
    assert fresh.transactions() == ledger.transactions()
    assert set(fresh.categories()) == {nfc(c) for c, _, _ in [*SAMPLES, DECOMPOSED]}
    decomposed = next(t for t in fresh.transactions() if t.note.startswith("Décomposé"))
    assert decomposed.category == "Café"  # one spelling: the composed (NFC) form
    assert fresh.frame()["category"].str.contains("Café").sum() == 2  # so a filter finds both spellings


def test_the_cli_shows_the_text_faithfully_in_json_csv_and_table(filled: Any, data_dir: Path) -> None:
    _, typed = filled
    as_json = run_cli(["--data-dir", str(data_dir), "list", "--format", "json"])
    assert as_json.code == 0, as_json.show()
    rows = {r["id"]: r for r in json.loads(as_json.out)}
    for tx_id, sample in typed.items():
        assert (rows[tx_id]["category"], rows[tx_id]["tags"], rows[tx_id]["note"]) == expected(sample)

    as_csv = run_cli(["--data-dir", str(data_dir), "list", "--format", "csv"])
    assert as_csv.code == 0, as_csv.show()
    for row in csv.DictReader(io.StringIO(as_csv.out)):
        category, tags, note = expected(typed[row["id"]])
        assert unformula(row["category"]) == category
        assert unformula(row["tags"]) == " ".join(tags)
        assert unformula(row["note"]) == note

    table = run_cli(["--data-dir", str(data_dir), "list"])
    assert table.code == 0, table.show()
    for sample in typed.values():
        category, _, note = expected(sample)
        assert category in table.out
        assert note in table.out

    summary = run_cli(["--data-dir", str(data_dir), "summary", "--format", "json"])
    by_category = json.loads(summary.out)["by_category"]
    assert set(by_category) == {expected(s)[0] for s in typed.values()}


def test_a_real_process_reads_and_writes_unicode_arguments_and_output(data_dir: Path, tmp_path: Path) -> None:
    category, tags, note = SAMPLES[9]
    prefix = [sys.executable, "-m", "tracker.cli", "--data-dir", str(data_dir)]
    env = {**os.environ, "EXPENSE_TRACKER_LOG_DIR": str(tmp_path / "logs")}
    add = subprocess.run(
        [
            *prefix,
            "add",
            "expense",
            "4.20",
            "--category",
            category,
            "--note",
            note,
            *[part for t in tags for part in ("--tag", t)],
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert add.returncode == 0, add.stderr
    encodings = ("utf-8", "cp1252", "ascii")  # a UTF-8 terminal, a redirected Windows console, a bare one
    runs = {
        (encoding, fmt): subprocess.Popen(
            [*prefix, "list", *(["--format", "json"] if fmt == "json" else [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**env, "PYTHONIOENCODING": encoding},
        )
        for encoding in encodings
        for fmt in ("json", "table")
    }
    for (encoding, fmt), proc in runs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err  # what the encoding cannot show is escaped, never a crash
        if fmt == "json":
            (row,) = json.loads(out.decode(encoding))
            assert (row["category"], row["tags"], row["note"]) == expected((category, tags, note)), encoding
        else:
            assert b"4.20" in out


def test_exports_keep_the_text_and_re_import_it_exactly(filled: Any, data_dir: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    ledger, typed = filled
    for fmt in ("csv", "json", "xlsx"):
        target = tmp_path / f"all.{fmt}"
        result = run_cli(["--data-dir", str(data_dir), "export", "-o", str(target)])
        assert result.code == 0, result.show()
    doc = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    by_id = {r["id"]: r for r in doc["transactions"]}
    for tx_id, sample in typed.items():
        assert (by_id[tx_id]["category"], by_id[tx_id]["tags"], by_id[tx_id]["note"]) == expected(sample)
    sheet = load_workbook(tmp_path / "all.xlsx", read_only=True)["Transactions"]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        category, tags, note = expected(typed[cells["id"]])
        assert unformula(cells["category"]) == category
        assert unformula(cells["note"] or "") == note
        assert unformula(cells["tags"] or "") == " ".join(tags)
    text = (tmp_path / "all.csv").read_bytes().decode("utf-8-sig")
    assert all(expected(s)[2] in text or "'" + expected(s)[2] in text for s in typed.values())
    # the JSON export restores every text exactly into another ledger
    other = tmp_path / "other"
    result = run_cli(["--data-dir", str(other), "import", str(tmp_path / "all.json")])
    assert result.code == 0, result.show()
    assert {t.id: (t.category, t.tags, t.note) for t in Ledger(other).transactions()} == {
        t.id: (t.category, t.tags, t.note) for t in ledger.transactions()
    }


def test_the_ui_table_shows_the_text_exactly(filled: Any) -> None:
    from streamlit.testing.v1 import AppTest

    _, typed = filled
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/transactions.py").run()
    at.sidebar.selectbox(key="tx_period").set_value("All time").run()
    assert not at.exception, at.exception
    table = at.data_editor[0].value
    assert len(table) == len(typed)
    for tx_id, sample in typed.items():
        row = table.loc[tx_id]
        category, tags, note = expected(sample)
        assert (row["category"], list(row["tags"]), row["note"]) == (category, tags, note)


@pytest.mark.parametrize(("field", "value"), [(f, v) for f, values in REFUSED.items() for v in values])
def test_control_characters_and_overlong_text_are_refused_naming_the_field(
    data_dir: Path, field: str, value: Any
) -> None:
    ledger = Ledger(data_dir)
    kwargs: dict[str, Any] = {"category": "Food", "note": "", "tags": []}
    kwargs["category" if field == "category" else field] = value
    with pytest.raises(ValidationError) as info:
        ledger.add("expense", "1", **kwargs)
    message = str(info.value)
    assert message.split(":")[0] in ("category", "note", "tag", "tags")
    assert "\x1b" not in message
    assert "\x07" not in message
    assert "\n" not in message  # the message shows the value escaped: no terminal tricks, one line
    assert ledger.transactions() == []
    if field != "tags" and "\ud800" not in value and "\x00" not in value:  # argv cannot carry NUL or surrogates
        result = run_cli(
            ["--data-dir", str(data_dir), "add", "expense", "1", f"--{field}", value]
            + (["--category", "X"] if field != "category" else [])
        )
        assert_rejected(result, field)
        assert "\x1b" not in result.err


def test_the_longest_allowed_texts_are_kept_whole(data_dir: Path) -> None:
    ledger = Ledger(data_dir)
    category = "家" * MAX_CATEGORY
    note = ("👩‍👩‍👧 " * 200)[:MAX_NOTE].strip()
    tag = "ü" * MAX_TAG
    tx = ledger.add("expense", "1", category=category, note=note, tags=[tag])
    assert Ledger(data_dir).get(tx.id) == tx
    assert (tx.category, tx.note, tx.tags) == (category, note, (tag,))
    with pytest.raises(ValidationError, match="longer than 60"):
        ledger.add("expense", "1", category=category + "家")


def test_quick_entry_and_filters_work_in_any_script(filled: Any, data_dir: Path) -> None:
    from tracker import filter_data
    from tracker.quickentry import preview

    ledger, _ = filled
    entry = preview(ledger, "café 4,50€ #家族 @Überraschung", today=None)
    assert (entry.category, entry.tags, entry.amount_minor, entry.currency) == ("Überraschung", ("家族",), 450, "EUR")
    frame = ledger.frame()
    assert len(filter_data(frame, categories=["مطعم"])) == 1
    assert len(filter_data(frame, tags=["家族"])) == 1
    assert len(filter_data(frame, text="булок")) == 1
    assert len(filter_data(frame, text="CAFÉ")) == 2
    record_figures("unicode", {"scripts_and_cases": len(SAMPLES) + 1, "refused_cases": sum(map(len, REFUSED.values()))})
