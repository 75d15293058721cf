"""Session state shared by the pages: the ledger, cached computations, the filter sidebar, formatting.

One :class:`Ledger` per data folder is shared by every session of the server process
(:func:`shared_ledger`; ``EXPENSE_TRACKER_DATA_DIR`` names the folder): a new browser tab does not read
and parse the whole ledger again. It is refreshed at the start of every run, so changes made by other
processes (the CLI, another window) and by other sessions show at once; the Ledger serialises its
readers and writers with its own lock. Everything computed from it is cached on ``(data folder,
revision, what was asked)``, where the revision is the one the run started from (:func:`data_key`): a
new commit changes it, so nothing stale is ever shown and nothing is recomputed needlessly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from tracker.analysis.period import Period, month_end, month_start, previous_month_start
from tracker.errors import TrackerError
from tracker.filters import Filter, apply_filter
from tracker.ledger import Ledger
from tracker.money import NUMBER_FORMATS, format_money, format_plain

log = logging.getLogger("tracker.ui")

LEDGER_KEY = "ledger"
OPEN_ERROR_KEY = "ledger_open_error"
RUN_REVISION_KEY = "_run_revision"
FLASH_KEY = "flash_messages"
PRESETS = ("This month", "Last month", "Last 30 days", "This year", "All time", "Custom range")
KINDS = {"Income and expenses": None, "Income only": "income", "Expenses only": "expense"}

T = TypeVar("T")

APP_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<rect x="4" y="12" width="56" height="42" rx="8" fill="#2e7d5b"/>'
    '<rect x="4" y="12" width="56" height="12" rx="6" fill="#1f5a41"/>'
    '<circle cx="46" cy="38" r="7" fill="#f2c14e"/></svg>'
)
"""The favicon, drawn here so that the page loads nothing from the internet (a Material icon would)."""


# -- the ledger ---------------------------------------------------------------------------------


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
    st.session_state[RUN_REVISION_KEY] = led.revision
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
    if led.revision != st.session_state.get("_shown_revision", led.revision):
        st.rerun(scope="app")


def watch_outside_changes(led: Ledger) -> None:
    """Rerun the page when the data changes elsewhere, so KPIs and charts are never stale (cheap when idle)."""
    st.session_state["_shown_revision"] = data_key(led)[1]
    with st.sidebar:
        _watch()


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


def ledger() -> Ledger:
    """The session's ledger (opened on first use, e.g. when a page runs on its own in a test).

    Pages call this at the start of every run: the run's revision (:func:`data_key`) is taken here too,
    so a page run on its own (without the router) also sees its own commits on the next run.
    """
    led = st.session_state.get(LEDGER_KEY)
    if led is None:
        led = init_session()
        if led is None:
            raise TrackerError(st.session_state.get(OPEN_ERROR_KEY, "the data cannot be read"))
    st.session_state[RUN_REVISION_KEY] = led.revision
    return led


def current_theme() -> str:
    """The base theme Streamlit sends to the browser now."""
    from streamlit import config

    return str(config.get_option("theme.base") or "light")


def apply_theme(theme: str) -> None:
    """Make Streamlit's base theme ``theme`` (it reaches the browser with the next run)."""
    from streamlit import config

    if theme in ("light", "dark") and config.get_option("theme.base") != theme:
        config.set_option("theme.base", theme, "expense-tracker settings")


def data_key(led: Ledger) -> tuple[str, int]:
    """What identifies the ledger's content this run shows: its folder and the revision the run started from.

    The ledger is shared with other sessions, which may commit while this run is under way: a key taken
    later could then name a newer revision than the data a value was computed from, and that stale
    value would be served until the next commit. The run's starting revision is never newer than the
    data read during the run, so a cached value is never older than its key says.
    """
    pinned = st.session_state.get(RUN_REVISION_KEY)
    revision = led.revision if not isinstance(pinned, int) else min(pinned, led.revision)
    return str(led.location), revision


def cached(name: str, led: Ledger, key: object, compute: Callable[[], T]) -> T:
    """``compute()`` cached on (data folder, revision, ``name``, ``key``); returned as is (never copied).

    For values too big to copy on every run (frames). The cache holds a few recent entries per session.
    """
    store: dict[object, Any] = st.session_state.setdefault("_cache", {})
    full = (*data_key(led), name, key)
    if full in store:
        return store[full]
    value = compute()
    if len(store) >= 16:
        store.pop(next(iter(store)))
    store[full] = value
    return value


