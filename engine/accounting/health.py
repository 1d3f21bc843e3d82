"""Per server: its published state and counters, deadtime, round trips and window.

An exchange changes half a dozen of a server's counters, and a frozen ServerState
copied for each change (and published each time) cost more than the rest of the
exchange: the counters live in a mutable `Live` per server, changed in place, and a
ServerState is made from it once per loop iteration (or when the state is read).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields

from engine.accounting.reports import Replies, ServerAlive, ServerDead, TransportEvent
from engine.accounting.rtt import RttEstimator
from engine.accounting.servers import ServerConfig, ServerState, Timers
from engine.accounting.window import Window

STATE_FIELDS = tuple(f.name for f in fields(ServerState))


class Live:
    """A server's ServerState fields, mutable; `dirty` until published."""

    __slots__ = (*STATE_FIELDS, "dirty", "server")

    def __init__(self, state: ServerState, server: ServerConfig) -> None:
        for name in STATE_FIELDS:
            setattr(self, name, getattr(state, name))
        self.server = server
        self.dirty = False

    def freeze(self) -> ServerState:
        return ServerState(*(getattr(self, name) for name in STATE_FIELDS))


class ServerBook:
    """Every server's state as the transport knows it. Single-threaded."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        emit: Callable[[TransportEvent], None],
        on_state: Callable[[ServerState], None] | None,
        window_initial: int,
        window_max: int,
    ) -> None:
        self.clock = clock
        self.emit = emit
        self.on_state = on_state
        self.window_initial = window_initial
        self.window_max = window_max
        self._states: dict[str, ServerState] = {}
        self._live: dict[str, Live] = {}
        self._changed: list[Live] = []
        self._publishing = False
        self._dead_until: dict[str, float] = {}
        #: per server, running totals of its datagrams that named no exchange of its own
        self.loose: dict[str, Replies] = {}
        self._rtt: dict[str, RttEstimator] = {}
        self._windows: dict[str, Window] = {}

    # ------------------------------------------------------------------ state
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

    def live(self, server: ServerConfig) -> Live:
        """The server's counters to change in place; `touch` it after."""
        live = self._live.get(server.name)
        if live is None:
            state = ServerState(server.name, server.host, server.auth_port, server.acct_port)
            self._states[server.name] = state
            live = self._live[server.name] = Live(state, server)
        return live

    def touch(self, live: Live) -> None:
        """`live` changed: published on the loop's next iteration."""
        if live.dirty:
            return
        live.dirty = True
        self._changed.append(live)
        if not self._publishing:
            try:
                asyncio.get_running_loop().call_soon(self.publish)
            except RuntimeError:  # no loop: published when the state is read
                return
            self._publishing = True

    def state(self, server: ServerConfig) -> ServerState:
        """The server's state with every change so far (published to `on_state` if
        any was waiting)."""
        live = self.live(server)
        if live.dirty:
            live.dirty = False
            state = self._states[server.name] = live.freeze()
            if self.on_state is not None:
                self.on_state(state)
            return state
        return self._states[server.name]

    def states(self) -> list[ServerState]:
        self.publish()
        return list(self._states.values())

    def publish(self) -> None:
        self._publishing = False
        changed, self._changed = self._changed, []
        for live in changed:
            if live.dirty and self._live.get(live.server.name) is live:
                self.state(live.server)

    def peek(self, server: ServerConfig, name: str) -> object:
        """One field of the server's state as it is now, changes included."""
        return getattr(self.live(server), name)

    def set(self, server: ServerConfig, **changes: object) -> None:
        live = self.live(server)
        for name, value in changes.items():
            setattr(live, name, value)
        self.touch(live)

    def add(self, server: ServerConfig, **deltas: int) -> None:
        live = self.live(server)
        for name, delta in deltas.items():
            setattr(live, name, getattr(live, name) + delta)
        self.touch(live)

    def count(self, server: ServerConfig, kind: str) -> None:
        """A datagram that named none of the server's exchanges, in its running totals
        (each exchange reads them as a difference when it fails)."""
        self.loose[server.name] = self.loose.get(server.name, Replies()).plus(kind)

    def forget(self, keep: Iterable[str]) -> set[str]:
        """Drop the state of servers no longer configured (after a reload); the names
        kept."""
        keep = set(keep)
        for name in [n for n in self._states if n not in keep]:
            del self._states[name]
            self._live.pop(name, None)
            self._dead_until.pop(name, None)
            self.loose.pop(name, None)
            self._rtt.pop(name, None)
            self._windows.pop(name, None)
        return keep

    # ------------------------------------------------------------------ deadtime
    def is_alive(self, server: ServerConfig) -> bool:
        """Dead servers come back by themselves when their deadtime is over."""
        until = self._dead_until.get(server.name)
        if until is None:
            return True
        if asyncio.get_running_loop().time() < until:
            return False
        del self._dead_until[server.name]
        self.set(server, alive=True, dead_since=None, dead_until=None)
        self.emit(ServerAlive(server))
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
        self.set(server, alive=False, dead_since=now, dead_until=now + timers.deadtime)
        self.emit(ServerDead(server, timers.deadtime))

    def revived(self, server: ServerConfig) -> None:
        """A verified answer: a dead server is alive again."""
        if server.name in self._dead_until:
            del self._dead_until[server.name]
            self.set(server, alive=True, dead_since=None, dead_until=None)
            self.emit(ServerAlive(server))
