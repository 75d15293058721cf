"""Exact money: text or ``Decimal`` in, integer minor units inside, text out.

Floats are refused everywhere: ``0.1 + 0.2`` is not a price.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation

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

_NUMBER = re.compile(r"^\+?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


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

    Floats and booleans are refused: they cannot carry an exact amount.
    """
    if isinstance(value, bool | float):
        raise ValidationError(field, value, "must be given as text or Decimal, not a float")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(field, value, "is not a finite number")
        return value
    if not isinstance(value, str):
        raise ValidationError(field, value, "must be a number written as text, such as 12.50")
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if not _NUMBER.match(text):
        raise ValidationError(field, value, "is not an amount; write it like 12.50")
    try:
        return Decimal(text.lstrip("+").replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern above already excludes this
        raise ValidationError(field, value, "is not an amount; write it like 12.50") from None


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


def to_decimal_amount(minor: Minor, currency: str) -> Decimal:
    """Integer minor units back to an exact ``Decimal`` with the currency's decimal places."""
    exp = CURRENCY_EXPONENTS.get(currency, 2)
    return Decimal(minor).scaleb(-exp) if exp else Decimal(minor)


def format_plain(minor: Minor, currency: str) -> str:
    """Machine form: ``"12.50"`` (``"-3.00"`` for negatives, ``"1500"`` for JPY)."""
    exp = CURRENCY_EXPONENTS.get(currency, 2)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}" if exp else f"{sign}{whole}"


NUMBER_FORMATS = {"1,234.56": (",", "."), "1.234,56": (".", ","), "1 234,56": ("\u202f", ","), "1'234.56": ("'", ".")}
"""Display formats offered in Settings: name -> (thousands separator, decimal separator)."""


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
