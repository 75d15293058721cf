"""CSV bank statements: declared layouts, detection of everything a bank can vary, and the reader.

A :class:`CsvMapping` declares a layout (which column holds the date, the amount or the debit and
credit, the description...; the date format, decimal separator, delimiter and encoding). Anything
left empty is detected from the file: the encoding (UTF-8 with or without BOM, UTF-16 with BOM,
cp1252, Latin-1), the delimiter, the header row (after any preamble lines), the columns (from the
header names of known banks and common words in several languages, or from the cell contents for a
file without a header), the decimal separator and the date format.

A purchase abroad may come with its original amount, its original currency and the exchange rate
(optional columns, recognised by their headers like the others): with an original currency and an
original amount, both are recorded; with an original currency and only a rate, the original amount is
derived as ``amount / rate``, the rate read as *one unit of the original currency is ``rate`` units of
the row's currency* (a EUR row of ``-46.00`` paid in USD at ``0.92`` cost 50.00 USD), rounded half-even to
the original currency's minor unit. (Banks that quote the rate the other way, as foreign units per unit
of the account's currency, give the inverse.) A row whose original currency is the row's own records
none (its other original cells are not read).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from tracker.categorize import PLACEHOLDER_CATEGORIES
from tracker.errors import ValidationError
from tracker.importers.base import (
    DATE_FORMATS,
    Extraction,
    Importer,
    ImportFileError,
    ParsedRow,
    Problems,
    Statement,
    clean_description,
    decode_text,
    describe_format,
    detect_date_format,
    detect_decimal,
    parse_date_text,
)
from tracker.model import clean_category, clean_tags
from tracker.money import (
    BANK_GROUP_CHARS,
    at_rate,
    normalize_currency,
    parse_bank_amount,
    read_digits,
    to_decimal_amount,
    to_minor,
)
from tracker.rates import clean_rate

if TYPE_CHECKING:
    from tracker.importers.registry import ImportOptions

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

INCOME_WORDS = frozenset({"income", "credit", "cr", "c", "h", "haben", "gutschrift", "deposit", "in", "einnahme", "+"})
EXPENSE_WORDS = frozenset(
    {"expense", "debit", "dr", "d", "s", "soll", "lastschrift", "withdrawal", "out", "ausgabe", "-"}
)
"""Values of a type column (``Soll/Haben``, ``DR/CR``, our own ``income``/``expense``), compared case-insensitively."""

ORIGINAL_ROLES = ("original_amount", "original_currency", "exchange_rate")
"""The optional columns of a purchase abroad (see the module's doc)."""


@dataclasses.dataclass(frozen=True)
class CsvMapping:
    """A declared CSV layout. Empty fields are detected from the file.

    Columns are named by their header text (case-insensitive) or by 1-based position (``"3"``).
    Give either ``amount`` (signed: negative is an expense) or ``debit`` and/or ``credit``.
    ``type`` names a column saying income/expense (``Soll/Haben``, ``DR/CR``); the amount's sign is then ignored.
    ``invert`` flips the sign (credit-card exports that list spending as positive).
    ``original_amount``, ``original_currency`` and ``exchange_rate`` name the columns of a purchase abroad (see
    the module's doc); an original amount or a rate is read only beside an original currency.
    """

    date: str = ""
    amount: str = ""
    debit: str = ""
    credit: str = ""
    description: tuple[str, ...] = ()
    category: str = ""
    tags: str = ""
    type: str = ""
    currency_column: str = ""
    id_column: str = ""
    original_amount: str = ""
    original_currency: str = ""
    exchange_rate: str = ""
    currency: str = ""
    date_format: str = ""
    decimal: str = ""
    delimiter: str = ""
    encoding: str = ""
    invert: bool = False

    COLUMN_FIELDS = (
        *("date", "amount", "debit", "credit", "category", "tags", "type", "currency_column", "id_column"),
        *ORIGINAL_ROLES,
    )

    def __post_init__(self) -> None:
        if isinstance(self.description, str):  # tolerate one column given as text
            object.__setattr__(self, "description", (self.description,) if self.description else ())
        self.validate()

    def validate(self) -> None:
        """Raise ``ValidationError`` naming the first inconsistent setting."""
        for name in self.COLUMN_FIELDS:
            if not isinstance(getattr(self, name), str):
                raise ValidationError(name, getattr(self, name), "must be a column name or number")
        if not all(isinstance(c, str) and c.strip() for c in self.description):
            raise ValidationError("description", list(self.description), "must be column names or numbers")
        if self.amount and (self.debit or self.credit):
            raise ValidationError("amount", self.amount, "cannot be combined with debit/credit columns")
        if self.decimal not in ("", ".", ","):
            raise ValidationError("decimal", self.decimal, "must be '.' or ','")
        if self.delimiter and len(self.delimiter) != 1:
            raise ValidationError("delimiter", self.delimiter, "must be one character (',', ';', 'tab', '|')")
        if self.delimiter in ('"', "\r", "\n"):
            raise ValidationError("delimiter", self.delimiter, "cannot be a quote or a line break")
        if self.encoding:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ValidationError(
                    "encoding", self.encoding, "is not a known encoding (for example utf-8, cp1252, latin-1)"
                ) from None
        if self.date_format and "%" not in self.date_format:
            raise ValidationError("date_format", self.date_format, "must use strptime codes such as %d.%m.%Y")
        if self.currency:
            normalize_currency(self.currency)
        if not isinstance(self.invert, bool):
            raise ValidationError("invert", self.invert, "must be true or false")

    def merged(self, override: CsvMapping) -> CsvMapping:
        """This mapping with every non-empty field of ``override`` taken instead."""
        changes = {f.name: getattr(override, f.name) for f in dataclasses.fields(self) if getattr(override, f.name)}
        if changes.get("amount"):
            changes.setdefault("debit", "")
            changes.setdefault("credit", "")
        if changes.get("debit") or changes.get("credit"):
            changes.setdefault("amount", "")
        return dataclasses.replace(self, **changes)

    def is_empty(self) -> bool:
        """True when nothing is declared."""
        return self == CsvMapping()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in the ledger's ``csv_mappings`` (empty fields left out)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: object, name: str = "mapping") -> CsvMapping:
        """Rebuild from the JSON form, refusing unknown keys and wrong types."""
        if not isinstance(data, Mapping):
            raise ValidationError(name, data, "is not a CSV mapping (expected an object)")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"{name}.{unknown[0]}", data[unknown[0]], "is not a CSV mapping setting")
        values = dict(data)
        desc = values.get("description", ())
        if isinstance(desc, str):
            desc = (desc,) if desc else ()
        if not isinstance(desc, (list, tuple)):
            raise ValidationError(f"{name}.description", desc, "must be a list of columns")
        values["description"] = tuple(desc)
        for key, value in values.items():
            if key not in ("description", "invert") and not isinstance(value, str):
                raise ValidationError(f"{name}.{key}", value, "must be text")
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class KnownLayout:
    """A bank's CSV export, recognised by the header columns it always has."""

    name: str
    headers: frozenset[str]
    mapping: CsvMapping


