"""Pseudo-random functions: HMAC-SHA2 (RFC 4868), the legacy HMAC-MD5 and HMAC-SHA1
(RFC 2104), and prf+ (RFC 7296 section 2.13).

cryptography's HMAC is used rather than the stdlib's: it measured slightly faster per
call, and a keyed object can be copied, which saves re-keying for every prf+ block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, hmac

from engine.crypto.algorithms import PrfId
from engine.crypto.errors import CryptoError, UnsupportedAlgorithm

#: prf+ counts its blocks in one octet (RFC 7296 section 2.13).
MAX_PRF_PLUS_BLOCKS = 255


@dataclass(frozen=True, slots=True)
class Prf:
    """A negotiated PRF transform. `key_size` is the preferred key length (RFC 7296 2.13)."""

    transform_id: int
    name: str
    output_size: int
    key_size: int
    algorithm: hashes.HashAlgorithm = field(repr=False, compare=False)

    def __call__(self, key: bytes, data: bytes) -> bytes:
        mac = hmac.HMAC(key, self.algorithm)
        mac.update(data)
        return mac.finalize()

    def plus(self, key: bytes, seed: bytes, length: int) -> bytes:
        """prf+(K, S) = T1 | T2 | ... with T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n)."""
        blocks = -(-length // self.output_size)
        if length < 0 or blocks > MAX_PRF_PLUS_BLOCKS:
            raise CryptoError(f"prf+ cannot produce {length} bytes with {self.name}")
        keyed = hmac.HMAC(key, self.algorithm)
        out: list[bytes] = []
        block = b""
        for counter in range(1, blocks + 1):
            mac = keyed.copy()
            mac.update(block + seed + bytes((counter,)))
            block = mac.finalize()
            out.append(block)
        return b"".join(out)[:length]


_PRFS: dict[int, Prf] = {
    PrfId.HMAC_MD5: Prf(PrfId.HMAC_MD5, "hmac-md5", 16, 16, hashes.MD5()),
    PrfId.HMAC_SHA1: Prf(PrfId.HMAC_SHA1, "hmac-sha1", 20, 20, hashes.SHA1()),
    PrfId.HMAC_SHA2_256: Prf(PrfId.HMAC_SHA2_256, "hmac-sha2-256", 32, 32, hashes.SHA256()),
    PrfId.HMAC_SHA2_384: Prf(PrfId.HMAC_SHA2_384, "hmac-sha2-384", 48, 48, hashes.SHA384()),
    PrfId.HMAC_SHA2_512: Prf(PrfId.HMAC_SHA2_512, "hmac-sha2-512", 64, 64, hashes.SHA512()),
}


def prf(transform_id: int) -> Prf:
    """The PRF for an IKEv2 transform id; the objects are shared and stateless."""
    try:
        return _PRFS[transform_id]
    except KeyError:
        raise UnsupportedAlgorithm(f"PRF transform {transform_id} is not supported") from None
