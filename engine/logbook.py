"""Turns what happens into IOS log lines: into the store's ring for the console, and to
the `logging host` servers. Lines are stamped with the wall clock when logged (engine
events carry the event loop's monotonic time)."""

from __future__ import annotations

import time
from collections.abc import Callable

from engine import syslog
from engine.events import (
    AuthenticationFailed,
    ConfigReloaded,
    ConfigReloadFailed,
    EngineFault,
    LineProtocolChanged,
    NegotiationFailed,
    SessionTransition,
)
from engine.log_storms import LogRateLimiter
from engine.store import Store
from engine.syslog import LogEntry, SyslogForwarder


class Logbook:
    #: what it logs from the bus
    EVENTS = (
        SessionTransition,
        AuthenticationFailed,
        NegotiationFailed,
        EngineFault,
        ConfigReloaded,
        ConfigReloadFailed,
        LineProtocolChanged,
    )

    def __init__(
        self,
        store: Store,
        forwarder: SyslogForwarder | None = None,
        limiter: LogRateLimiter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.forwarder = forwarder
        self.limiter = limiter if limiter is not None else LogRateLimiter()
        self.clock = clock

    def log(self, entry: LogEntry) -> None:
        """Into the ring and to the syslog servers, unless its type is in a storm."""
        admitted, summaries = self.limiter.admit(entry, self.clock())
        for line in [*summaries, entry] if admitted else summaries:
            self._write(line)

    def tick(self) -> None:
        """Log the summary of every storm window that has ended (called once a second)."""
        for line in self.limiter.due(self.clock()):
            self._write(line)

    def _write(self, entry: LogEntry) -> None:
        self.store.append_log(entry)
        self.store.flush_soon()
        if self.forwarder is not None:
            self.forwarder.send(entry)

    def on_transition(self, transition: SessionTransition) -> None:
        """%CRYPTO-5-SESSION_STATUS when a session comes up or goes down."""
        record = transition.record
        if not (transition.came_up or transition.went_down):
            return
        build = syslog.session_up if transition.came_up else syslog.session_down
        self.log(
            build(
                record.remote_ip,
                record.remote_port,
                fvrf=record.fvrf or None,
                ivrf=record.ivrf or None,
                description=record.description or None,
                phase1_id=record.phase1_id or None,
                at=transition.at,
            )
        )

    def on_event(self, event: object) -> None:
        if isinstance(event, SessionTransition):
            self.on_transition(event)
        elif isinstance(event, AuthenticationFailed):
            self.log(
                syslog.auth_failed(
                    event.remote[0],
                    event.remote[1],
                    event.remote_id,
                    event.reason,
                    protocol=event.protocol,
                )
            )
        elif isinstance(event, NegotiationFailed):
            self.log(
                syslog.negotiation_failed(
                    event.remote[0],
                    event.remote[1],
                    event.reason,
                    event.notify,
                    protocol=event.protocol,
                )
            )
        elif isinstance(event, EngineFault):
            self.log(
                syslog.internal_error(event.remote[0], event.remote[1], event.where, event.error)
            )
        elif isinstance(event, ConfigReloaded):
            self.log(syslog.config_loaded(event.file))
        elif isinstance(event, ConfigReloadFailed):
            reason = "; ".join(event.errors) or "invalid configuration"
            self.log(syslog.config_rejected(event.file, reason))
        elif isinstance(event, LineProtocolChanged):
            self.log(syslog.line_protocol(event.interface, event.up))

    def cleared(self, remote: tuple[str, int | None] | None, by: str = "console") -> None:
        if remote is None:
            self.log(syslog.session_cleared(by=by))
        else:
            self.log(syslog.session_cleared(remote[0], remote[1], by=by))
