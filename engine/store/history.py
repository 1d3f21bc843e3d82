"""Per-session counter samples, kept short, for rates and sparklines.

The engine reports monotone totals; rates are derived here, on demand, from a small ring
per session, so nothing is computed for sessions nobody looks at.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from itertools import islice, pairwise
from typing import NamedTuple

#: The counters a sample carries, in sample order after ``t``.
FIELDS = ("bytes_in", "bytes_out", "packets_in", "packets_out")
_INDEX = {name: index for index, name in enumerate(FIELDS, start=1)}

#: A sample, then each counter's growth since the ring began (its rises only, so a reset
#: adds nothing): a rate over any window is then one subtraction per counter.
_Row = tuple[float, int, int, int, int, int, int, int, int]
_GROWTH = len(FIELDS) + 1


class Sample(NamedTuple):
    t: float
    bytes_in: int
    bytes_out: int
    packets_in: int
    packets_out: int


@dataclass(frozen=True, slots=True)
class Rates:
    bytes_in_per_s: float
    bytes_out_per_s: float
    packets_in_per_s: float
    packets_out_per_s: float


ZERO_RATES = Rates(0.0, 0.0, 0.0, 0.0)


class History:
    """A bounded ring of samples per key (default 300: five minutes at 1 Hz).

    Times are whatever clock the caller uses (the engine's monotonic loop time; tests inject
    their own); rates are relative to a key's newest sample, not to "now". A sample at the
    same time as the newest replaces it; an older one is dropped, since it could only come
    from a clock going backwards. A counter that falls counts as a reset: that field's rate
    is 0 over that interval.
    """

    __slots__ = ("_rings", "maxlen")

    def __init__(self, maxlen: int = 300) -> None:
        if maxlen < 2:
            raise ValueError("a rate needs at least two samples")
        self.maxlen = maxlen
        self._rings: dict[Hashable, deque[_Row]] = {}

    def record_sample(
        self,
        key: Hashable,
        t: float,
        bytes_in: int,
        bytes_out: int,
        packets_in: int,
        packets_out: int,
    ) -> None:
        ring = self._rings.get(key)
        if ring is None:
            ring = self._rings[key] = deque(maxlen=self.maxlen)
            ring.append((t, bytes_in, bytes_out, packets_in, packets_out, 0, 0, 0, 0))
            return
        if t <= ring[-1][0]:
            if t != ring[-1][0]:
                return
            ring.pop()
            if not ring:
                ring.append((t, bytes_in, bytes_out, packets_in, packets_out, 0, 0, 0, 0))
                return
        last = ring[-1]
        ring.append(
            (
                t,
                bytes_in,
                bytes_out,
                packets_in,
                packets_out,
                last[5] + max(0, bytes_in - last[1]),
                last[6] + max(0, bytes_out - last[2]),
                last[7] + max(0, packets_in - last[3]),
                last[8] + max(0, packets_out - last[4]),
            )
        )

    def discard(self, key: Hashable) -> None:
        self._rings.pop(key, None)

    def clear(self) -> None:
        self._rings.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._rings

    def __len__(self) -> int:
        return len(self._rings)

    def samples(self, key: Hashable) -> list[Sample]:
        """Oldest first; a copy, so the caller may keep it."""
        return [Sample(*row[:_GROWTH]) for row in self._rings.get(key, ())]

    def rates(self, key: Hashable, window_s: float = 10.0) -> Rates:
        """Average rates over the samples of the last ``window_s`` seconds.

        When that window holds fewer than two samples (sampling slower than the window),
        the newest interval is used instead, so a slow sampler still shows a rate.
        """
        ring = self._rings.get(key)
        if ring is None or len(ring) < 2:
            return ZERO_RATES
        newest = ring[-1]
        start = newest[0] - window_s
        oldest = ring[-2]
        for row in islice(reversed(ring), 2, None):
            if row[0] < start:
                break
            oldest = row
        span = newest[0] - oldest[0]
        return Rates(
            (newest[5] - oldest[5]) / span,
            (newest[6] - oldest[6]) / span,
            (newest[7] - oldest[7]) / span,
            (newest[8] - oldest[8]) / span,
        )

    def series(self, key: Hashable, field: str, points: int = 60) -> list[float]:
        """Per-second rates of one counter for the last ``points`` seconds, oldest first.

        Always ``points`` long (zeros where there is no history) so a sparkline keeps its
        width. Second ``i`` covers [newest - points + i, newest - points + i + 1); an
        interval's traffic is spread evenly over the seconds it spans, so irregular sample
        times still give a smooth series.
        """
        try:
            index = _INDEX[field]
        except KeyError:
            raise ValueError(f"unknown field {field!r}; one of {', '.join(FIELDS)}") from None
        out = [0.0] * points
        ring = self._rings.get(key)
        if ring is None or len(ring) < 2 or points <= 0:
            return out
        origin = ring[-1][0] - points
        for later, earlier in pairwise(reversed(ring)):
            t1 = later[0]
            if t1 <= origin:
                break
            delta = later[index] - earlier[index]
            if delta <= 0:
                continue
            t0 = earlier[0]
            rate = delta / (t1 - t0)
            low = max(t0, origin)
            second = int(low - origin)
            while second < points:
                begin = origin + second
                overlap = min(t1, begin + 1) - max(low, begin)
                if overlap > 0:
                    out[second] += rate * overlap
                if begin + 1 >= t1:
                    break
                second += 1
        return out
