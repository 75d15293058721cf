"""The desktop app: a native window (pywebview) around the Streamlit server, and its packaging.

Nothing here knows about money: :mod:`desktop.launcher` chooses a port, runs the server child
(:mod:`desktop.server`, :mod:`desktop.child`), shows the window and shuts everything down.
"""

from __future__ import annotations

SERVER_FLAG = "--desktop-server"
"""First argument that turns ``expense-tracker`` (the frozen binary above all) into the launcher's server child."""
