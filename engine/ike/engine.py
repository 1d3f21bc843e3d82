"""The sans-IO IKEv2 engine: bytes, addresses and `now` in; datagrams, timers, events out.

Modelled on aioquic's connection: the asyncio transport (engine.gateway) calls
`receive_datagram`, `handle_timer` and the operator actions, then drains
`datagrams_to_send()` and `events()`, and sleeps until `get_timer()`.
Nothing here opens a socket, reads a clock or sleeps.
"""

from __future__ import annotations

import heapq
import ipaddress
import os
from collections import Counter, deque
from dataclasses import dataclass

from engine.crypto import RandomBytes
from engine.events import (
    Address,
    DownReason,
    EngineFault,
    IkeEvent,
    IkeSaNegotiating,
    NegotiationFailed,
)
from engine.ike.child_sa import ChildSa
from engine.ike.constants import ExchangeType, HeaderFlag, NotifyType
from engine.ike.cookies import CookieJar
from engine.ike.errors import (
    IkeDrop,
    InvalidMajorVersion,
    MalformedMessage,
    RemoteProtocolError,
)
from engine.ike.exchanges.create_child import CreateChild
from engine.ike.exchanges.ike_sa_init import IkeSaInit, InitRejected
from engine.ike.exchanges.ike_sa_init import respond as respond_init
from engine.ike.exchanges.invalid_spi import InvalidSpiNotice
from engine.ike.exchanges.rekey_child import RekeyChild
from engine.ike.exchanges.rekey_ike import RekeyIke
from engine.ike.ike_sa import ZERO_SPI, IkeSa, IkeState
from engine.ike.message import (
    RESPONSE_BIT,
    IkeHeader,
    IkeMessage,
    decode_header,
    decode_message,
    encode_plain_response_notify,
)
from engine.ike.payloads import NoncePayload
from engine.ike.policy import IkeConfig, IkeProposalPolicy, PeerPolicy, parse_ip
from engine.ratelimit import TokenBucket

#: seconds before an SA whose timer did not move forward is served again
STALLED_TIMER_RETRY = 0.05
#: the timer heap is rebuilt without the entries of gone SAs once it holds more than
#: this many per live SA (plus TIMER_SLACK): the SAs of a mass clear leave a few each
TIMERS_PER_SA = 8
TIMER_SLACK = 1024
#: INVALID_SPI notices per second to all peers together
INVALID_SPI_PER_SECOND = 20.0


#: dropped datagrams kept with their detail
RECENT_DROPS_KEPT = 32


@dataclass(frozen=True, slots=True)
class RecentDrop:
    at: float
    remote: Address
    reason: IkeDrop
    detail: str


@dataclass(frozen=True, slots=True)
class Datagram:
    data: bytes
    local: Address
    remote: Address


