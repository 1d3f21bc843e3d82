"""Round-trip time per RADIUS server, estimated as TCP does (RFC 6298 2).

RFC 5080's fixed initial timer (IRT) suits a server that answers in well under IRT. A
server that is slow but alive, or a gateway whose own loop is busy, would see every
record retransmitted at IRT, and each retransmission is a new record to the server
(a new Identifier and Acct-Delay-Time): a duplicate in its accounting. So the first
wait of an exchange is the larger of IRT and SRTT + 4*RTTVAR, capped by MRT; the
retransmissions after it double as RFC 5080 says, within MRC and MRD.

Karn's rule: an exchange that was retransmitted gives no sample. Its answer may be to
any of its transmissions, or to one the server had queued long before; taking it would
feed the estimate a time that measures the timer, not the server. So that a server
slower than IRT is ever measured at all, an exchange whose timer expired leaves its
doubled wait to the exchanges after it (RFC 6298 5.5 and 5.7), until one of them is
answered without a retransmission and gives a sample.
"""

from __future__ import annotations

from dataclasses import dataclass

#: RFC 6298: gains of SRTT and RTTVAR, and RTTVAR's weight in the timeout
ALPHA = 0.125
BETA = 0.25
K = 4.0
#: the timer's granularity G: RTTVAR's term is never below it. An asyncio timer on a
#: busy loop fires milliseconds late, and answers are read as late: 10 ms
GRANULARITY = 0.01


@dataclass(slots=True)
class RttEstimator:
    """SRTT and RTTVAR of one server, in seconds; None before the first sample."""

    srtt: float | None = None
    rttvar: float = 0.0
    samples: int = 0
    #: the backed-off first wait after an expired timer; cleared by the next sample
    backoff: float | None = None

    def sample(self, rtt: float) -> None:
        """One measured round trip of an exchange that was sent once."""
        rtt = max(0.0, rtt)
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:
            self.rttvar = (1 - BETA) * self.rttvar + BETA * abs(self.srtt - rtt)
            self.srtt = (1 - ALPHA) * self.srtt + ALPHA * rtt
        self.samples += 1
        self.backoff = None

    def expired(self, wait: float) -> None:
        """An exchange waited `wait` for nothing: the next ones wait twice that first."""
        self.backoff = max(self.backoff or 0.0, 2 * wait)

    @property
    def rto(self) -> float | None:
        """SRTT + max(G, K*RTTVAR); None before the first sample."""
        if self.srtt is None:
            return None
        return self.srtt + max(GRANULARITY, K * self.rttvar)

    def timeout(self, floor: float, cap: float) -> float:
        """The first wait of an exchange: the estimate (or the backed-off wait, if
        larger), never below `floor` (IRT) and, when `cap` (MRT) is set, never above
        it."""
        rto = self.rto
        wait = floor if rto is None else max(floor, rto)
        if self.backoff is not None:
            wait = max(wait, self.backoff)
        return min(wait, cap) if cap else wait
