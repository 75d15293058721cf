"""The importer contract, the parsed row, the import error, and the text helpers every format shares.

An importer turns the bytes of one bank file into :class:`ParsedRow` objects, all or nothing:
either every row of the file is understood, or :class:`ImportFileError` names the file, the line
and the field of each problem (nothing is written either way; writing is the pipeline's job).
"""

from __future__ import annotations

import abc
import codecs
import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar

from tracker.errors import ValidationError

MAX_FILE_BYTES = 50 * 1024 * 1024
"""Bank statements are small; anything larger is refused before parsing."""

MAX_PROBLEMS = 50
"""At most this many row problems are collected before a file is refused."""


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedRow:
    """One transaction as read from a file, before categorising and de-duplication.

    ``amount`` is signed (positive income, negative expense, zero for rows that carry no money).
    ``currency`` is ``None`` when the file does not say (the ledger's default currency is used).
    ``external_id`` is the file's own transaction id (already prefixed by account), ``""`` if none.
    ``id``/``created_at``/``updated_at`` are set only by the JSON importer (exact restore).
    """

    line: int
    date: dt.date
    amount: Decimal
    currency: str | None
    description: str
    category: str = ""
    tags: tuple[str, ...] = ()
    external_id: str = ""
    id: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SkippedRow:
    """A record of the file that is understood but not a transaction to import (an investment trade)."""

    line: int
    reason: str


@dataclasses.dataclass
class Extraction:
    """What an importer read from one file."""

    rows: list[ParsedRow]
    skipped: list[SkippedRow] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Format-specific facts worth showing (CSV: the detected delimiter, encoding, columns...)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One reason a file is refused."""

    line: int | None
    field: str
    value: object
    problem: str
    unit: str = "line"

    def describe(self) -> str:
        """``line 4, field amount: 'abc' is not an amount``."""
        parts = []
        if self.line is not None:
            parts.append(f"{self.unit} {self.line}")
        if self.field:
            parts.append(f"field {self.field}")
        where = ", ".join(parts)
        detail = self.problem if self.value is None else f"{_show(self.value)} {self.problem}"
        return f"{where}: {detail}" if where else detail


def _show(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    text = text if len(text) <= 60 else text[:60] + "…"
    return repr(text)


class ImportFileError(ValidationError):
    """A file that cannot be imported. Nothing was written.

    The message names the file, then the line and field of the first problem
    (``bank.csv, line 4, field amount: 'abc' is not an amount (and 2 more problems)``);
    :attr:`problems` lists them all (up to :data:`MAX_PROBLEMS`).
    """

    def __init__(self, file: str, problems: Sequence[Problem]) -> None:
        first = problems[0] if problems else Problem(None, "", None, "cannot be imported")
        super().__init__(first.field or "file", first.value, first.problem)
        self.file = file
        self.line = first.line
        self.problems = list(problems)
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        self.args = (
            f"{file}, {first.describe()}{suffix}" if first.line is not None else f"{file}: {first.describe()}{suffix}",
        )

    @classmethod
    def single(
        cls,
        file: str,
        problem: str,
        *,
        line: int | None = None,
        field: str = "",
        value: object = None,
        unit: str = "line",
    ) -> ImportFileError:
        """An error with one problem."""
        return cls(file, [Problem(line, field, value, problem, unit)])

    def messages(self) -> list[str]:
        """Every problem as one line (for the UI)."""
        return [p.describe() for p in self.problems]


class Problems:
    """Collects row problems while a file is read; :meth:`raise_if_any` refuses the file."""

    def __init__(self, file: str, unit: str = "line") -> None:
        self.file = file
        self.unit = unit
        self.items: list[Problem] = []

    def add(self, line: int | None, field: str, value: object, problem: str) -> None:
        """Record one problem; stop reading (raise) once there are too many."""
        self.items.append(Problem(line, field, value, problem, self.unit))
        if len(self.items) >= MAX_PROBLEMS:
            raise ImportFileError(self.file, self.items)

    def add_error(self, line: int | None, exc: ValidationError) -> None:
        """Record a ``ValidationError`` raised for one row."""
        self.add(line, exc.field, exc.value, exc.problem)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        """Raise :class:`ImportFileError` when anything was recorded."""
        if self.items:
            raise ImportFileError(self.file, self.items)


class Importer(abc.ABC):
    """One file format. ``identify`` looks at a file, ``extract`` reads its rows (all or nothing)."""

    name: ClassVar[str]
    """Short name used by ``--as``: ``csv``, ``ofx``, ``qif``, ``json``."""
    extensions: ClassVar[tuple[str, ...]]
    unit: ClassVar[str] = "line"
    """How a position in the file is named in messages (``line`` or, for JSON, ``transaction``)."""

    def identify(self, path: str | Path) -> bool:
        """Whether the file looks like this format (by its content, with its extension as a hint)."""
        path = Path(path)
        try:
            with path.open("rb") as fh:
                head = fh.read(8192)
        except OSError:
            return False
        return self.sniff(path.name, head)

    @abc.abstractmethod
    def sniff(self, name: str, head: bytes) -> bool:
        """Whether a file with this name starting with these bytes is of this format."""

    def extract(self, path: str | Path) -> list[ParsedRow]:
        """The rows of the file at ``path``; raises :class:`ImportFileError`."""
        path = Path(path)
        return self.read(read_file_bytes(path), path.name).rows

    @abc.abstractmethod
    def read(self, data: bytes, name: str) -> Extraction:
        """Parse the bytes of a file called ``name``; raises :class:`ImportFileError`."""


def read_file_bytes(path: Path) -> bytes:
    """The bytes of ``path``; a missing, unreadable or oversized file is an :class:`ImportFileError`."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFileError.single(path.name, f"is too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,})")
        return path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError.single(str(path), "does not exist") from None
    except IsADirectoryError:
        raise ImportFileError.single(str(path), "is a folder, not a file") from None
    except OSError as exc:
        raise ImportFileError.single(str(path), f"cannot be read ({exc.strerror or exc})") from None


