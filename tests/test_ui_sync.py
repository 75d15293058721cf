"""The Settings page's Sync section, run by Streamlit's AppTest: set up through a folder (unencrypted, then
encrypted with the test keyring), "Sync now" bringing another device's transaction to the pages, a resolved
conflict listed, refused set-ups changing nothing, turning sync off; the background syncer started by the app
and its merges reaching the pages; sync off importing no encryption library; and the section in a real browser.

The other device is a second data folder in this process (:class:`sync_helpers.Device`), syncing through the
same folder as the app's.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import test_browser
from app_helpers import APP, assert_one_error, open_app, texts
from streamlit.testing.v1 import AppTest
from sync_helpers import Device

from tracker.ledger import Ledger
from tracker.sync import background
from tracker.sync.session import folder_location, setup, status

SETTINGS = "app_pages/settings.py"
TRANSACTIONS = "app_pages/transactions.py"
PASSPHRASE = "correct horse battery staple"
REAL_START = background.start


@pytest.fixture(autouse=True)
def started(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders the app starts syncing in the background, recorded instead of started: a thread syncing on
    its own would race the syncs each test makes."""
    calls: list[Path] = []
    monkeypatch.setattr(background, "start", lambda data_dir, every=background.EVERY: calls.append(Path(data_dir)))
    return calls


@pytest.fixture
def location(tmp_path: Path) -> Path:
    """The folder a sync engine would keep the same on every device."""
    folder = tmp_path / "location"
    folder.mkdir()
    return folder


