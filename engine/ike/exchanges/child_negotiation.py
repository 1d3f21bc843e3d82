"""What IKE_AUTH, CREATE_CHILD_SA and child rekeys share: proposing, choosing and
keying one child SA (RFC 7296 sections 1.3, 2.9 and 2.17), and its mode (1.3.1:
the USE_TRANSPORT_MODE notify asks for transport mode; tunnel mode is the default).

Transport mode is negotiated only without NAT between the peers: across a NAT the
peers' real addresses differ from the outer ones (RFC 7296 2.23.1, RFC 3948 3.1.2),
which this gateway does not translate, so it asks and accepts tunnel mode there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.crypto import DhKeyPair, derive_child_keys, dh_group, encryption, integrity
from engine.ike.child_sa import ChildSa
from engine.ike.constants import NotifyType
from engine.ike.errors import RemoteProtocolError
from engine.ike.exchanges.key_exchange import agree, answer_key_exchange
from engine.ike.payloads import (
    KePayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    SaPayload,
    TrafficSelector,
    TsiPayload,
    TsrPayload,
)
from engine.ike.policy import parse_ip
from engine.ike.proposals import EspSuite, esp_sa_payload, esp_suite_from_response, select_esp
from engine.ike.traffic_selectors import is_subset, narrow, selectors_for

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.sa_interface import IkeSaHandle

NONCE_SIZE = 32


class ChildRefused(RemoteProtocolError):
    """The child SA cannot be created; `notify` goes back in place of its payloads."""


@dataclass(slots=True)
class ChildOffer:
    """What the initiator of a child exchange proposed, kept to check the answer."""

    spi_in: bytes
    nonce: bytes
    keypair: DhKeyPair | None
    pfs_group: int | None
    local_ts: tuple[TrafficSelector, ...]
    remote_ts: tuple[TrafficSelector, ...]
    #: we sent USE_TRANSPORT_MODE
    transport: bool = False
    #: why we did not ask for transport mode although policy wants it
    mode_note: str = ""


REFUSED_TRANSPORT = "peer refused transport mode; tunnel mode in use"
NAT_NO_TRANSPORT = "NAT between the peers: transport mode not used; tunnel mode in use"


NOT_ENDPOINTS = "selectors are not the peers' own addresses; tunnel mode in use"


def _behind_nat(sa: IkeSaHandle) -> bool:
    return sa.nat_local or sa.nat_remote


def _endpoints_only(
    sa: IkeSaHandle, local_ts: tuple[TrafficSelector, ...], remote_ts: tuple[TrafficSelector, ...]
) -> bool:
    """Transport mode protects the peers' own traffic (RFC 4301 4.1): each side's
    selectors must be exactly its IKE address, which the rebuilt IP header carries."""

    def only(selectors: tuple[TrafficSelector, ...], address: str) -> bool:
        try:
            ip = parse_ip(address)
        except ValueError:
            return False
        return bool(selectors) and all(
            ts.start_address == ip and ts.end_address == ip for ts in selectors
        )

    return only(local_ts, sa.local[0]) and only(remote_ts, sa.remote[0])


def _transport_refusal(
    sa: IkeSaHandle, local_ts: tuple[TrafficSelector, ...], remote_ts: tuple[TrafficSelector, ...]
) -> str:
    """Why this child cannot be in transport mode although policy asks ("" if it can)."""
    if _behind_nat(sa):
        return NAT_NO_TRANSPORT
    if not _endpoints_only(sa, local_ts, remote_ts):
        return NOT_ENDPOINTS
    return ""


def make_offer(
    sa: IkeSaHandle,
    *,
    with_nonce: bool,
    pfs_group: int | None,
    local_ts: tuple[TrafficSelector, ...] | None = None,
    remote_ts: tuple[TrafficSelector, ...] | None = None,
) -> ChildOffer:
    assert sa.peer is not None
    keypair = dh_group(pfs_group).generate(sa.ctx.random_bytes) if pfs_group else None
    protocol = sa.peer.ts_protocol
    local_ts = local_ts or selectors_for(sa.peer.local_ts, protocol)
    remote_ts = remote_ts or selectors_for(sa.peer.remote_ts, protocol)
    note = _transport_refusal(sa, local_ts, remote_ts) if sa.peer.mode.wants_transport else ""
    return ChildOffer(
        spi_in=sa.ctx.new_child_spi(),
        nonce=sa.ctx.random_bytes(NONCE_SIZE) if with_nonce else b"",
        keypair=keypair,
        pfs_group=pfs_group,
        local_ts=local_ts,
        remote_ts=remote_ts,
        transport=sa.peer.mode.wants_transport and not note,
        mode_note=note,
    )


def offer_payloads(sa: IkeSaHandle, offer: ChildOffer) -> list[Payload]:
    assert sa.peer is not None
    payloads: list[Payload] = []
    if offer.transport:
        payloads.append(NotifyPayload(NotifyType.USE_TRANSPORT_MODE))
    payloads.append(esp_sa_payload(sa.peer.esp_proposals, offer.spi_in, offer.pfs_group))
    if offer.nonce:
        payloads.append(NoncePayload(offer.nonce))
    if offer.keypair is not None:
        payloads.append(KePayload(offer.keypair.group_id, offer.keypair.public))
    payloads += [TsiPayload(offer.local_ts), TsrPayload(offer.remote_ts)]
    return payloads


def _new_child(
    sa: IkeSaHandle,
    *,
    spi_in: bytes,
    spi_out: bytes,
    suite: EspSuite,
    local_ts: tuple[TrafficSelector, ...],
    remote_ts: tuple[TrafficSelector, ...],
    we_initiated: bool,
    nonce_i: bytes,
    nonce_r: bytes,
    shared: bytes | None,
    now: float,
    rekeyed_from: int | None,
    transport: bool,
    mode_note: str,
) -> ChildSa:
    assert sa.peer is not None and sa.prf is not None and sa.keys is not None
    encr = encryption(suite.encryption.encr_id, suite.encryption.key_bits)
    integ = None if suite.encryption.is_aead else integrity(suite.integrity)
    keys = derive_child_keys(sa.prf, sa.keys.sk_d, encr, integ, nonce_i, nonce_r, shared)
    lifetime = sa.peer.child_lifetime
    rekey_at, expire_at = sa.lifetimes(now, lifetime)
    return ChildSa(
        child_sa_id=sa.ctx.new_id(),
        spi_in=spi_in,
        spi_out=spi_out,
        suite=suite,
        local_ts=local_ts,
        remote_ts=remote_ts,
        initiator=we_initiated,
        created_at=now,
        rekey_at=rekey_at,
        expire_at=expire_at,
        lifetime=lifetime,
        lifetime_kb=sa.peer.child_lifetime_kb,
        keys=keys,
        nonce_i=nonce_i,
        nonce_r=nonce_r,
        rekeyed_from=rekeyed_from,
        transport=transport,
        mode_note=mode_note,
    )


def accept_response(
    sa: IkeSaHandle,
    offer: ChildOffer,
    response: IkeMessage,
    *,
    nonce_i: bytes,
    nonce_r: bytes,
    now: float,
    rekeyed_from: int | None = None,
) -> ChildSa:
    """Initiator: check the responder's choice and build the child (not yet added)."""
    assert sa.peer is not None
    sa_payload = response.get(SaPayload)
    tsi = response.get(TsiPayload)
    tsr = response.get(TsrPayload)
    if sa_payload is None or tsi is None or tsr is None:
        raise RemoteProtocolError("child SA response lacks SA, TSi or TSr")
    chosen = esp_suite_from_response(sa_payload, sa.peer.esp_proposals, offer.pfs_group)
    if chosen is None:
        raise RemoteProtocolError("responder chose an ESP proposal we did not offer")
    proposal, suite = chosen
    if (
        not (is_subset(tsi.selectors, offer.local_ts) and is_subset(tsr.selectors, offer.remote_ts))
        or not tsi.selectors
        or not tsr.selectors
    ):
        raise RemoteProtocolError("responder widened the traffic selectors")
    transport = response.get_notify(NotifyType.USE_TRANSPORT_MODE) is not None
    if transport and not offer.transport:
        raise RemoteProtocolError("responder chose transport mode, which we did not ask for")
    mode_note = offer.mode_note or (REFUSED_TRANSPORT if offer.transport and not transport else "")
    shared = None
    if offer.keypair is not None:
        ke = response.get(KePayload)
        if ke is None or ke.dh_group != offer.keypair.group_id:
            raise RemoteProtocolError("PFS response without a matching KE payload")
        shared = agree(offer.keypair, ke.data)
    return _new_child(
        sa,
        spi_in=offer.spi_in,
        spi_out=proposal.spi,
        suite=suite,
        local_ts=tsi.selectors,
        remote_ts=tsr.selectors,
        we_initiated=True,
        nonce_i=nonce_i,
        nonce_r=nonce_r,
        shared=shared,
        now=now,
        rekeyed_from=rekeyed_from,
        transport=transport,
        mode_note=mode_note,
    )


