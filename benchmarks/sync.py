"""Sync at N transactions: a new device's first sync, one change sent, 1,000 changes applied, the save path.

Two devices sync through a folder (the transport people use with Syncthing or Dropbox), every file sealed with
AES-256-GCM (a key from the key-check file, so the figures include the encryption; the keyring is not involved).
Device A starts with the benchmark's ledger (a copy of the built one), B with nothing.

``sync_first_publish_s``   A's first sync: every row compared, stamped and published as one snapshot.
``sync_first_apply_s``     B's first sync: the snapshot downloaded, opened, merged and committed (N rows arrive).
``sync_send_one_ms``       after one durable add on A, A's sync: the change found, sealed, written and listed
                           (work off the save path; median of ``fast_repeats``).
``sync_apply_1000_s``      A edits 1,000 rows in one change and syncs; B's sync applying them.
``sync_add_ms``            a durable add on A while sync is set up (the save path with its dirty-log line).

``python -m benchmarks.sync [N]`` measures once on a generated ledger and prints the figures; the runner's group
is ``sync``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.runner import Context

FIGURES = ("sync_first_publish_s", "sync_first_apply_s", "sync_send_one_ms", "sync_apply_1000_s", "sync_add_ms")
PASSPHRASE = "benchmark passphrase"


def measure(ctx: Context) -> dict[str, dict[str, Any]]:
    """The figures of :data:`FIGURES` (``ctx.work`` holds the devices and the sync folder)."""
    from benchmarks.runner import figure
    from tracker.ledger import Ledger
    from tracker.sync.crypto import new_keycheck, sealer_for
    from tracker.sync.files import KEYCHECK
    from tracker.sync.session import folder_location, setup
    from tracker.sync.syncer import sync_now
    from tracker.sync.transport import FolderTransport

    root = ctx.work / "sync"
    shutil.rmtree(root, ignore_errors=True)
    location = root / "location"
    location.mkdir(parents=True)
    shutil.copytree(ctx.data_dir, root / "a", ignore=shutil.ignore_patterns("sync"))
    for name in ("a", "b"):
        setup(root / name, folder_location(location), passphrase=None, encrypted=False, device_name=name)
    content, key = new_keycheck(PASSPHRASE)  # after the set-up (which is told "not encrypted": no keyring here)
    (location / KEYCHECK).write_bytes(content)
    sealer = sealer_for(key)
    transport = FolderTransport(location)
    a, b = Ledger(root / "a"), Ledger(root / "b")

    def timed(ledger: Ledger) -> tuple[float, Any]:
        t0 = time.perf_counter()
        report = sync_now(ledger, transport, sealer)
        return time.perf_counter() - t0, report

    publish, sent = timed(a)
    apply, received = timed(b)
    adds, sends = [], []
    for i in range(ctx.fast_repeats):
        t0 = time.perf_counter()
        a.add_expense("1.25", category="Coffee", note=f"bench {i}")
        adds.append((time.perf_counter() - t0) * 1000)
        took, _ = timed(a)
        sends.append(took * 1000)
    ids = a.frame()["id"].tolist()[:1000]
    a.update_many({tx_id: {"note": "edited on a"} for tx_id in ids}, label="bench edit")
    timed(a)
    applied, report = timed(b)
    files = {p.name: p.stat().st_size for p in location.iterdir()}
    return {
        "sync_first_publish_s": figure([publish], "s", sent=sent.sent, files=len(files)),
        "sync_first_apply_s": figure(
            [apply], "s", received=received.received, snapshot_mb=max(files.values(), default=0) / 1e6
        ),
        "sync_send_one_ms": figure(sends, "ms", transport="folder", sealed="AES-256-GCM"),
        "sync_apply_1000_s": figure([applied], "s", received=report.received),
        "sync_add_ms": figure(adds, "ms", median_without_sync="see add_ms"),
    }


def main() -> int:
    from benchmarks.generate import write_ledger
    from benchmarks.runner import Context

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory(prefix="et-sync-") as tmp:
        data = Path(tmp) / "data"
        write_ledger(data, n)
        ctx = Context(n=n, data_dir=data, work=Path(tmp), repeats=1, log=print)
        found = measure(ctx)
    print(json.dumps({k: {f: v for f, v in r.items() if f != "samples"} for k, r in found.items()}, indent=2))
    print("medians:", {k: round(statistics.median(v["samples"]), 3) for k, v in found.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
