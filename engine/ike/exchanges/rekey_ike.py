"""Rekeying the IKE SA with CREATE_CHILD_SA (RFC 7296 sections 1.3.2, 2.18, 2.8.2).

The new IKE SA inherits every child SA. In a simultaneous rekey the new SA made by
the exchange holding the lowest nonce is redundant: its initiator deletes it,
and the other side deletes the old IKE SA.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.crypto import (
    DhKeyPair,
    derive_rekeyed_ike_keys,
    dh_group,
    encryption,
    integrity,
    prf,
)
from engine.events import DownReason, IkeSaRekeyed, NegotiationFailed
from engine.ike.child_sa import ChildState
from engine.ike.constants import ExchangeType, NotifyType
from engine.ike.errors import RemoteProtocolError
from engine.ike.exchanges.key_exchange import (
    KeRetrying,
    agree,
    answer_key_exchange,
    detail_of,
    invalid_ke_reason,
)
from engine.ike.payloads import KePayload, NoncePayload, NotifyPayload, Payload, SaPayload
from engine.ike.proposals import (
    IkeSuite,
    ike_sa_payload,
    ike_suite_from_response,
    offered_groups,
    select_ike,
)
from engine.ike.sa_state import IkeState, RekeyRecord, error_notify_name

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.sa_interface import IkeSaHandle

RETRY_AFTER = 2.0


def _successor(
    old: IkeSaHandle,
    *,
    initiator: bool,
    spi_i: bytes,
    spi_r: bytes,
    suite: IkeSuite,
    shared: bytes,
    nonce_i: bytes,
    nonce_r: bytes,
    now: float,
) -> IkeSaHandle:
    assert old.prf is not None and old.keys is not None
    keys = derive_rekeyed_ike_keys(
        old.prf,
        old.keys.sk_d,
        prf(suite.prf),
        encryption(suite.encryption.encr_id, suite.encryption.key_bits),
        None if suite.encryption.is_aead else integrity(suite.integrity),
        shared,
        nonce_i,
        nonce_r,
        spi_i,
        spi_r,
    )
    new = old.ctx.new_ike_sa(
        initiator=initiator,
        local=old.local,
        remote=old.remote,
        peer=old.peer,
        spi_i=spi_i,
        spi_r=spi_r,
        now=now,
        rekeyed_from=old.ike_sa_id,
    )
    new.nonce_i, new.nonce_r = nonce_i, nonce_r
    new.local_id_text, new.remote_id_text = old.local_id_text, old.remote_id_text
    new.nat_local, new.nat_remote = old.nat_local, old.nat_remote
    new.install_keys(suite, keys)
    new.established(now)
    return new


def finish(old: IkeSaHandle, winner: IkeSaHandle, now: float, *, delete_old: bool) -> None:
    """Hand the children to the surviving SA and retire the old one."""
    winner.adopt_children(old, now)
    old.move_to(IkeState.REKEYED)
    old.ctx.emit(IkeSaRekeyed(old.ike_sa_id, winner.ike_sa_id, now))
    if delete_old:
        old.delete(DownReason.REKEYED, now)


class RekeyIke(KeRetrying):
    exchange_type = ExchangeType.CREATE_CHILD_SA
    name = "CREATE_CHILD_SA (rekey IKE)"

    def __init__(self) -> None:
        super().__init__()
        self.spi = b""
        self.nonce = b""
        self.keypair: DhKeyPair | None = None

    def offered_groups(self, sa: IkeSaHandle) -> list[int]:
        return offered_groups(sa.peer.ike_proposals) if sa.peer else []

    def sent_group(self, sa: IkeSaHandle) -> int | None:
        return self.keypair.group_id if self.keypair else None

    def build(self, sa: IkeSaHandle, now: float) -> list[Payload] | None:
        if sa.state is not IkeState.ESTABLISHED or sa.peer is None or sa.suite is None:
            return None
        if any(c.state is ChildState.REKEYING for c in sa.children.values()):
            sa.start(self, now)  # after the child rekey in flight
            return None
        group = self.group if self.group is not None else sa.suite.dh_group
        self.spi = sa.ctx.new_ike_spi()
        self.nonce = sa.ctx.random_bytes(32)
        self.keypair = dh_group(group).generate(sa.ctx.random_bytes)
        sa.ike_rekey_by_us = RekeyRecord(self.nonce, b"", we_initiated=True)
        return [
            ike_sa_payload(sa.peer.ike_proposals, spi=self.spi, first_group=group),
            NoncePayload(self.nonce),
            KePayload(group, self.keypair.public),
        ]

    def give_up(self, sa: IkeSaHandle, now: float) -> None:
        sa.ike_rekey_by_us = None
        super().give_up(sa, now)

    def complete(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> None:
        assert sa.peer is not None and self.keypair is not None
        sa.ike_rekey_by_us = None
        if self.retried_for_group(sa, response, now):
            return
        error = error_notify_name(response)
        theirs = sa.ike_rekey_by_peer
        peer_won = (
            theirs is not None
            and theirs.ike is not None
            and theirs.ike.state is IkeState.ESTABLISHED
        )
        if error:
            if peer_won and theirs is not None and theirs.ike is not None:
                # Our request crossed the peer's, which it completed first.
                finish(sa, theirs.ike, now, delete_old=False)
            elif response.get_notify(NotifyType.TEMPORARY_FAILURE) is not None:
                sa.rekey_at = now + RETRY_AFTER
            else:
                reason = f"IKE rekey refused: {error}{detail_of(invalid_ke_reason(response))}"
                sa.ctx.emit(
                    NegotiationFailed(sa.local, sa.remote, sa.peer_name, reason, now, error)
                )
            return
        try:
            new = self._accept(sa, response, now)
        except RemoteProtocolError as err:
            sa.ctx.emit(
                NegotiationFailed(
                    sa.local, sa.remote, sa.peer_name, f"IKE rekey: {err.reason}", now
                )
            )
            return
        if sa.state is not IkeState.ESTABLISHED:
            new.redundant = True
            new.delete(DownReason.REPLACED, now)
            return
        if peer_won and theirs is not None and theirs.ike is not None:
            ours = RekeyRecord(self.nonce, new.nonce_r, ike=new, we_initiated=True)
            if ours.lowest < theirs.lowest:
                new.redundant = True
                finish(sa, theirs.ike, now, delete_old=False)
                new.delete(DownReason.REPLACED, now)
            else:
                theirs.ike.redundant = True
                finish(sa, new, now, delete_old=True)
            return
        finish(sa, new, now, delete_old=True)

    def _accept(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> IkeSaHandle:
        assert sa.peer is not None and self.keypair is not None
        sa_payload = response.get(SaPayload)
        nonce = response.get(NoncePayload)
        ke = response.get(KePayload)
        if sa_payload is None or nonce is None or ke is None:
            raise RemoteProtocolError("IKE rekey response lacks SA, Nonce or KE")
        suite = ike_suite_from_response(sa_payload, sa.peer.ike_proposals)
        if (
            suite is None
            or suite.dh_group != self.keypair.group_id
            or ke.dh_group != suite.dh_group
        ):
            raise RemoteProtocolError("IKE rekey response does not match our offer")
        spi_r = sa_payload.proposals[0].spi
        if len(spi_r) != 8:
            raise RemoteProtocolError("IKE rekey response without an 8-byte SPI")
        shared = agree(self.keypair, ke.data)
        return _successor(
            sa,
            initiator=True,
            spi_i=self.spi,
            spi_r=spi_r,
            suite=suite,
            shared=shared,
            nonce_i=self.nonce,
            nonce_r=nonce.data,
            now=now,
        )


def respond(sa: IkeSaHandle, request: IkeMessage, now: float) -> list[Payload]:
    assert sa.peer is not None
    if sa.state is not IkeState.ESTABLISHED or any(
        c.state is ChildState.REKEYING for c in sa.children.values()
    ):
        return [NotifyPayload(NotifyType.TEMPORARY_FAILURE)]
    sa_payload = request.get(SaPayload)
    nonce = request.get(NoncePayload)
    ke = request.get(KePayload)
    if sa_payload is None or nonce is None or ke is None:
        return [NotifyPayload(NotifyType.INVALID_SYNTAX)]
    chosen = select_ike(sa_payload, sa.peer.ike_proposals)
    if chosen is None:
        return [NotifyPayload(NotifyType.NO_PROPOSAL_CHOSEN)]
    proposal, suite = chosen
    if len(proposal.spi) != 8:
        return [NotifyPayload(NotifyType.INVALID_SYNTAX)]
    try:
        keypair, shared = answer_key_exchange(sa, ke, suite.dh_group, RemoteProtocolError)
    except RemoteProtocolError as err:
        return [NotifyPayload(int(err.notify or NotifyType.INVALID_SYNTAX), err.notify_data)]
    nonce_r = sa.ctx.random_bytes(32)
    spi_r = sa.ctx.new_ike_spi()
    new = _successor(
        sa,
        initiator=False,
        spi_i=proposal.spi,
        spi_r=spi_r,
        suite=suite,
        shared=shared,
        nonce_i=nonce.data,
        nonce_r=nonce_r,
        now=now,
    )
    sa.ike_rekey_by_peer = RekeyRecord(nonce.data, nonce_r, ike=new)
    if sa.ike_rekey_by_us is None:
        # No collision: the children move now; the peer deletes the old SA.
        finish(sa, new, now, delete_old=False)
    chosen_proposal = type(proposal)(proposal.number, proposal.protocol, spi_r, proposal.transforms)
    return [
        SaPayload((chosen_proposal,)),
        NoncePayload(nonce_r),
        KePayload(suite.dh_group, keypair.public),
    ]
