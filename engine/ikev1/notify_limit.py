"""How many error notifies the gateway may send: a token bucket per peer address and one
for the whole engine, so that forged datagrams (whose source address is anyone's) never
turn the gateway into a reflector. What the buckets refuse is counted by the caller."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

#: notifies one address may receive in a burst, then one every `PER_SOURCE_INTERVAL` seconds
PER_SOURCE_BURST = 5
PER_SOURCE_INTERVAL = 1.0
#: notifies the whole engine may send in a burst, then `GLOBAL_RATE` a second
GLOBAL_BURST = 50
GLOBAL_RATE = 20.0
#: addresses whose buckets are kept (the oldest go first: a flood of sources costs no memory)
SOURCES_KEPT = 4096


@dataclass(slots=True)
class TokenBucket:
    capacity: float
    rate: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.stamp = max(self.stamp, now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class NotifyLimiter:
    def __init__(
        self,
        per_source_burst: int = PER_SOURCE_BURST,
        per_source_interval: float = PER_SOURCE_INTERVAL,
        global_burst: int = GLOBAL_BURST,
        global_rate: float = GLOBAL_RATE,
        sources_kept: int = SOURCES_KEPT,
    ) -> None:
        self.per_source_burst = per_source_burst
        self.per_source_rate = 1.0 / per_source_interval
        self.sources_kept = sources_kept
        self._global = TokenBucket(global_burst, global_rate, global_burst, 0.0)
        self._sources: OrderedDict[str, TokenBucket] = OrderedDict()

    def allow(self, address: str, now: float) -> bool:
        """Whether one more notify may go to `address` now (a token is taken if so)."""
        bucket = self._sources.get(address)
        if bucket is None:
            bucket = TokenBucket(
                self.per_source_burst, self.per_source_rate, self.per_source_burst, now
            )
            self._sources[address] = bucket
            while len(self._sources) > self.sources_kept:
                self._sources.popitem(last=False)
        else:
            self._sources.move_to_end(address)
        if not bucket.take(now):
            return False
        if not self._global.take(now):
            bucket.tokens += 1.0  # not sent: the address keeps its token
            return False
        return True
