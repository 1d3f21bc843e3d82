"""RADIUS over UDP: our own client, with pyrad only encoding packets. Accounting
records go through `send`/`deliver`; any other exchange (an Access-Request,
engine/aaa/radius_auth.py) through `exchange`, on the same sockets, timers and checks.

pyrad's clients don't fit accounting (the sync one keeps the Id when Acct-Delay-Time
changes, the async one resends identical bytes to one server with no Id bookkeeping past
256), so this module owns the sockets and timers:

- RFC 5080 2.2.1 timers: RT = IRT*(1+RAND), doubling, capped by MRT, at most MRC
  transmissions within MRD, RAND uniform in +-0.1. IOS's knobs bound them: `radius-server
  timeout S` caps one wait (MRT), `radius-server retransmit N` gives 1+N transmissions
  (MRC), MRD = S*(1+N). The first wait adapts to the server's measured round trips
  (rtt.py): max(IRT, SRTT + 4*RTTVAR), capped by MRT, so a slow server is waited for.
- Records in flight to one server are bounded by its window (window.py), which grows
  on answers and halves on retransmissions: a burst never floods a server past its
  timers. Other exchanges (`exchange`) are not windowed.
- Every socket is read until it is empty each time it is readable: answers wait in the
  kernel's buffer, not for one loop iteration each, while their timers run.
- Every transmission gets a new Identifier and so a new Request Authenticator, because
  Acct-Delay-Time is recomputed each time (RFC 5080 2.2.1). The earlier Ids stay valid
  until the exchange ends: a late answer to one of them acknowledges the record too.
- Identifiers are per socket: 256 in flight per source port; more opens another socket.
- A response counts only from the server's address, to an Id in flight, with the right
  Response Authenticator; anything else is counted (duplicate, forged, stray) and dropped.
  An exchange that ends unanswered says what did come back from its server meanwhile
  (`Replies`): a wrong shared key or a broken server is not a silent one.
- Failover: a server that fails an exchange is left for the next one of the group, and
  with `radius-server deadtime M` skipped for M minutes; `broadcast` sends to every server.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import ipaddress
import random
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple, dataclass, field, replace
from typing import cast

from pyrad.dictionary import Dictionary
from pyrad.packet import AccountingRequest, AccountingResponse, AcctPacket

from engine.accounting.dictionary import load_dictionary
from engine.accounting.encoding import encode_attributes
from engine.accounting.records import Attributes
from engine.accounting.rtt import RttEstimator
from engine.accounting.window import INITIAL, MAXIMUM, Window
from engine.secret import Secret

IDS_PER_SOCKET = 256
RECEIVE_BUFFER = 1 << 20
#: datagrams read from one socket per readiness callback, before other work gets a turn
READ_BATCH = 256
#: EWMA weight of a new RTT sample (TCP's SRTT gain)
RTT_GAIN = 0.125


class EncodeError(ValueError):
    """A record that cannot become a packet (an attribute too long or unknown)."""


# ---------------------------------------------------------------------- configuration
@dataclass(frozen=True, slots=True)
class ServerConfig:
    """One RADIUS server as the configuration names it; the key never shows.

    `authentication`: the server as an authentication client talks to it (by its auth
    port: its name, its state and the replies it matches); else by its accounting port."""

    host: str
    acct_port: int
    key: Secret = field(repr=False)
    auth_port: int = 1645
    authentication: bool = False
    #: host:port, made once: every datagram and every counter names its server by it
    _name: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "host", str(ipaddress.ip_address(self.host)))
        object.__setattr__(self, "_name", _server_name(self.host, self.port))

    @property
    def port(self) -> int:
        return self.auth_port if self.authentication else self.acct_port

    @property
    def name(self) -> str:
        """host:port, an IPv6 host in brackets."""
        return self._name

    @property
    def family(self) -> int:
        return socket.AF_INET6 if _ip(self.host).version == 6 else socket.AF_INET

    def matches(self, addr: tuple[object, ...], port: int | None = None) -> bool:
        """Whether a datagram came from this server's `port` (its own unless said)."""
        try:
            return _ip(str(addr[0])) == _ip(self.host) and int(addr[1]) == (  # type: ignore[call-overload]
                self.port if port is None else port
            )
        except ValueError:
            return False


