"""Sealing sync files: round trips, every kind of damage refused, the passphrase's key check."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from tracker.errors import SyncError, ValidationError
from tracker.sync.crypto import (
    MAGIC,
    KeySealer,
    PlainSealer,
    Sealer,
    TamperedError,
    WrongPassphraseError,
    check_passphrase,
    new_keycheck,
    sealer_for,
    unlock,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
PASSPHRASE = "correct horse battery"
FAST = {"n": 2**10, "r": 8, "p": 1}
"""Cheap scrypt parameters for tests that are not about the defaults."""
DATA = b'{"ops": [1, 2, 3]}\x00\xff binary too'


def sealers() -> list[Sealer]:
    return [PlainSealer(), KeySealer(KEY)]


@pytest.fixture(params=["plain", "key"])
def sealer(request: pytest.FixtureRequest) -> Sealer:
    return PlainSealer() if request.param == "plain" else KeySealer(KEY)


@pytest.mark.parametrize("data", [b"", b"x", DATA, bytes(range(256)) * 1000])
def test_a_sealed_file_opens_to_what_was_sealed(sealer: Sealer, data: bytes) -> None:
    blob = sealer.seal("seg-0001.bin", data)
    assert blob.startswith(MAGIC)
    assert sealer.open("seg-0001.bin", blob) == data


def test_sealer_for_chooses_by_key() -> None:
    assert isinstance(sealer_for(None), PlainSealer)
    assert not sealer_for(None).encrypted
    assert isinstance(sealer_for(KEY), KeySealer)
    assert sealer_for(KEY).encrypted


def test_encryption_hides_the_data_and_uses_a_fresh_nonce_each_time() -> None:
    sealer = KeySealer(KEY)
    first, second = sealer.seal("a", DATA), sealer.seal("a", DATA)
    assert first != second
    assert DATA not in first
    assert first[len(MAGIC) : len(MAGIC) + 1] == b"E"
    assert len(first) == len(MAGIC) + 1 + 12 + len(DATA) + 16


def test_the_plain_envelope_is_magic_mode_length_checksum_data() -> None:
    blob = PlainSealer().seal("a", DATA)
    assert blob == MAGIC + b"P" + len(DATA).to_bytes(8, "big") + hashlib.sha256(DATA).digest() + DATA


def test_changing_any_single_byte_is_refused(sealer: Sealer) -> None:
    blob = sealer.seal("seg-7", DATA)
    for index in range(len(blob)):
        for flip in (0x01, 0x80):
            damaged = bytearray(blob)
            damaged[index] ^= flip
            with pytest.raises(TamperedError, match=r"^seg-7 is damaged or was changed \(.+\); it was ignored$"):
                sealer.open("seg-7", bytes(damaged))


def test_a_cut_or_extended_file_is_refused(sealer: Sealer) -> None:
    blob = sealer.seal("seg-7", DATA)
    for length in range(len(blob)):
        with pytest.raises(TamperedError) as caught:
            sealer.open("seg-7", blob[:length])
        assert caught.value.name == "seg-7"
    with pytest.raises(TamperedError):
        sealer.open("seg-7", blob + b"\x00")


def test_the_plain_envelope_checks_length_and_checksum() -> None:
    sealer = PlainSealer()
    blob = sealer.seal("a", DATA)
    header = len(MAGIC) + 1
    longer = blob[:header] + (len(DATA) + 1).to_bytes(8, "big") + blob[header + 8 :]
    with pytest.raises(TamperedError, match="header says"):
        sealer.open("a", longer)
    other = DATA[:-1] + b"!"
    with pytest.raises(TamperedError, match="checksum"):
        sealer.open("a", blob[: -len(DATA)] + other)


def test_an_encrypted_file_renamed_or_swapped_is_refused() -> None:
    sealer = KeySealer(KEY)
    blob = sealer.seal("seg-a-0001", DATA)
    with pytest.raises(TamperedError, match=r"^seg-a-0002 is damaged"):
        sealer.open("seg-a-0002", blob)


def test_another_key_does_not_open_a_file() -> None:
    blob = KeySealer(KEY).seal("a", DATA)
    with pytest.raises(TamperedError, match="authentication failed"):
        KeySealer(OTHER_KEY).open("a", blob)


def test_an_encrypted_location_refuses_plain_files_and_the_other_way_round() -> None:
    with pytest.raises(TamperedError, match="not encrypted, but this sync location is encrypted"):
        KeySealer(KEY).open("a", PlainSealer().seal("a", DATA))
    with pytest.raises(TamperedError, match="it is encrypted, but this sync location is set up without"):
        PlainSealer().open("a", KeySealer(KEY).seal("a", DATA))
    for sealer in sealers():
        with pytest.raises(TamperedError, match="not a sealed sync file"):
            sealer.open("notes.txt", b"hello")
        with pytest.raises(TamperedError, match="mode is unknown"):
            sealer.open("a", MAGIC + b"Z" + bytes(64))


def test_a_file_name_with_a_line_break_stays_on_one_line() -> None:
    with pytest.raises(TamperedError) as caught:
        PlainSealer().open("a\nb", b"junk")
    assert "\n" not in str(caught.value)


def test_a_key_must_be_32_bytes() -> None:
    with pytest.raises(ValidationError, match="must be 32 bytes"):
        KeySealer(b"short")


def test_the_key_check_opens_with_the_passphrase_only() -> None:
    content, key = new_keycheck(PASSPHRASE, **FAST)
    assert unlock(PASSPHRASE, content) == key
    assert len(key) == 32
    with pytest.raises(WrongPassphraseError) as caught:
        unlock(PASSPHRASE + "!", content)
    assert str(caught.value) == (
        "the passphrase does not open this sync location (its key check failed); nothing was written"
    )
    assert PASSPHRASE not in str(caught.value)


def test_each_key_check_has_its_own_salt_and_key() -> None:
    (first, key1), (second, key2) = new_keycheck(PASSPHRASE, **FAST), new_keycheck(PASSPHRASE, **FAST)
    assert key1 != key2
    assert json.loads(first)["salt"] != json.loads(second)["salt"]


def test_the_default_key_check_file_is_scrypt_with_integers_only() -> None:
    content, key = new_keycheck(PASSPHRASE)
    document = json.loads(content.decode("utf-8"))
    assert set(document) == {"format", "kdf", "n", "r", "p", "salt", "check"}
    assert (document["format"], document["kdf"]) == (1, "scrypt")
    assert (document["n"], document["r"], document["p"]) == (2**15, 8, 1)
    assert all(type(document[field]) is int for field in ("format", "n", "r", "p"))
    salt = base64.b64decode(document["salt"], validate=True)
    assert len(salt) == 16
    assert key == Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(PASSPHRASE.encode())
    check = base64.b64decode(document["check"], validate=True)
    assert KeySealer(key).open("keycheck", check) == b"expense-tracker key check"
    assert unlock(PASSPHRASE, content) == key


def test_unlock_reads_the_parameters_from_the_file() -> None:
    content, key = new_keycheck(PASSPHRASE, n=2**11, r=4, p=2)
    document = json.loads(content)
    salt = base64.b64decode(document["salt"])
    assert key == Scrypt(salt=salt, length=32, n=2**11, r=4, p=2).derive(PASSPHRASE.encode())
    assert unlock(PASSPHRASE, content) == key
    for field, value in (("n", 2**12), ("r", 8), ("p", 1)):
        changed = json.dumps({**document, field: value}).encode()
        with pytest.raises(WrongPassphraseError):
            unlock(PASSPHRASE, changed)


def test_a_unicode_passphrase_works() -> None:
    content, key = new_keycheck("pässwörd-ünïcödé", **FAST)
    assert unlock("pässwörd-ünïcödé", content) == key
    with pytest.raises(WrongPassphraseError):
        unlock("passwörd-ünïcödé", content)


def _edited(content: bytes, **changes: object) -> bytes:
    return json.dumps({**json.loads(content), **changes}).encode()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda c: b"\xff\xfe not utf-8", "not valid JSON"),
        (lambda c: c[: len(c) // 2], "not valid JSON"),
        (lambda c: b"[1, 2]", "not a JSON object"),
        (lambda c: _edited(c, format=2), "format 2, newer than this version reads; update Expense Tracker"),
        (lambda c: _edited(c, format=0), "format 0 is unknown"),
        (lambda c: _edited(c, format="1"), "no format number"),
        (lambda c: _edited(c, kdf="argon2id"), "key derivation 'argon2id' is unknown"),
        (lambda c: c.replace(b'"n": 1024', b'"n": 1024.0'), "not valid JSON"),
        (lambda c: c.replace(b'"n": 1024', b'"n": NaN'), "not valid JSON"),
        (lambda c: _edited(c, n=True), "'n' is not an integer"),
        (lambda c: _edited(c, n=1000), "are invalid"),
        (lambda c: _edited(c, r=0), "are invalid"),
        (lambda c: _edited(c, n=2**30), "too much memory"),
        (lambda c: _edited(c, salt="not base64!"), "'salt' is not base64"),
        (lambda c: _edited(c, check=""), "'check' is missing"),
    ],
)
def test_a_damaged_or_unknown_key_check_file_is_named(make: Callable[[bytes], bytes], reason: str) -> None:
    content, _ = new_keycheck(PASSPHRASE, **FAST)
    with pytest.raises(SyncError) as caught:
        unlock(PASSPHRASE, make(content), name="keycheck.json")
    assert not isinstance(caught.value, WrongPassphraseError)
    assert str(caught.value).startswith("the key-check file keycheck.json of this sync location cannot be used: ")
    assert reason in str(caught.value)


def test_a_key_check_sealed_under_another_name_fails_as_a_wrong_passphrase() -> None:
    content, key = new_keycheck(PASSPHRASE, **FAST)
    swapped = _edited(content, check=base64.b64encode(KeySealer(key).seal("seg-1", b"x")).decode())
    with pytest.raises(WrongPassphraseError):
        unlock(PASSPHRASE, swapped)


@pytest.mark.parametrize("passphrase", ["", "1234567", "sevench"])
def test_a_short_passphrase_is_refused_without_showing_it(passphrase: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_passphrase(passphrase)
    assert caught.value.field == "passphrase"
    assert str(caught.value) == "passphrase: '…' is too short (at least 8 characters)"
    with pytest.raises(ValidationError):
        new_keycheck(passphrase, **FAST)


def test_eight_characters_are_enough() -> None:
    check_passphrase("12345678")
