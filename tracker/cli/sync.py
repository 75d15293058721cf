"""Sync on the command line: ``sync setup``, ``sync now``, ``sync status``, ``sync off``.

Thin over :mod:`tracker.sync.session` and :func:`tracker.sync.syncer.sync_now`. Secrets are read from a file
(``--passphrase-file``, ``--password-file``) or typed at a prompt, never taken as an argument (a command line is
visible to every user of the computer and kept in shell histories).
"""

from __future__ import annotations

import argparse
import sys

from tracker.cli.common import Subparsers, add_format_argument, open_ledger, print_json, print_table


def register(sub: Subparsers) -> None:
    """Add the ``sync`` subcommand and its actions."""
    p = sub.add_parser("sync", help="sync with your other devices through a synced folder or WebDAV")
    ssub = p.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    a = ssub.add_parser("setup", help="sync through a folder (Syncthing, Dropbox, ...) or a WebDAV server")
    where = a.add_mutually_exclusive_group(required=True)
    where.add_argument("--folder", metavar="PATH", help="a folder your sync engine syncs between your devices")
    where.add_argument("--webdav", metavar="URL", help="a WebDAV folder, for example https://cloud.example/dav/")
    a.add_argument("--user", help="the WebDAV user name")
    a.add_argument("--password-file", metavar="F", help="read the WebDAV password from this file")
    a.add_argument("--passphrase-file", metavar="F", help="read the encryption passphrase from this file")
    a.add_argument("--device-name", metavar="NAME", help="what your other devices call this one (default: hostname)")
    a.add_argument(
        "--no-encryption", action="store_true", help="a folder only: store the files unencrypted (checked, not secret)"
    )
    a.set_defaults(func=run_sync_setup)
    a = ssub.add_parser("now", help="send this device's changes and merge the others' now")
    add_format_argument(a)
    a.set_defaults(func=run_sync_now)
    a = ssub.add_parser("status", help="where this folder syncs, the devices seen, the last sync and error")
    add_format_argument(a)
    a.set_defaults(func=run_sync_status)
    a = ssub.add_parser("off", help="stop syncing this folder (the data here stays as it is)")
    a.set_defaults(func=run_sync_off)


def _secret(path: str | None, what: str, flag: str) -> str:
    from tracker.errors import ValidationError
    from tracker.sync.secrets import read_secret_file

    if path is not None:
        return read_secret_file(path, flag)
    if not sys.stdin.isatty():
        raise ValidationError(flag, "(none)", f"is needed to give the {what} (no terminal to ask it at)")
    import getpass

    return getpass.getpass(f"{what.capitalize()}: ")


def run_sync_setup(args: argparse.Namespace) -> int:
    from tracker.errors import ValidationError
    from tracker.storage.paths import resolve_data_dir
    from tracker.sync.session import folder_location, setup, webdav_location

    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    password = None
    if args.webdav:
        if args.no_encryption:
            raise ValidationError("no-encryption", "WebDAV", "is not allowed: files on a server are always encrypted")
        location = webdav_location(args.webdav, args.user)
        password = _secret(args.password_file, "WebDAV password", "password-file") if args.user else None
    else:
        location = folder_location(args.folder)
    encrypted = not args.no_encryption
    passphrase = _secret(args.passphrase_file, "passphrase", "passphrase-file") if encrypted else None
    config = setup(
        data_dir, location, passphrase=passphrase, password=password, device_name=args.device_name, encrypted=encrypted
    )
    state = "encrypted" if config.encrypted else "not encrypted"
    print(f"sync set up: {data_dir} syncs through {config.describe()} ({state}) as {config.device_name!r}")
    print("run `expense-tracker sync now` to merge with your other devices")
    return 0


def run_sync_now(args: argparse.Namespace) -> int:
    from tracker.sync.syncer import sync_now

    report = sync_now(open_ledger(args))
    if args.format == "json":
        print_json(report.to_json())
        return 0
    print(
        f"sent {report.sent:,} change(s), received {report.received:,}, conflicts resolved {report.conflicts_resolved}"
    )
    for text in report.conflicts:
        print(f"  {text}")
    for text in report.problems:
        print(f"  problem: {text}")
    if report.ignored:
        print(f"  ignored {len(report.ignored)} file(s) that are not ours: {', '.join(report.ignored[:5])}")
    return 0


def run_sync_status(args: argparse.Namespace) -> int:
    from tracker.storage.paths import resolve_data_dir
    from tracker.sync.session import status

    found = status(resolve_data_dir(getattr(args, "data_dir", None)))
    if args.format == "json":
        print_json(found)
        return 0
    if not found["set_up"]:
        print("sync is not set up: `expense-tracker sync setup --folder PATH` or `--webdav URL --user USER`")
        return 0
    print(f"location:   {found['location']} ({'encrypted' if found['encrypted'] else 'not encrypted'})")
    print(f"this device: {found['device']['name']} ({found['device']['id']})")
    print(f"last sync:  {found['last_sync'] or 'never'}")
    if found["last_error"]:
        print(f"last error: {found['last_error']}")
    if found["devices"]:
        rows = [
            [d["name"] + (" (this one)" if d["this"] else ""), d["device"], d["last_seen"] or ""]
            for d in found["devices"]
        ]
        print_table(rows, ["device", "id", "last seen"])
    for c in found["conflicts"]:
        print(f"{c['at']}  {c['text']}")
    return 0


def run_sync_off(args: argparse.Namespace) -> int:
    from tracker.storage.paths import resolve_data_dir
    from tracker.sync.session import turn_off

    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    if turn_off(data_dir):
        print(f"sync is off for {data_dir}; the data here is as it was")
    else:
        print("sync was not set up")
    return 0
