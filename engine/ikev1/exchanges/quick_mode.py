"""Quick mode (RFC 2409 section 5.5): an IPsec SA pair under the ISAKMP SA's protection,
with PFS when a group is set, the client IDs as traffic selectors, and the responder's
lifetime when it is shorter than the initiator's (RESPONDER-LIFETIME, RFC 2407 4.6.3.1).

    QM1* HASH(1), SA, Ni [, KE] [, IDci, IDcr]
    QM2* HASH(2), SA, Nr [, KE] [, IDci, IDcr] [, RESPONDER-LIFETIME]
    QM3* HASH(3)
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.crypto import ChildKeys, DhKeyPair, InvalidPublicValue, dh_group
from engine.crypto.errors import CryptoError, UnsupportedAlgorithm
from engine.events import ChildSaRekeyed, InboundSaStaged, NegotiationFailed
from engine.ike.policy import IPNetwork
from engine.ikev1.constants import (
    EncapsulationMode,
    ExchangeType,
    IpsecAttr,
    LifeType,
    NotifyType,
    PayloadType,
    ProtocolId,
)
from engine.ikev1.errors import AuthenticationRefused, Ikev1Error, ProposalRefused
from engine.ikev1.exchanges.base import NEVER, Exchange
from engine.ikev1.keys import esp_key_size, keymat, quick_hash_2, quick_hash_3, split_esp_keys
from engine.ikev1.message import Header
from engine.ikev1.payloads import IdPayload, NotifyPayload, OpaquePayload, Payload, SaPayload
from engine.ikev1.payloads.attributes import DataAttribute, basic, decode_attributes
from engine.ikev1.payloads.identification import network_id
from engine.ikev1.payloads.opaque import hash_payload, ke, nonce
from engine.ikev1.payloads.sa import Proposal, Transform
from engine.ikev1.phase2_sa import Phase2Sa
from engine.ikev1.proposals import (
    EspChoice,
    check_offer,
    choose_esp,
    encapsulation_mode,
    esp_offer,
    esp_refusal_of,
    read_esp,
)

if TYPE_CHECKING:
    from engine.ikev1.isakmp_sa import IsakmpSa

NONCE_SIZE = 32
#: seconds a replaced IPsec SA stays installed for packets in flight before the side
#: that rekeyed deletes it (charon's delete_rekeyed_delay is 5 s); the other side waits
#: twice as long, in case the rekeying peer never deletes it (charon's IKEv1 does not)
REKEYED_GRACE = 3.0
#: an SA of the same selectors that one end negotiated less than this before the other
#: end negotiated another is not being renewed by it: the two ends started at once
COLLISION_WINDOW = 10.0
_UDP_MODES = (
    EncapsulationMode.UDP_TUNNEL,
    EncapsulationMode.UDP_TRANSPORT,
    EncapsulationMode.UDP_TUNNEL_DRAFT,
    EncapsulationMode.UDP_TRANSPORT_DRAFT,
)
_PLAIN_MODES = (EncapsulationMode.TUNNEL, EncapsulationMode.TRANSPORT)


def _opaque(payloads: list[Payload], kind: int) -> bytes | None:
    for payload in payloads:
        if isinstance(payload, OpaquePayload) and payload.payload_type == kind:
            return payload.data
    return None


def _check_first_hash(payloads: list[Payload], expected: bytes, what: str) -> None:
    first = payloads[0] if payloads else None
    if not (isinstance(first, OpaquePayload) and first.payload_type == PayloadType.HASH):
        raise AuthenticationRefused(f"{what} missing", NotifyType.INVALID_HASH_INFORMATION)
    if first.data != expected:
        raise AuthenticationRefused(f"{what} mismatch", NotifyType.INVALID_HASH_INFORMATION)


def _shared(dh: DhKeyPair | None, public: bytes | None) -> bytes:
    if dh is None:
        return b""
    if public is None:
        raise ProposalRefused("PFS agreed but no KE payload")
    try:
        return dh.shared_secret(public)
    except (InvalidPublicValue, CryptoError, ValueError) as err:
        raise Ikev1Error(
            f"bad PFS value: {err}", notify=NotifyType.INVALID_KEY_INFORMATION
        ) from None


def child_keys(
    sa: IsakmpSa,
    choice: EspChoice,
    spi_initiator: bytes,
    spi_responder: bytes,
    nonce_i: bytes,
    nonce_r: bytes,
    shared: bytes,
) -> ChildKeys:
    """Initiator-to-responder traffic is keyed by the responder's SPI, and back."""
    assert sa.keys is not None and sa.choice is not None
    size = esp_key_size(choice.encryption, choice.integrity)
    to_responder = keymat(
        sa.choice.prf,
        sa.keys.skeyid_d,
        ProtocolId.ESP,
        spi_responder,
        nonce_i,
        nonce_r,
        size,
        shared,
    )
    to_initiator = keymat(
        sa.choice.prf,
        sa.keys.skeyid_d,
        ProtocolId.ESP,
        spi_initiator,
        nonce_i,
        nonce_r,
        size,
        shared,
    )
    encr_i, integ_i = split_esp_keys(to_responder, choice.encryption, choice.integrity)
    encr_r, integ_r = split_esp_keys(to_initiator, choice.encryption, choice.integrity)
    return ChildKeys(encr_i, integ_i, encr_r, integ_r)


