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
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tracker.errors import ValidationError
from tracker.money import BANK_GROUP_CHARS

if TYPE_CHECKING:
    from tracker.importers.registry import ImportOptions

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
    statement: int = 0
    """Which of the file's :attr:`Extraction.statements` it belongs to (an OFX file may hold several accounts)."""
    restored: Mapping[str, Any] | None = None
    """Only the JSON importer: the account fields restored exactly (type, account, direction, link, cleared,
    reconciled), so a transfer comes back as its linked pair."""
    splits: tuple[ParsedLine, ...] = ()
    """The lines of a split transaction (two or more, their amounts summing to ``abs(amount)``), else empty."""
    original_amount: Decimal | None = None
    """What the transaction cost in :attr:`original_currency` (positive), ``None`` when the file gives none."""
    original_currency: str = ""
    """The currency a purchase abroad was paid in (``""``: none). An original in the row's own currency is not
    recorded (the plan leaves it out once the account's currency is known)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedLine:
    """One line of a split transaction as a file gives it: a positive amount, the category (``""``: categorise
    it like a row, by its note) and a note."""

    amount: Decimal
    category: str = ""
    note: str = ""
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class SkippedRow:
    """A record of the file that is understood but not a transaction to import (an investment trade)."""

    line: int
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class Statement:
    """One account's part of a file, as the file describes it (all optional: a CSV file says little).

    ``key`` identifies the bank account across files (``ofx:BANKID/ACCTID``) so the app can remember which of
    the user's accounts it goes into; ``currency`` is the statement's own (OFX ``CURDEF``, a CSV header
    ``Amount (EUR)``); ``balance`` is the closing balance it states (OFX ``LEDGERBAL``) on ``balance_date``.
    """

    key: str = ""
    label: str = ""
    currency: str | None = None
    balance: Decimal | None = None
    balance_date: dt.date | None = None
    credit_card: bool = False


@dataclasses.dataclass
class Extraction:
    """What an importer read from one file."""

    rows: list[ParsedRow]
    skipped: list[SkippedRow] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Format-specific facts worth showing (CSV: the detected delimiter, encoding, columns...)."""
    statements: list[Statement] = dataclasses.field(default_factory=lambda: [Statement()])
    """The accounts the file speaks of; every row's :attr:`ParsedRow.statement` indexes this list."""


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
    """One file format. ``sniff`` looks at a file's start, ``read`` parses its rows (all or nothing).

    The class says what the pipeline may do with the format (:attr:`restores_identity`,
    :attr:`accepts_mapping`, :attr:`accepts_formats`); the pipeline asks it instead of testing names.
    """

    name: ClassVar[str]
    """Short name used by ``--as``: ``csv``, ``ofx``, ``qif``, ``json``."""
    extensions: ClassVar[tuple[str, ...]]
    unit: ClassVar[str] = "line"
    """How a position in the file is named in messages (``line`` or, for JSON, ``transaction``)."""
    restores_identity: ClassVar[bool] = False
    """Rows keep the file's ids, categories and times (our JSON export): duplicates are found by id."""
    accepts_mapping: ClassVar[bool] = False
    """A :class:`~tracker.importers.csv_importer.CsvMapping` declares the layout (and can be saved)."""
    accepts_formats: ClassVar[bool] = False
    """A date format and decimal separator may be given instead of detected."""
    content_beats_extension: ClassVar[bool] = True
    """:meth:`sniff` finds a sure sign, which wins over the extension; ``False``: a guess, asked last."""
    progress: Callable[[float], None] | None = None
    """Called with the fraction read so far, by importers that can tell (CSV)."""

    @classmethod
    @abc.abstractmethod
    def sniff(cls, name: str, head: bytes) -> bool:
        """Whether a file called ``name`` starting with the bytes ``head`` shows signs of this format."""

    @classmethod
    def configured(cls, options: ImportOptions, default_currency: str = "") -> Importer:
        """An importer set up by what the user fixed; options the format does not take are refused."""
        cls.check_options(options)
        return cls()

    @classmethod
    def check_options(cls, options: ImportOptions) -> None:
        """Refuse a CSV mapping, a date format or a decimal separator given for a format that takes none."""
        if not cls.accepts_mapping and not options.mapping.is_empty():
            given = ", ".join(sorted(options.mapping.to_dict()))
            raise ValidationError("mapping", given, f"applies to CSV files only, not {cls.name.upper()}")
        if not cls.accepts_formats and (options.date_format or options.decimal):
            raise ValidationError(
                "date_format" if options.date_format else "decimal",
                options.date_format or options.decimal,
                f"does not apply to {cls.name.upper()} files",
            )

    @classmethod
    def detected(cls, details: Mapping[str, Any]) -> dict[str, Any] | None:
        """What detection found in a file (from :attr:`Extraction.details`) for ``--format json``; ``None``: nothing."""
        return None

    @classmethod
    def describe(cls, details: Mapping[str, Any], quote: Callable[[object], str] = repr) -> list[str]:
        """The same as short phrases (``cp1252``, ``semicolon-separated``...); ``quote`` shows a separator."""
        return []

    def identify(self, path: str | Path) -> bool:
        """Whether the file looks like this format (by its content, else by its extension)."""
        path = Path(path)
        try:
            with path.open("rb") as fh:
                head = fh.read(8192)
        except OSError:
            return False
        return self.sniff(path.name, head) or path.suffix.lower() in self.extensions

    def extract(self, path: str | Path) -> list[ParsedRow]:
        """The rows of the file at ``path``; raises :class:`ImportFileError`."""
        path = Path(path)
        return self.read(read_file_bytes(path), path.name).rows

    @abc.abstractmethod
    def read(self, data: bytes, name: str) -> Extraction:
        """Parse the bytes of a file called ``name``; raises :class:`ImportFileError`."""


def strip_head(head: bytes) -> bytes:
    """The start of a file without a UTF-8 byte-order mark and leading blank space (what sniffing looks at)."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")


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


def detect_decimal(values: Iterable[str]) -> str | None:
    """The decimal separator the amounts use (``.`` or ``,``), or ``None`` when nothing tells.

    ``1.234,56`` and ``12,50`` say comma; ``1,234.56`` and ``3.5`` say point; ``1,234`` alone says nothing.
    Raises ``ValueError`` when the column mixes both styles.
    """
    votes = {".": 0, ",": 0}
    for raw in values:
        s = raw.strip()
        for ch in BANK_GROUP_CHARS:
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
