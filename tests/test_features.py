"""The feature settings in the ledger meta, each declared once: every key declared, a rename through each feature."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest

import tracker
from tracker import accounts, budgets, categories, features, rates, recurring
from tracker.categories import COLORS, rename_category, rename_tag
from tracker.errors import NotFoundError
from tracker.features import MetaFeature, NameChange, declared_keys, meta_features
from tracker.importers.mappings import MAPPINGS
from tracker.importers.rules import RULES
from tracker.ledger import Ledger

PRODUCT = Path(tracker.__file__).parent
LEDGER_OWN = {"settings"}
"""The ledger's own settings (currency, number format, theme): not a feature, no category in it."""

STORED: dict[str, Any] = {
    "rates": {"EUR/USD": "19727|31|1.0921,1.0945,1.0953"},
    "accounts": {
        "accounts": [
            {"name": "Main", "kind": "checking", "currency": "EUR", "opening_minor": 0},
            {"name": "Visa", "kind": "credit-card", "currency": "EUR", "opening_minor": -12000, "closed": True},
        ],
        "default": "Main",
    },
    "budgets": [
        {
            "category": "Coffee",
            "amount_minor": 5000,
            "currency": "EUR",
            "month": "2026-01",
            "every_month": True,
            "rollover": False,
        }
    ],
    "recurring": [
        {
            "id": "t1",
            "type": "expense",
            "amount_minor": 450,
            "currency": "EUR",
            "category": "Coffee",
            "tags": ["morning"],
            "note": "flat white",
            "every": 1,
            "unit": "week",
            "start": "2030-01-06",
            "end": None,
            "next_index": 0,
            "posted_until": None,
        }
    ],
    "rules": [{"pattern": "starbucks", "category": "Coffee", "regex": False}],
    "csv_mappings": {"My bank": {"date": "Booked", "amount": "Sum", "category": "Coffee"}},
    "category_colors": {"Coffee": "#6f4e37"},
}
"""One stored value per feature, as the product writes it; each names the category Coffee (the mapping only as a
column header, which is not a category)."""


def _meta_keys_in_product() -> dict[str, list[str]]:
    """Every meta key the product's code reads or writes: value -> where (``meta(K)``, ``set_meta(K, ...)``,
    ``peek_meta(_, K)``, ``commit(meta={K: ...})``, ``meta[K] = ...``), constants (``*_KEY``) resolved."""
    constants: dict[str, set[str]] = {}
    sites: list[tuple[str, ast.expr]] = []
    for path in sorted(PRODUCT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(PRODUCT.parent))
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant):
                for target in statement.targets:
                    if isinstance(target, ast.Name) and target.id.endswith("_KEY"):
                        constants.setdefault(target.id, set()).add(str(statement.value.value))
        for node in ast.walk(tree):
            found: list[ast.expr] = []
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
                if name in ("meta", "set_meta") and node.args:
                    found.append(node.args[0])
                if name == "peek_meta" and len(node.args) > 1:
                    found.append(node.args[1])
                found += [
                    k
                    for kw in node.keywords
                    if kw.arg == "meta" and isinstance(kw.value, ast.Dict)
                    for k in kw.value.keys
                    if k
                ]
            if isinstance(node, ast.Assign):
                found += [
                    t.slice
                    for t in node.targets
                    if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == "meta"
                ]
            sites += [(f"{where}:{e.lineno}", e) for e in found]
    keys: dict[str, list[str]] = {}
    for where, expr in sites:
        if isinstance(expr, ast.Constant):
            values = {str(expr.value)}
        elif isinstance(expr, ast.Name | ast.Attribute):
            name = expr.id if isinstance(expr, ast.Name) else expr.attr
            if name == "key" or not name.isupper():
                continue  # a parameter passed through (Ledger.set_meta, MetaFeature.read)
            assert name in constants, f"{where}: the meta key {ast.unparse(expr)} is not a module constant"
            values = constants[name]
        else:
            raise AssertionError(f"{where}: a meta key the test cannot read: {ast.unparse(expr)}")
        for value in values:
            keys.setdefault(value, []).append(where)
    return keys


