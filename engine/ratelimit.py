"""A token bucket driven by an injected clock, for what must not scale with an attacker's
packet rate: notices sent to peers, log lines, answers to unauthenticated input."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    """`burst` events at once, then one per `1 / rate` seconds."""

    rate: float
    burst: float
    tokens: float = -1.0
    updated: float = 0.0

    def allow(self, now: float) -> bool:
        if self.tokens < 0:  # first use: full
            self.tokens, self.updated = self.burst, now
        elif now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
