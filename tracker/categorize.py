"""One categoriser, for imports and quick entry: the user's rules, then the learned history, then one default.

1. a **category in the file** itself (imports only), unless it is a placeholder such as ``Uncategorized``;
2. the user's **rules** (:mod:`tracker.importers.rules`, ledger meta ``"rules"``): the first rule whose pattern
   is found in the description;
3. the **history** (:class:`History`): what the user chose before. The same description (of the same type)
   gives its most frequent category; else a description word that names an existing category gives that
   category; else the most similar past descriptions vote (similarity: the share of the shorter one's words
   found in the other, at least :data:`BANK_SIMILARITY` for a bank's noisy text; any shared word for what a
   person typed, :data:`TYPED_SIMILARITY`). Ties go to the category used more often overall, then to the
   most recently used;
4. else :data:`DEFAULT_CATEGORY`, for imports and quick entry, expenses and income alike.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the importers package imports this module: its names are read when called
    import pandas as pd

    from tracker.importers.rules import Rule
    from tracker.ledger import Ledger
    from tracker.model import Transaction

DEFAULT_CATEGORY = "Uncategorized"
"""The category of a transaction nothing tells about (imports and quick entry)."""
PLACEHOLDER_CATEGORIES = frozenset({"", "uncategorized", "uncategorised", "none", "n/a", "-", "unknown", "sonstiges"})
"""Categories that mean "no category": a file's are ignored, and the history does not learn them."""
BANK_SIMILARITY = 0.6
"""Bank text carries a city, a card number, a branch: most words of the shorter description must agree."""
TYPED_SIMILARITY = 0.0
"""Every word a person types is meant: one shared word is enough."""

Learned = Literal["history", "category", "words"]
"""How the history found a category: the same description, a word naming a category, similar descriptions."""
Source = Literal["file", "explicit", "rule", "history", "category", "words", "word", "default"]
"""Where a category came from (``explicit`` and ``word`` are quick entry's ``@Category`` and new name)."""

STOPWORDS = frozenset(
    ["a", "an", "the", "at", "for", "from", "in", "of", "on", "to", "with", "my", "our", "and", "or", "new", "some"]
)
_JARGON = (
    "pos card visa mastercard maestro debit credit payment purchase eftpos sepa lastschrift kartenzahlung ec "
    "girocard www com ref inc ltd llc gmbh ag co uk de us wdl dd so tfr transfer online contactless apple pay "
    "google paypal"
)
_NOISE = STOPWORDS | frozenset(_JARGON.split())
"""Words that say nothing about what was bought: card and payment jargon, company forms, small words."""


