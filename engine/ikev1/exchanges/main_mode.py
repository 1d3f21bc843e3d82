"""Main mode with pre-shared keys (RFC 2409 section 5.4): six messages, identities
protected.

    MM1 SA, VIDs  ->  MM2 SA, VIDs  ->  MM3 KE, Ni, NAT-D  ->  MM4 KE, Nr, NAT-D
    ->  MM5* IDii, HASH_I [, INITIAL-CONTACT]  ->  MM6* IDir, HASH_R
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import AuthenticationFailed, NegotiationFailed
from engine.ikev1.constants import ExchangeType, NotifyType, PayloadType, ProtocolId
from engine.ikev1.errors import AuthenticationRefused, Ikev1Error, ProposalRefused
from engine.ikev1.exchanges import phase1
from engine.ikev1.exchanges.base import Exchange
from engine.ikev1.message import Header
from engine.ikev1.payloads import NotifyPayload, Payload, SaPayload
from engine.ikev1.payloads.opaque import hash_payload, ke, nonce
from engine.ikev1.proposals import (
    check_offer,
    choose_phase1,
    phase1_offer,
    phase1_refusal_of,
    read_phase1,
)

if TYPE_CHECKING:
    from engine.ikev1.isakmp_sa import IsakmpSa


def _sa_payload(payloads: list[Payload]) -> SaPayload:
    for payload in payloads:
        if isinstance(payload, SaPayload):
            return payload
    raise Ikev1Error("no SA payload", notify=NotifyType.PAYLOAD_MALFORMED)


def initial_contact(sa: IsakmpSa) -> NotifyPayload:
    return NotifyPayload(NotifyType.INITIAL_CONTACT, ProtocolId.ISAKMP, sa.cookie_i + sa.cookie_r)


class MainModeInitiator(Exchange):
    name = "main mode"

    def __init__(self) -> None:
        super().__init__(0)
        self.step = 1

    def start(self, sa: IsakmpSa, now: float) -> None:
        assert sa.ctx.config.isakmp is not None
        offer = phase1_offer(sa.ctx.config.isakmp.proposals)
        sa.sa_i_body = offer.encode()
        data = sa.seal(ExchangeType.MAIN, 0, [offer, *phase1.our_vendor_ids()], encrypted=False)
        sa.transmit(self, data, now, wait=True)

    def receive(
        self, sa: IsakmpSa, header: Header, payloads: list[Payload], tail: bytes, now: float
    ) -> None:
        from engine.ikev1.isakmp_sa import Ikev1State

        if header.exchange != ExchangeType.MAIN:
            raise Ikev1Error("not a main mode message")
        if self.step == 1:
            answer = _sa_payload(payloads)
            if len(answer.proposals) != 1 or len(answer.proposals[0].transforms) != 1:
                raise ProposalRefused("the answer must hold one proposal with one transform")
            choice = read_phase1(answer.proposals[0].transforms[0])
            assert sa.ctx.config.isakmp is not None
            if choice is None or choose_phase1(answer, sa.ctx.config.isakmp.proposals) is None:
                raise ProposalRefused("the responder chose a transform we did not offer")
            sa.choice = choice
            phase1.read_vendor_ids(sa, payloads)
            sa.public_i = phase1.new_key_exchange(sa)
            sa.nonce_i = phase1.nonce(sa)
            sa.state = Ikev1State.MM_SA_SETUP
            data = sa.seal(
                ExchangeType.MAIN,
                0,
                [ke(sa.public_i), nonce(sa.nonce_i), *phase1.nat_payloads(sa)],
                encrypted=False,
            )
            self.step = 3
            sa.transmit(self, data, now, wait=True)
            return
        if self.step == 3:
            sa.public_r = phase1.data_of(payloads, PayloadType.KE, "KE")
            sa.nonce_r = phase1.data_of(payloads, PayloadType.NONCE, "nonce")
            phase1.derive_keys(sa, phase1.initiator_psk(sa))
            phase1.detect_nat(sa, payloads)
            phase1.float_to_natt(sa)
            sa.state = Ikev1State.MM_KEY_EXCH
            identity = sa.peer.ikev1.self_identity if sa.peer and sa.peer.ikev1 else None
            sa.id_i = phase1.identity_payload(identity, sa.local[0])
            self.step = 5
            # INITIAL-CONTACT only when we hold nothing with the peer: on a renewal it
            # would make the peer drop the IPsec SAs that are to move to this SA
            fresh = not sa.ctx.holds_peer(sa)  # type: ignore[attr-defined]
            data = sa.seal(
                ExchangeType.MAIN,
                0,
                [
                    sa.id_i,
                    hash_payload(phase1.compute_hash_i(sa)),
                    *([initial_contact(sa)] if fresh else []),
                ],
                encrypted=True,
            )
            sa.transmit(self, data, now, wait=True)
            return
        if self.step == 5:
            if not header.encrypted:
                raise Ikev1Error("MM6 in the clear")
            sa.id_r = phase1.id_of(payloads)
            phase1.check_hash(sa, phase1.compute_hash_r(sa), payloads, "HASH_R", now)
            self.finish()
            sa.accept_iv()
            sa.established(now)
            return
        raise Ikev1Error("main mode is over")


class MainModeResponder(Exchange):
    name = "main mode"

    def __init__(self) -> None:
        super().__init__(0)
        self.step = 1

    def receive(
        self, sa: IsakmpSa, header: Header, payloads: list[Payload], tail: bytes, now: float
    ) -> None:
        from engine.ikev1.isakmp_sa import Ikev1State

        if header.exchange != ExchangeType.MAIN:
            raise Ikev1Error("not a main mode message")
        settings = sa.ctx.config.isakmp
        assert settings is not None
        if self.step == 1:
            offer = _sa_payload(payloads)
            check_offer(offer, phase1=True)
            chosen = choose_phase1(offer, settings.proposals)
            if chosen is None:
                refusal = phase1_refusal_of(offer)
                sa.ctx.emit(
                    NegotiationFailed(
                        sa.local,
                        sa.remote,
                        "",
                        "no isakmp policy matches the offer",
                        now,
                        refusal.name,
                        protocol="IKEv1",
                    )
                )
                raise ProposalRefused("no isakmp policy matches the offer", refusal)
            sa.choice, answer = chosen
            sa.sa_i_body = offer.raw
            phase1.read_vendor_ids(sa, payloads)
            self.step = 3
            sa.state = Ikev1State.MM_SA_SETUP
            data = sa.seal(
                ExchangeType.MAIN, 0, [answer, *phase1.our_vendor_ids(xauth=True)], encrypted=False
            )
            sa.transmit(self, data, now, wait=False)
            return
        if self.step == 3:
            sa.public_i = phase1.data_of(payloads, PayloadType.KE, "KE")
            sa.nonce_i = phase1.data_of(payloads, PayloadType.NONCE, "nonce")
            key = phase1.psk_for_peer(sa, None)
            if key is None:
                sa.ctx.emit(
                    AuthenticationFailed(
                        sa.local,
                        sa.remote,
                        "",
                        "",
                        f"no pre-shared key for {sa.remote[0]}",
                        now,
                        protocol="IKEv1",
                    )
                )
                raise AuthenticationRefused(f"no pre-shared key for {sa.remote[0]}")
            sa.public_r = phase1.new_key_exchange(sa)
            sa.nonce_r = phase1.nonce(sa)
            phase1.derive_keys(sa, key.key.reveal())
            self.no_xauth = key.no_xauth
            phase1.detect_nat(sa, payloads)
            self.step = 5
            sa.state = Ikev1State.MM_KEY_EXCH
            data = sa.seal(
                ExchangeType.MAIN,
                0,
                [ke(sa.public_r), nonce(sa.nonce_r), *phase1.nat_payloads(sa)],
                encrypted=False,
            )
            sa.transmit(self, data, now, wait=False)
            return
        if self.step == 5:
            if not header.encrypted:
                raise Ikev1Error("MM5 in the clear")
            sa.id_i = phase1.id_of(payloads)
            phase1.check_hash(sa, phase1.compute_hash_i(sa), payloads, "HASH_I", now)
            sa.accept_iv()
            peer = sa.ctx.select_peer(sa, sa.id_i, "")  # type: ignore[attr-defined]
            if peer is None:
                raise AuthenticationRefused(
                    f"no crypto map or profile matches identity {sa.id_i.text()}",
                    NotifyType.INVALID_ID_INFORMATION,
                )
            sa.peer = peer
            identity = peer.ikev1.self_identity if peer.ikev1 else None
            sa.id_r = phase1.identity_payload(identity, sa.local[0])
            contact = any(
                isinstance(p, NotifyPayload) and p.notify_type == NotifyType.INITIAL_CONTACT
                for p in payloads
            )
            data = sa.seal(
                ExchangeType.MAIN,
                0,
                [sa.id_r, hash_payload(phase1.compute_hash_r(sa))],
                encrypted=True,
            )
            self.step = 7
            sa.transmit(self, data, now, wait=False)
            self.done = True
            sa.established(now, initial_contact=contact, defer_announce=True)
            sa.start_remote_access(now, no_xauth=getattr(self, "no_xauth", False))  # type: ignore[attr-defined]
            return
        raise Ikev1Error("main mode is over")
