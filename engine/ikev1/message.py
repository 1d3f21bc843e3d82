"""The ISAKMP header (RFC 2408 section 3.1) and the CBC encryption of a message body
(RFC 2409 section 5.3 and appendix B): the IV chain is kept by the caller, per
exchange, as the last ciphertext block of the message before."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, modes

from engine.crypto import Encryption
from engine.ike.errors import IkeDrop
from engine.ikev1.constants import ISAKMP_VERSION, HeaderFlag
from engine.ikev1.errors import Ikev1Error, MalformedMessage

HEADER_SIZE = 28
#: the largest IKEv1 message we take: more than any exchange here needs
MAX_MESSAGE = 65000


@dataclass(frozen=True, slots=True)
class Header:
    cookie_i: bytes
    cookie_r: bytes
    next_payload: int
    exchange: int
    flags: int
    message_id: int
    length: int
    version: int = ISAKMP_VERSION

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & HeaderFlag.ENCRYPTION)

    def encode(self) -> bytes:
        return struct.pack(
            "!8s8sBBBBII",
            self.cookie_i,
            self.cookie_r,
            self.next_payload,
            self.version,
            self.exchange,
            self.flags,
            self.message_id,
            self.length,
        )


def decode_header(data: bytes) -> Header:
    if len(data) < HEADER_SIZE:
        raise MalformedMessage("shorter than an ISAKMP header")
    fields = struct.unpack_from("!8s8sBBBBII", data)
    header = Header(
        fields[0], fields[1], fields[2], fields[4], fields[5], fields[6], fields[7], fields[3]
    )
    if header.version >> 4 != 1:
        raise Ikev1Error(
            f"ISAKMP version {header.version >> 4}.{header.version & 15}",
            drop=IkeDrop.UNSUPPORTED_VERSION,
        )
    if header.length != len(data):
        # RFC 2408 5.1: the header's length must match what arrived
        raise MalformedMessage(f"length {header.length} in the header, {len(data)} received")
    if len(data) > MAX_MESSAGE:
        raise MalformedMessage("message too large")
    return header


def encrypt(encryption: Encryption, key: bytes, iv: bytes, plain: bytes) -> bytes:
    """Zero-padded to the block size: the receiver finds the end from the payload chain
    (RFC 2409 section 5.3 allows any padding; zero padding is what peers accept)."""
    size = encryption.block_size
    padded = plain + b"\x00" * (-len(plain) % size)
    encryptor = Cipher(encryption.block_cipher(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def decrypt(encryption: Encryption, key: bytes, iv: bytes, data: bytes) -> bytes:
    size = encryption.block_size
    if not data or len(data) % size:
        raise MalformedMessage("encrypted body is not a whole number of cipher blocks")
    decryptor = Cipher(encryption.block_cipher(key), modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()