_process_cache: OrderedDict[object, Any] = OrderedDict()
_process_guard = threading.Lock()
PROCESS_CACHE_ENTRIES = 64


def shared_cached(name: str, led: Ledger, key: object, compute: Callable[[], T]) -> T:
    """Like :func:`cached`, but shared by every session of the process (a new tab reuses it).

    Only for values nobody modifies after they are made (figures handed to Streamlit as they are).
    Keyed on (data folder, revision, ``name``, ``key``); the least recently used entries go first.
    """
    full = (*data_key(led), name, key)
    with _process_guard:
        if full in _process_cache:
            _process_cache.move_to_end(full)
            return _process_cache[full]
    value = compute()  # outside the lock: two sessions may compute the same value once each, never wrongly
    with _process_guard:
        _process_cache[full] = value
        while len(_process_cache) > PROCESS_CACHE_ENTRIES:
            _process_cache.popitem(last=False)
    return value


# -- errors and messages ------------------------------------------------------------------------


@contextlib.contextmanager
def guard(what: str = "This page") -> Iterator[None]:
    """Show a ``TrackerError`` as a readable message, and any other error without a traceback (logged)."""
    try:
        yield
    except TrackerError as exc:
        st.error(md(exc), icon=":material/error:")
    except Exception as exc:
        from tracker.logs import log_path

        log.exception("unexpected error in the UI (%s)", what)
        st.error(
            f"{what} ran into an unexpected problem ({type(exc).__name__}); your data was not changed by it. "
            f"Details are in the log file: {log_path()}",
            icon=":material/error:",
        )


_MARKDOWN = str.maketrans({ch: "\\" + ch for ch in "\\`*_{}[]()#+-.!|~<>$:"})


def md(text: object) -> str:
    """``text`` with Markdown, ``$``-math and ``:emoji:`` characters escaped: user data shown as written."""
    return str(text).translate(_MARKDOWN)


def flash(message: str, kind: str = "success") -> None:
    """A message shown once, on the next run (after ``st.rerun``)."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def show_flash() -> None:
    """Show and forget the flashed messages."""
    for kind, message in st.session_state.pop(FLASH_KEY, []):
        if kind == "toast":
            st.toast(md(message))
        else:
            getattr(st, kind, st.info)(md(message))


# -- formatting ---------------------------------------------------------------------------------


def money(minor: int, currency: str, led: Ledger | None = None) -> str:
    """``$1,234.50`` in the number format of the settings."""
    fmt = (led or ledger()).settings.get("number_format", "1,234.56")
    return format_money(int(minor), currency, fmt)


def signed_money(minor: int, currency: str, led: Ledger | None = None) -> str:
    """``+$12.00`` / ``-$3.50``: for changes."""
    text = money(abs(minor), currency, led)
    return ("+" if minor > 0 else "-" if minor < 0 else "±") + text


_COMMA_DECIMAL = re.compile(r"^\+?(\d{1,3}([. \u202f']\d{3})+|\d+)(,\d+)?$")
_APOSTROPHE_GROUPS = re.compile(r"^\+?\d{1,3}('\d{3})+(\.\d+)?$")


def amount_text(text: str, number_format: str) -> str:
    """An amount typed in the user's number format, as the backend reads it (``1.234,50`` -> ``1234.50``).

    Text that is not written in that format is passed on unchanged, so that the backend's message
    quotes exactly what was typed.
    """
    cleaned = str(text).strip().replace("\u00a0", " ")
    _, point = NUMBER_FORMATS.get(number_format, (",", "."))
    if point == "," and _COMMA_DECIMAL.match(cleaned):
        return re.sub(r"[. \u202f']", "", cleaned).replace(",", ".")
    if _APOSTROPHE_GROUPS.match(cleaned):
        return cleaned.replace("'", "")
    return str(text)


def plain(minor: int, currency: str) -> str:
    """``12.50``: the exact amount as text, for editing and export."""
    return format_plain(int(minor), str(currency))


def percent(value: float | None, points: bool = False) -> str:
    """``12.5 %`` (``—`` for ``None``)."""
    if value is None:
        return "—"
    return f"{value:+.1f} {'pts' if points else '%'}" if points else f"{value:.1f} %"


# -- the filter sidebar -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class View:
    """What the user chose in the sidebar: a filter without dates, and the period (``None``: all time)."""

    filter: Filter
    period: Period | None
    preset: str

    @property
    def dated(self) -> Filter:
        """The filter with the period's dates."""
        if self.period is None:
            return self.filter
        return dataclasses.replace(self.filter, start=self.period.start, end=self.period.end)

    def key(self) -> str:
        """A stable text key for caching."""
        return repr((self.filter, self.period))


