"""Certificate payload (RFC 7296 section 3.6): parsed so a chain walks, not used yet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import PayloadType
from engine.ike.errors import MalformedMessage


@dataclass(frozen=True, slots=True)
class CertPayload:
    payload_type: ClassVar[PayloadType] = PayloadType.CERT

    encoding: int
    data: bytes

    def encode_body(self) -> bytes:
        return bytes((self.encoding,)) + self.data

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        if not body:
            raise MalformedMessage("CERT payload without certificate encoding")
        return cls(body[0], body[1:])
