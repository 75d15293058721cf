"""Exact money: text or ``Decimal`` in, integer minor units inside, text out.

Floats are refused everywhere: ``0.1 + 0.2`` is not a price.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal
from fractions import Fraction

from tracker.errors import ValidationError

Minor = int
"""An amount in integer minor units of its currency (cents for EUR, yen for JPY)."""

# ISO 4217 active codes with their minor-unit exponent (0, 2, 3 or 4).
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL "
    "MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK "
    "PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
    "TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_TWO.split(), 2),
    **dict.fromkeys(_THREE.split(), 3),
    **dict.fromkeys(_FOUR.split(), 4),
}
CURRENCY_SYMBOLS: dict[str, str] = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹", "CHF": "CHF "}

MAX_MAJOR = 10**10
"""Amounts must be below ten billion major units: anything larger is a typo, not a purchase."""


def normalize_currency(code: object) -> str:
    """Return an upper-case ISO 4217 code, or raise ``ValidationError`` naming the field."""
    if not isinstance(code, str) or code.strip().upper() not in CURRENCY_EXPONENTS:
        raise ValidationError("currency", code, "is not an ISO 4217 currency code (for example EUR, USD, JPY)")
    return code.strip().upper()


def exponent(currency: str) -> int:
    """Number of minor-unit digits of a currency (2 for EUR, 0 for JPY)."""
    return CURRENCY_EXPONENTS[normalize_currency(currency)]


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """Parse text (``"12.50"``, ``"1,234.56"``), ``int`` or ``Decimal`` into a ``Decimal``.

    Text is read by :func:`parse_user_amount` in the default number format. Floats and booleans are
    refused: they cannot carry an exact amount.
    """
    if isinstance(value, bool | float):
        raise ValidationError(field, value, "must be given as text or Decimal, not a float")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(field, value, "is not a finite number")
        return value
    return parse_user_amount(value, DEFAULT_NUMBER_FORMAT, field=field)  # type: ignore[arg-type]


def to_minor(value: object, currency: str, field: str = "amount") -> Minor:
    """Parse a positive amount into integer minor units of ``currency``.

    Refuses floats, NaN, infinities, zero, negatives, more decimals than the currency has,
    and amounts of ten billion or more.
    """
    amount = to_decimal(value, field)
    exp = exponent(currency)
    if amount <= 0:
        raise ValidationError(field, value, "must be greater than zero (use the type income or expense for the sign)")
    if amount >= MAX_MAJOR:
        raise ValidationError(field, value, f"is too large (the limit is {MAX_MAJOR:,} {currency})")
    # scaleb with enough precision for every digit: the default 28 digits would silently round the amount
    scaled = amount.scaleb(exp, context=Context(prec=max(28, len(amount.as_tuple().digits))))
    if scaled != scaled.to_integral_value():
        raise ValidationError(field, value, f"has more decimal places than {currency} allows ({exp})")
    return int(scaled)


def to_signed_minor(value: object, currency: str, field: str = "amount") -> Minor:
    """Like :func:`to_minor`, for a balance: zero and negative amounts (``"-12.50"``) are allowed too."""
    amount = to_decimal(value, field)
    if amount == 0:
        return 0
    minor = to_minor(abs(amount), currency, field)
    return -minor if amount < 0 else minor


def to_decimal_amount(minor: Minor, currency: str) -> Decimal:
    """Integer minor units back to an exact ``Decimal`` with the currency's decimal places."""
    exp = CURRENCY_EXPONENTS.get(currency, 2)
    return Decimal(minor).scaleb(-exp) if exp else Decimal(minor)


def at_rate(amount: Decimal, factor: Fraction, currency: str) -> Decimal:
    """``amount × factor`` rounded half-even to the minor unit of ``currency``, from the exact product (a bank's
    converted or original amount; ``factor`` exact, e.g. ``Fraction(rate)``)."""
    scale = 10 ** CURRENCY_EXPONENTS[currency]
    return to_decimal_amount(round(Fraction(amount) * factor * scale), currency)


def format_plain(minor: Minor, currency: str) -> str:
    """Machine form: ``"12.50"`` (``"-3.00"`` for negatives, ``"1500"`` for JPY)."""
    exp = CURRENCY_EXPONENTS.get(currency, 2)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}" if exp else f"{sign}{whole}"


NUMBER_FORMATS = {"1,234.56": (",", "."), "1.234,56": (".", ","), "1 234,56": ("\u202f", ","), "1'234.56": ("'", ".")}
"""Display formats offered in Settings: name -> (thousands separator, decimal separator)."""
DEFAULT_NUMBER_FORMAT = "1,234.56"

# -- reading amounts -------------------------------------------------------------------------------

