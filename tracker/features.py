"""Feature settings kept in the ledger's ``meta``, each declared once (Fava's ``FavaModule`` idea).

A feature (budgets, recurring templates, import rules, saved CSV mappings, category colours) owns one meta
key. Its :class:`MetaFeature` says how the stored JSON loads into the feature's own values and dumps back,
which category names (and tags) those values mention, and what renaming a category (or a tag) does to them.
Each feature declares its instance in its own module; :func:`meta_features` lists them all, and the category
and tag rename/merge in :mod:`tracker.categories` loops over that list, so nobody edits another feature's
dict. A new feature (accounts, rates) is one declaration in its module plus its line in :func:`meta_features`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from tracker.ledger import Ledger

T = TypeVar("T")
E = TypeVar("E", bound="DataclassInstance")


@dataclasses.dataclass(frozen=True)
class NameChange:
    """Names folded into ``target`` (case-insensitively); other spellings of the target are normalised too."""

    keys: frozenset[str]
    """The casefolded source names and the target's."""
    target: str

    @classmethod
    def of(cls, sources: Iterable[str], target: str) -> NameChange:
        """The change of ``sources`` (any spelling) into ``target``."""
        return cls(frozenset(s.casefold() for s in sources) | {target.casefold()}, target)

    def hits(self, name: str) -> bool:
        """``name`` is one of the sources or a spelling of the target."""
        return name.casefold() in self.keys

    def moves(self, name: str) -> bool:
        """``name`` becomes ``target`` and is spelt differently now."""
        return self.hits(name) and name != self.target

    def is_target(self, name: str) -> bool:
        """``name`` is a spelling of the target itself."""
        return name.casefold() == self.target.casefold()

    def apply(self, name: str) -> str:
        """``target`` for a hit, else ``name`` unchanged."""
        return self.target if self.hits(name) else name


Rename = Callable[[T, NameChange], tuple[T, int]]
"""``(value, change) -> (new value, how many entries it changed)``; 0 leaves the stored value alone."""


def rename_entries(entries: Iterable[E], change: NameChange, field: str = "category") -> tuple[list[E], int]:
    """The entries (frozen dataclasses) with the ``field`` the change moves set to its target, and how many moved."""
    out: list[E] = []
    moved = 0
    for entry in entries:
        if change.moves(getattr(entry, field)):
            entry = dataclasses.replace(entry, **{field: change.target})
            moved += 1
        out.append(entry)
    return out, moved


def _mentions_none(value: object) -> tuple[str, ...]:
    return ()


def _unchanged(value: T, change: NameChange) -> tuple[T, int]:
    return value, 0


@dataclasses.dataclass(frozen=True)
class MetaFeature(Generic[T]):
    """One feature's slice of the ledger meta.

    Attributes:
        key: the meta key.
        load: the stored JSON (``None`` when the key is absent) -> the feature's value; refuses bad data.
        dump: the value -> the stored JSON; ``None`` (nothing to store) removes the key.
        noun: what a rename reports it changed, singular ("budget setting"); "" for a feature without names.
        counted: the report gives the number ("2 budget settings"), else the noun alone ("the colour").
        categories: the category names the value mentions.
        rename_category: a category rename or merge applied to the value.
        tags: the tags the value mentions.
        rename_tag: a tag rename or merge applied to the value.
        entry_key: what identifies one element of a list in the stored value (the value itself a list, or a list
            under one of its keys), so that devices merge the elements one by one (:mod:`tracker.sync.merge`);
            ``None``: a list is merged as a whole (rules, whose order matters).
    """

    key: str
    load: Callable[[Any], T]
    dump: Callable[[T], Any]
    noun: str = ""
    counted: bool = True
    categories: Callable[[T], Iterable[str]] = _mentions_none
    rename_category: Rename[T] = _unchanged
    tags: Callable[[T], Iterable[str]] = _mentions_none
    rename_tag: Rename[T] = _unchanged
    entry_key: Callable[[Any], str] | None = None

    def read(self, ledger: Ledger) -> T:
        """The feature's value in ``ledger``."""
        return self.load(ledger.meta(self.key))

    def write(self, ledger: Ledger, value: T, label: str) -> None:
        """Store ``value`` as one undoable commit."""
        ledger.set_meta(self.key, self.dump(value), label)

    def stored(self, value: T) -> dict[str, Any]:
        """``{key: stored form}``, for a :meth:`tracker.ledger.Ledger.commit` together with transactions."""
        return {self.key: self.dump(value)}

    def describe(self, count: int) -> str:
        """How a rename report names ``count`` changed entries: ``"2 budget settings"``, ``"the colour"``."""
        if not self.counted:
            return f"the {self.noun}"
        return f"{count} {self.noun}{'s' if count != 1 else ''}"


@functools.cache
def meta_features() -> tuple[MetaFeature[Any], ...]:
    """Every declared feature, in the order reports list them.

    Imported here, not at the top: the features import this module, and the importers' features pull in the
    importers, which a budget or a template does not need.
    """
    from tracker.accounts import ACCOUNTS
    from tracker.budgets import BUDGETS
    from tracker.categories import COLORS
    from tracker.importers.mappings import MAPPINGS
    from tracker.importers.rules import RULES
    from tracker.rates import RATES
    from tracker.recurring import RECURRING

    return (ACCOUNTS, BUDGETS, RECURRING, RULES, MAPPINGS, COLORS, RATES)


def declared_keys() -> frozenset[str]:
    """The meta keys the features own."""
    return frozenset(f.key for f in meta_features())


def reported(moved: Mapping[str, int]) -> list[str]:
    """``{key: entries changed}`` as a rename report names it, in declared order: ``["1 budget setting", "the colour"]``."""
    return [f.describe(moved[f.key]) for f in meta_features() if moved.get(f.key)]


def mentioned(ledger: Ledger, names: Callable[[MetaFeature[Any]], Callable[[Any], Iterable[str]]]) -> list[str]:
    """The names (``lambda f: f.categories`` or ``lambda f: f.tags``) every feature's value mentions, in order."""
    out: list[str] = []
    for feature in meta_features():
        out.extend(n for n in names(feature)(feature.read(ledger)) if n)
    return out


def carry(
    ledger: Ledger, change: NameChange, rename: Callable[[MetaFeature[Any]], Rename[Any]]
) -> tuple[dict[str, Any], dict[str, int]]:
    """The stored values a rename (``lambda f: f.rename_category`` or ``f.rename_tag``) changes, and the counts.

    Returns ``({key: new stored value}, {key: entries changed})``, only for the features it changes.
    """
    meta: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for feature in meta_features():
        value, count = rename(feature)(feature.read(ledger), change)
        if count:
            meta.update(feature.stored(value))
            counts[feature.key] = count
    return meta, counts