def _responder_lifetime(payloads: list[Payload]) -> tuple[float | None, int | None]:
    seconds: float | None = None
    kilobytes: int | None = None
    for payload in payloads:
        if (
            isinstance(payload, NotifyPayload)
            and payload.notify_type == NotifyType.RESPONDER_LIFETIME
        ):
            life_type = None
            for attr in decode_attributes(payload.data):
                if attr.kind == IpsecAttr.LIFE_TYPE:
                    life_type = attr.number
                elif attr.kind == IpsecAttr.LIFE_DURATION:
                    if life_type == LifeType.SECONDS:
                        seconds = float(attr.number)
                    elif life_type == LifeType.KILOBYTES:
                        kilobytes = attr.number
    return seconds, kilobytes


def _ids(payloads: list[Payload]) -> tuple[IdPayload, IdPayload] | None:
    ids = [p for p in payloads if isinstance(p, IdPayload)]
    if not ids:
        return None
    if len(ids) != 2:
        raise Ikev1Error(
            "quick mode needs both client IDs or none", notify=NotifyType.INVALID_ID_INFORMATION
        )
    return ids[0], ids[1]


def _schedule(sa: IsakmpSa, child: Phase2Sa, now: float) -> None:
    lifetime = child.choice.lifetime
    child.expire_at = now + lifetime
    # The initiator renews first. The responder renews too, later, in case the initiator
    # does not: a peer keeping a longer lifetime of its own (charon's 1 h against a
    # crypto map's 120 s) would otherwise let the SA lapse with a gap in traffic.
    margin = sa.ctx.config.rekey_margin
    child.rekey_at = now + lifetime * (1 - (margin if child.initiator else margin / 2))


def _install(sa: IsakmpSa, child: Phase2Sa, now: float) -> None:
    _schedule(sa, child, now)
    sa.add_child(child, now)
    old = sa.children.get(child.rekeyed_from) if child.rekeyed_from else None
    if old is None:
        # the peer renewed without saying which: the older SA of the same selectors
        for other in sa.children.values():
            if other is not child and other.selectors == child.selectors and not other.superseded:
                if other.initiator != child.initiator and now - other.created_at < COLLISION_WINDOW:
                    _settle_collision(sa, other, child, now)
                    return
                old = other
                child.rekeyed_from = other.child_sa_id
                break
    if old is not None:
        old.superseded = True
        sa.ctx.emit(ChildSaRekeyed(sa.ike_sa_id, old.child_sa_id, child.child_sa_id, now))
        # packets already on their way under the old SA still arrive for a moment;
        # then it goes, with a DELETE so that the peer drops it too
        grace = REKEYED_GRACE if child.initiator else 2 * REKEYED_GRACE
        old.expire_at = min(old.expire_at, now + grace)
        sa.ctx.reschedule(sa)


def _settle_collision(sa: IsakmpSa, first: Phase2Sa, second: Phase2Sa, now: float) -> None:
    """Both ends negotiated an SA for the same selectors at the same moment. Both ends
    keep the one whose lowest SPI is higher as the SA to renew, so they agree without a
    word (the rule IKEv2 gives for simultaneous rekeys, on SPIs since both ends know
    them). The other is not deleted early, since the peer may send on it; it stops
    renewing and runs out its lifetime."""
    redundant = min(first, second, key=_lowest_spi)
    kept = second if redundant is first else first
    redundant.superseded = True
    redundant.rekey_at = NEVER
    kept.rekeyed_from = redundant.child_sa_id
    sa.ctx.emit(ChildSaRekeyed(sa.ike_sa_id, redundant.child_sa_id, kept.child_sa_id, now))
    sa.ctx.reschedule(sa)


