"""The quick-entry box: one line of text, the account, a live preview, and an Add button (used by the
Transactions page)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from tracker.categorize import Categoriser
from tracker.errors import TrackerError
from tracker.ledger import Ledger
from tracker.quickentry import QuickEntry, preview, save
from tracker.ui import session, sidebar
from tracker.ui.caches import cached
from tracker.ui.formatting import flash, log, md, money

TEXT_KEY = "tx_quick_text"
ACCOUNT_KEY = "tx_quick_account"
ERROR_KEY = "tx_quick_error"
PLACEHOLDER = "coffee 4.50 yesterday #work   ·   salary +2500 on 2026-11-01   ·   12,40 groceries"
HELP = (
    "One amount (a leading + means income), an optional date (today, yesterday, a weekday, 2026-11-01), "
    "#tags and @Category; the other words become the note and suggest the category. Press Enter to preview."
)


def _categoriser(led: Ledger) -> Categoriser:
    """The user's rules and the history of the ledger, as imports use them (cached per revision)."""
    return cached("quick_categoriser", led, None, lambda: Categoriser.of(led))


def parse(led: Ledger, text: str, today: dt.date | None = None, account: str | None = None) -> QuickEntry:
    """The preview of ``text`` into ``account`` (:func:`tracker.quickentry.preview`), with the categoriser cached
    per revision (building it reads the whole history: a third of a second at 100,000 rows, too slow for every
    keystroke)."""
    return preview(led, text, today, account, categoriser=_categoriser(led))


def _add() -> None:
    """Button callback: save what the box says, then empty it (or keep it and say why)."""
    ss = st.session_state
    try:
        led = session.ledger()
        tx = save(led, parse(led, ss.get(TEXT_KEY, ""), account=ss.get(ACCOUNT_KEY)))
    except TrackerError as exc:
        ss[ERROR_KEY] = str(exc)
        return
    except Exception as exc:  # logged, never shown as a traceback
        log.exception("quick entry failed")
        ss[ERROR_KEY] = f"The transaction could not be saved ({type(exc).__name__}); see the log file."
        return
    ss.pop(ERROR_KEY, None)
    ss[TEXT_KEY] = ""
    what = "Income" if tx.type == "income" else "Expense"
    flash(
        f"{what} of {money(tx.amount_minor, tx.currency, led)} in {tx.category} on {tx.date:%Y-%m-%d} "
        f"added to {tx.account}."
    )


def quick_entry(led: Ledger, today: dt.date | None = None) -> None:
    """Render the box. Call it where the quick entry should appear (keys ``tx_quick_...``)."""
    with st.container(border=True):
        text_col, account_col, button_col = st.columns([5, 2, 1], vertical_alignment="bottom")
        text = text_col.text_input("Quick entry", key=TEXT_KEY, placeholder=PLACEHOLDER, help=HELP)
        account = sidebar.account_select(account_col, led, "Account", ACCOUNT_KEY)
        entry: QuickEntry | None = None
        problem: str | None = None
        if text and text.strip():
            try:
                entry = parse(led, text, today, account.name)
            except TrackerError as exc:
                problem = str(exc)
        button_col.button(
            "Add", key="tx_quick_add", type="primary", on_click=_add, disabled=entry is None, width="stretch"
        )
        error = st.session_state.pop(ERROR_KEY, None)
        if error:
            st.error(error, icon=":material/error:")
        elif entry is not None:
            st.caption(_describe(led, entry))
        elif problem:
            st.warning(f"Not understood: {problem}", icon=":material/help:")


def _describe(led: Ledger, entry: QuickEntry) -> str:
    """``Expense of $4.50 on Fri 2026-11-27 in Food (from your history) · #work · “coffee”``."""
    how = {
        "explicit": "as given",
        "rule": "from your rule",
        "file": "from the file",
        "history": "from your history",
        "category": "an existing category",
        "words": "from similar notes",
        "word": "new category",
        "default": "default",
    }[entry.category_source]
    amount = md(money(entry.amount_minor, entry.currency, led))
    kind = "Income" if entry.type == "income" else "Expense"
    parts = [f"{kind} of **{amount}** on {entry.date:%a %Y-%m-%d} in **{md(entry.category)}** ({how})"]
    if len(sidebar.open_accounts(led)) > 1:
        parts.append(f"into **{md(entry.account)}**")
    if entry.tags:
        parts.append(md(" ".join(f"#{t}" for t in entry.tags)))
    if entry.note:
        parts.append(f"“{md(entry.note)}”")
    return "Preview: " + " · ".join(parts) + " — press **Add** to save."
