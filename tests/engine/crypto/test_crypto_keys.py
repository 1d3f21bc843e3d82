"""Key derivation: NIST CAVP IKEv2 vectors, sizes, ordering, and repr hygiene."""

from __future__ import annotations

import hmac

import pytest

from engine.crypto.algorithms import EncrId, IntegId, PrfId
from engine.crypto.encryption import encryption
from engine.crypto.errors import CryptoError
from engine.crypto.integrity import integrity
from engine.crypto.keys import (
    ChildKeys,
    IkeKeys,
    derive_child_keys,
    derive_ike_keys,
    derive_rekeyed_ike_keys,
)
from engine.crypto.prf import prf

# NIST CAVP SP 800-135 IKEv2 KDF, SHA-256 case as carried by strongSwan
# (src/libstrongswan/plugins/test_vectors/test_vectors/kdf_prf.c prf_sha256_1 and
# kdf_prf_plus.c prf_plus_sha256_1): Ni | Nr is 16 bytes, DKM the first 132 bytes of
# SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr.
CAVP_GIR = bytes.fromhex(
    "42968e5d0ccc3cfc5a3e4bc1bba370cea1fae0d54c49ccba34b2bee804beeb2e"
    "9e8c57a4e01bd45102cf2433aacc6cfec06792f363e5170e6aa6650274e90664"
    "8e449d27a8f00b5b44261982c9835c748a751ec5138eaacc5e025661339538a6"
    "1bf418e454699e19c32db8d9ce5dd86b220f1e89afc5872e68be36cb1a0c8866"
)
CAVP_NI_NR = bytes.fromhex("ed80dc79912c32a935fb6d1a3feac078")
CAVP_SPIS = bytes.fromhex("47c1858efc932ea4606fd05609624002")
CAVP_DKM = bytes.fromhex(
    "63d018a08f7a29daa7d1f92cb63f45fa39bbaf5e5f1a78139613bb891e3e6bf9"
    "d0448f7c74e05b4c1a25c0b61e62c875e852f287e192d4ae536112db51972164"
    "00bd5e123470efc15f53161865fe8b19a1416518a157d651ecd2caddab6a9eae"
    "6a27a55af088218d5156edaa9789f934d9836ed43edffda553822202ff9f7d48"
    "60ca72e0"
)

PRF256 = prf(PrfId.HMAC_SHA2_256)
CBC256 = encryption(EncrId.AES_CBC, 256)
SHA256_128 = integrity(IntegId.HMAC_SHA2_256_128)


def concat(keys: IkeKeys) -> bytes:
    return b"".join(
        (keys.sk_d, keys.sk_ai, keys.sk_ar, keys.sk_ei, keys.sk_er, keys.sk_pi, keys.sk_pr)
    )


def test_derive_ike_keys_cavp_vector() -> None:
    keys = derive_ike_keys(
        PRF256,
        CBC256,
        SHA256_128,
        CAVP_NI_NR[:8],
        CAVP_NI_NR[8:],
        CAVP_GIR,
        CAVP_SPIS[:8],
        CAVP_SPIS[8:],
    )
    assert concat(keys)[: len(CAVP_DKM)] == CAVP_DKM
    assert keys.sk_d == CAVP_DKM[:32]
    assert keys.sk_ai == CAVP_DKM[32:64]


SUITES = [
    (PrfId.HMAC_SHA2_256, EncrId.AES_CBC, 128, IntegId.HMAC_SHA2_256_128),
    (PrfId.HMAC_SHA2_384, EncrId.AES_CBC, 256, IntegId.HMAC_SHA2_384_192),
    (PrfId.HMAC_SHA2_512, EncrId.AES_CBC, 256, IntegId.HMAC_SHA2_512_256),
    (PrfId.HMAC_SHA2_256, EncrId.AES_GCM_16, 128, None),
    (PrfId.HMAC_SHA2_384, EncrId.AES_GCM_16, 256, None),
    (PrfId.HMAC_SHA2_512, EncrId.CHACHA20_POLY1305, None, None),
]


