"""The Streamlit entry script: page settings, the session's shared state, and the list of pages."""

from __future__ import annotations

import streamlit as st

from tracker.ui import session

st.set_page_config(page_title="Expense Tracker", page_icon=session.APP_ICON, layout="wide")
ledger = session.init_session()

pages = [
    st.Page("app_pages/dashboard.py", title="Dashboard", icon=":material/dashboard:", default=True),
    st.Page("app_pages/transactions.py", title="Transactions", icon=":material/receipt_long:"),
    st.Page("app_pages/accounts.py", title="Accounts", icon=":material/account_balance:"),
    st.Page("app_pages/import_export.py", title="Import & Export", icon=":material/swap_vert:"),
    st.Page("app_pages/budgets.py", title="Budgets", icon=":material/savings:"),
    st.Page("app_pages/recurring.py", title="Recurring", icon=":material/event_repeat:"),
    # More pages go here, one line each (Settings stays last).
    st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:"),
]

if ledger is None:
    session.cannot_open()  # the data cannot be read: say why and how to get it back, then stop
session.watch_outside_changes(ledger)  # changes made by the CLI or another window show within seconds
st.navigation(pages).run()
