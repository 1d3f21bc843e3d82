"""Rate limits per message type, as IOS's `logging rate-limit` does: a storm of one kind
of line (20,000 refused IKE_SA_INITs) must not flood the console's ring, the disk or the
syslog servers, nor push the session lines out of the ring.

Each mnemonic may log `per_window` lines per `window` seconds; past that its lines are
counted, and when the window ends one summary line says how many were suppressed. Lines
an operator relies on for what happened to sessions (up/down, clears) are never limited.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import syslog
from engine.syslog import LogEntry

#: mnemonics that are never suppressed
NEVER_SUPPRESSED = frozenset({"SESSION_STATUS", "SESSION_CLEARED", "CONFIG_I"})
PER_WINDOW = 20
#: debugging lines (severity 7, e.g. `AAA:` traces) come one per record by nature, and
#: are not forwarded at the default trap level: a larger share of the ring before a cut
DEBUG_PER_WINDOW = 600
WINDOW = 60.0


@dataclass(slots=True)
class _Window:
    started: float
    admitted: int
    suppressed: int
    facility: str
    severity: int


class LogRateLimiter:
    def __init__(
        self,
        per_window: int = PER_WINDOW,
        window: float = WINDOW,
        debug_per_window: int = DEBUG_PER_WINDOW,
    ) -> None:
        self.per_window = per_window
        self.debug_per_window = debug_per_window
        self.window = window
        self._windows: dict[tuple[str, str], _Window] = {}
        #: lines suppressed since start, all types together (`show logging`)
        self.suppressed = 0

    def admit(self, entry: LogEntry, now: float) -> tuple[bool, list[LogEntry]]:
        """(log this line?, summaries of windows that ended and must be logged first)."""
        if entry.mnemonic in NEVER_SUPPRESSED:
            return True, []
        key = (entry.facility, entry.mnemonic)
        window = self._windows.get(key)
        summaries: list[LogEntry] = []
        if window is None or now - window.started >= self.window:
            if window is not None and window.suppressed:
                summaries.append(self._summary(key, window, now))
            window = _Window(now, 0, 0, entry.facility, entry.severity)
            self._windows[key] = window
        quota = self.debug_per_window if entry.severity >= 7 else self.per_window
        if window.admitted < quota:
            window.admitted += 1
            return True, summaries
        window.suppressed += 1
        self.suppressed += 1
        return False, summaries

    def due(self, now: float) -> list[LogEntry]:
        """Summaries of windows that have ended, for a periodic caller."""
        summaries = []
        for key, window in list(self._windows.items()):
            if now - window.started >= self.window:
                if window.suppressed:
                    summaries.append(self._summary(key, window, now))
                del self._windows[key]
        return summaries

    def _summary(self, key: tuple[str, str], window: _Window, now: float) -> LogEntry:
        seconds = max(1, round(min(now - window.started, self.window)))
        text = f"{window.suppressed:,} similar messages suppressed in the last {seconds} s"
        return syslog.entry(window.facility, window.severity, key[1], text, at=now)
