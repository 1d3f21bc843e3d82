"""IKEv2 messages: the fixed header, the payload chain and the SK payload (RFC 7296 3.1, 3.14).

Sans-IO and pure: bytes in, `IkeMessage` out and back. The SK cryptography is done by
an `SkProtection` object handed in by the caller; this module only does the framing
(lengths, next-payload fields, and the associated data the ICV covers).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from engine.ike.constants import (
    GENERIC_PAYLOAD_HEADER_SIZE,
    IKE_HEADER_SIZE,
    IKE_MAJOR_VERSION,
    ExchangeType,
    HeaderFlag,
    PayloadType,
)
from engine.ike.errors import (
    IntegrityError,
    InvalidMajorVersion,
    LocalProtocolError,
    MalformedMessage,
)
from engine.ike.payloads import (
    NotifyPayload,
    Payload,
    UnknownPayload,
    decode_payload_body,
    encode_payload_body,
    payload_type_of,
)
from engine.ike.payloads.generic import GENERIC_HEADER, walk_chain

# spi_i, spi_r, next payload, version, exchange type, flags, message id, length
_HEADER = struct.Struct("!8s8sBBBBII")
_VERSION = IKE_MAJOR_VERSION << 4  # 2.0
# Plain ints: an IntFlag operand sends `&` through enum's Python-level __and__, which
# showed up in the profile of 10,000 DELETE answers.
_FLAG_MASK = int(HeaderFlag.INITIATOR | HeaderFlag.RESPONSE | HeaderFlag.VERSION)
RESPONSE_BIT = int(HeaderFlag.RESPONSE)
INITIATOR_BIT = int(HeaderFlag.INITIATOR)
_FLAGS = {value: HeaderFlag(value) for value in range(256) if not value & ~_FLAG_MASK}
_EXCHANGES = {e.value: e for e in ExchangeType}
_SK = int(PayloadType.SK)
_SK_HEADER_END = IKE_HEADER_SIZE + GENERIC_PAYLOAD_HEADER_SIZE

P = TypeVar("P")


class SkProtection(Protocol):
    """What the SK payload framing needs from the negotiated cipher and integrity keys."""

    iv_size: int

    def sealed_length(self, plaintext_len: int) -> int:
        """len(iv || ciphertext || icv) for a plaintext of this length."""
        ...

    def seal(self, associated: bytes, plaintext: bytes, iv: bytes) -> bytes:
        """Pad, encrypt and protect; `associated` is the IKE header and SK generic header."""
        ...

    def open(self, associated: bytes, body: bytes) -> bytes:
        """Check and decrypt a whole SK body, return the unpadded inner payload chain.

        Must raise `engine.ike.errors.IntegrityError` on any failure.
        """
        ...


@dataclass(slots=True)
class IkeHeader:
    """The fixed 28-byte header; `flags` keeps only the I, V and R bits."""

    spi_i: bytes
    spi_r: bytes
    next_payload: int
    exchange: int
    flags: HeaderFlag
    message_id: int
    length: int

    @property
    def is_response(self) -> bool:
        return bool(int(self.flags) & RESPONSE_BIT)

    @property
    def is_initiator(self) -> bool:
        """The I flag: sent by the original initiator of the IKE SA (not: is a request)."""
        return bool(int(self.flags) & INITIATOR_BIT)


def decode_header(data: bytes) -> IkeHeader:
    """Decode and check the fixed header of a whole received message."""
    if len(data) < IKE_HEADER_SIZE:
        raise MalformedMessage(f"message of {len(data)} bytes is shorter than the IKE header")
    spi_i, spi_r, next_payload, version, exchange, flags, message_id, length = _HEADER.unpack_from(
        data
    )
    if version >> 4 != IKE_MAJOR_VERSION:
        raise InvalidMajorVersion(f"IKE major version {version >> 4}")
    if length != len(data):
        raise MalformedMessage(f"header length {length} but the message has {len(data)} bytes")
    return IkeHeader(
        spi_i, spi_r, next_payload, exchange, _FLAGS[flags & _FLAG_MASK], message_id, length
    )


@dataclass(slots=True)
class IkeMessage:
    """A decoded message, or one to encode; `encrypted` = the payloads are inside SK."""

    spi_i: bytes
    spi_r: bytes
    exchange: ExchangeType | int
    message_id: int
    is_response: bool
    is_initiator: bool
    payloads: list[Payload] = field(default_factory=list)
    encrypted: bool = False

    def get(self, cls: type[P]) -> P | None:
        """The first payload that is an instance of `cls`, or None."""
        for payload in self.payloads:
            if isinstance(payload, cls):
                return payload
        return None

    def get_all(self, cls: type[P]) -> list[P]:
        return [p for p in self.payloads if isinstance(p, cls)]

    def notifies(self) -> list[NotifyPayload]:
        return [p for p in self.payloads if type(p) is NotifyPayload]

    def get_notify(self, notify_type: int) -> NotifyPayload | None:
        for payload in self.payloads:
            if type(payload) is NotifyPayload and payload.notify_type == notify_type:
                return payload
        return None

    def error_notify(self) -> NotifyPayload | None:
        """The first error notify (type below 16384), which makes a response a failure."""
        for payload in self.payloads:
            if type(payload) is NotifyPayload and payload.notify_type < 16384:
                return payload
        return None

    def unknown_payloads(self) -> list[UnknownPayload]:
        return [p for p in self.payloads if type(p) is UnknownPayload]


def _encode_chain(payloads: list[Payload]) -> tuple[int, bytes]:
    """Encode a payload chain; returns (type of the first payload, bytes)."""
    if not payloads:
        return 0, b""
    types = [payload_type_of(p) for p in payloads]
    types.append(0)
    pack = GENERIC_HEADER.pack
    parts = []
    for index, payload in enumerate(payloads):
        body = encode_payload_body(payload)
        critical = 0x80 if type(payload) is UnknownPayload and payload.critical else 0
        length = GENERIC_PAYLOAD_HEADER_SIZE + len(body)
        if length > 0xFFFF:
            raise LocalProtocolError(f"payload {type(payload).__name__} of {length} bytes")
        parts.append(pack(types[index + 1], critical, length))
        parts.append(body)
    return types[0], b"".join(parts)


def _pack_header(msg: IkeMessage, next_payload: int, length: int) -> bytes:
    flags = (HeaderFlag.INITIATOR if msg.is_initiator else 0) | (
        HeaderFlag.RESPONSE if msg.is_response else 0
    )
    try:
        return _HEADER.pack(
            msg.spi_i,
            msg.spi_r,
            next_payload,
            _VERSION,
            msg.exchange,
            flags,
            msg.message_id,
            length,
        )
    except struct.error as exc:
        raise LocalProtocolError(f"cannot encode IKE header: {exc}") from exc


def encode_message(
    msg: IkeMessage, protection: SkProtection | None = None, iv: bytes = b""
) -> bytes:
    """Encode a message; with `msg.encrypted` all payloads go into one SK payload."""
    if len(msg.spi_i) != 8 or len(msg.spi_r) != 8:
        raise LocalProtocolError("IKE SPIs must be 8 bytes")
    first, chain = _encode_chain(msg.payloads)
    if not msg.encrypted:
        total = IKE_HEADER_SIZE + len(chain)
        if total > 0xFFFFFFFF:
            raise LocalProtocolError(f"message of {total} bytes")
        return _pack_header(msg, first, total) + chain
    if protection is None:
        raise LocalProtocolError("encrypted message but no SK protection given")
    sealed_length = protection.sealed_length(len(chain))
    sk_length = GENERIC_PAYLOAD_HEADER_SIZE + sealed_length
    if sk_length > 0xFFFF:
        raise LocalProtocolError(f"SK payload of {sk_length} bytes")
    associated = _pack_header(msg, _SK, IKE_HEADER_SIZE + sk_length) + GENERIC_HEADER.pack(
        first, 0, sk_length
    )
    sealed = protection.seal(associated, chain, iv)
    if len(sealed) != sealed_length:
        raise LocalProtocolError(f"seal() returned {len(sealed)} bytes, announced {sealed_length}")
    return associated + sealed


def _decode_chain(data: bytes, first_type: int, offset: int, end: int) -> list[Payload]:
    return [
        decode_payload_body(raw.payload_type, raw.critical, data[raw.start + 4 : raw.end])
        for raw in walk_chain(data, first_type, offset, end)
    ]


def decode_message(data: bytes, protection: SkProtection | None = None) -> IkeMessage:
    """Decode a whole datagram (without the non-ESP marker).

    Raises only `RemoteProtocolError` subclasses (provided `protection.open` keeps its
    contract). Payloads in front of an SK payload are refused, so `encrypted=True`
    means every payload was integrity protected and confidential.
    """
    header = decode_header(data)
    payloads: list[Payload] = []
    encrypted = False
    for raw in walk_chain(data, header.next_payload, IKE_HEADER_SIZE, len(data)):
        if raw.payload_type != _SK:
            payloads.append(
                decode_payload_body(raw.payload_type, raw.critical, data[raw.start + 4 : raw.end])
            )
            continue
        # walk_chain guarantees the SK payload is the last one
        if payloads:
            raise MalformedMessage("unencrypted payloads in front of the SK payload")
        if protection is None:
            raise MalformedMessage("encrypted payload but no keys")
        body = data[_SK_HEADER_END : raw.end]
        if len(body) <= protection.iv_size:
            raise IntegrityError(f"SK payload body of {len(body)} bytes")
        plaintext = protection.open(data[:_SK_HEADER_END], body)
        payloads = _decode_chain(plaintext, raw.next_payload, 0, len(plaintext))
        encrypted = True
    flags = int(header.flags)
    return IkeMessage(
        header.spi_i,
        header.spi_r,
        _EXCHANGES.get(header.exchange, header.exchange),
        header.message_id,
        bool(flags & RESPONSE_BIT),
        bool(flags & INITIATOR_BIT),
        payloads,
        encrypted,
    )


def encode_plain_response_notify(header: IkeHeader, notify_type: int, data: bytes = b"") -> bytes:
    """An unencrypted response carrying a single notify (IKE_SA_INIT errors and COOKIE).

    Same SPIs and message id as the request, R flag set, I flag cleared (we are the
    responder of the IKE SA the request tried to create).
    """
    body = NotifyPayload(notify_type, data).encode_body()
    payload_length = GENERIC_PAYLOAD_HEADER_SIZE + len(body)
    try:
        return (
            _HEADER.pack(
                header.spi_i,
                header.spi_r,
                PayloadType.NOTIFY,
                _VERSION,
                header.exchange,
                HeaderFlag.RESPONSE,
                header.message_id,
                IKE_HEADER_SIZE + payload_length,
            )
            + GENERIC_HEADER.pack(0, 0, payload_length)
            + body
        )
    except struct.error as exc:
        raise LocalProtocolError(f"cannot encode notify response: {exc}") from exc