def ran(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def set_up_folder(
    at: AppTest, folder: Path | str, *, encrypt: bool = False, passphrase: str = "", repeat: str | None = None
) -> AppTest:
    """Fill the set-up form for a synced folder, as device "laptop", and press "Set up sync"."""
    at.radio(key="set_sync_kind").set_value("A synced folder")
    ran(at)
    at.text_input(key="set_sync_folder").input(str(folder))
    at.checkbox(key="set_sync_encrypt").set_value(encrypt)
    ran(at)
    if encrypt:
        at.text_input(key="set_sync_passphrase").input(passphrase)
        at.text_input(key="set_sync_passphrase2").input(passphrase if repeat is None else repeat)
    at.text_input(key="set_sync_device").input("laptop")
    at.button(key="set_sync_setup").click()
    return ran(at)


def sync_now(at: AppTest) -> AppTest:
    at.button(key="set_sync_now").click()
    return ran(at)


def devices(at: AppTest) -> list[dict[str, object]]:
    """The devices table: name and whether it is this one."""
    frame = next(d.value for d in at.dataframe if "Last seen" in d.value.columns)
    return [{"Device": r["Device"], "This device": r["This device"]} for r in frame.to_dict("records")]


def test_set_up_a_folder_then_sync_now_brings_the_other_devices_transaction(
    data_dir: Path, location: Path, tmp_path: Path, started: list[Path]
) -> None:
    at = open_app(SETTINGS)
    assert "Sync" in texts(at.subheader)
    assert any("Syncthing, Dropbox, OneDrive, Nextcloud" in t for t in texts(at.markdown))
    assert at.text_input(key="set_sync_device").value  # the hostname
    assert started == []  # sync is off: nothing runs in the background
    at = set_up_folder(at, location)
    assert not at.error
    done = f"Sync is set up: this folder syncs through {location} (not encrypted) as 'laptop'."
    assert texts(at.success) == [f"{done} First sync: sent 0, received 0, conflicts resolved 0."]
    assert started == [data_dir]  # and syncs in the background from now on
    assert status(data_dir)["device"]["name"] == "laptop"

    phone = Device(tmp_path, "phone", folder_location(location))
    coffee = phone.ledger.add_expense("7.25", category="Coffee", note="from the phone")
    phone.sync()
    at = sync_now(at)
    assert not at.error
    assert "Synced: sent 0, received 1, conflicts resolved 0." in texts(at.success)
    assert not at.warning
    assert devices(at) == [{"Device": "laptop", "This device": True}, {"Device": "phone", "This device": False}]
    assert Ledger(data_dir).get(coffee.id).note == "from the phone"
    at.switch_page(TRANSACTIONS)
    ran(at)
    assert coffee.id in at.data_editor[0].value.index  # the merged row, on the page at the next run

    Ledger(data_dir).add_income("100", category="Salary")
    at.switch_page(SETTINGS)
    at = sync_now(ran(at))
    assert "Synced: sent 1, received 0, conflicts resolved 0." in texts(at.success)
    phone.sync()
    assert sorted(t.category for t in phone.ledger.transactions()) == ["Coffee", "Salary"]


@pytest.mark.parametrize(
    ("folder", "encrypt", "repeat", "said"),
    [
        ("location", True, PASSPHRASE + "!", "The two passphrases are not the same: nothing was set up."),
        ("location", True, "", "The two passphrases are not the same: nothing was set up."),
        ("missing", False, None, "is not an existing folder"),
        ("", False, None, "folder: '' is needed: the folder your sync engine syncs"),
    ],
)
def test_a_refused_set_up_is_one_line_and_sets_nothing_up(
    data_dir: Path,
    location: Path,
    tmp_path: Path,
    started: list[Path],
    folder: str,
    encrypt: bool,
    repeat: str | None,
    said: str,
) -> None:
    at = open_app(SETTINGS)
    path = str(tmp_path / folder) if folder else ""
    at = set_up_folder(at, path, encrypt=encrypt, passphrase=PASSPHRASE, repeat=repeat)
    assert_one_error(at, said)
    assert not (data_dir / "sync").exists()
    assert list(location.iterdir()) == []
    assert started == []
    assert at.button(key="set_sync_setup")  # the form is still there, as filled


def test_a_resolved_conflict_is_listed(data_dir: Path, location: Path, tmp_path: Path) -> None:
    at = set_up_folder(open_app(SETTINGS), location)
    assert "No conflicting edits so far." in texts(at.caption)
    phone = Device(tmp_path, "phone", folder_location(location))
    lunch = Ledger(data_dir).add_expense("12.50", category="Food", note="lunch")
    at = sync_now(at)
    phone.sync()
    phone.ledger.update(lunch.id, note="earlier")
    phone.sync()
    Ledger(data_dir).update(lunch.id, note="later")
    at = sync_now(at)
    assert "Synced: sent 1, received 0, conflicts resolved 1." in texts(at.success)  # the phone's edit lost
    listed = [t for t in texts(at.markdown) if "edited on both devices" in t]
    assert len(listed) == 1, texts(at.markdown)
    assert f"transaction {lunch.id[:4]}" in listed[0]
    assert "(note) edited on both devices; kept the later: 'later'" in listed[0]
    assert "**Conflicts resolved lately**" in texts(at.markdown)
    assert Ledger(data_dir).get(lunch.id).note == "later"


def test_turn_sync_off_behind_a_confirmation_keeps_the_data(data_dir: Path, location: Path) -> None:
    at = set_up_folder(open_app(SETTINGS), location)
    Ledger(data_dir).add_expense("3", category="Food")
    at = sync_now(at)
    before = Ledger(data_dir).transactions()
    assert at.button(key="set_sync_off").disabled
    at.checkbox(key="set_sync_off_sure").check()
    at = ran(at)
    at.button(key="set_sync_off").click()
    at = ran(at)
    assert not at.error
    assert "Sync is off for this folder; the data here is as it was." in texts(at.success)
    assert status(data_dir) == {"set_up": False}
    assert not (data_dir / "sync").exists()
    assert at.button(key="set_sync_setup")  # the set-up form again
    assert Ledger(data_dir).transactions() == before
    assert list(location.iterdir())  # what this device wrote stays for the others


def test_an_encrypted_set_up_keeps_the_passphrase_in_the_keyring(
    data_dir: Path, location: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync_fixtures import use_test_keyring

    keyring = use_test_keyring(monkeypatch, tmp_path)
    at = set_up_folder(open_app(SETTINGS), location, encrypt=True, passphrase=PASSPHRASE)
    assert not at.error
    assert any(f"syncs through {location} (encrypted) as 'laptop'" in t for t in texts(at.success))
    assert PASSPHRASE in keyring.read_text(encoding="utf-8")
    assert "set_sync_passphrase" not in at.session_state  # not kept in the session once in the keyring
    assert PASSPHRASE not in (data_dir / "sync" / "config.json").read_text(encoding="utf-8")

    phone = Device(tmp_path, "phone", folder_location(location), encrypted=True, passphrase=PASSPHRASE)
    phone.ledger.add_expense("9.99", category="Books", note="a secret novel")
    phone.sync()
    at = sync_now(at)
    assert "Synced: sent 0, received 1, conflicts resolved 0." in texts(at.success)
    assert [t.note for t in Ledger(data_dir).transactions()] == ["a secret novel"]
    assert not any(b"secret novel" in p.read_bytes() for p in location.rglob("*") if p.is_file())


def test_a_webdav_set_up_refuses_a_wrong_password_then_keeps_the_right_one_in_the_keyring(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list[Path]
) -> None:
    from sync_fixtures import use_test_keyring
    from webdav_server import PASSWORD, USER, WebDAVServer

    keyring = use_test_keyring(monkeypatch, tmp_path)
    with WebDAVServer(tmp_path / "dav") as server:
        at = open_app(SETTINGS)
        at.radio(key="set_sync_kind").set_value("A WebDAV server")
        at = ran(at)
        assert not at.checkbox  # no choice: files on a server are always encrypted
        at.text_input(key="set_sync_url").input(server.url + "expenses")
        at.text_input(key="set_sync_user").input(USER)
        at.text_input(key="set_sync_password").input(PASSWORD + "?")
        at.text_input(key="set_sync_passphrase").input(PASSPHRASE)
        at.text_input(key="set_sync_passphrase2").input(PASSPHRASE)
        at.button(key="set_sync_setup").click()
        at = ran(at)
        errors = texts(at.error)
        assert len(errors) == 1, errors
        assert "\n" not in errors[0]
        assert PASSWORD not in errors[0]
        assert not (data_dir / "sync").exists()
        assert started == []
        at.text_input(key="set_sync_password").input(PASSWORD)
        at.button(key="set_sync_setup").click()
        at = ran(at)
        assert not at.error, texts(at.error)
        assert any(f"(WebDAV, user {USER}) (encrypted)" in t for t in texts(at.success)), texts(at.success)
        assert started == [data_dir]
        stored = keyring.read_text(encoding="utf-8")
        assert PASSWORD in stored
        assert PASSPHRASE in stored
        assert "set_sync_password" not in at.session_state
        assert [d["This device"] for d in devices(at)] == [True]


def test_the_app_syncs_in_the_background_and_the_pages_show_the_merge(
    data_dir: Path, location: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the app starts the background syncer of a folder that syncs; its merge shows on the next run."""
    setup(data_dir, folder_location(location), passphrase=None, encrypted=False, device_name="laptop")
    phone = Device(tmp_path, "phone", folder_location(location))
    tea = phone.ledger.add_expense("2.10", category="Tea")
    phone.sync()
    monkeypatch.setattr(background, "start", functools.partial(REAL_START, every=0.2))
    try:
        at = open_app(TRANSACTIONS)
        deadline = time.monotonic() + 20
        while tea.id not in {t.id for t in Ledger(data_dir).transactions()}:
            assert time.monotonic() < deadline, status(data_dir)
            time.sleep(0.05)
        at = ran(at)
        assert tea.id in at.data_editor[0].value.index
        at.switch_page(SETTINGS)
        at = ran(at)
        assert not at.error
        assert [d["Device"] for d in devices(at)] == ["laptop", "phone"]
    finally:
        background.stop_all()


def test_the_status_of_a_folder_that_syncs_but_never_did(data_dir: Path, location: Path, started: list[Path]) -> None:
    setup(data_dir, folder_location(location), passphrase=None, encrypted=False, device_name="laptop")
    at = open_app(SETTINGS)
    assert started == [data_dir]  # the app syncs it in the background
    said = " ".join(texts(at.markdown)).replace("**", "")
    assert f"This folder syncs through {location} (not encrypted) as laptop." in said
    assert "Last sync: never." in said
    assert "No device has synced yet." in texts(at.caption)


def test_with_sync_off_the_app_loads_no_encryption_or_webdav_library(data_dir: Path) -> None:
    code = (
        "import json, sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(APP)!r}, default_timeout=60)\n"
        "at.run()\n"
        "at.switch_page('app_pages/settings.py').run()\n"
        "assert not at.exception, at.exception\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('cryptography', 'webdav4', 'keyring')"
        " or m in ('tracker.sync.session', 'tracker.sync.syncer', 'tracker.sync.background'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


# -- in a real browser ----------------------------------------------------------------------------

browser, server, page = test_browser.browser, test_browser.server, test_browser.page  # the browser tests' fixtures
Shots, settle = test_browser.Shots, test_browser.settle


@pytest.fixture
def phone(tmp_path: Path) -> Device:
    """A phone that syncs through ``tmp_path/location`` and has sent one expense there."""
    location = tmp_path / "location"
    location.mkdir()
    device = Device(tmp_path, "phone", folder_location(location))
    device.ledger.add_expense("4.20", category="Coffee", note="espresso")
    device.sync()
    return device


@pytest.mark.browser
def test_the_sync_section_in_a_real_browser(
    phone: Device, page: Any, server: str, data_dir: Path, tmp_path: Path, output_dir: Path
) -> None:
    """The form filled in and sent in Chromium (an unencrypted folder), then the status and the devices table.
    Screenshots in test-output/."""
    from playwright.sync_api import expect

    shot = Shots(page, tmp_path, output_dir)
    page.goto(server + "settings")
    settle(page)
    expect(page.get_by_role("button", name="Set up sync")).to_be_visible()
    page.get_by_role("textbox", name="Folder").fill(str(tmp_path / "location"))
    page.get_by_role("textbox", name="Folder").press("Tab")
    settle(page)
    page.get_by_text("Encrypt the files (recommended)").click()
    expect(page.get_by_label("Passphrase", exact=True)).to_have_count(0)  # no passphrase without encryption
    settle(page)
    page.get_by_role("textbox", name="This device's name").fill("laptop")
    page.get_by_role("textbox", name="This device's name").press("Tab")
    settle(page)
    page.get_by_role("heading", name="Sync", exact=True).scroll_into_view_if_needed()
    shot("01-sync-form")
    page.get_by_role("button", name="Set up sync").click()
    expect(page.get_by_text("First sync: sent 0, received 1, conflicts resolved 0.")).to_be_visible()
    settle(page)
    expect(page.get_by_role("button", name="Turn sync off")).to_be_disabled()
    assert [t.note for t in Ledger(data_dir).transactions()] == ["espresso"]
    page.get_by_role("heading", name="Sync", exact=True).scroll_into_view_if_needed()
    shot("02-sync-set-up")
    assert not page.get_by_text("Traceback").count()
