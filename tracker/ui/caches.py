"""What the pages compute from the ledger, cached on (data folder, revision, what was asked).

The revision is the one the run started from (:func:`data_key`): a new commit changes it, so nothing
stale is ever shown and nothing is recomputed needlessly. :func:`cached` keeps a few values per
session; :func:`shared_cached` keeps values every session of the process may reuse.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from tracker.ledger import Ledger

RUN_REVISION_KEY = "_run_revision"
"""Where the session keeps the revision its current run started from (set by :func:`pin_revision`)."""
SESSION_CACHE_KEY = "_cache"
SESSION_CACHE_ENTRIES = 16
PROCESS_CACHE_ENTRIES = 64

T = TypeVar("T")


def pin_revision(led: Ledger) -> None:
    """Remember ``led``'s revision as the one this run shows (called at the start of every run)."""
    st.session_state[RUN_REVISION_KEY] = led.revision


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
    store: dict[object, Any] = st.session_state.setdefault(SESSION_CACHE_KEY, {})
    full = (*data_key(led), name, key)
    if full in store:
        return store[full]
    value = compute()
    if len(store) >= SESSION_CACHE_ENTRIES:
        store.pop(next(iter(store)))
    store[full] = value
    return value


_process_cache: OrderedDict[object, Any] = OrderedDict()
_process_guard = threading.Lock()


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
