"""Recurring: what is coming up, the recurring transactions with their next dates (each editable), and a form to add one.

Due occurrences are posted when the app starts (and with the "Post due now" button), each exactly once.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from tracker import recurring
from tracker.accounts import Account, default_account
from tracker.errors import TrackerError
from tracker.ledger import Ledger
from tracker.money import format_plain, parse_user_amount
from tracker.recurring import UNITS, Template
from tracker.ui import session, sidebar
from tracker.ui.formatting import error_text, flash, guard, md, money, number_format, show_flash

UPCOMING_DAYS = 60


def account_of(led: Ledger, t: Template) -> str:
    """The account ``t`` posts into (a template with none posts into the default account)."""
    return t.account or default_account(led).name


def chosen_account(led: Ledger, key: str) -> Account:
    """The open account picked in the selectbox ``key`` (the default account if none is)."""
    name = str(st.session_state.get(key) or "").casefold()
    choices = sidebar.open_accounts(led)
    return next((a for a in choices if a.name.casefold() == name), default_account(led))


def describe(led: Ledger, t: Template) -> str:
    """``Expense of $1,200.00 every month · Rent · into Checking · #home``."""
    kind = "Income" if t.type == "income" else "Expense"
    parts = [
        f"{kind} of **{md(money(t.amount_minor, t.currency, led))}** every {t.interval_text}",
        f"**{md(t.category)}**",
        f"{'into' if t.type == 'income' else 'from'} {md(account_of(led, t))}",
    ]
    if t.tags:
        parts.append(md(" ".join(f"#{tag}" for tag in t.tags)))
    if t.note:
        parts.append(f"“{md(t.note)}”")
    return " · ".join(parts)


def upcoming(led: Ledger, templates: list[Template], today: dt.date) -> None:
    """The occurrences of the next :data:`UPCOMING_DAYS` days."""
    st.subheader(f"Coming up in the next {UPCOMING_DAYS} days")
    pairs = recurring.upcoming_all(templates, today, days=UPCOMING_DAYS)
    if not pairs:
        st.caption("Nothing scheduled.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Date": f"{day:%a %Y-%m-%d}",
                    "Type": t.type,
                    "Amount": money(t.amount_minor if t.type == "income" else -t.amount_minor, t.currency, led),
                    "Category": t.category,
                    "Account": account_of(led, t),
                    "Note": t.note,
                }
                for day, t in pairs
            ]
        ),
        hide_index=True,
        width="stretch",
    )


def _delete(template_id: str) -> None:
    try:
        gone = recurring.delete_template(session.ledger(), template_id)
    except TrackerError as exc:
        flash(str(exc), "error")
        return
    flash(f"Deleted the recurring {gone.category} (every {gone.interval_text}); the transactions it posted stay.")


def _edit(template_id: str) -> None:
    """Form callback: apply the edit form of one template (its future occurrences)."""
    ss = st.session_state
    led = session.ledger()
    before = next((t for t in recurring.load_templates(led) if t.id == template_id), None)
    if before is None:
        flash("That recurring transaction no longer exists.", "error")
        return
    typed = ss.get(f"rec_edit_amount_{template_id}") or ""
    changes: dict[str, object] = {
        "category": ss.get(f"rec_edit_category_{template_id}") or "",
        "tags": list(ss.get(f"rec_edit_tags_{template_id}") or ()),
        "note": ss.get(f"rec_edit_note_{template_id}", ""),
        "end": ss.get(f"rec_edit_end_{template_id}"),
    }
    account = chosen_account(led, f"rec_edit_account_{template_id}")
    if account.name.casefold() != account_of(led, before).casefold():
        changes["account"] = account.name
    if account.currency != before.currency:
        changes["currency"] = account.currency  # the amount is in the account's currency
    every = int(ss.get(f"rec_edit_every_{template_id}") or before.every)
    unit = ss.get(f"rec_edit_unit_{template_id}") or before.unit
    if (every, unit) != (before.every, before.unit):
        changes["every"] = f"{every} {unit}"
    try:
        changes["amount"] = parse_user_amount(typed, number_format(led))
        _, after = recurring.update_template(led, template_id, **changes)
        posted = recurring.post_due(led)
    except TrackerError as exc:
        ss[f"rec_edit_error_{template_id}"] = error_text(exc, typed)
        return
    ss.pop(f"rec_edit_error_{template_id}", None)
    extra = f" {posted} occurrence{'s were' if posted != 1 else ' was'} due and posted." if posted else ""
    flash(
        f"Saved: {after.category} every {after.interval_text} ({account_of(led, after)}), from the next occurrence on."
        f"{extra}"
    )


