"""Categorising imported rows: the file's own category, the user's ordered rules, then history.

Rules live in the ledger meta ``"rules"`` as an ordered list of
``{"pattern": "rewe", "category": "Groceries", "regex": false}``; the first rule whose pattern is
found in the description (case-insensitive; a regular expression when ``regex`` is true) wins.
When no rule matches, :class:`History` suggests the category the user chose most often for
similar descriptions before. Otherwise the row gets :data:`DEFAULT_CATEGORY`.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from tracker.errors import ValidationError
from tracker.importers.dedup import normalise_description
from tracker.model import clean_category

DEFAULT_CATEGORY = "Uncategorized"
PLACEHOLDER_CATEGORIES = frozenset({"", "uncategorized", "uncategorised", "none", "n/a", "-", "unknown", "sonstiges"})
"""Categories in files that mean "no category" (rules and history then decide)."""

MAX_RULES = 500
MAX_PATTERN = 200

Source = Literal["file", "rule", "history", "default"]

_NOISE = frozenset(
    [
        "pos",
        "card",
        "visa",
        "mastercard",
        "maestro",
        "debit",
        "credit",
        "payment",
        "purchase",
        "eftpos",
        "sepa",
        "lastschrift",
        "kartenzahlung",
        "ec",
        "girocard",
        "the",
        "and",
        "to",
        "from",
        "for",
        "of",
        "www",
        "com",
        "ref",
        "inc",
        "ltd",
        "llc",
        "gmbh",
        "ag",
        "co",
        "uk",
        "de",
        "us",
        "wdl",
        "dd",
        "so",
        "tfr",
        "transfer",
        "online",
        "contactless",
        "apple",
        "pay",
        "google",
        "paypal",
    ]
)


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


def tokens(description: str) -> frozenset[str]:
    """The telling words of a description: letters only, no card/payment noise, no numbers."""
    words = normalise_description(description).split()
    return frozenset(w for w in words if len(w) > 1 and not any(ch.isdigit() for ch in w) and w not in _NOISE)


class History:
    """Suggests a category from how the user categorised similar descriptions before."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._by_key: dict[frozenset[str], Counter[str]] = defaultdict(Counter)
        self._index: dict[str, set[frozenset[str]]] = defaultdict(set)
        for description, category in pairs:
            if not category or category.casefold() in PLACEHOLDER_CATEGORIES:
                continue
            key = tokens(description)
            if not key:
                continue
            self._by_key[key][category] += 1
            for word in key:
                self._index[word].add(key)

    @classmethod
    def from_frame(cls, frame: Any) -> History:
        """From a ledger frame (its ``note`` and ``category`` columns)."""
        if frame is None or len(frame) == 0:
            return cls(())
        return cls(zip(frame["note"].astype(str), frame["category"].astype(str), strict=True))

    def __len__(self) -> int:
        return len(self._by_key)

    def suggest(self, description: str, threshold: float = 0.6) -> str | None:
        """The most frequent category of the most similar past descriptions, or ``None``.

        Similarity is the share of the shorter description's words found in the other (so the city a
        bank appends to ``NETFLIX.COM`` does not hide it), ties broken by the share of all words.
        """
        key = tokens(description)
        if not key:
            return None
        if key in self._by_key:
            return _most_common(self._by_key[key])
        candidates = set().union(*(self._index.get(w, set()) for w in key))
        best: tuple[float, float] = (0.0, 0.0)
        votes: Counter[str] = Counter()
        for cand in candidates:
            common = len(key & cand)
            score = (common / min(len(key), len(cand)), common / len(key | cand))
            if score > best:
                best, votes = score, Counter(self._by_key[cand])
            elif score == best:
                votes.update(self._by_key[cand])
        return _most_common(votes) if best[0] >= threshold else None


def _most_common(counts: Counter[str]) -> str | None:
    if not counts:
        return None
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold()))[0]


def categorise(
    description: str, file_category: str, rules: Sequence[Rule], history: History | None
) -> tuple[str, Source]:
    """The category of an imported row and where it came from."""
    if file_category and file_category.casefold() not in PLACEHOLDER_CATEGORIES:
        return file_category, "file"
    rule = first_match(rules, description)
    if rule is not None:
        return rule.category, "rule"
    if history is not None:
        suggestion = history.suggest(description)
        if suggestion:
            return suggestion, "history"
    return DEFAULT_CATEGORY, "default"
