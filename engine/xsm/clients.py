"""The XSM service's streaming clients (SSE and WebSocket): who they are, what they
follow, and the bounded queue between the shared feed and each client's socket.

The feed only ever appends to a client's queue; the client's own writer task drains it.
A client whose queue stays over its limit past a grace period, grows past the hard
bound, whose write stalls, or whose socket buffer grows too large is a slow consumer: it
is dropped (its connection aborted) and counted, and nobody else waits for it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from engine.xsm.stream import ChangeEvent, Snapshot

Transport = Literal["sse", "ws"]

SLOW_CONSUMER = "slow consumer"


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """One line of `show xsm status`'s client list."""

    session: int
    user: str
    privilege: int
    address: str
    subscriptions: tuple[str, ...]
    #: wall-clock time the client connected
    since: float
    events_sent: int
    events_dropped: int
    transport: Transport


@dataclass(frozen=True, slots=True)
class QueueLimits:
    #: events a client may have waiting before the grace period starts
    soft: int = 256
    #: events beyond which a client is dropped at once
    hard: int = 1024
    #: seconds a client may stay over `soft`, or sit in one write, before it is dropped
    grace: float = 5.0
    #: bytes the socket's user-space write buffer may hold
    write_buffer: int = 4 * 1024 * 1024