def test_every_meta_key_the_product_uses_is_declared() -> None:
    used = _meta_keys_in_product()
    assert {"budgets", "category_colors", "settings"} <= set(used)  # the scan sees direct reads (the rest use .read)
    undeclared = {key: where for key, where in used.items() if key not in declared_keys() | LEDGER_OWN}
    assert not undeclared, f"declare these meta keys in tracker.features: {undeclared}"
    assert set(STORED) == declared_keys()


def test_each_feature_is_declared_once_by_its_owner() -> None:
    from tracker.importers import MAPPINGS_KEY, RULES_KEY

    keys = [f.key for f in meta_features()]
    assert len(keys) == len(set(keys))
    assert meta_features() == (
        accounts.ACCOUNTS,
        budgets.BUDGETS,
        recurring.RECURRING,
        RULES,
        MAPPINGS,
        COLORS,
        rates.RATES,
    )
    assert (
        accounts.ACCOUNTS.key,
        budgets.BUDGETS.key,
        recurring.RECURRING.key,
        RULES.key,
        MAPPINGS.key,
        COLORS.key,
    ) == (
        accounts.META_KEY,
        budgets.META_KEY,
        recurring.META_KEY,
        RULES_KEY,
        MAPPINGS_KEY,
        categories.COLORS_KEY,
    )


@pytest.mark.parametrize("feature", meta_features(), ids=lambda f: f.key)
def test_load_and_dump_round_trip_and_an_empty_value_removes_the_key(feature: MetaFeature[Any]) -> None:
    stored = STORED[feature.key]
    assert feature.dump(feature.load(stored)) == stored
    empty = feature.load(None)
    assert not empty
    assert feature.dump(empty) is None


@pytest.mark.parametrize("feature", meta_features(), ids=lambda f: f.key)
def test_a_rename_through_each_feature(feature: MetaFeature[Any]) -> None:
    value = feature.load(STORED[feature.key])
    change = NameChange.of(["coffee"], "Cafes")
    renamed, count = feature.rename_category(value, change)
    if feature in (MAPPINGS, accounts.ACCOUNTS, rates.RATES):  # columns, money, rates: never a category
        assert (list(feature.categories(value)), renamed, count) == ([], value, 0)
        return
    assert list(feature.categories(value)) == ["Coffee"]
    assert list(feature.categories(renamed)) == ["Cafes"]
    assert count == 1
    assert feature.rename_category(renamed, change) == (renamed, 0)  # nothing left to move
    assert feature.rename_category(value, NameChange.of(["Tea"], "Cafes")) == (value, 0)
    assert feature.load(feature.dump(renamed)) == renamed


@pytest.mark.parametrize("key", ["budgets", "recurring", "rules", "category_colors"])
def test_a_category_only_one_feature_names_is_renamed_on_the_ledger_in_one_undoable_commit(
    ledger: Ledger, key: str
) -> None:
    ledger.set_meta(key, STORED[key], label="set up")
    revision = ledger.revision
    change = rename_category(ledger, "COFFEE", "Cafes")
    assert ledger.revision == revision + 1
    assert change.moved == {key: 1}
    assert change.transactions == 0
    fresh = Ledger(ledger.location)
    feature = next(f for f in meta_features() if f.key == key)
    assert list(feature.categories(feature.read(fresh))) == ["Cafes"]
    assert fresh.undo() == change.label == "rename category Coffee to Cafes"
    assert fresh.meta(key) == STORED[key]


def test_a_saved_mapping_is_not_a_category(ledger: Ledger) -> None:
    ledger.set_meta(MAPPINGS.key, STORED[MAPPINGS.key], label="set up")
    with pytest.raises(NotFoundError):
        rename_category(ledger, "Coffee", "Cafes")
    ledger.add_expense("4", category="Coffee", date="2026-11-02", currency="EUR")
    assert rename_category(ledger, "Coffee", "Cafes").moved == {}
    assert ledger.meta(MAPPINGS.key) == STORED[MAPPINGS.key]


