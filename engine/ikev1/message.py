"""The ISAKMP header (RFC 2408 section 3.1) and the CBC encryption of a message body
(RFC 2409 section 5.3 and appendix B): the IV chain is kept by the caller, per
exchange, as the last ciphertext block of the message before."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, modes

from engine.crypto import Encryption
from engine.ike.errors import IkeDrop
from engine.ikev1.constants import ISAKMP_VERSION, ExchangeType, HeaderFlag, NotifyType
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
    def cookies(self) -> tuple[bytes, bytes]:
        return self.cookie_i, self.cookie_r

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


def parse_header(data: bytes) -> Header:
    """The header's fields, unchecked: enough to answer the message with a notify."""
    if len(data) < HEADER_SIZE:
        raise MalformedMessage("shorter than an ISAKMP header")
    fields = struct.unpack_from("!8s8sBBBBII", data)
    return Header(
        fields[0], fields[1], fields[2], fields[4], fields[5], fields[6], fields[7], fields[3]
    )


def decode_header(data: bytes) -> Header:
    header = parse_header(data)
    check_header(header, len(data))
    return header


#: exchange types RFC 2408 section 3.1 defines (or reserves to the IPsec DOI) that we do
#: not implement: Base, Authentication Only, New Group Mode, and the private-use range
_UNSUPPORTED_EXCHANGES = frozenset({1, 3, 33, *range(240, 256)})
_SUPPORTED_EXCHANGES = frozenset(int(e) for e in ExchangeType)
_PHASE1_EXCHANGES = (ExchangeType.MAIN, ExchangeType.AGGRESSIVE)
_PHASE2_EXCHANGES = (ExchangeType.QUICK, ExchangeType.TRANSACTION)
_KNOWN_FLAGS = int(HeaderFlag.ENCRYPTION | HeaderFlag.COMMIT)


def check_header(header: Header, size: int) -> None:
    """RFC 2408 section 5.1, in its order: versions, exchange type, flags, message ID,
    length. Each refusal names the notify the RFC answers it with."""
    major, minor = header.version >> 4, header.version & 15
    if major != 1:
        raise Ikev1Error(
            f"ISAKMP version {major}.{minor}",
            notify=NotifyType.INVALID_MAJOR_VERSION,
            drop=IkeDrop.UNSUPPORTED_VERSION,
        )
    if minor != 0:
        raise Ikev1Error(
            f"ISAKMP version {major}.{minor}",
            notify=NotifyType.INVALID_MINOR_VERSION,
            drop=IkeDrop.UNSUPPORTED_VERSION,
        )
    if header.exchange not in _SUPPORTED_EXCHANGES:
        unsupported = header.exchange in _UNSUPPORTED_EXCHANGES
        raise Ikev1Error(
            f"exchange type {header.exchange}",
            notify=NotifyType.UNSUPPORTED_EXCHANGE_TYPE
            if unsupported
            else NotifyType.INVALID_EXCHANGE_TYPE,
            drop=IkeDrop.UNEXPECTED_EXCHANGE,
        )
    if header.flags & ~_KNOWN_FLAGS:
        # the authentication-only bit too: nothing here sends or takes such messages
        raise Ikev1Error(f"header flags {header.flags:#04x}", notify=NotifyType.INVALID_FLAGS)
    if header.exchange in _PHASE1_EXCHANGES and header.message_id:
        raise Ikev1Error(
            "phase 1 message with a message ID",
            notify=NotifyType.INVALID_MESSAGE_ID,
            drop=IkeDrop.UNEXPECTED_MESSAGE_ID,
        )
    if header.exchange in _PHASE2_EXCHANGES and not header.message_id:
        raise Ikev1Error(
            "phase 2 message with message ID 0",
            notify=NotifyType.INVALID_MESSAGE_ID,
            drop=IkeDrop.UNEXPECTED_MESSAGE_ID,
        )
    if header.exchange in _PHASE2_EXCHANGES and not header.encrypted:
        raise Ikev1Error("phase 2 message in the clear", notify=NotifyType.INVALID_FLAGS)
    if header.cookie_i == bytes(8):
        # no negotiation has it, and no answer could name one: dropped, never answered
        raise Ikev1Error("initiator cookie of zero", drop=IkeDrop.UNKNOWN_SPI)
    if header.length != size:
        # RFC 2408 5.1: the header's length must match what arrived
        raise Ikev1Error(
            f"length {header.length} in the header, {size} received",
            notify=NotifyType.UNEQUAL_PAYLOAD_LENGTHS,
            drop=IkeDrop.MALFORMED,
        )
    if size > MAX_MESSAGE:
        raise MalformedMessage("message too large")


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
