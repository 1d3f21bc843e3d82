"""Integrity transforms: RFC 4868 section 2.7.2 authenticator vectors."""

from __future__ import annotations

import pytest

from engine.crypto.algorithms import IntegId
from engine.crypto.errors import UnsupportedAlgorithm
from engine.crypto.integrity import integrity

HI_THERE = b"Hi There"
JEFE_DATA = b"what do ya want for nothing?"

# RFC 4868 section 2.7.2, test cases AUTH256-1..3, AUTH384-1..3, AUTH512-1..3
# (copied via strongSwan's test_vectors/sha2_hmac.c): (integ, key, data, truncated output).
RFC4868_AUTH = [
    (IntegId.HMAC_SHA2_256_128, b"\x0b" * 32, HI_THERE, "198a607eb44bfbc69903a0f1cf2bbdc5"),
    (IntegId.HMAC_SHA2_256_128, b"Jefe" * 8, JEFE_DATA, "167f928588c5cc2eef8e3093caa0e87c"),
    (IntegId.HMAC_SHA2_256_128, b"\xaa" * 32, b"\xdd" * 50, "cdcb1220d1ecccea91e53aba3092f962"),
    (
        IntegId.HMAC_SHA2_384_192,
        b"\x0b" * 48,
        HI_THERE,
        "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973",
    ),
    (
        IntegId.HMAC_SHA2_384_192,
        b"Jefe" * 12,
        JEFE_DATA,
        "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d",
    ),
    (
        IntegId.HMAC_SHA2_384_192,
        b"\xaa" * 48,
        b"\xdd" * 50,
        "809f439be00274321d4a538652164b53554a508184a0c316",
    ),
    (
        IntegId.HMAC_SHA2_512_256,
        b"\x0b" * 64,
        HI_THERE,
        "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8",
    ),
    (
        IntegId.HMAC_SHA2_512_256,
        b"Jefe" * 16,
        JEFE_DATA,
        "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454",
    ),
    (
        IntegId.HMAC_SHA2_512_256,
        b"\xaa" * 64,
        b"\xdd" * 50,
        "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8",
    ),
]


@pytest.mark.parametrize(("integ_id", "key", "data", "expected"), RFC4868_AUTH)
def test_rfc4868_authenticator_vectors(
    integ_id: int, key: bytes, data: bytes, expected: str
) -> None:
    integ = integrity(integ_id)
    icv = bytes.fromhex(expected)
    assert integ.compute(key, data) == icv
    assert integ.verify(key, data, icv)
    assert not integ.verify(key, data + b"\x00", icv)
    assert not integ.verify(key, data, icv[:-1])
    assert not integ.verify(key, data, bytes([icv[0] ^ 1]) + icv[1:])


@pytest.mark.parametrize(
    ("integ_id", "name", "key_size", "icv_size"),
    [
        (IntegId.HMAC_SHA2_256_128, "hmac-sha2-256-128", 32, 16),
        (IntegId.HMAC_SHA2_384_192, "hmac-sha2-384-192", 48, 24),
        (IntegId.HMAC_SHA2_512_256, "hmac-sha2-512-256", 64, 32),
    ],
)
def test_integrity_attributes(integ_id: int, name: str, key_size: int, icv_size: int) -> None:
    integ = integrity(int(integ_id))
    assert (integ.transform_id, integ.name, integ.key_size, integ.icv_size) == (
        integ_id,
        name,
        key_size,
        icv_size,
    )
    assert len(integ.compute(bytes(key_size), b"")) == icv_size


@pytest.mark.parametrize("integ_id", [0, 1, 2, 5, 12 + 3, 100])
def test_unsupported_integrity(integ_id: int) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        integrity(integ_id)
