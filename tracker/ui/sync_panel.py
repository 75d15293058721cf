"""The Settings page's Sync section: set sync up through a synced folder or a WebDAV server, then its status,
the devices, "Sync now", the resolved conflicts and turning it off.

Thin over :mod:`tracker.sync.session` and :func:`tracker.sync.syncer.sync_now` (what ``expense-tracker sync``
does on the command line). ``tracker.sync.session`` is imported only when sync is set up or being set up, so a
Settings page with sync off never loads the encryption or WebDAV libraries. What a button did is said in the
section itself, on the run after it (the page reruns so that everything shows the merged data).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

import streamlit as st

from tracker.errors import TrackerError, ValidationError
from tracker.ledger import Ledger
from tracker.ui import session
from tracker.ui.formatting import md

if TYPE_CHECKING:
    from tracker.sync.syncer import SyncReport

FOLDER = "A synced folder"
WEBDAV = "A WebDAV server"
SAID_KEY = "set_sync_said"
"""What the last button of the section did: ``[(kind, text)]``, shown once under it on the next run."""
SECRET_KEYS = ("set_sync_password", "set_sync_passphrase", "set_sync_passphrase2")
MAX_IGNORED_SHOWN = 5


def sync_section(led: Ledger) -> None:
    """The Sync section: the set-up form when this folder does not sync, its status otherwise."""
    from tracker.sync.config import is_set_up

    st.subheader("Sync")
    if not is_set_up(led.location):
        setup_form(led)
        show_said()
        return
    from tracker.sync.session import status

    try:
        found = status(led.location)
    except TrackerError as exc:  # damaged sync settings: say so, and let them be turned off and set up again
        st.error(md(exc), icon=":material/error:")
        turn_off_control(led)
        show_said()
        return
    sync_status(found)
    sync_now_button(led)
    show_said()
    conflicts(found["conflicts"])
    turn_off_control(led)


# -- not set up -------------------------------------------------------------------------------------


def setup_form(led: Ledger) -> None:
    """What sync is, where to sync through, the passphrase, this device's name, and "Set up sync"."""
    st.write(
        "Keep this data the same on your other computers: sync through a folder you already sync between them "
        "(Syncthing, Dropbox, OneDrive, Nextcloud…) or through a WebDAV server. Each device writes only its own "
        "files there, encrypted with a passphrase of yours; edits made on several devices are merged, and nothing "
        "is lost (when the same field was edited on two devices, the later edit is kept and the conflict listed)."
    )
    with st.container(border=True):
        kind = st.radio("Sync through", [FOLDER, WEBDAV], key="set_sync_kind", horizontal=True)
        if kind == WEBDAV:
            st.text_input("WebDAV URL", key="set_sync_url", placeholder="https://cloud.example.org/remote.php/dav/…")
            c1, c2 = st.columns(2)
            c1.text_input("User", key="set_sync_user")
            c2.text_input("Password", key="set_sync_password", type="password")
            st.caption("Files on a server are always encrypted. The password is kept in this computer's keyring.")
            encrypted = True
        else:
            st.text_input(
                "Folder",
                key="set_sync_folder",
                placeholder="e.g. ~/Sync/expenses",
                help="An existing folder that your sync engine (Syncthing, Dropbox, …) keeps the same on your devices.",
            )
            encrypted = st.checkbox("Encrypt the files (recommended)", value=True, key="set_sync_encrypt")
        if encrypted:
            c1, c2 = st.columns(2)
            c1.text_input(
                "Passphrase",
                key="set_sync_passphrase",
                type="password",
                help="The same on every device. It is kept in this computer's keyring; without it the files "
                "in the sync location cannot be read.",
            )
            c2.text_input("Repeat the passphrase", key="set_sync_passphrase2", type="password")
        st.text_input(
            "This device's name",
            value=socket.gethostname(),
            key="set_sync_device",
            help="What your other devices call this one.",
        )
        if st.button("Set up sync", type="primary", icon=":material/sync:", key="set_sync_setup"):
            set_up(led, kind, encrypted)


def set_up(led: Ledger, kind: str, encrypted: bool) -> None:
    """Set sync up from the form, sync once, start syncing in the background; an error changes nothing."""
    ss = st.session_state
    passphrase = str(ss.get("set_sync_passphrase") or "") if encrypted else None
    if encrypted and passphrase != str(ss.get("set_sync_passphrase2") or ""):
        st.error("The two passphrases are not the same: nothing was set up.", icon=":material/error:")
        return
    from tracker.sync.session import folder_location, setup, webdav_location

    try:
        password = None
        if kind == WEBDAV:
            location = webdav_location(str(ss.get("set_sync_url") or "").strip(), str(ss.get("set_sync_user") or ""))
            password = str(ss.get("set_sync_password") or "") or None
        else:
            path = str(ss.get("set_sync_folder") or "").strip()
            if not path:
                raise ValidationError("folder", path, "is needed: the folder your sync engine syncs")
            location = folder_location(path)
        with st.spinner("Setting sync up…"):
            config = setup(
                led.location,
                location,
                passphrase=passphrase,
                password=password,
                device_name=str(ss.get("set_sync_device") or "").strip() or None,
                encrypted=encrypted,
            )
    except TrackerError as exc:
        st.error(md(exc), icon=":material/error:")
        return
    shown = "encrypted" if config.encrypted else "not encrypted"
    done = f"Sync is set up: this folder syncs through {config.describe()} ({shown}) as {config.device_name!r}."
    said = first_sync(led, done)
    session.start_background_sync(led)
    for key in SECRET_KEYS:  # not kept in the session once they are in the keyring
        ss.pop(key, None)
    ss[SAID_KEY] = said
    st.rerun()


