"""The gateway process's garbage-collector thresholds.

A gateway holds a large heap that lives for the whole run (sessions, SAs, the store's
records, the configuration) and makes many short-lived objects per packet, message and
accounting record. With CPython's default thresholds (700, 10, 10) the middle generation
is collected every 7,000 net allocations and a full collection walks every tracked
object: in `bench/accounting.py` collections were 15-20% of the accountant's CPU at 10k
sessions. Larger thresholds keep the collector's work per object the same but collect
the short-lived garbage in fewer, cheaper passes; reference cycles are still collected,
only later. The console (tui/app.py) goes further once its first screen is loaded.
"""

from __future__ import annotations

import gc

#: youngest generation every 10,000 net allocations; the two older ones 20 times rarer each
GATEWAY_THRESHOLDS = (10_000, 20, 20)


def apply_gateway_thresholds() -> tuple[int, int, int]:
    """Set the gateway's thresholds (never lowering one already set higher); returns the
    previous ones, so that a caller embedding the gateway can put them back."""
    previous = gc.get_threshold()
    gc.set_threshold(
        *(max(now, wanted) for now, wanted in zip(previous, GATEWAY_THRESHOLDS, strict=True))
    )
    return previous
