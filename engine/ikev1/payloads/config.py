"""The ATTR payload of mode-config and XAUTH (draft-dukes-ike-mode-cfg-02 section 3.2)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from engine.ikev1.constants import PayloadType
from engine.ikev1.errors import MalformedMessage
from engine.ikev1.payloads.attributes import DataAttribute, decode_attributes, encode_attributes


@dataclass(frozen=True, slots=True)
class AttributePayload:
    payload_type = PayloadType.ATTRIBUTE
    cfg_type: int
    identifier: int
    attributes: tuple[DataAttribute, ...] = ()

    def encode(self) -> bytes:
        head = struct.pack("!BBH", self.cfg_type, 0, self.identifier)
        return head + encode_attributes(self.attributes)

    @classmethod
    def decode(cls, body: bytes) -> AttributePayload:
        if len(body) < 4:
            raise MalformedMessage("attribute payload too short")
        cfg_type, _, identifier = struct.unpack_from("!BBH", body)
        return cls(cfg_type, identifier, tuple(decode_attributes(body[4:])))

    def get(self, kind: int) -> DataAttribute | None:
        for attr in self.attributes:
            if attr.kind == kind:
                return attr
        return None

    def __repr__(self) -> str:
        # Attribute values may be XAUTH passwords: only their types are shown.
        kinds = ",".join(str(a.kind) for a in self.attributes)
        return f"AttributePayload(cfg_type={self.cfg_type}, attributes=[{kinds}])"