def edit_form(led: Ledger, t: Template) -> None:
    """Edit one template's future occurrences (keys ``rec_edit_<field>_<id>``); what it posted stays."""
    error = st.session_state.get(f"rec_edit_error_{t.id}")
    with st.expander("Edit", expanded=bool(error)):
        account = sidebar.account_select(
            st,
            led,
            "Account",
            f"rec_edit_account_{t.id}",
            default=account_of(led, t),
            help="Its next occurrences go into this account, in its currency.",
        )
        edit_fields(led, t, account)
    if error:
        st.error(error, icon=":material/error:")


def edit_fields(led: Ledger, t: Template, account: Account) -> None:
    """The edit form's fields (the account is chosen above it, so the amount's currency follows at once)."""
    with st.form(f"rec_edit_form_{t.id}", border=False):
        a, b = st.columns(2)
        a.text_input(
            f"Amount ({account.currency})",
            value=format_plain(t.amount_minor, t.currency),
            key=f"rec_edit_amount_{t.id}",
        )
        names = led.categories()
        b.selectbox(
            "Category",
            names if t.category in names else [t.category, *names],
            index=(names if t.category in names else [t.category, *names]).index(t.category),
            accept_new_options=True,
            key=f"rec_edit_category_{t.id}",
        )
        a, b, c = st.columns(3)
        a.number_input(
            "Every", min_value=1, max_value=recurring.MAX_EVERY, value=t.every, step=1, key=f"rec_edit_every_{t.id}"
        )
        b.selectbox(
            "Unit", UNITS, index=UNITS.index(t.unit), key=f"rec_edit_unit_{t.id}", format_func=lambda u: f"{u}(s)"
        )
        c.date_input("Last date (empty: no end)", value=t.end, key=f"rec_edit_end_{t.id}", format="YYYY-MM-DD")
        a, b = st.columns(2)
        tag_options = sorted({*led.tags(), *t.tags}, key=str.casefold)
        a.multiselect("Tags", tag_options, default=list(t.tags), accept_new_options=True, key=f"rec_edit_tags_{t.id}")
        b.text_input("Note", value=t.note, key=f"rec_edit_note_{t.id}")
        st.caption(
            "Changes apply to the occurrences still to come; the transactions already posted stay as they are. "
            "A new interval starts at the next occurrence."
        )
        st.form_submit_button("Save changes", on_click=_edit, args=(t.id,))


def template_list(led: Ledger, templates: list[Template], today: dt.date) -> None:
    """Each template with its schedule, progress, an Edit form and a Delete button (keys ``rec_delete_<id>``)."""
    st.subheader("Recurring transactions")
    if not templates:
        st.info("No recurring transactions yet. Add rent, salary or subscriptions below and they post themselves.")
        return
    for t in templates:
        with st.container(border=True):
            text, button = st.columns([5, 1], vertical_alignment="center")
            nxt = next(iter(t.occurrences(t.next_index)), None)
            when = f"since {t.start:%Y-%m-%d}" + (f" until {t.end:%Y-%m-%d}" if t.end else "")
            status = f"next on {nxt[1]:%a %Y-%m-%d}" if nxt else "finished"
            text.markdown(describe(led, t))
            text.caption(f"{when} · {status} · {t.next_index} posted · id {t.id}")
            button.button("Delete", key=f"rec_delete_{t.id}", on_click=_delete, args=(t.id,), width="stretch")
            edit_form(led, t)


