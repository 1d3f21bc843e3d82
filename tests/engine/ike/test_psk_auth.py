"""Shared-key AUTH (RFC 7296 section 2.15)."""

from __future__ import annotations

import hmac

import pytest

from engine.crypto.algorithms import PrfId
from engine.crypto.prf import prf
from engine.ike.psk_auth import KEY_PAD, auth_matches, psk_auth

MESSAGE = b"first IKE message as sent" * 4
PEER_NONCE = b"N" * 32
SK_P = b"p" * 32
ID_BODY = bytes((2, 0, 0, 0)) + b"gw.example.org"  # ID_FQDN


@pytest.mark.parametrize(
    ("prf_id", "digest"),
    [
        (PrfId.HMAC_SHA2_256, "sha256"),
        (PrfId.HMAC_SHA2_384, "sha384"),
        (PrfId.HMAC_SHA2_512, "sha512"),
    ],
)
def test_psk_auth_matches_the_rfc_formula(prf_id: int, digest: str) -> None:
    psk = b"correct horse battery staple"
    # AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <InitiatorSignedOctets>), written out
    # independently with the standard library.
    key = hmac.digest(psk, b"Key Pad for IKEv2", digest)
    maced_id = hmac.digest(SK_P, ID_BODY, digest)
    expected = hmac.digest(key, MESSAGE + PEER_NONCE + maced_id, digest)
    assert psk_auth(prf(prf_id), psk, MESSAGE, PEER_NONCE, SK_P, ID_BODY) == expected


def test_key_pad_has_no_terminator() -> None:
    assert KEY_PAD == b"Key Pad for IKEv2"
    assert len(KEY_PAD) == 17


def test_every_input_matters() -> None:
    p = prf(PrfId.HMAC_SHA2_256)
    base = psk_auth(p, b"psk", MESSAGE, PEER_NONCE, SK_P, ID_BODY)
    variants = [
        psk_auth(p, b"psK", MESSAGE, PEER_NONCE, SK_P, ID_BODY),
        psk_auth(p, b"psk", MESSAGE + b"x", PEER_NONCE, SK_P, ID_BODY),
        psk_auth(p, b"psk", MESSAGE, b"n" * 32, SK_P, ID_BODY),
        psk_auth(p, b"psk", MESSAGE, PEER_NONCE, b"P" * 32, ID_BODY),
        psk_auth(p, b"psk", MESSAGE, PEER_NONCE, SK_P, ID_BODY + b"."),
    ]
    assert all(v != base for v in variants)


def test_auth_matches() -> None:
    value = b"\x01" * 32
    assert auth_matches(value, bytes(value))
    assert not auth_matches(value, b"\x01" * 31 + b"\x00")
    assert not auth_matches(value, value[:-1])
    assert not auth_matches(value, b"")
