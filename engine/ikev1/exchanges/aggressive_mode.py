"""Aggressive mode with pre-shared keys (RFC 2409 section 5.4): three messages, the
initiator's identity in the clear, so that the responder can pick the key by it (the
group name of a remote-access client, as ID_KEY_ID).

    AM1 SA, KE, Ni, IDii, VIDs  ->  AM2 SA, KE, Nr, IDir, HASH_R, NAT-D, VIDs
    ->  AM3 HASH_I, NAT-D
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import AuthenticationFailed, NegotiationFailed
from engine.ikev1.constants import ExchangeType, NotifyType, PayloadType
from engine.ikev1.errors import AuthenticationRefused, Ikev1Error, ProposalRefused
from engine.ikev1.exchanges import phase1
from engine.ikev1.exchanges.base import Exchange
from engine.ikev1.exchanges.main_mode import _sa_payload
from engine.ikev1.message import Header
from engine.ikev1.payloads import Payload
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


class AggressiveModeInitiator(Exchange):
    name = "aggressive mode"

    def __init__(self, xauth: bool = False) -> None:
        super().__init__(0)
        self.xauth = xauth

    def start(self, sa: IsakmpSa, now: float) -> None:
        settings = sa.ctx.config.isakmp
        assert settings is not None and settings.proposals
        # one group only: our KE must be of the group the responder will choose
        group = sorted(settings.proposals, key=lambda p: p.priority)[0].group
        proposals = tuple(p for p in settings.proposals if p.group == group)
        offer = phase1_offer(proposals, xauth=self.xauth)
        sa.sa_i_body = offer.encode()
        transform = offer.proposals[0].transforms[0]
        first = read_phase1(transform)
        assert first is not None
        sa.choice = first
        sa.public_i = phase1.new_key_exchange(sa)
        sa.nonce_i = phase1.nonce(sa)
        identity = sa.peer.ikev1.self_identity if sa.peer and sa.peer.ikev1 else None
        sa.id_i = phase1.identity_payload(identity, sa.local[0])
        data = sa.seal(
            ExchangeType.AGGRESSIVE,
            0,
            [offer, ke(sa.public_i), nonce(sa.nonce_i), sa.id_i, *phase1.our_vendor_ids()],
            encrypted=False,
        )
        sa.transmit(self, data, now, wait=True)

    def receive(
        self, sa: IsakmpSa, header: Header, payloads: list[Payload], tail: bytes, now: float
    ) -> None:
        if header.exchange != ExchangeType.AGGRESSIVE or self.done:
            raise Ikev1Error("not an aggressive mode answer")
        answer = _sa_payload(payloads)
        if len(answer.proposals) != 1 or len(answer.proposals[0].transforms) != 1:
            raise ProposalRefused("the answer must hold one proposal with one transform")
        choice = read_phase1(answer.proposals[0].transforms[0])
        assert sa.ctx.config.isakmp is not None and sa.choice is not None
        if (
            choice is None
            or choose_phase1(answer, sa.ctx.config.isakmp.proposals) is None
            or choice.group != sa.choice.group
        ):
            raise ProposalRefused("the responder chose a transform we did not offer")
        sa.choice = choice
        phase1.read_vendor_ids(sa, payloads)
        sa.public_r = phase1.data_of(payloads, PayloadType.KE, "KE")
        sa.nonce_r = phase1.data_of(payloads, PayloadType.NONCE, "nonce")
        sa.id_r = phase1.id_of(payloads)
        phase1.derive_keys(sa, phase1.initiator_psk(sa))
        phase1.check_hash(sa, phase1.compute_hash_r(sa), payloads, "HASH_R", now)
        phase1.detect_nat(sa, payloads)
        nat = phase1.nat_payloads(sa)
        phase1.float_to_natt(sa)
        self.finish()
        data = sa.seal(
            ExchangeType.AGGRESSIVE,
            0,
            [hash_payload(phase1.compute_hash_i(sa)), *nat],
            encrypted=False,
        )
        sa.transmit(self, data, now, wait=False)
        sa.established(now)


class AggressiveModeResponder(Exchange):
    name = "aggressive mode"

    def __init__(self) -> None:
        super().__init__(0)
        self.step = 1
        self.no_xauth = False

    def receive(
        self, sa: IsakmpSa, header: Header, payloads: list[Payload], tail: bytes, now: float
    ) -> None:
        if header.exchange != ExchangeType.AGGRESSIVE:
            raise Ikev1Error("not an aggressive mode message")
        settings = sa.ctx.config.isakmp
        assert settings is not None
        if self.step == 1:
            if settings.aggressive_disabled:
                raise ProposalRefused("aggressive mode is disabled")
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
            sa.public_i = phase1.data_of(payloads, PayloadType.KE, "KE")
            sa.nonce_i = phase1.data_of(payloads, PayloadType.NONCE, "nonce")
            sa.id_i = phase1.id_of(payloads)
            key, group = phase1.psk_for_identity(sa, sa.id_i)
            if key is None:
                sa.ctx.emit(
                    AuthenticationFailed(
                        sa.local,
                        sa.remote,
                        "",
                        sa.id_i.text(),
                        f"no pre-shared key for {sa.id_i.text()}",
                        now,
                        protocol="IKEv1",
                    )
                )
                raise AuthenticationRefused(f"no pre-shared key for {sa.id_i.text()}")
            self.no_xauth = key.no_xauth
            sa.group = group
            peer = sa.ctx.select_peer(sa, sa.id_i, group)  # type: ignore[attr-defined]
            if peer is None:
                raise AuthenticationRefused(
                    f"no crypto map or profile matches identity {sa.id_i.text()}",
                    NotifyType.INVALID_ID_INFORMATION,
                )
            sa.peer = peer
            sa.public_r = phase1.new_key_exchange(sa)
            sa.nonce_r = phase1.nonce(sa)
            phase1.derive_keys(sa, key.key.reveal())
            phase1.detect_nat(sa, payloads)
            identity = peer.ikev1.self_identity if peer.ikev1 else None
            sa.id_r = phase1.identity_payload(identity, sa.local[0])
            self.step = 3
            data = sa.seal(
                ExchangeType.AGGRESSIVE,
                0,
                [
                    answer,
                    ke(sa.public_r),
                    nonce(sa.nonce_r),
                    sa.id_r,
                    hash_payload(phase1.compute_hash_r(sa)),
                    *phase1.nat_payloads(sa),
                    *phase1.our_vendor_ids(xauth=True),
                ],
                encrypted=False,
            )
            sa.transmit(self, data, now, wait=True)
            return
        if self.step == 3:
            # AM3 may come encrypted (RFC 2409 allows it) or, as most send it, in the clear
            phase1.check_hash(sa, phase1.compute_hash_i(sa), payloads, "HASH_I", now)
            sa.accept_iv()
            phase1.detect_nat(sa, payloads) if not (sa.nat_local or sa.nat_remote) else None
            self.finish()
            self.step = 4
            contact = any(
                getattr(p, "notify_type", None) == NotifyType.INITIAL_CONTACT for p in payloads
            )
            sa.established(now, initial_contact=contact, defer_announce=True)
            sa.start_remote_access(now, no_xauth=self.no_xauth)  # type: ignore[attr-defined]
            return
        raise Ikev1Error("aggressive mode is over")
