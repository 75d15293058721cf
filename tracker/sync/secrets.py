"""The sync passphrase and the WebDAV password, kept in the OS keyring (never in a settings file).

Each secret is stored under :data:`SERVICE` as ``"<location id>:<kind>"``. ``keyring`` is imported only when a
secret is needed, so the CLI starts fast.
"""

from __future__ import annotations

from pathlib import Path

from tracker.errors import SyncError, ValidationError, one_line

SERVICE = "expense-tracker-sync"
KINDS = ("passphrase", "password")
_WHAT = {"passphrase": "the sync passphrase", "password": "the WebDAV password"}


class NoKeyringError(SyncError):
    """There is no usable system keyring to keep a secret in."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(
            f"no system keyring is available to keep {what} ({reason}). Install and unlock one "
            "(GNOME Keyring, KWallet, macOS Keychain, Windows Credential Manager) and try again"
        )


def _account(location_id: str, kind: str) -> str:
    """The keyring user name of ``kind`` for ``location_id``, once both are valid."""
    if not location_id:
        raise ValidationError("location id", location_id, "is empty")
    if kind not in KINDS:
        raise ValidationError("kind", kind, f"is not a kind of sync secret ({', '.join(KINDS)})")
    return f"{location_id}:{kind}"


def require_keyring(what: str) -> None:
    """Raise :class:`NoKeyringError` if the keyring in use is the one that fails, or the one that keeps nothing."""
    import keyring
    from keyring.backends import fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        raise NoKeyringError(what, f"the keyring library found no backend, only {type(backend).__module__}")


def _reason(exc: Exception) -> str:
    """A short, one-line account of a keyring exception."""
    text = one_line(str(exc))
    if len(text) > 120:
        text = text[:120] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def store_secret(location_id: str, kind: str, value: str) -> None:
    """Keep ``value`` (a passphrase or password) in the keyring for ``location_id``."""
    import keyring
    from keyring.errors import KeyringError

    account = _account(location_id, kind)
    require_keyring(_WHAT[kind])
    try:
        keyring.set_password(SERVICE, account, value)
    except KeyringError as exc:
        raise NoKeyringError(_WHAT[kind], _reason(exc)) from None


def load_secret(location_id: str, kind: str) -> str | None:
    """The secret of ``kind`` kept for ``location_id``, or ``None`` if there is none."""
    import keyring
    from keyring.errors import KeyringError

    account = _account(location_id, kind)
    require_keyring(_WHAT[kind])
    try:
        return keyring.get_password(SERVICE, account)
    except KeyringError as exc:
        raise NoKeyringError(_WHAT[kind], _reason(exc)) from None


def forget_secrets(location_id: str) -> None:
    """Remove every secret kept for ``location_id``; ones that are not there are fine."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    what = "the sync passphrase and WebDAV password"
    accounts = [_account(location_id, kind) for kind in KINDS]
    require_keyring(what)
    for account in accounts:
        try:
            keyring.delete_password(SERVICE, account)
        except PasswordDeleteError:
            continue  # there was none
        except KeyringError as exc:
            raise NoKeyringError(what, _reason(exc)) from None


def read_secret_file(path: str | Path, what: str) -> str:
    """The first line of the file at ``path`` (without its line break): a secret given as a file.

    ``what`` names the option in errors (``"passphrase-file"``); the secret itself is never shown.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ValidationError(what, str(path), "does not exist") from None
    except UnicodeDecodeError:
        raise ValidationError(what, str(path), "is not UTF-8 text") from None
    except OSError as exc:
        raise ValidationError(what, str(path), f"cannot be read ({exc.strerror or exc})") from None
    if not text:
        raise ValidationError(what, str(path), "is empty (the secret must be on its first line)")
    first = text.split("\n", 1)[0].removesuffix("\r")
    if not first:
        raise ValidationError(what, str(path), "has nothing on its first line (where the secret must be)")
    return first
