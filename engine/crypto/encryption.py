"""Encryption transforms: AES-CBC, AES-GCM with a 16-byte ICV, ChaCha20-Poly1305, and the
legacy 3DES-CBC and (ESP only) NULL.

Sizes follow the IKE and ESP specs, so the same objects serve the SK payload and ESP:
AES-GCM (RFC 4106 / RFC 5282) and ChaCha20-Poly1305 (RFC 7634) take a 4-byte salt from
the end of their key material and an 8-byte IV from each packet. 3DES-CBC (RFC 2451)
has a 24-byte key and an 8-byte block and IV; it is in cryptography's `decrepit`
package. NULL (RFC 2410) has no key and no IV, and ESP pads it to 4 bytes; RFC 7296
forbids it for IKE, so only transform-sets offer it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from engine.crypto.algorithms import EncrId
from engine.crypto.errors import CryptoError, UnsupportedAlgorithm


class AeadCipher(Protocol):
    """What `Encryption.aead` returns: cryptography's AESGCM or ChaCha20Poly1305."""

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Encryption:
    """A negotiated ENCR transform and its sizes, in bytes."""

    transform_id: int
    #: the key's length (0 for NULL); AES sends it as the Key Length attribute
    key_bits: int
    name: str
    is_aead: bool
    #: the cipher key proper
    key_size: int
    #: the implicit nonce part taken from the key material (AEAD only)
    salt_size: int
    #: the explicit IV carried in every message
    iv_size: int
    #: what plaintext + padding + pad length must be a multiple of (1: no alignment)
    block_size: int
    #: the authentication tag an AEAD appends (0 for CBC, which uses an INTEG transform)
    icv_size: int

    @property
    def key_material_size(self) -> int:
        """How many bytes to take from prf+ (SK_e) or KEYMAT for one direction."""
        return self.key_size + self.salt_size

    def aead(self, key_material: bytes) -> AeadCipher:
        """The AEAD cipher keyed with the key part of `key_material`; build once, reuse."""
        if not self.is_aead:
            raise CryptoError(f"{self.name} is not an AEAD")
        self._check(key_material)
        key = key_material[: self.key_size]
        if self.transform_id == EncrId.CHACHA20_POLY1305:
            return ChaCha20Poly1305(key)
        return AESGCM(key)

    @property
    def is_null(self) -> bool:
        """ENCR_NULL: the payload travels in clear, only the integrity transform protects it."""
        return self.transform_id == EncrId.NULL

    def block_cipher(self, key_material: bytes) -> BlockCipherAlgorithm:
        """The CBC cipher's block algorithm (AES or 3DES) keyed with `key_material`."""
        self._check(key_material)
        if self.transform_id == EncrId.AES_CBC:
            return algorithms.AES(key_material)
        if self.transform_id == EncrId.DES_3DES:
            return TripleDES(key_material)
        raise CryptoError(f"{self.name} is not a CBC block cipher")

    def salt(self, key_material: bytes) -> bytes:
        self._check(key_material)
        return key_material[self.key_size :]

    def nonce(self, key_material: bytes, iv: bytes) -> bytes:
        """salt || IV, the 12-byte AEAD nonce of RFC 4106 section 4 and RFC 7634 section 2."""
        return self.salt(key_material) + iv

    def _check(self, key_material: bytes) -> None:
        if len(key_material) != self.key_material_size:
            raise CryptoError(
                f"{self.name} needs {self.key_material_size} bytes of key material, "
                f"got {len(key_material)}"
            )


def _aes_cbc(bits: int) -> Encryption:
    return Encryption(EncrId.AES_CBC, bits, f"aes-cbc-{bits}", False, bits // 8, 0, 16, 16, 0)


def _aes_gcm(bits: int) -> Encryption:
    return Encryption(EncrId.AES_GCM_16, bits, f"aes-gcm-{bits}", True, bits // 8, 4, 8, 1, 16)


_CHACHA = Encryption(EncrId.CHACHA20_POLY1305, 256, "chacha20-poly1305", True, 32, 4, 8, 1, 16)
_3DES = Encryption(EncrId.DES_3DES, 192, "3des", False, 24, 0, 8, 8, 0)
_NULL = Encryption(EncrId.NULL, 0, "null", False, 0, 0, 0, 4, 0)

_ENCRS: dict[tuple[int, int | None], Encryption] = {
    **{(EncrId.AES_CBC, bits): _aes_cbc(bits) for bits in (128, 192, 256)},
    **{(EncrId.AES_GCM_16, bits): _aes_gcm(bits) for bits in (128, 192, 256)},
    (EncrId.CHACHA20_POLY1305, None): _CHACHA,
    (EncrId.CHACHA20_POLY1305, 256): _CHACHA,
    (EncrId.DES_3DES, None): _3DES,
    (EncrId.NULL, None): _NULL,
}


def encryption(transform_id: int, key_bits: int | None) -> Encryption:
    """The cipher for a transform id and its Key Length attribute (None when absent).

    AES requires the attribute (RFC 7296 section 3.3.5); ChaCha20-Poly1305 has none
    (RFC 7634 section 2), though an explicit 256 is tolerated; 3DES and NULL have none.
    """
    try:
        return _ENCRS[(transform_id, key_bits)]
    except KeyError:
        raise UnsupportedAlgorithm(
            f"encryption transform {transform_id} with key length {key_bits} is not supported"
        ) from None


_BY_NAME: dict[str, Encryption] = {e.name: e for e in _ENCRS.values()}


def encryption_named(name: str) -> Encryption:
    """The cipher by its name as events and screens show it (`aes-gcm-256`)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnsupportedAlgorithm(f"unknown encryption {name!r}") from None
