"""Which exchange module answers a request (RFC 7296 sections 1.3 and 1.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import AuthenticationFailed, DownReason
from engine.ike.constants import ExchangeType, NotifyType, ProtocolId
from engine.ike.exchanges import (
    create_child,
    delete,
    ike_auth,
    invalid_spi,
    liveness,
    rekey_child,
    rekey_ike,
)
from engine.ike.payloads import DeletePayload, NotifyPayload, Payload, SaPayload

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.sa_interface import IkeSaHandle


def respond(sa: IkeSaHandle, request: IkeMessage, now: float) -> list[Payload]:
    exchange = request.exchange
    if exchange == ExchangeType.IKE_AUTH:
        return ike_auth.respond(sa, request, now)
    if not sa.is_up:
        return [NotifyPayload(NotifyType.INVALID_SYNTAX)]
    if exchange == ExchangeType.CREATE_CHILD_SA:
        if request.get_notify(NotifyType.REKEY_SA) is not None:
            return rekey_child.respond(sa, request, now)
        offer = request.get(SaPayload)
        if offer is not None and offer.proposals and offer.proposals[0].protocol == ProtocolId.IKE:
            return rekey_ike.respond(sa, request, now)
        return create_child.respond(sa, request, now)
    if exchange == ExchangeType.INFORMATIONAL:
        if request.get_all(DeletePayload):
            return delete.respond(sa, request, now)
        if request.get_notify(NotifyType.AUTHENTICATION_FAILED) is not None:
            # The initiator could not verify us (RFC 7296 2.21.2): it is gone.
            sa.ctx.emit(
                AuthenticationFailed(
                    sa.local,
                    sa.remote,
                    sa.peer_name,
                    sa.remote_id_text,
                    "peer rejected our AUTH",
                    now,
                )
            )
            sa.close(DownReason.AUTHENTICATION_FAILED, now, notify_peer=False)
            return []
        if request.get_notify(NotifyType.INVALID_SPI) is not None:
            return invalid_spi.respond(sa, request, now)
        return liveness.respond(sa, request, now)
    return []
