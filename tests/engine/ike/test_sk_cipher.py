"""The SK payload: RFC 7634's IKEv2 example, round trips, and tamper detection."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.crypto.algorithms import EncrId, IntegId
from engine.crypto.encryption import Encryption, encryption
from engine.crypto.errors import CryptoError
from engine.crypto.integrity import Integrity, integrity
from engine.ike.errors import IntegrityError, LocalProtocolError
from engine.ike.sk_cipher import SkCipher

SUITES = [
    (EncrId.AES_CBC, 128, IntegId.HMAC_SHA2_256_128),
    (EncrId.AES_CBC, 128, IntegId.HMAC_SHA2_384_192),
    (EncrId.AES_CBC, 128, IntegId.HMAC_SHA2_512_256),
    (EncrId.AES_CBC, 256, IntegId.HMAC_SHA2_256_128),
    (EncrId.AES_CBC, 256, IntegId.HMAC_SHA2_384_192),
    (EncrId.AES_CBC, 256, IntegId.HMAC_SHA2_512_256),
    (EncrId.AES_GCM_16, 128, None),
    (EncrId.AES_GCM_16, 256, None),
    (EncrId.CHACHA20_POLY1305, None, None),
]
SUITE_IDS = [f"{encryption(e, b).name}+{integrity(i).name if i else 'aead'}" for e, b, i in SUITES]

# An IKE header (28 bytes) and an SK generic payload header (4 bytes).
ASSOCIATED = bytes(range(16)) + bytes.fromhex("2e202508000000010000006c29000050")


def make(suite: tuple[int, int | None, int | None]) -> tuple[SkCipher, Encryption]:
    encr_id, bits, integ_id = suite
    encr = encryption(encr_id, bits)
    integ: Integrity | None = integrity(integ_id) if integ_id else None
    sk_e = os.urandom(encr.key_material_size)
    sk_a = os.urandom(integ.key_size) if integ else b""
    return SkCipher(encr, integ, sk_e, sk_a), encr


def test_rfc7634_ikev2_example() -> None:
    # RFC 7634 Appendix B: an INFORMATIONAL request protected with ChaCha20-Poly1305.
    encr = encryption(EncrId.CHACHA20_POLY1305, None)
    sk_e = bytes(range(0x80, 0xA4))  # key || salt a0a1a2a3
    associated = bytes.fromhex("c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e202500000000090000004529000029")
    iv = bytes.fromhex("1011121314151617")
    plaintext = bytes.fromhex("0000000c000040010000000a")  # a Notify payload
    expected = bytes.fromhex(
        "610394701f8d017f7c129248896b71bf"  # encrypted payload || pad length 0
        "e25236efd7cdc67066906315b2"
    )
    cipher = SkCipher(encr, None, sk_e, b"")
    sealed = cipher.seal(associated, plaintext, iv)
    assert sealed == iv + expected
    assert cipher.sealed_length(len(plaintext)) == len(sealed) == 0x29 - 4
    assert cipher.open(associated, sealed) == plaintext


@pytest.mark.parametrize("suite", SUITES, ids=SUITE_IDS)
def test_round_trip_and_sealed_length(suite: tuple[int, int | None, int | None]) -> None:
    cipher, encr = make(suite)
    for length in range(0, 70):
        plaintext = os.urandom(length)
        iv = os.urandom(cipher.iv_size)
        sealed = cipher.seal(ASSOCIATED, plaintext, iv)
        assert sealed[: cipher.iv_size] == iv
        assert len(sealed) == cipher.sealed_length(length)
        ciphertext_len = len(sealed) - cipher.iv_size - cipher.icv_size
        assert ciphertext_len % encr.block_size == 0
        if encr.is_aead:
            assert ciphertext_len == length + 1  # no padding, just the pad length byte
        else:
            assert ciphertext_len - (length + 1) < 16
        assert cipher.open(ASSOCIATED, sealed) == plaintext


@pytest.mark.parametrize("suite", SUITES, ids=SUITE_IDS)
def test_any_flipped_bit_is_detected(suite: tuple[int, int | None, int | None]) -> None:
    cipher, _ = make(suite)
    sealed = cipher.seal(ASSOCIATED, b"payload chain", os.urandom(cipher.iv_size))
    for index in range(len(ASSOCIATED)):
        for bit in range(8):
            bad = bytearray(ASSOCIATED)
            bad[index] ^= 1 << bit
            with pytest.raises(IntegrityError):
                cipher.open(bytes(bad), sealed)
    for index in range(len(sealed)):
        for bit in range(8):
            bad = bytearray(sealed)
            bad[index] ^= 1 << bit
            with pytest.raises(IntegrityError):
                cipher.open(ASSOCIATED, bytes(bad))


@pytest.mark.parametrize("suite", SUITES, ids=SUITE_IDS)
def test_truncated_or_extended_body_is_detected(suite: tuple[int, int | None, int | None]) -> None:
    cipher, _ = make(suite)
    sealed = cipher.seal(ASSOCIATED, b"x" * 40, os.urandom(cipher.iv_size))
    for length in range(len(sealed)):
        with pytest.raises(IntegrityError):
            cipher.open(ASSOCIATED, sealed[:length])
        with pytest.raises(IntegrityError):
            cipher.open(ASSOCIATED, sealed[len(sealed) - length :] if length else b"")
    with pytest.raises(IntegrityError):
        cipher.open(ASSOCIATED, sealed + b"\x00")


@pytest.mark.parametrize("suite", SUITES, ids=SUITE_IDS)
def test_keys_are_direction_specific(suite: tuple[int, int | None, int | None]) -> None:
    sender, _ = make(suite)
    other, _ = make(suite)
    sealed = sender.seal(ASSOCIATED, b"hello", os.urandom(sender.iv_size))
    with pytest.raises(IntegrityError):
        other.open(ASSOCIATED, sealed)


def cbc_parts() -> tuple[SkCipher, Integrity, bytes, bytes]:
    encr = encryption(EncrId.AES_CBC, 128)
    integ = integrity(IntegId.HMAC_SHA2_256_128)
    sk_e, sk_a = os.urandom(16), os.urandom(32)
    return SkCipher(encr, integ, sk_e, sk_a), integ, sk_e, sk_a


def cbc_seal_raw(sk_e: bytes, sk_a: bytes, integ: Integrity, padded: bytes) -> bytes:
    """Encrypt exactly `padded` (already holding padding and pad length) with a valid ICV."""
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(sk_e), modes.CBC(iv)).encryptor()
    body = iv + encryptor.update(padded) + encryptor.finalize()
    return body + integ.compute(sk_a, ASSOCIATED + body)


def test_cbc_accepts_any_valid_padding_length() -> None:
    cipher, integ, sk_e, sk_a = cbc_parts()
    # RFC 7296 section 3.14: the receiver must accept padding of any length up to 255.
    padded = b"abc" + bytes(28) + bytes((28,))
    assert cipher.open(ASSOCIATED, cbc_seal_raw(sk_e, sk_a, integ, padded)) == b"abc"
    only_padding = bytes(31) + bytes((31,))
    assert cipher.open(ASSOCIATED, cbc_seal_raw(sk_e, sk_a, integ, only_padding)) == b""


def test_cbc_pad_length_too_large_is_an_integrity_error() -> None:
    cipher, integ, sk_e, sk_a = cbc_parts()
    for pad in (16, 200, 255):
        with pytest.raises(IntegrityError):
            cipher.open(ASSOCIATED, cbc_seal_raw(sk_e, sk_a, integ, bytes(15) + bytes((pad,))))


def test_cbc_unaligned_ciphertext_is_an_integrity_error() -> None:
    cipher, integ, _, sk_a = cbc_parts()
    body = os.urandom(16 + 17)  # IV and 17 bytes of "ciphertext", with a valid ICV
    with pytest.raises(IntegrityError):
        cipher.open(ASSOCIATED, body + integ.compute(sk_a, ASSOCIATED + body))


@pytest.mark.parametrize("transform_id", [EncrId.AES_GCM_16, EncrId.CHACHA20_POLY1305])
def test_aead_pad_length_too_large_is_an_integrity_error(transform_id: int) -> None:
    encr = encryption(transform_id, 128 if transform_id == EncrId.AES_GCM_16 else None)
    sk_e = os.urandom(encr.key_material_size)
    cipher = SkCipher(encr, None, sk_e, b"")
    iv = os.urandom(8)
    for padded in (b"\x01", b"a\x02", b"\xff"):
        ciphertext = encr.aead(sk_e).encrypt(encr.nonce(sk_e, iv), padded, ASSOCIATED)
        with pytest.raises(IntegrityError):
            cipher.open(ASSOCIATED, iv + ciphertext)
    # ...but padding that fits is accepted (RFC 5282 does not forbid it).
    ciphertext = encr.aead(sk_e).encrypt(encr.nonce(sk_e, iv), b"hi\x00\x00\x02", ASSOCIATED)
    assert cipher.open(ASSOCIATED, iv + ciphertext) == b"hi"


def test_construction_errors() -> None:
    cbc = encryption(EncrId.AES_CBC, 256)
    gcm = encryption(EncrId.AES_GCM_16, 256)
    sha = integrity(IntegId.HMAC_SHA2_256_128)
    with pytest.raises((LocalProtocolError, CryptoError)):
        SkCipher(cbc, None, bytes(32), b"")
    with pytest.raises((LocalProtocolError, CryptoError)):
        SkCipher(gcm, sha, bytes(36), bytes(32))
    with pytest.raises((LocalProtocolError, CryptoError)):
        SkCipher(gcm, None, bytes(36), bytes(32))
    with pytest.raises((LocalProtocolError, CryptoError)):
        SkCipher(gcm, None, bytes(32), b"")
    with pytest.raises((LocalProtocolError, CryptoError)):
        SkCipher(cbc, sha, bytes(16), bytes(32))
    with pytest.raises((LocalProtocolError, CryptoError)):
        SkCipher(cbc, sha, bytes(32), bytes(16))
    with pytest.raises((LocalProtocolError, CryptoError)):
        SkCipher(cbc, sha, bytes(32), bytes(32)).seal(ASSOCIATED, b"", bytes(8))
    with pytest.raises(LocalProtocolError):
        SkCipher(gcm, None, bytes(36), b"").seal(ASSOCIATED, b"", bytes(16))


def test_repr_hides_keys() -> None:
    sk_e, sk_a = b"\x11" * 32, b"\x22" * 32
    cipher = SkCipher(
        encryption(EncrId.AES_CBC, 256), integrity(IntegId.HMAC_SHA2_256_128), sk_e, sk_a
    )
    text = repr(cipher)
    assert "aes-cbc-256" in text
    assert "11" not in text
    assert "22" not in text
    assert "\\x11" not in text


@pytest.mark.parametrize("suite", SUITES, ids=SUITE_IDS)
@settings(max_examples=150, deadline=None)
@given(associated=st.binary(max_size=40), body=st.binary(max_size=120))
def test_open_on_arbitrary_input_raises_only_integrity_error(
    suite: tuple[int, int | None, int | None], associated: bytes, body: bytes
) -> None:
    encr_id, bits, integ_id = suite
    encr = encryption(encr_id, bits)
    integ = integrity(integ_id) if integ_id else None
    cipher = SkCipher(
        encr, integ, b"\x01" * encr.key_material_size, b"\x02" * (integ.key_size if integ else 0)
    )
    with pytest.raises(IntegrityError):
        cipher.open(associated, body)