def word_key(word: str) -> str:
    """A comparison key for one (already case-, accent- and punctuation-folded) word: plural ``s`` dropped."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=1 << 16)
def _fold(text: str) -> str:
    from tracker.importers.dedup import normalise_description

    return normalise_description(text)


@functools.lru_cache(maxsize=1 << 16)
def _words(description: str) -> tuple[str, ...]:
    words = dict.fromkeys(word_key(w) for w in _fold(description).split())
    return tuple(w for w in words if len(w) > 1 and not any(ch.isdigit() for ch in w) and w not in _NOISE)


def tokens(description: str) -> frozenset[str]:
    """The telling words of a description: folded, no numbers, no card/payment noise or small words."""
    return frozenset(_words(description))


def _same_text(description: str) -> str:
    return " ".join(description.casefold().split())


class History:
    """What the user's past transactions say about categories, indexed once for :meth:`suggest`.

    Build it once per ledger revision (:meth:`from_frame`) and reuse it for every row of an import or every
    keystroke of a quick-entry preview. ``pairs`` are ``(description, category)`` of any type, oldest first.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._exact: dict[str, dict[str, Counter[str]]] = {}
        self._by_key: dict[tuple[str, frozenset[str]], Counter[str]] = defaultdict(Counter)
        self._index: dict[str, set[tuple[str, frozenset[str]]]] = defaultdict(set)
        self._names: dict[str, tuple[int, str]] = {}
        self._total: Counter[str] = Counter()
        self._recent: dict[str, int] = {}
        self._add_rows(("", d, c, n) for n, (d, c) in enumerate(pairs))

    def _add_rows(self, rows: Iterable[tuple[str, str, str, int]]) -> None:
        """Index ``(type, description, category, order)`` rows (a larger ``order`` is more recent)."""
        groups: dict[tuple[str, str, str], list[int]] = {}
        for tx_type, note, category, order in rows:
            group = groups.setdefault((tx_type, note, category), [0, order])
            group[0] += 1
            group[1] = max(group[1], order)
        self._index_groups((t, n, c, count, last) for (t, n, c), (count, last) in groups.items())

    def _index_groups(self, groups: Iterable[tuple[str, str, str, int, int]]) -> None:
        """Index ``(type, description, category, count, last order)``: the work grows with distinct notes."""
        for tx_type, note, category, count, last in groups:
            if category.casefold() in PLACEHOLDER_CATEGORIES:
                continue
            self._total[category] += count
            self._recent[category] = max(last, self._recent.get(category, last))
            name = word_key(_fold(category))
            if name not in self._names or last >= self._names[name][0]:
                self._names[name] = (last, category)  # the most recent spelling
            text = _same_text(note)
            if not text:
                continue
            self._exact.setdefault(text, {}).setdefault(tx_type, Counter())[category] += count
            key = tokens(note)
            if key:
                self._by_key[(tx_type, key)][category] += count
                for word in key:
                    self._index[word].add((tx_type, key))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame | None) -> History:
        """From a transactions frame (``Ledger.frame()``); rows are in date order, so position is recency."""
        history = cls()
        if frame is None or len(frame) == 0:
            return history
        import pandas as pd

        rows = pd.DataFrame(
            {
                "type": frame["type"].astype(str).to_numpy(),
                "note": frame["note"].astype(str).to_numpy(),
                "category": frame["category"].astype(str).to_numpy(),
                "order": range(len(frame)),
            }
        )
        grouped = rows.groupby(["type", "note", "category"], sort=False)["order"].agg(["size", "max"])
        history._index_groups(
            (t, n, c, int(count), int(last))
            for (t, n, c), count, last in zip(grouped.index, grouped["size"], grouped["max"], strict=True)
        )
        return history

    @classmethod
    def from_transactions(cls, transactions: Iterable[Transaction]) -> History:
        """From transactions (ordered by date, then creation, for recency)."""
        history = cls()
        txs = sorted(transactions, key=lambda t: (t.date, t.created_at))
        history._add_rows((t.type, t.note, t.category, n) for n, t in enumerate(txs))
        return history

    def __len__(self) -> int:
        """How many distinct (type, description words) the history knows."""
        return len(self._by_key)

    def _best(self, counts: Mapping[str, int]) -> str:
        return min(counts, key=lambda c: (-counts[c], -self._total[c], -self._recent.get(c, -1), c.casefold()))

    def suggest(self, description: str, threshold: float = BANK_SIMILARITY) -> str | None:
        """The category the history suggests for a bank's ``description`` (compared with any type), or ``None``."""
        found = self.guess(description, None, threshold)
        return found[0] if found else None

    def guess(
        self, description: str, tx_type: str | None = None, similarity: float = TYPED_SIMILARITY
    ) -> tuple[str, Learned] | None:
        """The category for ``description`` and how it was found, or ``None`` if the history says nothing.

        ``tx_type`` (``expense``/``income``) limits what is compared to past transactions of that type
        (``None``: any type); ``similarity`` is the share of words the most similar descriptions must share
        (:data:`TYPED_SIMILARITY`, the default, for what a person typed; :data:`BANK_SIMILARITY` for bank text).
        """
        text = _same_text(description)
        if not text:
            return None
        exact: Counter[str] = Counter()
        for kind, counts in self._exact.get(text, {}).items():
            if tx_type is None or kind == tx_type:
                exact.update(counts)
        if exact:
            return self._best(exact), "history"
        words = _words(description)
        for word in words:
            if word in self._names:
                return self._names[word][1], "category"
        key = frozenset(words)
        candidates = {c for w in key for c in self._index.get(w, ()) if tx_type is None or c[0] == tx_type}
        best: tuple[float, float] = (0.0, 0.0)
        votes: Counter[str] = Counter()
        for candidate in candidates:
            known_key = candidate[1]
            common = len(key & known_key)
            score = (common / min(len(key), len(known_key)), common / len(key | known_key))
            if score > best:
                best, votes = score, Counter(self._by_key[candidate])
            elif score == best:
                votes.update(self._by_key[candidate])
        if votes and best[0] >= similarity:
            return self._best(votes), "words"
        return None


@dataclasses.dataclass(frozen=True)
class Categoriser:
    """The user's rules and history, asked in that order (see the module docstring)."""

    rules: tuple[Rule, ...] = ()
    history: History | None = None

    @classmethod
    def of(cls, ledger: Ledger, frame: pd.DataFrame | None = None) -> Categoriser:
        """The rules stored with ``ledger`` and the history of its transactions (``frame``: ``ledger.lines()``, a split transaction's lines each)."""
        from tracker.importers.rules import RULES

        rules = tuple(RULES.read(ledger))
        return cls(rules, History.from_frame(ledger.lines() if frame is None else frame))

    def categorise(
        self,
        description: str,
        tx_type: str | None = None,
        *,
        file_category: str = "",
        similarity: float = BANK_SIMILARITY,
    ) -> tuple[str, Source]:
        """The category of a transaction described by ``description``, and where it came from."""
        from tracker.importers.rules import first_match

        if file_category and file_category.casefold() not in PLACEHOLDER_CATEGORIES:
            return file_category, "file"
        rule = first_match(self.rules, description)
        if rule is not None:
            return rule.category, "rule"
        found = self.history.guess(description, tx_type, similarity) if self.history is not None else None
        return found or (DEFAULT_CATEGORY, "default")


def categorise(
    description: str, file_category: str, rules: Sequence[Rule], history: History | None
) -> tuple[str, Literal["file", "rule", "history", "default"]]:
    """The category of an imported row: the file's, a rule's, the history's or the default (any type)."""
    category, source = Categoriser(tuple(rules), history).categorise(description, file_category=file_category)
    return category, "history" if source in ("category", "words") else source  # type: ignore[return-value]
