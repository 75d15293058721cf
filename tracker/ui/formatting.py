"""How the pages show things: money in the user's number format, user text as written, messages and errors."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from decimal import Decimal

import streamlit as st

from tracker.errors import TrackerError, ValidationError
from tracker.ledger import Ledger
from tracker.money import format_money, format_plain

log = logging.getLogger("tracker.ui")

FLASH_KEY = "flash_messages"


# -- money and numbers ----------------------------------------------------------------------------


def number_format(led: Ledger) -> str:
    """The number format chosen in the settings (``1,234.56`` unless another was chosen)."""
    return str(led.settings.get("number_format", "1,234.56"))


def money(minor: int, currency: str, led: Ledger) -> str:
    """``$1,234.50`` in the number format of the settings."""
    return format_money(int(minor), currency, number_format(led))


def signed_money(minor: int, currency: str, led: Ledger) -> str:
    """``+$12.00`` / ``-$3.50``: for changes."""
    text = money(abs(minor), currency, led)
    return ("+" if minor > 0 else "-" if minor < 0 else "±") + text


def plain(minor: int, currency: str) -> str:
    """``12.50``: the exact amount as text, for editing and export."""
    return format_plain(int(minor), str(currency))


def percent(value: float | None, points: bool = False) -> str:
    """``12.5 %`` (``—`` for ``None``)."""
    if value is None:
        return "—"
    return f"{value:+.1f} {'pts' if points else '%'}" if points else f"{value:.1f} %"


# -- user text ------------------------------------------------------------------------------------

_MARKDOWN = str.maketrans({ch: "\\" + ch for ch in "\\`*_{}[]()#+-.!|~<>$:"})


def md(text: object) -> str:
    """``text`` with Markdown, ``$``-math and ``:emoji:`` characters escaped: user data shown as written."""
    return str(text).translate(_MARKDOWN)


# -- messages and errors --------------------------------------------------------------------------


def flash(message: str, kind: str = "success") -> None:
    """A message shown once, on the next run (after ``st.rerun``)."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def show_flash() -> None:
    """Show and forget the flashed messages."""
    for kind, message in st.session_state.pop(FLASH_KEY, []):
        if kind == "toast":
            st.toast(md(message))
        else:
            getattr(st, kind, st.info)(md(message))


def error_text(exc: TrackerError, typed_amount: object = None) -> str:
    """The message of ``exc``, with a refused amount quoted as the person typed it (``'0,001'``, not its Decimal)."""
    if typed_amount is not None and isinstance(exc, ValidationError) and isinstance(exc.value, Decimal):
        return str(ValidationError(exc.field, typed_amount, exc.problem))
    return str(exc)


@contextlib.contextmanager
def guard(what: str = "This page") -> Iterator[None]:
    """Show a ``TrackerError`` as a readable message, and any other error without a traceback (logged)."""
    try:
        yield
    except TrackerError as exc:
        st.error(md(exc), icon=":material/error:")
    except Exception as exc:
        from tracker.logs import log_path

        log.exception("unexpected error in the UI (%s)", what)
        st.error(
            f"{what} ran into an unexpected problem ({type(exc).__name__}); your data was not changed by it. "
            f"Details are in the log file: {log_path()}",
            icon=":material/error:",
        )
