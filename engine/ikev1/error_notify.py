"""The unprotected error notify (RFC 2408 sections 3.14 and 5): an INFORMATIONAL
exchange of one Notification payload, in the clear, with the cookies of the message it
refuses, as the gateway answers before any ISAKMP SA has keys."""

from __future__ import annotations

from engine.ikev1.constants import ExchangeType, NotifyType, PayloadType, ProtocolId
from engine.ikev1.message import HEADER_SIZE, Header
from engine.ikev1.payloads import NotifyPayload, encode_chain


def clear_notify(refused: Header, notify: NotifyType) -> bytes:
    """The answer to `refused`: its cookies in the header and as the notify's SPI (so the
    peer can tell which negotiation it is about), message ID 0, not encrypted."""
    payload = NotifyPayload(notify, ProtocolId.ISAKMP, refused.cookie_i + refused.cookie_r)
    _, body = encode_chain([payload])
    header = Header(
        refused.cookie_i,
        refused.cookie_r,
        PayloadType.NOTIFY,
        ExchangeType.INFORMATIONAL,
        0,
        0,
        HEADER_SIZE + len(body),
    )
    return header.encode() + body


def notify_name(notify_type: int) -> str:
    try:
        return NotifyType(notify_type).name
    except ValueError:
        return str(notify_type)
