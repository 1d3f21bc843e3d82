"""What the XSM service reports and the hooks it calls: `show xsm status`, exec results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True, slots=True)
class ExecResult:
    """What an exec command printed, and its records (what `--json` prints), if any."""

    text: str
    records: Any = None


class ExecCommand(Protocol):
    """Runs an exec command given as words on behalf of `by`; raises ExecSyntaxError
    (a ValueError) when the words are not a command."""

    def __call__(self, words: list[str], by: str) -> ExecResult | Awaitable[ExecResult]: ...


#: the Accept header -> (body, Content-Type)
MetricsHook = Callable[[str], tuple[bytes, str]]


@dataclass(frozen=True, slots=True)
class ListenerStatus:
    kind: Literal["http", "https"]
    #: the configured port
    port: int
    #: the port actually bound (differs for port 0), None when not listening
    bound: int | None
    #: why it is not listening, when it should be
    error: str | None = None
    #: "configured" (trustpoint files) or "self-signed" for https
    certificate: str | None = None


@dataclass(frozen=True, slots=True)
class XsmCounters:
    logins_failed: int = 0
    rate_limited: int = 0
    denied_access_class: int = 0
    dropped_slow: int = 0
    #: requests refused because max connections were in use
    refused_busy: int = 0
    #: handler failures answered 500
    internal_errors: int = 0


@dataclass(frozen=True, slots=True)
class XsmStatus:
    enabled: bool
    serving: bool
    listeners: tuple[ListenerStatus, ...]
    adapters: tuple[str, ...]
    monitor_level: int
    configuration_level: int
    clients: int
    counters: XsmCounters
    #: the newest change event id
    last_event_id: int
    closed_by_reason: dict[str, int] = field(default_factory=dict)