# Parsed once: every datagram and every counter names its server by these.
@functools.lru_cache(maxsize=1024)
def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


@functools.lru_cache(maxsize=1024)
def _server_name(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True, slots=True)
class Timers:
    """Retransmission (RFC 5080), dead-server and spool timers, in seconds."""

    irt: float = 2.0
    mrt: float = 5.0
    mrc: int = 4
    mrd: float = 20.0
    jitter: float = 0.1
    #: `radius-server deadtime`: how long a server that failed is skipped (0: never)
    deadtime: float = 0.0
    #: how long a record that no server took waits before it is tried again
    spool_retry: float = 30.0

    @classmethod
    def from_settings(cls, retransmit: int, timeout: int, deadtime_minutes: int) -> Timers:
        timeout = max(1, timeout)
        return cls(
            irt=min(2.0, float(timeout)),
            mrt=float(timeout),
            mrc=retransmit + 1,
            mrd=float(timeout * (retransmit + 1)),
            deadtime=deadtime_minutes * 60.0,
        )

    def next_rt(
        self, previous: float | None, rand: Callable[[], float], initial: float | None = None
    ) -> float:
        """RFC 5080 2.2.1; `rand` returns RAND in [-1, 1] before scaling by `jitter`.
        `initial` replaces IRT for the first wait (the server's measured timeout)."""
        if previous is None:
            base = self.irt if initial is None else initial
            rt = base + self.jitter * rand() * base
        else:
            rt = 2 * previous + self.jitter * rand() * previous
        if self.mrt and rt > self.mrt:
            rt = self.mrt + self.jitter * rand() * self.mrt
        return rt


# ---------------------------------------------------------------------- what it reports
@dataclass(frozen=True, slots=True)
class ServerState:
    """A server as the store's SERVERS table shows it: health and counters, no key."""

    name: str
    host: str
    auth_port: int
    acct_port: int
    alive: bool = True
    dead_since: float | None = None
    dead_until: float | None = None
    #: records offered to this server (an exchange, with its retransmissions)
    requests: int = 0
    #: datagrams sent, retransmissions included
    transmissions: int = 0
    retransmissions: int = 0
    #: verified Accounting-Responses that acknowledged a record
    responses: int = 0
    #: exchanges that got no verified answer within MRC/MRD
    timeouts: int = 0
    duplicates: int = 0
    bad_authenticators: int = 0
    malformed: int = 0
    unmatched: int = 0
    in_flight: int = 0
    avg_rtt_ms: float | None = None
    #: RFC 6298's smoothed round trip, from exchanges sent once (Karn's rule)
    srtt_ms: float | None = None
    #: the first wait of its next exchange: max(IRT, SRTT + 4*RTTVAR), capped by MRT
    rto_ms: float | None = None
    #: records it may have in flight now (its window)
    window: int = 0
    last_response_at: float | None = None
    #: why its last exchange failed (`TimedOut.summary()`); cleared by a verified answer
    last_failure: str = ""


