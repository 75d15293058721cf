"""The session's ledger: one per data folder for the whole server process, refreshed on every run.

One :class:`Ledger` per data folder is shared by every session of the server process
(:func:`shared_ledger`; ``EXPENSE_TRACKER_DATA_DIR`` names the folder): a new browser tab does not read
and parse the whole ledger again. It is refreshed at the start of every run, so changes made by other
processes (the CLI, another window) and by other sessions show at once; the Ledger serialises its
readers and writers with its own lock. What is computed from it is cached in :mod:`tracker.ui.caches`.
Also here: the page shown when the data cannot be read, and the theme.
"""

from __future__ import annotations

import threading

import streamlit as st

from tracker.errors import TrackerError
from tracker.ledger import Ledger
from tracker.ui.caches import data_key, pin_revision
from tracker.ui.formatting import flash, guard, log, md

LEDGER_KEY = "ledger"
OPEN_ERROR_KEY = "ledger_open_error"
SHOWN_REVISION_KEY = "_shown_revision"

APP_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<rect x="4" y="12" width="56" height="42" rx="8" fill="#2e7d5b"/>'
    '<rect x="4" y="12" width="56" height="12" rx="6" fill="#1f5a41"/>'
    '<circle cx="46" cy="38" r="7" fill="#f2c14e"/></svg>'
)
"""The favicon, drawn here so that the page loads nothing from the internet (a Material icon would)."""


# -- the ledger -----------------------------------------------------------------------------------


_shared: dict[str, Ledger] = {}
_shared_guard = threading.Lock()


def shared_ledger() -> Ledger:
    """The server process's one :class:`Ledger` of the data folder (opened and read on first use).

    Every session of the process gets the same object, so the ledger is read and its DataFrame built
    once per process, not once per browser tab. Raises ``TrackerError`` when the data cannot be read
    (nothing is kept then, so the next call tries again).
    """
    from tracker.storage.paths import resolve_data_dir

    key = str(resolve_data_dir(None))
    with _shared_guard:  # two first sessions at once must not read the ledger twice
        led = _shared.get(key)
        if led is None:
            led = Ledger(key)
            _shared[key] = led
    return led


def forget_shared_ledger(led: Ledger) -> None:
    """Drop ``led`` from the shared ledgers (it could not be read): the next session opens the folder anew."""
    with _shared_guard:
        for key, known in list(_shared.items()):
            if known is led:
                del _shared[key]


def init_session() -> Ledger | None:
    """Get the shared ledger, pick up outside changes, post due recurring items once, apply the theme.

    Called by the router on every run. Returns ``None`` (and shows why) when the data cannot be read.
    """
    from tracker.logs import setup_logging

    setup_logging()
    led = st.session_state.get(LEDGER_KEY)
    try:
        if led is None:
            led = shared_ledger()
            led.refresh()  # the shared ledger may have been read long before this session started
            st.session_state[LEDGER_KEY] = led
            _post_recurring(led)
            start_background_sync(led)
        else:
            led.refresh()
    except TrackerError as exc:
        log.warning("cannot open the ledger: %s", exc)
        if led is not None:
            forget_shared_ledger(led)
        st.session_state.pop(LEDGER_KEY, None)
        st.session_state[OPEN_ERROR_KEY] = str(exc)
        return None
    st.session_state.pop(OPEN_ERROR_KEY, None)
    pin_revision(led)
    apply_theme(led.settings.get("theme", "light"))
    return led


def _post_recurring(led: Ledger) -> None:
    """Post the recurring transactions that fell due while the app was closed (once per session)."""
    try:
        from tracker import recurring
    except ImportError:  # pragma: no cover - the module is part of the app
        return
    try:
        posted = recurring.post_due(led)
    except TrackerError as exc:
        flash(f"Recurring transactions could not be posted: {exc}", "warning")
        return
    if posted:
        flash(f"Posted {posted} recurring transaction{'s' if posted != 1 else ''} that fell due.", "info")


