"""RADIUS over UDP: our own client, with pyrad only describing attributes. Accounting
records go through `deliver_then` (callbacks) or `send`/`deliver` (coroutines); any
other exchange (an Access-Request, engine/aaa/radius_auth.py) through `exchange`, on
the same sockets, timers and checks.

pyrad's clients don't fit accounting (the sync one keeps the Id when Acct-Delay-Time
changes, the async one resends identical bytes to one server with no Id bookkeeping past
256), so this package owns the sockets and timers. Its pieces, one job each:

- servers.py: a server's configuration, its RFC 5080 2.2.1 timers and published state.
  IOS's knobs bound the timers: `radius-server timeout S` caps one wait (MRT),
  `radius-server retransmit N` gives 1+N transmissions (MRC), MRD = S*(1+N). The first
  wait adapts to the server's measured round trips (rtt.py), capped by MRT, so a slow
  server is waited for, not retransmitted to.
- health.py: every server's counters, deadtime, round trips and window (window.py).
- packets.py: datagrams made from attributes encoded once, and answers verified.
- sockets.py, idbook.py: source ports, read until empty, 256 Identifiers each; more
  in flight opens another socket.
- exchanges.py: one request and its retransmissions, settled by the receive path.
- delivery.py: a record through its server group, within each server's window.
- reports.py: the events and the counts of replies that acknowledged nothing.

A response counts only from the server's address, to an Id in flight, with the right
Response Authenticator; anything else is counted (duplicate, forged, stray) and dropped.
An exchange that ends unanswered says what did come back from its server meanwhile
(`Replies`): a wrong shared key or a broken server is not a silent one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from pyrad.dictionary import Dictionary

from engine.accounting.delivery import Delivery, Send
from engine.accounting.dictionary import load_dictionary
from engine.accounting.exchanges import CallbackExchange, Exchange, Settled, TransportClosed
from engine.accounting.health import Live, ServerBook
from engine.accounting.idbook import IDS_PER_SOCKET
from engine.accounting.packets import (
    ACCESS_RESPONSES,
    ACCOUNTING_RESPONSES,
    RESPONSES,
    Answer,
    EncodeError,
    Encoder,
    Outbound,
    Verifier,
    encode_body,
    encode_request,
    ensure_encodable,
    sign_request,
    verify_response,
)
from engine.accounting.reports import (
    Acked,
    Replies,
    Sent,
    ServerAlive,
    ServerDead,
    TimedOut,
    TransportEvent,
)
from engine.accounting.rtt import RttEstimator
from engine.accounting.servers import ServerConfig, ServerState, Timers
from engine.accounting.sockets import READ_BATCH, RECEIVE_BUFFER, RadiusSocket
from engine.accounting.window import INITIAL, MAXIMUM, Window

#: (record id, server, Identifier, attempt, max attempts, Acct-Delay-Time)
SentHook = Callable[[int, ServerConfig, int, int, int, int], None]
#: (record id, server, Identifier, round trip in seconds)
AckedHook = Callable[[int, ServerConfig, int, float], None]

#: EWMA weight of a new RTT sample (TCP's SRTT gain)
RTT_GAIN = 0.125


def _address_key(addr: tuple[object, ...]) -> tuple[str, int]:
    """A datagram's source as ServerConfig spells it (IPv6 without scope or flow)."""
    try:
        return str(ipaddress.ip_address(str(addr[0]).split("%")[0])), int(addr[1])  # type: ignore[call-overload]
    except (ValueError, IndexError, TypeError):
        return ("", 0)