# --- text helpers shared by the formats -------------------------------------------------------------


def decode_text(data: bytes, encoding: str, file: str) -> tuple[str, str]:
    """The text of the file and the encoding used (given, or detected)."""
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ImportFileError.single(
                file,
                f"cannot be read as {encoding}",
                line=line,
                field="encoding",
                value=data[exc.start : exc.start + 4].hex(" "),
            ) from None
    if data.startswith(codecs.BOM_UTF8):
        return _decode_detected(data[3:], "utf-8", file, "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_detected(data, "utf-16", file, "utf-16")
    if b"\x00" in data[:65536]:
        raise ImportFileError.single(file, "is not a text file (it contains NUL bytes)")
    for candidate in ("utf-8", "cp1252"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _decode_detected(data: bytes, codec: str, file: str, shown: str) -> tuple[str, str]:
    try:
        return data.decode(codec).removeprefix("\ufeff"), shown
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError.single(
            file,
            f"starts with a {shown} byte-order mark but is not valid {codec}",
            line=line,
            field="encoding",
            value=None,
        ) from None


_SPACE_RUN = re.compile(r"\s+")


def clean_description(*parts: str | None, limit: int = 500) -> str:
    """Join the non-empty parts with `` / `` (skipping one contained in another), one line, no controls."""
    texts: list[str] = []
    for part in parts:
        if not part:
            continue
        if part.isprintable() and "  " not in part and unicodedata.is_normalized("NFC", part):
            text = part.strip()  # the common case, without a look at every character
        else:
            text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") else ch for ch in part)
            text = _SPACE_RUN.sub(" ", unicodedata.normalize("NFC", text)).strip()
        if not text:
            continue
        folded = text.casefold()
        if any(folded in t.casefold() for t in texts):
            continue
        texts = [t for t in texts if t.casefold() not in folded]
        texts.append(text)
    joined = " / ".join(texts)
    return joined if len(joined) <= limit else joined[: limit - 1].rstrip() + "…"


_CURRENCY_AFFIX = re.compile(r"^(?:[A-Z]{3}|[€$£¥₹₩]|CHF|Fr\.)\s*|\s*(?:[A-Z]{3}|[€$£¥₹₩]|CHF)$")
_GROUP_CHARS = ("\u00a0", "\u202f", "\u2009", " ", "'", "’")


def parse_amount(text: str, decimal: str = ".") -> Decimal:
    """Parse a bank amount such as ``-1.234,56``, ``1,234.56``, ``(12.50)``, ``12,50-``, ``€ 3.00``, ``5.00 DR``.

    ``decimal`` is the decimal separator (``.`` or ``,``); the other one is taken as a thousands separator
    and must group by threes. Raises ``ValueError`` with a readable reason.
    """
    if decimal not in (".", ","):
        raise ValueError(f"decimal separator {decimal!r} must be '.' or ','")
    s = text.strip()
    if not s:
        raise ValueError("is empty")
    negative = False
    signs = 0
    upper = s.upper()
    if upper.endswith(("CR", "DR")) and len(s) > 2 and not s[-3].isalpha():
        negative, signs = upper.endswith("DR"), 1
        s = s[:-2].strip()
    if s.startswith("(") and s.endswith(")"):
        negative, signs = True, signs + 1
        s = s[1:-1].strip()
    for _ in range(2):
        s = _CURRENCY_AFFIX.sub("", s).strip()
        if not s:
            break
        if s[:1] in "+-−":
            negative, signs = s[0] != "+", signs + 1
            s = s[1:].strip()
        elif s[-1:] in "+-−":
            negative, signs = s[-1] != "+", signs + 1
            s = s[:-1].strip()
    if signs > 1:
        raise ValueError("has more than one sign")
    for ch in _GROUP_CHARS:
        s = s.replace(ch, "")
    group = "," if decimal == "." else "."
    whole, _, frac = s.partition(decimal)
    if group in whole:
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(group)}\d{{3}})+", whole):
            raise ValueError(f"is not an amount (decimal separator {decimal!r})")
        whole = whole.replace(group, "")
    if not re.fullmatch(r"\d*", whole) or not re.fullmatch(r"\d*", frac) or not (whole or frac):
        raise ValueError(f"is not an amount (decimal separator {decimal!r})")
    if len(whole) > 15 or len(frac) > 8:
        raise ValueError("is not a plausible amount")
    try:
        value = Decimal(f"{whole or '0'}.{frac or '0'}" if frac else whole)
    except InvalidOperation:  # pragma: no cover - the patterns above exclude this
        raise ValueError("is not an amount") from None
    return -value if negative else value


