"""Sealing the files a device puts in the sync location: encrypted and authenticated, or at least checked.

Every file is an envelope that starts with :data:`MAGIC` and a mode byte:

- ``P`` (:class:`PlainSealer`, a location the user chose not to encrypt): an 8-byte big-endian length, the
  SHA-256 of the data, then the data. A torn or damaged file is refused; a deliberate change is not detected.
- ``E`` (:class:`KeySealer`): a 12-byte random nonce, then AES-256-GCM ciphertext and tag, with the file's name
  as associated data, so a file changed, renamed or swapped for another is refused.

The key comes from the passphrase through scrypt. The location keeps a small key-check file (JSON: the scrypt
parameters, the salt and a sealed known text) so a wrong passphrase is caught before anything is written, and
so the parameters can be raised later without breaking old locations: :func:`unlock` reads them from the file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from typing import Any, NoReturn, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from tracker.errors import SyncError, ValidationError, one_line

MAGIC = b"ETSYNC1"
PLAIN = b"P"
ENCRYPTED = b"E"
KEY_BYTES = 32
NONCE_BYTES = 12
SALT_BYTES = 16
TAG_BYTES = 16
LENGTH_BYTES = 8
DIGEST_BYTES = 32
MIN_PASSPHRASE = 8

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
MAX_SCRYPT_MEMORY = 2**30
"""The most memory (bytes, 128·n·r·p) a key-check file may ask scrypt for; more means the file is not ours."""

KEYCHECK_FORMAT = 1
KEYCHECK_FILE = "keycheck.json"
KEYCHECK_NAME = "keycheck"
KEYCHECK_TEXT = b"expense-tracker key check"


class TamperedError(SyncError):
    """A sealed file that does not open: torn, damaged, changed, renamed, or sealed with another key."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{one_line(name)} is damaged or was changed ({reason}); it was ignored")


class WrongPassphraseError(SyncError):
    """The passphrase does not open the location's key-check file."""

    def __init__(self) -> None:
        super().__init__("the passphrase does not open this sync location (its key check failed); nothing was written")


class Sealer(Protocol):
    """Turns a file's content into what is stored in the sync location, and back."""

    encrypted: bool

    def seal(self, name: str, data: bytes) -> bytes:
        """The envelope to store as ``name``."""
        ...

    def open(self, name: str, blob: bytes) -> bytes:
        """The content of the envelope stored as ``name``; :class:`TamperedError` if it does not check."""
        ...


def _check_header(name: str, blob: bytes, mode: bytes) -> None:
    """Refuse ``blob`` unless it starts with :data:`MAGIC` and ``mode``."""
    if not blob.startswith(MAGIC):
        raise TamperedError(name, "it is not a sealed sync file")
    found = blob[len(MAGIC) : len(MAGIC) + 1]
    if found == mode:
        return
    if found == ENCRYPTED:
        raise TamperedError(name, "it is encrypted, but this sync location is set up without encryption")
    if found == PLAIN:
        raise TamperedError(name, "it is not encrypted, but this sync location is encrypted")
    raise TamperedError(name, "its sealing mode is unknown")


class PlainSealer:
    """No encryption: the envelope carries the length and SHA-256 of the data, which :meth:`open` checks."""

    encrypted = False
    _header = len(MAGIC) + 1 + LENGTH_BYTES + DIGEST_BYTES

    def seal(self, name: str, data: bytes) -> bytes:
        """``MAGIC + b"P" + length + sha256 + data``."""
        return MAGIC + PLAIN + len(data).to_bytes(LENGTH_BYTES, "big") + hashlib.sha256(data).digest() + data

    def open(self, name: str, blob: bytes) -> bytes:
        """The data, once magic, mode, length and checksum agree."""
        _check_header(name, blob, PLAIN)
        if len(blob) < self._header:
            raise TamperedError(name, "it is cut short")
        start = len(MAGIC) + 1
        length = int.from_bytes(blob[start : start + LENGTH_BYTES], "big")
        digest = blob[start + LENGTH_BYTES : self._header]
        data = blob[self._header :]
        if len(data) != length:
            raise TamperedError(name, f"it holds {len(data)} bytes of data, its header says {length}")
        if hashlib.sha256(data).digest() != digest:
            raise TamperedError(name, "its checksum does not match")
        return data


class KeySealer:
    """AES-256-GCM with a random nonce per file and the file's name as associated data."""

    encrypted = True
    _header = len(MAGIC) + 1 + NONCE_BYTES

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValidationError("key", "(hidden)", f"must be {KEY_BYTES} bytes long")
        self._aead = AESGCM(key)

    def seal(self, name: str, data: bytes) -> bytes:
        """``MAGIC + b"E" + nonce + ciphertext``, bound to ``name``."""
        nonce = os.urandom(NONCE_BYTES)
        return MAGIC + ENCRYPTED + nonce + self._aead.encrypt(nonce, data, name.encode("utf-8"))

    def open(self, name: str, blob: bytes) -> bytes:
        """The plaintext, if ``blob`` was sealed with this key under this ``name`` and is whole."""
        _check_header(name, blob, ENCRYPTED)
        if len(blob) < self._header + TAG_BYTES:
            raise TamperedError(name, "it is cut short")
        nonce = blob[len(MAGIC) + 1 : self._header]
        try:
            return self._aead.decrypt(nonce, blob[self._header :], name.encode("utf-8"))
        except InvalidTag:
            raise TamperedError(
                name, "its authentication failed: changed, cut, renamed or sealed with another key"
            ) from None


