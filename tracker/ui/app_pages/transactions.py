"""Transactions: add income, expenses (either split between categories) and transfers, edit or delete them in the
table, split or unsplit one of its rows, undo, download as CSV."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pandas as pd
import streamlit as st

from tracker import splits
from tracker.accounts import Account, add_transfer, default_account, get_account, list_accounts
from tracker.errors import TrackerError, ValidationError, shown
from tracker.ledger import Ledger
from tracker.model import TRANSFER_CATEGORY, TX_TYPES, Transaction
from tracker.money import CURRENCY_EXPONENTS, format_money, parse_user_amount, to_minor
from tracker.ui import session, sidebar, split_editor
from tracker.ui.caches import cached
from tracker.ui.formatting import error_text, flash, guard, log, md, money, number_format, show_flash
from tracker.ui.table import (
    BALANCE_COLUMN,
    FORCE_LABEL,
    ORIGINAL_COLUMN,
    READ_ONLY,
    TRANSFER_COLUMN,
    column_order,
    csv_download,
    describe,
    is_unconfirmed,
    plan_edits,
    reconciled_problem,
    table_frame,
)

# -- adding -------------------------------------------------------------------------------------


# What the editor lets through as an amount: digits, separators and spaces (the parser has the last word). A
# comment, not a string: Streamlit's "magic" would show a bare string of a page script on the page.
AMOUNT_PATTERN = r"^\s*\+?[0-9][0-9.,' \u202f\u00a0]*\s*$"


def amount_example(led: Ledger, currency: str | None = None) -> str:
    """``12.50`` in the user's number format (``12,50`` with ``1.234,56``) and ``currency``'s decimals."""
    return format_money(1250, currency or led.default_currency, number_format(led), symbol=False)


def category_suggestions(led: Ledger, kind: str) -> list[str]:
    """Categories used for ``kind`` (most used first), then the other categories (not the transfers' one)."""

    def compute() -> list[str]:
        frame = led.frame()
        mine = frame.loc[frame["type"] == kind, "category"].value_counts()
        first = [str(c) for c in mine.index]
        others = [c for c in led.categories() if c not in set(first) and c != TRANSFER_CATEGORY]  # transfers' own
        return first + others

    return cached("categories", led, kind, compute)


def chosen_account(led: Ledger, name: object) -> Account:
    """The account an add form names (its selectbox), or the default one."""
    return get_account(led, name) if isinstance(name, str) and name else default_account(led)


def typed_total(kind: str, currency: str, number_format: str) -> int | None:
    """The add form's amount in minor units, for its split lines; ``None`` while nothing is typed."""
    typed = str(st.session_state.get(f"tx_{kind}_amount") or "")
    if not typed.strip():
        return None
    try:
        return to_minor(parse_user_amount(typed, number_format), currency)
    except ValidationError as exc:  # quoted as typed, not as its Decimal
        raise ValidationError(exc.field, typed, exc.problem) from None


def submit(kind: str) -> None:
    """Form callback: add the transaction (split into the lines of the split editor when "Split" is on), or keep
    the input and remember the message."""
    ss = st.session_state
    p = f"tx_{kind}"
    typed = ss.get(f"{p}_amount", "")
    splitting = bool(ss.get(f"{p}_split_on"))
    try:
        led = session.ledger()
        fmt = number_format(led)
        amount = parse_user_amount(typed, fmt)
        account = chosen_account(led, ss.get(f"{p}_account"))  # in the account's currency (Ledger.add)
        if splitting:
            what: dict[str, Any] = {
                "splits": splits.to_splits(split_editor.typed_lines(f"{p}_split"), fmt, account.currency)
            }
        else:
            what = {"category": ss.get(f"{p}_category") or ""}
        tx = led.add(
            kind,
            amount,
            date=ss.get(f"{p}_date") or dt.date.today(),
            tags=list(ss.get(f"{p}_tags") or ()),
            note=ss.get(f"{p}_note", ""),
            account=account.name,
            **what,
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
    if splitting:
        split_editor.load(f"{p}_split")
        ss[f"{p}_split_on"] = False
    kind_name = "Income" if kind == "income" else "Expense"
    where = f"split between {', '.join(line.category for line in tx.lines)}" if tx.splits else f"in {tx.category}"
    flash(
        f"{kind_name} of {money(tx.amount_minor, tx.currency, led)} {where} on {tx.date:%Y-%m-%d} added to {tx.account}."
    )


def add_forms(led: Ledger) -> None:
    """The expense and income forms side by side; while one is split, one under the other (its lines need the
    whole width)."""
    if any(st.session_state.get(f"tx_{kind}_split_on") for kind in ("expense", "income")):
        add_form(led, "expense")
        add_form(led, "income")
        return
    expense_col, income_col = st.columns(2)
    with expense_col:
        add_form(led, "expense")
    with income_col:
        add_form(led, "income")


def add_form(led: Ledger, kind: str) -> None:
    """One add form: the account (outside the form, so that the amount's currency follows it at once) and the
    "Split" switch, then the form; its error message shows right under it.

    Split, it is no form: the split editor's remainder follows the amount and the lines as they are typed."""
    p = f"tx_{kind}"
    title = "Add an expense" if kind == "expense" else "Add income"
    with st.container(border=True):
        st.markdown(f"**{title}**")
        label = "Paid from" if kind == "expense" else "Paid into"
        account = sidebar.account_select(
            st, led, label, f"{p}_account", help="The amount is in this account's currency"
        )
        splitting = st.toggle(
            "Split between categories",
            key=f"{p}_split_on",
            help="Share the amount between several categories (groceries and household goods on one receipt)",
        )
        with st.container() if splitting else st.form(f"{p}_form", border=False):
            left, right = st.columns(2)
            left.text_input(
                f"Amount ({account.currency})",
                key=f"{p}_amount",
                placeholder=amount_example(led, account.currency),
                persist_state="session",
            )
            right.date_input("Date", value="today", key=f"{p}_date", format="YYYY-MM-DD", persist_state="session")
            if splitting:
                total = functools.partial(typed_total, kind, account.currency, number_format(led))
                split_editor.split_editor(led, f"{p}_split", total, account.currency)
            else:
                category_input(led, kind)
            st.multiselect(
                "Tags",
                led.tags(),
                accept_new_options=True,
                placeholder="Optional",
                key=f"{p}_tags",
                persist_state="session",
            )
            st.text_input("Note", key=f"{p}_note", placeholder="Optional", persist_state="session")
            if splitting:
                st.button(title, key=f"{p}_add_split", type="primary", on_click=submit, args=(kind,), width="stretch")
            else:
                st.form_submit_button(title, type="primary", on_click=submit, args=(kind,), width="stretch")
    error = st.session_state.get(f"{p}_error")
    if error:
        st.error(md(error), icon=":material/error:")


def category_input(led: Ledger, kind: str) -> None:
    """The add form's category: a suggestion or a new one."""
    p = f"tx_{kind}"
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


def submit_transfer() -> None:
    """Button callback: store the transfer (both sides in one change), or keep the input and remember why not."""
    ss = st.session_state
    typed = ss.get("tx_transfer_amount", "")
    received = ""
    try:
        led = session.ledger()
        fmt = number_format(led)
        source = get_account(led, ss.get("tx_transfer_from") or "")
        target = get_account(led, ss.get("tx_transfer_to") or "")
        if source.currency != target.currency:  # "Amount received" is shown (and read) only then
            received = ss.get("tx_transfer_received", "")
        out, arrived = add_transfer(
            led,
            parse_user_amount(typed, fmt),
            source=source.name,
            target=target.name,
            to_amount=parse_user_amount(received, fmt, field="to_amount") if received.strip() else None,
            date=ss.get("tx_transfer_date") or dt.date.today(),
            note=ss.get("tx_transfer_note", ""),
        )
    except TrackerError as exc:
        ss["tx_transfer_error"] = transfer_error(exc, typed, received)
        return
    except Exception as exc:  # logged, never shown as a traceback
        log.exception("adding a transfer failed")
        ss["tx_transfer_error"] = f"The transfer could not be saved ({type(exc).__name__}); see the log file."
        return
    ss.pop("tx_transfer_error", None)
    ss["tx_transfer_amount"] = ""
    ss["tx_transfer_received"] = ""
    ss["tx_transfer_note"] = ""
    sent = money(out.amount_minor, out.currency, led)
    got = "" if arrived.currency == out.currency else f" ({money(arrived.amount_minor, arrived.currency, led)} arrived)"
    flash(f"Transfer of {sent} from {out.account} to {arrived.account}{got} on {out.date:%Y-%m-%d} added.")


# The transfer form's labels of the fields that tracker.accounts.make_transfer names in its errors (a comment, not
# a docstring: Streamlit's "magic" would show a bare string of a page script on the page).
TRANSFER_LABELS = {"from": "From", "to": "To", "amount": "Amount", "to_amount": "Amount received"}


def transfer_error(exc: TrackerError, typed: str, received: str) -> str:
    """The message of a refused transfer, naming the form's field (``Amount received is needed: ...``), with an
    amount quoted as it was typed."""
    label = TRANSFER_LABELS.get(exc.field) if isinstance(exc, ValidationError) else None
    if label is None or not isinstance(exc, ValidationError):
        return error_text(exc)
    value = {"amount": typed, "to_amount": received or None}.get(exc.field, exc.value)
    if value is None:
        return f"{label} {exc.problem}"
    return f"{label}: {shown(value)} {exc.problem}"


def transfer_form(led: Ledger) -> None:
    """Move money between two accounts; "Amount received" shows when the accounts' currencies differ."""
    choices = sidebar.open_accounts(led)
    with st.container(border=True):
        st.markdown("**Transfer between accounts**")
        if len(choices) < 2:
            st.caption(
                "Transfers need two open accounts: add one on the Accounts page (or `expense-tracker account add`)."
            )
            return
        left, right = st.columns(2)
        source = sidebar.account_select(left, led, "From", "tx_transfer_from")
        others = [a.name for a in choices if a.name != source.name]
        target = sidebar.account_select(right, led, "To", "tx_transfer_to", default=others[0])
        left, right = st.columns(2)
        left.text_input(
            f"Amount sent ({source.currency})",
            key="tx_transfer_amount",
            placeholder=amount_example(led, source.currency),
            persist_state="session",
        )
        if source.currency != target.currency:
            right.text_input(
                f"Amount received ({target.currency})",
                key="tx_transfer_received",
                placeholder=amount_example(led, target.currency),
                help=f"What arrived in {target.name}: no exchange rate is assumed",
                persist_state="session",
            )
        left, right = st.columns(2)
        left.date_input("Date", value="today", key="tx_transfer_date", format="YYYY-MM-DD", persist_state="session")
        right.text_input("Note", key="tx_transfer_note", placeholder="Optional", persist_state="session")
        st.button("Add transfer", key="tx_transfer_add", type="primary", on_click=submit_transfer, width="stretch")
    error = st.session_state.get("tx_transfer_error")
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


def save_edits(led: Ledger, shown: pd.DataFrame, edits: dict, force: bool = False) -> None:
    """Validate every edited row; commit edits and deletions as one change, or nothing and say why. Reconciled
    rows are changed only with ``force`` (the "Allow changing reconciled transactions" box ticked)."""
    batch = plan_edits(led, shown, edits, number_format(led), force=force)
    if not batch.problems and batch.count:
        try:
            led.update_many(batch.changes, batch.deletes, label=batch.label, force=force)
        except TrackerError as exc:  # changed meanwhile by another tab or process, or a transfer's other side
            if is_unconfirmed(exc):
                st.session_state["tx_table_needs_force"] = True
                batch.problems.append(reconciled_problem(f"The other side of a transfer ({exc.value})"))
            else:
                batch.problems.append(str(exc))
    if batch.problems:
        st.session_state["tx_table_errors"] = batch.problems
        return
    if batch.count:
        flash(f"Saved {describe(len(batch.changes), len(batch.deletes))}.")
    forget_problems()
    reset_editor()


def forget_problems() -> None:
    """Forget the messages of the last save (the confirmation box goes with the editor's key)."""
    for key in ("tx_table_errors", "tx_table_needs_force"):
        st.session_state.pop(key, None)


def undo(led: Ledger) -> None:
    """Undo the last change of any kind."""
    label = led.undo()
    flash(f"Undone: {label}." if label else "There is nothing to undo.", "toast")
    reset_editor()


def balance_account(led: Ledger, view: sidebar.View) -> Account | None:
    """The account whose running balance the table shows: the one chosen in the sidebar, if exactly one is."""
    if view.account is None:
        return None
    try:
        return get_account(led, view.account)
    except TrackerError:  # deleted meanwhile
        return None


def column_config(led: Ledger, account: Account | None) -> dict[str, Any]:
    """How the editor shows and edits each column (:func:`tracker.ui.table.column_order`)."""
    config = st.column_config
    return {
        "date": config.DateColumn("Date", format="YYYY-MM-DD", required=True),
        "type": config.SelectboxColumn("Type", options=list(TX_TYPES), required=True),
        "amount": config.TextColumn(
            "Amount", required=True, help=f"Exact amount, e.g. {amount_example(led)}", validate=AMOUNT_PATTERN
        ),
        "currency": config.SelectboxColumn("Currency", options=sorted(CURRENCY_EXPONENTS), required=True),
        "account": config.SelectboxColumn(
            "Account", options=[a.name for a in list_accounts(led)], required=True, help="Move it to another account"
        ),
        ORIGINAL_COLUMN: config.TextColumn("Original", help="What it cost in the other currency (bought abroad)"),
        TRANSFER_COLUMN: config.TextColumn("Transfer", help="Where a transfer's money went to or came from"),
        "category": config.TextColumn("Category", required=True, max_chars=60),
        "tags": config.MultiselectColumn("Tags", options=led.tags(), accept_new_options=True),
        "note": config.TextColumn("Note", max_chars=500),
        "cleared": config.CheckboxColumn("Cleared", help="Seen on a bank statement"),
        "reconciled": config.CheckboxColumn("Reconciled", help="Reconciled against a statement (on the Accounts page)"),
        BALANCE_COLUMN: config.TextColumn(
            "Balance",
            help=f"{account.name}'s balance after this transaction (every transaction counts, also those the "
            "filters hide)"
            if account
            else None,
        ),
    }


def transaction_table(led: Ledger, view: sidebar.View) -> pd.DataFrame:
    """The filtered list: editable, with save/discard, undo and CSV download; for one account its running balance.
    Returns the rows shown."""
    frame = sidebar.filtered_frame(led, view)
    fmt = number_format(led)
    account = balance_account(led, view)
    shown = cached(
        "table",
        led,
        (view.key(), fmt, account),
        lambda: table_frame(frame, fmt, everything=led.frame(), account=account),
    )
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
        return shown
    key = editor_key()
    order = column_order(with_balance=account is not None, with_original=bool(shown[ORIGINAL_COLUMN].any()))
    st.data_editor(
        shown,
        key=key,
        num_rows="delete",
        hide_index=True,
        height=(min(len(shown), 20) + 1) * 35 + 3,
        width="stretch",
        column_order=order,
        column_config=column_config(led, account),
        disabled=[c for c in READ_ONLY if c in order],
    )
    edits = st.session_state.get(key) or {}
    pending = len(edits.get("edited_rows", {})), len(edits.get("deleted_rows", []))
    for problem in st.session_state.get("tx_table_errors", []):
        st.error(md(problem), icon=":material/error:")
    if any(pending):
        force = False
        if touches_reconciled(shown, edits) or st.session_state.get("tx_table_needs_force"):
            force = st.checkbox(
                FORCE_LABEL,
                key=f"{key}_force",
                help="Reconciled transactions match a bank statement; changing them can make it disagree",
            )
        note, save, discard = st.columns([4, 1, 1], vertical_alignment="center")
        note.warning(f"Unsaved: {describe(*pending)}.", icon=":material/edit_note:")
        if save.button("Save changes", type="primary", key="tx_save", width="stretch"):
            save_edits(led, shown, edits, force=force)
            st.rerun()
        if discard.button("Discard", key="tx_discard", width="stretch"):
            forget_problems()
            reset_editor()
            st.rerun()
    return shown


def touches_reconciled(shown: pd.DataFrame, edits: dict) -> bool:
    """Whether the pending edits change or delete a row shown as reconciled."""
    positions = {int(p) for p in edits.get("edited_rows", {})} | {int(p) for p in edits.get("deleted_rows", [])}
    marks = shown["reconciled"].tolist()
    return any(marks[p] for p in positions if 0 <= p < len(marks))


# -- splitting one row --------------------------------------------------------------------------

SPLIT = "tx_split"  # the keys of the split panel and its editor's prefix (a comment: Streamlit's magic shows strings)


def row_label(rows: pd.DataFrame, tx_id: str) -> str:
    """``2026-12-01 · expense · 100.00 USD · Groceries · weekly shop``: a row of the table in the picker."""
    row = rows.loc[tx_id]
    note = f" · {row['note']}" if row["note"] else ""
    return f"{row['date']:%Y-%m-%d} · {row['type']} · {row['amount']} {row['currency']} · {row['category']}{note}"


def tx_name(tx: Transaction, led: Ledger) -> str:
    """``The expense of $100.00 on 2026-12-01``: a transaction in the split panel's messages."""
    return f"The {tx.type} of {money(tx.amount_minor, tx.currency, led)} on {tx.date:%Y-%m-%d}"


def load_split(led: Ledger, tx: Transaction) -> None:
    """Fill the split editor with ``tx``'s lines when another transaction is picked or the picked one changed
    (saved, undone, edited elsewhere); the unsplit category starts on its biggest line's."""
    ss = st.session_state
    shown_version = (tx.id, tx.updated_at)
    if ss.get(f"{SPLIT}_loaded") == shown_version:
        return
    split_editor.load(SPLIT, split_editor.lines_of(tx, number_format(led)))
    ss[f"{SPLIT}_loaded"] = shown_version
    ss[f"{SPLIT}_category"] = max(tx.lines, key=lambda line: line.amount_minor).category if tx.splits else None
    for key in (f"{SPLIT}_force", f"{SPLIT}_problem"):
        ss.pop(key, None)


def change_split(tx_id: str, unsplit: bool) -> None:
    """Button callback: save the editor's lines as ``tx_id``'s split, or unsplit it into the category chosen; one
    undoable change, or nothing and the reason. A reconciled transaction needs the table's confirmation box."""
    ss = st.session_state
    ss.pop(f"{SPLIT}_problem", None)
    name = "The transaction"
    try:
        led = session.ledger()
        tx = led.get(tx_id)
        name = tx_name(tx, led)
        if unsplit:
            category = ss.get(f"{SPLIT}_category") or ""
            changes: dict[str, Any] = {"splits": [], "category": category}
        else:
            changes = {"splits": splits.to_splits(split_editor.typed_lines(SPLIT), number_format(led), tx.currency)}
        after = led.update(tx_id, force=bool(ss.get(f"{SPLIT}_force")), **changes)
    except TrackerError as exc:
        if is_unconfirmed(exc):
            ss[f"{SPLIT}_problem"] = reconciled_problem(name)
        else:
            ss[f"{SPLIT}_problem"] = str(exc)
        return
    except Exception as exc:  # logged, never shown as a traceback
        log.exception("changing a split failed")
        ss[f"{SPLIT}_problem"] = f"The split could not be saved ({type(exc).__name__}); see the log file."
        return
    if unsplit:
        flash(f"{tx_name(after, led)} is no longer split: it is in {after.category}.")
    else:
        flash(f"{tx_name(after, led)} is split between {', '.join(line.category for line in after.lines)}.")


def split_panel(led: Ledger, shown_rows: pd.DataFrame) -> None:
    """Pick one income or expense of the table, split it between categories (its lines in the split editor), or
    unsplit it into one category."""
    rows = shown_rows[shown_rows["type"] != "transfer"] if not shown_rows.empty else shown_rows
    if rows.empty:
        return
    with st.expander(  # its open state kept in the session: a flash message gone must not close it
        "Split or unsplit a transaction", icon=":material/call_split:", key=f"{SPLIT}_open", on_change="rerun"
    ):
        picked = st.selectbox(
            "Transaction",
            list(rows.index),
            index=None,
            format_func=functools.partial(row_label, rows),
            placeholder="Choose one of the rows shown above",
            key=f"{SPLIT}_pick",
        )
        if picked is None:
            return
        tx = led.get(picked)
        load_split(led, tx)
        split_editor.split_editor(led, SPLIT, functools.partial(int, tx.amount_minor), tx.currency)
        if tx.reconciled:
            st.checkbox(
                FORCE_LABEL,
                key=f"{SPLIT}_force",
                help="Reconciled transactions match a bank statement; changing them can make it disagree",
            )
        save, category, unsplit = st.columns([2, 2, 1], vertical_alignment="bottom")
        save.button(
            "Save split",
            key=f"{SPLIT}_save",
            type="primary",
            on_click=change_split,
            args=(tx.id, False),
            width="stretch",
        )
        if tx.splits:
            options = led.categories()
            chosen = st.session_state.get(f"{SPLIT}_category")
            category.selectbox(
                "Unsplit into category",
                options if not chosen or chosen in options else [chosen, *options],
                index=None,
                accept_new_options=True,
                placeholder="Choose or type",
                key=f"{SPLIT}_category",
            )
            unsplit.button(
                "Unsplit", key=f"{SPLIT}_unsplit", on_click=change_split, args=(tx.id, True), width="stretch"
            )
    problem = st.session_state.get(f"{SPLIT}_problem")
    if problem:
        st.error(md(problem), icon=":material/error:")


# -- the page -----------------------------------------------------------------------------------

with guard("The Transactions page"):
    led = session.ledger()
    view = sidebar.filter_sidebar("tx", led)
    st.title("Transactions")
    show_flash()
    quick_entry(led)
    add_forms(led)
    transfer_form(led)
    st.divider()
    shown_rows = transaction_table(led, view)
    split_panel(led, shown_rows)
