"""Transactions: add income and expenses, edit or delete them in the table, undo, download as CSV."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from tracker.errors import TrackerError
from tracker.ledger import Ledger
from tracker.money import CURRENCY_EXPONENTS, format_money, parse_user_amount
from tracker.ui import session, sidebar
from tracker.ui.caches import cached
from tracker.ui.formatting import error_text, flash, guard, log, md, money, number_format, show_flash
from tracker.ui.table import TABLE_COLUMNS, csv_download, describe, plan_edits, table_frame

# -- adding -------------------------------------------------------------------------------------


# What the editor lets through as an amount: digits, separators and spaces (the parser has the last word). A
# comment, not a string: Streamlit's "magic" would show a bare string of a page script on the page.
AMOUNT_PATTERN = r"^\s*\+?[0-9][0-9.,' \u202f\u00a0]*\s*$"


def amount_example(led: Ledger) -> str:
    """``12.50`` in the user's number format (``12,50`` with ``1.234,56``)."""
    return format_money(1250, led.default_currency, number_format(led), symbol=False)


def category_suggestions(led: Ledger, kind: str) -> list[str]:
    """Categories used for ``kind`` (most used first), then the other categories."""

    def compute() -> list[str]:
        frame = led.frame()
        mine = frame.loc[frame["type"] == kind, "category"].value_counts()
        first = [str(c) for c in mine.index]
        return first + [c for c in led.categories() if c not in set(first)]

    return cached("categories", led, kind, compute)


def submit(kind: str) -> None:
    """Form callback: add the transaction, or keep the input and remember the message."""
    ss = st.session_state
    p = f"tx_{kind}"
    typed = ss.get(f"{p}_amount", "")
    try:
        led = session.ledger()
        tx = led.add(
            kind,
            parse_user_amount(typed, number_format(led)),
            category=ss.get(f"{p}_category") or "",
            date=ss.get(f"{p}_date") or dt.date.today(),
            tags=list(ss.get(f"{p}_tags") or ()),
            note=ss.get(f"{p}_note", ""),
        )
    except TrackerError as exc:
        ss[f"{p}_error"] = error_text(exc, typed)
        return
    except Exception as exc:  # logged, never shown as a traceback
        log.exception("adding a transaction failed")
        ss[f"{p}_error"] = f"The transaction could not be saved ({type(exc).__name__}); see the log file."
        return
    ss.pop(f"{p}_error", None)
    ss[f"{p}_amount"] = ""
    ss[f"{p}_category"] = None
    ss[f"{p}_tags"] = []
    ss[f"{p}_note"] = ""
    what = "Income" if kind == "income" else "Expense"
    flash(f"{what} of {money(tx.amount_minor, tx.currency, led)} in {tx.category} on {tx.date:%Y-%m-%d} added.")


def add_form(led: Ledger, kind: str) -> None:
    """One add form; its error message shows right under it."""
    p = f"tx_{kind}"
    title = "Add an expense" if kind == "expense" else "Add income"
    with st.form(f"{p}_form"):
        st.markdown(f"**{title}**")
        left, right = st.columns(2)
        example = amount_example(led)
        left.text_input(
            f"Amount ({led.default_currency})", key=f"{p}_amount", placeholder=example, persist_state="session"
        )
        right.date_input("Date", value="today", key=f"{p}_date", format="YYYY-MM-DD", persist_state="session")
        options = category_suggestions(led, kind)
        typed = st.session_state.get(f"{p}_category")
        if typed and typed not in options:  # a new category typed before an error: keep showing it
            options = [typed, *options]
        st.selectbox(
            "Category",
            options,
            index=None,
            accept_new_options=True,
            placeholder="Choose one or type a new one",
            key=f"{p}_category",
            persist_state="session",
        )
        st.multiselect(
            "Tags",
            led.tags(),
            accept_new_options=True,
            placeholder="Optional",
            key=f"{p}_tags",
            persist_state="session",
        )
        st.text_input("Note", key=f"{p}_note", placeholder="Optional", persist_state="session")
        st.form_submit_button(title, type="primary", on_click=submit, args=(kind,), width="stretch")
    error = st.session_state.get(f"{p}_error")
    if error:
        st.error(md(error), icon=":material/error:")


def quick_entry(led: Ledger) -> None:
    """The one-line quick entry of the planning feature, when it is installed."""
    try:
        from tracker.ui import widgets_quickentry
    except ImportError:
        return
    widgets_quickentry.quick_entry(led)


# -- the table ----------------------------------------------------------------------------------


