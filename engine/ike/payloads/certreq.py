"""Certificate Request payload (RFC 7296 section 3.7): parsed, then ignored by the engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import PayloadType
from engine.ike.errors import MalformedMessage


@dataclass(frozen=True, slots=True)
class CertReqPayload:
    payload_type: ClassVar[PayloadType] = PayloadType.CERTREQ

    encoding: int
    data: bytes

    def encode_body(self) -> bytes:
        return bytes((self.encoding,)) + self.data

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        if not body:
            raise MalformedMessage("CERTREQ payload without certificate encoding")
        return cls(body[0], body[1:])
