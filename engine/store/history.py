"""Per-session counter samples, kept short, for rates and sparklines.

The engine reports monotone totals; rates are derived here, on demand, from a small ring
per session, so nothing is computed for sessions nobody looks at.

A ring is one flat `array('d')`: its oldest sample's slot, then five doubles a sample
(t and the four counters). At 100k sessions that is 40 bytes a sample and one object a
session, where a deque of tuples of Python ints took ten times as much (and 760 bytes
for an empty deque). Counters are exact as doubles up to 2**53 (8 PiB).
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable
from dataclasses import dataclass
from typing import NamedTuple

#: The counters a sample carries, in sample order after ``t``.
FIELDS = ("bytes_in", "bytes_out", "packets_in", "packets_out")
_INDEX = {name: index for index, name in enumerate(FIELDS, start=1)}
#: Doubles per sample: t, then the counters.
_WIDTH = 1 + len(FIELDS)


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


def _offsets(ring: array[float]) -> list[int]:
    """Where each sample starts in the ring, oldest first."""
    count = (len(ring) - 1) // _WIDTH
    head = int(ring[0])
    return [1 + _WIDTH * ((head + i) % count) for i in range(count)]


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
        self._rings: dict[Hashable, array[float]] = {}

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
            self._rings[key] = array("d", (0, t, bytes_in, bytes_out, packets_in, packets_out))
            return
        count = (len(ring) - 1) // _WIDTH
        head = int(ring[0])
        newest = 1 + _WIDTH * ((head + count - 1) % count)
        last = ring[newest]
        if t <= last:
            if t == last:
                ring[newest : newest + _WIDTH] = array(
                    "d", (t, bytes_in, bytes_out, packets_in, packets_out)
                )
            return
        if count < self.maxlen:
            # Not full yet: the oldest is still at slot 0, and the newest goes at the end.
            ring.extend((t, bytes_in, bytes_out, packets_in, packets_out))
            return
        at = 1 + _WIDTH * head
        ring[at : at + _WIDTH] = array("d", (t, bytes_in, bytes_out, packets_in, packets_out))
        ring[0] = (head + 1) % count

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
        ring = self._rings.get(key)
        if ring is None:
            return []
        return [
            Sample(
                ring[at], int(ring[at + 1]), int(ring[at + 2]), int(ring[at + 3]), int(ring[at + 4])
            )
            for at in _offsets(ring)
        ]

    def rates(self, key: Hashable, window_s: float = 10.0) -> Rates:
        """Average rates over the samples of the last ``window_s`` seconds: each counter's
        rises (a fall is a reset, and adds nothing) over the time they took.

        When that window holds fewer than two samples (sampling slower than the window),
        the newest interval is used instead, so a slow sampler still shows a rate.
        """
        ring = self._rings.get(key)
        if ring is None or len(ring) < 1 + 2 * _WIDTH:
            return ZERO_RATES
        count = (len(ring) - 1) // _WIDTH
        head = int(ring[0])
        i = count - 1
        later = 1 + _WIDTH * ((head + i) % count)
        newest_t = ring[later]
        start = newest_t - window_s
        rise_bi = rise_bo = rise_pi = rise_po = 0.0
        oldest_t = newest_t
        while i > 0:
            i -= 1
            earlier = 1 + _WIDTH * ((head + i) % count)
            t = ring[earlier]
            if t < start and i < count - 2:
                break
            delta = ring[later + 1] - ring[earlier + 1]
            if delta > 0:
                rise_bi += delta
            delta = ring[later + 2] - ring[earlier + 2]
            if delta > 0:
                rise_bo += delta
            delta = ring[later + 3] - ring[earlier + 3]
            if delta > 0:
                rise_pi += delta
            delta = ring[later + 4] - ring[earlier + 4]
            if delta > 0:
                rise_po += delta
            oldest_t = t
            later = earlier
        span = newest_t - oldest_t
        return Rates(rise_bi / span, rise_bo / span, rise_pi / span, rise_po / span)

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
        if ring is None or len(ring) < 1 + 2 * _WIDTH or points <= 0:
            return out
        offsets = _offsets(ring)
        origin = ring[offsets[-1]] - points
        for n in range(len(offsets) - 1, 0, -1):
            later, earlier = offsets[n], offsets[n - 1]
            t1 = ring[later]
            if t1 <= origin:
                break
            delta = ring[later + index] - ring[earlier + index]
            if delta <= 0:
                continue
            t0 = ring[earlier]
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
