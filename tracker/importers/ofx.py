"""OFX/QFX bank and credit-card statements, version 1 (SGML) and 2 (XML).

ofxtools does the hard part: its header parser finds the character set and its ``TreeBuilder``
turns SGML with unclosed elements, or XML, into an ``ElementTree``. We read the statements from
that tree ourselves instead of calling ``OFXTree.convert()``, because ``convert()``:

* refuses whole real-world files for details we do not use (``checking.ofx`` of the ofxparse suite
  has an 11-character ``BANKID``, above the spec's 9; empty balance elements are refused too);
* turns ``DTPOSTED`` into UTC, which moves an evening transaction of a bank west of Greenwich to the
  next day (``20120603203135[-7:PDT]`` is the 3rd of June for the customer, the 4th in UTC).

Amounts are read from the text as ``Decimal`` (never float), dates from the first eight digits (the
bank's own calendar date), and every transaction is checked: a missing or impossible date, an
amount that is not a number, or a bank error response refuses the whole file, naming the line.

A transaction in another currency carries one of two aggregates, ``CURRATE`` being (OFX 1.6, 5.2) the
ratio of the statement's ``CURDEF`` to ``CURSYM`` (one ``CURSYM`` unit is ``CURRATE`` ``CURDEF`` units):

* ``<ORIGCURRENCY>``: ``TRNAMT`` is in ``CURDEF``, converted from ``CURSYM``; the original amount is
  ``TRNAMT / CURRATE`` in ``CURSYM``;
* ``<CURRENCY>``: ``TRNAMT`` is in ``CURSYM``; the account's amount is ``TRNAMT × CURRATE`` in ``CURDEF``
  and the original is ``TRNAMT`` in ``CURSYM``.

The derived side is computed exactly and rounded half-even to its currency's minor unit. A statement
without ``CURDEF`` does not say what ``<CURRENCY>`` converts into: its ``TRNAMT`` is read as an amount in
``CURSYM`` (the plan refuses it for an account in another currency).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import hashlib
import html
import logging
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from fractions import Fraction
from io import BytesIO
from typing import Any

from tracker.errors import ValidationError
from tracker.importers.base import (
    Extraction,
    Importer,
    ImportFileError,
    ParsedRow,
    Problems,
    Statement,
    clean_description,
    strip_head,
)
from tracker.money import (
    at_rate,
    normalize_currency,
    parse_bank_amount,
    to_decimal_amount,
    to_minor,
)
from tracker.rates import clean_rate

log = logging.getLogger(__name__)

_AMOUNT = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})")
_STATEMENTS = ("STMTRS", "CCSTMTRS")
_ACCOUNTS = ("BANKACCTFROM", "CCACCTFROM")
_FOREIGN = ("CURRENCY", "ORIGCURRENCY")


def _text(elem: ET.Element | None, path: str) -> str:
    """Unescaped, stripped text of the child at ``path`` ('' when absent or empty)."""
    if elem is None:
        return ""
    found = elem.find(path)
    if found is None or found.text is None:
        return ""
    return html.unescape(found.text).strip()


class _Positions:
    """Line numbers of elements in the decoded file (the tree builder keeps none)."""

    def __init__(self, text: str, first_line: int) -> None:
        self.text = text
        self.first_line = first_line
        self.starts = [m.start() for m in re.finditer(r"<STMTTRN>", text)]
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line_at(self, offset: int) -> int:
        return self.first_line + bisect.bisect_left(self.newlines, offset)

    def trn_line(self, k: int) -> int | None:
        return self.line_at(self.starts[k]) if k < len(self.starts) else None

    def field_line(self, k: int, tag: str) -> int | None:
        if k >= len(self.starts):
            return None
        start = self.starts[k]
        end = self.text.find("</STMTTRN>", start)
        nxt = self.starts[k + 1] if k + 1 < len(self.starts) else len(self.text)
        end = min(end if end >= 0 else nxt, nxt)
        found = self.text.find(f"<{tag}>", start, end)
        return self.line_at(found if found >= 0 else start)


def _checked_builder() -> Any:
    """ofxtools' ``TreeBuilder``, made to refuse end tags that close the wrong element and unclosed elements.

    ElementTree's builder silently accepts ``</B>`` closing ``<A>`` and a file that stops half way,
    which would import the first part of a truncated statement.
    """
    from ofxtools.Parser import ParseError, TreeBuilder

    class Checked(TreeBuilder):
        def __init__(self) -> None:
            super().__init__()
            self.open: list[str] = []

        def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
            self.open.append(tag)
            return super().start(tag, attrs)

        def end(self, tag: str) -> ET.Element:
            if not self.open or self.open[-1] != tag:
                inner = f"<{self.open[-1]}>" if self.open else "nothing"
                raise ParseError(f"</{tag}> where {inner} should be closed")
            self.open.pop()
            return super().end(tag)

        def close(self) -> ET.Element:
            if self.open:
                raise ParseError(f"the file ends before </{self.open[-1]}> (is it cut off?)")
            return super().close()

    return Checked()


class OfxImporter(Importer):
    """OFX 1.x (SGML) and 2.x (XML) statements; QFX is OFX with Intuit extensions."""

    name = "ofx"
    extensions = (".ofx", ".qfx")

    @classmethod
    def sniff(cls, name: str, head: bytes) -> bool:
        """An OFX 1 header, an OFX processing instruction, or XML with an ``<OFX>`` element near the start."""
        upper = strip_head(head)[:4096].upper()
        xml_ofx = upper.startswith(b"<?XML") and b"<OFX>" in upper
        return xml_ofx or upper.startswith((b"OFXHEADER", b"<?OFX", b"<OFX>"))

    def read(self, data: bytes, name: str) -> Extraction:
        stripped = data.removeprefix(b"\xef\xbb\xbf")
        lead = len(stripped) - len(stripped.lstrip())
        first_line = 1 + stripped[:lead].count(b"\n")
        stripped = stripped[lead:]
        if not stripped:
            raise ImportFileError.single(name, "is empty")
        warnings: list[str] = []
        codec = self._header_codec(stripped, name, warnings)
        text = self._decode(stripped, codec)
        root_at = text.upper().find("<OFX>")
        if root_at < 0:
            raise ImportFileError.single(name, "is not an OFX file (it has no <OFX> element)")
        first_line += text.count("\n", 0, root_at)
        body = text[root_at:]
        root = self._tree(body, name, first_line)
        positions = _Positions(body, first_line)
        return self._extract(root, positions, name, warnings)

    @staticmethod
    def _header_codec(data: bytes, name: str, warnings: list[str]) -> str:
        from ofxtools.header import parse_header

        upper = data[:16].upper()
        if not upper.startswith((b"OFXHEADER", b"<?XML", b"<?OFX")):
            warnings.append("the file has no OFX header; its body was read anyway")
            return ""
        try:
            header, _ = parse_header(BytesIO(data))
        except Exception as exc:  # ofxtools raises OFXHeaderError, UnicodeDecodeError, ValueError...
            log.info("OFX header of %s not accepted by ofxtools: %s", name, exc)
            warnings.append("the OFX header is not standard; the body was read anyway")
            return ""
        return str(getattr(header, "codec", "") or "")

    @staticmethod
    def _decode(data: bytes, codec: str) -> str:
        for candidate in (codec, "utf-8", "cp1252"):
            if not candidate:
                continue
            try:
                return data.decode(candidate)
            except (UnicodeDecodeError, LookupError):
                continue
        return data.decode("latin-1")

    @staticmethod
    def _tree(body: str, name: str, first_line: int) -> ET.Element:
        builder = _checked_builder()
        try:
            builder.feed(body)
            root = builder.close()
        except Exception as exc:  # ParseError (SyntaxError), AssertionError from ElementTree on unclosed tags
            message = str(exc) or type(exc).__name__
            line = None
            pos = re.search(r"position=\[(\d+):", message)
            if pos:
                line = first_line + body.count("\n", 0, int(pos.group(1)))
                message = message[: pos.start()].rstrip(" -")
            message = re.sub(r"\s+", " ", message)[:160]
            raise ImportFileError.single(name, f"is not valid OFX ({message})", line=line) from None
        if root is None or root.tag != "OFX":
            raise ImportFileError.single(name, "is not an OFX file (its root element is not <OFX>)")
        return root

    def _extract(self, root: ET.Element, pos: _Positions, name: str, warnings: list[str]) -> Extraction:
        problems = Problems(name)
        self._check_status(root, pos, problems)
        index = {id(e): k for k, e in enumerate(root.iter("STMTTRN"))}
        rows: list[ParsedRow] = []
        statements = [e for e in root.iter() if e.tag in _STATEMENTS]
        if any(e.tag == "INVSTMTRS" for e in root.iter()):
            warnings.append("investment statements are not imported")
        found: list[Statement] = []
        for number, stmt in enumerate(statements):
            curdef = _text(stmt, "CURDEF")
            account = next((stmt.find(a) for a in _ACCOUNTS if stmt.find(a) is not None), None)
            acct_id = _text(account, "ACCTID")
            bank_id = _text(account, "BANKID")
            acct = f"{bank_id}/{acct_id}" if bank_id else acct_id
            found.append(self._statement(stmt, acct, curdef, warnings))
            for trn in stmt.iterfind("BANKTRANLIST/STMTTRN"):
                row = self._row(trn, index.get(id(trn), len(pos.starts)), pos, problems, curdef, acct)
                if row is not None:
                    rows.append(dataclasses.replace(row, statement=number))
        problems.raise_if_any()
        if not statements:
            warnings.append("the file contains no bank or credit-card statement")
        return Extraction(
            rows=rows, warnings=warnings, details={"statements": len(statements)}, statements=found or [Statement()]
        )

    @staticmethod
    def _statement(stmt: ET.Element, acct: str, curdef: str, warnings: list[str]) -> Statement:
        """The account a statement is of, its currency and its closing balance (``LEDGERBAL``), when it says."""
        kind = _text(stmt, "BANKACCTFROM/ACCTTYPE").upper()
        credit = stmt.tag == "CCSTMTRS" or kind == "CREDITLINE"
        label = f"{'credit card' if credit else (kind.lower() or 'account')} {acct}".strip() if acct else ""
        try:
            currency = normalize_currency(curdef) if curdef else None
        except ValidationError:
            currency = None  # every row names it too: the row check reports it with its line
        balance = date = None
        raw, asof = _text(stmt, "LEDGERBAL/BALAMT"), _text(stmt, "LEDGERBAL/DTASOF")
        match = _DATE.match(asof)
        if raw and _AMOUNT.match(raw) and match:
            try:
                balance = parse_bank_amount(raw, "," if "," in raw else ".")
                date = dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                balance = date = None
        if raw and balance is None:
            warnings.append(f"the closing balance of {label or 'the statement'} ({raw!r} on {asof!r}) is not read")
        return Statement(
            key=f"ofx:{acct}" if acct else "",
            label=label,
            currency=currency,
            balance=balance,
            balance_date=date,
            credit_card=credit,
        )

    @staticmethod
    def _check_status(root: ET.Element, pos: _Positions, problems: Problems) -> None:
        for status in root.iter("STATUS"):
            if _text(status, "SEVERITY").upper() != "ERROR":
                continue
            found = re.search(r"<SEVERITY>\s*ERROR", pos.text)
            line = pos.line_at(found.start()) if found else None
            message = _text(status, "MESSAGE") or "no message"
            code = _text(status, "CODE") or "?"
            problems.add(
                line, "STATUS", None, f"the bank sent an error instead of a statement: {message!r} (code {code})"
            )
        problems.raise_if_any()

    @staticmethod
    def _row(trn: ET.Element, k: int, pos: _Positions, problems: Problems, curdef: str, acct: str) -> ParsedRow | None:
        line = pos.trn_line(k) or 0
        ok = True
        posted = _text(trn, "DTPOSTED")
        date: dt.date | None = None
        if not posted:
            problems.add(
                pos.field_line(k, "DTPOSTED"), "DTPOSTED", None, "is missing (every transaction needs its date)"
            )
            ok = False
        else:
            match = _DATE.match(posted)
            try:
                if not match:
                    raise ValueError
                date = dt.date(int(match[1]), int(match[2]), int(match[3]))
                if not dt.date(1900, 1, 1) <= date <= dt.date(2199, 12, 31):
                    raise ValueError
            except ValueError:
                problems.add(
                    pos.field_line(k, "DTPOSTED"), "DTPOSTED", posted, "is not a date (OFX dates are YYYYMMDD...)"
                )
                ok = False
        raw_amount = _text(trn, "TRNAMT")
        amount = Decimal(0)
        if not _AMOUNT.match(raw_amount):
            problems.add(
                pos.field_line(k, "TRNAMT"),
                "TRNAMT",
                raw_amount or None,
                "is missing" if not raw_amount else "is not an amount",
            )
            ok = False
        else:
            try:
                amount = parse_bank_amount(raw_amount, "," if "," in raw_amount else ".")
            except ValueError as exc:  # more digits than any bank amount has
                problems.add(pos.field_line(k, "TRNAMT"), "TRNAMT", raw_amount, str(exc))
                ok = False
        currency = curdef
        if currency:
            try:
                currency = normalize_currency(currency)
            except ValidationError:
                problems.add(line, "CURDEF", currency, "is not an ISO 4217 currency code")
                ok = False
        foreign = _Foreign.read(trn, k, pos, problems)
        if not ok or date is None or foreign is None:
            return None
        converted = foreign.apply(amount, currency, k, pos, problems)
        if converted is None:
            return None
        currency, amount, original, original_currency = converted
        fitid = _text(trn, "FITID")
        external = ""
        if fitid:
            external = f"ofx:{acct}:{fitid}"
            if len(external) > 200:
                external = "ofx:" + hashlib.sha256(external.encode()).hexdigest()[:40]
        name = _text(trn, "NAME") or _text(trn, "PAYEE/NAME")
        return ParsedRow(
            line=line,
            date=date,
            amount=amount,
            currency=currency or None,
            description=clean_description(name, _text(trn, "MEMO")),
            category=clean_description(_text(trn, "CATEGORY"), limit=60),
            external_id=external,
            original_amount=original,
            original_currency=original_currency,
        )


def _read_rate(raw: str) -> Decimal:
    """A ``CURRATE``: a positive number (``1.0856``, ``1,0856``); raises ``ValidationError`` saying what is wrong."""
    if not raw:
        raise ValidationError("CURRATE", None, "is missing (the rate of the conversion)")
    if not _AMOUNT.match(raw):
        raise ValidationError("CURRATE", raw, "is not a number (a rate is written like 1.0856)")
    try:
        return clean_rate(Decimal(raw.replace(",", ".")), "CURRATE")
    except ValidationError as exc:
        raise ValidationError("CURRATE", raw, exc.problem) from None


@dataclasses.dataclass(frozen=True)
class _Foreign:
    """A transaction's ``<CURRENCY>`` or ``<ORIGCURRENCY>`` aggregate, read and checked (see the module's doc)."""

    tag: str
    """``CURRENCY`` or ``ORIGCURRENCY``; ``""`` when the transaction has neither (or an empty one)."""
    rate: Decimal = Decimal(1)
    symbol: str = ""
    raw_rate: str = ""

    @classmethod
    def read(cls, trn: ET.Element, k: int, pos: _Positions, problems: Problems) -> _Foreign | None:
        """The aggregate of ``trn``; ``None`` when a problem was recorded."""
        given = [tag for tag in _FOREIGN if trn.find(tag) is not None]
        if len(given) > 1:
            problems.add(
                pos.field_line(k, "ORIGCURRENCY"),
                "ORIGCURRENCY",
                None,
                "is given together with CURRENCY (a transaction has one or the other)",
            )
            return None
        if not given:
            return cls("")
        tag = given[0]
        raw_rate, raw_symbol = _text(trn, f"{tag}/CURRATE"), _text(trn, f"{tag}/CURSYM")
        if not raw_rate and not raw_symbol:
            return cls("")  # an empty aggregate says nothing
        rate = symbol = None
        try:
            rate = _read_rate(raw_rate)
        except ValidationError as exc:
            problems.add(pos.field_line(k, "CURRATE" if raw_rate else tag), "CURRATE", exc.value, exc.problem)
        try:
            symbol = normalize_currency(raw_symbol)
        except ValidationError:
            missing = f"is missing (the {tag} aggregate names no currency)"
            problems.add(
                pos.field_line(k, "CURSYM" if raw_symbol else tag),
                "CURSYM",
                raw_symbol or None,
                "is not an ISO 4217 currency code" if raw_symbol else missing,
            )
        if rate is None or symbol is None:
            return None
        return cls(tag, rate, symbol, raw_rate)

    def apply(
        self, amount: Decimal, curdef: str, k: int, pos: _Positions, problems: Problems
    ) -> tuple[str, Decimal, Decimal | None, str] | None:
        """``(currency, amount, original amount, original currency)`` of a transaction of ``TRNAMT`` ``amount``
        in a statement in ``curdef`` (``""``: it names none); ``None`` when a problem was recorded."""
        if self.tag == "CURRENCY" and not curdef:  # converted into a currency the file does not name
            return self.symbol, amount, None, ""  # TRNAMT as it is, in CURSYM
        if not self.tag or not amount:
            return curdef, amount, None, ""
        if self.symbol == curdef:
            if self.rate != 1:
                problems.add(
                    pos.field_line(k, "CURRATE"),
                    "CURRATE",
                    self.raw_rate,
                    f"is not 1, but CURSYM is the statement's own currency {curdef}",
                )
                return None
            return curdef, amount, None, ""
        if self.tag == "CURRENCY":
            try:
                paid = to_minor(abs(amount), self.symbol, "TRNAMT")
            except ValidationError as exc:
                problems.add(pos.field_line(k, "TRNAMT"), "TRNAMT", str(amount), exc.problem)
                return None
            booked, original = at_rate(amount, Fraction(self.rate), curdef), to_decimal_amount(paid, self.symbol)
        else:
            booked, original = amount, at_rate(abs(amount), 1 / Fraction(self.rate), self.symbol)
        if not booked or not original:
            problems.add(
                pos.field_line(k, "CURRATE"),
                "CURRATE",
                self.raw_rate,
                f"makes TRNAMT {amount} zero in {curdef if not booked else self.symbol}",
            )
            return None
        return curdef, booked, original, self.symbol