def sealer_for(key: bytes | None) -> Sealer:
    """A :class:`KeySealer` for ``key``, or a :class:`PlainSealer` for an unencrypted location (``None``)."""
    return PlainSealer() if key is None else KeySealer(key)


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase shorter than :data:`MIN_PASSPHRASE` characters (the message never shows it)."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationError("passphrase", "…", f"is too short (at least {MIN_PASSPHRASE} characters)")


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """The 32-byte key scrypt derives from ``passphrase``."""
    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def new_keycheck(passphrase: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> tuple[bytes, bytes]:
    """A new random key for ``passphrase``: ``(content of the key-check file, key)``."""
    check_passphrase(passphrase)
    salt = os.urandom(SALT_BYTES)
    key = _derive(passphrase, salt, n, r, p)
    document = {
        "format": KEYCHECK_FORMAT,
        "kdf": "scrypt",
        "n": n,
        "r": r,
        "p": p,
        "salt": base64.b64encode(salt).decode("ascii"),
        "check": base64.b64encode(KeySealer(key).seal(KEYCHECK_NAME, KEYCHECK_TEXT)).decode("ascii"),
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8"), key


def unlock(passphrase: str, keycheck: bytes, *, name: str = KEYCHECK_FILE) -> bytes:
    """The key ``passphrase`` gives for the location whose key-check file (called ``name``) holds ``keycheck``.

    Raises :class:`WrongPassphraseError` if it does not open the check, ``SyncError`` naming the file if the
    file is damaged or of an unknown kind.
    """
    document = _read_keycheck(keycheck, name)
    salt = _base64_field(document, "salt", name)
    check = _base64_field(document, "check", name)
    n, r, p = (_int_field(document, field, name) for field in ("n", "r", "p"))
    _check_scrypt_params(n, r, p, name)
    key = _derive(passphrase, salt, n, r, p)
    try:
        text = KeySealer(key).open(KEYCHECK_NAME, check)
    except TamperedError:
        raise WrongPassphraseError() from None
    if text != KEYCHECK_TEXT:
        raise _bad_keycheck(name, "its check text is not the expected one")
    return key


def _bad_keycheck(name: str, reason: str) -> SyncError:
    """The error for a key-check file that is not one this version can read."""
    return SyncError(f"the key-check file {one_line(name)} of this sync location cannot be used: {reason}")


def _read_keycheck(keycheck: bytes, name: str) -> dict[str, Any]:
    """The key-check document, once it is a JSON object of a known format and KDF."""
    try:
        document = json.loads(keycheck.decode("utf-8"), parse_float=_refuse_float, parse_constant=_refuse_float)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad_keycheck(name, f"it is not valid JSON ({one_line(str(exc))})") from None
    if not isinstance(document, dict):
        raise _bad_keycheck(name, "it is not a JSON object")
    version = document.get("format")
    if type(version) is not int:
        raise _bad_keycheck(name, "it has no format number")
    if version > KEYCHECK_FORMAT:
        raise _bad_keycheck(name, f"it is of format {version}, newer than this version reads; update Expense Tracker")
    if version != KEYCHECK_FORMAT:
        raise _bad_keycheck(name, f"its format {version} is unknown")
    if document.get("kdf") != "scrypt":
        raise _bad_keycheck(name, f"its key derivation {one_line(repr(document.get('kdf')))} is unknown")
    return document


def _refuse_float(text: str) -> NoReturn:
    """``json.loads`` hook: the key-check file holds no floats (nor NaN or Infinity)."""
    raise ValueError(f"a number {text} that is not an integer")


def _int_field(document: dict[str, Any], field: str, name: str) -> int:
    """The integer ``document[field]``."""
    value = document.get(field)
    if type(value) is not int:
        raise _bad_keycheck(name, f"its {field!r} is not an integer")
    return value


def _base64_field(document: dict[str, Any], field: str, name: str) -> bytes:
    """The bytes ``document[field]`` holds in base64."""
    value = document.get(field)
    if not isinstance(value, str) or not value:
        raise _bad_keycheck(name, f"its {field!r} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _bad_keycheck(name, f"its {field!r} is not base64") from None


def _check_scrypt_params(n: int, r: int, p: int, name: str) -> None:
    """Refuse scrypt parameters scrypt rejects, or that would take more than :data:`MAX_SCRYPT_MEMORY`."""
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise _bad_keycheck(name, f"its scrypt parameters n={n}, r={r}, p={p} are invalid")
    if 128 * n * r * p > MAX_SCRYPT_MEMORY:
        raise _bad_keycheck(name, f"its scrypt parameters n={n}, r={r}, p={p} ask for too much memory")
