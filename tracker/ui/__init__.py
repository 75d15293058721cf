"""The Streamlit app: ``app.py`` is the router, ``app_pages/`` the pages, ``state.py`` the shared state.

``server.py`` configures and runs the server (``expense-tracker serve`` and the desktop window).
Nothing in the backend imports this package.
"""