_GROUPED = re.compile(r"\d{1,3}(?P<sep>[.,'’ ])\d{3}(?:(?P=sep)\d{3})*")
_TYPED_SPACES = re.compile("[ \u00a0\u202f\u2009]")
BANK_GROUP_CHARS = ("\u00a0", "\u202f", "\u2009", " ", "'", "’")
"""Characters banks put between digit groups; a bank amount may have them anywhere."""
_CURRENCY_AFFIX = re.compile(r"^(?:[A-Z]{3}|[€$£¥₹₩]|CHF|Fr\.)\s*|\s*(?:[A-Z]{3}|[€$£¥₹₩]|CHF)$")


def read_digits(text: str, point: str | None, *, lenient: bool = False) -> Decimal | None:
    """``text`` (digits and separators, no sign) read with ``point`` as the decimal separator, or ``None``.

    This is the grammar every amount reader shares. In the whole part, any other separator (``.``, ``,``,
    ``'``, ``’``, a space) groups thousands: by threes, the same one throughout (``1.234.567``), and not
    after a leading 0 (``0.001`` is no group). ``point=None`` reads a whole number. ``lenient`` (bank
    files) also takes a point with no digits on one side (``.5``, ``12.``) and groups after a leading 0.
    """
    whole, sep, frac = text.partition(point) if point else (text, "", "")
    if not re.fullmatch(r"\d*", frac) or (sep and not frac and not (lenient and whole)):
        return None
    if not re.fullmatch(r"\d+", whole):
        if _GROUPED.fullmatch(whole) and (lenient or not whole.startswith("0")):
            whole = re.sub(r"\D", "", whole)
        elif not (lenient and not whole and frac):
            return None
    return Decimal(f"{whole or '0'}.{frac}" if frac else whole)


def read_any_number(text: str) -> Decimal | None:
    """A number typed with no known format (quick entry), or ``None``.

    A separator before exactly three digits groups thousands (``1,234`` and ``1.234`` are 1234); otherwise
    a single ``.`` or ``,`` is the decimal point (``12,40``, ``4.5``); with both, the last one is
    (``1.234,56``, ``1,234.56``); ``,5`` is 0.5.
    """
    if re.fullmatch(r"[.,]\d+", text):
        return read_digits(text, text[0], lenient=True)
    for point in (None, ".", ","):
        value = read_digits(text, point)
        if value is not None:
            return value
    return None


def _typed_example(number_format: str) -> str:
    point = NUMBER_FORMATS.get(number_format, NUMBER_FORMATS[DEFAULT_NUMBER_FORMAT])[1]
    return f"12{point}50 or {format_money(123456, 'USD', number_format, symbol=False)}"


def parse_user_amount(text: str, number_format: str, *, field: str = "amount") -> Decimal:
    """An amount a person typed, read in their number format (``NUMBER_FORMATS``); exact, never a float.

    With ``"1.234,56"``, ``12,50`` is 12.50 and ``1.234,56`` is 1234.56; the machine form ``12.50`` is
    accepted in every format (it cannot be a thousands group). Spaces and ``'`` may group thousands too.
    Only a leading ``+`` is allowed: an amount is positive, its type gives the sign.

    Raises:
        ValidationError: ``field`` names the field; the message shows the expected form in that format.
    """
    point = NUMBER_FORMATS.get(number_format, NUMBER_FORMATS[DEFAULT_NUMBER_FORMAT])[1]
    if not isinstance(text, str):
        raise ValidationError(field, text, f"must be a number written as text, such as {_typed_example(number_format)}")
    body = _TYPED_SPACES.sub(" ", text).strip()
    body = body[1:].lstrip() if body.startswith("+") else body
    for candidate in dict.fromkeys((point, ".")):
        value = read_digits(body, candidate)
        if value is not None:
            return value
    raise ValidationError(field, text, f"is not an amount; write it like {_typed_example(number_format)}")


def parse_bank_amount(text: str, decimal: str = ".") -> Decimal:
    """A signed amount from a bank file: ``-1.234,56``, ``1,234.56``, ``(12.50)``, ``12,50-``, ``€ 3.00``, ``5.00 DR``.

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
    for ch in BANK_GROUP_CHARS:
        s = s.replace(ch, "")
    value = read_digits(s, decimal, lenient=True)
    if value is None:
        raise ValueError(f"is not an amount (decimal separator {decimal!r})")
    whole, _, frac = s.partition(decimal)
    if len(re.sub(r"\D", "", whole)) > 15 or len(frac) > 8:
        raise ValueError("is not a plausible amount")
    return -value if negative else value


def format_money(minor: Minor, currency: str, number_format: str = "1,234.56", symbol: bool = True) -> str:
    """Human form with grouping and symbol: ``€1,234.50``, ``-$3.00``, ``¥1,500``."""
    group, point = NUMBER_FORMATS.get(number_format, (",", "."))
    plain = format_plain(abs(minor), currency)
    whole, _, frac = plain.partition(".")
    grouped = f"{int(whole):,}".replace(",", group)
    body = grouped + (point + frac if frac else "")
    sign = "-" if minor < 0 else ""
    if not symbol:
        return sign + body
    sym = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{sym}{body}" if sym else f"{sign}{body} {currency}"