def _layout(name: str, headers: Sequence[str], **mapping: Any) -> KnownLayout:
    return KnownLayout(name, frozenset(h.casefold() for h in headers), CsvMapping(**mapping))


KNOWN_LAYOUTS: tuple[KnownLayout, ...] = (
    _layout(
        "expense-tracker",
        ["date", "type", "amount", "currency", "category", "tags", "note", "external_id"],
        date="date", type="type", amount="amount", currency_column="currency", category="category",
        tags="tags", description=("note",), id_column="external_id", date_format="%Y-%m-%d", decimal=".",
    ),
    _layout(
        "sparkasse-camt",
        ["Buchungstag", "Verwendungszweck", "Beguenstigter/Zahlungspflichtiger", "Betrag", "Waehrung"],
        date="Buchungstag", amount="Betrag", description=("Beguenstigter/Zahlungspflichtiger", "Verwendungszweck"),
        currency_column="Waehrung", decimal=",",
    ),
    _layout(
        "dkb",
        ["Buchungsdatum", "Zahlungsempfänger*in", "Verwendungszweck", "Betrag (€)"],
        date="Buchungsdatum", amount="Betrag (€)", description=("Zahlungsempfänger*in", "Verwendungszweck"),
        decimal=",", currency="EUR",
    ),
    _layout(
        "chase",
        ["Details", "Posting Date", "Description", "Amount", "Type", "Balance"],
        date="Posting Date", amount="Amount", description=("Description",), date_format="%m/%d/%Y", decimal=".",
    ),
    _layout(
        "capital-one",
        ["Transaction Date", "Posted Date", "Card No.", "Description", "Category", "Debit", "Credit"],
        date="Transaction Date", debit="Debit", credit="Credit", description=("Description",), category="Category",
    ),
    _layout(
        "barclays",
        ["Number", "Date", "Account", "Amount", "Subcategory", "Memo"],
        date="Date", amount="Amount", description=("Memo",), date_format="%d/%m/%Y", decimal=".",
    ),
    _layout(
        "starling",
        ["Date", "Counter Party", "Reference", "Type", "Amount (GBP)", "Balance (GBP)"],
        date="Date", amount="Amount (GBP)", description=("Counter Party", "Reference"), currency="GBP",
        date_format="%d/%m/%Y",
    ),
    _layout(
        "revolut",
        ["Type", "Product", "Started Date", "Completed Date", "Description", "Amount", "Fee", "Currency", "State"],
        date="Started Date", amount="Amount", description=("Description",), currency_column="Currency", decimal=".",
    ),
)  # fmt: skip
"""Declared layouts of some banks' exports; any other layout is guessed from its header words."""


