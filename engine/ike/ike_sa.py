"""One IKE SA: its identity, keys, child SAs and lifecycle.

The exchange window and queue are its task manager's (`engine.ike.task_manager`), when
it next needs attention is its timers' (`engine.ike.timers`), its states and the moves
between them are a table (`engine.ike.sa_state`), and what each exchange puts in its
messages is in `engine.ike.exchanges`, written against `engine.ike.sa_interface`.
"""

from __future__ import annotations

from collections import OrderedDict

from engine.crypto import Encryption, IkeKeys, Integrity, Prf, encryption, integrity, prf
from engine.events import (
    Address,
    ChildAlgorithms,
    ChildSaDeleted,
    ChildSaInstalled,
    DownReason,
    EspTransforms,
    IkeAlgorithms,
    IkeSaAbandoned,
    IkeSaDown,
    IkeSaUp,
    TrafficSelectorSet,
)
from engine.ike import timers
from engine.ike.child_sa import ChildSa, ChildState
from engine.ike.constants import ExchangeType
from engine.ike.exchanges.base import Exchange
from engine.ike.exchanges.delete import DeleteChild, DeleteIke, delete_ike_payloads
from engine.ike.exchanges.invalid_spi import InvalidSpiNotice
from engine.ike.message import IkeHeader, IkeMessage, encode_message
from engine.ike.payloads import Payload
from engine.ike.policy import PeerPolicy
from engine.ike.proposals import INTEG_NAMES, PRF_NAMES, IkeSuite
from engine.ike.sa_interface import IkeSaHandle, SaContext
from engine.ike.sa_state import (
    UP_STATES,
    ZERO_SPI,
    IkeState,
    Liveness,
    RekeyRecord,
    check_transition,
    initial_state,
)
from engine.ike.sk_cipher import SkCipher
from engine.ike.task_manager import TaskManager
from engine.ike.traffic_selectors import common_protocol, describe
from engine.ratelimit import TokenBucket

#: INVALID_SPI notices one peer may get at once, then one per INVALID_SPI_INTERVAL s
INVALID_SPI_BURST = 3
INVALID_SPI_INTERVAL = 10.0
#: SPIs remembered per IKE SA as already reported
REPORTED_SPIS_KEPT = 64

