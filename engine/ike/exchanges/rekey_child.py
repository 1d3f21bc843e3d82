"""Rekeying a child SA with CREATE_CHILD_SA and REKEY_SA (RFC 7296 sections 1.3.3, 2.8).

Simultaneous rekeys of one child (2.8.1): each side answers the other's request,
and once both exchanges are known, the new SA made by the exchange holding the
lowest of the four nonces is redundant and is deleted by whoever initiated it;
the other side deletes the old SA. Both sides reach the same decision alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import ChildSaRekeyed, DownReason, NegotiationFailed
from engine.ike.child_sa import ChildSa, ChildState
from engine.ike.constants import ExchangeType, NotifyType, ProtocolId
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
from engine.ike.payloads import NoncePayload, NotifyPayload, Payload
from engine.ike.sa_state import IkeState, RekeyRecord, error_notify_name

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.sa_interface import IkeSaHandle

#: seconds before retrying a rekey the peer answered with TEMPORARY_FAILURE
RETRY_AFTER = 2.0


class RekeyChild(KeRetrying):
    exchange_type = ExchangeType.CREATE_CHILD_SA
    name = "CREATE_CHILD_SA (rekey child)"

    def __init__(self, child_sa_id: int) -> None:
        super().__init__()
        self.child_sa_id = child_sa_id
        self.offer: ChildOffer | None = None

    def offered_groups(self, sa: IkeSaHandle) -> list[int]:
        return [self.offer.pfs_group] if self.offer and self.offer.pfs_group else []

    def sent_group(self, sa: IkeSaHandle) -> int | None:
        return self.offer.pfs_group if self.offer else None

    def build(self, sa: IkeSaHandle, now: float) -> list[Payload] | None:
        old = sa.children.get(self.child_sa_id)
        if (
            old is None
            or old.state not in (ChildState.INSTALLED, ChildState.REKEYING)
            or sa.state is not IkeState.ESTABLISHED
            or sa.peer is None
        ):
            return None
        old.state = ChildState.REKEYING
        group = self.group if self.group is not None else sa.peer.pfs_group
        self.offer = make_offer(
            sa, with_nonce=True, pfs_group=group, local_ts=old.local_ts, remote_ts=old.remote_ts
        )
        rekey = NotifyPayload(NotifyType.REKEY_SA, protocol=ProtocolId.ESP, spi=old.spi_in)
        return [rekey, *offer_payloads(sa, self.offer)]

    def give_up(self, sa: IkeSaHandle, now: float) -> None:
        old = sa.children.get(self.child_sa_id)
        if old is not None and old.state is ChildState.REKEYING:
            old.state = ChildState.INSTALLED
        super().give_up(sa, now)

    def complete(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> None:
        assert self.offer is not None
        old = sa.children.get(self.child_sa_id)
        peer_record = sa.child_rekeys.pop(self.child_sa_id, None)
        if self.retried_for_group(sa, response, now):
            return
        error = error_notify_name(response)
        nonce = response.get(NoncePayload)
        if error or nonce is None:
            if old is not None and old.state is ChildState.REKEYING:
                old.state = ChildState.INSTALLED
                if response.get_notify(NotifyType.TEMPORARY_FAILURE) is not None:
                    old.rekey_at = now + RETRY_AFTER
                    return
            if response.get_notify(NotifyType.CHILD_SA_NOT_FOUND) is None:
                sa.ctx.emit(
                    NegotiationFailed(
                        sa.local,
                        sa.remote,
                        sa.peer_name,
                        f"child rekey refused: {error or 'no nonce'}"
                        + detail_of(invalid_ke_reason(response)),
                        now,
                        error,
                    )
                )
            return
        try:
            new = accept_response(
                sa,
                self.offer,
                response,
                nonce_i=self.offer.nonce,
                nonce_r=nonce.data,
                now=now,
                rekeyed_from=self.child_sa_id,
            )
        except RemoteProtocolError as err:
            if old is not None:
                old.state = ChildState.INSTALLED
            sa.ctx.emit(
                NegotiationFailed(
                    sa.local, sa.remote, sa.peer_name, f"child rekey: {err.reason}", now
                )
            )
            return
        sa.add_child(new, now)
        if old is None:
            return
        ours = RekeyRecord(self.offer.nonce, nonce.data, child=new, we_initiated=True)
        if (
            peer_record is not None
            and peer_record.child is not None
            and peer_record.child.child_sa_id in sa.children
        ):
            resolve_collision(sa, old, ours, peer_record, now)
            return
        old.state = ChildState.REKEYED
        sa.ctx.emit(ChildSaRekeyed(sa.ike_sa_id, old.child_sa_id, new.child_sa_id, now))
        sa.delete_child(old, DownReason.REKEYED, now)


def resolve_collision(
    sa: IkeSaHandle, old: ChildSa, ours: RekeyRecord, theirs: RekeyRecord, now: float
) -> None:
    assert ours.child is not None and theirs.child is not None
    old.state = ChildState.REKEYED
    if ours.lowest < theirs.lowest:
        # Our new SA is redundant: we close it; the peer closes the old one.
        ours.child.state = ChildState.INSTALLED
        sa.ctx.emit(ChildSaRekeyed(sa.ike_sa_id, old.child_sa_id, theirs.child.child_sa_id, now))
        sa.delete_child(ours.child, DownReason.REKEYED, now)
    else:
        sa.ctx.emit(ChildSaRekeyed(sa.ike_sa_id, old.child_sa_id, ours.child.child_sa_id, now))
        sa.delete_child(old, DownReason.REKEYED, now)


def respond(sa: IkeSaHandle, request: IkeMessage, now: float) -> list[Payload]:
    notify = request.get_notify(NotifyType.REKEY_SA)
    assert notify is not None
    nonce = request.get(NoncePayload)
    old = sa.find_child_by_spi_out(notify.spi)
    if old is None:
        return [
            NotifyPayload(NotifyType.CHILD_SA_NOT_FOUND, protocol=ProtocolId.ESP, spi=notify.spi)
        ]
    if old.state in (ChildState.DELETING, ChildState.REKEYED) or sa.ike_rekey_by_us is not None:
        return [NotifyPayload(NotifyType.TEMPORARY_FAILURE)]
    if nonce is None:
        return refusal(ChildRefused("no nonce", notify=NotifyType.INVALID_SYNTAX))
    nonce_r = sa.ctx.random_bytes(32)
    try:
        new, payloads = respond_child(
            sa,
            request,
            nonce_i=nonce.data,
            nonce_r=nonce_r,
            allow_pfs=True,
            send_nonce=True,
            now=now,
            rekeyed_from=old.child_sa_id,
        )
    except ChildRefused as err:
        return refusal(err)
    sa.add_child(new, now)
    if old.state is ChildState.REKEYING:
        # We are rekeying it too: decide when our own exchange completes.
        sa.child_rekeys[old.child_sa_id] = RekeyRecord(nonce.data, nonce_r, child=new)
    else:
        old.state = ChildState.REKEYED
        sa.ctx.emit(ChildSaRekeyed(sa.ike_sa_id, old.child_sa_id, new.child_sa_id, now))
    return payloads