_GUESS: dict[str, tuple[str, ...]] = {
    "date": (
        r"date", r"transaction date", r"posting date", r"posted date", r"booking date", r"buchungstag",
        r"buchungsdatum", r"datum", r"started date", r"date de l.op[ée]ration", r"date op[ée]ration", r"fecha",
        r"data", r"value date", r"valuta(datum)?", r"wertstellung", r"completed date", r"date.*",
    ),
    "amount": (
        r"amount", r"betrag", r"montant", r"importe", r"umsatz", r"transaction amount", r"value",
        r"amount \(.*\)", r"betrag \(.*\)", r"montant \(.*\)", r"amount.*", r"betrag.*",
    ),
    "debit": (r"debit", r"debit amount", r"withdrawals?", r"paid out", r"money out", r"soll", r"ausgang", r"belastung", r"d[ée]bit.*", r"out"),
    "credit": (r"credit", r"credit amount", r"deposits?", r"paid in", r"money in", r"haben", r"eingang", r"gutschrift", r"cr[ée]dit.*", r"in"),
    "payee": (
        r"payee", r"counter ?party", r"name", r"merchant", r"beneficiary", r"beguenstigter/zahlungspflichtiger",
        r"zahlungsempf[äa]nger.*", r"auftraggeber.*", r"empf[äa]nger.*", r"b[ée]n[ée]ficiaire",
    ),
    "text": (
        r"description", r"transaction description", r"details", r"memo", r"narrative", r"verwendungszweck",
        r"buchungstext", r"payment reference", r"reference", r"libell[ée].*", r"concepto", r"text", r"notes?",
        r"description.*",
    ),
    "category": (r"category", r"kategorie", r"spending category", r"cat[ée]gorie", r"categor[ií]a"),
    "tags": (r"tags?", r"labels?"),
    "type": (r"type", r"transaction type", r"soll/haben", r"s/h", r"debit/credit", r"dr/cr", r"cr/dr"),
    "currency_column": (r"currency", r"w[äa]hrung", r"waehrung", r"devise", r"moneda", r"ccy", r"monn(aie)?\.?"),
    "id_column": (r"transaction id", r"transaction reference", r"fitid", r"external_id"),
    "original_amount": (
        r"original[ _]?amount", r"original amount \(.*\)", r"amount \(original( currency)?\)",
        r"amount in (the )?original currency", r"foreign( currency)? amount", r"originalbetrag",
        r"ursprungsbetrag", r"urspr[üu]nglicher betrag", r"betrag in (original|fremd)w[äa]hrung",
        r"fremdw[äa]hrungsbetrag", r"montant (d.origine|original|en devise)", r"importe original",
    ),
    "original_currency": (
        r"original[ _]?currency", r"currency \(original\)", r"foreign currency", r"originalw(ä|ae|a)hrung",
        r"ursprungsw(ä|ae|a)hrung", r"fremdw(ä|ae|a)hrung", r"devise (d.origine|originale)", r"moneda original",
    ),
    "exchange_rate": (
        r"exchange[ _]?rate", r"fx rate", r"conversion rate", r"wechselkurs", r"umrechnungskurs", r"devisenkurs",
        r"kurs", r"taux de change", r"tipo de cambio",
    ),
}  # fmt: skip
"""Header words of each column role (case-insensitive, whole header), the most telling first."""


_HEADER_CURRENCY = re.compile(r"[(\[]\s*([A-Za-z]{3}|[€£])\s*[)\]]|\bin\s+([A-Z]{3})\s*$")
_CURRENCY_SIGNS = {"€": "EUR", "£": "GBP"}
"""Signs that name one currency (``$`` and ``¥`` name several)."""


def _header_currency(headers: Sequence[str], columns: Sequence[int | None]) -> str:
    """The ISO 4217 code an amount column's header names (``Amount (EUR)``, ``Betrag [CHF]``), or ``""``."""
    for i in columns:
        if i is None or i >= len(headers):
            continue
        found = _HEADER_CURRENCY.search(headers[i].strip())
        if found:
            try:
                code = found[1] or found[2]
                return normalize_currency(_CURRENCY_SIGNS.get(code, code))
            except ValidationError:
                continue
    return ""


def _match(patterns: Sequence[str], headers: Sequence[str], taken: set[int]) -> int | None:
    folded = [h.strip().casefold() for h in headers]
    for pattern in patterns:
        for i, h in enumerate(folded):
            if i not in taken and re.fullmatch(pattern, h):
                return i
    return None


