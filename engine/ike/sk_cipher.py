"""Protection of the Encrypted (SK) payload: RFC 7296 section 3.14, RFC 5282 for AEADs.

Layout on the wire: IV || ciphertext || ICV, where the ciphertext covers
payloads || padding || pad length. `associated` is the IKE header plus the SK
payload's generic header, already holding their final lengths.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from engine.crypto.encryption import Encryption
from engine.crypto.integrity import Integrity
from engine.ike.errors import IntegrityError, LocalProtocolError


class SkCipher:
    """One direction of an IKE SA, e.g. SK_ei/SK_ai for what the initiator sends.

    The cipher objects are built once here and reused for every message.
    """

    __slots__ = ("_aead", "_cbc_key", "_integ", "_min_body", "_salt", "_sk_a", "encr", "iv_size")

    def __init__(self, encr: Encryption, integ: Integrity | None, sk_e: bytes, sk_a: bytes) -> None:
        if (integ is None) != encr.is_aead:
            raise LocalProtocolError(
                f"{encr.name} needs {'no' if encr.is_aead else 'an'} integrity transform"
            )
        self.encr = encr
        self.iv_size = encr.iv_size
        self._integ = integ
        if integ is None:
            if sk_a:
                raise LocalProtocolError("an AEAD takes no SK_a")
            self._aead = encr.aead(sk_e)
            self._salt = encr.salt(sk_e)
            # at least the pad length byte
            self._min_body = encr.iv_size + 1 + encr.icv_size
        else:
            if encr.is_null:
                raise LocalProtocolError("ENCR_NULL is not allowed for IKE (RFC 7296 section 3.3)")
            if len(sk_e) != encr.key_material_size or len(sk_a) != integ.key_size:
                raise LocalProtocolError(f"wrong SK_e or SK_a length for {encr.name}")
            # AES or 3DES: CBC with the cipher's own block and IV size
            self._cbc_key = encr.block_cipher(sk_e)
            self._sk_a = sk_a
            # at least one block
            self._min_body = encr.iv_size + encr.block_size + integ.icv_size

    def __repr__(self) -> str:
        integ = self._integ.name if self._integ else "aead"
        return f"SkCipher({self.encr.name}, {integ})"

    @property
    def icv_size(self) -> int:
        return self._integ.icv_size if self._integ else self.encr.icv_size

    def sealed_length(self, plaintext_len: int) -> int:
        """len(IV || ciphertext || ICV) for a plaintext, to fill in the headers before sealing."""
        block = self.encr.block_size
        padded = -(-(plaintext_len + 1) // block) * block
        return self.iv_size + padded + self.icv_size

    def seal(self, associated: bytes, plaintext: bytes, iv: bytes) -> bytes:
        """Encrypt and authenticate; the IV must never repeat under one key (counter or random)."""
        if len(iv) != self.iv_size:
            raise LocalProtocolError(f"{self.encr.name} needs a {self.iv_size}-byte IV")
        if self._integ is None:
            # RFC 5282 section 5.1: no alignment needed, so no padding and pad length 0.
            nonce = self._salt + iv
            return iv + self._aead.encrypt(nonce, plaintext + b"\x00", associated)
        pad = -(len(plaintext) + 1) % self.encr.block_size
        padded = plaintext + bytes(pad) + bytes((pad,))
        encryptor = Cipher(self._cbc_key, modes.CBC(iv)).encryptor()
        body = iv + encryptor.update(padded) + encryptor.finalize()
        return body + self._integ.compute(self._sk_a, associated + body)

    def open(self, associated: bytes, body: bytes) -> bytes:
        """Check and decrypt IV || ciphertext || ICV; any fault raises IntegrityError."""
        if len(body) < self._min_body:
            raise IntegrityError("SK payload too short")
        iv = body[: self.iv_size]
        if self._integ is None:
            try:
                padded = self._aead.decrypt(self._salt + iv, body[self.iv_size :], associated)
            except InvalidTag:
                raise IntegrityError("SK payload authentication tag mismatch") from None
        else:
            icv_size = self._integ.icv_size
            signed, icv = body[:-icv_size], body[-icv_size:]
            if (len(signed) - self.iv_size) % self.encr.block_size:
                raise IntegrityError("SK payload ciphertext is not block aligned")
            if not self._integ.verify(self._sk_a, associated + signed, icv):
                raise IntegrityError("SK payload ICV mismatch")
            decryptor = Cipher(self._cbc_key, modes.CBC(iv)).decryptor()
            padded = decryptor.update(signed[self.iv_size :]) + decryptor.finalize()
        pad = padded[-1]
        if pad >= len(padded):
            raise IntegrityError("SK payload pad length exceeds the ciphertext")
        return padded[: len(padded) - 1 - pad]
