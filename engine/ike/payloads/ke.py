"""Key Exchange payload (RFC 7296 section 3.4)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import PayloadType
from engine.ike.errors import MalformedMessage

_KE = struct.Struct("!HH")
_GROUP = struct.Struct("!H")


@dataclass(frozen=True, slots=True)
class KePayload:
    """A public DH value; its length per group is checked by the DH code, not here."""

    payload_type: ClassVar[PayloadType] = PayloadType.KE

    dh_group: int
    data: bytes

    def encode_body(self) -> bytes:
        return _KE.pack(self.dh_group, 0) + self.data

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        if len(body) < 4:
            raise MalformedMessage(f"KE payload body of {len(body)} bytes, need at least 4")
        (group,) = _GROUP.unpack_from(body)
        return cls(group, body[4:])