# --- decoding and splitting --------------------------------------------------------------------------


def split_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """``(first line number, cells)`` of every record (quoted cells may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    line = 1
    for cells in reader:
        yield line, cells
        line = reader.line_num + 1


def detect_delimiter(text: str) -> str:
    """The delimiter giving the most consistent number (> 1) of cells per row, weighted by that number."""
    sample = text[:65536]
    best: tuple[int, str] | None = None
    for delim in DELIMITERS:
        counts = Counter(len(cells) for _, cells in split_rows(sample, delim) if any(c.strip() for c in cells))
        scored = [(n * freq, n) for n, freq in counts.items() if n > 1]
        if not scored:
            continue
        score = max(scored)[0]
        if best is None or score > best[0]:
            best = (score, delim)
    if best is None:
        raise ValueError("no delimiter")
    return best[1]


def _looks_like_data(cell: str) -> bool:
    text = cell.strip()
    if not text or len(text) > 30:
        return False
    return bool(re.fullmatch(r"[\d.,/\-\s':T]+", text) and re.search(r"\d", text))


# --- the importer ------------------------------------------------------------------------------------


@dataclasses.dataclass
class CsvTable:
    """A decoded CSV file split into cells: what the mapping editor needs to offer the columns."""

    encoding: str
    delimiter: str
    headers: list[str]
    header_line: int | None
    """Line of the header row; ``None`` when the file has none (columns are then numbered from 1)."""
    body: list[tuple[int, list[str]]]
    layout: KnownLayout | None


@dataclasses.dataclass
class _Columns:
    date: int
    amount: int | None
    debit: int | None
    credit: int | None
    description: tuple[int, ...]
    category: int | None
    tags: int | None
    type: int | None
    currency: int | None
    id: int | None
    original_amount: int | None = None
    original_currency: int | None = None
    exchange_rate: int | None = None


class CsvImporter(Importer):
    """CSV of any bank: pass a :class:`CsvMapping` to fix what detection should not guess."""

    name = "csv"
    extensions = (".csv", ".tsv", ".txt")
    accepts_mapping = True
    accepts_formats = True
    content_beats_extension = False
    """Cells separated by commas prove little: another format's extension wins over them."""

    def __init__(
        self,
        mapping: CsvMapping | None = None,
        *,
        default_currency: str = "",
        layouts: Sequence[KnownLayout] = KNOWN_LAYOUTS,
    ) -> None:
        self.mapping = mapping or CsvMapping()
        self.default_currency = default_currency
        self.layouts = layouts
        self.progress = None

    @classmethod
    def configured(cls, options: ImportOptions, default_currency: str = "") -> CsvImporter:
        """The mapping with the shared date format and decimal separator folded in.

        ``options.currency`` (else ``default_currency``) only fills rows whose file (or declared layout)
        names no currency.
        """
        cls.check_options(options)
        mapping = options.mapping.merged(CsvMapping(date_format=options.date_format, decimal=options.decimal))
        return cls(mapping, default_currency=options.currency or default_currency)

    @classmethod
    def detected(cls, details: Mapping[str, Any]) -> dict[str, Any] | None:
        return {k: details.get(k) for k in ("layout", "encoding", "delimiter", "decimal", "date_format", "columns")}

    @classmethod
    def describe(cls, details: Mapping[str, Any], quote: Callable[[object], str] = repr) -> list[str]:
        delimiter = details.get("delimiter", "")
        return [
            f"{details.get('layout')} layout",
            str(details.get("encoding")),
            f"{DELIMITER_NAMES.get(delimiter, repr(delimiter))}-separated",
            f"decimal {quote(details.get('decimal'))}",
            f"dates {describe_format(details.get('date_format', ''))}",
        ]

    @classmethod
    def sniff(cls, name: str, head: bytes) -> bool:
        """A name ending in ``.csv``/``.tsv``/``.txt``, or text whose lines a delimiter splits alike."""
        if name.lower().endswith(cls.extensions):
            return True
        try:
            text, _ = decode_text(head, "", name)
            detect_delimiter(text)
        except (ImportFileError, ValueError):
            return False
        return not head.lstrip().startswith((b"<", b"!", b"{", b"["))

    def table(self, data: bytes, name: str) -> CsvTable:
        """Decode the file and find its delimiter, header row and data rows (no cell is parsed yet)."""
        m = self.mapping
        text, encoding = decode_text(data, m.encoding, name)
        if not text.strip():
            raise ImportFileError.single(name, "is empty")
        try:
            delimiter = m.delimiter or detect_delimiter(text)
        except ValueError:
            raise ImportFileError.single(
                name, "has no columns: no comma, semicolon, tab or pipe separates its cells", field="delimiter"
            ) from None
        records = [(line, cells) for line, cells in split_rows(text, delimiter) if any(c.strip() for c in cells)]
        width = Counter(len(c) for _, c in records)
        ncols = max(width, key=lambda n: (n * width[n], n))
        if ncols < 2:
            raise ImportFileError.single(
                name,
                f"has only one column when split by {DELIMITER_NAMES.get(delimiter, repr(delimiter))}",
                field="delimiter",
            )
        # the header is the first row as wide as the data (give or take a trailing delimiter), after any preamble
        start = next(i for i, (_, cells) in enumerate(records) if len(cells) >= 2 and abs(len(cells) - ncols) <= 1)
        header_line, first = records[start]
        has_header = not any(_looks_like_data(c) for c in first)
        if has_header:
            headers = [c.strip().removeprefix("\ufeff") for c in first]
        else:
            headers = [str(i + 1) for i in range(max(ncols, len(first)))]
        body = records[start + 1 :] if has_header else records[start:]
        layout = None
        if has_header:
            folded = {h.casefold() for h in headers}
            layout = next((lay for lay in self.layouts if lay.headers <= folded), None)
        return CsvTable(encoding, delimiter, headers, header_line if has_header else None, body, layout)

    def read(self, data: bytes, name: str) -> Extraction:
        m = self.mapping
        tab = self.table(data, name)
        encoding, delimiter, headers, body = tab.encoding, tab.delimiter, tab.headers, tab.body
        has_header, header_line = tab.header_line is not None, tab.header_line
        warnings: list[str] = []
        mapping = tab.layout.mapping.merged(m) if tab.layout else m
        layout_name = tab.layout.name if tab.layout else ""
        cols = self._resolve(mapping, headers, body, name, has_header)
        if not mapping.currency and cols.currency is None:
            named = _header_currency(headers, (cols.amount, cols.debit, cols.credit))
            if named:  # "Amount (EUR)": the whole file is in that currency
                mapping = dataclasses.replace(mapping, currency=named)
        decimal = mapping.decimal or self._detect_decimal(cols, body, delimiter, name)
        currency_hint = mapping.currency or self.default_currency
        day_first = not (decimal == "." and currency_hint in ("USD", ""))
        date_format, ambiguous = self._date_format(mapping, cols, body, day_first, name)
        if ambiguous:
            other = "MM/DD" if date_format.startswith("%d") else "DD/MM"
            warnings.append(
                f"every date fits both {describe_format(date_format)} and {other}: read as {describe_format(date_format)} "
                f"(give the date format to change it)"
            )
        rows = self._rows(name, body, cols, mapping, decimal, date_format)
        folded_headers = Counter(h.casefold() for h in headers)

        def ref(i: int | None) -> str:
            """How the mapping names column ``i``: its header, or its number when the header is empty or repeated."""
            if i is None:
                return ""
            h = headers[i] if i < len(headers) else ""
            return h if h.strip() and folded_headers[h.casefold()] == 1 and not h.strip().isdigit() else str(i + 1)

        resolved = dataclasses.replace(
            mapping,
            date=ref(cols.date),
            amount=ref(cols.amount),
            debit=ref(cols.debit),
            credit=ref(cols.credit),
            description=tuple(ref(i) for i in cols.description),
            category=ref(cols.category),
            tags=ref(cols.tags),
            type=ref(cols.type),
            currency_column=ref(cols.currency),
            id_column=ref(cols.id),
            original_amount=ref(cols.original_amount),
            original_currency=ref(cols.original_currency),
            exchange_rate=ref(cols.exchange_rate),
            date_format=date_format,
            decimal=decimal,
            delimiter=delimiter,
            encoding=encoding,
        )
        details = {
            "layout": layout_name or ("declared" if not m.is_empty() else "guessed"),
            "encoding": encoding,
            "delimiter": delimiter,
            "decimal": decimal,
            "date_format": date_format,
            "header_line": header_line if has_header else None,
            "headers": headers if has_header else [],
            "columns": {
                k: v for k, v in resolved.to_dict().items() if k in CsvMapping.COLUMN_FIELDS or k == "description"
            },
            "mapping": resolved.to_dict(),
        }
        statement = Statement(currency=normalize_currency(mapping.currency) if mapping.currency else None)
        return Extraction(rows=rows, warnings=warnings, details=details, statements=[statement])

    # -- columns --

    def _resolve(
        self, m: CsvMapping, headers: list[str], body: list[tuple[int, list[str]]], file: str, has_header: bool
    ) -> _Columns:
        taken: set[int] = set()

        def find(field: str, spec: str) -> int:
            folded = spec.strip().casefold()
            for i, h in enumerate(headers):
                if h.casefold() == folded:
                    return i
            if folded.isdigit() and 1 <= int(folded) <= len(headers):
                return int(folded) - 1
            shown = ", ".join(repr(h) for h in headers)
            raise ImportFileError.single(
                file, f"is not a column of the file (the columns are {shown})", field=field, value=spec
            )

        def pick(field: str, spec: str) -> int | None:
            if not spec:
                return None
            idx = find(field, spec)
            taken.add(idx)
            return idx

        date = pick("date", m.date)
        amount = pick("amount", m.amount)
        debit = pick("debit", m.debit)
        credit = pick("credit", m.credit)
        description = tuple(find("description", d) for d in m.description)
        taken.update(description)
        category = pick("category", m.category)
        tags = pick("tags", m.tags)
        typ = pick("type", m.type)
        currency = pick("currency_column", m.currency_column)
        ident = pick("id_column", m.id_column)
        original = {role: pick(role, getattr(m, role)) for role in ORIGINAL_ROLES}
        declared = not m.is_empty()

        def guess(key: str) -> int | None:
            idx = _match(_GUESS[key], headers, taken) if has_header else None
            if idx is not None:
                taken.add(idx)
            return idx

        if date is None:
            date = guess("date")
        for role, idx in original.items():  # before the amount: "Amount (original)" is never the amount
            original[role] = guess(role) if idx is None else idx
        if original["original_currency"] is None:  # an amount or a rate alone does not say in what
            for role in ("original_amount", "exchange_rate"):
                if getattr(m, role):
                    raise ImportFileError.single(
                        file,
                        f"cannot tell which column holds the original currency of the column {getattr(m, role)!r} "
                        f"(the columns are {', '.join(repr(h) for h in headers)}); name it in the mapping",
                        field="original_currency",
                    )
                original[role] = None
        if amount is None and debit is None and credit is None:
            amount = guess("amount")
            if amount is None:
                debit, credit = guess("debit"), guess("credit")
                if (debit is None) != (credit is None) and not declared:
                    debit = credit = None
        if not description:
            payee, text = guess("payee"), guess("text")
            description = tuple(i for i in (payee, text) if i is not None)
        if category is None:
            category = guess("category")
        if tags is None:
            tags = guess("tags")
        if currency is None and not m.currency:
            currency = guess("currency_column")
        if ident is None:
            ident = guess("id_column")
        if typ is None and has_header:
            idx = _match(_GUESS["type"], headers, taken)
            values = {
                cells[idx].strip().casefold()
                for _, cells in body
                if idx is not None and idx < len(cells) and cells[idx].strip()
            }
            if idx is not None and values and values <= (INCOME_WORDS | EXPENSE_WORDS):
                typ = idx
                taken.add(idx)

        if date is None or (amount is None and debit is None and credit is None):
            has_money = amount is not None or debit is not None or credit is not None
            date, amount, guessed_desc = self._guess_by_content(headers, body, taken, date, amount, has_money)
            description = description or guessed_desc
        shown = ", ".join(repr(h) for h in headers)
        if date is None:
            raise ImportFileError.single(
                file,
                f"cannot tell which column holds the date (the columns are {shown}); name it in the mapping",
                field="date",
            )
        if amount is None and debit is None and credit is None:
            raise ImportFileError.single(
                file,
                f"cannot tell which column holds the amount (the columns are {shown}); name it in the mapping",
                field="amount",
            )
        return _Columns(date, amount, debit, credit, description, category, tags, typ, currency, ident, **original)

    @staticmethod
    def _guess_by_content(
        headers: list[str],
        body: list[tuple[int, list[str]]],
        taken: set[int],
        date: int | None,
        amount: int | None,
        has_money: bool,
    ) -> tuple[int | None, int | None, tuple[int, ...]]:
        """For files without telling headers: the first all-dates column, the first all-amounts column."""
        sample = body[:50]

        def column(i: int) -> list[str]:
            return [cells[i] for _, cells in sample if i < len(cells) and cells[i].strip()]

        def all_parse(values: list[str], check: Callable[[str], object]) -> bool:
            if not values:
                return False
            try:
                for v in values:
                    check(v)
            except ValueError:
                return False
            return True

        if date is None:
            for i in range(len(headers)):
                if i not in taken and all_parse(column(i), lambda v: detect_date_format([v], day_first=True)):
                    date = i
                    taken.add(i)
                    break
        if not has_money:
            for i in range(len(headers)):
                values = column(i)
                if i in taken or not any(re.search(r"\d[.,]\d", v) for v in values):
                    continue
                try:
                    decimal = detect_decimal(values) or "."
                except ValueError:
                    continue
                if all_parse(values, lambda v, d=decimal: parse_bank_amount(v, d)):  # type: ignore[misc]
                    amount = i
                    taken.add(i)
                    break
        rest = [i for i in range(len(headers)) if i not in taken]
        lengths = {i: sum(len(v) for v in column(i)) for i in rest}
        best = max(rest, key=lambda i: lengths[i], default=None)
        return date, amount, ((best,) if best is not None and lengths[best] else ())

    # -- formats --

    @staticmethod
    def _detect_decimal(cols: _Columns, body: list[tuple[int, list[str]]], delimiter: str, file: str) -> str:
        idxs = [i for i in (cols.amount, cols.debit, cols.credit) if i is not None]
        values = (cells[i] for _, cells in body for i in idxs if i < len(cells))
        try:
            found = detect_decimal(values)
        except ValueError as exc:
            raise ImportFileError.single(
                file, f"cannot be read: {exc} (give the decimal separator)", field="decimal"
            ) from None
        return found or ("," if delimiter == ";" else ".")

    @staticmethod
    def _date_format(
        m: CsvMapping, cols: _Columns, body: list[tuple[int, list[str]]], day_first: bool, file: str
    ) -> tuple[str, bool]:
        if m.date_format:
            return m.date_format, False
        values = [cells[cols.date] for _, cells in body if cols.date < len(cells)]
        try:
            return detect_date_format(values, day_first=day_first, candidates=DATE_FORMATS)
        except ValueError as exc:
            bad = str(exc)
            line = next((ln for ln, cells in body if cols.date < len(cells) and cells[cols.date].strip() == bad), None)
            if not bad:
                raise ImportFileError.single(file, "has no dates in its date column", field="date") from None
            raise ImportFileError.single(
                file,
                "is not a date in a format the whole column shares (give the date format)",
                line=line,
                field="date",
                value=bad,
            ) from None

    # -- rows --

    def _rows(
        self,
        file: str,
        body: list[tuple[int, list[str]]],
        cols: _Columns,
        m: CsvMapping,
        decimal: str,
        date_format: str,
    ) -> list[ParsedRow]:
        problems = Problems(file)
        rows: list[ParsedRow] = []
        needed = max(
            i
            for i in (
                cols.date,
                cols.amount,
                cols.debit,
                cols.credit,
                cols.category,
                cols.tags,
                cols.type,
                cols.currency,
                cols.id,
                cols.original_amount,
                cols.original_currency,
                cols.exchange_rate,
                *cols.description,
            )
            if i is not None
        )
        fixed_currency = normalize_currency(m.currency) if m.currency else None
        dates: dict[str, dt.date] = {}
        total = len(body) or 1
        for n, (line, cells) in enumerate(body):
            if self.progress and n % 500 == 0:
                self.progress(n / total)
            if len(cells) <= needed:
                problems.add(line, "", None, f"has {len(cells)} cells; the mapping needs at least {needed + 1}")
                continue

            def cell(i: int | None, cells: list[str] = cells) -> str:
                return cells[i].strip() if i is not None else ""

            date_text = cell(cols.date)
            money_cells = [cell(i) for i in (cols.amount, cols.debit, cols.credit) if i is not None]
            if not date_text:
                if any(money_cells):
                    problems.add(line, "date", "", "is missing")
                continue
            try:
                date = dates.get(date_text) or dates.setdefault(date_text, parse_date_text(date_text, date_format))
            except ValueError:
                problems.add(line, "date", date_text, f"is not a date in the form {describe_format(date_format)}")
                continue
            amount = self._amount(problems, line, cols, cell, decimal)
            if amount is None:
                continue
            if cols.type is not None:
                word = cell(cols.type).casefold()
                if word in INCOME_WORDS:
                    amount = abs(amount)
                elif word in EXPENSE_WORDS:
                    amount = -abs(amount)
                else:
                    problems.add(line, "type", cell(cols.type), "is neither income nor expense (nor credit/debit)")
                    continue
            if m.invert:
                amount = -amount
            currency = fixed_currency
            if cols.currency is not None and cell(cols.currency):
                try:
                    currency = normalize_currency(cell(cols.currency))
                except ValidationError as exc:
                    problems.add(line, "currency", cell(cols.currency), exc.problem)
                    continue
            category = ""
            tags: tuple[str, ...] = ()
            try:
                raw_category = clean_description(cell(cols.category), limit=10_000)
                if raw_category.casefold() not in PLACEHOLDER_CATEGORIES:
                    category = clean_category(raw_category)
                tags = clean_tags([t for t in re.split(r"[\s,;|]+", cell(cols.tags)) if t])
            except ValidationError as exc:
                problems.add_error(line, exc)
                continue
            original = self._original(problems, line, cols, cell, decimal, amount, currency or self.default_currency)
            if original is None:
                continue
            ident = cell(cols.id)
            if ident and not ident.startswith(("fp:", "ofx:", "csv:", "qif:")):
                ident = "csv:" + ident
            rows.append(
                ParsedRow(
                    line=line,
                    date=date,
                    amount=amount,
                    currency=currency,
                    description=clean_description(*(cell(i) for i in cols.description)),
                    category=category,
                    tags=tags,
                    external_id=ident[:200],
                    original_amount=original[0],
                    original_currency=original[1],
                )
            )
        problems.raise_if_any()
        if self.progress:
            self.progress(1.0)
        return rows

    @staticmethod
    def _amount(
        problems: Problems, line: int, cols: _Columns, cell: Callable[[int | None], str], decimal: str
    ) -> Decimal | None:
        def parse(field: str, idx: int) -> Decimal | None:
            text = cell(idx)
            if not text:
                return Decimal(0)
            try:
                return parse_bank_amount(text, decimal)
            except ValueError as exc:
                problems.add(line, field, text, str(exc))
                return None

        if cols.amount is not None:
            return parse("amount", cols.amount)
        debit = parse("debit", cols.debit) if cols.debit is not None else Decimal(0)
        credit = parse("credit", cols.credit) if cols.credit is not None else Decimal(0)
        if debit is None or credit is None:
            return None
        if debit and credit:
            problems.add(line, "debit", cell(cols.debit), f"and credit {cell(cols.credit)!r} are both filled in")
            return None
        return abs(credit) if credit else -abs(debit)

    @staticmethod
    def _original(
        problems: Problems,
        line: int,
        cols: _Columns,
        cell: Callable[[int | None], str],
        decimal: str,
        amount: Decimal,
        currency: str,
    ) -> tuple[Decimal | None, str] | None:
        """The original amount and currency of a row of ``amount`` in ``currency`` (``(None, "")``: none, also when
        it is in ``currency``); ``None`` when a problem was recorded (see the module's doc)."""
        if cols.original_currency is None or not amount:
            return None, ""
        code_text = cell(cols.original_currency)
        amount_text, rate_text = cell(cols.original_amount), cell(cols.exchange_rate)
        if not code_text:
            if amount_text:  # an amount without its currency: refused unless it is the row's own amount
                paid = _read_original(problems, line, amount_text, decimal)
                if paid is None:
                    return None
                if paid != abs(amount):
                    problems.add(line, "original_amount", amount_text, "is given without an original currency")
                    return None
            return None, ""
        try:
            code = normalize_currency(code_text)
        except ValidationError as exc:
            problems.add(line, "original_currency", code_text, exc.problem)
            return None
        if code == currency:
            return None, ""
        rate = _read_rate(problems, line, rate_text, decimal) if rate_text else Decimal(0)
        paid = _read_original(problems, line, amount_text, decimal) if amount_text else Decimal(0)
        if rate is None or paid is None:
            return None
        field, shown = ("original_amount", amount_text) if paid else ("exchange_rate", rate_text)
        if not paid and not rate:
            problems.add(line, "original_currency", code_text, "is given without an original amount or exchange rate")
            return None
        if not paid:
            paid = at_rate(abs(amount), 1 / Fraction(rate), code)
            if not paid:
                problems.add(line, field, shown, f"makes the amount {abs(amount)} zero in {code}")
                return None
        try:
            return to_decimal_amount(to_minor(paid, code, field), code), code
        except ValidationError as exc:
            problems.add(line, field, shown, exc.problem)
            return None


