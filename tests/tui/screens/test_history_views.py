"""History in the console: describe's range key (live, 1h, 1d, 5d) and the dashboard,
drawn from a real history database written as the recorder writes it."""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import Label, Static

from engine.xsm.history_db import Event, HistoryDatabase, Point
from engine.xsm.history_sets import HistoryRows
from tui.app import ConsoleApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.describe import DescribeScreen
from tui.widgets.history import dense

SIZE = (220, 60)


def with_history(target: Any, db: HistoryDatabase | None) -> HistoryRows:
    target.xsm_history = HistoryRows(lambda: db)
    return target.xsm_history


def fill(db: HistoryDatabase, session_id: str, now: float) -> None:
    """Ten minutes: the session sends 125 kB per 10 s (100 kbps); twelve sessions up."""
    for i in range(60):
        t = now - 600 + 10 * i
        db.write(
            t,
            [
                Point(f"session/{session_id}", "bytes_out", 125_000, True),
                Point("gateway", "bytes_out", 125_000, True),
                Point("gateway", "sessions_up_active", 12, False),
                Point("gateway", "sessions_total", 12, False),
                Point("system", "cpu_process_percent", 3.5, False),
                Point("tunnel/Tunnel7", "bytes_in", 2_500, True),
            ],
        )
    db.maintain(now)


def test_dense_spreads_points_over_the_range_as_rates() -> None:
    now = 1_800_000_000.0
    row = {
        "range": "1h",
        "step": 10,
        "points": [{"t": "2027-01-15T08:00:00.000Z", "bytes_in": 100}],
    }
    data = dense(row, "bytes_in", 1_800_000_000.0 + 5, rate=True)
    assert len(data) == 360 and sum(data) == 10.0
    assert dense(None, "bytes_in", now, rate=True) == []


async def test_describe_steps_through_the_history_ranges(synthetic: Any, tmp_path: Any) -> None:
    db = HistoryDatabase(tmp_path / "history.sqlite")
    (view, *_) = synthetic.control.sessions()
    session_id = view.session.session_id
    fill(db, session_id, time.time())
    with_history(synthetic, db)
    app = ConsoleApp(synthetic, refresh_interval=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(DescribeScreen(synthetic, session_id))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DescribeScreen)
        title = screen.query_one("#throughput-title", Label)
        assert "last 60 s" in str(title.render())
        await pilot.press("r")
        await pilot.pause()
        assert screen.range == "1h" and "last 1h (history)" in str(title.render())
        label = str(screen.session_history.labels["out"].render())
        assert "100.0 Kbps" in label, label
        for expected in ("1d", "5d", "live"):
            await pilot.press("r")
            await pilot.pause()
            assert screen.range == expected
        assert screen.query_one("#live-graphs").display
    db.close()


async def test_describe_says_when_history_is_off(synthetic: Any) -> None:
    with_history(synthetic, None)
    (view, *_) = synthetic.control.sessions()
    app = ConsoleApp(synthetic, refresh_interval=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(DescribeScreen(synthetic, view.session.session_id))
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        title = app.screen.query_one("#throughput-title", Label)
        assert "history is off" in str(title.render())


async def test_dashboard_graphs_the_gateway(synthetic: Any, tmp_path: Any) -> None:
    db = HistoryDatabase(tmp_path / "history.sqlite")
    now = time.time()
    fill(db, "x", now)
    with_history(synthetic, db)
    db.write(now - 20, [], [Event(now - 20, "session/x", "down", "10.0.0.2:500 cleared")])
    app = ConsoleApp(synthetic, refresh_interval=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        app.execute("dashboard")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert "100.0 Kbps" in str(screen.traffic.labels["out"].render())
        assert "12" in str(screen.sessions.labels["up"].render())
        assert "3.5%" in str(screen.machine.labels["cpu"].render())
        assert list(screen.tunnels) == ["tunnel/Tunnel7"]
        assert "2.0 Kbps" in str(screen.tunnels["tunnel/Tunnel7"].labels["in"].render())
        events = str(screen.query_one("#events", Static).render())
        assert "down" in events and "cleared" in events
        await pilot.press("r")
        await pilot.pause()
        assert screen.range == "1d"
        # a minute holds six samples: the rate stays 100 kbps at a coarser step
        assert "100.0 Kbps" in str(screen.traffic.labels["out"].render())
    db.close()


async def test_dashboard_without_history(synthetic: Any) -> None:
    app = ConsoleApp(synthetic, refresh_interval=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        app.execute("dashboard")
        await pilot.pause()
        note = str(app.screen.query_one("#dash-note", Static).render())
        assert "history is off" in note
