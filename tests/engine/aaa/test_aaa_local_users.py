"""Local users' stored secrets: IOS's types 0, 7, 5, 8 and 9."""

from __future__ import annotations

import pytest

from engine.aaa import ios_hashes
from engine.aaa.local_users import verify_password
from engine.config.model import LocalUser
from engine.secret import Secret

# Hashes made by IOS devices, with their passwords. Types 5 and 9: an ASR920 (IOS-XE
# 16.09.05f) and a C9300 (IOS-XE 16.09.05), published in the test data of the
# network_hash_gen project (github.com/991jo/network_hash_gen). Type 8: the example of
# Cisco Learning Network's "Cisco Routers Password Types" article (`username yasser
# algorithm-type sha256 secret cisco`). Type 7: the encoding of "cisco" that Cisco's
# own documents show.
IOS_HASHES = [
    (5, "$1$u5Qz$ASoUsdGV2sOmi8XYkTuex1", "0foo0"),
    (5, "$1$FCLB$2a3ny5w.KvoBl9WtjJePx1", "0foo0"),
    (5, "$1$UMmK$dKZmb7om9b6O/E/qlRILM0", "123sd()123!"),
    (8, "$8$dsYGNam3K1SIJO$7nv/35M/qr6t.dVc7UY9zrJDWRVqncHub1PE9UlMQFs", "cisco"),
    (9, "$9$plz/kf0e3.dns.$cKvJDd6bXmyaUWdx42dgcRwpdDs0djBEqzjlmMbYEW6", "0foo0"),
    (9, "$9$WtRdvMXgJ.ucTH$aLBq6tLlZ5wQkaENKWNRVjj8lBcegs1NnMuT0ePzckE", "1foo1"),
    (7, "0822455D0A16", "cisco"),
]


def user(kind: int, stored: str) -> LocalUser:
    return LocalUser(name="u", secret=Secret(stored), kind=kind)


@pytest.mark.parametrize(("kind", "stored", "password"), IOS_HASHES)
def test_hashes_from_ios_devices_verify(kind: int, stored: str, password: str) -> None:
    assert verify_password(user(kind, stored), password)
    assert not verify_password(user(kind, stored), password + "x")
    assert not verify_password(user(kind, stored), password.upper())


@pytest.mark.parametrize("kind", [5, 8, 9])
def test_own_hashes_round_trip_in_ios_format(kind: int) -> None:
    salt = ios_hashes.new_salt(4 if kind == 5 else 14)
    stored = ios_hashes.HASHERS[kind]("pässwörd with spaces".encode(), salt)
    ios_hashes.check_format(kind, stored)  # the shape IOS writes
    prefix = {5: "$1$", 8: "$8$", 9: "$9$"}[kind]
    assert stored.startswith(prefix + salt + "$")
    assert len(stored.rsplit("$", 1)[1]) == (22 if kind == 5 else 43)
    assert set(stored.rsplit("$", 1)[1]) <= set(ios_hashes.ITOA64)
    assert verify_password(user(kind, stored), "pässwörd with spaces")
    assert not verify_password(user(kind, stored), "pässwörd with space")


def test_type7_round_trips_at_every_offset() -> None:
    for offset in range(len(ios_hashes.TYPE7_KEY)):
        text = ios_hashes.type7_encode(b"a longer password than the key is long" * 2, offset)
        assert text[:2] == f"{offset:02d}"
        assert ios_hashes.type7_decode(text) == b"a longer password than the key is long" * 2


def test_md5_crypt_matches_the_reference_algorithm() -> None:
    """FreeBSD's own test vector (lib/libcrypt), salt of 8 and a long password."""
    assert (
        ios_hashes.md5_crypt(b"abcdefghijklmnopqrstuvwxyz0123", "saltsalt")
        == "$1$saltsalt$oL6z4RDzZyv8uL63mlbzv."
    )


def test_clear_passwords() -> None:
    assert verify_password(user(0, "Pl4in Text"), "Pl4in Text")
    assert not verify_password(user(0, "Pl4in Text"), "Pl4in text")
    assert not verify_password(user(0, "Pl4in Text"), "")


@pytest.mark.parametrize(
    ("kind", "stored"),
    [
        (5, "$1$u5Qz$ASoUsdGV2sOmi8XYkTuex"),  # short
        (8, "$9$dsYGNam3K1SIJO$7nv/35M/qr6t.dVc7UY9zrJDWRVqncHub1PE9UlMQFs"),  # wrong type
        (9, "$9$plz/kf0e3.dns$cKvJDd6bXmyaUWdx42dgcRwpdDs0djBEqzjlmMbYEW6"),  # salt of 13
        (7, "0822455D0A1"),
        (7, "99AA"),
        (3, "whatever"),
        (9, "\udcff"),
    ],
)
def test_malformed_stored_secrets_match_nothing(kind: int, stored: str) -> None:
    item = LocalUser(name="u", secret=Secret(stored.encode("utf-8", "surrogateescape")), kind=kind)
    assert not verify_password(item, "0foo0")
    assert not verify_password(item, "cisco")


def test_a_user_without_a_secret_matches_nothing() -> None:
    assert not verify_password(LocalUser(name="u", secret=None, kind=9), "")
