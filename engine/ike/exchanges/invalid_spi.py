"""INVALID_SPI notifications (RFC 7296 sections 1.5 and 3.10.1).

When ESP arrives for an SPI we do not know from a peer we share an IKE SA with,
we tell that peer inside the IKE SA; a peer told so about one of our outbound
SPIs deletes that child SA, which the peer evidently lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import DownReason
from engine.ike.constants import ExchangeType, NotifyType
from engine.ike.exchanges.base import Exchange
from engine.ike.payloads import NotifyPayload, Payload

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.sa_interface import IkeSaHandle


class InvalidSpiNotice(Exchange):
    exchange_type = ExchangeType.INFORMATIONAL
    name = "INFORMATIONAL (INVALID_SPI)"

    def __init__(self, spi: bytes) -> None:
        self.spi = spi

    def build(self, sa: IkeSaHandle, now: float) -> list[Payload] | None:
        return [NotifyPayload(NotifyType.INVALID_SPI, self.spi)]

    def complete(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> None:
        """The peer acknowledged; what it does about it is its business."""


def respond(sa: IkeSaHandle, request: IkeMessage, now: float) -> list[Payload]:
    for notify in request.notifies():
        if notify.notify_type != NotifyType.INVALID_SPI or len(notify.data) != 4:
            continue
        child = sa.find_child_by_spi_out(notify.data)
        if child is not None:
            sa.delete_child(child, DownReason.PEER_DELETE, now)
    return []