class IkeEngine:
    """All IKE SAs of one gateway."""

    def __init__(self, config: IkeConfig, random_bytes: RandomBytes = os.urandom) -> None:
        self.config = config
        self.random_bytes = random_bytes
        self._next_id = 0
        self._by_spi: dict[bytes, IkeSa] = {}
        self._half_open: dict[tuple[bytes, Address], IkeSa] = {}
        self._half_open_keys: dict[int, tuple[bytes, Address]] = {}
        self._by_id: dict[int, IkeSa] = {}
        self._child_spis: set[bytes] = set()
        self._out: list[Datagram] = []
        self._events: deque[IkeEvent] = deque()
        self._timers: list[tuple[float, int, int]] = []
        self._timer_seq = 0
        self._cookies = CookieJar(random_bytes)
        self._invalid_spi_bucket = TokenBucket(INVALID_SPI_PER_SECOND, INVALID_SPI_PER_SECOND)
        #: datagrams dropped, by reason (`show crypto ikev2 stats`, the console)
        self.drops: Counter[IkeDrop] = Counter()
        self.recent_drops: deque[RecentDrop] = deque(maxlen=RECENT_DROPS_KEPT)
        #: what the engine did that is not a drop (cookies sent, notices rate-limited ...)
        self.stats: Counter[str] = Counter()

    # ------------------------------------------------------------------ SaContext
    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def new_ike_spi(self) -> bytes:
        while True:
            spi = self.random_bytes(8)
            if spi != ZERO_SPI and spi not in self._by_spi:
                return spi

    def new_child_spi(self) -> bytes:
        while True:
            spi = self.random_bytes(4)
            # SPIs 1-255 are reserved by IANA (RFC 4303 section 2.1)
            if int.from_bytes(spi, "big") > 255 and spi not in self._child_spis:
                self._child_spis.add(spi)
                return spi

    def release_child_spi(self, spi: bytes) -> None:
        """An inbound SPI handed out to the IKEv1 engine is free again."""
        self._child_spis.discard(spi)

    def emit(self, event: IkeEvent) -> None:
        self._events.append(event)

    def send(self, data: bytes, local: Address, remote: Address) -> None:
        self._out.append(Datagram(data, local, remote))

    def new_ike_sa(
        self,
        *,
        initiator: bool,
        local: Address,
        remote: Address,
        peer: PeerPolicy | None,
        spi_i: bytes,
        spi_r: bytes,
        now: float,
        rekeyed_from: int,
    ) -> IkeSa:
        """A registered IKE SA made by an IKE rekey of SA `rekeyed_from`."""
        sa = IkeSa(
            self,
            initiator=initiator,
            local=local,
            remote=remote,
            peer=peer,
            spi_i=spi_i,
            spi_r=spi_r,
            now=now,
            rekeyed_from=rekeyed_from,
        )
        self.register(sa)
        return sa

    def register(self, sa: IkeSa) -> None:
        self._by_spi[sa.local_spi] = sa
        self._by_id[sa.ike_sa_id] = sa

    def unregister(self, sa: IkeSa) -> None:
        if self._by_spi.get(sa.local_spi) is sa:
            del self._by_spi[sa.local_spi]
        self._by_id.pop(sa.ike_sa_id, None)
        self.leave_half_open(sa)
        for child in sa.children.values():
            self._child_spis.discard(child.spi_in)
        if len(self._timers) > TIMERS_PER_SA * len(self._by_id) + TIMER_SLACK:
            self._compact_timers()

    def _compact_timers(self) -> None:
        """Drop the entries of SAs that are gone. `get_timer` pops them one by one once
        they reach the top; after a clear of 10,000 SAs that was 40,000 pops in one call,
        where one pass over the heap costs a tenth. Rebuilt only when the heap has grown
        to many times the SAs, so each entry is looked at a bounded number of times."""
        live = self._by_id
        self._timers = [entry for entry in self._timers if entry[2] in live]
        heapq.heapify(self._timers)

    def reschedule(self, sa: IkeSa) -> None:
        when = sa.next_timer()
        if when != float("inf"):
            self._timer_seq += 1
            heapq.heappush(self._timers, (when, self._timer_seq, sa.ike_sa_id))

    # ------------------------------------------------------------------ outputs
    def datagrams_to_send(self) -> list[Datagram]:
        out, self._out = self._out, []
        return out

    def events(self) -> list[IkeEvent]:
        out = list(self._events)
        self._events.clear()
        return out

    def next_event(self) -> IkeEvent | None:
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        while self._timers:
            when, _, sa_id = self._timers[0]
            sa = self._by_id.get(sa_id)
            if sa is None or sa.next_timer() > when:
                heapq.heappop(self._timers)
                continue
            return when
        return None

    def handle_timer(self, now: float) -> None:
        """Serve every SA whose timer is due, each once: the call always returns.

        An SA still due after being served would be a defect; rather than spin (and
        stop serving every other peer), it is counted and looked at again a moment later.
        """
        served: set[int] = set()
        while self._timers and self._timers[0][0] <= now:
            _, _, sa_id = heapq.heappop(self._timers)
            sa = self._by_id.get(sa_id)
            if sa is None or sa_id in served or sa.next_timer() > now:
                continue
            served.add(sa_id)
            try:
                sa.handle_timer(now)
            except Exception as err:
                self._contain(sa, "timer", err, now)
                continue
            if sa.next_timer() <= now:
                self.stats["timer not advanced"] += 1
                self._timer_seq += 1
                heapq.heappush(self._timers, (now + STALLED_TIMER_RETRY, self._timer_seq, sa_id))
            else:
                self.reschedule(sa)

    # ------------------------------------------------------------------ input
    def receive_datagram(self, data: bytes, local: Address, remote: Address, now: float) -> None:
        """One IKE message (without any non-ESP marker). Never raises for bad input."""
        try:
            header = decode_header(data)
        except InvalidMajorVersion as err:
            self._answer_version(data, local, remote)
            self._drop(remote, err.drop, err.reason, now)
            return
        except RemoteProtocolError as err:
            self._drop(remote, IkeDrop.MALFORMED, err.reason, now)
            return
        try:
            self._dispatch(header, data, local, remote, now)
        except RemoteProtocolError as err:
            self._drop(remote, err.drop, err.reason, now)
        except Exception as err:  # a defect of ours, before any SA owned the datagram
            self.stats["internal errors"] += 1
            self._drop(remote, IkeDrop.INTERNAL, type(err).__name__, now)

    def _answer_version(self, data: bytes, local: Address, remote: Address) -> None:
        """RFC 7296 2.5: a request of a newer major version gets INVALID_MAJOR_VERSION."""
        flags = data[19]
        if data[18] != ExchangeType.IKE_SA_INIT or flags & RESPONSE_BIT:
            return
        header = IkeHeader(
            spi_i=data[:8],
            spi_r=data[8:16],
            next_payload=0,
            exchange=ExchangeType.IKE_SA_INIT,
            flags=HeaderFlag(0),
            message_id=int.from_bytes(data[20:24], "big"),
            length=0,
        )
        self.send(
            encode_plain_response_notify(header, NotifyType.INVALID_MAJOR_VERSION), local, remote
        )

    def _drop(self, remote: Address, reason: IkeDrop, detail: str, now: float) -> None:
        """Counted by reason; the latest few kept with their detail for `show`."""
        self.drops[reason] += 1
        self.recent_drops.append(RecentDrop(now, remote, reason, detail))

    def _dispatch(
        self, header: IkeHeader, data: bytes, local: Address, remote: Address, now: float
    ) -> None:
        from_initiator = header.is_initiator
        if (
            header.exchange == ExchangeType.IKE_SA_INIT
            and not header.is_response
            and header.spi_r == ZERO_SPI
        ):
            self._receive_init_request(header, data, local, remote, now)
            return
        our_spi = header.spi_r if from_initiator else header.spi_i
        sa = self._by_spi.get(our_spi)
        if sa is None:
            raise RemoteProtocolError(
                "no IKE SA for this SPI", notify=None, drop=IkeDrop.UNKNOWN_SPI
            )
        # The other side's SPI must match too, except in the IKE_SA_INIT response.
        their_spi = header.spi_i if from_initiator else header.spi_r
        ours_of_theirs = sa.spi_i if from_initiator else sa.spi_r
        if ours_of_theirs != their_spi and not (
            header.exchange == ExchangeType.IKE_SA_INIT and sa.spi_r == ZERO_SPI
        ):
            raise RemoteProtocolError(
                "SPI pair does not match", notify=None, drop=IkeDrop.SPI_MISMATCH
            )
        try:
            sa.receive(header, data, local, remote, now)
        except RemoteProtocolError:
            raise
        except Exception as err:
            self._contain(sa, "receive", err, now)

    def _contain(self, sa: IkeSa, where: str, err: Exception, now: float) -> None:
        """A defect must cost one SA, not the gateway: close it and report it."""
        self.stats["internal errors"] += 1
        self.emit(
            EngineFault(
                sa.ike_sa_id, sa.peer_name, sa.remote, where, f"{type(err).__name__}: {err}", now
            )
        )
        try:
            sa.close(DownReason.INTERNAL_ERROR, now, notify_peer=False, detail=where)
        except Exception:
            self.unregister(sa)

    def _receive_init_request(
        self, header: IkeHeader, data: bytes, local: Address, remote: Address, now: float
    ) -> None:
        existing = self._half_open.get((header.spi_i, remote))
        if existing is not None:
            existing.receive(header, data, local, remote, now)
            return
        try:
            message = decode_message(data)
        except RemoteProtocolError as err:
            if err.notify is not None:
                self.send(
                    encode_plain_response_notify(header, err.notify, err.notify_data), local, remote
                )
            raise
        if not self._cookie_ok(header, message, local, remote):
            return
        address = parse_ip(remote[0])
        proposals = self._proposals_for(address)
        sa = IkeSa(
            self,
            initiator=False,
            local=local,
            remote=remote,
            peer=None,
            spi_i=header.spi_i,
            spi_r=self.new_ike_spi(),
            now=now,
        )
        try:
            payloads = respond_init(sa, message, proposals, now)
        except InitRejected as err:
            assert err.notify is not None
            self.send(
                encode_plain_response_notify(header, err.notify, err.notify_data), local, remote
            )
            if err.notify == NotifyType.NO_PROPOSAL_CHOSEN:
                self.emit(NegotiationFailed(local, remote, "", err.reason, now, err.notify.name))
            return
        sa.init_request = data
        response = sa.encode(
            ExchangeType.IKE_SA_INIT, payloads, response=True, message_id=0, encrypted=False
        )
        sa.init_response = response
        sa.tasks.answered_init(response)
        self.register(sa)
        self._half_open[(header.spi_i, remote)] = sa
        self._half_open_keys[sa.ike_sa_id] = (header.spi_i, remote)
        self.send(response, local, remote)
        self.reschedule(sa)

    def _cookie_ok(
        self, header: IkeHeader, message: IkeMessage, local: Address, remote: Address
    ) -> bool:
        """Above the half-open threshold, demand a valid COOKIE (RFC 7296 2.6)."""
        if len(self._half_open) < self.config.cookie_threshold:
            return True
        nonce = message.get(NoncePayload)
        if nonce is None:
            raise MalformedMessage("IKE_SA_INIT without a nonce", drop=IkeDrop.NO_NONCE)
        expected = self._cookies.make(nonce.data, remote[0], header.spi_i)
        sent = message.get_notify(NotifyType.COOKIE)
        if sent is not None and self._cookies.check(sent.data, nonce.data, remote[0], header.spi_i):
            return True
        self.send(encode_plain_response_notify(header, NotifyType.COOKIE, expected), local, remote)
        self.stats["cookies sent"] += 1
        return False

    def _proposals_for(
        self, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> tuple[IkeProposalPolicy, ...]:
        seen: dict[IkeProposalPolicy, None] = {}
        for peer in self.config.peers_for(address):
            seen.update(dict.fromkeys(peer.ike_proposals))
        return tuple(seen)

    def leave_half_open(self, sa: IkeSa) -> None:
        """The SA is established or gone: it no longer counts toward the cookie threshold."""
        key = self._half_open_keys.pop(sa.ike_sa_id, None)
        if key is not None and self._half_open.get(key) is sa:
            del self._half_open[key]

    # ------------------------------------------------------------------ actions
    def initiate(self, peer_name: str, local: Address, remote: Address | None, now: float) -> int:
        """Start an IKE SA with a configured peer; returns its id."""
        peer = self.config.peer(peer_name)
        if remote is None:
            if not peer.remote_addresses or peer.remote_addresses[0].num_addresses != 1:
                raise ValueError(f"peer {peer_name} has no single address to initiate to")
            remote = (str(peer.remote_addresses[0].network_address), peer.remote_ike_port)
        sa = IkeSa(
            self,
            initiator=True,
            local=local,
            remote=remote,
            peer=peer,
            spi_i=self.new_ike_spi(),
            now=now,
        )
        self.register(sa)
        self.emit(IkeSaNegotiating(sa.ike_sa_id, peer.name, local, remote, now))
        sa.start(IkeSaInit(), now)
        return sa.ike_sa_id

    def ike_sa(self, ike_sa_id: int) -> IkeSa | None:
        return self._by_id.get(ike_sa_id)

    def ike_sas(self) -> list[IkeSa]:
        return list(self._by_id.values())

    def find_child(self, child_sa_id: int) -> tuple[IkeSa, ChildSa] | None:
        for sa in self._by_id.values():
            child = sa.children.get(child_sa_id)
            if child is not None:
                return sa, child
        return None

    def delete_ike_sa(
        self, ike_sa_id: int, now: float, reason: DownReason = DownReason.CLEARED
    ) -> bool:
        sa = self._by_id.get(ike_sa_id)
        if sa is None:
            return False
        sa.delete(reason, now)
        return True

    def delete_child_sa(
        self, child_sa_id: int, now: float, reason: DownReason = DownReason.CLEARED
    ) -> bool:
        found = self.find_child(child_sa_id)
        if found is None:
            return False
        sa, child = found
        sa.delete_child(child, reason, now)
        return True

    def rekey_child_sa(self, child_sa_id: int, now: float) -> bool:
        found = self.find_child(child_sa_id)
        if found is None:
            return False
        sa, child = found
        sa.start(RekeyChild(child.child_sa_id), now)
        return True

    def rekey_ike_sa(self, ike_sa_id: int, now: float) -> bool:
        sa = self._by_id.get(ike_sa_id)
        if sa is None or sa.state is not IkeState.ESTABLISHED:
            return False
        sa.start(RekeyIke(), now)
        return True

    def create_child_sa(self, ike_sa_id: int, now: float) -> bool:
        """A new child SA with the peer's policy; not while a child is on its way already
        (a new one or a rekey, whose answer installs a child even when the old one has
        expired meanwhile): a silent peer must not collect a pile of them."""
        sa = self._by_id.get(ike_sa_id)
        if (
            sa is None
            or sa.state is not IkeState.ESTABLISHED
            or sa.tasks.has_queued(CreateChild)
            or sa.tasks.has_queued(RekeyChild)
        ):
            return False
        sa.start(CreateChild(), now)
        return True

    def report_invalid_spi(self, spi: int, remote: Address, now: float) -> bool:
        """ESP for an unknown SPI from `remote`: tell the peer if we share an IKE SA.

        ESP is not authenticated until an SA is found, so anyone can send it from a
        peer's address; what it makes us send is rate-limited (RFC 4303 3.4.2, RFC 7296
        2.21.4): a few notices per IKE SA and a bounded number per second in all, each
        SPI at most once per IKE SA, and never more than one notice waiting per SA.
        """
        if not self._invalid_spi_bucket.allow(now):
            self.stats["INVALID_SPI notices suppressed"] += 1
            return False
        spi_bytes = spi.to_bytes(4, "big")
        for sa in self._by_id.values():
            if sa.state is IkeState.ESTABLISHED and sa.remote[0] == remote[0]:
                if not sa.may_report_invalid_spi(spi_bytes, now):
                    self.stats["INVALID_SPI notices suppressed"] += 1
                    return False
                sa.start(InvalidSpiNotice(spi_bytes), now)
                self.stats["INVALID_SPI notices sent"] += 1
                return True
        return False

    def note_inbound_traffic(self, child_sa_id: int, now: float) -> None:
        """ESP from the peer proves it alive: no liveness check is needed (RFC 7296 2.4)."""
        found = self.find_child(child_sa_id)
        if found is not None:
            found[0].liveness.last_inbound = now

    def update_config(self, config: IkeConfig) -> None:
        """New policy for new negotiations; running SAs keep what they negotiated."""
        self.config = config
        by_name = {p.name: p for p in config.peers}
        for sa in self._by_id.values():
            if sa.peer is not None and sa.peer.name in by_name:
                sa.peer = by_name[sa.peer.name]

    def delete_all(self, reason: DownReason, now: float) -> None:
        """Delete every IKE SA with its peer, each DELETE in its own window."""
        for sa in list(self._by_id.values()):
            sa.delete(reason, now)

    def delete_peers(self, peer_names: set[str], reason: DownReason, now: float) -> int:
        """Delete the IKE SAs negotiated with these configured peers; how many there were."""
        doomed = [sa for sa in self._by_id.values() if sa.peer_name in peer_names]
        for sa in doomed:
            sa.delete(reason, now)
        return len(doomed)

    def nat_keepalive_paths(self) -> list[tuple[Address, Address]]:
        """(local, remote) of every IKE SA up behind a NAT on our side (RFC 3948 4)."""
        return [(sa.local, sa.remote) for sa in self._by_id.values() if sa.is_up and sa.nat_local]

    def sa_count(self) -> int:
        return len(self._by_id)

    def has_sas(self) -> bool:
        return bool(self._by_id)

    def half_open_count(self) -> int:
        return len(self._half_open)

    def shutdown(self, now: float) -> None:
        """Close what is left at once, with a one-shot DELETE to peers still up."""
        for sa in list(self._by_id.values()):
            sa.close(DownReason.SHUTDOWN, now, notify_peer=True)
