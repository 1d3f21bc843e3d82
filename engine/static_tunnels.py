"""Static crypto map entries kept up.

A static entry (`set peer`) is initiated as soon as the configuration is applied
and brought back, with exponential backoff, after a failure, a peer's delete or a
clear. (IOS brings such a tunnel up when traffic first flows; here it is always on,
which is what a monitoring console wants to show.) An IKE SA left without a child SA
(its child expired after a refused rekey, or the peer deleted it) gets a new child the
same way. Dynamic entries only respond.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from engine.config.compile import CompiledConfig
from engine.events import (
    AuthenticationFailed,
    ChildSaDeleted,
    ChildSaInstalled,
    DownReason,
    IkeSaAbandoned,
    IkeSaDown,
    IkeSaNegotiating,
    IkeSaUp,
    NegotiationFailed,
    RetransmitGiveUp,
)
from engine.gateway import Gateway

#: seconds between attempts: doubling from the first up to the maximum
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
TICK = 0.5
#: an IKE SA that goes for these reasons was replaced, not lost
REPLACED = (DownReason.REKEYED, DownReason.REPLACED)
#: what backs a static peer off before its next attempt (tuples: cheaper than unions
#: in isinstance, which runs for every IKE event)
_FAILURES = (AuthenticationFailed, NegotiationFailed, RetransmitGiveUp, IkeSaDown, IkeSaAbandoned)


@dataclass(slots=True)
class Backoff:
    delay: float = BACKOFF_FIRST
    next_attempt: float = 0.0


class StaticTunnels:
    """Knows which peers have an IKE SA from the events alone (negotiating or up, until
    down or abandoned), and initiates to configured static peers that have none."""

    EVENTS = (
        IkeSaNegotiating,
        IkeSaUp,
        IkeSaDown,
        IkeSaAbandoned,
        ChildSaInstalled,
        ChildSaDeleted,
        AuthenticationFailed,
        NegotiationFailed,
        RetransmitGiveUp,
    )

    def __init__(self, gateway: Gateway, config: Callable[[], CompiledConfig]) -> None:
        self.gateway = gateway
        self.config = config
        self._backoff: dict[str, Backoff] = {}
        #: peer name -> ids of its IKE SAs that are negotiating or up; those up
        self._ike_sas: dict[str, set[int]] = {}
        self._up: dict[str, set[int]] = {}
        #: peer name -> ids of its child SAs
        self._children: dict[str, set[int]] = {}
        self._task: asyncio.Task[None] | None = None

    def on_event(self, event: object) -> None:
        # The child SA events and a negotiation's start only track what a peer holds;
        # they neither fail nor succeed (a clear of thousands sends one per SA).
        if isinstance(event, ChildSaDeleted):
            _discard(self._children, event.peer_name, event.child_sa_id)
            return
        if isinstance(event, ChildSaInstalled):
            self._children.setdefault(event.peer_name, set()).add(event.child_sa_id)
            return
        if isinstance(event, IkeSaNegotiating):
            self._ike_sas.setdefault(event.peer_name, set()).add(event.ike_sa_id)
            return
        if isinstance(event, IkeSaUp):
            self._ike_sas.setdefault(event.peer_name, set()).add(event.ike_sa_id)
            self._up.setdefault(event.peer_name, set()).add(event.ike_sa_id)
        elif isinstance(event, (IkeSaDown, IkeSaAbandoned)):
            _discard(self._ike_sas, event.peer_name, event.ike_sa_id)
            _discard(self._up, event.peer_name, event.ike_sa_id)
        peer = getattr(event, "peer_name", "")
        if not peer or peer not in self.config().meta:
            return
        if isinstance(event, IkeSaUp):
            self._backoff[peer] = Backoff()
        elif isinstance(event, IkeSaDown) and event.reason in REPLACED:
            return  # a rekey: its successor is up, nothing failed
        elif isinstance(event, _FAILURES):
            state = self._backoff.get(peer)
            if state is None:
                state = self._backoff[peer] = Backoff()
            state.next_attempt = max(state.next_attempt, self.gateway.now() + state.delay)
            state.delay = min(state.delay * 2, BACKOFF_MAX)

    def forget(self, peers: tuple[str, ...]) -> None:
        for name in peers:
            self._backoff.pop(name, None)

    def _has_ike_sa(self, peer_name: str) -> bool:
        return bool(self._ike_sas.get(peer_name))

    def tick(self) -> None:
        now = self.gateway.now()
        for meta in self.config().meta.values():
            if not meta.initiate or meta.remote is None:
                continue
            name = meta.peer_name
            childless = self._up.get(name) and not self._children.get(name)
            if self._has_ike_sa(name) and not childless:
                continue
            state = self._backoff.setdefault(name, Backoff())
            if now < state.next_attempt:
                continue
            state.next_attempt = now + state.delay
            if childless:
                state.delay = min(state.delay * 2, BACKOFF_MAX)
                self.gateway.create_child_sa(max(self._up[name]))
            else:
                self.gateway.initiate(name)

    async def run(self) -> None:
        while True:
            self.tick()
            await asyncio.sleep(TICK)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def _discard(held: dict[str, set[int]], peer: str, sa_id: int) -> None:
    ids = held.get(peer)
    if ids is not None:
        ids.discard(sa_id)
        if not ids:
            del held[peer]