def editor_key() -> str:
    """The editor's key; a new one discards pending edits."""
    return f"tx_table_{st.session_state.get('tx_table_version', 0)}"


def reset_editor() -> None:
    """Forget the pending edits."""
    st.session_state["tx_table_version"] = st.session_state.get("tx_table_version", 0) + 1


def save_edits(led: Ledger, shown: pd.DataFrame, edits: dict) -> None:
    """Validate every edited row; commit edits and deletions as one change, or nothing and say why."""
    batch = plan_edits(led, shown, edits, number_format(led))
    if not batch.problems and batch.count:
        try:
            led.update_many(batch.changes, batch.deletes, label=batch.label)
        except TrackerError as exc:  # changed meanwhile by another tab or process
            batch.problems.append(str(exc))
    if batch.problems:
        st.session_state["tx_table_errors"] = batch.problems
        return
    if batch.count:
        flash(f"Saved {describe(len(batch.changes), len(batch.deletes))}.")
    st.session_state.pop("tx_table_errors", None)
    reset_editor()


def undo(led: Ledger) -> None:
    """Undo the last change of any kind."""
    label = led.undo()
    flash(f"Undone: {label}." if label else "There is nothing to undo.", "toast")
    reset_editor()


def transaction_table(led: Ledger, view: sidebar.View) -> None:
    """The filtered list: editable, with save/discard, undo and CSV download."""
    frame = sidebar.filtered_frame(led, view)
    fmt = number_format(led)
    shown = cached("table", led, (view.key(), fmt), lambda: table_frame(frame, fmt))
    head, undo_col, csv_col = st.columns([4, 1, 1], vertical_alignment="bottom")
    head.subheader(f"{len(shown):,} transaction{'s' if len(shown) != 1 else ''}")
    head.caption(sidebar.describe_view(view))
    if undo_col.button("Undo", icon=":material/undo:", key="tx_undo", help="Undo the last change", width="stretch"):
        undo(led)
        st.rerun()
    csv_col.download_button(
        "Download CSV",
        data=lambda: csv_download(frame),
        file_name=f"transactions-{dt.date.today():%Y-%m-%d}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="tx_download",
        on_click="ignore",
        width="stretch",
        disabled=shown.empty,
    )
    if shown.empty:
        st.info("No transactions match these filters." if len(led.frame()) else "No transactions yet: add one above.")
        return
    key = editor_key()
    st.data_editor(
        shown,
        key=key,
        num_rows="delete",
        hide_index=True,
        height=(min(len(shown), 20) + 1) * 35 + 3,
        width="stretch",
        column_order=TABLE_COLUMNS,
        column_config={
            "date": st.column_config.DateColumn("Date", format="YYYY-MM-DD", required=True),
            "type": st.column_config.SelectboxColumn("Type", options=["expense", "income"], required=True),
            "amount": st.column_config.TextColumn(
                "Amount", required=True, help=f"Exact amount, e.g. {amount_example(led)}", validate=AMOUNT_PATTERN
            ),
            "currency": st.column_config.SelectboxColumn("Currency", options=sorted(CURRENCY_EXPONENTS), required=True),
            "category": st.column_config.TextColumn("Category", required=True, max_chars=60),
            "tags": st.column_config.MultiselectColumn("Tags", options=led.tags(), accept_new_options=True),
            "note": st.column_config.TextColumn("Note", max_chars=500),
        },
    )
    edits = st.session_state.get(key) or {}
    pending = len(edits.get("edited_rows", {})), len(edits.get("deleted_rows", []))
    for problem in st.session_state.get("tx_table_errors", []):
        st.error(md(problem), icon=":material/error:")
    if any(pending):
        note, save, discard = st.columns([4, 1, 1], vertical_alignment="center")
        note.warning(f"Unsaved: {describe(*pending)}.", icon=":material/edit_note:")
        if save.button("Save changes", type="primary", key="tx_save", width="stretch"):
            save_edits(led, shown, edits)
            st.rerun()
        if discard.button("Discard", key="tx_discard", width="stretch"):
            st.session_state.pop("tx_table_errors", None)
            reset_editor()
            st.rerun()


# -- the page -----------------------------------------------------------------------------------

with guard("The Transactions page"):
    led = session.ledger()
    view = sidebar.filter_sidebar("tx", led)
    st.title("Transactions")
    show_flash()
    quick_entry(led)
    expense_col, income_col = st.columns(2)
    with expense_col:
        add_form(led, "expense")
    with income_col:
        add_form(led, "income")
    st.divider()
    transaction_table(led, view)
