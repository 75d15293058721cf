"""The Streamlit app: ``app.py`` is the router, ``app_pages/`` the pages, and what the pages share:

* ``session.py``: the process's shared ledger, the session's start, outside changes, the theme;
* ``caches.py``: values computed from the ledger, cached on its revision;
* ``sidebar.py``: the filter sidebar and the rows it selects;
* ``formatting.py``: money, user text, messages and errors as the pages show them;
* ``table.py``: the Transactions table's rows, edits and CSV, without widgets;
* ``widgets_quickentry.py``: the quick-entry box.

``server.py`` configures and runs the server (``expense-tracker serve`` and the desktop window).
Nothing in the backend imports this package.
"""
