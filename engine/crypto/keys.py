"""Key derivation for IKE and Child SAs (RFC 7296 sections 2.14, 2.17 and 2.18)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.crypto.encryption import Encryption
from engine.crypto.errors import CryptoError
from engine.crypto.integrity import Integrity
from engine.crypto.prf import Prf

IKE_SPI_SIZE = 8


@dataclass(frozen=True, slots=True)
class IkeKeys:
    """The seven IKE SA keys; `sk_a*` are empty with an AEAD. Never shown in repr."""

    sk_d: bytes = field(repr=False)
    sk_ai: bytes = field(repr=False)
    sk_ar: bytes = field(repr=False)
    sk_ei: bytes = field(repr=False)
    sk_er: bytes = field(repr=False)
    sk_pi: bytes = field(repr=False)
    sk_pr: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ChildKeys:
    """Child SA keys; `_i` protects initiator-to-responder traffic, `_r` the reverse."""

    encr_i: bytes = field(repr=False)
    integ_i: bytes = field(repr=False)
    encr_r: bytes = field(repr=False)
    integ_r: bytes = field(repr=False)


def derive_ike_keys(
    prf: Prf,
    encr: Encryption,
    integ: Integrity | None,
    nonce_i: bytes,
    nonce_r: bytes,
    shared_secret: bytes,
    spi_i: bytes,
    spi_r: bytes,
) -> IkeKeys:
    """SKEYSEED = prf(Ni | Nr, g^ir), then the keys from prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).

    HMAC takes any key length, so the whole Ni | Nr is the key (RFC 7296 section 2.14).
    """
    skeyseed = prf(nonce_i + nonce_r, shared_secret)
    return _ike_keys(prf, encr, integ, skeyseed, nonce_i, nonce_r, spi_i, spi_r)


def derive_rekeyed_ike_keys(
    old_prf: Prf,
    old_sk_d: bytes,
    prf: Prf,
    encr: Encryption,
    integ: Integrity | None,
    shared_secret: bytes,
    nonce_i: bytes,
    nonce_r: bytes,
    spi_i: bytes,
    spi_r: bytes,
) -> IkeKeys:
    """RFC 7296 section 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr).

    The old SA's PRF makes SKEYSEED; the new SA's PRF, and its SPIs, make the keys.
    `_i` is the side that initiated the rekeying CREATE_CHILD_SA exchange.
    """
    skeyseed = old_prf(old_sk_d, shared_secret + nonce_i + nonce_r)
    return _ike_keys(prf, encr, integ, skeyseed, nonce_i, nonce_r, spi_i, spi_r)


def _ike_keys(
    prf: Prf,
    encr: Encryption,
    integ: Integrity | None,
    skeyseed: bytes,
    nonce_i: bytes,
    nonce_r: bytes,
    spi_i: bytes,
    spi_r: bytes,
) -> IkeKeys:
    if len(spi_i) != IKE_SPI_SIZE or len(spi_r) != IKE_SPI_SIZE:
        raise CryptoError("IKE SPIs are 8 bytes each")
    a = integ.key_size if integ else 0
    e = encr.key_material_size
    p = prf.key_size
    sizes = (p, a, a, e, e, p, p)
    stream = prf.plus(skeyseed, nonce_i + nonce_r + spi_i + spi_r, sum(sizes))
    return IkeKeys(*_split(stream, sizes))


def derive_child_keys(
    prf: Prf,
    sk_d: bytes,
    encr: Encryption,
    integ: Integrity | None,
    nonce_i: bytes,
    nonce_r: bytes,
    shared_secret: bytes | None = None,
) -> ChildKeys:
    """KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), split as RFC 7296 section 2.17 orders it."""
    a = integ.key_size if integ else 0
    e = encr.key_material_size
    sizes = (e, a, e, a)
    seed = (shared_secret or b"") + nonce_i + nonce_r
    return ChildKeys(*_split(prf.plus(sk_d, seed, sum(sizes)), sizes))


def _split(stream: bytes, sizes: tuple[int, ...]) -> list[bytes]:
    parts = []
    offset = 0
    for size in sizes:
        parts.append(stream[offset : offset + size])
        offset += size
    return parts