def first_sync(led: Ledger, done: str) -> list[tuple[str, str]]:
    """Sync right after the set-up: what it merged, or why it failed (sync stays set up and is tried again)."""
    try:
        report = run_sync(led)
    except TrackerError as exc:
        return [
            ("success", done),
            ("warning", f"The first sync did not work: {exc}. It is tried again every minute while the app runs."),
        ]
    return [("success", f"{done} First sync: {counts(report)}."), *warnings_of(report)]


# -- set up -----------------------------------------------------------------------------------------


def sync_status(found: dict[str, Any]) -> None:
    """Where the folder syncs, as which device, the last sync and error, and the devices seen (this one first)."""
    shown = "encrypted" if found["encrypted"] else "not encrypted"
    st.markdown(
        f"This folder syncs through **{md(found['location'])}** ({shown}) as **{md(found['device']['name'])}**.  \n"
        f"Last sync: {when(found['last_sync'])}."
    )
    if found["last_error"]:
        st.warning(md(f"The last sync did not work: {found['last_error']}"), icon=":material/sync_problem:")
    if not found["devices"]:
        st.caption("No device has synced yet.")
        return
    st.dataframe(
        [
            {"Device": d["name"], "Last seen": when(d["last_seen"]), "This device": bool(d["this"])}
            for d in sorted(found["devices"], key=lambda d: (not d["this"], str(d["name"]).casefold()))
        ],
        hide_index=True,
        width="stretch",
    )


def sync_now_button(led: Ledger) -> None:
    """Sync now; the page reruns so that every page shows the merged data."""
    if not st.button("Sync now", icon=":material/sync:", key="set_sync_now"):
        return
    try:
        report = run_sync(led)
    except TrackerError as exc:
        st.error(md(exc), icon=":material/error:")
        return
    st.session_state[SAID_KEY] = said_of(report)
    st.rerun()


def conflicts(found: list[dict[str, str]]) -> None:
    """The latest conflicts the merges resolved, newest first."""
    if not found:
        st.caption("No conflicting edits so far.")
        return
    st.markdown("**Conflicts resolved lately**")
    st.markdown("\n".join(f"- {when(c['at'])}: {md(c['text'])}" for c in found))


def turn_off_control(led: Ledger) -> None:
    """The "Turn sync off" button, behind a confirmation: the data here stays as it is."""
    sure = st.checkbox(
        "Stop syncing this folder (the data here stays as it is; your other devices keep theirs)",
        key="set_sync_off_sure",
    )
    if not st.button("Turn sync off", icon=":material/sync_disabled:", key="set_sync_off", disabled=not sure):
        return
    from tracker.sync.session import turn_off

    try:
        turn_off(led.location)
    except TrackerError as exc:
        st.error(md(exc), icon=":material/error:")
        return
    st.session_state[SAID_KEY] = [("success", "Sync is off for this folder; the data here is as it was.")]
    st.rerun()


# -- shared -----------------------------------------------------------------------------------------


def run_sync(led: Ledger) -> SyncReport:
    """One sync of the session's ledger, with a spinner (its commit is one undoable change)."""
    from tracker.sync.syncer import sync_now

    with st.spinner("Syncing…"):
        return sync_now(led)


def counts(report: SyncReport) -> str:
    """``sent 2, received 1, conflicts resolved 0``."""
    return f"sent {report.sent:,}, received {report.received:,}, conflicts resolved {report.conflicts_resolved:,}"


def said_of(report: SyncReport) -> list[tuple[str, str]]:
    """What a sync did: the counts, then its warnings."""
    return [("success", f"Synced: {counts(report)}."), *warnings_of(report)]


def warnings_of(report: SyncReport) -> list[tuple[str, str]]:
    """A sync's problems, and the files in the location that are not ours."""
    said = [("warning", f"Problem: {problem}") for problem in report.problems]
    if report.ignored:
        names = ", ".join(report.ignored[:MAX_IGNORED_SHOWN]) + ("…" if len(report.ignored) > MAX_IGNORED_SHOWN else "")
        n = len(report.ignored)
        said.append(
            ("warning", f"Ignored {n} file{'s' if n != 1 else ''} in the sync location that are not ours: {names}")
        )
    return said


def show_said() -> None:
    """Show, once, what the section's last button did."""
    for kind, text in st.session_state.pop(SAID_KEY, []):
        getattr(st, kind, st.info)(md(text))


def when(moment: str | None) -> str:
    """A stored UTC time (``2026-11-28T01:02:03.000004Z``) in local time to the minute; "never" for none."""
    if not moment:
        return "never"
    from tracker.model import parse_utc

    try:
        return f"{parse_utc(moment).astimezone():%Y-%m-%d %H:%M}"
    except ValueError:
        return str(moment)