def detect_decimal(values: Iterable[str]) -> str | None:
    """The decimal separator the amounts use (``.`` or ``,``), or ``None`` when nothing tells.

    ``1.234,56`` and ``12,50`` say comma; ``1,234.56`` and ``3.5`` say point; ``1,234`` alone says nothing.
    Raises ``ValueError`` when the column mixes both styles.
    """
    votes = {".": 0, ",": 0}
    for raw in values:
        s = raw.strip()
        for ch in _GROUP_CHARS:
            s = s.replace(ch, "")
        digits = re.sub(r"[^\d.,]", "", s)
        if not digits:
            continue
        last = max(digits.rfind("."), digits.rfind(","))
        if last < 0:
            continue
        sep = digits[last]
        other = "," if sep == "." else "."
        if other in digits:  # both present: the last one is the decimal separator
            votes[sep] += 1
        elif digits.count(sep) > 1:  # 1,234,567: a thousands separator
            votes[other] += 1
        elif len(digits) - last - 1 != 3:  # 12,50 or 3.5; 1,234 tells nothing
            votes[sep] += 1
    if votes["."] and votes[","]:
        raise ValueError("the amounts mix '.' and ',' as the decimal separator")
    if votes["."]:
        return "."
    if votes[","]:
        return ","
    return None


DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y.%m.%d",
    "%Y%m%d",
    "%d %b %Y",
    "%d-%b-%Y",
    "%d %b %y",
    "%d-%b-%y",
    "%b %d, %Y",
    "%d %B %Y",
    "%B %d, %Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
)
"""Date layouts tried when a file's date format is not given (``strptime`` codes)."""

_DAY_FIRST = {"%d/%m/%Y": "%m/%d/%Y", "%d/%m/%y": "%m/%d/%y", "%d-%m-%Y": "%m-%d-%Y"}
_DAY_FIRST.update({f"{k} {t}": f"{v} {t}" for k, v in list(_DAY_FIRST.items()) for t in ("%H:%M", "%H:%M:%S")})
_MONTH_FIRST = {v: k for k, v in _DAY_FIRST.items()}


def parse_date_text(text: str, fmt: str) -> dt.date:
    """``strptime`` to a date, within the ledger's date range; raises ``ValueError``."""
    value = dt.datetime.strptime(text.strip(), fmt).date()
    if not dt.date(1900, 1, 1) <= value <= dt.date(2199, 12, 31):
        raise ValueError("is outside 1900-2199")
    return value


def detect_date_format(
    values: Iterable[str], *, day_first: bool, candidates: Sequence[str] = DATE_FORMATS
) -> tuple[str, bool]:
    """The first format that reads every value, and whether the choice was ambiguous (day vs month first).

    When both ``DD/MM`` and ``MM/DD`` read every value, ``day_first`` decides. Raises ``ValueError``
    naming the first value no format reads.
    """
    remaining = list(candidates)
    seen: set[str] = set()
    for raw in values:
        text = raw.strip()
        if not text or text in seen:
            continue
        seen.add(text)
        keep = []
        for fmt in remaining:
            try:
                parse_date_text(text, fmt)
            except ValueError:
                continue
            keep.append(fmt)
        if not keep:
            raise ValueError(text)
        remaining = keep
    if not seen:
        raise ValueError("")
    chosen = remaining[0]
    ambiguous = False
    pair = _DAY_FIRST.get(chosen) or _MONTH_FIRST.get(chosen)
    if pair and pair in remaining:
        ambiguous = True
        day_fmt, month_fmt = (chosen, pair) if chosen in _DAY_FIRST else (pair, chosen)
        chosen = day_fmt if day_first else month_fmt
    return chosen, ambiguous


def describe_format(fmt: str) -> str:
    """``%d.%m.%Y`` -> ``DD.MM.YYYY`` for messages."""
    for code, shown in (("%d", "DD"), ("%m", "MM"), ("%Y", "YYYY"), ("%y", "YY"), ("%b", "Mon"), ("%B", "Month")):
        fmt = fmt.replace(code, shown)
    return fmt.replace("%H", "hh").replace("%M", "mm").replace("%S", "ss")
