"""The ISAKMP payload chain (RFC 2408 section 3.2): one generic header per payload, each
naming the type of the next. Every payload type is encoded in one module of this package."""

from __future__ import annotations

import struct
from collections.abc import Iterable

from engine.ike.errors import IkeDrop
from engine.ikev1.constants import NotifyType, PayloadType
from engine.ikev1.errors import Ikev1Error, MalformedMessage
from engine.ikev1.payloads.config import AttributePayload
from engine.ikev1.payloads.identification import IdPayload
from engine.ikev1.payloads.notify import DeletePayload, NotifyPayload
from engine.ikev1.payloads.opaque import OpaquePayload
from engine.ikev1.payloads.sa import SaPayload

Payload = SaPayload | IdPayload | NotifyPayload | DeletePayload | AttributePayload | OpaquePayload

_DECODERS = {
    PayloadType.SA: SaPayload.decode,
    PayloadType.ID: IdPayload.decode,
    PayloadType.NOTIFY: NotifyPayload.decode,
    PayloadType.DELETE: DeletePayload.decode,
    PayloadType.ATTRIBUTE: AttributePayload.decode,
}
#: payload types a message may carry at its top level: RFC 2408's (but the proposal and
#: transform, which live inside an SA payload), NAT-T's, and the private-use range
_VALID_TYPES = frozenset(
    {*range(1, 15), PayloadType.NAT_D, PayloadType.NAT_OA, *range(128, 256)}
) - {PayloadType.PROPOSAL, PayloadType.TRANSFORM}
#: the most payloads one message may carry: a bound on what a crafted chain can cost
MAX_PAYLOADS = 64


def encode_chain(payloads: Iterable[Payload]) -> tuple[int, bytes]:
    """(type of the first payload, the chain's bytes)."""
    items = list(payloads)
    out: list[bytes] = []
    for index, payload in enumerate(items):
        body = payload.encode()
        following = int(items[index + 1].payload_type) if index + 1 < len(items) else 0
        out.append(struct.pack("!BBH", following, 0, len(body) + 4) + body)
    first = int(items[0].payload_type) if items else 0
    return first, b"".join(out)


def decode_chain(first: int, data: bytes) -> list[Payload]:
    """Every payload of a (decrypted) message body; padding after the last is ignored,
    as RFC 2409 section 5.3 lets encrypted messages be padded."""
    return decode_chain_with_tail(first, data)[0]


def decode_chain_with_tail(first: int, data: bytes) -> tuple[list[Payload], bytes]:
    """The payloads, and the bytes of every payload after the first (headers included,
    padding excluded): what HASH(1), HASH(2) and the informational HASH cover."""
    out: list[Payload] = []
    first_end = 0
    kind = first
    offset = 0
    while kind != PayloadType.NONE:
        if len(out) >= MAX_PAYLOADS:
            raise MalformedMessage("too many payloads")
        if offset + 4 > len(data):
            raise MalformedMessage("payload chain truncated")
        if kind not in _VALID_TYPES:
            raise Ikev1Error(
                f"payload type {kind}",
                notify=NotifyType.INVALID_PAYLOAD_TYPE,
                drop=IkeDrop.MALFORMED,
            )
        following, _, length = struct.unpack_from("!BBH", data, offset)
        if length < 4 or offset + length > len(data):
            raise MalformedMessage("payload length outside the message")
        body = bytes(data[offset + 4 : offset + length])
        decoder = _DECODERS.get(kind)  # type: ignore[call-overload]
        out.append(decoder(body) if decoder else OpaquePayload(kind, body))
        offset += length
        if len(out) == 1:
            first_end = offset
        kind = following
    return out, bytes(data[first_end:offset]) if out else b""


__all__ = [
    "AttributePayload",
    "DeletePayload",
    "IdPayload",
    "NotifyPayload",
    "OpaquePayload",
    "Payload",
    "SaPayload",
    "decode_chain",
    "decode_chain_with_tail",
    "encode_chain",
]