def _add() -> None:
    ss = st.session_state
    typed = ss.get("rec_amount") or ""
    try:
        led = session.ledger()
        account = chosen_account(led, "rec_account")
        template = recurring.make_template(
            type=ss.get("rec_type", "expense"),
            amount=parse_user_amount(typed, number_format(led)),
            category=ss.get("rec_category") or "",
            currency=account.currency,
            account=account.name,
            every=int(ss.get("rec_every") or 1),
            unit=ss.get("rec_unit", "month"),
            start=ss.get("rec_start") or dt.date.today(),
            end=ss.get("rec_end"),
            tags=list(ss.get("rec_tags") or ()),
            note=ss.get("rec_note", ""),
        )
        recurring.add_template(led, template)
        posted = recurring.post_due(led)
    except TrackerError as exc:
        ss["rec_error"] = error_text(exc, typed)
        return
    ss.pop("rec_error", None)
    ss["rec_amount"] = ""
    ss["rec_note"] = ""
    extra = f" {posted} occurrence{'s were' if posted != 1 else ' was'} already due and posted." if posted else ""
    flash(f"Added: {template.category} every {template.interval_text} ({account.name}).{extra}")


def add_form(led: Ledger) -> None:
    """The form to add a recurring transaction (keys ``rec_...``); the account is chosen above the form, so the
    amount's currency follows it at once."""
    with st.container(border=True):
        st.markdown("**Add a recurring transaction**")
        account = sidebar.account_select(
            st, led, "Account", "rec_account", help="Its transactions go into this account, in its currency."
        )
        add_fields(led, account)
    error = st.session_state.get("rec_error")
    if error:
        st.error(error, icon=":material/error:")


def add_fields(led: Ledger, account: Account) -> None:
    """The add form's fields."""
    with st.form("rec_form", border=False):
        a, b, c = st.columns(3)
        a.radio("Type", ("expense", "income"), key="rec_type", horizontal=True, format_func=str.capitalize)
        b.text_input(f"Amount ({account.currency})", key="rec_amount", placeholder="1200")
        c.selectbox(
            "Category",
            led.categories(),
            index=None,
            accept_new_options=True,
            key="rec_category",
            placeholder="Choose or type",
        )
        a, b, c, d = st.columns(4)
        a.number_input("Every", min_value=1, max_value=recurring.MAX_EVERY, value=1, step=1, key="rec_every")
        b.selectbox("Unit", UNITS, index=UNITS.index("month"), key="rec_unit", format_func=lambda u: f"{u}(s)")
        c.date_input("First date", value="today", key="rec_start", format="YYYY-MM-DD")
        d.date_input("Last date (empty: no end)", value=None, key="rec_end", format="YYYY-MM-DD")
        a, b = st.columns(2)
        a.multiselect("Tags", led.tags(), accept_new_options=True, key="rec_tags", placeholder="Optional")
        b.text_input("Note", key="rec_note", placeholder="Optional")
        st.caption("A monthly date after the 28th falls on the last day of shorter months (Jan 31 → Feb 28 → Mar 31).")
        st.form_submit_button("Add recurring transaction", type="primary", on_click=_add)


def post_now() -> None:
    """Button callback: post what is due today."""
    try:
        posted = recurring.post_due(session.ledger())
    except TrackerError as exc:
        flash(str(exc), "error")
        return
    flash(
        f"Posted {posted} recurring transaction{'s' if posted != 1 else ''}." if posted else "Nothing is due.", "toast"
    )


# -- the page -------------------------------------------------------------------------------------

with guard("The Recurring page"):
    led = session.ledger()
    today = dt.date.today()
    head, button = st.columns([5, 1], vertical_alignment="bottom")
    head.title("Recurring")
    button.button("Post due now", key="rec_post_now", on_click=post_now, width="stretch")
    show_flash()
    templates = recurring.load_templates(led)
    upcoming(led, templates, today)
    template_list(led, templates, today)
    st.divider()
    add_form(led)
