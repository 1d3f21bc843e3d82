"""IKE_SA_INIT (RFC 7296 section 1.2): algorithms, Diffie-Hellman, nonces, NAT detection.

Covers the COOKIE round trip (2.6) and INVALID_KE_PAYLOAD retries (1.2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.crypto import (
    DhKeyPair,
    UnsupportedAlgorithm,
    derive_ike_keys,
    dh_group,
    encryption,
    integrity,
    prf,
)
from engine.events import DownReason, NegotiationFailed
from engine.ike.constants import ExchangeType, NotifyType
from engine.ike.errors import RemoteProtocolError
from engine.ike.exchanges.base import Exchange
from engine.ike.exchanges.ike_auth import IkeAuth
from engine.ike.exchanges.key_exchange import agree, answer_key_exchange
from engine.ike.nat_detection import detect, nat_notifies
from engine.ike.payloads import KePayload, NoncePayload, NotifyPayload, Payload, SaPayload
from engine.ike.proposals import (
    IkeSuite,
    ike_sa_payload,
    ike_suite_from_response,
    offered_groups,
    select_ike,
)
from engine.ike.sa_state import IkeState, error_notify_name

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.policy import IkeProposalPolicy
    from engine.ike.sa_interface import IkeSaHandle

NONCE_SIZE = 32
MAX_INIT_RESTARTS = 3


def nat_notifies_for(sa: IkeSaHandle) -> list[NotifyPayload]:
    """NAT-D payloads; with forced encapsulation our source hash is random, so that both
    sides see a NAT and put ESP in UDP (what strongSwan's `encap = yes` does)."""
    payloads = nat_notifies(sa.spi_i, sa.spi_r, sa.local, sa.remote)
    if sa.ctx.config.force_encapsulation:
        payloads[0] = NotifyPayload(payloads[0].notify_type, sa.ctx.random_bytes(20))
    return payloads


def setup_keys(sa: IkeSaHandle, suite: IkeSuite, shared_secret: bytes) -> None:
    keys = derive_ike_keys(
        prf(suite.prf),
        encryption(suite.encryption.encr_id, suite.encryption.key_bits),
        None if suite.encryption.is_aead else integrity(suite.integrity),
        sa.nonce_i,
        sa.nonce_r,
        shared_secret,
        sa.spi_i,
        sa.spi_r,
    )
    sa.install_keys(suite, keys)


class IkeSaInit(Exchange):
    exchange_type = ExchangeType.IKE_SA_INIT
    name = "IKE_SA_INIT"
    encrypted = False

    def __init__(self) -> None:
        self.group: int | None = None
        self.keypair: DhKeyPair | None = None
        self.cookie = b""
        self.restarts = 0

    def build(self, sa: IkeSaHandle, now: float) -> list[Payload] | None:
        assert sa.peer is not None
        proposals = sa.peer.ike_proposals
        if self.group is None:
            self.group = offered_groups(proposals)[0]
        if self.keypair is None or self.keypair.group_id != self.group:
            self.keypair = dh_group(self.group).generate(sa.ctx.random_bytes)
        if not sa.nonce_i:
            sa.nonce_i = sa.ctx.random_bytes(NONCE_SIZE)
        payloads: list[Payload] = []
        if self.cookie:
            payloads.append(NotifyPayload(NotifyType.COOKIE, self.cookie))
        payloads += [
            ike_sa_payload(proposals, first_group=self.group),
            KePayload(self.group, self.keypair.public),
            NoncePayload(sa.nonce_i),
            *nat_notifies_for(sa),
        ]
        return payloads

    def complete(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> None:
        assert sa.peer is not None
        cookie = response.get_notify(NotifyType.COOKIE)
        if cookie is not None and self.restarts < MAX_INIT_RESTARTS:
            self.restarts += 1
            self.cookie = cookie.data
            sa.restart_init(self, now)
            return
        invalid_ke = response.get_notify(NotifyType.INVALID_KE_PAYLOAD)
        if invalid_ke is not None:
            wanted = int.from_bytes(invalid_ke.data[:2], "big") if len(invalid_ke.data) >= 2 else 0
            if (
                wanted in offered_groups(sa.peer.ike_proposals)
                and wanted != self.group
                and self.restarts < MAX_INIT_RESTARTS
            ):
                self.restarts += 1
                self.group = wanted
                sa.restart_init(self, now)
                return
            self._fail(
                sa,
                now,
                f"peer wants DH group {wanted}, which we do not offer",
                "INVALID_KE_PAYLOAD",
            )
            return
        error = error_notify_name(response)
        if error:
            self._fail(sa, now, f"peer refused IKE_SA_INIT: {error}", error)
            return
        try:
            self._accept(sa, response)
        except (RemoteProtocolError, UnsupportedAlgorithm) as err:
            self._fail(sa, now, str(err), "")
            return
        sa.move_to(IkeState.AUTH_SENT)
        sa.start(IkeAuth(), now, first=True)

    def _accept(self, sa: IkeSaHandle, response: IkeMessage) -> None:
        assert sa.peer is not None and self.keypair is not None
        sa_payload = response.get(SaPayload)
        ke = response.get(KePayload)
        nonce = response.get(NoncePayload)
        if sa_payload is None or ke is None or nonce is None:
            raise RemoteProtocolError("IKE_SA_INIT response lacks SA, KE or Nonce")
        if response.spi_r == bytes(8):
            raise RemoteProtocolError("IKE_SA_INIT response with a zero responder SPI")
        suite = ike_suite_from_response(sa_payload, sa.peer.ike_proposals)
        if suite is None:
            raise RemoteProtocolError("responder chose a proposal we did not offer")
        if ke.dh_group != suite.dh_group or suite.dh_group != self.group:
            raise RemoteProtocolError("responder's KE group differs from the chosen group")
        sa.spi_r = response.spi_r
        sa.nonce_r = nonce.data
        shared = agree(self.keypair, ke.data)
        setup_keys(sa, suite, shared)
        sa.nat_local, sa.nat_remote = detect(response, sa.local, sa.remote)
        sa.nat_local = sa.nat_local or sa.ctx.config.force_encapsulation
        if sa.nat_local or sa.nat_remote:
            # RFC 7296 2.23: once NAT is seen, the initiator moves to its NAT-T port; the
            # peer's port moves only from 500 (to its NAT-T port, 4500 unless configured),
            # as strongSwan's float_ports() does: a custom peer port stays as it is.
            natt = sa.ctx.config.natt_port
            if sa.local[1] != natt:
                sa.local = (sa.local[0], natt)
                if sa.remote[1] == 500:
                    sa.remote = (sa.remote[0], sa.peer.remote_natt_port)

    def _fail(self, sa: IkeSaHandle, now: float, reason: str, notify: str) -> None:
        sa.ctx.emit(NegotiationFailed(sa.local, sa.remote, sa.peer_name, reason, now, notify))
        sa.close(DownReason.NEGOTIATION_FAILED, now, notify_peer=False, detail=reason)


class InitRejected(RemoteProtocolError):
    """The responder answers IKE_SA_INIT with an error notify and keeps no state."""


def respond(
    sa: IkeSaHandle, request: IkeMessage, proposals: tuple[IkeProposalPolicy, ...], now: float
) -> list[Payload]:
    """Responder side; raises InitRejected with the notify to send back."""
    sa_payload = request.get(SaPayload)
    ke = request.get(KePayload)
    nonce = request.get(NoncePayload)
    if sa_payload is None or ke is None or nonce is None:
        raise InitRejected(
            "IKE_SA_INIT request lacks SA, KE or Nonce", notify=NotifyType.INVALID_SYNTAX
        )
    chosen = select_ike(sa_payload, proposals)
    if chosen is None:
        raise InitRejected("no acceptable IKE proposal", notify=NotifyType.NO_PROPOSAL_CHOSEN)
    proposal, suite = chosen
    keypair, shared = answer_key_exchange(sa, ke, suite.dh_group, InitRejected)
    sa.nonce_i = nonce.data
    sa.nonce_r = sa.ctx.random_bytes(NONCE_SIZE)
    setup_keys(sa, suite, shared)
    sa.nat_local, sa.nat_remote = detect(request, sa.local, sa.remote)
    sa.nat_local = sa.nat_local or sa.ctx.config.force_encapsulation
    return [
        SaPayload((proposal,)),
        KePayload(suite.dh_group, keypair.public),
        NoncePayload(sa.nonce_r),
        *nat_notifies_for(sa),
    ]
