"""Shared fixtures: a private data folder per test, a ledger on it, a transaction builder."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tracker.ledger import Ledger
from tracker.model import Transaction, make_transaction

THOROUGH = os.environ.get("EXPENSE_TRACKER_THOROUGH") == "1"

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
"""``make test``: the same examples on every run and machine (derandomized, no example database, no timing
limits), so a submission is never refused by a random draw. Tests keep their own ``max_examples``."""
settings.register_profile("thorough", derandomize=False, deadline=None, max_examples=1000, print_blob=True)
"""``make reliability`` (``EXPENSE_TRACKER_THOROUGH=1``): new random examples each run, more of them for tests
that do not set their own count (those scale theirs with ``THOROUGH``)."""
settings.load_profile("thorough" if THOROUGH else "ci")

ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"
TEST_OUTPUT = ROOT / "test-output"


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real user-data, log or cache folders: every test gets its own."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("EXPENSE_TRACKER_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("EXPENSE_TRACKER_LOG_DIR", str(home / "logs"))
    monkeypatch.setenv("EXPENSE_TRACKER_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder, also exported as ``EXPENSE_TRACKER_DATA_DIR``."""
    folder = tmp_path / "data"
    monkeypatch.setenv("EXPENSE_TRACKER_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def ledger(data_dir: Path) -> Ledger:
    """A ledger on :func:`data_dir`."""
    return Ledger(data_dir)


@pytest.fixture
def make_tx() -> Callable[..., Transaction]:
    """Build a valid transaction; override any field by keyword."""

    def build(**fields: Any) -> Transaction:
        base: dict[str, Any] = {
            "type": "expense",
            "amount": "12.50",
            "category": "Food",
            "currency": "EUR",
            "date": "2026-11-02",
        }
        base.update(fields)
        return make_transaction(**base)

    return build


@pytest.fixture
def cli(data_dir: Path) -> Callable[..., Any]:
    """Run ``expense-tracker --data-dir DATA ARGS...`` as a real subprocess; returns CompletedProcess."""
    import subprocess

    def run(*args: str, check: bool = False, input: str | None = None, env: dict[str, str] | None = None) -> Any:
        return subprocess.run(
            [sys.executable, "-m", "tracker.cli", "--data-dir", str(data_dir), *args],
            capture_output=True,
            text=True,
            check=check,
            input=input,
            env={**os.environ, **(env or {})},
            timeout=120,
        )

    return run


def snapshot_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> bytes), for byte-identical checks."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "ledger.lock"
    }


@pytest.fixture
def files_of() -> Callable[[Path], dict[str, bytes]]:
    """:func:`snapshot_files` as a fixture."""
    return snapshot_files


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """A folder under ``test-output/`` (git-ignored) named after the test, for screenshots and reports."""
    folder = TEST_OUTPUT / request.node.name.replace("/", "_").replace("[", "_").replace("]", "")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


TINY_APP = """
import streamlit as st
st.title("Tiny launcher test app")
st.write("rendered by", __file__)
"""
"""The Streamlit script the desktop server child runs in the launcher tests (instead of the app)."""


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A tmp data, log and cache folder and a tiny Streamlit script for the desktop server child; yields the
    data folder, and stops every server child still running afterwards."""
    from desktop import child, server, webprofile

    script = tmp_path / "tiny_app.py"
    script.write_text(TINY_APP, encoding="utf-8")
    data = tmp_path / "data"
    monkeypatch.setenv("EXPENSE_TRACKER_DATA_DIR", str(data))
    monkeypatch.setenv("EXPENSE_TRACKER_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv(webprofile.ENV_CACHE_DIR, str(tmp_path / "cache"))
    monkeypatch.setenv(child.ENV_SCRIPT, str(script))
    yield data
    server.stop_all(timeout=5)
