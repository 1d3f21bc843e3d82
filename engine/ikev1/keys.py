"""IKEv1 key material (RFC 2409 sections 5, 5.5 and appendix B).

Phase 1 with pre-shared keys: SKEYID = prf(PSK, Ni_b | Nr_b), then SKEYID_d, _a and _e;
the cipher key stretched from SKEYID_e when that is too short; the phase 1 IV from the
DH halves; one IV per later exchange from the last phase 1 block and its message ID;
HASH_I/HASH_R; quick mode's HASH(1..3) and KEYMAT. Nothing here reads a clock or
draws randomness, and no key shows in a repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes

from engine.crypto import Encryption, Integrity, Prf
from engine.crypto.algorithms import PrfId
from engine.crypto.prf import prf as prf_named
from engine.ikev1.constants import Phase1Hash

_PRF_OF_HASH = {
    Phase1Hash.MD5: PrfId.HMAC_MD5,
    Phase1Hash.SHA1: PrfId.HMAC_SHA1,
    Phase1Hash.SHA2_256: PrfId.HMAC_SHA2_256,
    Phase1Hash.SHA2_384: PrfId.HMAC_SHA2_384,
    Phase1Hash.SHA2_512: PrfId.HMAC_SHA2_512,
}


def phase1_prf(hash_id: int) -> Prf:
    """IKEv1's prf is the HMAC of the negotiated hash (RFC 2409 section 4)."""
    return prf_named(_PRF_OF_HASH[Phase1Hash(hash_id)])


def plain_hash(prf: Prf, data: bytes) -> bytes:
    digest = hashes.Hash(prf.algorithm)
    digest.update(data)
    return digest.finalize()


@dataclass(frozen=True, slots=True)
class Phase1Keys:
    skeyid: bytes = field(repr=False)
    skeyid_d: bytes = field(repr=False)
    skeyid_a: bytes = field(repr=False)
    skeyid_e: bytes = field(repr=False)
    #: the phase 1 cipher key (SKEYID_e stretched or cut to the cipher's key size)
    key: bytes = field(repr=False)


def derive_phase1_keys(
    prf: Prf,
    encryption: Encryption,
    psk: bytes,
    nonce_i: bytes,
    nonce_r: bytes,
    shared_secret: bytes,
    cookie_i: bytes,
    cookie_r: bytes,
) -> Phase1Keys:
    skeyid = prf(psk, nonce_i + nonce_r)
    tail = shared_secret + cookie_i + cookie_r
    skeyid_d = prf(skeyid, tail + b"\x00")
    skeyid_a = prf(skeyid, skeyid_d + tail + b"\x01")
    skeyid_e = prf(skeyid, skeyid_a + tail + b"\x02")
    return Phase1Keys(
        skeyid, skeyid_d, skeyid_a, skeyid_e, stretch_key(prf, skeyid_e, encryption.key_size)
    )


def stretch_key(prf: Prf, skeyid_e: bytes, size: int) -> bytes:
    """Appendix B: Ka = K1 | K2 | ..., K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1)."""
    if len(skeyid_e) >= size:
        return skeyid_e[:size]
    blocks: list[bytes] = []
    block = b"\x00"
    while sum(map(len, blocks)) < size:
        block = prf(skeyid_e, block)
        blocks.append(block)
    return b"".join(blocks)[:size]


def phase1_iv(prf: Prf, public_i: bytes, public_r: bytes, block_size: int) -> bytes:
    return plain_hash(prf, public_i + public_r)[:block_size]


def exchange_iv(prf: Prf, last_phase1_block: bytes, message_id: int, block_size: int) -> bytes:
    """The first IV of a quick mode, informational or transaction exchange (section 5.5)."""
    return plain_hash(prf, last_phase1_block + message_id.to_bytes(4, "big"))[:block_size]


def hash_i(
    prf: Prf,
    skeyid: bytes,
    public_i: bytes,
    public_r: bytes,
    cookie_i: bytes,
    cookie_r: bytes,
    sa_i_body: bytes,
    id_i_body: bytes,
) -> bytes:
    return prf(skeyid, public_i + public_r + cookie_i + cookie_r + sa_i_body + id_i_body)


def hash_r(
    prf: Prf,
    skeyid: bytes,
    public_i: bytes,
    public_r: bytes,
    cookie_i: bytes,
    cookie_r: bytes,
    sa_i_body: bytes,
    id_r_body: bytes,
) -> bytes:
    return prf(skeyid, public_r + public_i + cookie_r + cookie_i + sa_i_body + id_r_body)


def protected_hash(prf: Prf, skeyid_a: bytes, message_id: int, payloads: bytes) -> bytes:
    """HASH(1) of quick mode, informational and transaction messages: prf(SKEYID_a,
    M-ID | the payloads after the HASH payload, with their generic headers)."""
    return prf(skeyid_a, message_id.to_bytes(4, "big") + payloads)


def quick_hash_2(
    prf: Prf, skeyid_a: bytes, message_id: int, nonce_i: bytes, payloads: bytes
) -> bytes:
    return prf(skeyid_a, message_id.to_bytes(4, "big") + nonce_i + payloads)


def quick_hash_3(
    prf: Prf, skeyid_a: bytes, message_id: int, nonce_i: bytes, nonce_r: bytes
) -> bytes:
    return prf(skeyid_a, b"\x00" + message_id.to_bytes(4, "big") + nonce_i + nonce_r)


def keymat(
    prf: Prf,
    skeyid_d: bytes,
    protocol: int,
    spi: bytes,
    nonce_i: bytes,
    nonce_r: bytes,
    size: int,
    shared_secret: bytes = b"",
) -> bytes:
    """KEYMAT for the SA whose receiver chose `spi` (section 5.5), stretched as
    K1 = prf(SKEYID_d, seed), Kn = prf(SKEYID_d, Kn-1 | seed)."""
    seed = shared_secret + bytes((protocol,)) + spi + nonce_i + nonce_r
    blocks: list[bytes] = []
    block = b""
    while sum(map(len, blocks)) < size:
        block = prf(skeyid_d, block + seed)
        blocks.append(block)
    return b"".join(blocks)[:size]


def esp_key_size(encryption: Encryption, integrity: Integrity | None) -> int:
    return encryption.key_material_size + (integrity.key_size if integrity else 0)


def split_esp_keys(
    material: bytes, encryption: Encryption, integrity: Integrity | None
) -> tuple[bytes, bytes]:
    """(cipher key, integrity key): the cipher's bits come first (RFC 2409 section 5.5)."""
    e = encryption.key_material_size
    a = integrity.key_size if integrity else 0
    return material[:e], material[e : e + a]
