"""How many records one RADIUS server has in flight: additive increase, multiplicative
decrease, as TCP's congestion window (RFC 5681).

A burst of thousands of records sent at once queues at the server (and in our own
receive buffer) past the retransmission timer: every record is then sent twice or
more, and the server logs each transmission as a record of its own. The window starts
small, grows by one per answer while under its threshold (slow start) and by one per
window of answers above it, and halves on a retransmission, at most once per
`hold` seconds (one loss event is many timers firing together).

A server whose exchange timed out altogether is not waited for: the records queued
for its window are let go at once to fail over (or to the spool) rather than each
waiting its turn to time out against a silent server.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

#: told whether it got a slot (False: the server failed an exchange meanwhile)
Grant = Callable[[bool], None]

INITIAL = 16
MINIMUM = 1
MAXIMUM = 1024


class Window:
    """The in-flight bound of one server. Single-threaded: call it from the loop."""

    def __init__(
        self, initial: int = INITIAL, minimum: int = MINIMUM, maximum: int = MAXIMUM
    ) -> None:
        self.minimum = max(1, minimum)
        self.maximum = max(self.minimum, maximum)
        self.cwnd = float(min(max(initial, self.minimum), self.maximum))
        self.ssthresh = float(self.maximum)
        self.in_flight = 0
        #: loop time before which a loss does not shrink the window again
        self._hold_until = float("-inf")
        self._waiters: deque[Grant] = deque()

    @property
    def limit(self) -> int:
        return max(self.minimum, int(self.cwnd))

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def request(self, grant: Grant) -> None:
        """`grant(True)` now if a slot is free, else once one is (in order), or
        `grant(False)` when the server fails an exchange meanwhile. A callback, not a
        future: thousands of records may wait for one server's window."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            grant(True)
            return
        self._waiters.append(grant)

    async def acquire(self) -> bool:
        """`request` for a coroutine."""
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def grant(granted: bool) -> None:
            if waiter.cancelled():
                if granted:
                    self.release()  # cancelled while it waited: hand the slot on
            else:
                waiter.set_result(granted)

        self.request(grant)
        return await waiter

    def release(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        self._grant()

    def answered(self) -> None:
        """An answer: one more slot per answer in slow start, one per window after."""
        if self.cwnd < self.ssthresh:
            self.cwnd += 1.0
        else:
            self.cwnd += 1.0 / self.cwnd
        self.cwnd = min(self.cwnd, float(self.maximum))
        self._grant()

    def lost(self, now: float, hold: float) -> None:
        """A retransmission: halve the window, once per `hold` seconds."""
        if now < self._hold_until:
            return
        self._hold_until = now + hold
        self.ssthresh = max(float(self.minimum), self.cwnd / 2)
        self.cwnd = self.ssthresh

    def failed(self, now: float, hold: float) -> None:
        """An exchange timed out: the window down to its minimum, and every record
        waiting for it let go (False) to fail over instead of queueing behind it."""
        self._hold_until = now + hold
        self.ssthresh = max(float(self.minimum), self.cwnd / 2)
        self.cwnd = float(self.minimum)
        while self._waiters:
            self._waiters.popleft()(False)

    def _grant(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            grant = self._waiters.popleft()
            self.in_flight += 1
            grant(True)
