"""How Debian's Chromium is driven headless here (by the browser tests and the benchmarks alike)."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("EXPENSE_TRACKER_CHROMIUM", "/usr/bin/chromium")
"""Debian's chromium package; never a browser downloaded by Playwright."""

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
"""Flags that work on these machines: no sandbox as root, and no background connections to the internet."""
