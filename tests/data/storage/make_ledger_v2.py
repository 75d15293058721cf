"""Writes ``ledger-v2-undo.json`` and ``ledger-v2-undo-states.json`` beside it; run with the schema 2 code.

It was run on the tree before storage schema 3 (commit 18ee9be) as
``PYTHONPATH=<that tree> python make_ledger_v2.py OUT``: a schema 2 ledger whose undo history holds whole
journal entries (an add, an income, an edit, a meta change, a deletion, a 40-row import), and the states
the schema 2 code reached by undoing it step by step (each with the label undo returned).
"""

import json
import shutil
import sys
from pathlib import Path

from tracker.ledger import Ledger
from tracker.model import make_transaction

out = Path(sys.argv[1])
folder = out / "folder"
shutil.rmtree(folder, ignore_errors=True)
led = Ledger(folder)
a = led.add("expense", "12.50", category="Café", date="2026-01-05", note="croissant", tags=["work"], currency="EUR")
b = led.add("income", "1000", category="Salary", date="2026-01-01")
led.update(a.id, amount="13.75", note="croissant and coffee")
led.set_meta("budgets", [{"category": "Café", "amount_minor": 5000}])
led.delete(b.id)
many = [
    make_transaction(
        type="expense",
        amount=f"{i}.01",
        currency="USD",
        category=f"Imported {i % 3}",
        date=f"2026-02-{i % 28 + 1:02d}",
        note=f"row {i}",
    )
    for i in range(1, 41)
]
led.add_many(many, label="import bank.csv")
led.engine.fold()
snap = json.loads((folder / "ledger.json").read_bytes())
assert snap["schema_version"] == 2
assert len(snap["undo"]) == 6


def state(ledger: Ledger) -> dict[str, object]:
    return {"records": {t.id: t.to_record() for t in ledger.transactions()}, "budgets": ledger.meta("budgets")}


check = Ledger(folder)
shutil.copy(folder / "ledger.json", out / "ledger-v2-undo.json")
states = [{"label": None, **state(check)}]
while (label := check.undo()) is not None:
    states.append({"label": label, **state(Ledger(folder))})
(out / "ledger-v2-undo-states.json").write_text(json.dumps(states, indent=1, ensure_ascii=False) + "\n")
print(len(states), [s["label"] for s in states])
