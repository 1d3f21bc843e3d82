"""What the transport reports: replies that acknowledged nothing (`Replies`), and the
events of an exchange (`Sent`, `Acked`, `TimedOut`) and of a server (`ServerDead`,
`ServerAlive`)."""

from __future__ import annotations

from dataclasses import astuple, dataclass, replace

from engine.accounting.servers import ServerConfig


@dataclass(frozen=True, slots=True)
class Replies:
    """Datagrams from a server that acknowledged nothing, during one exchange.

    Those whose Identifier names the exchange count for it alone. Those that name none
    of the server's exchanges (garbage, a late or replayed answer) count for each one
    they arrive during, up to one per transmission it got no other answer to: a
    transmission draws one answer, and a burst must not inflate every exchange's."""

    bad_authenticators: int = 0
    malformed: int = 0
    #: verified with the key, but answering an earlier request (late, or replayed)
    stale: int = 0
    #: to an Identifier this transport has no request in flight or recently answered for
    unmatched: int = 0

    @property
    def total(self) -> int:
        return self.bad_authenticators + self.malformed + self.stale + self.unmatched

    def plus(self, kind: str) -> Replies:
        return replace(self, **{kind: getattr(self, kind) + 1})

    def __add__(self, other: Replies) -> Replies:
        return Replies(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def __sub__(self, other: Replies) -> Replies:
        """Never negative (a server forgotten by a reload restarts its totals)."""
        pairs = zip(astuple(self), astuple(other), strict=True)
        return Replies(*(max(0, a - b) for a, b in pairs))

    def at_most(self, count: int) -> Replies:
        """`count` of them at most, the kinds an operator can act on first."""
        kept: dict[str, int] = {}
        for kind in ("bad_authenticators", "malformed", "unmatched", "stale"):
            kept[kind] = min(getattr(self, kind), max(0, count))
            count -= kept[kind]
        return Replies(**kept)

    def describe(self) -> str:
        """E.g. "3 replies with a bad authenticator (shared key mismatch?)"."""
        if self.stale and self.stale == self.total:
            return f"only stale replies ({self.stale}, answering earlier requests)"
        parts = []
        if self.bad_authenticators:
            parts.append(
                f"{_replies(self.bad_authenticators)} with a bad authenticator"
                " (shared key mismatch?)"
            )
        if self.malformed:
            parts.append(f"{self.malformed} malformed {_replies(self.malformed, False)}")
        if self.unmatched:
            parts.append(f"{_replies(self.unmatched)} to no request in flight")
        if self.stale:
            parts.append(f"{_replies(self.stale)} answering earlier requests")
        return ", ".join(parts)


def _replies(count: int, with_count: bool = True) -> str:
    word = "reply" if count == 1 else "replies"
    return f"{count} {word}" if with_count else word


@dataclass(frozen=True, slots=True)
class Sent:
    record_id: int
    server: ServerConfig
    ident: int
    attempt: int
    max_attempts: int
    delay: int


@dataclass(frozen=True, slots=True)
class Acked:
    record_id: int
    server: ServerConfig
    ident: int
    rtt: float


@dataclass(frozen=True, slots=True)
class TimedOut:
    """The server did not acknowledge this record within MRC/MRD; `replies` is what it
    sent back instead (nothing: a silent server)."""

    record_id: int
    server: ServerConfig
    attempts: int
    replies: Replies = Replies()

    def summary(self) -> str:
        """Why, without the server's name: "no response after 3 attempts", or "no
        verified reply after 3 attempts: 3 malformed replies"."""
        if not self.replies.total:
            return f"no response after {self.attempts} attempts"
        return f"no verified reply after {self.attempts} attempts: {self.replies.describe()}"


@dataclass(frozen=True, slots=True)
class ServerDead:
    server: ServerConfig
    seconds: float


@dataclass(frozen=True, slots=True)
class ServerAlive:
    server: ServerConfig


TransportEvent = Sent | Acked | TimedOut | ServerDead | ServerAlive