@dataclass(frozen=True, slots=True)
class Replies:
    """Datagrams from a server that acknowledged nothing, during one exchange.

    Those whose Identifier names the exchange count for it alone. Those that name none
    of the server's exchanges (garbage, a late or replayed answer) count for each one
    they arrive during, up to one per transmission it got no other answer to: a
    transmission draws one answer, and a burst must not inflate every exchange's."""

    bad_authenticators: int = 0
    malformed: int = 0
    #: verified with the key, but answering an earlier request (late, or replayed)
    stale: int = 0
    #: to an Identifier this transport has no request in flight or recently answered for
    unmatched: int = 0

    @property
    def total(self) -> int:
        return self.bad_authenticators + self.malformed + self.stale + self.unmatched

    def plus(self, kind: str) -> Replies:
        return replace(self, **{kind: getattr(self, kind) + 1})

    def __add__(self, other: Replies) -> Replies:
        return Replies(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def __sub__(self, other: Replies) -> Replies:
        """Never negative (a server forgotten by a reload restarts its totals)."""
        pairs = zip(astuple(self), astuple(other), strict=True)
        return Replies(*(max(0, a - b) for a, b in pairs))

    def at_most(self, count: int) -> Replies:
        """`count` of them at most, the kinds an operator can act on first."""
        kept: dict[str, int] = {}
        for kind in ("bad_authenticators", "malformed", "unmatched", "stale"):
            kept[kind] = min(getattr(self, kind), max(0, count))
            count -= kept[kind]
        return Replies(**kept)

    def describe(self) -> str:
        """E.g. "3 replies with a bad authenticator (shared key mismatch?)"."""
        if self.stale and self.stale == self.total:
            return f"only stale replies ({self.stale}, answering earlier requests)"
        parts = []
        if self.bad_authenticators:
            parts.append(
                f"{_replies(self.bad_authenticators)} with a bad authenticator"
                " (shared key mismatch?)"
            )
        if self.malformed:
            parts.append(f"{self.malformed} malformed {_replies(self.malformed, False)}")
        if self.unmatched:
            parts.append(f"{_replies(self.unmatched)} to no request in flight")
        if self.stale:
            parts.append(f"{_replies(self.stale)} answering earlier requests")
        return ", ".join(parts)


def _replies(count: int, with_count: bool = True) -> str:
    word = "reply" if count == 1 else "replies"
    return f"{count} {word}" if with_count else word


@dataclass(frozen=True, slots=True)
class Sent:
    record_id: int
    server: ServerConfig
    ident: int
    attempt: int
    max_attempts: int
    delay: int


@dataclass(frozen=True, slots=True)
class Acked:
    record_id: int
    server: ServerConfig
    ident: int
    rtt: float


@dataclass(frozen=True, slots=True)
class TimedOut:
    """The server did not acknowledge this record within MRC/MRD; `replies` is what it
    sent back instead (nothing: a silent server)."""

    record_id: int
    server: ServerConfig
    attempts: int
    replies: Replies = Replies()

    def summary(self) -> str:
        """Why, without the server's name: "no response after 3 attempts", or "no
        verified reply after 3 attempts: 3 malformed replies"."""
        if not self.replies.total:
            return f"no response after {self.attempts} attempts"
        return f"no verified reply after {self.attempts} attempts: {self.replies.describe()}"


@dataclass(frozen=True, slots=True)
class ServerDead:
    server: ServerConfig
    seconds: float


@dataclass(frozen=True, slots=True)
class ServerAlive:
    server: ServerConfig


TransportEvent = Sent | Acked | TimedOut | ServerDead | ServerAlive


@dataclass(frozen=True, slots=True)
class Answer:
    """The verified reply that ended an exchange."""

    raw: bytes
    ident: int
    rtt: float


#: (datagram, the Request Authenticator it answers, the key) -> verified
Verifier = Callable[[bytes, bytes, Secret], bool]
#: a transmission's Identifier -> (datagram, its Request Authenticator)
Encoder = Callable[[int], tuple[bytes, bytes]]
ACCOUNTING_RESPONSES = frozenset({AccountingResponse})
#: Access-Accept, Access-Reject, Access-Challenge
ACCESS_RESPONSES = frozenset({2, 3, 11})
RESPONSES = ACCOUNTING_RESPONSES | ACCESS_RESPONSES


@dataclass(frozen=True, slots=True)
class Outbound:
    """A record to send: its attributes without Acct-Delay-Time, and its event's time."""

    record_id: int
    attributes: Attributes
    event_time: float


# ---------------------------------------------------------------------- packets
def encode_request(
    dictionary: Dictionary, attributes: Attributes, delay: int, ident: int, key: Secret
) -> tuple[bytes, bytes]:
    """The Accounting-Request datagram and its Request Authenticator (RFC 2866 3).

    A record's attributes are encoded once (pyrad is slow at it): each transmission only
    appends its Acct-Delay-Time and signs the header with its Identifier."""
    try:
        encoded = _encoded_attributes(dictionary, attributes)
    except TypeError:  # an unhashable value: not cached
        encoded = _encode_attributes(dictionary, attributes)
    if not 0 <= delay < 1 << 32:
        raise EncodeError(f"cannot encode the record: Acct-Delay-Time {delay}")
    body = encoded + struct.pack("!BBI", ACCT_DELAY_TIME, 6, delay)
    header = struct.pack("!BBH", AccountingRequest, ident, 20 + len(body))
    authenticator = hashlib.md5(header + bytes(16) + body + key.reveal()).digest()
    return header + authenticator + body, authenticator


ACCT_DELAY_TIME = 41


def _encode_attributes(dictionary: Dictionary, attributes: Attributes) -> bytes:
    fast = encode_attributes(dictionary, attributes)
    if fast is not None:
        return fast
    packet = AcctPacket(id=0, secret=b"-", dict=dictionary)
    try:
        for name, value in attributes:
            packet.AddAttribute(name, value)
        return bytes(packet.RequestPacket()[20:])
    except (KeyError, ValueError, TypeError, struct.error) as err:
        raise EncodeError(f"cannot encode the record: {err}") from None


@functools.lru_cache(maxsize=16384)
def _encoded_attributes(dictionary: Dictionary, attributes: Attributes) -> bytes:
    return _encode_attributes(dictionary, attributes)


def verify_response(raw: bytes, request_authenticator: bytes, key: Secret) -> bool:
    """Response Authenticator = MD5(Code+ID+Length+RequestAuth+Attributes+Secret)."""
    if len(raw) < 20:
        return False
    length = struct.unpack("!H", raw[2:4])[0]
    if length < 20 or length > len(raw):
        return False
    raw = raw[:length]
    expected = hashlib.md5(raw[0:4] + request_authenticator + raw[20:] + key.reveal()).digest()
    return hmac.compare_digest(expected, raw[4:20])


def ensure_encodable(dictionary: Dictionary, attributes: Attributes) -> None:
    """Raise EncodeError now rather than at the first transmission (whose encoding it
    leaves in the cache)."""
    try:
        _encoded_attributes(dictionary, attributes)
    except TypeError:  # an unhashable value: not cached
        _encode_attributes(dictionary, attributes)


# ---------------------------------------------------------------------- sockets
def _address_key(addr: tuple[object, ...]) -> tuple[str, int]:
    """A datagram's source as ServerConfig spells it (IPv6 without scope or flow)."""
    try:
        return str(ipaddress.ip_address(str(addr[0]).split("%")[0])), int(addr[1])  # type: ignore[call-overload]
    except (ValueError, IndexError, TypeError):
        return ("", 0)


class _Exchange:
    """One request to one server port: every transmission's (socket, Id) and
    authenticator, and what a reply must be to end it."""

    __slots__ = ("codes", "done", "port", "replies", "sent", "server", "verify")

    def __init__(
        self,
        server: ServerConfig,
        done: asyncio.Future[Answer],
        port: int,
        codes: frozenset[int],
        verify: Verifier,
    ) -> None:
        self.server = server
        self.done = done
        self.port = port
        self.codes = codes
        self.verify = verify
        self.sent: dict[tuple[_Socket, int], tuple[bytes, float]] = {}
        #: datagrams to its Ids that did not acknowledge it
        self.replies = Replies()


class _Socket:
    """One source port and its 256 Identifiers.

    Not an asyncio datagram transport: that one reads a single datagram per loop
    iteration, so hundreds of answers that arrived together would wait in the kernel
    for as many iterations while their timers run. This one reads until the socket is
    empty (READ_BATCH at most at a time)."""

    def __init__(
        self, owner: RadiusTransport, family: int, sock: socket.socket | None = None
    ) -> None:
        self.owner = owner
        self.family = family
        self.sock = sock
        ids = list(range(IDS_PER_SOCKET))
        start = owner.random.randrange(IDS_PER_SOCKET)
        # FIFO reuse: a freed Id goes to the back, so it is reused as late as possible.
        self.free: deque[int] = deque(ids[start:] + ids[:start])
        self.pending: dict[int, _Exchange] = {}
        #: freed Ids -> the last exchange's authenticator, server and port: tells
        #: duplicates from strays
        self.recent: dict[int, tuple[bytes, ServerConfig, int]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        if sock is not None:
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        sock = self.sock
        if sock is None:
            return
        for _ in range(READ_BATCH):
            try:
                data, addr = sock.recvfrom(4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                # ICMP port unreachable and the like: the timers handle a silent server.
                self.owner.socket_errors += 1
                continue
            self.owner._received(self, data, addr)

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.sock is None:
            raise ConnectionError("the RADIUS transport is closed")
        try:
            self.sock.sendto(data, addr)
        except OSError:
            # a full send buffer or an ICMP error: lost like a datagram on the wire,
            # and the timers resend it
            self.owner.socket_errors += 1

    def close(self) -> None:
        if self.sock is None:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self.sock.fileno())
        self.sock.close()
        self.sock = None

    @property
    def port(self) -> int:
        assert self.sock is not None
        return int(self.sock.getsockname()[1])


class RadiusTransport:
    """Sends accounting records to servers and waits for verified answers."""

    def __init__(
        self,
        *,
        dictionary: Dictionary | None = None,
        clock: Callable[[], float] = time.time,
        on_event: Callable[[TransportEvent], None] | None = None,
        on_state: Callable[[ServerState], None] | None = None,
        source: str | None = None,
        rng: random.Random | None = None,
        window_max: int = MAXIMUM,
        window_initial: int = INITIAL,
    ) -> None:
        """`clock` is the wall clock (Acct-Delay-Time, dead-since times); timers run on
        the event loop's clock. `source` is the local address to send from;
        `window_max` bounds the records in flight to one server, `window_initial` is
        where its window starts."""
        self.dictionary = dictionary or load_dictionary()
        self.clock = clock
        self.on_event = on_event
        self.on_state = on_state
        self.source = source
        self.random = rng or random.Random()
        self._sockets: dict[int, list[_Socket]] = {}
        self._states: dict[str, ServerState] = {}
        #: per server, changes not yet applied to its ServerState (see `_pending`)
        self._changes: dict[str, dict[str, object]] = {}
        self._changed: dict[str, ServerConfig] = {}
        self._publishing = False
        self._dead_until: dict[str, float] = {}
        #: (address, port) -> server, to attribute any datagram to the server it came from
        self._by_address: dict[tuple[str, int], ServerConfig] = {}
        #: per server, running totals of its datagrams that named no exchange of its own
        self._loose: dict[str, Replies] = {}
        #: per server: its round trips and its in-flight window
        self._rtt: dict[str, RttEstimator] = {}
        self._windows: dict[str, Window] = {}
        self.window_max = window_max
        self.window_initial = window_initial
        self._opening: asyncio.Lock | None = None
        self._closed = False
        #: datagrams from an address that is no configured server
        self.stray = 0
        self.socket_errors = 0

    # ------------------------------------------------------------------ state
    @property
    def socket_count(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    def source_ports(self) -> list[int]:
        return [s.port for group in self._sockets.values() for s in group if s.sock]

    def rtt(self, server: ServerConfig) -> RttEstimator:
        estimator = self._rtt.get(server.name)
        if estimator is None:
            estimator = self._rtt[server.name] = RttEstimator()
        return estimator

    def window(self, server: ServerConfig) -> Window:
        window = self._windows.get(server.name)
        if window is None:
            window = Window(self.window_initial, maximum=self.window_max)
            self._windows[server.name] = window
        return window

    def state(self, server: ServerConfig) -> ServerState:
        """The server's state with every change so far (published to `on_state` if
        any was waiting)."""
        name = server.name
        state = self._states.get(name)
        if state is None:
            state = ServerState(server.name, server.host, server.auth_port, server.acct_port)
            self._states[name] = state
        changes = self._changes.pop(name, None)
        if changes:
            state = replace(state, **changes)  # type: ignore[arg-type]
            self._states[name] = state
            if self.on_state is not None:
                self.on_state(state)
        return state

    def states(self) -> list[ServerState]:
        self._publish_states()
        return list(self._states.values())

    def _pending(self, server: ServerConfig) -> dict[str, object]:
        """The server's changes not yet in its ServerState: a record's exchange changes
        half a dozen counters, and a frozen dataclass copied for each (and published
        each time) cost more than the rest of the exchange. They are applied once per
        loop iteration, or when the state is read."""
        pending = self._changes.get(server.name)
        if pending is None:
            pending = self._changes[server.name] = {}
            self._changed[server.name] = server
            if not self._publishing:
                try:
                    asyncio.get_running_loop().call_soon(self._publish_states)
                    self._publishing = True
                except RuntimeError:
                    pass
        return pending

    def _publish_states(self) -> None:
        self._publishing = False
        changed, self._changed = self._changed, {}
        for server in changed.values():
            if server.name in self._changes:
                self.state(server)

    def _peek(self, server: ServerConfig, name: str) -> object:
        """One field of the server's state as it is now, changes included."""
        pending = self._changes.get(server.name)
        if pending is not None and name in pending:
            return pending[name]
        state = self._states.get(server.name)
        if state is None:
            state = self.state(server)
        return getattr(state, name)

    def _set(self, server: ServerConfig, **changes: object) -> None:
        self._pending(server).update(changes)

    def _add(self, server: ServerConfig, **deltas: int) -> None:
        pending = self._pending(server)
        for name, delta in deltas.items():
            pending[name] = self._peek(server, name) + delta  # type: ignore[operator]

    def _emit(self, event: TransportEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def forget(self, keep: Iterable[str]) -> None:
        """Drop the state of servers no longer configured (after a reload)."""
        keep = set(keep)
        for name in [n for n in self._states if n not in keep]:
            del self._states[name]
            self._changes.pop(name, None)
            self._dead_until.pop(name, None)
            self._loose.pop(name, None)
            self._rtt.pop(name, None)
            self._windows.pop(name, None)
        for addr, server in list(self._by_address.items()):
            if server.name not in keep:
                del self._by_address[addr]

    def is_alive(self, server: ServerConfig) -> bool:
        """Dead servers come back by themselves when their deadtime is over."""
        until = self._dead_until.get(server.name)
        if until is None:
            return True
        if asyncio.get_running_loop().time() < until:
            return False
        del self._dead_until[server.name]
        self._set(server, alive=True, dead_since=None, dead_until=None)
        self._emit(ServerAlive(server))
        return True

    def revive_in(self, servers: Sequence[ServerConfig]) -> float | None:
        """Seconds until the first of `servers` leaves its deadtime (None: none is dead)."""
        now = asyncio.get_running_loop().time()
        waits = [self._dead_until[s.name] - now for s in servers if s.name in self._dead_until]
        return max(0.0, min(waits)) if waits else None

    def mark_dead(self, server: ServerConfig, timers: Timers) -> None:
        """Skip `server` for `radius-server deadtime` (nothing when it is 0)."""
        if timers.deadtime <= 0 or server.name in self._dead_until:
            return
        self._dead_until[server.name] = asyncio.get_running_loop().time() + timers.deadtime
        now = self.clock()
        self._set(server, alive=False, dead_since=now, dead_until=now + timers.deadtime)
        self._emit(ServerDead(server, timers.deadtime))

    # ------------------------------------------------------------------ sockets
    async def _allocate(self, family: int) -> tuple[_Socket, int]:
        for sock in self._sockets.get(family, ()):
            if sock.free:
                return sock, sock.free.popleft()
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            for sock in self._sockets.get(family, ()):
                if sock.free:
                    return sock, sock.free.popleft()
            if self._closed:
                raise ConnectionError("the RADIUS transport is closed")
            host = self.source or ("::" if family == socket.AF_INET6 else "0.0.0.0")
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.setblocking(False)
                with contextlib.suppress(OSError):
                    # up to 256 answers may arrive at once; the kernel caps this at rmem_max
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
                sock.bind((host, 0))
            except BaseException:
                sock.close()
                raise
            proto = _Socket(self, family, sock)
            self._sockets.setdefault(family, []).append(proto)
            return proto, proto.free.popleft()

    def _release(self, exchange: _Exchange) -> None:
        for (sock, ident), (authenticator, _) in exchange.sent.items():
            if sock.pending.get(ident) is exchange:
                del sock.pending[ident]
                sock.recent[ident] = (authenticator, exchange.server, exchange.port)
                sock.free.append(ident)
        exchange.sent.clear()

    def _received(self, sock: _Socket, data: bytes, addr: tuple[object, ...]) -> None:
        ident = data[1] if len(data) >= 2 else -1
        exchange = sock.pending.get(ident)
        server = exchange.server if exchange else None
        if server is None or exchange is None or not server.matches(addr, exchange.port):
            server = self._by_address.get(_address_key(addr))
        if server is None:
            self.stray += 1
            return
        # the exchange with this server that the datagram's Identifier names, if any
        ours = exchange if exchange is not None and exchange.server.name == server.name else None
        length = struct.unpack("!H", data[2:4])[0] if len(data) >= 4 else 0
        codes = ours.codes if ours is not None else RESPONSES
        if len(data) < 20 or data[0] not in codes or not 20 <= length <= len(data):
            self._add(server, malformed=1)
            self._count(server, ours, "malformed")
            return
        if ours is not None:
            entry = ours.sent.get((sock, ident))
            if entry is not None and ours.verify(data, entry[0], server.key):
                if ours.done.done():
                    self._add(server, duplicates=1)
                    return
                rtt = asyncio.get_running_loop().time() - entry[1]
                ours.done.set_result(Answer(bytes(data[:length]), ident, rtt))
                return
        recent = sock.recent.get(ident)
        if (
            recent is not None
            and recent[1].matches(addr, recent[2])
            and verify_response(data, recent[0], recent[1].key)
        ):
            self._add(server, duplicates=1)
            self._count(server, ours, "stale")
        elif ours is not None:
            self._add(server, bad_authenticators=1)
            self._count(server, ours, "bad_authenticators")
        else:
            self._add(server, unmatched=1)
            self._count(server, None, "unmatched")

    def _count(self, server: ServerConfig, exchange: _Exchange | None, kind: str) -> None:
        """O(1): for its own exchange, or in the server's running totals of datagrams
        that name none, which each exchange reads as a difference when it fails."""
        if exchange is not None:
            exchange.replies = exchange.replies.plus(kind)
        else:
            self._loose[server.name] = self._loose.get(server.name, Replies()).plus(kind)

    async def close(self) -> None:
        self._closed = True
        for group in self._sockets.values():
            for sock in group:
                for exchange in list(sock.pending.values()):
                    if not exchange.done.done():
                        exchange.done.cancel()
                sock.close()
        self._sockets.clear()

    # ------------------------------------------------------------------ sending
    async def send(self, out: Outbound, server: ServerConfig, timers: Timers) -> float | None:
        """Send one record to one server with retransmissions, within the server's
        window; the RTT of the answered transmission, or None if the server never
        answered (or failed another exchange while this one waited for the window)."""
        window = self.window(server)
        if not await window.acquire():
            return None
        delays: list[int] = []
        loop = asyncio.get_running_loop()

        def encode(ident: int) -> tuple[bytes, bytes]:
            delay = max(0, int(self.clock() - out.event_time))
            delays.append(delay)
            return encode_request(self.dictionary, out.attributes, delay, ident, server.key)

        def sent(ident: int, attempt: int) -> None:
            if attempt > 1:
                window.lost(loop.time(), self._hold(server, timers))
                self._set(server, window=window.limit)
            self._emit(Sent(out.record_id, server, ident, attempt, timers.mrc, delays[-1]))

        try:
            answer = await self.exchange(
                server,
                timers,
                port=server.acct_port,
                encode=encode,
                codes=ACCOUNTING_RESPONSES,
                record_id=out.record_id,
                on_sent=sent,
            )
        finally:
            window.release()
        if answer is None:
            window.failed(loop.time(), self._hold(server, timers))
        else:
            window.answered()
        if self._peek(server, "window") != window.limit:
            self._set(server, window=window.limit)
        return None if answer is None else answer.rtt

    def _hold(self, server: ServerConfig, timers: Timers) -> float:
        """How long one loss event lasts: a round trip, the first wait before any."""
        rto = self.rtt(server).rto
        return rto if rto is not None else timers.irt

    async def exchange(
        self,
        server: ServerConfig,
        timers: Timers,
        *,
        port: int,
        encode: Encoder,
        codes: frozenset[int],
        verify: Verifier = verify_response,
        record_id: int = 0,
        on_sent: Callable[[int, int], None] | None = None,
    ) -> Answer | None:
        """One request to one server port, retransmitted by `timers`, each transmission
        under a new Identifier (`encode(ident)` makes its datagram). The verified reply
        with one of `codes`, or None when none came within MRC/MRD.

        The first wait is the server's measured timeout (rtt.py), the next ones double
        from it; an answer to an exchange sent once is a round-trip sample."""
        loop = asyncio.get_running_loop()
        exchange = _Exchange(server, loop.create_future(), port, codes, verify)
        addr = (server.host, port)
        self._by_address[addr] = server
        self._add(server, requests=1, in_flight=1)
        loose = self._loose.get(server.name, Replies())
        estimator = self.rtt(server)
        first = estimator.timeout(timers.irt, timers.mrt)
        started = loop.time()
        rt: float | None = None
        attempt = 0
        answer: Answer | None = None
        try:
            while not exchange.done.done():
                attempt += 1
                sock, ident = await self._allocate(server.family)
                try:
                    raw, authenticator = encode(ident)
                except BaseException:
                    sock.free.append(ident)
                    raise
                sock.pending[ident] = exchange
                exchange.sent[(sock, ident)] = (authenticator, loop.time())
                sock.sendto(raw, addr)
                self._add(server, transmissions=1, retransmissions=int(attempt > 1))
                if on_sent is not None:
                    on_sent(ident, attempt)
                rt = timers.next_rt(rt, lambda: self.random.uniform(-1.0, 1.0), first)
                left = timers.mrd - (loop.time() - started) if timers.mrd else rt
                wait = min(rt, left)
                if wait > 0 and not exchange.done.done():
                    await asyncio.wait((exchange.done,), timeout=wait)
                if exchange.done.done():
                    break
                estimator.expired(wait)
                if attempt >= timers.mrc or (timers.mrd and loop.time() - started >= timers.mrd):
                    break
            if exchange.done.done() and not exchange.done.cancelled():
                answer = exchange.done.result()
                if attempt == 1:  # Karn's rule: a retransmitted exchange gives no sample
                    estimator.sample(answer.rtt)
                self._answered(server, answer.rtt, estimator, timers)
                self._emit(Acked(record_id, server, answer.ident, answer.rtt))
                return answer
            loose = self._loose.get(server.name, Replies()) - loose
            replies = exchange.replies + loose.at_most(attempt - exchange.replies.total)
            failed = TimedOut(record_id, server, attempt, replies)
            self._add(server, timeouts=1)
            self._set(server, last_failure=failed.summary())
            self._emit(failed)
            return None
        finally:
            self._release(exchange)
            in_flight = self._peek(server, "in_flight")
            self._set(server, in_flight=max(0, in_flight - 1))  # type: ignore[operator]

    def _answered(
        self, server: ServerConfig, rtt: float, estimator: RttEstimator, timers: Timers
    ) -> None:
        ms = rtt * 1000.0
        before = cast(float | None, self._peek(server, "avg_rtt_ms"))
        avg = ms if before is None else before + RTT_GAIN * (ms - before)
        srtt = estimator.srtt
        self._add(server, responses=1)
        self._set(
            server,
            avg_rtt_ms=round(avg, 3),
            srtt_ms=None if srtt is None else round(srtt * 1000.0, 3),
            rto_ms=round(estimator.timeout(timers.irt, timers.mrt) * 1000.0, 3),
            last_response_at=self.clock(),
            last_failure="",
        )
        if server.name in self._dead_until:
            del self._dead_until[server.name]
            self._set(server, alive=True, dead_since=None, dead_until=None)
            self._emit(ServerAlive(server))

    async def deliver(
        self,
        out: Outbound,
        servers: Sequence[ServerConfig],
        timers: Timers,
        *,
        broadcast: bool = False,
        acked: frozenset[str] = frozenset(),
    ) -> frozenset[str]:
        """The names of the servers that acknowledged `out` (with those in `acked`).

        One server at a time in the group's order, the next when one fails; dead
        servers are skipped. With `broadcast`, every live server not in `acked` at once.
        """
        if broadcast:
            targets = [s for s in servers if s.name not in acked and self.is_alive(s)]
            results = await asyncio.gather(*(self.send(out, s, timers) for s in targets))
            done = set(acked)
            for server, rtt in zip(targets, results, strict=True):
                if rtt is None:
                    self.mark_dead(server, timers)
                else:
                    done.add(server.name)
            return frozenset(done)
        for server in servers:
            if not self.is_alive(server):
                continue
            if await self.send(out, server, timers) is not None:
                return frozenset({server.name})
            self.mark_dead(server, timers)
        return frozenset()
