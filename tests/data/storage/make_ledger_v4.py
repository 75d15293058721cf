"""Writes tests/data/storage/ledger-v4 (schema 4, journal version 2) with the code of commit 4765f02, before splits:

git worktree add /tmp/old4 4765f02 && PYTHONPATH=/tmp/old4 python tests/data/storage/make_ledger_v4.py DIR
"""

import sys

from tracker.accounts import add_account, add_transfer
from tracker.ledger import Ledger

d = sys.argv[1]
led = Ledger(d)
add_account(led, "Checking", kind="checking", currency="USD", opening="1000", opening_date="2026-01-01")
add_account(led, "Euro", kind="savings", currency="EUR")
led.add_expense("12.50", category="Food", date="2026-03-04", account="Checking", tags=["lunch"], note="café")
led.add_income("900", category="Salary", date="2026-03-05", account="Checking")
add_account(led, "Savings", kind="savings", currency="USD")
add_transfer(led, "100", source="Checking", target="Savings", date="2026-03-06")
led.engine.fold()
led.add_expense("30", category="Books", date="2026-03-07", account="Euro")