def _lowest_spi(child: Phase2Sa) -> int:
    return min(int.from_bytes(child.spi_in, "big"), int.from_bytes(child.spi_out, "big"))


class QuickModeInitiator(Exchange):
    name = "quick mode"

    def __init__(
        self,
        message_id: int,
        local_ts: IPNetwork,
        remote_ts: IPNetwork,
        protocol: int = 0,
        rekeyed_from: int | None = None,
    ) -> None:
        super().__init__(message_id)
        self.local_ts = local_ts
        self.remote_ts = remote_ts
        self.protocol = protocol
        self.rekeyed_from = rekeyed_from
        self.spi_in = b""
        self.nonce_i = b""
        self.dh: DhKeyPair | None = None
        self.offer: SaPayload | None = None

    @classmethod
    def begin(
        cls,
        sa: IsakmpSa,
        local_ts: IPNetwork,
        remote_ts: IPNetwork,
        now: float,
        protocol: int = 0,
        rekeyed_from: int | None = None,
    ) -> QuickModeInitiator:
        exchange = cls(sa.new_message_id(), local_ts, remote_ts, protocol, rekeyed_from)
        sa.exchanges[exchange.message_id] = exchange
        exchange.start(sa, now)
        return exchange

    @classmethod
    def rekey(cls, sa: IsakmpSa, child: Phase2Sa, now: float) -> None:
        cls.begin(sa, child.local_ts, child.remote_ts, now, child.protocol, child.child_sa_id)

    def start(self, sa: IsakmpSa, now: float) -> None:
        peer = sa.peer
        assert peer is not None
        self.spi_in = sa.ctx.new_child_spi()
        self.nonce_i = sa.ctx.random_bytes(NONCE_SIZE)
        if peer.pfs_group:
            self.dh = dh_group(peer.pfs_group).generate(sa.ctx.random_bytes)
        # `mode transport` asks for transport and takes tunnel if the peer refuses it:
        # the tunnel transforms follow the transport ones as alternatives
        modes = [encapsulation_mode(False, sa.udp_encapsulation)]
        if peer.mode.wants_transport:
            modes.insert(0, encapsulation_mode(True, sa.udp_encapsulation))
        transforms: list[Transform] = []
        for mode in modes:
            offer = esp_offer(
                peer.esp_proposals,
                self.spi_in,
                encapsulation=mode,
                lifetime=peer.child_lifetime,
                lifetime_kb=peer.child_lifetime_kb,
                group=peer.pfs_group,
            )
            transforms += [
                replace(t, number=len(transforms) + n + 1)
                for n, t in enumerate(offer.proposals[0].transforms)
            ]
        self.offer = SaPayload((replace(offer.proposals[0], transforms=tuple(transforms)),))
        payloads: list[Payload] = [self.offer, nonce(self.nonce_i)]
        if self.dh is not None:
            payloads.append(ke(self.dh.public))
        payloads += [
            network_id(self.local_ts, self.protocol),
            network_id(self.remote_ts, self.protocol),
        ]
        data = sa.seal_protected(ExchangeType.QUICK, self.message_id, payloads)
        sa.transmit(self, data, now, wait=True)

    def receive(
        self, sa: IsakmpSa, header: Header, payloads: list[Payload], tail: bytes, now: float
    ) -> None:
        if header.exchange != ExchangeType.QUICK or self.done:
            raise Ikev1Error("unexpected quick mode message")
        assert sa.keys is not None and sa.choice is not None and sa.peer is not None
        _check_first_hash(
            payloads,
            quick_hash_2(sa.choice.prf, sa.keys.skeyid_a, self.message_id, self.nonce_i, tail),
            "HASH(2)",
        )
        answer = next((p for p in payloads if isinstance(p, SaPayload)), None)
        nonce_r = _opaque(payloads, PayloadType.NONCE)
        if answer is None or nonce_r is None:
            raise Ikev1Error("QM2 without SA or nonce", notify=NotifyType.PAYLOAD_MALFORMED)
        if len(answer.proposals) != 1 or len(answer.proposals[0].transforms) != 1:
            raise ProposalRefused("QM2 must hold one proposal with one transform")
        proposal = answer.proposals[0]
        choice = read_esp(proposal.transforms[0])
        if choice is None or len(proposal.spi) != 4:
            raise ProposalRefused("the responder's ESP transform is not one we understand")
        peer = sa.peer
        offered = choose_esp(
            answer,
            peer.esp_proposals,
            encapsulations=(choice.encapsulation,),
            pfs_group=peer.pfs_group,
        )
        if offered is None:
            raise ProposalRefused("the responder chose a transform we did not offer")
        ids = _ids(payloads)
        if ids is not None and (
            ids[0].network() != self.local_ts or ids[1].network() != self.remote_ts
        ):
            raise Ikev1Error("QM2 changed the client IDs", notify=NotifyType.INVALID_ID_INFORMATION)
        shared = _shared(self.dh, _opaque(payloads, PayloadType.KE))
        seconds, kilobytes = _responder_lifetime(payloads)
        if seconds is not None and seconds < choice.lifetime:
            choice = _with_lifetime(choice, seconds, choice.lifetime_kb)
        if kilobytes is not None:
            choice = _with_lifetime(choice, choice.lifetime, kilobytes)
        keys = child_keys(sa, choice, self.spi_in, proposal.spi, self.nonce_i, nonce_r, shared)
        self.finish()
        data = sa.seal(
            ExchangeType.QUICK,
            self.message_id,
            [
                hash_payload(
                    quick_hash_3(
                        sa.choice.prf, sa.keys.skeyid_a, self.message_id, self.nonce_i, nonce_r
                    )
                )
            ],
            encrypted=True,
        )
        sa.transmit(self, data, now, wait=False)
        child = Phase2Sa(
            sa.ctx.new_id(),
            self.spi_in,
            proposal.spi,
            choice,
            self.local_ts,
            self.remote_ts,
            self.protocol,
            True,
            now,
            float("inf"),
            float("inf"),
            keys,
            self.rekeyed_from,
        )
        _install(sa, child, now)


