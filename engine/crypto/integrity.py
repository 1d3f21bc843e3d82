"""Integrity transforms: HMAC-SHA2 truncated to half its output (RFC 4868 section 2), and
the legacy HMAC-MD5-96 / HMAC-SHA1-96 (RFC 2403 / RFC 2404: 96 bits of the MAC, the key
as long as the hash output)."""

from __future__ import annotations

import hmac as stdlib_hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, hmac

from engine.crypto.algorithms import IntegId
from engine.crypto.errors import UnsupportedAlgorithm


@dataclass(frozen=True, slots=True)
class Integrity:
    """A negotiated INTEG transform; RFC 4868 (and RFC 2403/2404) fix the key at the hash
    output size."""

    transform_id: int
    name: str
    key_size: int
    icv_size: int
    algorithm: hashes.HashAlgorithm = field(repr=False, compare=False)

    def compute(self, key: bytes, data: bytes) -> bytes:
        mac = hmac.HMAC(key, self.algorithm)
        mac.update(data)
        return mac.finalize()[: self.icv_size]

    def verify(self, key: bytes, data: bytes, icv: bytes) -> bool:
        """Constant-time comparison, so a forger learns nothing from timing."""
        return stdlib_hmac.compare_digest(self.compute(key, data), icv)


_INTEGS: dict[int, Integrity] = {
    IntegId.HMAC_MD5_96: Integrity(IntegId.HMAC_MD5_96, "hmac-md5-96", 16, 12, hashes.MD5()),
    IntegId.HMAC_SHA1_96: Integrity(IntegId.HMAC_SHA1_96, "hmac-sha1-96", 20, 12, hashes.SHA1()),
    IntegId.HMAC_SHA2_256_128: Integrity(
        IntegId.HMAC_SHA2_256_128, "hmac-sha2-256-128", 32, 16, hashes.SHA256()
    ),
    IntegId.HMAC_SHA2_384_192: Integrity(
        IntegId.HMAC_SHA2_384_192, "hmac-sha2-384-192", 48, 24, hashes.SHA384()
    ),
    IntegId.HMAC_SHA2_512_256: Integrity(
        IntegId.HMAC_SHA2_512_256, "hmac-sha2-512-256", 64, 32, hashes.SHA512()
    ),
}


def integrity(transform_id: int) -> Integrity:
    """The integrity algorithm for an IKEv2 transform id (shared, stateless)."""
    try:
        return _INTEGS[transform_id]
    except KeyError:
        raise UnsupportedAlgorithm(f"integrity transform {transform_id} is not supported") from None


#: the names events and screens use ("sha256"), and the transforms' own
_SHORT = {
    IntegId.HMAC_MD5_96: "md5",
    IntegId.HMAC_SHA1_96: "sha1",
    IntegId.HMAC_SHA2_256_128: "sha256",
    IntegId.HMAC_SHA2_384_192: "sha384",
    IntegId.HMAC_SHA2_512_256: "sha512",
}
_BY_NAME: dict[str, Integrity] = {
    **{i.name: i for i in _INTEGS.values()},
    **{short: _INTEGS[integ_id] for integ_id, short in _SHORT.items()},
}


def short_name(integ: Integrity | None) -> str:
    """`sha256` for HMAC-SHA2-256-128, `none` for an AEAD's missing integrity."""
    return "none" if integ is None else _SHORT[IntegId(integ.transform_id)]


def integrity_named(name: str) -> Integrity | None:
    """The integrity algorithm by name (`sha256` or `hmac-sha2-256-128`); None for `none`."""
    if name == "none":
        return None
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnsupportedAlgorithm(f"unknown integrity {name!r}") from None