def start_background_sync(led: Ledger) -> None:
    """Sync ``led``'s folder in the background while the app runs, if sync is set up for it.

    Once per process and folder (later calls do nothing); called when a session opens the ledger and right
    after sync is set up on the Settings page. ``tracker.sync`` is imported only when sync is set up, so the
    app does not load the encryption or WebDAV libraries otherwise. A sync's commit reaches the pages as any
    outside change does (:func:`watch_outside_changes`).
    """
    from tracker.sync.config import is_set_up

    try:
        if not is_set_up(led.location):
            return
        from tracker.sync import background

        background.start(led.location)
    except OSError as exc:  # the sync folder cannot be looked at: the app works on, without syncing
        log.warning("cannot start syncing %s in the background: %s", led.location, exc)


def ledger() -> Ledger:
    """The session's ledger (opened on first use, e.g. when a page runs on its own in a test).

    Pages call this at the start of every run: the run's revision (:func:`tracker.ui.caches.data_key`)
    is taken here too, so a page run on its own (without the router) also sees its own commits on the
    next run.
    """
    led = st.session_state.get(LEDGER_KEY)
    if led is None:
        led = init_session()
        if led is None:
            raise TrackerError(st.session_state.get(OPEN_ERROR_KEY, "the data cannot be read"))
    pin_revision(led)
    return led


# -- changes made elsewhere -----------------------------------------------------------------------

WATCH_SECONDS = 3
"""How often an open page checks whether another process (the CLI, another window) changed the data."""


@st.fragment(run_every=WATCH_SECONDS)
def _watch() -> None:
    led = st.session_state.get(LEDGER_KEY)
    if led is None:
        return
    try:
        led.refresh()
    except TrackerError:
        return  # the next full run shows the problem
    if led.revision != st.session_state.get(SHOWN_REVISION_KEY, led.revision):
        st.rerun(scope="app")


def watch_outside_changes(led: Ledger) -> None:
    """Rerun the page when the data changes elsewhere, so KPIs and charts are never stale (cheap when idle)."""
    st.session_state[SHOWN_REVISION_KEY] = data_key(led)[1]
    with st.sidebar:
        _watch()


# -- data that cannot be read ---------------------------------------------------------------------


def cannot_open() -> None:
    """The page shown instead of the app when the data cannot be read: the reason, and the backups."""
    from tracker.ledger import open_backend, restore_backup

    st.title("Your data cannot be opened")
    st.error(md(st.session_state.get(OPEN_ERROR_KEY, "The data files cannot be read.")), icon=":material/error:")
    st.write("Nothing has been changed or deleted. You can go back to one of the automatic backups:")
    with guard("Listing the backups"):
        found = open_backend(None).list_backups()
        if not found:
            st.info("There are no backups in the data folder.")
        for info in found:
            cols = st.columns([3, 2, 1], vertical_alignment="center")
            cols[0].write(f"**{info.created_at.astimezone():%Y-%m-%d %H:%M}** · {md(info.reason)}")
            cols[1].caption(md(f"{info.name} · {info.size:,} bytes"))
            if cols[2].button("Restore", key=f"recover_{info.name}"):
                restore_backup(None, info.name)
                st.session_state.pop(OPEN_ERROR_KEY, None)
                flash(
                    f"Restored the backup of {info.created_at.astimezone():%Y-%m-%d %H:%M}. The unreadable files were kept aside."
                )
                st.rerun()
    st.stop()


# -- the theme ------------------------------------------------------------------------------------


def current_theme() -> str:
    """The base theme Streamlit sends to the browser now."""
    from streamlit import config

    return str(config.get_option("theme.base") or "light")


def apply_theme(theme: str) -> None:
    """Make Streamlit's base theme ``theme`` (it reaches the browser with the next run)."""
    from streamlit import config

    if theme in ("light", "dark") and config.get_option("theme.base") != theme:
        config.set_option("theme.base", theme, "expense-tracker settings")
