"""One IKE SA: its keys, message IDs, request window, retransmission and children.

This class owns the mechanics every exchange shares (RFC 7296 sections 2.1-2.3):
one request outstanding at a time, exponential retransmission, the cached
response for a retransmitted request, and the order in which queued exchanges
run. What each exchange puts in its messages lives in `engine.ike.exchanges`.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from engine.events import (
    Address,
    ChildAlgorithms,
    ChildSaDeleted,
    ChildSaInstalled,
    DownReason,
    IkeAlgorithms,
    IkeEvent,
    IkeSaAbandoned,
    IkeSaDown,
    IkeSaUp,
    RetransmitGiveUp,
    TrafficSelectorSet,
)
from engine.ike.child_sa import ChildSa, ChildState
from engine.ike.constants import ExchangeType, NotifyType
from engine.ike.crypto import (
    Encryption,
    IkeKeys,
    Integrity,
    Prf,
    RandomBytes,
    SkCipher,
    encryption,
    integrity,
    prf,
)
from engine.ike.errors import IkeDrop, IntegrityError, RemoteProtocolError
from engine.ike.message import IkeHeader, IkeMessage, decode_message, encode_message
from engine.ike.payloads import NotifyPayload, Payload
from engine.ike.policy import IkeConfig, PeerPolicy
from engine.ike.proposals import INTEG_NAMES, PRF_NAMES, IkeSuite
from engine.ike.traffic_selectors import describe
from engine.ratelimit import TokenBucket

if TYPE_CHECKING:
    from engine.ike.exchanges.base import Exchange

ZERO_SPI = bytes(8)
#: INVALID_SPI notices one peer may get at once, then one per INVALID_SPI_INTERVAL s
INVALID_SPI_BURST = 3
INVALID_SPI_INTERVAL = 10.0
#: SPIs remembered per IKE SA as already reported
REPORTED_SPIS_KEPT = 64


class SaContext(Protocol):
    """What an IKE SA needs from the engine that holds it."""

    config: IkeConfig
    random_bytes: RandomBytes

    def new_id(self) -> int: ...
    def new_ike_spi(self) -> bytes: ...
    def new_child_spi(self) -> bytes: ...
    def emit(self, event: IkeEvent) -> None: ...
    def send(self, data: bytes, local: Address, remote: Address) -> None: ...
    def register(self, sa: IkeSa) -> None: ...
    def leave_half_open(self, sa: IkeSa) -> None: ...
    def unregister(self, sa: IkeSa) -> None: ...
    def reschedule(self, sa: IkeSa) -> None: ...


class IkeState(Enum):
    INIT_SENT = "init-sent"
    HALF_OPEN = "half-open"
    AUTH_SENT = "auth-sent"
    ESTABLISHED = "established"
    REKEYED = "rekeyed"
    DELETING = "deleting"
    CLOSED = "closed"


@dataclass(slots=True)
class Outstanding:
    exchange: Exchange
    message_id: int
    data: bytes
    delays: list[float]
    attempt: int
    next_send_at: float


@dataclass(slots=True)
class RekeyRecord:
    """A finished or running IKE/child rekey exchange, kept to resolve collisions."""

    nonce_i: bytes
    nonce_r: bytes
    new: object = None  # the new ChildSa or IkeSa
    we_initiated: bool = False

    @property
    def lowest(self) -> bytes:
        return min(self.nonce_i, self.nonce_r)


@dataclass(slots=True)
class Liveness:
    last_inbound: float
    last_outbound_traffic: float = 0.0


class IkeSa:
    """An IKE SA and the child SAs it carries."""

    def __init__(
        self,
        ctx: SaContext,
        *,
        initiator: bool,
        local: Address,
        remote: Address,
        peer: PeerPolicy | None,
        spi_i: bytes,
        spi_r: bytes = ZERO_SPI,
        now: float,
    ) -> None:
        self.ctx = ctx
        self.ike_sa_id = ctx.new_id()
        self.initiator = initiator
        self.local = local
        self.remote = remote
        self.peer = peer
        self.spi_i = spi_i
        self.spi_r = spi_r
        self.state = IkeState.INIT_SENT if initiator else IkeState.HALF_OPEN
        self.created_at = now
        self.established_at: float | None = None
        self.rekey_at = float("inf")
        self.expire_at = float("inf")
        self.half_open_deadline = now + ctx.config.half_open_timeout
        # crypto
        self.suite: IkeSuite | None = None
        self.prf: Prf | None = None
        self.encr: Encryption | None = None
        self.integ: Integrity | None = None
        self.keys: IkeKeys | None = None
        self.sk_out: SkCipher | None = None
        self.sk_in: SkCipher | None = None
        self.nonce_i = b""
        self.nonce_r = b""
        self.init_request = b""
        self.init_response = b""
        self.local_id_text = ""
        self.remote_id_text = ""
        self.nat_local = False
        self.nat_remote = False
        # message IDs and the window of one
        self.next_request_id = 0
        self.expected_request_id = 0
        self.outstanding: Outstanding | None = None
        self.queue: deque[Exchange] = deque()
        self.cached_response: tuple[int, bytes] | None = None
        # children and rekeys
        self.children: dict[int, ChildSa] = {}
        self.child_rekeys: dict[int, RekeyRecord] = {}  # old child id -> peer's rekey of it
        self.ike_rekey_by_peer: RekeyRecord | None = None
        self.ike_rekey_by_us: RekeyRecord | None = None
        self.rekeyed_from: int | None = None
        self.successor: IkeSa | None = None
        self.liveness = Liveness(last_inbound=now)
        self._arrived_on = local
        #: SPIs told to the peer lately (bounded), and how many more notices it may get
        self.reported_invalid_spis: OrderedDict[bytes, None] = OrderedDict()
        self.invalid_spi_budget = TokenBucket(1 / INVALID_SPI_INTERVAL, INVALID_SPI_BURST)
        #: lost a simultaneous IKE rekey: its going away is not a session event
        self.redundant = False
        self.down_reason: DownReason | None = None
        #: why `delete` was asked for, while the DELETE waits for the window
        self.deleting_reason = DownReason.LOCAL_DELETE
        self.closed_at: float | None = None

    # ------------------------------------------------------------------ identity
    @property
    def local_spi(self) -> bytes:
        return self.spi_i if self.initiator else self.spi_r

    @property
    def peer_name(self) -> str:
        return self.peer.name if self.peer else ""

    @property
    def is_up(self) -> bool:
        return self.state in (IkeState.ESTABLISHED, IkeState.REKEYED, IkeState.DELETING)

    def __repr__(self) -> str:
        return (
            f"IkeSa(id={self.ike_sa_id}, {self.state.value}, peer={self.peer_name!r}, "
            f"remote={self.remote}, spi_i={self.spi_i.hex()}, spi_r={self.spi_r.hex()})"
        )

    # ------------------------------------------------------------------ keys
    def install_keys(self, suite: IkeSuite, keys: IkeKeys) -> None:
        self.suite = suite
        self.prf = prf(suite.prf)
        self.encr = encryption(suite.encryption.encr_id, suite.encryption.key_bits)
        self.integ = None if suite.encryption.is_aead else integrity(suite.integrity)
        self.keys = keys
        ours_e, ours_a = (keys.sk_ei, keys.sk_ai) if self.initiator else (keys.sk_er, keys.sk_ar)
        theirs_e, theirs_a = (
            (keys.sk_er, keys.sk_ar) if self.initiator else (keys.sk_ei, keys.sk_ai)
        )
        self.sk_out = SkCipher(self.encr, self.integ, ours_e, ours_a)
        self.sk_in = SkCipher(self.encr, self.integ, theirs_e, theirs_a)

    @property
    def algorithms(self) -> IkeAlgorithms:
        assert self.suite is not None
        return IkeAlgorithms(
            encryption=self.suite.encryption.name,
            prf=PRF_NAMES.get(self.suite.prf, str(self.suite.prf)),
            integrity=INTEG_NAMES.get(self.suite.integrity, str(self.suite.integrity)),
            dh_group=self.suite.dh_group,
        )

    # ------------------------------------------------------------------ sending
    def encode(
        self,
        exchange: ExchangeType,
        payloads: list[Payload],
        *,
        response: bool,
        message_id: int,
        encrypted: bool = True,
    ) -> bytes:
        msg = IkeMessage(
            spi_i=self.spi_i,
            spi_r=self.spi_r,
            exchange=exchange,
            message_id=message_id,
            is_response=response,
            is_initiator=self.initiator,
            payloads=payloads,
            encrypted=encrypted,
        )
        if not encrypted:
            return encode_message(msg)
        assert self.sk_out is not None
        return encode_message(msg, self.sk_out, self.ctx.random_bytes(self.sk_out.iv_size))

    def transmit(self, data: bytes) -> None:
        self.ctx.send(data, self.local, self.remote)

    def start(self, exchange: Exchange, now: float, *, first: bool = False) -> None:
        """Queue an exchange; it runs when the window is free."""
        if self.state is IkeState.CLOSED:
            return
        if first:
            self.queue.appendleft(exchange)
        else:
            self.queue.append(exchange)
        self.pump(now)

    def has_queued(self, kind: type) -> bool:
        return any(isinstance(e, kind) for e in self.queue) or (
            self.outstanding is not None and isinstance(self.outstanding.exchange, kind)
        )

    def pump(self, now: float) -> None:
        while self.outstanding is None and self.queue and self.state is not IkeState.CLOSED:
            exchange = self.queue.popleft()
            payloads = exchange.build(self, now)
            if payloads is None:
                continue
            data = self.encode(
                exchange.exchange_type,
                payloads,
                response=False,
                message_id=self.next_request_id,
                encrypted=exchange.encrypted,
            )
            delays = exchange.retransmit_delays(self)
            self.outstanding = Outstanding(
                exchange, self.next_request_id, data, delays, 0, now + delays[0]
            )
            if exchange.exchange_type == ExchangeType.IKE_SA_INIT:
                self.init_request = data
            self.transmit(data)
        self.ctx.reschedule(self)

    def restart_init(self, exchange: Exchange, now: float) -> None:
        """Send IKE_SA_INIT again (cookie or INVALID_KE_PAYLOAD): message ID 0 again."""
        self.outstanding = None
        self.next_request_id = 0
        self.start(exchange, now, first=True)

    # ------------------------------------------------------------------ receiving
    def receive(
        self, header: IkeHeader, data: bytes, local: Address, remote: Address, now: float
    ) -> None:
        if self.state is IkeState.CLOSED:
            return
        self._arrived_on = local
        if header.is_response:
            self._receive_response(header, data, remote, now)
        else:
            self._receive_request(header, data, remote, now)
        self.ctx.reschedule(self)

    def _decode(self, header: IkeHeader, data: bytes) -> IkeMessage:
        if header.exchange == ExchangeType.IKE_SA_INIT:
            return decode_message(data)
        if self.sk_in is None:
            raise IntegrityError("encrypted message before keys exist")
        return decode_message(data, self.sk_in)

    def _note_authentic(self, remote: Address, now: float) -> None:
        """An authenticated message: the peer is alive, and may have moved (NAT, MOBIKE)."""
        self.liveness.last_inbound = now
        if self.state is not IkeState.INIT_SENT:
            self.remote = remote
            self.local = self._arrived_on

    def _receive_response(
        self, header: IkeHeader, data: bytes, remote: Address, now: float
    ) -> None:
        out = self.outstanding
        if out is None or header.message_id != out.message_id:
            raise RemoteProtocolError(
                f"unexpected response id {header.message_id}",
                notify=None,
                drop=IkeDrop.UNEXPECTED_MESSAGE_ID,
            )
        if header.exchange != out.exchange.exchange_type:
            raise RemoteProtocolError(
                "response of another exchange type",
                notify=None,
                drop=IkeDrop.UNEXPECTED_EXCHANGE,
            )
        message = self._decode(header, data)
        if header.exchange == ExchangeType.IKE_SA_INIT:
            self.init_response = data
        else:
            self._note_authentic(remote, now)
        self.outstanding = None
        self.next_request_id += 1
        if self.state is not IkeState.DELETING or out.exchange.runs_while_deleting:
            out.exchange.complete(self, message, now)
        self.pump(now)

    def _receive_request(self, header: IkeHeader, data: bytes, remote: Address, now: float) -> None:
        from engine.ike.responder import respond

        if self.cached_response is not None and header.message_id == self.cached_response[0]:
            # A retransmitted request: the cached answer, nothing processed again.
            if header.exchange != ExchangeType.IKE_SA_INIT:
                self._decode(header, data)  # authenticate before answering
            self.transmit(self.cached_response[1])
            return
        if header.message_id != self.expected_request_id:
            raise RemoteProtocolError(
                f"request id {header.message_id}, expected {self.expected_request_id}",
                notify=None,
                drop=IkeDrop.UNEXPECTED_MESSAGE_ID,
            )
        try:
            message = self._decode(header, data)
        except IntegrityError:
            raise
        except RemoteProtocolError as err:
            if err.notify is None:
                raise
            payloads: list[Payload] = [NotifyPayload(int(err.notify), err.notify_data)]
            self._answer(header, payloads, now)
            return
        self._note_authentic(remote, now)
        payloads = respond(self, message, now)
        self._answer(header, payloads, now)

    def _answer(self, header: IkeHeader, payloads: list[Payload], now: float) -> None:
        if self.state is IkeState.CLOSED and self.sk_out is None:
            return
        data = self.encode(
            ExchangeType(header.exchange),
            payloads,
            response=True,
            message_id=header.message_id,
            encrypted=header.exchange != ExchangeType.IKE_SA_INIT,
        )
        self.expected_request_id = header.message_id + 1
        self.cached_response = (header.message_id, data)
        if header.exchange == ExchangeType.IKE_SA_INIT:
            self.init_response = data
        self.transmit(data)
        self.pump(now)

    # ------------------------------------------------------------------ timers
    def next_timer(self) -> float:
        if self.state is IkeState.CLOSED:
            return float("inf")
        candidates = [self.expire_at]
        if self.state is IkeState.ESTABLISHED:
            candidates.append(self.rekey_at)
        if self.outstanding is not None:
            candidates.append(self.outstanding.next_send_at)
        if self.state is IkeState.HALF_OPEN:
            candidates.append(self.half_open_deadline)
        for child in self.children.values():
            candidates.append(child.expire_at)
            if child.state is ChildState.INSTALLED:
                candidates.append(child.rekey_at)
        dpd = self.peer.dpd if self.peer else None
        if dpd is not None and self.state is IkeState.ESTABLISHED and self.outstanding is None:
            candidates.append(self.liveness.last_inbound + dpd.interval)
        return min(candidates)

    def handle_timer(self, now: float) -> None:
        from engine.ike.exchanges.liveness import LivenessCheck
        from engine.ike.exchanges.rekey_child import RekeyChild
        from engine.ike.exchanges.rekey_ike import RekeyIke

        if self.state is IkeState.CLOSED:
            return
        out = self.outstanding
        if out is not None and now >= out.next_send_at:
            out.attempt += 1
            if out.attempt >= len(out.delays):
                self.outstanding = None
                self.ctx.emit(
                    RetransmitGiveUp(
                        self.ike_sa_id,
                        self.peer_name,
                        self.remote,
                        out.exchange.name,
                        out.attempt,
                        now,
                    )
                )
                if self.state is IkeState.DELETING and not out.exchange.runs_while_deleting:
                    detail = "peer did not answer before the delete"
                    self.close(self.deleting_reason, now, notify_peer=False, detail=detail)
                    return
                out.exchange.give_up(self, now)
                if self.state is IkeState.CLOSED:
                    return
            else:
                out.next_send_at = now + out.delays[out.attempt]
                self.transmit(out.data)
        if self.state is IkeState.HALF_OPEN and now >= self.half_open_deadline:
            self.close(DownReason.HALF_OPEN_TIMEOUT, now, notify_peer=False)
            return
        if now >= self.expire_at:
            self.close(DownReason.LIFETIME_EXPIRED, now, notify_peer=True)
            return
        for child in list(self.children.values()):
            if now >= child.expire_at:
                self.expire_child(child, now)
            elif child.state is ChildState.INSTALLED and now >= child.rekey_at:
                child.rekey_at = float("inf")
                self.start(RekeyChild(child.child_sa_id), now)
        if self.state is IkeState.ESTABLISHED and now >= self.rekey_at:
            self.rekey_at = float("inf")
            if not self.has_queued(RekeyIke):
                self.start(RekeyIke(), now)
        dpd = self.peer.dpd if self.peer else None
        if (
            dpd is not None
            and self.state is IkeState.ESTABLISHED
            and self.outstanding is None
            and now >= self.liveness.last_inbound + dpd.interval
        ):
            self.start(LivenessCheck(), now)
        self.pump(now)

    # ------------------------------------------------------------------ lifecycle
    def lifetimes(self, now: float, lifetime: float) -> tuple[float, float]:
        """(rekey_at, expire_at): rekey at 85-90% of the lifetime, jittered so that
        two peers with the same lifetime rarely rekey at the same moment."""
        jitter = self.ctx.random_bytes(1)[0] / 255.0
        return now + lifetime * (0.90 - 0.05 * jitter), now + lifetime

    def established(self, now: float) -> None:
        assert self.peer is not None
        self.state = IkeState.ESTABLISHED
        self.ctx.leave_half_open(self)
        self.established_at = now
        self.rekey_at, self.expire_at = self.lifetimes(now, self.peer.ike_lifetime)
        self.liveness.last_inbound = now
        self.ctx.emit(
            IkeSaUp(
                ike_sa_id=self.ike_sa_id,
                peer_name=self.peer_name,
                local=self.local,
                remote=self.remote,
                spi_i=self.spi_i,
                spi_r=self.spi_r,
                initiator=self.initiator,
                local_id=self.local_id_text,
                remote_id=self.remote_id_text,
                algorithms=self.algorithms,
                nat_local=self.nat_local,
                nat_remote=self.nat_remote,
                lifetime=self.peer.ike_lifetime,
                at=now,
                rekeyed_from=self.rekeyed_from,
            )
        )
        self.ctx.reschedule(self)

    def add_child(self, child: ChildSa, now: float) -> None:
        self.children[child.child_sa_id] = child
        suite = child.suite
        self.ctx.emit(
            ChildSaInstalled(
                ike_sa_id=self.ike_sa_id,
                child_sa_id=child.child_sa_id,
                peer_name=self.peer_name,
                local=self.local,
                remote=self.remote,
                spi_in=child.spi_in_int,
                spi_out=child.spi_out_int,
                algorithms=ChildAlgorithms(
                    encryption=suite.encryption.name,
                    integrity=INTEG_NAMES.get(suite.integrity, str(suite.integrity)),
                    dh_group=suite.dh_group,
                    esn=suite.esn,
                ),
                traffic_selectors=TrafficSelectorSet(
                    describe(child.local_ts), describe(child.remote_ts)
                ),
                lifetime=child.lifetime,
                lifetime_kb=child.lifetime_kb,
                udp_encapsulation=self.nat_local or self.nat_remote or self.uses_natt_port,
                initiator=child.initiator,
                at=now,
                keys=child.keys,
                rekeyed_from=child.rekeyed_from,
            )
        )
        self.ctx.reschedule(self)

    @property
    def uses_natt_port(self) -> bool:
        return self.local[1] == self.ctx.config.natt_port

    def remove_child(self, child: ChildSa, reason: DownReason, now: float) -> None:
        if self.children.pop(child.child_sa_id, None) is None:
            return
        self.ctx.emit(
            ChildSaDeleted(
                self.ike_sa_id,
                child.child_sa_id,
                self.peer_name,
                child.spi_in_int,
                child.spi_out_int,
                reason,
                now,
            )
        )

    def delete_child(self, child: ChildSa, reason: DownReason, now: float) -> None:
        """Tell the peer, then remove it when the peer answers."""
        from engine.ike.exchanges.delete import DeleteChild

        if child.state is ChildState.DELETING:
            return
        child.state = ChildState.DELETING
        self.start(DeleteChild(child.child_sa_id, child.spi_in, reason), now)

    def expire_child(self, child: ChildSa, now: float) -> None:
        """The hard lifetime: the SA goes now, whatever exchange about it is pending
        (a rekey or delete the peer has not answered must not keep it alive, RFC 7296
        2.8), and the peer is told unless a DELETE for it is already on the wire."""
        from engine.ike.exchanges.delete import DeleteChild

        out = self.outstanding
        told = (
            out is not None
            and isinstance(out.exchange, DeleteChild)
            and out.exchange.child_sa_id == child.child_sa_id
        )
        self.remove_child(child, DownReason.LIFETIME_EXPIRED, now)
        if told:
            return
        queued = [
            e
            for e in self.queue
            if isinstance(e, DeleteChild) and e.child_sa_id == child.child_sa_id
        ]
        for exchange in queued:
            exchange.even_if_gone = True
        if not queued and self.sk_out is not None:
            notice = DeleteChild(child.child_sa_id, child.spi_in, DownReason.LIFETIME_EXPIRED)
            notice.even_if_gone = True
            self.start(notice, now)

    def may_report_invalid_spi(self, spi: bytes, now: float) -> bool:
        """Whether an INVALID_SPI notice for `spi` may go to this peer now."""
        from engine.ike.exchanges.invalid_spi import InvalidSpiNotice

        if spi in self.reported_invalid_spis or self.has_queued(InvalidSpiNotice):
            return False
        if not self.invalid_spi_budget.allow(now):
            return False
        self.reported_invalid_spis[spi] = None
        if len(self.reported_invalid_spis) > REPORTED_SPIS_KEPT:
            self.reported_invalid_spis.popitem(last=False)
        return True

    def find_child_by_spi_out(self, spi: bytes) -> ChildSa | None:
        return next((c for c in self.children.values() if c.spi_out == spi), None)

    def find_child_by_spi_in(self, spi: bytes) -> ChildSa | None:
        return next((c for c in self.children.values() if c.spi_in == spi), None)

    def adopt_children(self, old: IkeSa, now: float) -> None:
        """Move the child SAs of a rekeyed IKE SA here (RFC 7296 section 2.18)."""
        for child in list(old.children.values()):
            old.children.pop(child.child_sa_id)
            self.children[child.child_sa_id] = child
        old.successor = self
        self.ctx.reschedule(self)

    def delete(self, reason: DownReason, now: float) -> None:
        """Delete this IKE SA and its children with the peer (clear, shutdown, config)."""
        from engine.ike.exchanges.delete import DeleteIke

        if self.state is IkeState.CLOSED:
            return
        if not self.is_up or self.sk_out is None:
            self.close(reason, now, notify_peer=False)
            return
        if self.state is IkeState.DELETING:
            return
        self.state = IkeState.DELETING
        self.deleting_reason = reason
        self.queue.clear()
        out = self.outstanding
        if out is not None:
            # The window holds one request (RFC 7296 2.3) and the peer may already have
            # processed it: its Message ID is spent, and a DELETE under it would be taken
            # for a retransmission. The DELETE follows the answer, which is asked for now.
            self.transmit(out.data)
        self.start(DeleteIke(reason), now)

    def close(self, reason: DownReason, now: float, *, notify_peer: bool, detail: str = "") -> None:
        """Remove the SA here. With notify_peer, a one-shot DELETE goes out first."""
        if self.state is IkeState.CLOSED:
            return
        was_up = self.is_up
        out = self.outstanding
        if notify_peer and was_up and out is not None and out.exchange.runs_while_deleting:
            self.transmit(out.data)  # our DELETE is already on the wire: once more
        elif notify_peer and was_up and self.sk_out is not None:
            from engine.ike.exchanges.delete import delete_ike_payloads

            # Past an unanswered request: its Message ID may be spent at the peer.
            message_id = self.next_request_id + (out is not None)
            data = self.encode(
                ExchangeType.INFORMATIONAL,
                delete_ike_payloads(),
                response=False,
                message_id=message_id,
            )
            self.transmit(data)
        for child in list(self.children.values()):
            self.remove_child(child, reason, now)
        self.state = IkeState.CLOSED
        self.down_reason = reason
        self.closed_at = now
        self.outstanding = None
        self.queue.clear()
        if not was_up and self.initiator and self.rekeyed_from is None:
            self.ctx.emit(
                IkeSaAbandoned(
                    self.ike_sa_id, self.peer_name, self.local, self.remote, reason, now, detail
                )
            )
        if was_up:
            self.ctx.emit(
                IkeSaDown(
                    self.ike_sa_id, self.peer_name, self.local, self.remote, reason, now, detail
                )
            )
        self.ctx.unregister(self)


def error_notify_name(message: IkeMessage) -> str:
    notify = message.error_notify()
    if notify is None:
        return ""
    try:
        return NotifyType(notify.notify_type).name
    except ValueError:
        return f"ERROR_{notify.notify_type}"