__all__ = ["ZERO_SPI", "IkeSa", "IkeState"]


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
        rekeyed_from: int | None = None,
    ) -> None:
        self.ctx = ctx
        self.ike_sa_id = ctx.new_id()
        self.initiator = initiator
        self.local = local
        self.remote = remote
        self.peer = peer
        self.spi_i = spi_i
        self.spi_r = spi_r
        self.state = initial_state(initiator=initiator, by_rekey=rekeyed_from is not None)
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
        self.tasks = TaskManager(self)
        # children and rekeys
        self.children: dict[int, ChildSa] = {}
        self.child_rekeys: dict[int, RekeyRecord] = {}  # old child id -> peer's rekey of it
        self.ike_rekey_by_peer: RekeyRecord | None = None
        self.ike_rekey_by_us: RekeyRecord | None = None
        self.rekeyed_from = rekeyed_from
        self.successor: IkeSaHandle | None = None
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
        return self.state in UP_STATES

    @property
    def busy(self) -> bool:
        return self.tasks.busy

    def move_to(self, state: IkeState) -> None:
        """Every state change goes through the transition table."""
        check_transition(self.state, state)
        self.state = state

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
            weak=self.suite.weak,
        )

    # ------------------------------------------------------------------ messages
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
        self.tasks.queue_exchange(exchange, now, first=first)

    def restart_init(self, exchange: Exchange, now: float) -> None:
        self.tasks.restart_init(exchange, now)

    def send_one_shot(self, exchange: ExchangeType, payloads: list[Payload]) -> None:
        """A request that waits for no window and no answer (a last notice to the peer)."""
        self.tasks.send_one_shot(exchange, payloads)

    def receive(
        self, header: IkeHeader, data: bytes, local: Address, remote: Address, now: float
    ) -> None:
        if self.state is IkeState.CLOSED:
            return
        self._arrived_on = local
        if header.is_response:
            self.tasks.receive_response(header, data, remote, now)
        else:
            self.tasks.receive_request(header, data, remote, now)
        self.ctx.reschedule(self)

    def note_authentic(self, remote: Address, now: float) -> None:
        """An authenticated message: the peer is alive, and may have moved (NAT, MOBIKE)."""
        self.liveness.last_inbound = now
        if self.state is not IkeState.INIT_SENT:
            self.remote = remote
            self.local = self._arrived_on

    # ------------------------------------------------------------------ timers
    def next_timer(self) -> float:
        return timers.next_timer(self)

    def handle_timer(self, now: float) -> None:
        timers.handle_timer(self, now)

    def lifetimes(self, now: float, lifetime: float) -> tuple[float, float]:
        """(rekey_at, expire_at): rekey at 85-90% of the lifetime, jittered so that
        two peers with the same lifetime rarely rekey at the same moment."""
        jitter = self.ctx.random_bytes(1)[0] / 255.0
        return now + lifetime * (0.90 - 0.05 * jitter), now + lifetime

    # ------------------------------------------------------------------ lifecycle
    def established(self, now: float) -> None:
        assert self.peer is not None
        self.move_to(IkeState.ESTABLISHED)
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
                    mode="transport" if child.transport else "tunnel",
                    mode_note=child.mode_note,
                    weak=suite.weak,
                ),
                transforms=EspTransforms(
                    encryption(suite.encryption.encr_id, suite.encryption.key_bits),
                    None if suite.encryption.is_aead else integrity(suite.integrity),
                    suite.esn,
                    child.transport,
                ),
                traffic_selectors=TrafficSelectorSet(
                    describe(child.local_ts),
                    describe(child.remote_ts),
                    common_protocol(child.local_ts + child.remote_ts),
                ),
                lifetime=child.lifetime,
                lifetime_kb=child.lifetime_kb,
                udp_encapsulation=self.nat_local or self.nat_remote or self.uses_natt_port,
                initiator=child.initiator,
                at=now,
                keys=child.keys,
                rekeyed_from=child.rekeyed_from,
                interface=self.peer.interface,
            )
        )
        self.ctx.reschedule(self)

    @property
    def uses_natt_port(self) -> bool:
        return self.local[1] == self.ctx.config.natt_port

    def remove_child(
        self, child: ChildSa, reason: DownReason, now: float, *, with_ike_sa: bool = False
    ) -> None:
        """`with_ike_sa`: the IKE SA closes too, and says so in an event right after."""
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
                with_ike_sa,
            )
        )

    def delete_child(self, child: ChildSa, reason: DownReason, now: float) -> None:
        """Tell the peer, then remove it when the peer answers."""
        if child.state is ChildState.DELETING:
            return
        child.state = ChildState.DELETING
        self.start(DeleteChild(child.child_sa_id, child.spi_in, reason), now)

    def expire_child(self, child: ChildSa, now: float) -> None:
        """The hard lifetime: the SA goes now, whatever exchange about it is pending
        (a rekey or delete the peer has not answered must not keep it alive, RFC 7296
        2.8), and the peer is told unless a DELETE for it is already on the wire."""
        out = self.tasks.outstanding
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
            for e in self.tasks.queue
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
        if spi in self.reported_invalid_spis or self.tasks.has_queued(InvalidSpiNotice):
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

    def adopt_children(self, old: IkeSaHandle, now: float) -> None:
        """Move the child SAs of a rekeyed IKE SA here (RFC 7296 section 2.18)."""
        for child in list(old.children.values()):
            old.children.pop(child.child_sa_id)
            self.children[child.child_sa_id] = child
        old.successor = self
        self.ctx.reschedule(self)

    def delete(self, reason: DownReason, now: float) -> None:
        """Delete this IKE SA and its children with the peer (clear, shutdown, config)."""
        if self.state is IkeState.CLOSED:
            return
        if not self.is_up or self.sk_out is None:
            self.close(reason, now, notify_peer=False)
            return
        if self.state is IkeState.DELETING:
            return
        self.move_to(IkeState.DELETING)
        self.deleting_reason = reason
        self.tasks.queue.clear()
        # The window holds one request (RFC 7296 2.3) and the peer may already have
        # processed it: its Message ID is spent, and a DELETE under it would be taken for
        # a retransmission. The DELETE follows the answer, which is asked for now.
        self.tasks.hurry()
        self.start(DeleteIke(reason), now)

    def close(self, reason: DownReason, now: float, *, notify_peer: bool, detail: str = "") -> None:
        """Remove the SA here. With notify_peer, a one-shot DELETE goes out first."""
        if self.state is IkeState.CLOSED:
            return
        was_up = self.is_up
        out = self.tasks.outstanding
        if notify_peer and was_up and out is not None and out.exchange.runs_while_deleting:
            self.tasks.hurry()  # our DELETE is already on the wire: once more
        elif notify_peer and was_up and self.sk_out is not None:
            self.send_one_shot(ExchangeType.INFORMATIONAL, delete_ike_payloads())
        # Whether an IkeSaDown or IkeSaAbandoned follows (below): the children's events
        # then say they go with it.
        announced = was_up or (self.initiator and self.rekeyed_from is None)
        for child in list(self.children.values()):
            self.remove_child(child, reason, now, with_ike_sa=announced)
        self.move_to(IkeState.CLOSED)
        self.down_reason = reason
        self.closed_at = now
        self.tasks.clear()
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
