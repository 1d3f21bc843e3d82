"""Nonce payload (RFC 7296 section 3.9)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import PayloadType
from engine.ike.errors import LocalProtocolError, MalformedMessage

#: RFC 7296 3.9: "The size of the Nonce Data MUST be between 16 and 256 octets, inclusive."
MIN_NONCE_SIZE = 16
MAX_NONCE_SIZE = 256


@dataclass(frozen=True, slots=True)
class NoncePayload:
    payload_type: ClassVar[PayloadType] = PayloadType.NONCE

    data: bytes

    def encode_body(self) -> bytes:
        if not MIN_NONCE_SIZE <= len(self.data) <= MAX_NONCE_SIZE:
            raise LocalProtocolError(f"nonce of {len(self.data)} bytes, must be 16..256")
        return self.data

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        if not MIN_NONCE_SIZE <= len(body) <= MAX_NONCE_SIZE:
            raise MalformedMessage(f"nonce of {len(body)} bytes, must be 16..256")
        return cls(bytes(body))
