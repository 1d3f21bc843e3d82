"""The gateway process's garbage-collector thresholds.

A gateway holds a large heap that lives for the whole run (sessions, SAs, the store's
records, spooled accounting) and makes bursts of short-lived objects per packet, message
and record. With CPython's default thresholds (700, 10, 10) a burst promotes objects that
die a moment later until the oldest generation has grown by a quarter, and then a full
collection walks the whole heap. Measured: a clear of 10,000 sessions with FreeRADIUS
accounting ran 8 full collections, 2.1 s of the gateway's 5.5 s of CPU; in
`bench/accounting.py` collections were 15-20% of the accountant's CPU. Collecting the
older generations less often cuts the full collections; cyclic garbage is still
collected, only later. No `gc.freeze()`: SAs that go later hold
cycles (an IKE SA and its task manager) that must still be collected. The console
(tui/app.py) freezes its own heap once its first screen is loaded.
"""

from __future__ import annotations

import gc

#: the youngest generation as CPython has it; the two older ones collected half as often.
#: A young threshold of 10,000 bought nothing measurable: bench/accounting.py's CPU per
#: record had the same median (4 interleaved runs each, 101 vs 102 us).
GATEWAY_THRESHOLDS = (700, 20, 20)


def apply_gateway_thresholds() -> tuple[int, int, int]:
    """Set the gateway's thresholds, never lowering one set higher by whoever embeds us,
    and leaving a disabled collector (threshold 0) disabled; returns the previous ones."""
    previous = gc.get_threshold()
    if previous[0] == 0:
        return previous
    gc.set_threshold(
        *(max(now, wanted) for now, wanted in zip(previous, GATEWAY_THRESHOLDS, strict=True))
    )
    return previous
