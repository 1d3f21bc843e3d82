"""One request to one server port, retransmitted by RFC 5080 timers, settled from the
receive path: no task and no future per request in flight, and for an accounting
record one object (delivery.py's `Send` is the exchange) with no callbacks between its
window, its datagram and its end.

The receive path (`RadiusTransport._received`) settles an exchange as soon as a
verified answer arrives (`answered`); its retransmission timer is one `loop.call_at`
handle. Thousands of records in flight are then thousands of small objects and timer
handles, not thousands of coroutines woken one loop iteration after their answer.

Every transmission gets a new Identifier and so a new Request Authenticator
(`encode(ident)` makes its datagram): Acct-Delay-Time is recomputed each time (RFC 5080
2.2.1). The earlier Ids stay valid until the exchange ends: a late answer to one of
them acknowledges it too. The first wait is the server's measured timeout (rtt.py),
the next ones double from it; an answer to an exchange sent once is a round-trip sample
(Karn's rule).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.accounting.packets import Answer, Encoder, Verifier
from engine.accounting.reports import Replies, TimedOut
from engine.accounting.servers import ServerConfig, Timers

if TYPE_CHECKING:
    from engine.accounting.sockets import RadiusSocket
    from engine.accounting.transport import RadiusTransport

NO_REPLIES = Replies()


class TransportClosed(ConnectionError):
    """The transport closed while the exchange was in flight."""


#: the exchange's end: its verified answer (None: none within MRC/MRD), or the error
#: that stopped it (the transport closed, a datagram that could not be made)
Settled = Callable[[Answer | None, BaseException | None], None]


class Exchange:
    """One request and its retransmissions. What it sends and who hears of its end are
    methods (`encode`, `sent`, `settled`): an accounting record's `Send` (delivery.py)
    is one, with no callbacks between them; `CallbackExchange` takes functions."""

    __slots__ = (
        "addr",
        "attempt",
        "codes",
        "done",
        "estimator",
        "first",
        "live",
        "loop",
        "loose",
        "owner",
        "port",
        "record_id",
        "replies",
        "rt",
        "sent_at",
        "server",
        "started",
        "timer",
        "timers",
        "verify",
        "wait",
    )

    def __init__(
        self,
        owner: RadiusTransport,
        server: ServerConfig,
        timers: Timers,
        *,
        port: int,
        codes: frozenset[int],
        verify: Verifier,
        record_id: int,
    ) -> None:
        self.owner = owner
        self.server = server
        self.timers = timers
        self.port = port
        self.addr = (server.host, port)
        self.codes = codes
        self.verify = verify
        self.record_id = record_id
        #: every transmission's (socket, Id) -> its authenticator and when it left
        self.sent_at: dict[tuple[RadiusSocket, int], tuple[bytes, float]] = {}
        #: datagrams to its Ids that did not acknowledge it
        self.replies = NO_REPLIES
        self.done = False
        self.attempt = 0
        self.rt: float | None = None
        self.wait = 0.0
        self.timer: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ what it does
    def encode(self, ident: int) -> tuple[bytes, bytes]:
        """The datagram for Identifier `ident`, and its Request Authenticator."""
        raise NotImplementedError

    def sent(self, ident: int, attempt: int) -> None:
        """A transmission left (attempt 1 is the first)."""

    def settled(self, answer: Answer | None, error: BaseException | None) -> None:
        """Its end: the verified answer (None: none within MRC/MRD), or the error that
        stopped it."""

    # ------------------------------------------------------------------ its course
    def start(self) -> None:
        """The first transmission; an error making it is raised here, not settled."""
        owner = self.owner
        server = self.server
        timers = self.timers
        book = owner.book
        self.loop = asyncio.get_running_loop()
        self.estimator = estimator = book.rtt(server)
        self.first = estimator.timeout(timers.irt, timers.mrt)
        self.loose = book.loose.get(server.name, NO_REPLIES)
        self.started = self.loop.time()
        owner.by_address[self.addr] = server
        live = self.live = book.live(server)
        live.requests += 1
        live.in_flight += 1
        if not live.dirty:  # published once per loop turn
            book.touch(live)
        try:
            self._transmit()
        except BaseException:
            self._end()
            raise

    def _transmit(self) -> None:
        owner = self.owner
        timers = self.timers
        loop = self.loop
        self.attempt = attempt = self.attempt + 1
        sock, ident = owner.allocate(self.server.family)
        try:
            raw, authenticator = self.encode(ident)
        except BaseException:
            sock.ids.free.append(ident)
            raise
        sock.ids.pending[ident] = self
        now = loop.time()
        self.sent_at[(sock, ident)] = (authenticator, now)
        sock.sendto(raw, self.addr)
        live = self.live
        live.transmissions += 1
        if attempt > 1:
            live.retransmissions += 1
        if not live.dirty:
            owner.book.touch(live)
        self.sent(ident, attempt)
        rt = self.rt = timers.next_rt(self.rt, owner.rand, self.first)
        left = timers.mrd - (now - self.started) if timers.mrd else rt
        wait = self.wait = min(rt, left)
        if wait > 0:
            self.timer = loop.call_at(now + wait, self._expired)
        else:
            self.timer = loop.call_soon(self._expired)

    def _expired(self) -> None:
        self.timer = None
        if self.done:
            return
        self.estimator.expired(self.wait)
        timers = self.timers
        if self.attempt >= timers.mrc or (
            timers.mrd and self.loop.time() - self.started >= timers.mrd
        ):
            self._fail()
            return
        try:
            self._transmit()
        except BaseException as err:  # the transport closed, or the datagram failed
            self._finish(None, err)

    def answered(self, answer: Answer) -> None:
        """A verified answer to one of its Ids, straight from the receive path."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.attempt == 1:  # Karn's rule: a retransmitted exchange gives no sample
            self.estimator.sample(answer.rtt)
        owner = self.owner
        owner.answered(self.server, self.live, answer.rtt, self.estimator, self.timers)
        owner.on_acked(self.record_id, self.server, answer.ident, answer.rtt)
        self._finish(answer, None)

    def _fail(self) -> None:
        owner = self.owner
        server = self.server
        loose = owner.book.loose.get(server.name, NO_REPLIES) - self.loose
        replies = self.replies + loose.at_most(self.attempt - self.replies.total)
        failed = TimedOut(self.record_id, server, self.attempt, replies)
        owner.book.add(server, timeouts=1)
        owner.book.set(server, last_failure=failed.summary())
        owner.emit(failed)
        self._finish(None, None)

    def close(self) -> None:
        """The transport closes: it ends with TransportClosed, neither a timeout of its
        server (no failover, no deadtime) nor a failure of its record (which stays in
        the spool)."""
        if self.done:
            return
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self._finish(None, TransportClosed("the RADIUS transport is closed"))

    def _end(self) -> None:
        self.done = True
        server = self.server
        for (sock, ident), (authenticator, _) in self.sent_at.items():
            sock.ids.release(ident, self, authenticator, server, self.port)
        self.sent_at.clear()
        live = self.live
        live.in_flight = max(0, live.in_flight - 1)
        if not live.dirty:
            self.owner.book.touch(live)

    def _finish(self, answer: Answer | None, error: BaseException | None) -> None:
        if self.done:
            return
        self._end()
        self.settled(answer, error)


class CallbackExchange(Exchange):
    """An exchange whose datagram, transmissions and end are the caller's functions."""

    __slots__ = ("_encode", "on_done", "on_sent")

    def __init__(
        self,
        owner: RadiusTransport,
        server: ServerConfig,
        timers: Timers,
        *,
        port: int,
        encode: Encoder,
        codes: frozenset[int],
        verify: Verifier,
        record_id: int,
        on_sent: Callable[[int, int], None] | None,
        on_done: Settled,
    ) -> None:
        super().__init__(
            owner, server, timers, port=port, codes=codes, verify=verify, record_id=record_id
        )
        self._encode = encode
        self.on_sent = on_sent
        self.on_done = on_done

    def encode(self, ident: int) -> tuple[bytes, bytes]:
        return self._encode(ident)

    def sent(self, ident: int, attempt: int) -> None:
        if self.on_sent is not None:
            self.on_sent(ident, attempt)

    def settled(self, answer: Answer | None, error: BaseException | None) -> None:
        self.on_done(answer, error)
