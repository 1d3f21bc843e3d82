"""Authentication payload (RFC 7296 section 3.8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import AuthMethod, PayloadType
from engine.ike.errors import MalformedMessage

_METHODS = {m.value: m for m in AuthMethod}


@dataclass(frozen=True, slots=True)
class AuthPayload:
    """The AUTH value; `data` is checked by the authentication code, not here."""

    payload_type: ClassVar[PayloadType] = PayloadType.AUTH

    method: AuthMethod | int
    data: bytes

    def encode_body(self) -> bytes:
        return bytes((self.method, 0, 0, 0)) + self.data

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        if len(body) < 4:
            raise MalformedMessage(f"AUTH payload body of {len(body)} bytes, need at least 4")
        method = body[0]
        return cls(_METHODS.get(method, method), body[4:])
