"""INFORMATIONAL exchanges (RFC 2408 5.5 and 5.15, RFC 2409 5.7): DELETE of the ISAKMP
SA or of IPsec SAs, INITIAL-CONTACT, and dead peer detection (RFC 3706)'s
R-U-THERE / R-U-THERE-ACK. Each is one protected message; nothing is retransmitted but
the DPD probes, which carry their own sequence numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import DownReason, NegotiationFailed
from engine.ike.policy import DpdMode, DpdPolicy
from engine.ikev1.constants import NotifyType, ProtocolId
from engine.ikev1.exchanges.base import NEVER, Exchange
from engine.ikev1.message import Header
from engine.ikev1.payloads import DeletePayload, NotifyPayload, Payload

if TYPE_CHECKING:
    from engine.ikev1.isakmp_sa import IsakmpSa


class Informational(Exchange):
    name = "informational"

    def receive(
        self, sa: IsakmpSa, header: Header, payloads: list[Payload], tail: bytes, now: float
    ) -> None:
        sa.check_protected(self.message_id, payloads, tail)
        self.finish()
        for payload in payloads[1:]:
            if isinstance(payload, DeletePayload):
                _delete(sa, payload, now)
                if sa.closed:
                    return
            elif isinstance(payload, NotifyPayload):
                _notify(sa, payload, now)


def _delete(sa: IsakmpSa, payload: DeletePayload, now: float) -> None:
    if payload.protocol == ProtocolId.ISAKMP:
        if sa.cookie_i + sa.cookie_r in payload.spis:
            # the IPsec SAs live on until they expire or are deleted (IOS: UP-NO-IKE)
            sa.ctx.orphan_children(sa, now)  # type: ignore[attr-defined]
            sa.close(DownReason.PEER_DELETE, now, notify_peer=False)
        return
    if payload.protocol != ProtocolId.ESP:
        return
    for spi in payload.spis:
        # the peer names its inbound SPI, which is our outbound one
        for child in list(sa.children.values()):
            if child.spi_out == spi:
                sa.remove_child(child, DownReason.PEER_DELETE, now)


def _notify(sa: IsakmpSa, payload: NotifyPayload, now: float) -> None:
    if payload.notify_type == NotifyType.R_U_THERE:
        sa.send_one_shot(
            [
                NotifyPayload(
                    NotifyType.R_U_THERE_ACK,
                    ProtocolId.ISAKMP,
                    sa.cookie_i + sa.cookie_r,
                    payload.data,
                )
            ]
        )
    elif payload.notify_type == NotifyType.R_U_THERE_ACK and sa.dpd is not None:
        sa.dpd.acknowledged(payload.data, now)
    elif payload.notify_type == NotifyType.INITIAL_CONTACT:
        sa.ctx.initial_contact(sa, now)  # type: ignore[attr-defined]
    elif payload.notify_type < ERROR_NOTIFY_END:
        _refused(sa, payload, now)


#: notify types below this are errors (RFC 2408 section 3.14.1)
ERROR_NOTIFY_END = 8192


def _refused(sa: IsakmpSa, payload: NotifyPayload, now: float) -> None:
    """A protected error notify: the peer refused something of ours. Before phase 1 is up
    it is our phase 1 that ends; after, the quick mode it names (by our inbound SPI),
    else those under way, rather than being resent until the ISAKMP SA goes."""
    from engine.ikev1.error_notify import notify_name
    from engine.ikev1.exchanges.quick_mode import QuickModeInitiator

    name = notify_name(payload.notify_type)
    sa.ctx.stats["protected error notifies"] += 1  # type: ignore[attr-defined]
    if not sa.is_up:
        sa.ctx.emit(
            NegotiationFailed(
                sa.local, sa.remote, sa.peer_name, f"peer answered {name}", now, name, "IKEv1"
            )
        )
        authentication = payload.notify_type in (
            NotifyType.AUTHENTICATION_FAILED,
            NotifyType.INVALID_HASH_INFORMATION,
        )
        sa.close(
            DownReason.AUTHENTICATION_FAILED if authentication else DownReason.NEGOTIATION_FAILED,
            now,
            notify_peer=False,
            detail=name,
        )
        return
    pending = [e for e in sa.exchanges.values() if isinstance(e, QuickModeInitiator) and not e.done]
    named = [e for e in pending if e.spi_in and e.spi_in == payload.spi]
    for exchange in named or pending:
        exchange.finish()
        sa.forget_exchange(exchange.message_id)
        sa.ctx.release_child_spi(exchange.spi_in)
        sa.ctx.emit(
            NegotiationFailed(
                sa.local, sa.remote, sa.peer_name, f"peer answered {name}", now, name, "IKEv1"
            )
        )


class DeadPeerDetection:
    """RFC 3706: after `interval` seconds without anything from the peer, R-U-THERE every
    `retry_interval` seconds; `retries` unanswered ones and the peer is dead."""

    def __init__(self, policy: DpdPolicy, now: float) -> None:
        self.policy = policy
        self.sequence = 0
        self.outstanding = 0
        self.next_probe = NEVER

    def due(self, sa: IsakmpSa) -> float:
        if self.outstanding:
            return self.next_probe
        if self.policy.mode is DpdMode.ON_DEMAND and not sa.children:
            return NEVER  # on-demand: only a peer we send traffic to is worth probing
        return sa.last_inbound + self.policy.interval

    def fire(self, sa: IsakmpSa, now: float) -> None:
        if self.outstanding and now - sa.last_inbound < self.policy.interval:
            self.outstanding = 0  # it spoke meanwhile
            return
        if self.outstanding > self.policy.retries:
            for child in list(sa.children.values()):
                sa.remove_child(child, DownReason.DPD_TIMEOUT, now)
            sa.close(DownReason.DPD_TIMEOUT, now, notify_peer=False)
            return
        self.sequence = (self.sequence + 1) & 0xFFFFFFFF or 1
        self.outstanding += 1
        self.next_probe = now + self.policy.retry_interval
        sa.send_one_shot(
            [
                NotifyPayload(
                    NotifyType.R_U_THERE,
                    ProtocolId.ISAKMP,
                    sa.cookie_i + sa.cookie_r,
                    self.sequence.to_bytes(4, "big"),
                )
            ]
        )

    def acknowledged(self, data: bytes, now: float) -> None:
        if int.from_bytes(data[:4], "big") == self.sequence:
            self.outstanding = 0
            self.next_probe = NEVER
