"""RADIUS servers as the configuration names them (`ServerConfig`), their
retransmission timers (`Timers`, RFC 5080 2.2.1) and their health as the store's SERVERS
table shows it (`ServerState`)."""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.secret import Secret


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
        if addr[0] == self.host and addr[1] == (self.port if port is None else port):
            return True  # as the kernel spells it, the usual case: nothing to parse
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