@pytest.mark.parametrize(("prf_id", "encr_id", "bits", "integ_id"), SUITES)
def test_ike_key_sizes_and_halves(
    prf_id: int, encr_id: int, bits: int | None, integ_id: int | None
) -> None:
    p, e = prf(prf_id), encryption(encr_id, bits)
    integ = integrity(integ_id) if integ_id else None
    keys = derive_ike_keys(p, e, integ, b"n" * 32, b"N" * 32, b"g" * 64, b"i" * 8, b"r" * 8)
    a = integ.key_size if integ else 0
    assert [len(k) for k in (keys.sk_d, keys.sk_pi, keys.sk_pr)] == [p.key_size] * 3
    assert len(keys.sk_ai) == len(keys.sk_ar) == a
    assert len(keys.sk_ei) == len(keys.sk_er) == e.key_material_size
    assert keys.sk_ei != keys.sk_er
    assert keys.sk_pi != keys.sk_pr
    if integ:
        assert keys.sk_ai != keys.sk_ar
    # The whole stream is one prf+ output, in RFC 7296 section 2.14 order.
    skeyseed = p(b"n" * 32 + b"N" * 32, b"g" * 64)
    stream = p.plus(skeyseed, b"n" * 32 + b"N" * 32 + b"i" * 8 + b"r" * 8, len(concat(keys)))
    assert concat(keys) == stream


def test_ike_keys_need_8_byte_spis() -> None:
    with pytest.raises(CryptoError):
        derive_ike_keys(PRF256, CBC256, SHA256_128, b"n", b"N", b"g", b"i" * 4, b"r" * 8)


def test_rekeyed_ike_keys() -> None:
    # RFC 7296 section 2.18, with the old PRF (SHA-512) differing from the new one.
    old_prf = prf(PrfId.HMAC_SHA2_512)
    old_sk_d = b"D" * 64
    ni, nr, gir = b"n" * 32, b"N" * 32, b"g" * 32
    keys = derive_rekeyed_ike_keys(
        old_prf, old_sk_d, PRF256, CBC256, SHA256_128, gir, ni, nr, b"i" * 8, b"r" * 8
    )
    skeyseed = hmac.digest(old_sk_d, gir + ni + nr, "sha512")
    stream = PRF256.plus(skeyseed, ni + nr + b"i" * 8 + b"r" * 8, 32 * 3 + 32 * 2 + 32 * 2)
    assert concat(keys) == stream
    assert keys != derive_ike_keys(PRF256, CBC256, SHA256_128, ni, nr, gir, b"i" * 8, b"r" * 8)


@pytest.mark.parametrize(("prf_id", "encr_id", "bits", "integ_id"), SUITES)
def test_child_keys(prf_id: int, encr_id: int, bits: int | None, integ_id: int | None) -> None:
    p, e = prf(prf_id), encryption(encr_id, bits)
    integ = integrity(integ_id) if integ_id else None
    sk_d, ni, nr = b"d" * p.key_size, b"n" * 16, b"N" * 16
    keys = derive_child_keys(p, sk_d, e, integ, ni, nr)
    a = integ.key_size if integ else 0
    assert len(keys.encr_i) == len(keys.encr_r) == e.key_material_size
    assert len(keys.integ_i) == len(keys.integ_r) == a
    assert keys.encr_i != keys.encr_r
    if integ:
        assert keys.integ_i != keys.integ_r
    # RFC 7296 2.17: KEYMAT = prf+(SK_d, Ni | Nr), split as encr_i, integ_i, encr_r, integ_r.
    keymat = p.plus(sk_d, ni + nr, 2 * (e.key_material_size + a))
    assert keys.encr_i + keys.integ_i + keys.encr_r + keys.integ_r == keymat
    with_pfs = derive_child_keys(p, sk_d, e, integ, ni, nr, shared_secret=b"g" * 32)
    pfs_keymat = p.plus(sk_d, b"g" * 32 + ni + nr, len(keymat))
    assert with_pfs.encr_i + with_pfs.integ_i + with_pfs.encr_r + with_pfs.integ_r == pfs_keymat
    assert with_pfs != keys


def test_reprs_hide_every_key() -> None:
    ike = IkeKeys(*(bytes([0xA0 + n]) * 16 for n in range(7)))
    child = ChildKeys(*(bytes([0xB0 + n]) * 16 for n in range(4)))
    for text in (repr(ike), str(ike), repr(child), str(child)):
        for n in range(7):
            assert f"\\x{0xA0 + n:x}" not in text
        for n in range(4):
            assert f"\\x{0xB0 + n:x}" not in text
    assert repr(ike) == "IkeKeys()"
    assert repr(child) == "ChildKeys()"
