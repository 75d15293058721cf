"""Settings: default and reporting currency, number format and theme; exchange rates; where the data lives; backups."""

from __future__ import annotations

import streamlit as st

from tracker.errors import TrackerError
from tracker.ledger import THEMES, Ledger
from tracker.money import CURRENCY_EXPONENTS, NUMBER_FORMATS, format_money
from tracker.ui import session
from tracker.ui.formatting import flash, guard, md, show_flash

EXAMPLE_MINOR = 123456


def save_preferences() -> None:
    """Form callback: store the three preferences as one undoable change."""
    ss = st.session_state
    try:
        led = session.ledger()
        led.update_settings(
            currency=ss["set_currency"],
            reporting_currency=ss.get("set_reporting_currency") or "",
            number_format=ss["set_number_format"],
            theme=ss["set_theme"],
        )
    except TrackerError as exc:
        ss["set_error"] = str(exc)
        return
    ss.pop("set_error", None)
    if ss["set_theme"] != session.current_theme():
        session.apply_theme(ss["set_theme"])
        ss["set_rerun"] = True  # the browser gets the theme with the next run
    flash("Settings saved.")


def preferences(led: Ledger) -> None:
    """Currency, number format and theme."""
    current = led.settings
    st.subheader("Preferences")
    with st.form("set_form", border=True):
        currencies = sorted(CURRENCY_EXPONENTS)
        st.selectbox(
            "Default currency",
            currencies,
            index=currencies.index(current["currency"]) if current["currency"] in currencies else 0,
            key="set_currency",
            help="New transactions in a new account get this currency.",
        )
        reporting = ["", *currencies]
        st.selectbox(
            "Reporting currency",
            reporting,
            index=reporting.index(current.get("reporting_currency", ""))
            if current.get("reporting_currency", "") in reporting
            else 0,
            key="set_reporting_currency",
            format_func=lambda c: c or "Same as the default currency",
            help="The dashboard, summaries, reports, budgets' overview and net worth show every amount converted into "
            "it, with the exchange rates you add; transactions without a rate are left out and counted, never "
            "converted at a made-up rate.",
        )
        formats = list(NUMBER_FORMATS)
        st.selectbox(
            "Number format",
            formats,
            index=formats.index(current["number_format"]) if current["number_format"] in formats else 0,
            key="set_number_format",
            format_func=lambda f: f"{f}   (e.g. {format_money(EXAMPLE_MINOR, current['currency'], f)})",
        )
        st.radio(
            "Theme",
            THEMES,
            index=THEMES.index(current["theme"]) if current["theme"] in THEMES else 0,
            key="set_theme",
            horizontal=True,
            format_func=str.capitalize,
        )
        st.form_submit_button("Save settings", type="primary", on_click=save_preferences)
    if st.session_state.get("set_error"):
        st.error(md(st.session_state["set_error"]), icon=":material/error:")


def data_location(led: Ledger) -> None:
    """Where the files are."""
    st.subheader("Your data")
    st.write("Everything is stored on this computer, in this folder:")
    st.code(str(led.location), language=None)
    st.caption("Set the environment variable EXPENSE_TRACKER_DATA_DIR (or pass --data-dir) to use another folder.")


def backups(led: Ledger) -> None:
    """List, make one now, restore one."""
    st.subheader("Backups")
    st.caption("A backup is made automatically every day you use the app, and before any restore.")
    if st.button("Make a backup now", icon=":material/backup:", key="set_backup_now"):
        info = led.create_backup()
        flash(f"Backup {info.name} made.")
        st.rerun()
    found = led.backups()
    if not found:
        st.info("No backups yet.")
        return
    st.dataframe(
        [
            {
                "Made": f"{b.created_at.astimezone():%Y-%m-%d %H:%M}",
                "Why": b.reason,
                "Size": f"{b.size:,} bytes",
                "Name": b.name,
            }
            for b in found
        ],
        hide_index=True,
        width="stretch",
    )
    names = [b.name for b in found]
    with st.form("set_restore_form"):
        labels = {b.name: f"{b.created_at.astimezone():%Y-%m-%d %H:%M} · {b.reason} · {b.size:,} bytes" for b in found}
        choice = st.selectbox("Restore a backup", names, key="set_restore_name", format_func=labels.get)
        sure = st.checkbox(
            "Replace my current data with this backup (the current data is backed up first)", key="set_restore_sure"
        )
        if st.form_submit_button("Restore", icon=":material/restore:"):
            if not sure:
                st.warning("Tick the box to confirm the restore.")
            else:
                led.restore_backup(choice)
                flash(f"Restored backup {choice}.")
                st.rerun()


with guard("The Settings page"):
    led = session.ledger()
    if st.session_state.pop("set_rerun", False):
        st.rerun()
    st.title("Settings")
    show_flash()
    preferences(led)
    st.divider()
    data_location(led)
    st.divider()
    backups(led)
