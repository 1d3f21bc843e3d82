"""The one event bus: every fact the engine produces reaches every consumer through here,
in the order the composition root (`engine.service`) declares.

Delivery is synchronous and in subscription order. An event published while another is
being delivered (the session model turning an IKE event into a session transition, the
data plane handing over a deleted child's last counters) is delivered to everyone at
once, before the rest of the current delivery: so a consumer registered later always
sees a cause's consequences before the cause itself is done, and the order is the same
whoever publishes. A consumer that raises is logged and counted; the others still get
the event. The outermost delivery runs inside `scope` (the store's batch), so that a
burst of events, e.g. one gateway flush, ends in one store change set.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

log = logging.getLogger(__name__)

Handler = Callable[[object], object]


@dataclass(frozen=True, slots=True)
class Subscriber:
    name: str
    handler: Handler
    #: the event types it takes; empty: all
    kinds: tuple[type, ...]


class EventBus:
    def __init__(
        self, scope: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext
    ) -> None:
        self._subscribers: list[Subscriber] = []
        self._scope = scope
        self._depth = 0
        #: event type -> the subscribers that take it, in order
        self._routes: dict[type, tuple[Subscriber, ...]] = {}
        #: exceptions raised by each subscriber
        self.errors: Counter[str] = Counter()

    def subscribe(self, name: str, handler: Handler, kinds: Iterable[type] = ()) -> None:
        """Add a consumer after those already there; `kinds` narrows what it gets."""
        self._subscribers.append(Subscriber(name, handler, tuple(kinds)))
        self._routes.clear()

    @property
    def order(self) -> tuple[str, ...]:
        """The consumers' names in delivery order (documented in the README)."""
        return tuple(s.name for s in self._subscribers)

    def publish(self, event: object) -> None:
        if self._depth:
            self._deliver(event)
            return
        with self.burst():
            self._deliver(event)

    def publish_all(self, events: Iterable[object]) -> None:
        with self.burst():
            for event in events:
                self._deliver(event)

    def _deliver(self, event: object) -> None:
        # The consumers of each event type are worked out once: a clear of thousands of
        # sessions publishes tens of thousands of events, each to a dozen consumers.
        kind = type(event)
        subscribers = self._routes.get(kind)
        if subscribers is None:
            subscribers = self._routes[kind] = tuple(
                s for s in self._subscribers if not s.kinds or issubclass(kind, s.kinds)
            )
        for subscriber in subscribers:
            try:
                subscriber.handler(event)
            except Exception:
                self.errors[subscriber.name] += 1
                log.exception("%s failed on %s", subscriber.name, kind.__name__)

    @contextlib.contextmanager
    def burst(self) -> Iterator[None]:
        """Deliveries within share one `scope` (one store flush at the end)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            with self._scope():
                yield
        finally:
            self._depth = 0
