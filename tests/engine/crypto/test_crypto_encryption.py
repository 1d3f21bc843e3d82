"""Encryption transforms: sizes, lookup, AEAD vectors through `Encryption.aead`, and 3DES
vectors (NIST SP 800-67, SP 800-20) through `Encryption.block_cipher`."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from engine.crypto.algorithms import EncrId
from engine.crypto.encryption import encryption
from engine.crypto.errors import CryptoError, UnsupportedAlgorithm


@pytest.mark.parametrize(
    ("transform_id", "key_bits", "name", "aead", "key", "salt", "iv", "block", "icv"),
    [
        (EncrId.AES_CBC, 128, "aes-cbc-128", False, 16, 0, 16, 16, 0),
        (EncrId.AES_CBC, 192, "aes-cbc-192", False, 24, 0, 16, 16, 0),
        (EncrId.AES_CBC, 256, "aes-cbc-256", False, 32, 0, 16, 16, 0),
        (EncrId.AES_GCM_16, 128, "aes-gcm-128", True, 16, 4, 8, 1, 16),
        (EncrId.AES_GCM_16, 192, "aes-gcm-192", True, 24, 4, 8, 1, 16),
        (EncrId.AES_GCM_16, 256, "aes-gcm-256", True, 32, 4, 8, 1, 16),
        (EncrId.CHACHA20_POLY1305, None, "chacha20-poly1305", True, 32, 4, 8, 1, 16),
        (EncrId.CHACHA20_POLY1305, 256, "chacha20-poly1305", True, 32, 4, 8, 1, 16),
        (EncrId.DES_3DES, None, "3des", False, 24, 0, 8, 8, 0),
        (EncrId.NULL, None, "null", False, 0, 0, 0, 4, 0),
    ],
)
def test_attributes(
    transform_id: int,
    key_bits: int | None,
    name: str,
    aead: bool,
    key: int,
    salt: int,
    iv: int,
    block: int,
    icv: int,
) -> None:
    e = encryption(int(transform_id), key_bits)
    assert e.transform_id == transform_id
    assert e.key_bits == (key_bits or {EncrId.DES_3DES: 192, EncrId.NULL: 0}.get(transform_id, 256))
    assert (e.name, e.is_aead, e.key_size, e.salt_size) == (name, aead, key, salt)
    assert (e.iv_size, e.block_size, e.icv_size) == (iv, block, icv)
    assert e.key_material_size == key + salt


@pytest.mark.parametrize(
    ("transform_id", "key_bits"),
    [
        (EncrId.AES_CBC, None),
        (EncrId.AES_GCM_16, None),
        (EncrId.AES_CBC, 64),
        (EncrId.AES_GCM_16, 512),
        (EncrId.CHACHA20_POLY1305, 128),
        (EncrId.DES_3DES, 192),  # 3DES takes no Key Length attribute
        (EncrId.NULL, 128),
        (2, None),  # single DES
        (18, 128),  # AES-GCM with an 8-byte ICV
        (19, 128),  # AES-GCM with a 12-byte ICV
        (13, 128),  # AES-CTR
    ],
)
def test_unsupported(transform_id: int, key_bits: int | None) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        encryption(transform_id, key_bits)


# McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)" (revised spec), test cases
# 4, 10 and 16, with a 12-byte IV split as salt || IV the way RFC 4106 does (the form used
# in strongSwan's test_vectors/aes_gcm.c). The key material is key || salt.
GCM_PLAIN = bytes.fromhex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
)
GCM_AAD = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
GCM_IV = bytes.fromhex("facedbaddecaf888")
GCM_CASES = [
    (
        128,
        "feffe9928665731c6d6a8f9467308308cafebabe",
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
        "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
        "5bc94fbc3221a5db94fae95ae7121a47",
    ),
    (
        192,
        "feffe9928665731c6d6a8f9467308308feffe9928665731ccafebabe",
        "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
        "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710"
        "2519498e80f1478f37ba55bd6d27618c",
    ),
    (
        256,
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308cafebabe",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        "76fc6ece0f4e1768cddf8853bb2d551b",
    ),
]


@pytest.mark.parametrize(("bits", "key_material", "expected"), GCM_CASES)
def test_aes_gcm_mcgrew_viega(bits: int, key_material: str, expected: str) -> None:
    e = encryption(EncrId.AES_GCM_16, bits)
    km = bytes.fromhex(key_material)
    cipher = e.aead(km)
    nonce = e.nonce(km, GCM_IV)
    assert nonce == bytes.fromhex("cafebabefacedbaddecaf888")
    assert cipher.encrypt(nonce, GCM_PLAIN, GCM_AAD) == bytes.fromhex(expected)
    assert cipher.decrypt(nonce, bytes.fromhex(expected), GCM_AAD) == GCM_PLAIN


def test_chacha20_poly1305_rfc8439_section_2_8_2() -> None:
    # RFC 8439 (formerly RFC 7539) section 2.8.2; nonce 07000000 || 4041424344454647,
    # whose first four bytes play the RFC 7634 salt.
    e = encryption(EncrId.CHACHA20_POLY1305, None)
    km = bytes(range(0x80, 0xA0)) + bytes.fromhex("07000000")
    iv = bytes.fromhex("4041424344454647")
    aad = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
    plain = (
        b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
        b"the future, sunscreen would be it."
    )
    expected = bytes.fromhex(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
        "3ff4def08e4b7a9de576d26586cec64b6116"
        "1ae10b594f09e26a7e902ecbd0600691"  # the tag
    )
    assert e.nonce(km, iv) == bytes.fromhex("070000004041424344454647")
    assert e.aead(km).encrypt(e.nonce(km, iv), plain, aad) == expected


def test_chacha20_poly1305_rfc7634_esp_example() -> None:
    # RFC 7634 Appendix A: the ESP example (KEYMAT = key || salt a0a1a2a3).
    e = encryption(EncrId.CHACHA20_POLY1305, None)
    km = bytes(range(0x80, 0xA4))
    iv = bytes.fromhex("1011121314151617")
    aad = bytes.fromhex("0102030400000005")
    plain = bytes.fromhex(
        "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
        "0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
        "2425262728292a2b2c2d2e2f303132333435363701020204"
    )
    expected = bytes.fromhex(
        "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
        "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
        "cbec163fac469b502773f6fb94e664da9165b82829f641e0"
        "76aaa8266b7fb0f7b11b369907e1ad43"
    )
    assert e.aead(km).encrypt(e.nonce(km, iv), plain, aad) == expected


def test_aead_misuse_is_a_local_error() -> None:
    with pytest.raises(CryptoError):
        encryption(EncrId.AES_CBC, 128).aead(bytes(16))
    gcm = encryption(EncrId.AES_GCM_16, 128)
    with pytest.raises(CryptoError):
        gcm.aead(bytes(16))  # the salt is missing
    with pytest.raises(CryptoError):
        gcm.nonce(bytes(21), bytes(8))
    assert gcm.salt(bytes(16) + b"salt") == b"salt"


def test_repr_names_the_transform() -> None:
    assert "aes-gcm-256" in repr(encryption(EncrId.AES_GCM_16, 256))


# --- 3DES-CBC ------------------------------------------------------------------------
# NIST SP 800-67 Rev. 1 appendix B: three keys, ECB, the example's own plaintext (with
# its typo "qufck").
SP800_67_KEY = "0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123"
SP800_67_PLAIN = b"The qufck brown fox jump"
SP800_67_CIPHER = "A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900"
# NIST SP 800-20 (TMOVS) with K1 = K2 = K3: the variable-plaintext test's first two
# rounds and the variable-key test's first round, (key, plaintext, ciphertext).
SP800_20 = [
    ("0101010101010101", "8000000000000000", "95F8A5E5DD31D900"),
    ("0101010101010101", "4000000000000000", "DD7F121CA5015619"),
    ("8001010101010101", "0000000000000000", "95A8D72813DAA94D"),
]


def _tdes_ecb(key: bytes, plain: bytes) -> bytes:
    """ECB through CBC: each block alone, with an all-zero IV."""
    algorithm = encryption(EncrId.DES_3DES, None).block_cipher(key)
    out = b""
    for i in range(0, len(plain), 8):
        encryptor = Cipher(algorithm, modes.CBC(bytes(8))).encryptor()
        out += encryptor.update(plain[i : i + 8]) + encryptor.finalize()
    return out


def test_3des_sp800_67_example() -> None:
    key = bytes.fromhex(SP800_67_KEY)
    assert _tdes_ecb(key, SP800_67_PLAIN) == bytes.fromhex(SP800_67_CIPHER)


@pytest.mark.parametrize(("key", "plain", "cipher"), SP800_20)
def test_3des_sp800_20_vectors(key: str, plain: str, cipher: str) -> None:
    assert _tdes_ecb(bytes.fromhex(key) * 3, bytes.fromhex(plain)) == bytes.fromhex(cipher)


def test_3des_cbc_chains_with_an_8_byte_iv() -> None:
    # CBC by hand from the SP 800-67 ECB blocks: C1 = E(P1 xor IV), C2 = E(P2 xor C1).
    key = bytes.fromhex(SP800_67_KEY)
    iv = bytes(range(8))
    p1, p2 = SP800_67_PLAIN[:8], SP800_67_PLAIN[8:16]
    c1 = _tdes_ecb(key, bytes(a ^ b for a, b in zip(p1, iv, strict=True)))
    c2 = _tdes_ecb(key, bytes(a ^ b for a, b in zip(p2, c1, strict=True)))
    algorithm = encryption(EncrId.DES_3DES, None).block_cipher(key)
    encryptor = Cipher(algorithm, modes.CBC(iv)).encryptor()
    assert encryptor.update(p1 + p2) + encryptor.finalize() == c1 + c2


def test_block_cipher_only_for_cbc_ciphers_and_checks_the_key() -> None:
    with pytest.raises(CryptoError):
        encryption(EncrId.DES_3DES, None).block_cipher(bytes(16))
    with pytest.raises(CryptoError):
        encryption(EncrId.NULL, None).block_cipher(b"")
    with pytest.raises(CryptoError):
        encryption(EncrId.AES_GCM_16, 128).block_cipher(bytes(20))
    assert encryption(EncrId.NULL, None).is_null
    assert not encryption(EncrId.AES_CBC, 128).is_null
