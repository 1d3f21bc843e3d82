"""CREATE_CHILD_SA for an additional child SA (RFC 7296 section 1.3.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import NegotiationFailed
from engine.ike.constants import ExchangeType, NotifyType
from engine.ike.errors import RemoteProtocolError
from engine.ike.exchanges.child_negotiation import (
    ChildOffer,
    ChildRefused,
    accept_response,
    make_offer,
    offer_payloads,
    refusal,
    respond_child,
)
from engine.ike.exchanges.key_exchange import KeRetrying, detail_of, invalid_ke_reason
from engine.ike.payloads import NoncePayload, Payload, TrafficSelector
from engine.ike.sa_state import IkeState, error_notify_name

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.sa_interface import IkeSaHandle


class CreateChild(KeRetrying):
    exchange_type = ExchangeType.CREATE_CHILD_SA
    name = "CREATE_CHILD_SA"

    def __init__(
        self,
        local_ts: tuple[TrafficSelector, ...] | None = None,
        remote_ts: tuple[TrafficSelector, ...] | None = None,
    ) -> None:
        self.local_ts = local_ts
        self.remote_ts = remote_ts
        super().__init__()
        self.offer: ChildOffer | None = None

    def offered_groups(self, sa: IkeSaHandle) -> list[int]:
        return [self.offer.pfs_group] if self.offer and self.offer.pfs_group else []

    def sent_group(self, sa: IkeSaHandle) -> int | None:
        return self.offer.pfs_group if self.offer else None

    def build(self, sa: IkeSaHandle, now: float) -> list[Payload] | None:
        if sa.state is not IkeState.ESTABLISHED or sa.peer is None:
            return None
        group = self.group if self.group is not None else sa.peer.pfs_group
        self.offer = make_offer(
            sa, with_nonce=True, pfs_group=group, local_ts=self.local_ts, remote_ts=self.remote_ts
        )
        return offer_payloads(sa, self.offer)

    def complete(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> None:
        assert self.offer is not None
        if self.retried_for_group(sa, response, now):
            return
        error = error_notify_name(response)
        nonce = response.get(NoncePayload)
        if error or nonce is None:
            sa.ctx.emit(
                NegotiationFailed(
                    sa.local,
                    sa.remote,
                    sa.peer_name,
                    f"child SA refused: {error or 'no nonce'}"
                    + detail_of(invalid_ke_reason(response)),
                    now,
                    error,
                )
            )
            return
        try:
            child = accept_response(
                sa, self.offer, response, nonce_i=self.offer.nonce, nonce_r=nonce.data, now=now
            )
        except RemoteProtocolError as err:
            sa.ctx.emit(
                NegotiationFailed(sa.local, sa.remote, sa.peer_name, f"child SA: {err.reason}", now)
            )
            return
        sa.add_child(child, now)


def respond(sa: IkeSaHandle, request: IkeMessage, now: float) -> list[Payload]:
    nonce = request.get(NoncePayload)
    if nonce is None:
        return [refusal(ChildRefused("no nonce", notify=NotifyType.INVALID_SYNTAX))[0]]
    nonce_r = sa.ctx.random_bytes(32)
    try:
        child, payloads = respond_child(
            sa,
            request,
            nonce_i=nonce.data,
            nonce_r=nonce_r,
            allow_pfs=True,
            send_nonce=True,
            now=now,
        )
    except ChildRefused as err:
        return refusal(err)
    sa.add_child(child, now)
    return payloads
