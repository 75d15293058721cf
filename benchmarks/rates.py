"""Exchange rates at the size of the ECB's whole history: the import, what it stores, a read, a conversion.

:func:`write_ecb_history` writes a synthetic ``eurofxref-hist.csv``: 30 years of weekdays, newest first, 30
currencies (random walks with 4 to 6 significant digits, trailing zeros kept as the ECB writes them), ``N/A``
before a currency's first day and on about 1 % of days, a trailing comma on every line. Independent of N.

``rates_import_s``      ``expense-tracker rates import FILE`` into an empty data folder, whole process (median of 3).
``rates_stored_mb``     ``ledger.json`` + ``ledger.journal`` after that import (the rates' meta value, once).
``rates_read_ms``       ``RATES.read(ledger)`` on a loaded ledger: ``Ledger.meta``'s copy and the load's checks.
``rates_convert_ms``    ``tracker.rates.convert`` of 100,000 rows (USD, EUR, GBP over the 30 years: EUR direct, GBP
                        through EUR) into USD, the currencies a ``tracker.rows.Coded`` column, on a freshly read
                        book (the pairs it needs decoded in the call); ``again_ms``: the same book again.

``python -m benchmarks.rates`` measures once and prints the figures; the runner's group is ``rates``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.runner import Context

FIGURES = ("rates_import_s", "rates_stored_mb", "rates_read_ms", "rates_convert_ms")
CURRENCIES = (
    "USD",
    "JPY",
    "BGN",
    "CZK",
    "DKK",
    "GBP",
    "HUF",
    "PLN",
    "RON",
    "SEK",
    "CHF",
    "ISK",
    "NOK",
    "TRY",
    "AUD",
    "BRL",
    "CAD",
    "CNY",
    "HKD",
    "IDR",
    "ILS",
    "INR",
    "KRW",
    "MXN",
    "MYR",
    "NZD",
    "PHP",
    "SGD",
    "THB",
    "ZAR",
)
LAST = dt.date(2024, 12, 31)
YEARS = 30
ROWS = 100_000
IMPORTS = 3


def write_ecb_history(path: Path, seed: int = 16) -> int:
    """The synthetic ECB history file at ``path``; returns how many rates it holds."""
    rng = random.Random(seed)
    first = LAST.replace(year=LAST.year - YEARS)
    days = [first + dt.timedelta(days=i) for i in range((LAST - first).days + 1)]
    days = [d for d in days if d.weekday() < 5]
    walks = {}
    for code in CURRENCIES:
        start = rng.choice([0] * 20 + [rng.randrange(len(days) // 2) for _ in range(10)])  # some begin later
        level, digits = 10 ** rng.uniform(-1, 3.5), rng.randint(4, 6)
        cells = []
        for i in range(len(days)):
            level *= 1 + rng.gauss(0, 0.004)
            if i < start or rng.random() < 0.01:
                cells.append("N/A")
            else:
                cells.append(f"{level:#.{digits}g}".rstrip(".") if level < 10**digits else f"{level:.0f}")
        walks[code] = cells
    lines = ["Date," + ",".join(CURRENCIES) + ","]
    for i in reversed(range(len(days))):
        lines.append(days[i].isoformat() + "," + ",".join(walks[c][i] for c in CURRENCIES) + ",")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sum(cell != "N/A" for cells in walks.values() for cell in cells)


def _stored_bytes(folder: Path) -> dict[str, int]:
    return {
        name: (folder / name).stat().st_size for name in ("ledger.json", "ledger.journal") if (folder / name).exists()
    }


def measure(ctx: Context) -> dict[str, dict[str, Any]]:
    """The figures of :data:`FIGURES` (``ctx.work`` holds the file and the data folders)."""
    import numpy as np

    from benchmarks.runner import _measured_child, _python, figure
    from tracker.ledger import Ledger
    from tracker.rates import RATES, convert
    from tracker.rows import coded

    source = ctx.work / "eurofxref-hist.csv"
    count = write_ecb_history(source, ctx.seed)
    walls, cpus, stored = [], [], {}
    for i in range(IMPORTS):
        folder = ctx.work / f"rates-{i}"
        status, _, err, usage = _measured_child(
            [_python(), "-m", "tracker.cli", "--data-dir", str(folder), "rates", "import", str(source)]
        )
        if status != 0:
            raise RuntimeError(f"rates import failed ({status}): {err.decode()[-1000:]}")
        walls.append(usage["wall_s"])
        cpus.append(usage["cpu_s"])
        stored = _stored_bytes(folder)
    ledger = Ledger(ctx.work / "rates-0")
    reads = []
    for _ in range(ctx.fast_repeats):
        t0 = time.perf_counter()
        RATES.read(ledger)
        reads.append((time.perf_counter() - t0) * 1000)
    rng = np.random.default_rng(ctx.seed)
    lo = (LAST.replace(year=LAST.year - YEARS) - dt.date(1970, 1, 1)).days
    amounts = rng.integers(-(10**7), 10**7, ROWS)
    currencies = coded(rng.choice(["USD", "EUR", "GBP"], ROWS).tolist())  # as callers have them (tracker.rows)
    days = rng.integers(lo + 30, lo + 365 * YEARS, ROWS)
    firsts, agains, missing = [], [], {}
    for _ in range(ctx.fast_repeats):
        book = RATES.read(ledger)
        t0 = time.perf_counter()
        done = convert(amounts, currencies, days, "USD", book)
        firsts.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        convert(amounts, currencies, days, "USD", book)
        agains.append((time.perf_counter() - t0) * 1000)
        missing = done.missing
    return {
        "rates_import_s": figure(
            walls, "s", cpu_median=statistics.median(cpus), rates=count, currencies=len(CURRENCIES), years=YEARS
        ),
        "rates_stored_mb": figure([sum(stored.values()) / 1e6], "MB", files=stored),
        "rates_read_ms": figure(reads, "ms", where="RATES.read on a loaded ledger"),
        "rates_convert_ms": figure(
            firsts, "ms", rows=ROWS, again_ms=statistics.median(agains), missing=missing, target="USD"
        ),
    }


def main() -> int:
    from benchmarks.runner import Context

    with tempfile.TemporaryDirectory(prefix="et-rates-") as tmp:
        ctx = Context(n=ROWS, data_dir=Path(tmp), work=Path(tmp), repeats=IMPORTS, log=print)
        found = measure(ctx)
    print(json.dumps({k: {f: v for f, v in r.items() if f != "samples"} for k, r in found.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