def _read_original(problems: Problems, line: int, text: str, decimal: str) -> Decimal | None:
    """An original amount cell, its sign dropped (``0``: none); ``None`` when it is not an amount."""
    try:
        return abs(parse_bank_amount(text, decimal))
    except ValueError as exc:
        problems.add(line, "original_amount", text, str(exc))
        return None


def _read_rate(problems: Problems, line: int, text: str, decimal: str) -> Decimal | None:
    """An exchange-rate cell, written with the file's decimal separator (``1,0856``; grouped like the amounts), or
    with the other one where that cannot be a thousands separator (``1.0856`` in a file of decimal commas)."""
    digits = text
    for ch in BANK_GROUP_CHARS:
        digits = digits.replace(ch, "")
    value = read_digits(digits, decimal, lenient=True)
    if value is None and decimal not in digits:
        value = read_digits(digits, "," if decimal == "." else ".", lenient=True)
    if value is None:
        problems.add(line, "exchange_rate", text, "is not an exchange rate (a positive number such as 1.0856)")
        return None
    try:
        return clean_rate(value, "exchange_rate")
    except ValidationError as exc:
        problems.add(line, "exchange_rate", text, exc.problem)
        return None


def parse_delimiter(text: str) -> str:
    """``tab``/``\\t``/``semicolon``/``;`` -> the character (for the CLI and the UI)."""
    names = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}
    value = names.get(text.strip().lower(), text)
    if len(value) != 1:
        raise ValidationError("delimiter", text, "must be one character (',', ';', 'tab', '|')")
    return value