def respond_child(
    sa: IkeSaHandle,
    request: IkeMessage,
    *,
    nonce_i: bytes,
    nonce_r: bytes,
    allow_pfs: bool,
    send_nonce: bool,
    now: float,
    rekeyed_from: int | None = None,
) -> tuple[ChildSa, list[Payload]]:
    """Responder: choose a proposal, narrow the selectors, key the child.

    Raises ChildRefused with NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE or INVALID_KE_PAYLOAD.
    """
    assert sa.peer is not None
    sa_payload = request.get(SaPayload)
    tsi = request.get(TsiPayload)
    tsr = request.get(TsrPayload)
    if sa_payload is None or tsi is None or tsr is None:
        raise ChildRefused(
            "child SA request lacks SA, TSi or TSr", notify=NotifyType.INVALID_SYNTAX
        )
    chosen = select_esp(sa_payload, sa.peer.esp_proposals, sa.peer.pfs_group if allow_pfs else None)
    if chosen is None:
        raise ChildRefused("no acceptable ESP proposal", notify=NotifyType.NO_PROPOSAL_CHOSEN)
    proposal, suite = chosen
    remote_ts = narrow(tsi.selectors, sa.peer.remote_ts, sa.peer.ts_protocol)
    local_ts = narrow(tsr.selectors, sa.peer.local_ts, sa.peer.ts_protocol)
    if not remote_ts or not local_ts:
        raise ChildRefused("traffic selectors outside policy", notify=NotifyType.TS_UNACCEPTABLE)
    # transport only when both ask for it (RFC 7296 1.3.1); otherwise tunnel, no notify
    asked = request.get_notify(NotifyType.USE_TRANSPORT_MODE) is not None
    mode_note = ""
    if sa.peer.mode.wants_transport:
        mode_note = (
            _transport_refusal(sa, local_ts, remote_ts)
            if asked
            else "peer asked for tunnel mode; tunnel mode in use"
        )
    transport = asked and sa.peer.mode.wants_transport and not mode_note
    shared = None
    reply: list[Payload] = []
    if suite.dh_group is not None:
        keypair, shared = answer_key_exchange(
            sa, request.get(KePayload), suite.dh_group, ChildRefused
        )
        reply.append(KePayload(suite.dh_group, keypair.public))
    spi_in = sa.ctx.new_child_spi()
    child = _new_child(
        sa,
        spi_in=spi_in,
        spi_out=proposal.spi,
        suite=suite,
        local_ts=local_ts,
        remote_ts=remote_ts,
        we_initiated=False,
        nonce_i=nonce_i,
        nonce_r=nonce_r,
        shared=shared,
        now=now,
        rekeyed_from=rekeyed_from,
        transport=transport,
        mode_note=mode_note,
    )
    chosen_proposal = type(proposal)(
        proposal.number, proposal.protocol, spi_in, proposal.transforms
    )
    payloads: list[Payload] = []
    if transport:
        payloads.append(NotifyPayload(NotifyType.USE_TRANSPORT_MODE))
    payloads.append(SaPayload((chosen_proposal,)))
    if send_nonce:
        payloads.append(NoncePayload(nonce_r))
    payloads += reply
    payloads += [TsiPayload(remote_ts), TsrPayload(local_ts)]
    return child, payloads


def refusal(err: RemoteProtocolError) -> list[Payload]:
    notify = err.notify or NotifyType.NO_PROPOSAL_CHOSEN
    return [NotifyPayload(int(notify), err.notify_data)]
