"""An accounting record's way to its servers, by callbacks: `Send` takes it to one
server within that server's window, `Delivery` through its group (failover, or every
server at once with `broadcast`).

Records in flight to one server are bounded by its window (window.py), which grows on
answers and halves on retransmissions: a burst never floods a server past its timers.
A server that fails an exchange is left for the next one of the group, and with
`radius-server deadtime M` skipped for M minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from engine.accounting.exchanges import Exchange
from engine.accounting.packets import (
    ACCOUNTING_RESPONSES,
    Answer,
    Outbound,
    encode_body,
    sign_request,
    verify_response,
)
from engine.accounting.servers import ServerConfig, Timers

if TYPE_CHECKING:
    from engine.accounting.transport import RadiusTransport

#: one server's answer: the RTT of the answered transmission (None: it never answered,
#: or failed another exchange while this one waited for its window), or an error
SendDone = Callable[[float | None, BaseException | None], None]
#: the servers that acknowledged the record (with those that had before), or an error
DeliveryDone = Callable[[frozenset[str], BaseException | None], None]


class Send(Exchange):
    """One record to one server, with its retransmissions, within the server's window:
    the exchange itself, one object per record and server."""

    __slots__ = ("body", "delay", "on_done", "out", "window")

    def __init__(
        self,
        owner: RadiusTransport,
        out: Outbound,
        server: ServerConfig,
        timers: Timers,
        on_done: SendDone,
    ) -> None:
        super().__init__(
            owner,
            server,
            timers,
            port=server.acct_port,
            codes=ACCOUNTING_RESPONSES,
            verify=verify_response,
            record_id=out.record_id,
        )
        self.out = out
        self.on_done = on_done
        self.body = out.body
        self.delay = 0
        self.window = owner.book.window(server)

    def begin(self) -> None:
        """Within the server's window: at once, or when a slot frees."""
        self.window.request(self._granted)

    def _granted(self, granted: bool) -> None:
        if not granted:
            self.on_done(None, None)
            return
        try:
            self.start()
        except BaseException as err:
            self.window.release()
            self.on_done(None, err)

    def encode(self, ident: int) -> tuple[bytes, bytes]:
        out = self.out
        body = self.body
        owner = self.owner
        if body is None:
            body = self.body = encode_body(owner.dictionary, out.attributes)
        delay = self.delay = max(0, int(owner.clock() - out.event_time))
        return sign_request(body, delay, ident, self.server.key)

    def sent(self, ident: int, attempt: int) -> None:
        owner = self.owner
        if attempt > 1:
            window = self.window
            window.lost(owner.loop_time(), owner.hold(self.server, self.timers))
            owner.book.set(self.server, window=window.limit)
        owner.on_sent(self.record_id, self.server, ident, attempt, self.timers.mrc, self.delay)

    def settled(self, answer: Answer | None, error: BaseException | None) -> None:
        window = self.window
        window.release()
        if error is None:
            if answer is None:
                owner = self.owner
                window.failed(owner.loop_time(), owner.hold(self.server, self.timers))
            else:
                window.answered()
            live = self.live
            if live.window != window.limit:
                live.window = window.limit
                self.owner.book.touch(live)
        self.on_done(None if answer is None else answer.rtt, error)


class Delivery:
    """One record through its group: one server at a time in the group's order, the
    next when one fails, dead servers skipped; with `broadcast`, every live server not
    in `acked` at once."""

    __slots__ = ("acked", "broadcast", "done", "index", "on_done", "out", "owner", "servers")
    __slots__ += ("timers", "waiting")

    def __init__(
        self,
        owner: RadiusTransport,
        out: Outbound,
        servers: Sequence[ServerConfig],
        timers: Timers,
        *,
        broadcast: bool,
        acked: frozenset[str],
        on_done: DeliveryDone,
    ) -> None:
        self.owner = owner
        self.out = out
        self.servers = servers
        self.timers = timers
        self.broadcast = broadcast
        self.acked = set(acked)
        self.on_done = on_done
        self.index = 0
        self.waiting = 0
        self.done = False

    def start(self) -> None:
        if not self.broadcast:
            self._next()
            return
        book = self.owner.book
        targets = [s for s in self.servers if s.name not in self.acked and book.is_alive(s)]
        if not targets:
            self._finish(None)
            return
        self.waiting = len(targets)
        for server in targets:
            Send(self.owner, self.out, server, self.timers, self._one(server)).begin()

    def _one(self, server: ServerConfig) -> SendDone:
        def done(rtt: float | None, error: BaseException | None) -> None:
            self.waiting -= 1
            if error is not None:
                self._finish(error)
                return
            if rtt is None:
                self.owner.book.mark_dead(server, self.timers)
            else:
                self.acked.add(server.name)
            if not self.waiting:
                self._finish(None)

        return done

    def _next(self) -> None:
        book = self.owner.book
        while self.index < len(self.servers):
            server = self.servers[self.index]
            self.index += 1
            if book.is_alive(server):
                Send(self.owner, self.out, server, self.timers, self._failover).begin()
                return
        self.acked = set()
        self._finish(None)

    def _failover(self, rtt: float | None, error: BaseException | None) -> None:
        if error is not None:
            self._finish(error)
            return
        server = self.servers[self.index - 1]
        if rtt is not None:
            self.acked = {server.name}
            self._finish(None)
            return
        self.owner.book.mark_dead(server, self.timers)
        self._next()

    def _finish(self, error: BaseException | None) -> None:
        if self.done:
            return
        self.done = True
        self.on_done(frozenset(self.acked), error)
