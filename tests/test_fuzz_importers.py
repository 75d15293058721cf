"""Fuzzing every importer (CSV, OFX/QFX, QIF, and our JSON export) with random bytes and mutated real files.

The real bank files of the fixtures (``/work/shared/fixtures`` and ``tests/fixtures``) are mutated
(bytes flipped, inserted, deleted, repeated; the file truncated) and random bytes are tried as every
format. Three levels:

* the import *plan* (``plan_import``: read, categorise, validate), thousands of times: an
  ``ImportPlan`` whose rows are valid transactions, or ``ImportFileError``/``ValidationError``;
* ``import_file`` on a ledger: a refused file leaves the data files byte-identical; an accepted one
  is exactly one commit holding exactly the rows announced (never a partial import);
* the CLI (``main(["import", FILE])`` in this process): exit 0, or 2 with one line; never a traceback.

Failures inside a parser that the pipeline only catches as "cannot be read as X (SomeError: ...)"
are counted and listed in the figures (they are no traceback, but each is a parser that did not say
what is wrong).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import THOROUGH, assert_clean_outcome, bank_files, files_of, record_figures, run_cli

from tracker.errors import ValidationError
from tracker.export import to_json
from tracker.importers import FORMATS, ImportOptions, LedgerView, import_file, plan_import
from tracker.ledger import Ledger
from tracker.model import make_transaction

FILES = bank_files()
SCALE = 8 if THOROUGH else 1
FIGURES: dict[str, Any] = {"plans": 0, "plans_refused": 0, "imports": 0, "imports_refused": 0, "cli_runs": 0}
FALLBACKS: Counter[str] = Counter()
TRIED: set[str] = set()

pytestmark = pytest.mark.skipif(not FILES, reason="no bank-file fixtures found (../shared/fixtures, tests/fixtures)")


def _export_sample() -> bytes:
    txs = [
        make_transaction(type="expense", amount="12.50", category="Café ☕", currency="EUR", date="2026-01-02"),
        make_transaction(
            type="income", amount="1000", category="Salary", currency="JPY", date="2026-01-03", tags=["a"]
        ),
    ]
    return to_json(txs)


SAMPLES: dict[str, bytes] = {p.name: p.read_bytes() for p in FILES} | {"export.json": _export_sample()}


def fuzz(examples: int) -> Any:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    yield
    record_figures(
        "fuzz_importers",
        {
            **FIGURES,
            "real_files": len(FILES) + 1,
            "distinct_files_tried": len(TRIED),
            "parser_failures_caught_only_by_the_pipeline": dict(FALLBACKS),
        },
    )


@st.composite
def mutated(draw: Any) -> tuple[str, bytes]:
    """A real file with 1-6 mutations, or truncated."""
    name = draw(st.sampled_from(sorted(SAMPLES)))
    data = bytearray(SAMPLES[name])
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "truncate", "swap-line"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[pos:pos] = draw(
                st.binary(min_size=1, max_size=8) | st.sampled_from([b"\n", b",", b";", b"<", b"\x00", b"^", b'"'])
            )
        elif kind == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 16))]
        elif kind == "repeat" and data:
            end = min(len(data), pos + draw(st.integers(1, 200)))
            data[pos:pos] = data[pos:end]
        elif kind == "truncate":
            del data[pos:]
        elif kind == "swap-line":
            lines = bytes(data).split(b"\n")
            if len(lines) > 2:
                i = draw(st.integers(0, len(lines) - 2))
                lines[i], lines[i + 1] = lines[i + 1], lines[i]
                data = bytearray(b"\n".join(lines))
    return name, bytes(data)


def plan_or_refuse(data: bytes, name: str, kind: str = "") -> Any:
    """``plan_import``: a plan whose rows are valid, or ``None`` for a refused file. Anything else fails."""
    import hashlib

    TRIED.add(hashlib.sha256(data).hexdigest())
    FIGURES["plans"] += 1
    try:
        plan = plan_import(data, name, LedgerView(), ImportOptions(kind=kind))
    except ValidationError as exc:
        FIGURES["plans_refused"] += 1
        message = str(exc)
        assert message
        assert "\n" not in message
        if "cannot be read as" in message and "Error" in message:
            FALLBACKS[f"{kind or 'detected'}: {message.split('(')[-1].split(':')[0]}"] += 1
        return None
    for row in plan.rows:
        if row.draft is not None:
            assert row.draft.amount_minor > 0
            assert row.status in ("new", "duplicate", "skipped")
    return plan


@fuzz(500)
@given(sample=mutated())
def test_mutated_real_files_are_planned_or_refused_with_a_message(sample: tuple[str, bytes]) -> None:
    name, data = sample
    plan_or_refuse(data, name)


@fuzz(150)
@given(
    data=st.binary(max_size=3000),
    kind=st.sampled_from(["", *FORMATS]),
    suffix=st.sampled_from([".csv", ".ofx", ".qfx", ".qif", ".json", ".txt", ""]),
)
def test_random_bytes_as_every_format_are_refused_with_a_message(data: bytes, kind: str, suffix: str) -> None:
    plan_or_refuse(data, f"random{suffix}", kind)


@fuzz(150)
@given(
    head=st.sampled_from(
        [b"OFXHEADER:100\nDATA:OFXSGML\n", b"<?xml version='1.0'?><OFX>", b"!Type:Bank\n", b"{", b"[", b"\xef\xbb\xbf"]
    ),
    body=st.binary(max_size=2000) | st.text(max_size=500).map(str.encode),
)
def test_random_bodies_behind_real_headers_are_refused_with_a_message(head: bytes, body: bytes) -> None:
    plan_or_refuse(head + body, "headed.dat")


def test_every_real_file_truncated_at_many_points(tmp_path: Path) -> None:
    points = 40 if THOROUGH else 12
    for name, data in SAMPLES.items():
        for cut in sorted({len(data) * i // points for i in range(points)}):
            plan_or_refuse(data[:cut], name)


# -- all or nothing on a real ledger -------------------------------------------------------------------


class Workspace:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="fuzz-import-"))
        self.data = self.root / "data"
        self.ledger = Ledger(self.data)
        self.ledger.add("expense", "3.50", category="Coffee", note="COFFEE SHOP SEATTLE WA")


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return Workspace()


@fuzz(120)
@given(sample=mutated())
def test_an_import_is_all_or_nothing(ws: Workspace, sample: tuple[str, bytes]) -> None:
    name, data = sample
    ledger = Ledger(ws.data)
    before_files = files_of(ws.data)
    before = {t.id: t for t in ledger.transactions()}
    revision = ledger.revision
    FIGURES["imports"] += 1
    try:
        result = import_file(ledger, ws.root / name, data=data)
    except ValidationError:
        FIGURES["imports_refused"] += 1
        after_files = files_of(ws.data)
        assert {k: v[0] for k, v in after_files.items()} == {k: v[0] for k, v in before_files.items()}
        assert Ledger(ws.data).revision == revision
        return
    fresh = Ledger(ws.data)
    now = {t.id: t for t in fresh.transactions()}
    added = set(now) - set(before)
    assert added == {t.id for t in result.added}, "the import stored other rows than it announced"
    assert all(now[i] == before[i] for i in before), "an import changed existing transactions"
    assert fresh.revision == revision + (1 if result.added else 0), "an import is exactly one commit"


@fuzz(60)
@given(sample=mutated(), as_kind=st.sampled_from(["", "", *FORMATS]), dry=st.booleans())
def test_the_cli_import_exits_0_or_2_and_a_refusal_writes_nothing(
    ws: Workspace, sample: tuple[str, bytes], as_kind: str, dry: bool
) -> None:
    name, data = sample
    path = ws.root / "cli" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    before = files_of(ws.data)
    argv = ["--data-dir", str(ws.data), "import", str(path)] + (["--as", as_kind] if as_kind else [])
    argv += ["--dry-run"] if dry else []
    result = run_cli(argv)
    FIGURES["cli_runs"] += 1
    assert_clean_outcome(result)
    if result.code == 2 or dry:
        after = files_of(ws.data)
        assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}, result.show()
    if result.code == 2:
        assert name in result.err, result.show()


def test_a_huge_import_file_is_refused_before_reading(ws: Workspace, tmp_path: Path) -> None:
    from tracker.importers.base import MAX_FILE_BYTES

    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:
        fh.write(b"Date,Description,Amount\n")
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    before = files_of(ws.data)
    result = run_cli(["--data-dir", str(ws.data), "import", str(path)])
    assert result.code == 2, result.show()
    assert "too large" in result.err
    assert files_of(ws.data) == before
