"""What the transport's events mean for the accountant: each record's delivery state
(published.py) and the `debug crypto isakmp aaa`-style lines of its progress, and the
syslog lines of servers going dead, coming back or answering with replies that fail
verification (logged regardless of debug).

Each transmission and each answer comes once per record or more, as plain calls
(`sent`, `acked`: no event object); their lines are built only with debug on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import syslog
from engine.accounting.published import DeliveryState
from engine.accounting.reports import (
    ServerAlive,
    ServerDead,
    TimedOut,
    TransportEvent,
)
from engine.accounting.servers import ServerConfig

if TYPE_CHECKING:
    from engine.accounting.accountant import Accountant


class TransportTrace:
    def __init__(self, owner: Accountant) -> None:
        self.owner = owner
        #: servers whose failed verification was logged, until they answer again
        self.unverified: set[str] = set()

    def on_event(self, event: TransportEvent) -> None:
        if self.owner.closed:
            return  # the transport closing: what is in flight stays in the spool
        kind = type(event)
        if kind is TimedOut:
            self._timed_out(event)  # type: ignore[arg-type]
        elif kind is ServerDead:
            self._dead(event)  # type: ignore[arg-type]
        elif kind is ServerAlive:
            self._alive(event)  # type: ignore[arg-type]

    def sent(
        self,
        record_id: int,
        server: ServerConfig,
        ident: int,
        attempt: int,
        max_attempts: int,
        delay: int,
    ) -> None:
        """A transmission of a record left."""
        owner = self.owner
        if owner.closed:
            return
        record = owner.streams.inflight.get(record_id)
        current = owner.book.get(record_id)
        if record is None or current is None:
            return
        retry = attempt > 1 or current.attempts > 0
        state = DeliveryState.RETRYING if retry else DeliveryState.PENDING
        owner.book.transmitted(current, record, state, server.name, delay)
        if not owner.debug:
            return
        if attempt == 1:
            text = (
                f"AAA: accounting {current.kind} sent for session {current.acct_session_id} "
                f"to {server.name} (id {ident})"
            )
        else:
            text = (
                f"AAA: accounting {current.kind} for session {current.acct_session_id} to "
                f"{server.name} retransmitting ({attempt}/{max_attempts}), "
                f"id {ident}, Acct-Delay-Time {delay}"
            )
        owner.log(text, record.peer or None)

    def acked(self, record_id: int, server: ServerConfig, ident: int, rtt: float) -> None:
        """A verified answer from `server`."""
        owner = self.owner
        if owner.closed:
            return
        self.unverified.discard(server.name)
        if owner.debug:
            record = owner.streams.inflight.get(record_id)
            current = owner.book.get(record_id)
            if record is not None and current is not None:
                owner.log(
                    f"AAA: accounting {current.kind} for session {current.acct_session_id} "
                    f"acknowledged by {server.name} ({rtt * 1000:.1f} ms)",
                    record.peer or None,
                )
        owner.streams.wakeup()

    def _timed_out(self, event: TimedOut) -> None:
        owner = self.owner
        if event.replies.total:
            self._log_unverified(event)
        record = owner.streams.inflight.get(event.record_id)
        current = owner.book.get(event.record_id)
        if record is None or current is None:
            return
        owner.book.publish(record, DeliveryState.RETRYING, server=event.server.name)
        if not owner.debug:
            return
        if event.replies.total:
            why = (
                f"no verified reply from {event.server.name} after {event.attempts} "
                f"attempts: {event.replies.describe()}"
            )
        else:
            why = f"no response from {event.server.name} after {event.attempts} attempts"
        owner.log(
            f"AAA: accounting {current.kind} for session {current.acct_session_id}: {why}",
            record.peer or None,
        )

    def _dead(self, event: ServerDead) -> None:
        owner = self.owner
        server = event.server
        owner.log(f"AAA: server {server.name} dead for {event.seconds / 60:g} min", server.host)
        owner.log_entry(
            syslog.entry(
                "RADIUS",
                4,
                "RADIUS_DEAD",
                f"RADIUS server {server.host}:{server.auth_port},{server.acct_port} "
                "is not responding.",
                server.host,
            )
        )

    def _alive(self, event: ServerAlive) -> None:
        server = event.server
        self.owner.log_entry(
            syslog.entry(
                "RADIUS",
                6,
                "RADIUS_ALIVE",
                f"RADIUS server {server.host}:{server.auth_port},{server.acct_port} "
                "is being marked alive.",
                server.host,
            )
        )

    def _log_unverified(self, event: TimedOut) -> None:
        """Replies that fail verification are a fault an operator can fix (the key, the
        server): logged without `debug`, once until the server answers properly again."""
        server = event.server
        if server.name in self.unverified:
            return
        self.unverified.add(server.name)
        self.owner.log_entry(
            syslog.entry(
                "RADIUS",
                4,
                "RADIUS_BADREPLY",
                f"RADIUS server {server.host}:{server.auth_port},{server.acct_port}: no "
                f"verified accounting reply after {event.attempts} attempts: "
                f"{event.replies.describe()}",
                server.host,
            )
        )
