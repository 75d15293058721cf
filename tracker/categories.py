"""Category and tag management: rename and merge across the whole ledger, and a colour per category.

Every operation is ONE ledger commit (transactions and the meta values that name the category, i.e. budgets,
recurring templates, import rules and colours, together), so one ``ledger.undo()`` reverts it entirely.
Names match case-insensitively: renaming ``food`` renames ``Food`` and ``FOOD`` too. What a rename does to a
meta value is the business of the feature that owns it: rename and merge loop over the features declared in
:mod:`tracker.features` (the colours' declaration, :data:`COLORS`, is here).

Rename vs merge: ``rename`` gives a category (or tag) a new name that is not in use yet (changing only
the capitalisation is a rename too); ``merge`` folds one or more names into a target that may already
exist. Colours live in ledger meta ``"category_colors"`` as ``{category: "#rrggbb"}`` (the spelling used
by the transactions); the charts read that mapping.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from tracker.budgets import BUDGETS
from tracker.errors import NotFoundError, ValidationError
from tracker.features import MetaFeature, NameChange, Rename, carry, mentioned, reported
from tracker.model import Transaction, apply_changes, clean_category, clean_tags
from tracker.recurring import RECURRING

if TYPE_CHECKING:
    from tracker.ledger import Ledger

COLORS_KEY = "category_colors"
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


@dataclasses.dataclass(frozen=True)
class Change:
    """What a rename or merge did: the transactions changed, and per feature meta key the entries changed."""

    transactions: int
    moved: Mapping[str, int] = dataclasses.field(default_factory=dict)
    revision: int = 0
    label: str = ""

    def also(self) -> list[str]:
        """What else it changed, as a report names it: ``["1 budget setting", "the colour"]``."""
        return reported(self.moved)

    @property
    def budgets(self) -> int:
        """Budget settings changed (respelt, or dropped in a merge into a category with budgets of its own)."""
        return self.moved.get(BUDGETS.key, 0)

    @property
    def templates(self) -> int:
        """Recurring templates changed."""
        return self.moved.get(RECURRING.key, 0)

    @property
    def rules(self) -> int:
        """Import rules changed."""
        from tracker.importers.rules import RULES  # pulls in the importers

        return self.moved.get(RULES.key, 0)

    @property
    def colors(self) -> int:
        """1 if the category colours changed."""
        return self.moved.get(COLORS.key, 0)


# --- pure helpers ---------------------------------------------------------------------------------------------


def clean_color(value: object) -> str:
    """``"#1f77b4"`` (also ``1F77B4``, ``#abc``) -> lower-case ``#rrggbb``; ``ValidationError`` otherwise."""
    if not isinstance(value, str) or not _HEX.match(value.strip()):
        raise ValidationError("color", value, "is not a colour; write it as #rrggbb, for example #1f77b4")
    digits = _HEX.match(value.strip()).group(1).lower()  # type: ignore[union-attr]
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return "#" + digits


def color_for(colors: Mapping[str, str], category: str) -> str | None:
    """The colour of ``category`` in a ``category_colors`` mapping, matched case-insensitively."""
    if category in colors:
        return colors[category]
    folded = category.casefold()
    return next((c for name, c in colors.items() if name.casefold() == folded), None)


def _load_colors(raw: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _stored_colors(colors: Mapping[str, str]) -> dict[str, str] | None:
    return dict(colors) or None  # no colours left removes the meta key


def recolor(colors: Mapping[str, str], change: NameChange) -> tuple[dict[str, str], int]:
    """The colours after a category rename or merge (1 if they changed): the target keeps its own, else inherits one."""
    own = next((c for name, c in colors.items() if change.is_target(name)), None)
    inherited = next((c for name, c in colors.items() if change.hits(name)), None)
    out = {name: c for name, c in colors.items() if not change.hits(name)}
    chosen = own or inherited
    if chosen:
        out[change.target] = chosen
    return out, int(out != colors)


COLORS: MetaFeature[dict[str, str]] = MetaFeature(
    COLORS_KEY,
    load=_load_colors,
    dump=_stored_colors,
    noun="colour",
    counted=False,
    categories=lambda colors: list(colors),
    rename_category=recolor,
)
"""The category colours' slice of the ledger meta."""


def _keys(names: Iterable[str]) -> set[str]:
    return {n.casefold() for n in names}


def recategorize(transactions: Iterable[Transaction], sources: Iterable[str], target: str) -> list[Transaction]:
    """Copies of the transactions whose category (or a split line's) is one of ``sources`` (case-insensitive),
    now in ``target``."""
    keys = _keys(sources)
    out = []
    for t in transactions:
        if t.splits:
            lines = [
                dataclasses.replace(ln, category=target) if ln.category.casefold() in keys else ln for ln in t.splits
            ]
            if tuple(lines) != t.splits:
                out.append(apply_changes(t, {"splits": lines}))
        elif t.category.casefold() in keys and t.category != target:
            out.append(apply_changes(t, {"category": target}))
    return out


def retag(transactions: Iterable[Transaction], sources: Iterable[str], target: str) -> list[Transaction]:
    """Copies of the transactions carrying one of the ``sources`` tags (or a split line carrying one), with them
    replaced by ``target``."""
    keys = _keys(sources)

    def moved(tags: Iterable[str]) -> list[str]:
        return [target if t.casefold() in keys else t for t in tags]

    out = []
    for tx in transactions:
        if not any(t.casefold() in keys for t in (*tx.tags, *(t for ln in tx.splits for t in ln.tags))):
            continue
        changes: dict[str, object] = {"tags": moved(tx.tags)}
        if tx.splits:
            changes["splits"] = [dataclasses.replace(ln, tags=clean_tags(moved(ln.tags))) for ln in tx.splits]
        changed = apply_changes(tx, changes)
        if changed != tx:
            out.append(changed)
    return out


# --- on a ledger ----------------------------------------------------------------------------------------------


def preferred_spellings(frame: pd.DataFrame) -> dict[str, str]:
    """casefold -> the spelling of each category the transactions use most (on a tie, the most recent)."""
    usage: dict[str, tuple[int, int]] = {}
    for position, name in enumerate(frame["category"].astype(str)):
        count, _ = usage.get(name, (0, 0))
        usage[name] = (count + 1, position)
    best: dict[str, tuple[tuple[int, int], str]] = {}
    for name, rank in usage.items():
        key = name.casefold()
        if key not in best or rank > best[key][0]:
            best[key] = (rank, name)
    return {key: name for key, (_, name) in best.items()}


def _category_names(ledger: Ledger) -> dict[str, str]:
    """casefold -> spelling of every category named anywhere (transactions and every feature in the meta).

    For a category the transactions spell in several ways, the most used spelling wins (on a tie, the most recent).
    """
    names = {name.casefold(): name for name in mentioned(ledger, lambda f: f.categories)}
    names.update(preferred_spellings(ledger.lines()))
    return names


def rename_category(ledger: Ledger, old: str, new: str) -> Change:
    """Rename a category everywhere (one undoable commit). ``new`` must not be another existing category."""
    old_name = clean_category(old)
    new_name = clean_category(new)
    with ledger.locked():
        ledger.refresh()
        names = _category_names(ledger)
        if old_name.casefold() not in names:
            raise NotFoundError(
                "category", old_name, "is not used by any transaction, budget, recurring template or import rule"
            )
        if new_name.casefold() in names and new_name.casefold() != old_name.casefold():
            raise ValidationError(
                "category",
                new_name,
                f"already exists; use 'category merge {old_name} --into {new_name}' to combine them",
            )
        return _move_category(
            ledger, [old_name], new_name, f"rename category {names[old_name.casefold()]} to {new_name}"
        )


def merge_categories(ledger: Ledger, sources: Sequence[str], target: str) -> Change:
    """Fold the ``sources`` categories into ``target`` (new or existing), everywhere; one undoable commit.

    Budgets: if the target has budgets of its own they are kept and the sources' budgets are dropped;
    otherwise the sources' budgets move to the target. The target keeps its colour, else inherits one.
    """
    target_name = clean_category(target)
    source_names = [clean_category(s) for s in sources]
    if not source_names:
        raise ValidationError("sources", "", "must name at least one category to merge")
    with ledger.locked():
        ledger.refresh()
        names = _category_names(ledger)
        missing = [s for s in source_names if s.casefold() not in names]
        if missing:
            raise NotFoundError(
                "category", missing[0], "is not used by any transaction, budget, recurring template or import rule"
            )
        existing = names.get(target_name.casefold())
        # Merging into an existing category keeps its spelling unless only the case differs from a source.
        final = existing if existing and target_name.casefold() not in _keys(source_names) else target_name
        shown = ", ".join(names[s.casefold()] for s in source_names)
        return _move_category(ledger, source_names, final, f"merge categories {shown} into {final}", merge=True)


def _move_category(ledger: Ledger, sources: Sequence[str], target: str, label: str, merge: bool = False) -> Change:
    changed = recategorize(ledger.transactions(), sources, target)
    if merge:
        # every spelling of the target itself is normalised too
        changed += recategorize(
            (t for t in ledger.transactions() if t.category.casefold() not in _keys(sources) and not t.splits),
            [target],
            target,
        )
    return _commit(ledger, changed, NameChange.of(sources, target), lambda f: f.rename_category, label)


def rename_tag(ledger: Ledger, old: str, new: str) -> Change:
    """Rename a tag on every transaction and template (one undoable commit); ``new`` must not be in use."""
    (old_tag,) = clean_tags([old]) or ("",)
    (new_tag,) = clean_tags([new]) or ("",)
    if not old_tag or not new_tag:
        raise ValidationError("tag", old if not old_tag else new, "must not be empty")
    with ledger.locked():
        ledger.refresh()
        used = {t.casefold(): t for t in ledger.tags()}
        if old_tag.casefold() not in used:
            raise NotFoundError("tag", old_tag, "is not used by any transaction")
        if new_tag.casefold() in used and new_tag.casefold() != old_tag.casefold():
            raise ValidationError(
                "tag", new_tag, f"already exists; use 'tag merge {old_tag} --into {new_tag}' to combine them"
            )
        return _move_tags(ledger, [old_tag], new_tag, f"rename tag {used[old_tag.casefold()]} to {new_tag}")


def merge_tags(ledger: Ledger, sources: Sequence[str], target: str) -> Change:
    """Replace the ``sources`` tags by ``target`` on every transaction and template (one undoable commit)."""
    source_tags = list(clean_tags(sources))
    (target_tag,) = clean_tags([target]) or ("",)
    if not source_tags or not target_tag:
        raise ValidationError("tag", target if not target_tag else ", ".join(sources), "must not be empty")
    with ledger.locked():
        ledger.refresh()
        used = {t.casefold(): t for t in ledger.tags()}
        missing = [s for s in source_tags if s.casefold() not in used]
        if missing:
            raise NotFoundError("tag", missing[0], "is not used by any transaction")
        final = (
            used.get(target_tag.casefold(), target_tag)
            if target_tag.casefold() not in _keys(source_tags)
            else target_tag
        )
        shown = ", ".join(used[s.casefold()] for s in source_tags)
        return _move_tags(ledger, source_tags, final, f"merge tags {shown} into {final}")


def _move_tags(ledger: Ledger, sources: Sequence[str], target: str, label: str) -> Change:
    change = NameChange.of(sources, target)
    return _commit(ledger, retag(ledger.transactions(), change.keys, target), change, lambda f: f.rename_tag, label)


def _commit(
    ledger: Ledger,
    changed: list[Transaction],
    change: NameChange,
    rename: Callable[[MetaFeature[Any]], Rename[Any]],
    label: str,
) -> Change:
    """The changed transactions and every feature's renamed meta value, as one undoable commit."""
    meta, moved = carry(ledger, change, rename)
    if not changed and not meta:
        return Change(0, label=label, revision=ledger.revision)
    revision = ledger.commit(puts=changed, meta=meta, label=label)
    return Change(len(changed), moved, revision=revision, label=label)


def category_colors(ledger: Ledger) -> dict[str, str]:
    """The ``{category: "#rrggbb"}`` mapping stored in the ledger."""
    return COLORS.read(ledger)


def set_category_color(ledger: Ledger, category: str, color: str | None) -> str | None:
    """Set (or with ``None`` remove) the colour of a category; one undoable commit. Returns the stored colour."""
    name = clean_category(category)
    value = clean_color(color) if color is not None else None
    with ledger.locked():
        ledger.refresh()
        names = _category_names(ledger)
        spelling = names.get(name.casefold(), name)
        colors = {k: v for k, v in category_colors(ledger).items() if k.casefold() != name.casefold()}
        if value is None:
            if len(colors) == len(category_colors(ledger)):
                raise NotFoundError("category", name, "has no colour")
            label = f"remove the colour of {spelling}"
        else:
            colors[spelling] = value
            label = f"colour {spelling} {value}"
        COLORS.write(ledger, colors, label)
    return value
