"""Exchange rates on the command line through real subprocesses: rates add, import, list, delete, and undo.

Every bad input is exit 2 with one line naming the field (and, for a file, the file and the line), and the
data files stay byte-identical.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from test_cli_core import assert_user_error, run_all
from test_rates import ECB, write

from tracker.ledger import Ledger

FilesOf = Callable[[Path], dict[str, bytes]]


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_import_list_and_import_again(tmp_path: Path, data_dir: Path, cli: Any, files_of: FilesOf) -> None:
    path = write(tmp_path / "eurofxref-hist.csv", ECB)
    done = cli("rates", "import", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"imported 11 rates from {path} (ECB history): 11 new, 0 replaced, 0 already stored\n"
    before = files_of(data_dir)
    again = cli("rates", "import", str(path), "--format", "json")
    assert _json(again) == {"file": str(path), "layout": "ECB history", "added": 0, "replaced": 0, "unchanged": 11}
    assert files_of(data_dir) == before  # nothing written the second time

    usd, eur_base, table = run_all(
        data_dir,
        [
            ["rates", "list", "--quote", "usd", "--format", "json"],
            ["rates", "list", "--base", "EUR", "--format", "json"],
            ["rates", "list"],
        ],
    )
    assert _json(usd) == [
        {"date": "2024-01-05", "base": "EUR", "quote": "USD", "rate": "1.0921"},
        {"date": "2024-01-08", "base": "EUR", "quote": "USD", "rate": "1.0945"},
        {"date": "2024-01-09", "base": "EUR", "quote": "USD", "rate": "1.0953"},
    ]
    assert len(_json(eur_base)) == 11
    assert {r["rate"] for r in _json(eur_base) if r["quote"] == "JPY"} == {"157.8", "158.25"}  # exact decimal text
    assert table.stdout.splitlines()[0].split() == ["date", "base", "quote", "rate"]
    assert table.stdout.endswith("11 rates\n")


def test_add_replace_delete_and_undo(data_dir: Path, cli: Any) -> None:
    assert cli("rates", "add", "2024-01-10", "gbp", "usd", "1.27310").stdout == "GBP/USD 2024-01-10 1.2731\n"
    revision = Ledger(data_dir).revision
    assert cli("rates", "add", "2024-01-10", "GBP", "USD", "1.2731").stdout == "GBP/USD 2024-01-10 1.2731 (unchanged)\n"
    assert Ledger(data_dir).revision == revision
    assert (
        cli("rates", "add", "2024-01-10", "GBP", "USD", "1.2735").stdout == "GBP/USD 2024-01-10 1.2735 (was 1.2731)\n"
    )
    assert cli("rates", "add", "2024-01-11", "EUR", "USD", "1.09").returncode == 0
    listed = _json(cli("rates", "list", "--base", "GBP", "--format", "json"))
    assert listed == [{"date": "2024-01-10", "base": "GBP", "quote": "USD", "rate": "1.2735"}]

    deleted = cli("rates", "delete", "2024-01-10", "GBP", "USD")
    assert deleted.stdout == "deleted GBP/USD 2024-01-10 (1.2735)\n"
    assert _json(cli("rates", "list", "--base", "GBP", "--format", "json")) == []
    undone = cli("undo")
    assert undone.returncode == 0, undone.stderr
    assert "delete rate GBP/USD 2024-01-10" in undone.stdout
    assert _json(cli("rates", "list", "--base", "GBP", "--format", "json"))[0]["rate"] == "1.2735"
    assert cli("undo").returncode == 0  # the EUR/USD add
    assert cli("undo").returncode == 0  # the replacement
    assert _json(cli("rates", "list", "--format", "json")) == [
        {"date": "2024-01-10", "base": "GBP", "quote": "USD", "rate": "1.2731"}
    ]


def test_bad_input_is_one_line_and_changes_nothing(tmp_path: Path, data_dir: Path, cli: Any, files_of: FilesOf) -> None:
    assert cli("rates", "add", "2024-01-10", "GBP", "USD", "1.27").returncode == 0
    bad_rate = write(tmp_path / "bad-rate.csv", ECB.replace("0.8591", "abc"))
    bad_code = write(tmp_path / "bad-code.csv", ECB.replace("JPY", "XYZ"))
    bad_date = write(tmp_path / "bad-date.csv", "date,base,quote,rate\n2024-01-10,EUR,USD,1.09\n2024-13-01,EUR,USD,1\n")
    before = files_of(data_dir)
    cases: list[tuple[list[str], tuple[str, ...]]] = [
        (["rates", "add", "2024-01-10", "GBP", "USD", "0"], ("rate:", "'0'", "greater than zero")),
        (["rates", "add", "2024-01-10", "GBP", "USD", "-1.2"], ("rate:",)),
        (["rates", "add", "2024-01-10", "GBP", "USD", "1,27"], ("rate:", "a point before the decimals")),
        (["rates", "add", "2024-01-10", "GBP", "USD", "lots"], ("rate:",)),
        (["rates", "add", "2024-01-10", "GBP", "GBP", "1"], ("quote:", "base currency")),
        (["rates", "add", "2024-01-10", "GBP", "XYZ", "1"], ("currency:", "XYZ")),
        (["rates", "add", "10/01/2024", "GBP", "USD", "1"], ("date:",)),
        (["rates", "delete", "2024-01-11", "GBP", "USD"], ("rate:", "is not a stored rate")),
        (["rates", "list", "--base", "XYZ"], ("currency:", "XYZ")),
        (["rates", "import", str(bad_rate)], ("GBP:", "'abc'", f"file {bad_rate}, line 3")),
        (["rates", "import", str(bad_code)], ("currency:", "'XYZ'", f"file {bad_code}, line 1")),
        (["rates", "import", str(bad_date)], ("date:", "'2024-13-01'", f"file {bad_date}, line 3")),
        (["rates", "import", str(tmp_path / "nowhere.csv")], ("file:", "does not exist")),
    ]
    results = run_all(data_dir, [args for args, _ in cases])
    for (_args, words), result in zip(cases, results, strict=True):
        assert_user_error(result, *words)
    assert files_of(data_dir) == before


def test_damaged_stored_rates_are_one_line_not_a_traceback(data_dir: Path, cli: Any) -> None:
    Ledger(data_dir).set_meta("rates", {"EUR/USD": "19727|1|1.09,abc"}, label="damage")
    assert_user_error(cli("rates", "list"), "rates:", "EUR/USD", "damaged")
    Ledger(data_dir).set_meta("rates", {"EUR-USD": "19727||1.09"}, label="damage")
    assert_user_error(cli("rates", "add", "2024-01-10", "GBP", "USD", "1.27"), "rates:", "damaged")
