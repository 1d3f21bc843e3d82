"""Why the data plane refused a packet: every refusal is counted by one of these reasons.

Hostile or broken input is expected on the wire (DESIGN: counted and dropped, never a
traceback), so refusals are plain return values: an SA returns a `DropReason`, the
`SaTable` wraps it in a `Drop` that says which child SA (or SPI) it concerned.
Returning beats raising here: a valid packet costs the same either way (a `try` that
does not raise is free, a class check is ~30 ns of ~3 us), while a flood of forged
packets costs ~10x less without building exception objects and tracebacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DropReason(StrEnum):
    #: sequence number already seen, or older than the anti-replay window
    REPLAY = "replay"
    #: ICV (HMAC or AEAD tag) did not verify
    INTEGRITY = "integrity"
    #: pad length too long, or pad bytes not 1, 2, 3, ... (RFC 4303 section 2.4)
    BAD_PADDING = "bad padding"
    #: no inbound SA with this SPI
    UNKNOWN_SPI = "unknown spi"
    #: the inner packet's addresses are not covered by the SA's traffic selectors
    OUTSIDE_SELECTORS = "outside selectors"
    #: too short, misaligned, or not an IPv4/IPv6 packet inside
    MALFORMED = "malformed"
    #: the SA passed its hard lifetime (seconds or kilobytes)
    LIFETIME_EXPIRED = "lifetime expired"
    #: outbound: the sequence number space is used up; the SA must be rekeyed
    SEQUENCE_EXHAUSTED = "sequence exhausted"
    #: a traffic-flow-confidentiality dummy packet (next header 59), discarded per RFC 4303 2.6
    DUMMY = "dummy packet"
    #: transport mode cannot carry it: an IPv4 fragment or a packet with IPv4 options
    #: (the IP header is rebuilt by the peer, RFC 4303 section 3.1.1)
    NOT_FOR_TRANSPORT = "not for transport mode"


@dataclass(frozen=True, slots=True)
class Drop:
    """A refused packet as the `SaTable` reports it; already counted when you see it."""

    reason: DropReason
    #: the child SA that refused it (None: no SA was found, e.g. UNKNOWN_SPI)
    child_sa_id: int | None = None
    #: the SPI of the ESP packet (inbound) or of the outbound SA, when known
    spi: int | None = None