def _with_lifetime(choice: EspChoice, seconds: float, kilobytes: int | None) -> EspChoice:
    return EspChoice(
        choice.encryption, choice.integrity, choice.group, choice.encapsulation, seconds, kilobytes
    )


def _covered(net: IPNetwork, allowed: tuple[IPNetwork, ...]) -> bool:
    return any(net.version == a.version and net.subnet_of(a) for a in allowed)  # type: ignore[arg-type]


class QuickModeResponder(Exchange):
    name = "quick mode"

    def __init__(self, message_id: int) -> None:
        super().__init__(message_id)
        self.child: Phase2Sa | None = None
        self.nonce_i = b""
        self.nonce_r = b""

    def receive(
        self, sa: IsakmpSa, header: Header, payloads: list[Payload], tail: bytes, now: float
    ) -> None:
        assert sa.keys is not None and sa.choice is not None
        if self.child is not None:
            _check_first_hash(
                payloads,
                quick_hash_3(
                    sa.choice.prf, sa.keys.skeyid_a, self.message_id, self.nonce_i, self.nonce_r
                ),
                "HASH(3)",
            )
            self.finish()
            child, self.child = self.child, None
            self.last_sent = None
            _install(sa, child, now)
            return
        if self.done:
            raise Ikev1Error("quick mode is over")
        sa.check_protected(self.message_id, payloads, tail)
        try:
            self._answer(sa, payloads, now)
        except Ikev1Error as err:
            # the engine answers with err.notify (protected), as for any refusal
            sa.ctx.emit(
                NegotiationFailed(
                    sa.local,
                    sa.remote,
                    sa.peer_name,
                    err.reason,
                    now,
                    err.notify.name if err.notify else "",
                    protocol="IKEv1",
                )
            )
            raise

    def _answer(self, sa: IsakmpSa, payloads: list[Payload], now: float) -> None:
        assert sa.keys is not None and sa.choice is not None
        peer = sa.peer
        if peer is None:
            raise Ikev1Error("quick mode on an ISAKMP SA without a policy")
        if sa.remote_access is not None and not sa.remote_access.complete:
            raise Ikev1Error(
                "quick mode before XAUTH and mode-config completed",
                notify=NotifyType.INVALID_EXCHANGE_TYPE,
            )
        offer = next((p for p in payloads if isinstance(p, SaPayload)), None)
        nonce_i = _opaque(payloads, PayloadType.NONCE)
        if offer is None or nonce_i is None:
            raise Ikev1Error("QM1 without SA or nonce", notify=NotifyType.PAYLOAD_MALFORMED)
        check_offer(offer, phase1=False)
        ids = _ids(payloads)
        if ids is None:
            remote_ts: IPNetwork = ipaddress.ip_network(sa.remote[0])
            local_ts: IPNetwork = ipaddress.ip_network(sa.local[0])
            protocol = 0
        else:
            remote_ts, local_ts = ids[0].network(), ids[1].network()
            protocol = ids[0].protocol
        self._check_selectors(sa, local_ts, remote_ts)
        udp = sa.udp_encapsulation or sa.uses_natt_port
        modes = _UDP_MODES if udp else _PLAIN_MODES
        if not peer.mode.wants_transport:
            modes = tuple(
                m
                for m in modes
                if m
                not in (
                    EncapsulationMode.TRANSPORT,
                    EncapsulationMode.UDP_TRANSPORT,
                    EncapsulationMode.UDP_TRANSPORT_DRAFT,
                )
            )
        chosen = choose_esp(
            offer, peer.esp_proposals, encapsulations=modes, pfs_group=peer.pfs_group
        )
        if chosen is None:
            raise ProposalRefused("no transform-set matches the offer", esp_refusal_of(offer))
        choice, proposal, transform = chosen
        dh = None
        if choice.group:
            try:
                dh = dh_group(choice.group).generate(sa.ctx.random_bytes)
            except UnsupportedAlgorithm as err:
                raise ProposalRefused(str(err)) from None
        shared = _shared(dh, _opaque(payloads, PayloadType.KE))
        notify: list[Payload] = []
        if choice.lifetime > peer.child_lifetime:
            choice = _with_lifetime(choice, peer.child_lifetime, choice.lifetime_kb)
            notify.append(
                NotifyPayload(
                    NotifyType.RESPONDER_LIFETIME,
                    ProtocolId.ESP,
                    proposal.spi,
                    b"".join(
                        a.encode()
                        for a in (
                            basic(IpsecAttr.LIFE_TYPE, LifeType.SECONDS),
                            DataAttribute(IpsecAttr.LIFE_DURATION, int(peer.child_lifetime)),
                        )
                    ),
                )
            )
        spi_in = sa.ctx.new_child_spi()
        self.nonce_i = nonce_i
        self.nonce_r = sa.ctx.random_bytes(NONCE_SIZE)
        answer = SaPayload((Proposal(proposal.number, ProtocolId.ESP, spi_in, (transform,)),))
        reply: list[Payload] = [answer, nonce(self.nonce_r)]
        if dh is not None:
            reply.append(ke(dh.public))
        if ids is not None:
            reply += [ids[0], ids[1]]
        reply += notify
        from engine.ikev1.payloads import encode_chain

        _, reply_tail = encode_chain(reply)
        digest = quick_hash_2(sa.choice.prf, sa.keys.skeyid_a, self.message_id, nonce_i, reply_tail)
        data = sa.seal(
            ExchangeType.QUICK, self.message_id, [hash_payload(digest), *reply], encrypted=True
        )
        keys = child_keys(sa, choice, proposal.spi, spi_in, nonce_i, self.nonce_r, shared)
        self.child = Phase2Sa(
            sa.ctx.new_id(),
            spi_in,
            proposal.spi,
            choice,
            local_ts,
            remote_ts,
            protocol,
            False,
            now,
            float("inf"),
            float("inf"),
            keys,
        )
        # the initiator may send on the new SA once it has read QM2: receive on it now
        sa.ctx.emit(InboundSaStaged(sa.installed_event(self.child, now)))
        # QM3 is the initiator's last word: until it comes, QM2 is resent
        sa.transmit(self, data, now, wait=True)

    def _check_selectors(self, sa: IsakmpSa, local_ts: IPNetwork, remote_ts: IPNetwork) -> None:
        peer = sa.peer
        assert peer is not None
        grant = sa.grant
        if grant is not None and grant.address is not None:
            if remote_ts != ipaddress.ip_network(grant.address):
                raise Ikev1Error(
                    f"client ID {remote_ts} is not the address {grant.address} it was given",
                    notify=NotifyType.INVALID_ID_INFORMATION,
                )
        elif peer.remote_ts and not _covered(remote_ts, peer.remote_ts):
            raise Ikev1Error(
                f"proxy identity {remote_ts} is outside the crypto ACL",
                notify=NotifyType.INVALID_ID_INFORMATION,
            )
        if peer.local_ts and not _covered(local_ts, peer.local_ts):
            raise Ikev1Error(
                f"proxy identity {local_ts} is outside the crypto ACL",
                notify=NotifyType.INVALID_ID_INFORMATION,
            )
