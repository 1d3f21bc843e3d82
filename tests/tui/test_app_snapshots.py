"""Snapshots (pytest-textual-snapshot) of the sessions, describe and syslog screens over a
synthetic target, with the clock frozen: every timestamp, counter and rate is fixed, so
the pictures only change when the console's rendering does.

Update after an intended change with ``pytest tests/tui --snapshot-update``.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from engine.store import FLOWS, history_key
from engine.syslog import LogEntry
from tui.app import ConsoleApp

#: The frozen clock: 2023-11-14 22:13:20 UTC.
NOW = 1_700_000_000.0
SIZE = (220, 50)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    """The synthetic target's sessions and a few log lines, all made with time.time()
    stopped at NOW (and left stopped for the test)."""
    monkeypatch.setattr("time.time", lambda: NOW)
    target = request.getfixturevalue("synthetic")
    with target.store.batch():
        for index in range(3):
            target.put(index, 5 + index)
    entries = [
        LogEntry(NOW - 30, "CRYPTO", 6, "IKEV2-SA_UP", "IKEv2 SA up with 10.0.0.1:500", "10.0.0.1"),
        LogEntry(NOW - 20, "CRYPTO", 4, "IKEV2-RETRANSMIT", "retransmitting to 10.0.0.5", None),
        LogEntry(NOW - 10, "CRYPTO", 3, "IKEV2-AUTH_FAIL", "authentication failed", "10.0.0.7"),
        LogEntry(NOW - 5, "SYS", 5, "CONFIG_I", "Configured from console", None),
    ]
    for entry in entries:
        target.store.append_log(entry)
    # Ten seconds of traffic for session 0 and its flow, rising: the graphs have a shape.
    flow_id = "10.0.0.0:500 10.0.0.0/16 10.100.0.0/24"
    for second in range(10):
        t, octets = NOW - 10 + second, 1000 * second * second
        target.store.record_sample("10.0.0.0:500", t, octets, octets // 2, second, second)
        target.store.record_sample(history_key(FLOWS, flow_id), t, octets, octets // 2, 0, 0)
    target.store.flush()
    return target


def console(target: Any) -> ConsoleApp:
    # No refresh timer inside the snapshot: the screens are drawn from the loaded store.
    return ConsoleApp(target, refresh_interval=3600.0)


def test_sessions_screen(snap_compare: Any, frozen: Any) -> None:
    async def settle(pilot: Pilot[None]) -> None:
        await pilot.pause()

    assert snap_compare(console(frozen), terminal_size=SIZE, run_before=settle)


def test_describe_screen(snap_compare: Any, frozen: Any) -> None:
    async def describe(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(console(frozen), terminal_size=SIZE, run_before=describe)


def test_syslog_screen(snap_compare: Any, frozen: Any) -> None:
    async def syslog(pilot: Pilot[None]) -> None:
        await pilot.pause()
        pilot.app.action_go("syslog")  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(console(frozen), terminal_size=SIZE, run_before=syslog)
