"""What the page tests in AppTest share: the app started from its router on one page, text as the user reads it,
and a selectbox choice that may be a new option."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "tracker" / "ui" / "app.py"


def open_app(page: str) -> AppTest:
    """The app started from the router, switched to ``page`` (``app_pages/...``), run once, with no exception."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def plain(text: str) -> str:
    """Markdown-escaped page text back to what the user reads (the app escapes user data with backslashes)."""
    return text.replace("\\", "")


def texts(elements: object) -> list[str]:
    """The text of page elements (``at.error``, ``at.success``...) as the user reads it."""
    return [plain(str(e.value)) for e in elements]  # type: ignore[attr-defined]


def assert_one_error(at: AppTest, said: str) -> None:
    """Exactly one error shown, on one line, saying ``said``, no traceback, and no success message."""
    errors = texts(at.error)
    assert len(errors) == 1, errors
    assert said in errors[0]
    assert "\n" not in errors[0]
    assert "Traceback" not in errors[0]
    assert not at.success


def choose(at: AppTest, key: str, value: object) -> None:
    """Pick ``value`` in the selectbox ``key``; a new text is added first (as typing a new one does in the browser)."""
    box = at.selectbox(key=key)
    if value not in box.options and isinstance(value, str):
        box.options.append(value)
    box.set_value(value)
