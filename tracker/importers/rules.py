"""The user's import rules: an ordered list of ``pattern -> category``, stored in the ledger meta ``"rules"``.

Each rule is ``{"pattern": "rewe", "category": "Groceries", "regex": false}``; the first rule whose pattern is
found in the description (case-insensitive; a regular expression when ``regex`` is true) wins. They are asked
first by the one categoriser, :mod:`tracker.categorize`, for imports and quick entry alike.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tracker.errors import NotFoundError, ValidationError
from tracker.features import MetaFeature, rename_entries
from tracker.model import clean_category

if TYPE_CHECKING:
    from tracker.ledger import Ledger

RULES_KEY = "rules"
"""The ledger meta key of the rules."""
MAX_RULES = 500
MAX_PATTERN = 200


@dataclasses.dataclass(frozen=True)
class Rule:
    """Rows whose description contains ``pattern`` (or matches it, when ``regex``) get ``category``."""

    pattern: str
    category: str
    regex: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str) or not self.pattern.strip():
            raise ValidationError("pattern", self.pattern, "must not be empty")
        if len(self.pattern) > MAX_PATTERN:
            raise ValidationError("pattern", self.pattern, f"is longer than {MAX_PATTERN} characters")
        if not isinstance(self.regex, bool):
            raise ValidationError("regex", self.regex, "must be true or false")
        object.__setattr__(self, "category", clean_category(self.category))
        if self.regex:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValidationError("pattern", self.pattern, f"is not a valid regular expression ({exc})") from None
        else:
            object.__setattr__(self, "pattern", self.pattern.strip())

    def matches(self, description: str) -> bool:
        """Whether this rule applies to a description."""
        if self.regex:
            return re.search(self.pattern, description, re.IGNORECASE) is not None
        return self.pattern.casefold() in description.casefold()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in the ledger meta."""
        return {"pattern": self.pattern, "category": self.category, "regex": self.regex}


def load_rules(value: object) -> list[Rule]:
    """The rules stored in the ledger meta (``None`` -> no rules); a bad entry names its position."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError("rules", value, "must be a list of rules")
    rules = []
    for n, item in enumerate(value, 1):
        if not isinstance(item, Mapping) or set(item) - {"pattern", "category", "regex"}:
            raise ValidationError(f"rules[{n}]", item, "must be {pattern, category, regex}")
        try:
            rules.append(Rule(item.get("pattern", ""), item.get("category", ""), item.get("regex", False)))
        except ValidationError as exc:
            raise ValidationError(f"rule {n} {exc.field}", exc.value, exc.problem) from None
    return rules


def dump_rules(rules: Sequence[Rule]) -> list[dict[str, Any]]:
    """The JSON form of an ordered list of rules (checked for size)."""
    if len(rules) > MAX_RULES:
        raise ValidationError("rules", len(rules), f"are too many (the limit is {MAX_RULES})")
    return [r.to_dict() for r in rules]


def first_match(rules: Sequence[Rule], description: str) -> Rule | None:
    """The first rule (in order) that applies, or ``None``."""
    return next((r for r in rules if r.matches(description)), None)


def _stored_rules(rules: Sequence[Rule]) -> list[dict[str, Any]] | None:
    return dump_rules(rules) or None  # no rules left removes the meta key


RULES: MetaFeature[list[Rule]] = MetaFeature(
    RULES_KEY,
    load=load_rules,
    dump=_stored_rules,
    noun="import rule",
    categories=lambda rules: [r.category for r in rules],
    rename_category=rename_entries,
)
"""The import rules' slice of the ledger meta (see :mod:`tracker.features`)."""


def add_rule(ledger: Ledger, rule: Rule, position: int | None = None) -> int:
    """Insert ``rule`` at ``position`` (1-based; default: last) as one undoable change; returns its position."""
    with ledger.locked():
        ledger.refresh()
        rules = RULES.read(ledger)
        position = len(rules) + 1 if position is None else position
        if not 1 <= position <= len(rules) + 1:
            raise ValidationError("position", position, f"must be between 1 and {len(rules) + 1}")
        rules.insert(position - 1, rule)
        RULES.write(ledger, rules, label=f"add rule {rule.pattern!r}")
    return position


def remove_rule(ledger: Ledger, number: int) -> Rule:
    """Remove rule ``number`` (1-based) as one undoable change; returns the rule removed."""
    with ledger.locked():
        ledger.refresh()
        rules = RULES.read(ledger)
        if not 1 <= number <= len(rules):
            raise NotFoundError("rule", number, f"does not exist (there are {len(rules)} rules)")
        gone = rules.pop(number - 1)
        RULES.write(ledger, rules, label=f"remove rule {gone.pattern!r}")
    return gone