def test_merge_keeps_the_targets_own_budgets_and_colour() -> None:
    settings = budgets.BUDGETS.load(
        STORED["budgets"] + [{**STORED["budgets"][0], "category": "cafes", "amount_minor": 7000}]
    )
    merged, count = budgets.BUDGETS.rename_category(settings, NameChange.of(["Coffee"], "Cafes"))
    assert [(s.category, s.amount_minor) for s in merged] == [("Cafes", 7000)]
    assert count == 2  # one dropped, one respelt
    colors, changed = COLORS.rename_category(
        {"Coffee": "#111111", "CAFES": "#222222"}, NameChange.of(["coffee"], "Cafes")
    )
    assert (colors, changed) == ({"Cafes": "#222222"}, 1)


def test_a_tag_rename_through_the_recurring_templates() -> None:
    templates = recurring.RECURRING.load(STORED["recurring"])
    assert list(recurring.RECURRING.tags(templates)) == ["morning"]
    renamed, count = recurring.RECURRING.rename_tag(templates, NameChange.of(["MORNING"], "#early"))
    assert (renamed[0].tags, count) == (("early",), 1)
    assert recurring.RECURRING.rename_tag(templates, NameChange.of(["evening"], "late")) == (templates, 0)
    for feature in meta_features():
        if feature is not recurring.RECURRING:
            value = feature.load(STORED[feature.key])
            assert (list(feature.tags(value)), feature.rename_tag(value, NameChange.of(["morning"], "x"))) == (
                [],
                (value, 0),
            )


def test_the_report_names_what_each_feature_changed_in_declared_order(ledger: Ledger) -> None:
    ledger.add_expense("4", category="coffee", tags=["morning"], date="2026-11-02", currency="EUR")
    ledger.commit(meta=STORED, label="set up")
    change = rename_category(ledger, "Coffee", "Cafes")
    assert change.also() == ["1 budget setting", "1 recurring template", "1 import rule", "the colour"]
    assert (change.transactions, change.budgets, change.templates, change.rules, change.colors) == (1, 1, 1, 1, 1)
    tags = rename_tag(ledger, "morning", "early")
    assert (tags.transactions, tags.templates, tags.also()) == (1, 1, ["1 recurring template"])


@dataclasses.dataclass(frozen=True)
class Wallet:
    name: str
    category: str


def test_a_new_feature_is_one_declaration(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    wallets: MetaFeature[list[Wallet]] = MetaFeature(
        "wallets",
        load=lambda raw: [Wallet(**a) for a in raw or []],
        dump=lambda value: [dataclasses.asdict(a) for a in value] or None,
        noun="wallet",
        categories=lambda value: [a.category for a in value],
        rename_category=features.rename_entries,
    )
    monkeypatch.setattr(features, "meta_features", lambda: (*meta_features(), wallets))
    ledger.set_meta("wallets", [{"name": "Wallet", "category": "coffee"}, {"name": "Bank", "category": "Rent"}])
    before = ledger.meta("wallets")
    change = categories.merge_categories(ledger, ["Coffee", "rent"], "Living")
    assert change.moved == {"wallets": 2}
    assert change.also() == ["2 wallets"]
    assert ledger.meta("wallets") == [{"name": "Wallet", "category": "Living"}, {"name": "Bank", "category": "Living"}]
    ledger.undo()
    assert ledger.meta("wallets") == before


def test_name_change_folds_every_spelling() -> None:
    change = NameChange.of(["food", "Fun"], "Eating")
    assert [change.apply(n) for n in ("FOOD", "fun", "eating", "Eating", "Rent")] == [
        "Eating",
        "Eating",
        "Eating",
        "Eating",
        "Rent",
    ]
    assert [change.moves(n) for n in ("FOOD", "eating", "Eating", "Rent")] == [True, True, False, False]
    assert change.is_target("EATING")
    assert not change.is_target("food")