class Notice:
    """A message for one client only (a WebSocket error reply), queued in order."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


Item = ChangeEvent | Snapshot | Notice


class Closed(Exception):
    """The client was closed; `reason` says why."""


class Client:
    """A streaming client and its outgoing queue of shared change events."""

    def __init__(
        self,
        session: int,
        *,
        user: str,
        privilege: int,
        address: str,
        transport: Transport,
        listener: str,
        since: float,
        limits: QueueLimits,
        on_close: Callable[[Client, str], None],
    ) -> None:
        self.session = session
        self.user = user
        self.privilege = privilege
        self.address = address
        self.transport = transport
        #: "http" or "https": which listener it came in on
        self.listener = listener
        self.since = since
        self.limits = limits
        self._xrds: frozenset[str] = frozenset()
        self._queue: deque[Item] = deque()
        self._over_since: float | None = None
        self._writing_since: float | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._on_close = on_close
        #: aborts the connection (set by the handler): how a stuck writer is unstuck
        self.abort: Callable[[], None] | None = None
        #: the socket's pending bytes (set by the handler)
        self.buffered: Callable[[], int] | None = None
        #: whether the connection is still up (set by the handler)
        self.alive: Callable[[], bool] | None = None
        #: the user's configuration entry at login, to notice when it changes
        self.account: object = None
        self.events_sent = 0
        self.events_dropped = 0
        self.close_reason: str | None = None

    @property
    def xrds(self) -> frozenset[str]:
        return self._xrds

    @xrds.setter
    def xrds(self, names: frozenset[str]) -> None:
        self._xrds = names

    @property
    def closed(self) -> bool:
        return self.close_reason is not None

    def info(self) -> ClientInfo:
        return ClientInfo(
            self.session,
            self.user,
            self.privilege,
            self.address,
            tuple(sorted(self._xrds)),
            self.since,
            self.events_sent,
            self.events_dropped,
            self.transport,
        )

    # -- the feed's side ----------------------------------------------------------------

    def offer(self, event: ChangeEvent) -> None:
        """Queue an event; never blocks. Past the hard bound the client is dropped."""
        if self.closed:
            return
        self._queue.append(event)
        if len(self._queue) > self.limits.soft and self._over_since is None:
            self._over_since = time.monotonic()
        if len(self._queue) > self.limits.hard:
            self.close(SLOW_CONSUMER)
            return
        self._wake()

    def enqueue(self, items: list[Item]) -> None:
        """Queue what the client must get first (replays, snapshots) or a notice."""
        if self.closed:
            return
        self._queue.extend(items)
        self._wake()

    # -- the writer's side --------------------------------------------------------------

    async def next(self, timeout: float) -> Item | None:
        """The next event, or None after `timeout` seconds without one (time for a
        keep-alive). Raises Closed once the client is closed."""
        while not self._queue:
            if self.closed:
                raise Closed(self.close_reason)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self._waiter, timeout)
            except TimeoutError:
                if self.closed:
                    raise Closed(self.close_reason) from None
                return None
            finally:
                self._waiter = None
        if self.closed:
            raise Closed(self.close_reason)
        event = self._queue.popleft()
        if len(self._queue) <= self.limits.soft:
            self._over_since = None
        return event

    def writing(self) -> _Writing:
        """`with client.writing():` around each write, so a stalled one is seen."""
        return _Writing(self)

    def sent(self, count: int = 1) -> None:
        self.events_sent += count

    # -- closing ------------------------------------------------------------------------

    def close(self, reason: str) -> None:
        """End the client: its writer finishes the stream; a slow consumer's connection is
        aborted since its writer may be stuck in a write."""
        if self.closed:
            return
        self.close_reason = reason
        self.events_dropped += len(self._queue)
        self._queue.clear()
        self._wake()
        if reason == SLOW_CONSUMER and self.abort is not None:
            self.abort()
        self._on_close(self, reason)

    def check(self, now: float) -> str | None:
        """Why this client should be dropped now, if it should."""
        limits = self.limits
        if self._over_since is not None and now - self._over_since > limits.grace:
            return SLOW_CONSUMER
        if self._writing_since is not None and now - self._writing_since > limits.grace:
            return SLOW_CONSUMER
        if self.buffered is not None and self.buffered() > limits.write_buffer:
            return SLOW_CONSUMER
        return None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class _Writing:
    __slots__ = ("_client",)

    def __init__(self, client: Client) -> None:
        self._client = client

    def __enter__(self) -> None:
        self._client._writing_since = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self._client._writing_since = None


class ClientRegistry:
    """Every streaming client, by session number (small and increasing, as IOS numbers
    its sessions), and what became of the ones that left."""

    def __init__(self, limits: QueueLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._clients: dict[int, Client] = {}
        self._next_session = 1
        #: why clients ended: "slow consumer", "cleared", "disconnected", ...
        self.closed = Counter[str]()
        self.on_close: Callable[[Client, str], None] | None = None

    def __len__(self) -> int:
        return len(self._clients)

    def __iter__(self) -> Iterator[Client]:
        return iter(tuple(self._clients.values()))

    def get(self, session: int) -> Client | None:
        return self._clients.get(session)

    def add(
        self,
        *,
        user: str,
        privilege: int,
        address: str,
        transport: Transport,
        listener: str,
    ) -> Client:
        session = self._next_session
        self._next_session += 1
        client = Client(
            session,
            user=user,
            privilege=privilege,
            address=address,
            transport=transport,
            listener=listener,
            since=self._clock(),
            limits=self.limits,
            on_close=self._closed,
        )
        self._clients[session] = client
        return client

    def remove(self, client: Client) -> None:
        """The client's handler is done: forget it (closing it first if still open)."""
        if not client.closed:
            client.close("disconnected")
        self._clients.pop(client.session, None)

    def infos(self) -> list[ClientInfo]:
        return [client.info() for client in self._clients.values()]

    def sweep(self) -> list[int]:
        """Close clients whose connection went away, and drop every client that is too
        slow now; returns the dropped ones' sessions."""
        now = time.monotonic()
        dropped = []
        for client in self:
            if client.closed:
                continue
            if client.alive is not None and not client.alive():
                client.close("disconnected")
            elif client.check(now) is not None:
                client.close(SLOW_CONSUMER)
                dropped.append(client.session)
        return dropped

    def _closed(self, client: Client, reason: str) -> None:
        self.closed[reason] += 1
        if self.on_close is not None:
            self.on_close(client, reason)
