"""Integrity transforms: RFC 4868 section 2.7.2 authenticator vectors, and RFC 2202's
HMAC-MD5 / HMAC-SHA1 vectors truncated to 96 bits (RFC 2403 / RFC 2404)."""

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


# RFC 2202 test cases 1-7 (sections 2 and 3), the first 96 bits of each digest; test case 5
# prints its 96-bit truncation itself ("digest-96").
LARGER_KEY_DATA = b"Test Using Larger Than Block-Size Key - Hash Key First"
LARGER_BOTH_DATA = b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"
RFC2202_96 = [
    (IntegId.HMAC_MD5_96, b"\x0b" * 16, HI_THERE, "9294727a3638bb1c13f48ef8"),
    (IntegId.HMAC_MD5_96, b"Jefe", JEFE_DATA, "750c783e6ab0b503eaa86e31"),
    (IntegId.HMAC_MD5_96, b"\xaa" * 16, b"\xdd" * 50, "56be34521d144c88dbb8c733"),
    (IntegId.HMAC_MD5_96, bytes(range(1, 26)), b"\xcd" * 50, "697eaf0aca3a3aea3a751647"),
    (IntegId.HMAC_MD5_96, b"\x0c" * 16, b"Test With Truncation", "56461ef2342edc00f9bab995"),
    (IntegId.HMAC_MD5_96, b"\xaa" * 80, LARGER_KEY_DATA, "6b1ab7fe4bd7bf8f0b62e6ce"),
    (IntegId.HMAC_MD5_96, b"\xaa" * 80, LARGER_BOTH_DATA, "6f630fad67cda0ee1fb1f562"),
    (IntegId.HMAC_SHA1_96, b"\x0b" * 20, HI_THERE, "b617318655057264e28bc0b6"),
    (IntegId.HMAC_SHA1_96, b"Jefe", JEFE_DATA, "effcdf6ae5eb2fa2d27416d5"),
    (IntegId.HMAC_SHA1_96, b"\xaa" * 20, b"\xdd" * 50, "125d7342b9ac11cd91a39af4"),
    (IntegId.HMAC_SHA1_96, bytes(range(1, 26)), b"\xcd" * 50, "4c9007f4026250c6bc8414f9"),
    (IntegId.HMAC_SHA1_96, b"\x0c" * 20, b"Test With Truncation", "4c1a03424b55e07fe7f27be1"),
    (IntegId.HMAC_SHA1_96, b"\xaa" * 80, LARGER_KEY_DATA, "aa4ae5e15272d00e95705637"),
    (IntegId.HMAC_SHA1_96, b"\xaa" * 80, LARGER_BOTH_DATA, "e8e99d0f45237d786d6bbaa7"),
]


@pytest.mark.parametrize(("integ_id", "key", "data", "expected"), RFC4868_AUTH + RFC2202_96)
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
        (IntegId.HMAC_MD5_96, "hmac-md5-96", 16, 12),
        (IntegId.HMAC_SHA1_96, "hmac-sha1-96", 20, 12),
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


@pytest.mark.parametrize("integ_id", [0, 3, 5, 12 + 3, 100])
def test_unsupported_integrity(integ_id: int) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        integrity(integ_id)
