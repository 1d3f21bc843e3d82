"""The sans-IO IKEv1 engine: every ISAKMP SA of the gateway, driven like `IkeEngine`
(bytes, addresses and `now` in; datagrams, timers and events out), so the transport,
sessions, accounting and control treat IKEv1 and IKEv2 alike.

The gateway hands it every datagram whose ISAKMP major version is 1. It shares the
IKEv2 engine's id and SPI allocators, so ids and inbound SPIs are unique across both.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import ipaddress
import os
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from engine.crypto import RandomBytes
from engine.events import (
    Address,
    ChildSaDeleted,
    DownReason,
    EngineFault,
    IkeEvent,
    IkeSaNegotiating,
    IkeSaRekeyed,
)
from engine.ike.engine import RECENT_DROPS_KEPT, Datagram, RecentDrop
from engine.ike.errors import IkeDrop
from engine.ike.policy import IkeConfig, PeerPolicy, parse_ip
from engine.ikev1.constants import ExchangeType, NotifyType
from engine.ikev1.error_notify import clear_notify, notify_name
from engine.ikev1.errors import Ikev1Error
from engine.ikev1.exchanges.aggressive_mode import AggressiveModeInitiator, AggressiveModeResponder
from engine.ikev1.exchanges.informational import ERROR_NOTIFY_END
from engine.ikev1.exchanges.main_mode import MainModeInitiator, MainModeResponder
from engine.ikev1.exchanges.phase1 import identity_kind
from engine.ikev1.exchanges.quick_mode import QuickModeInitiator
from engine.ikev1.isakmp_sa import IsakmpSa
from engine.ikev1.message import HEADER_SIZE, Header, check_header, parse_header
from engine.ikev1.notify_limit import NotifyLimiter
from engine.ikev1.payloads import IdPayload, NotifyPayload, decode_chain
from engine.ikev1.phase2_sa import Phase2Sa
from engine.ikev1.policy import ClientGrant

ZERO_COOKIE = bytes(8)
#: seconds an ISAKMP SA the peer replaced by a new phase 1 lives on before we delete it
REPLACED_GRACE = 5.0
#: how long, and how many, refused first messages are remembered (their retransmissions
#: are answered again, not negotiated again)
REFUSAL_KEPT = 30.0
REFUSALS_KEPT = 1024
#: seconds an SA that did not move its timer forward waits before being served again
STALLED_TIMER_RETRY = 0.05


@dataclass(slots=True)
class _Orphan:
    """An IPsec SA whose ISAKMP SA is gone (IOS keeps it: the session is UP-NO-IKE)."""

    peer: PeerPolicy
    remote: Address
    local: Address
    ike_sa_id: int
    child: Phase2Sa


class IkeV1Engine:
    def __init__(
        self,
        config: IkeConfig,
        random_bytes: RandomBytes = os.urandom,
        *,
        new_id: Callable[[], int] | None = None,
        new_child_spi: Callable[[], bytes] | None = None,
        release_child_spi: Callable[[bytes], None] | None = None,
    ) -> None:
        self.config = config
        self.random_bytes = random_bytes
        self._ids = 0
        self._new_id = new_id
        self._new_spi = new_child_spi
        self._release_spi = release_child_spi
        self._own_spis: set[bytes] = set()
        self._by_id: dict[int, IsakmpSa] = {}
        self._by_cookies: dict[tuple[bytes, bytes], IsakmpSa] = {}
        #: our initiator SAs still waiting for the responder's cookie
        self._awaiting_cookie: dict[bytes, IsakmpSa] = {}
        self._half_open: dict[tuple[bytes, Address], IsakmpSa] = {}
        self._orphans: dict[int, _Orphan] = {}
        self._out: list[Datagram] = []
        self._events: deque[IkeEvent] = deque()
        self._timers: list[tuple[float, int, int]] = []
        self._timer_seq = 0
        self._cookie_secret = random_bytes(32)
        self.drops: Counter[IkeDrop] = Counter()
        self.recent_drops: deque[RecentDrop] = deque(maxlen=RECENT_DROPS_KEPT)
        self.stats: Counter[str] = Counter()
        #: how many error notifies may go out (to one address, and in all)
        self.notify_limiter = NotifyLimiter()
        #: first messages we refused, by (initiator cookie, address): their retransmissions
        #: get the same answer, without a new SA, new key exchange or new event
        self._refused_firsts: OrderedDict[tuple[bytes, Address], tuple[NotifyType, float]] = (
            OrderedDict()
        )

    # ------------------------------------------------------------------ SaContext
    def new_id(self) -> int:
        if self._new_id is not None:
            return self._new_id()
        self._ids += 1
        return self._ids

    def new_child_spi(self) -> bytes:
        if self._new_spi is not None:
            return self._new_spi()
        while True:
            spi = self.random_bytes(4)
            if int.from_bytes(spi, "big") > 255 and spi not in self._own_spis:
                self._own_spis.add(spi)
                return spi

    def release_child_spi(self, spi: bytes) -> None:
        if self._release_spi is not None:
            self._release_spi(spi)
        self._own_spis.discard(spi)

    def emit(self, event: IkeEvent) -> None:
        self._events.append(event)

    def send(self, data: bytes, local: Address, remote: Address) -> None:
        self._out.append(Datagram(data, local, remote))

    def reschedule(self, sa: IsakmpSa) -> None:
        when = sa.next_timer()
        if when != float("inf"):
            self._timer_seq += 1
            heapq.heappush(self._timers, (when, self._timer_seq, sa.ike_sa_id))

    def register(self, sa: IsakmpSa) -> None:
        self._by_id[sa.ike_sa_id] = sa
        if sa.cookie_r != ZERO_COOKIE:
            self._by_cookies[(sa.cookie_i, sa.cookie_r)] = sa
        else:
            self._awaiting_cookie[sa.cookie_i] = sa

    def unregister(self, sa: IsakmpSa) -> None:
        self._by_id.pop(sa.ike_sa_id, None)
        if self._by_cookies.get((sa.cookie_i, sa.cookie_r)) is sa:
            del self._by_cookies[(sa.cookie_i, sa.cookie_r)]
        if self._awaiting_cookie.get(sa.cookie_i) is sa:
            del self._awaiting_cookie[sa.cookie_i]
        self._leave_half_open(sa)

    def _leave_half_open(self, sa: IsakmpSa) -> None:
        for key, value in list(self._half_open.items()):
            if value is sa:
                del self._half_open[key]

    def drop(self, remote: Address, reason: IkeDrop, detail: str, now: float) -> None:
        self.drops[reason] += 1
        self.recent_drops.append(RecentDrop(now, remote, reason, detail))

    def select_peer(self, sa: IsakmpSa, identity: IdPayload, group: str) -> PeerPolicy | None:
        """The IKEv1 peer (crypto map entry and its ISAKMP profile) for an identity: a
        profile whose `match identity` names it before an entry without a profile."""
        address = parse_ip(sa.remote[0])
        local = parse_ip(sa.local[0])
        kind, value = identity_kind(identity), identity.text()
        matched: list[PeerPolicy] = []
        fallback: list[PeerPolicy] = []
        for peer in self.config.peers_for(address):
            if peer.ike_version != 1:
                continue
            if peer.local_addresses and local not in peer.local_addresses:
                continue
            settings = peer.ikev1
            ra = settings.remote_access if settings else None
            if group and ra is not None and ra.groups and group not in ra.groups:
                continue
            if settings is not None and not settings.match.empty:
                if settings.match.matches(kind, value, sa.remote[0]):
                    matched.append(peer)
                continue
            fallback.append(peer)
        found = matched or fallback
        return found[0] if found else None

    def established(self, sa: IsakmpSa, initial_contact: bool, now: float) -> None:
        self._leave_half_open(sa)
        if initial_contact:
            self.initial_contact(sa, now)
        self._adopt(sa, now)
        credentials = sa.peer.ikev1.client if sa.peer and sa.peer.ikev1 else None
        if sa.initiator and credentials is not None:
            from engine.ikev1.exchanges.transaction_client import RemoteAccessClient

            sa.client = RemoteAccessClient(credentials)
            sa.client.start(sa, now)
        elif sa.initiator:
            self.quick_modes_for(sa, now)

    def holds_peer(self, sa: IsakmpSa) -> bool:
        """Whether another ISAKMP SA or an orphaned IPsec SA with the peer of `sa` exists."""
        if any(o is not sa and o.remote[0] == sa.remote[0] for o in self._by_id.values()):
            return True
        return any(o.remote[0] == sa.remote[0] for o in self._orphans.values())

    def initial_contact(self, sa: IsakmpSa, now: float) -> None:
        """The peer starts afresh: what we hold with its address is stale (RFC 2407 4.6.3.3)."""
        for other in list(self._by_id.values()):
            if other is not sa and other.remote[0] == sa.remote[0] and other.is_up:
                for child in list(other.children.values()):
                    other.remove_child(child, DownReason.REPLACED, now)
                other.close(DownReason.REPLACED, now, notify_peer=False)
        for child_sa_id, orphan in list(self._orphans.items()):
            if orphan.remote[0] == sa.remote[0]:
                self._retire_orphan(child_sa_id, DownReason.REPLACED, now)
        self.stats["INITIAL-CONTACT honoured"] += 1

    def _adopt(self, sa: IsakmpSa, now: float) -> None:
        """A new ISAKMP SA with a peer takes over the IPsec SAs of the older one (phase 1
        renewed by either side) and those left without one."""
        for other in list(self._by_id.values()):
            if (
                other is not sa
                and other.is_up
                and other.peer_name == sa.peer_name
                and other.remote[0] == sa.remote[0]
                and not other.replaced
            ):
                sa.children.update(other.children)
                other.children.clear()
                other.replaced = True
                if sa.rekeyed_from is None:
                    sa.rekeyed_from = other.ike_sa_id
                self.emit(IkeSaRekeyed(other.ike_sa_id, sa.ike_sa_id, now))
                if sa.initiator:
                    other.close(DownReason.REKEYED, now, notify_peer=True)
                else:
                    # the peer renewed phase 1: its old SA goes after a moment, with a
                    # DELETE, unless the peer deletes it first
                    other.expire_at = min(other.expire_at, now + REPLACED_GRACE)
                    self.reschedule(other)
        for child_sa_id, orphan in list(self._orphans.items()):
            if orphan.peer.name == sa.peer_name and orphan.remote[0] == sa.remote[0]:
                sa.children[child_sa_id] = orphan.child
                del self._orphans[child_sa_id]
        self.reschedule(sa)

    def orphan_children(self, sa: IsakmpSa, now: float) -> None:
        if sa.peer is None:
            return
        for child in list(sa.children.values()):
            self._orphans[child.child_sa_id] = _Orphan(
                sa.peer, sa.remote, sa.local, sa.ike_sa_id, child
            )
        sa.children.clear()
        self._arm_orphans()

    def _retire_orphan(self, child_sa_id: int, reason: DownReason, now: float) -> None:
        orphan = self._orphans.pop(child_sa_id, None)
        if orphan is None:
            return
        self.release_child_spi(orphan.child.spi_in)
        self.emit(
            ChildSaDeleted(
                orphan.ike_sa_id,
                child_sa_id,
                orphan.peer.name,
                orphan.child.spi_in_int,
                orphan.child.spi_out_int,
                reason,
                now,
            )
        )

    def _arm_orphans(self) -> None:
        if self._orphans:
            when = min(o.child.expire_at for o in self._orphans.values())
            self._timer_seq += 1
            heapq.heappush(self._timers, (when, self._timer_seq, 0))

    def rekey_phase1(self, sa: IsakmpSa, now: float) -> None:
        """Renew the ISAKMP SA before it expires: a new phase 1 with the same peer; its
        IPsec SAs move over once it is up (`_adopt`)."""
        if sa.peer is None or not sa.initiator:
            return
        new = self._new_initiator(
            sa.peer,
            sa.local if not sa.uses_natt_port else (sa.local[0], self.config.ike_port),
            (sa.remote[0], sa.peer.remote_ike_port),
            now,
        )
        new.rekeyed_from = sa.ike_sa_id
        self.stats["phase 1 renewals"] += 1

    # ------------------------------------------------------------------ outputs
    def datagrams_to_send(self) -> list[Datagram]:
        out, self._out = self._out, []
        return out

    def events(self) -> list[IkeEvent]:
        out = list(self._events)
        self._events.clear()
        return out

    def get_timer(self) -> float | None:
        while self._timers:
            when, _, sa_id = self._timers[0]
            if sa_id == 0:
                if self._orphans and min(o.child.expire_at for o in self._orphans.values()) <= when:
                    return when
                heapq.heappop(self._timers)
                continue
            sa = self._by_id.get(sa_id)
            if sa is None or sa.next_timer() > when:
                heapq.heappop(self._timers)
                continue
            return when
        return None

    def handle_timer(self, now: float) -> None:
        served: set[int] = set()
        while self._timers and self._timers[0][0] <= now:
            _, _, sa_id = heapq.heappop(self._timers)
            if sa_id == 0:
                for child_sa_id, orphan in list(self._orphans.items()):
                    if orphan.child.expire_at <= now:
                        self._retire_orphan(child_sa_id, DownReason.LIFETIME_EXPIRED, now)
                self._arm_orphans()
                continue
            sa = self._by_id.get(sa_id)
            if sa is None or sa_id in served or sa.next_timer() > now:
                continue
            served.add(sa_id)
            try:
                if now >= sa.expire_at and sa.is_up:
                    self.orphan_children(sa, now)
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
        """One ISAKMP message (without the non-ESP marker). Never raises for bad input."""
        try:
            header = parse_header(data)
        except Ikev1Error as err:
            self.drop(remote, err.drop, err.reason, now)
            return
        try:
            check_header(header, len(data))
        except Ikev1Error as err:
            self.drop(remote, err.drop, err.reason, now)
            self._answer_error(
                err, header, self._by_cookies.get(header.cookies), local, remote, now
            )
            return
        sa: IsakmpSa | None = None
        try:
            sa = self._dispatch(header, data, local, remote, now)
        except Ikev1Error as err:
            self.drop(remote, err.drop, err.reason, now)
            sa = self._sa_of(header, remote)
            if sa is not None and sa.closed:
                sa = None
            if header.exchange == ExchangeType.INFORMATIONAL:
                if sa is not None and not sa.is_up and header.encrypted:
                    sa.suspect("", "a protected informational that does not verify (keys differ?)")
                return  # a notify is never answered, nor does it end anything unverified
            self._answer_error(err, header, sa, local, remote, now)
            if sa is not None and not sa.is_up and header.message_id == 0:
                # the phase 1 exchange itself failed: this negotiation is over
                if header.cookie_r == ZERO_COOKIE and not sa.initiator and err.notify:
                    self._remember_refusal(header.cookie_i, remote, err.notify, now)
                sa.close(
                    DownReason.NEGOTIATION_FAILED
                    if err.notify != NotifyType.AUTHENTICATION_FAILED
                    else DownReason.AUTHENTICATION_FAILED,
                    now,
                    notify_peer=False,
                    detail=err.reason,
                )
        except Exception as err:  # a defect of ours: it costs one SA, never the gateway
            self.stats["internal errors"] += 1
            self.drop(remote, IkeDrop.INTERNAL, type(err).__name__, now)
            sa = self._sa_of(header, remote)
            if sa is not None:
                self._contain(sa, "receive", err, now)

    def _answer_error(
        self,
        err: Ikev1Error,
        header: Header,
        sa: IsakmpSa | None,
        local: Address,
        remote: Address,
        now: float,
    ) -> None:
        """The notify RFC 2408 names for a refused message: protected (HASH(1), encrypted)
        when its ISAKMP SA has keys, else in the clear. Never for an INFORMATIONAL, and
        never more than the limiter allows: a forged source address gets little back."""
        if err.notify is None:
            return
        if header.exchange == ExchangeType.INFORMATIONAL:
            self.stats["error notifies not sent: answer to an informational"] += 1
            return
        destination = sa.remote if sa is not None else remote
        if not self.notify_limiter.allow(destination[0], now):
            self.stats["error notifies suppressed"] += 1
            return
        self.stats["error notifies sent"] += 1
        self.stats[f"error notify sent: {err.notify.name}"] += 1
        if sa is not None:
            sa.notify_error(err.notify)
            return
        self.send(clear_notify(header, err.notify), local, remote)

    def _sa_of(self, header: Header, remote: Address) -> IsakmpSa | None:
        sa = self._by_cookies.get(header.cookies)
        if sa is None:
            sa = self._awaiting_cookie.get(header.cookie_i)
        if sa is None and header.cookie_r == ZERO_COOKIE:
            # a first message refused: the responder SA it made is known by the
            # initiator's cookie alone (else it would stay, unanswered, forever)
            sa = self._half_open.get((header.cookie_i, remote))
        return sa

    def _dispatch(
        self, header: Header, data: bytes, local: Address, remote: Address, now: float
    ) -> IsakmpSa | None:
        if (
            header.cookie_r == ZERO_COOKIE
            and header.message_id == 0
            and header.exchange in (ExchangeType.MAIN, ExchangeType.AGGRESSIVE)
        ):
            existing = self._half_open.get((header.cookie_i, remote))
            if existing is not None:
                existing.receive(header, data, local, remote, now)
                return existing
            refused = self._refused_firsts.get((header.cookie_i, remote))
            if refused is not None and refused[1] > now:
                self.drop(remote, IkeDrop.PROTOCOL, "first message of a refused negotiation", now)
                answer = replace(header, cookie_r=self._responder_cookie(header.cookie_i, remote))
                error = Ikev1Error("refused again", notify=refused[0])
                self._answer_error(error, answer, None, local, remote, now)
                return None
            cookies = (header.cookie_i, self._responder_cookie(header.cookie_i, remote))
            if cookies in self._by_cookies:
                # a late copy of the first message of an SA that is up: a new responder
                # SA would have its cookies and take its messages from it
                raise Ikev1Error("first message of an ISAKMP SA already up", drop=IkeDrop.PROTOCOL)
            return self._new_responder(header, data, local, remote, now)
        sa = self._by_cookies.get(header.cookies)
        if sa is None:
            waiting = self._awaiting_cookie.get(header.cookie_i)
            if waiting is not None and header.cookie_r != ZERO_COOKIE:
                del self._awaiting_cookie[header.cookie_i]
                waiting.cookie_r = header.cookie_r
                self._by_cookies[(waiting.cookie_i, waiting.cookie_r)] = waiting
                sa = waiting
            elif waiting is not None:
                sa = waiting
        if sa is None and header.cookie_r != ZERO_COOKIE:
            # RFC 2408 5.2: a responder cookie we did not make (or no longer know)
            raise Ikev1Error(
                "no ISAKMP SA for these cookies",
                notify=NotifyType.INVALID_COOKIE,
                drop=IkeDrop.UNKNOWN_SPI,
            )
        if sa is None:
            # the initiator's cookie alone is a new negotiation: main or aggressive mode
            raise Ikev1Error(
                f"exchange type {header.exchange} cannot begin a negotiation",
                notify=NotifyType.INVALID_EXCHANGE_TYPE,
                drop=IkeDrop.UNKNOWN_SPI,
            )
        if header.exchange == ExchangeType.INFORMATIONAL and not header.encrypted:
            self._clear_notify(sa, header, data, remote, now)
            return sa
        sa.receive(header, data, local, remote, now)
        return sa

    def _clear_notify(
        self, sa: IsakmpSa, header: Header, data: bytes, remote: Address, now: float
    ) -> None:
        """An unprotected notify: anyone on the path could have sent it (RFC 2408 5.5),
        so it ends nothing. An error one is kept with the negotiation it names, which
        reports it if it then fails for want of an answer."""
        payloads = decode_chain(header.next_payload, data[HEADER_SIZE:])
        notifies = [p for p in payloads if isinstance(p, NotifyPayload)]
        if not notifies or sa.is_up:
            raise Ikev1Error("unprotected informational ignored", drop=IkeDrop.PROTOCOL)
        for notify in notifies:
            name = notify_name(notify.notify_type)
            if notify.notify_type < ERROR_NOTIFY_END:
                self.stats["unprotected error notifies"] += 1
                sa.suspect(name, f"the peer answered {name} without protection")
            self.drop(remote, IkeDrop.PROTOCOL, f"unprotected {name} not acted on", now)

    def _remember_refusal(
        self, cookie_i: bytes, remote: Address, notify: NotifyType, now: float
    ) -> None:
        self._refused_firsts[(cookie_i, remote)] = (notify, now + REFUSAL_KEPT)
        self._refused_firsts.move_to_end((cookie_i, remote))
        while len(self._refused_firsts) > REFUSALS_KEPT:
            self._refused_firsts.popitem(last=False)

    def _responder_cookie(self, cookie_i: bytes, remote: Address) -> bytes:
        """Stateless (RFC 2408 2.5.3): a retransmitted first message gets the same cookie."""
        seed = cookie_i + parse_ip(remote[0]).packed + remote[1].to_bytes(2, "big")
        return hmac.new(self._cookie_secret, seed, hashlib.sha256).digest()[:8]

    def _new_responder(
        self, header: Header, data: bytes, local: Address, remote: Address, now: float
    ) -> IsakmpSa | None:
        if self.config.isakmp is None or not any(p.ike_version == 1 for p in self.config.peers):
            raise Ikev1Error("no IKEv1 policy configured", drop=IkeDrop.UNEXPECTED_EXCHANGE)
        if len(self._half_open) >= self.config.cookie_threshold:
            self.stats["half-open limit: first messages dropped"] += 1
            raise Ikev1Error("too many half-open ISAKMP SAs", drop=IkeDrop.PROTOCOL)
        aggressive = header.exchange == ExchangeType.AGGRESSIVE
        sa = IsakmpSa(
            self,
            initiator=False,
            local=local,
            remote=remote,
            peer=None,
            cookie_i=header.cookie_i,
            cookie_r=self._responder_cookie(header.cookie_i, remote),
            aggressive=aggressive,
            now=now,
        )
        sa.exchanges[0] = AggressiveModeResponder() if aggressive else MainModeResponder()
        self.register(sa)
        self._half_open[(header.cookie_i, remote)] = sa
        sa.receive(header, data, local, remote, now)
        self.reschedule(sa)
        return sa

    def _contain(self, sa: IsakmpSa, where: str, err: Exception, now: float) -> None:
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

    # ------------------------------------------------------------------ actions
    def _new_initiator(
        self, peer: PeerPolicy, local: Address, remote: Address, now: float
    ) -> IsakmpSa:
        settings = peer.ikev1
        aggressive = bool(settings and settings.aggressive)
        sa = IsakmpSa(
            self,
            initiator=True,
            local=local,
            remote=remote,
            peer=peer,
            cookie_i=self._new_cookie(),
            cookie_r=ZERO_COOKIE,
            aggressive=aggressive,
            now=now,
        )
        self.register(sa)
        exchange = AggressiveModeInitiator() if aggressive else MainModeInitiator()
        sa.exchanges[0] = exchange
        exchange.start(sa, now)
        return sa

    def _new_cookie(self) -> bytes:
        while True:
            cookie = self.random_bytes(8)
            if cookie != ZERO_COOKIE and cookie not in self._awaiting_cookie:
                return cookie

    def initiate(self, peer_name: str, local: Address, remote: Address | None, now: float) -> int:
        peer = self.config.peer(peer_name)
        if remote is None:
            remote = (str(peer.remote_addresses[0].network_address), peer.remote_ike_port)
        sa = self._new_initiator(peer, local, remote, now)
        self.emit(IkeSaNegotiating(sa.ike_sa_id, peer.name, local, remote, now, version=1))
        return sa.ike_sa_id

    def quick_modes_for(self, sa: IsakmpSa, now: float) -> int:
        """Quick mode for every selector pair of the peer that has no IPsec SA yet."""
        peer = sa.peer
        if peer is None or not sa.is_up or (sa.client is not None and not sa.client.complete):
            return 0
        pairs = selector_pairs(peer)
        if sa.client is not None and sa.client.address is not None:
            # a remote-access client speaks from the address the gateway gave it, to
            # the networks it tunnels (split tunnel), else to everything
            own = ipaddress.ip_network(sa.client.address)
            remotes = sa.client.split_networks or tuple(r for _, r in pairs)
            pairs = [(own, remote_ts) for remote_ts in dict.fromkeys(remotes)]
        have = {(c.local_ts, c.remote_ts) for c in sa.children.values()}
        pending = {
            (e.local_ts, e.remote_ts)
            for e in sa.exchanges.values()
            if isinstance(e, QuickModeInitiator) and not e.done
        }
        started = 0
        for local_ts, remote_ts in pairs:
            if (local_ts, remote_ts) in have or (local_ts, remote_ts) in pending:
                continue
            QuickModeInitiator.begin(sa, local_ts, remote_ts, now, peer.ts_protocol)
            started += 1
        return started

    def owns(self, ike_sa_id: int) -> bool:
        return ike_sa_id in self._by_id

    def owns_child(self, child_sa_id: int) -> bool:
        return self.find_child(child_sa_id) is not None or child_sa_id in self._orphans

    def ike_sa(self, ike_sa_id: int) -> IsakmpSa | None:
        return self._by_id.get(ike_sa_id)

    def ike_sas(self) -> list[IsakmpSa]:
        return list(self._by_id.values())

    def find_child(self, child_sa_id: int) -> tuple[IsakmpSa, Phase2Sa] | None:
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
        self._retire_orphans_of(sa, reason, now)
        return True

    def _retire_orphans_of(self, sa: IsakmpSa, reason: DownReason, now: float) -> None:
        for child_sa_id, orphan in list(self._orphans.items()):
            if orphan.remote[0] == sa.remote[0] and orphan.peer.name == sa.peer_name:
                self._retire_orphan(child_sa_id, reason, now)

    def delete_child_sa(
        self, child_sa_id: int, now: float, reason: DownReason = DownReason.CLEARED
    ) -> bool:
        if child_sa_id in self._orphans:
            self._retire_orphan(child_sa_id, reason, now)
            return True
        found = self.find_child(child_sa_id)
        if found is None:
            return False
        found[0].delete_child(found[1], reason, now)
        return True

    def rekey_child_sa(self, child_sa_id: int, now: float) -> bool:
        found = self.find_child(child_sa_id)
        if found is None or not found[0].is_up:
            return False
        sa, child = found
        child.rekey_at = float("inf")
        QuickModeInitiator.rekey(sa, child, now)
        return True

    def rekey_ike_sa(self, ike_sa_id: int, now: float) -> bool:
        sa = self._by_id.get(ike_sa_id)
        if sa is None or not sa.is_up or not sa.initiator:
            return False
        self.rekey_phase1(sa, now)
        return True

    def create_child_sa(self, ike_sa_id: int, now: float) -> bool:
        sa = self._by_id.get(ike_sa_id)
        if sa is None:
            return False
        return self.quick_modes_for(sa, now) > 0

    def authorize_client(
        self, ike_sa_id: int, grant: ClientGrant | None, reason: str, now: float
    ) -> bool:
        """The service's answer to `ClientAuthorizationRequested`."""
        sa = self._by_id.get(ike_sa_id)
        if sa is None or sa.remote_access is None:
            return False
        try:
            sa.remote_access.authorize(sa, grant, reason, now)
        except Exception as err:
            self._contain(sa, "authorize", err, now)
            return False
        self.reschedule(sa)
        return True

    def report_invalid_spi(self, spi: int, remote: Address, now: float) -> bool:
        return False  # IKEv1 has no notice a peer acts on for an unknown ESP SPI

    def note_inbound_traffic(self, child_sa_id: int, now: float) -> None:
        found = self.find_child(child_sa_id)
        if found is not None:
            found[0].last_inbound = now

    def update_config(self, config: IkeConfig) -> None:
        self.config = config
        by_name = {p.name: p for p in config.peers}
        for sa in self._by_id.values():
            if sa.peer is not None and sa.peer.name in by_name:
                sa.peer = by_name[sa.peer.name]

    def delete_all(self, reason: DownReason, now: float) -> None:
        for sa in list(self._by_id.values()):
            sa.delete(reason, now)
        for child_sa_id in list(self._orphans):
            self._retire_orphan(child_sa_id, reason, now)

    def delete_peers(self, peer_names: set[str], reason: DownReason, now: float) -> int:
        doomed = [sa for sa in self._by_id.values() if sa.peer_name in peer_names]
        for sa in doomed:
            sa.delete(reason, now)
        for child_sa_id, orphan in list(self._orphans.items()):
            if orphan.peer.name in peer_names:
                self._retire_orphan(child_sa_id, reason, now)
        return len(doomed)

    def nat_keepalive_paths(self) -> list[tuple[Address, Address]]:
        return [(sa.local, sa.remote) for sa in self._by_id.values() if sa.is_up and sa.nat_local]

    def sa_count(self) -> int:
        return len(self._by_id)

    def has_sas(self) -> bool:
        return bool(self._by_id)

    def half_open_count(self) -> int:
        return len(self._half_open)

    def shutdown(self, now: float) -> None:
        for sa in list(self._by_id.values()):
            sa.close(DownReason.SHUTDOWN, now, notify_peer=True)


def selector_pairs(
    peer: PeerPolicy,
) -> list[
    tuple[
        ipaddress.IPv4Network | ipaddress.IPv6Network, ipaddress.IPv4Network | ipaddress.IPv6Network
    ]
]:
    """IOS negotiates one IPsec SA pair per ACL line: the selectors pair up in order when
    the lists are as long as each other (one line each), else every combination."""
    local, remote = peer.local_ts, peer.remote_ts
    if len(local) == len(remote):
        return list(zip(local, remote, strict=True))
    return [(lt, rt) for lt in local for rt in remote]