class RadiusTransport:
    """Sends accounting records to servers and settles them on verified answers."""

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
        self.source = source
        self.random = rng or random.Random()
        self.book = ServerBook(
            clock=clock,
            emit=self.emit,
            on_state=on_state,
            window_initial=window_initial,
            window_max=window_max,
        )
        self._sockets: dict[int, list[RadiusSocket]] = {}
        #: (address, port) -> server, to attribute any datagram to the server it came from
        self.by_address: dict[tuple[str, int], ServerConfig] = {}
        self._closed = False
        #: each transmission of a record, and each verified answer: plain calls (no
        #: event object) for the accountant, which sees every one; by default they
        #: become Sent and Acked events for `on_event`
        self.on_sent: SentHook = self._emit_sent
        self.on_acked: AckedHook = self._emit_acked
        #: datagrams from an address that is no configured server
        self.stray = 0
        self.socket_errors = 0

    # ------------------------------------------------------------------ state
    @property
    def on_state(self) -> Callable[[ServerState], None] | None:
        return self.book.on_state

    @on_state.setter
    def on_state(self, value: Callable[[ServerState], None] | None) -> None:
        self.book.on_state = value

    @property
    def window_initial(self) -> int:
        """Where a server's window starts (for servers not yet seen)."""
        return self.book.window_initial

    @window_initial.setter
    def window_initial(self, value: int) -> None:
        self.book.window_initial = value

    @property
    def window_max(self) -> int:
        return self.book.window_max

    @window_max.setter
    def window_max(self, value: int) -> None:
        self.book.window_max = value

    @property
    def socket_count(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    def source_ports(self) -> list[int]:
        return [s.port for group in self._sockets.values() for s in group if s.sock]

    def rtt(self, server: ServerConfig) -> RttEstimator:
        return self.book.rtt(server)

    def window(self, server: ServerConfig) -> Window:
        return self.book.window(server)

    def state(self, server: ServerConfig) -> ServerState:
        """The server's state with every change so far."""
        return self.book.state(server)

    def states(self) -> list[ServerState]:
        return self.book.states()

    def forget(self, keep: Iterable[str]) -> None:
        """Drop the state of servers no longer configured (after a reload)."""
        kept = self.book.forget(keep)
        for addr, server in list(self.by_address.items()):
            if server.name not in kept:
                del self.by_address[addr]

    def is_alive(self, server: ServerConfig) -> bool:
        return self.book.is_alive(server)

    def revive_in(self, servers: Sequence[ServerConfig]) -> float | None:
        return self.book.revive_in(servers)

    def mark_dead(self, server: ServerConfig, timers: Timers) -> None:
        self.book.mark_dead(server, timers)

    def emit(self, event: TransportEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _emit_sent(
        self, record_id: int, server: ServerConfig, ident: int, attempt: int, mrc: int, delay: int
    ) -> None:
        if self.on_event is not None:
            self.on_event(Sent(record_id, server, ident, attempt, mrc, delay))

    def _emit_acked(self, record_id: int, server: ServerConfig, ident: int, rtt: float) -> None:
        if self.on_event is not None:
            self.on_event(Acked(record_id, server, ident, rtt))

    def rand(self) -> float:
        """RFC 5080's RAND, uniform in [-1, 1]."""
        return self.random.uniform(-1.0, 1.0)

    @staticmethod
    def loop_time() -> float:
        return asyncio.get_running_loop().time()

    def hold(self, server: ServerConfig, timers: Timers) -> float:
        """How long one loss event lasts: a round trip, the first wait before any."""
        rto = self.book.rtt(server).rto
        return rto if rto is not None else timers.irt

    # ------------------------------------------------------------------ sockets
    def allocate(self, family: int) -> tuple[RadiusSocket, int]:
        """A free (socket, Identifier), opening another socket when all are taken."""
        for sock in self._sockets.get(family, ()):
            if sock.ids.free:
                return sock, sock.ids.free.popleft()
        if self._closed:
            raise ConnectionError("the RADIUS transport is closed")
        sock = RadiusSocket.open(family, self.source, self.random, self._received, self._error)
        self._sockets.setdefault(family, []).append(sock)
        return sock, sock.ids.free.popleft()

    def _error(self) -> None:
        self.socket_errors += 1

    def _received(self, sock: RadiusSocket, data: bytes, addr: tuple[Any, ...]) -> None:
        ident = data[1] if len(data) >= 2 else -1
        exchange = cast(Exchange | None, sock.ids.pending.get(ident))
        server = exchange.server if exchange is not None else None
        if server is None or exchange is None or not server.matches(addr, exchange.port):
            server = self.by_address.get(_address_key(addr))
        if server is None:
            self.stray += 1
            return
        # the exchange with this server that the datagram's Identifier names, if any
        ours = exchange if exchange is not None and exchange.server.name == server.name else None
        length = int.from_bytes(data[2:4], "big") if len(data) >= 4 else 0
        codes = ours.codes if ours is not None else RESPONSES
        if len(data) < 20 or data[0] not in codes or not 20 <= length <= len(data):
            self.book.add(server, malformed=1)
            self._count(server, ours, "malformed")
            return
        if ours is not None:
            entry = ours.sent_at.get((sock, ident))
            if entry is not None and ours.verify(data, entry[0], server.key):
                rtt = ours.loop.time() - entry[1]
                ours.answered(Answer(bytes(data[:length]), ident, rtt))
                return
        recent = sock.ids.recent.get(ident)
        if (
            recent is not None
            and recent[1].matches(addr, recent[2])
            and verify_response(data, recent[0], recent[1].key)
        ):
            self.book.add(server, duplicates=1)
            self._count(server, ours, "stale")
        elif ours is not None:
            self.book.add(server, bad_authenticators=1)
            self._count(server, ours, "bad_authenticators")
        else:
            self.book.add(server, unmatched=1)
            self._count(server, None, "unmatched")

    def _count(self, server: ServerConfig, exchange: Exchange | None, kind: str) -> None:
        """O(1): for its own exchange, or in the server's running totals of datagrams
        that name none, which each exchange reads as a difference when it fails."""
        if exchange is not None:
            exchange.replies = exchange.replies.plus(kind)
        else:
            self.book.count(server, kind)

    async def close(self) -> None:
        """Every exchange in flight ends unanswered; the sockets close."""
        self._closed = True
        for group in self._sockets.values():
            for sock in group:
                for exchange in list(sock.ids.pending.values()):
                    exchange.close()
        for group in self._sockets.values():
            for sock in group:
                sock.close()
        self._sockets.clear()
        self.book.publish()  # the servers as the exchanges left them, now

    # ------------------------------------------------------------------ exchanges
    def exchange_then(
        self,
        server: ServerConfig,
        timers: Timers,
        *,
        port: int,
        encode: Encoder,
        codes: frozenset[int],
        on_done: Settled,
        verify: Verifier = verify_response,
        record_id: int = 0,
        on_sent: Callable[[int, int], None] | None = None,
    ) -> None:
        """One request to one server port, retransmitted by `timers`; `on_done` gets the
        verified reply with one of `codes`, or None when none came within MRC/MRD. An
        error making the first datagram is raised here."""
        CallbackExchange(
            self,
            server,
            timers,
            port=port,
            encode=encode,
            codes=codes,
            verify=verify,
            record_id=record_id,
            on_sent=on_sent,
            on_done=on_done,
        ).start()

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
        """`exchange_then` for a coroutine; None also when the transport closes."""
        future: asyncio.Future[Answer | None] = asyncio.get_running_loop().create_future()
        self.exchange_then(
            server,
            timers,
            port=port,
            encode=encode,
            codes=codes,
            verify=verify,
            record_id=record_id,
            on_sent=on_sent,
            on_done=_settle(future, none_on_close=True),
        )
        return await future

    def answered(
        self, server: ServerConfig, live: Live, rtt: float, estimator: RttEstimator, timers: Timers
    ) -> None:
        """A verified answer from `server` (whose counters are `live`)."""
        book = self.book
        ms = rtt * 1000.0
        before = live.avg_rtt_ms
        avg = ms if before is None else before + RTT_GAIN * (ms - before)
        srtt = estimator.srtt
        live.responses += 1
        live.avg_rtt_ms = round(avg, 3)
        live.srtt_ms = None if srtt is None else round(srtt * 1000.0, 3)
        live.rto_ms = round(estimator.timeout(timers.irt, timers.mrt) * 1000.0, 3)
        live.last_response_at = self.clock()
        live.last_failure = ""
        if not live.dirty:
            book.touch(live)
        book.revived(server)

    # ------------------------------------------------------------------ records
    def send_then(
        self,
        out: Outbound,
        server: ServerConfig,
        timers: Timers,
        on_done: Callable[[float | None, BaseException | None], None],
    ) -> None:
        """One record to one server within its window; `on_done` gets the RTT of the
        answered transmission, or None if the server never answered (or failed another
        exchange while this one waited for the window)."""
        Send(self, out, server, timers, on_done).begin()

    async def send(self, out: Outbound, server: ServerConfig, timers: Timers) -> float | None:
        """`send_then` for a coroutine."""
        future: asyncio.Future[float | None] = asyncio.get_running_loop().create_future()
        self.send_then(out, server, timers, _settle(future))
        return await future

    def deliver_then(
        self,
        out: Outbound,
        servers: Sequence[ServerConfig],
        timers: Timers,
        on_done: Callable[[frozenset[str], BaseException | None], None],
        *,
        broadcast: bool = False,
        acked: frozenset[str] = frozenset(),
    ) -> None:
        """`on_done` gets the names of the servers that acknowledged `out` (with those in
        `acked`): one server at a time in the group's order, the next when one fails,
        dead servers skipped; with `broadcast`, every live server not in `acked` at
        once."""
        Delivery(
            self, out, servers, timers, broadcast=broadcast, acked=acked, on_done=on_done
        ).start()

    async def deliver(
        self,
        out: Outbound,
        servers: Sequence[ServerConfig],
        timers: Timers,
        *,
        broadcast: bool = False,
        acked: frozenset[str] = frozenset(),
    ) -> frozenset[str]:
        """`deliver_then` for a coroutine."""
        future: asyncio.Future[frozenset[str]] = asyncio.get_running_loop().create_future()
        self.deliver_then(out, servers, timers, _settle(future), broadcast=broadcast, acked=acked)
        return await future


def _settle(
    future: asyncio.Future[Any], *, none_on_close: bool = False
) -> Callable[[Any, BaseException | None], None]:
    """A callback that settles `future`; with `none_on_close`, TransportClosed gives
    None (no answer) rather than the error."""

    def settle(result: object, error: BaseException | None) -> None:
        if future.done():
            return
        if none_on_close and isinstance(error, TransportClosed):
            future.set_result(None)
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    return settle


__all__ = [
    "ACCESS_RESPONSES",
    "ACCOUNTING_RESPONSES",
    "IDS_PER_SOCKET",
    "READ_BATCH",
    "RECEIVE_BUFFER",
    "RESPONSES",
    "Acked",
    "Answer",
    "EncodeError",
    "Encoder",
    "Outbound",
    "RadiusTransport",
    "Replies",
    "Sent",
    "ServerAlive",
    "ServerConfig",
    "ServerDead",
    "ServerState",
    "TimedOut",
    "Timers",
    "TransportEvent",
    "Verifier",
    "encode_body",
    "encode_request",
    "ensure_encodable",
    "sign_request",
    "verify_response",
]
