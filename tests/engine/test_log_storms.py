"""Log storms: a flood of one message type is rate-limited with a summary line, as IOS
does; session up/down and clear lines are never suppressed and stay in the ring."""

from __future__ import annotations

from engine import syslog
from engine.events import NegotiationFailed
from engine.log_storms import DEBUG_PER_WINDOW, PER_WINDOW, WINDOW
from engine.logbook import Logbook
from engine.store import Store
from engine.syslog import LogEntry


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Forwarded:
    """Stands in for the syslog forwarder: what would have left for the servers."""

    def __init__(self) -> None:
        self.sent: list[LogEntry] = []

    def send(self, entry: LogEntry) -> bool:
        self.sent.append(entry)
        return True


def ring(store: Store) -> list[LogEntry]:
    return [e for e in store.syslog if isinstance(e, LogEntry)]


def test_twenty_thousand_refused_inits_give_a_handful_of_lines_and_a_summary() -> None:
    store = Store(syslog_size=2000)
    clock, forwarded = Clock(), Forwarded()
    logbook = Logbook(store, forwarded, clock=clock)  # type: ignore[arg-type]
    for n in range(20_000):
        clock.now += 0.002  # 20,000 in 40 s
        remote = (f"198.51.{n // 250 % 250}.{n % 250}", 500)
        logbook.on_event(
            NegotiationFailed(("192.0.2.1", 500), remote, "", "no proposal chosen", 0.0, "X")
        )
        if n % 1000 == 0:  # real sessions come and go during the storm
            logbook.log(syslog.session_up(remote[0], 500, at=clock.now))
    clock.now += WINDOW
    logbook.tick()
    lines = ring(store)
    refused = [e for e in lines if e.mnemonic == "IKEV2_NEG_FAILED"]
    assert len(refused) == PER_WINDOW + 1
    (summary,) = [e for e in refused if "suppressed" in e.text]
    assert summary.text == f"{20_000 - PER_WINDOW:,} similar messages suppressed in the last 60 s"
    assert summary.ios_line().startswith("%CRYPTO-4-IKEV2_NEG_FAILED: 19,980 similar")
    assert len([e for e in lines if e.mnemonic == "SESSION_STATUS"]) == 20
    assert len(forwarded.sent) == len(lines)  # the servers get what the ring gets
    assert logbook.limiter.suppressed == 20_000 - PER_WINDOW


def test_a_new_window_logs_again_and_reports_the_last_one_first() -> None:
    store = Store()
    clock = Clock()
    logbook = Logbook(store, clock=clock)
    line = syslog.negotiation_failed("10.0.0.1", 500, "timeout")
    for _ in range(PER_WINDOW + 5):
        logbook.log(line)
    clock.now += WINDOW + 1
    logbook.log(line)
    texts = [e.text for e in ring(store)]
    assert texts[-2] == "5 similar messages suppressed in the last 60 s"
    assert texts[-1] == line.text
    assert len(texts) == PER_WINDOW + 2


def test_clears_are_never_suppressed() -> None:
    store = Store(syslog_size=5000)
    logbook = Logbook(store, clock=Clock())
    for n in range(500):
        logbook.cleared((f"10.0.{n // 250}.{n % 250}", 500), by="test")
    assert len(ring(store)) == 500


def test_debug_traces_have_a_larger_share_but_are_cut_too() -> None:
    store = Store(syslog_size=5000)
    logbook = Logbook(store, clock=Clock())
    for n in range(DEBUG_PER_WINDOW + 100):
        logbook.log(syslog.entry("CRYPTO", 7, "AAA", f"AAA: accounting Start {n}"))
    assert len(ring(store)) == DEBUG_PER_WINDOW
