"""Settings: default and reporting currency, number format and theme; exchange rates; where the data lives; sync
with other devices; backups."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from tracker.accounts import list_accounts
from tracker.conversion import reporting_currency
from tracker.errors import TrackerError, ValidationError
from tracker.ledger import THEMES, Ledger
from tracker.model import MAX_DATE, MIN_DATE
from tracker.money import CURRENCY_EXPONENTS, NUMBER_FORMATS, format_money
from tracker.rates import RatesImport, add_rate, delete_rate, import_rates, pair_summary, rate_book, rate_text
from tracker.ui import session
from tracker.ui.caches import cached
from tracker.ui.formatting import flash, guard, md, show_flash
from tracker.ui.sync_panel import sync_section

EXAMPLE_MINOR = 123456
RATES_UPLOAD_TYPES = ["csv", "txt"]
UNDO_HINT = "Undo on the Transactions page reverts it."


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


# -- exchange rates ---------------------------------------------------------------------------------


def exchange_rates(led: Ledger) -> None:
    """What rates are for, the stored ones per pair, and adding, importing or deleting them."""
    target = reporting_currency(led)
    st.subheader("Exchange rates")
    st.write(
        f"Amounts in other currencies are shown in {target} (the reporting currency) at the rate of their day, "
        "or the latest earlier one. A transaction without a rate is left out and counted, never converted at a "
        "made-up rate."
    )
    summary = cached("set_rates_summary", led, (), lambda: pair_summary(rate_book(led)))
    if summary:
        st.dataframe(
            [
                {
                    "Pair": f"{s['base']}/{s['quote']}",
                    "First day": s["first"].isoformat(),
                    "Last day": s["last"].isoformat(),
                    "Rates": s["count"],
                    "Latest rate": s["latest"],
                }
                for s in summary
            ],
            hide_index=True,
            width="stretch",
        )
    else:
        st.info("No exchange rates stored yet.", icon=":material/currency_exchange:")
    add_tab, import_tab, delete_tab = st.tabs(["Add a rate", "Import a file", "Delete a rate"])
    with add_tab:
        rate_form(led, target)
    with import_tab:
        rates_upload(led)
    with delete_tab:
        delete_picker(led, summary)


def rate_form(led: Ledger, target: str) -> None:
    """One rate typed by hand: on a day, one base is so many quote (that day's rate of the pair is replaced)."""
    currencies = sorted(CURRENCY_EXPONENTS)
    others = [a.currency for a in list_accounts(led) if a.currency != target and a.currency in CURRENCY_EXPONENTS]
    base = others[0] if others else ("USD" if target == "EUR" else "EUR")
    with st.form("set_rate_form"):
        c1, c2, c3, c4 = st.columns(4)
        day = c1.date_input(
            "Date",
            value=dt.date.today(),
            min_value=MIN_DATE,
            max_value=MAX_DATE,
            format="YYYY-MM-DD",
            key="set_rate_day",
        )
        base = c2.selectbox("Base", currencies, index=currencies.index(base), key="set_rate_base")
        quote = c3.selectbox("Quote", currencies, index=currencies.index(target), key="set_rate_quote")
        typed = c4.text_input(
            "Rate",
            key="set_rate_value",
            placeholder="e.g. 1.0823",
            help="How many of the quote currency one unit of the base is, with a point before the decimals "
            "(whatever your number format).",
        )
        if not st.form_submit_button("Add rate", icon=":material/add:"):
            return
    try:
        rate, before = add_rate(led, day, base, quote, typed)
    except TrackerError as exc:
        st.error(md(exc), icon=":material/error:")
        return
    shown = f"1 {rate.base} = {rate_text(rate.rate)} {rate.quote} on {rate.day.isoformat()}"
    if before == rate.rate:
        flash(f"Rate {shown} was already stored: nothing changed.", "info")
    else:
        was = f" (was {rate_text(before)})" if before is not None else ""
        flash(f"Rate saved: {shown}{was}. {UNDO_HINT}")
    st.rerun()


def import_upload(led: Ledger, data: bytes, name: str) -> RatesImport:
    """Import an uploaded rates file (``data``, named ``name``) as one undoable change; a bad line stores nothing.

    The backend reads a path: the bytes go to a temporary folder under their own name, and an error names the
    file by that name, not the temporary path.
    """
    with tempfile.TemporaryDirectory(prefix="tracker-rates-") as folder:
        path = Path(folder) / (Path(name).name or "rates.csv")
        path.write_bytes(data)
        try:
            return import_rates(led, path)
        except ValidationError as exc:  # the same message, naming the uploaded file
            value = name if exc.value == str(path) else exc.value
            raise ValidationError(exc.field, value, exc.problem.replace(str(path), name)) from None


def rates_upload(led: Ledger) -> None:
    """The uploader and its import button: reports new, replaced and unchanged rates, or the bad line."""
    uploaded = st.file_uploader(
        "Import a rates file (ECB history CSV or date,base,quote,rate)", type=RATES_UPLOAD_TYPES, key="set_rates_file"
    )
    if uploaded is None:
        st.caption("The European Central Bank's eurofxref-hist.csv, or a CSV with a date,base,quote,rate header.")
        return
    name = uploaded.name
    if not st.button(md(f"Import the rates of {name}"), icon=":material/download:", key="set_rates_import"):
        return
    try:
        done = import_upload(led, uploaded.getvalue(), name)
    except TrackerError as exc:
        st.error("Nothing was imported: " + md(exc), icon=":material/error:")
        return
    if done.changed:
        n = done.added + done.replaced
        flash(
            f"Imported {n:,} rate{'s' if n != 1 else ''} from {name} ({done.layout}): {done.added:,} new, "
            f"{done.replaced:,} replaced, {done.unchanged:,} already stored. {UNDO_HINT}"
        )
    else:
        n = done.unchanged
        flash(f"Nothing new in {name}: {n:,} rate{'s' if n != 1 else ''} already stored.", "info")
    st.rerun()


def delete_picker(led: Ledger, summary: list[dict[str, Any]]) -> None:
    """Pick a pair and a day; the stored rate of that day is shown and can be deleted."""
    if not summary:
        st.caption("There is no stored rate to delete.")
        return
    by_pair = {f"{s['base']}/{s['quote']}": s for s in summary}
    c1, c2 = st.columns(2)
    chosen = by_pair[str(c1.selectbox("Pair", list(by_pair), key="set_rates_del_pair"))]
    base, quote = chosen["base"], chosen["quote"]
    day = c2.date_input(
        "Date",
        value=chosen["last"],
        min_value=chosen["first"],
        max_value=chosen["last"],
        format="YYYY-MM-DD",
        key=f"set_rates_del_day_{base}{quote}",
    )
    stored = rate_book(led).get(day, base, quote) if isinstance(day, dt.date) else None
    if stored is None:
        st.caption(md(f"No {base}/{quote} rate is stored for that day."))
    else:
        st.caption(md(f"Stored: 1 {base} = {rate_text(stored)} {quote} on {day.isoformat()}."))
    if not st.button("Delete this rate", icon=":material/delete:", key="set_rates_delete", disabled=stored is None):
        return
    try:
        gone = delete_rate(led, day, base, quote)
    except TrackerError as exc:
        st.error(md(exc), icon=":material/error:")
        return
    flash(f"Deleted the {base}/{quote} rate of {day.isoformat()} ({rate_text(gone)}). {UNDO_HINT}")
    st.rerun()


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
    exchange_rates(led)
    st.divider()
    data_location(led)
    st.divider()
    sync_section(led)
    st.divider()
    backups(led)