def preset_period(preset: str, today: dt.date) -> Period | None:
    """The date range of a preset (``None`` for all time; custom ranges come from the date input)."""
    if preset == "This month":
        return Period(month_start(today), month_end(today))
    if preset == "Last month":
        start = previous_month_start(today)
        return Period(start, month_end(start))
    if preset == "Last 30 days":
        return Period(today - dt.timedelta(days=29), today)
    if preset == "This year":
        return Period(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))
    return None


def filter_sidebar(prefix: str, led: Ledger, today: dt.date | None = None) -> View:
    """The filter widgets in the sidebar (keys ``{prefix}_...``, kept across page switches)."""
    today = today or dt.date.today()
    sb = st.sidebar
    sb.subheader("Filters")
    preset = sb.selectbox("Period", PRESETS, key=f"{prefix}_period", persist_state="session")
    period = preset_period(preset, today)
    if preset == "Custom range":
        chosen = sb.date_input(
            "From – to",
            value=(month_start(today), today),
            key=f"{prefix}_date_range",
            persist_state="session",
        )
        days = [d for d in (chosen if isinstance(chosen, tuple | list) else (chosen,)) if d is not None]
        if days:
            period = Period(min(days), max(days))
        else:
            period = None
    categories = sb.multiselect(
        "Categories",
        led.categories(),
        key=f"{prefix}_categories",
        placeholder="All categories",
        persist_state="session",
    )
    tags = sb.multiselect("Tags", led.tags(), key=f"{prefix}_tags", placeholder="Any tags", persist_state="session")
    tag_mode = "any"
    if len(tags) > 1:
        mode = sb.radio(
            "Rows with",
            ("any of these tags", "all of these tags"),
            horizontal=True,
            key=f"{prefix}_tag_mode",
            persist_state="session",
        )
        tag_mode = "all" if mode.startswith("all") else "any"
    kind = sb.radio("Show", tuple(KINDS), key=f"{prefix}_type", persist_state="session")
    text = sb.text_input(
        "Search", key=f"{prefix}_search", placeholder="Text in the note or category", persist_state="session"
    )
    flt = Filter.build(
        categories=categories or None,
        tags=tags or None,
        tag_mode=tag_mode,
        type=KINDS.get(kind),
        text=text or None,
    )
    return View(flt, period, preset)


def filtered_frame(led: Ledger, view: View) -> pd.DataFrame:
    """The ledger's rows that match the whole view (dates included); cached per revision."""
    return cached("filtered", led, view.key(), lambda: apply_filter(led.frame(), view.dated))


def undated_frame(led: Ledger, view: View) -> pd.DataFrame:
    """The rows that match the view except for its dates (what the analysis functions take)."""
    return cached("undated", led, repr(view.filter), lambda: apply_filter(led.frame(), view.filter))


def describe_view(view: View) -> str:
    """One line (Markdown-escaped) saying what is shown: ``This month (2026-11-01 – 2026-11-30) · Food, Rent``."""
    parts = [view.preset if view.period is None else f"{view.preset} ({view.period.label()})"]
    flt = view.filter
    if flt.categories:
        parts.append(", ".join(flt.categories))
    if flt.tags:
        joined = " and ".join if flt.tag_mode == "all" else " or ".join
        parts.append("tagged " + joined(f"#{t}" for t in flt.tags))
    if flt.type:
        parts.append("income only" if flt.type == "income" else "expenses only")
    if flt.text:
        parts.append(f"matching “{flt.text}”")
    return md(" · ".join(parts))


CSV_COLUMNS = ("date", "type", "amount", "currency", "category", "tags", "note", "id")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The rows as UTF-8 CSV (with BOM, for spreadsheets); text cells neutralised against formulas."""
    import csv
    import io

    from tracker.safety import safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in frame.itertuples(index=False):
        cells = [
            row.date.date().isoformat(),
            row.type,
            format_plain(int(row.amount_minor), str(row.currency)),
            row.currency,
            row.category,
            ",".join(row.tags),
            row.note,
            row.id,
        ]
        writer.writerow([safe_cell(str(c)) for c in cells])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
