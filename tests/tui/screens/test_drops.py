"""The drops screen: every non-zero drop counter by area and reason, with its rate."""

from __future__ import annotations

from typing import Any

from netutil import until

from engine.statistics import EngineStatistics, SocketStats
from engine.store import STATS
from tui.app import ConsoleApp
from tui.screens.drops import DropsScreen

SIZE = (160, 40)


def snapshot(at: float, malformed: int, unknown_spi: int) -> EngineStatistics:
    return EngineStatistics(
        at=at,
        ike_sas=3,
        half_open=1,
        cookie_threshold=1000,
        ike_drops={"malformed": malformed},
        ike_events={"cookies sent": 4},
        esp_drops={"unknown spi": unknown_spi},
        transport={"datagrams in": 99, "socket errors": 1},
        sockets=(SocketStats("udp/500", 7, 0),),
    )


async def test_drops_screen_shows_counts_and_rates(synthetic: Any) -> None:
    synthetic.store.put(STATS, "engine", snapshot(100.0, 10, 0))
    synthetic.store.flush()
    app = ConsoleApp(synthetic, refresh_interval=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        app.execute("drops")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DropsScreen)
        table = screen.table
        await until(lambda: table.row_count == 5)
        assert table.get_cell("IKE malformed", "count").plain == "10"
        assert table.get_cell("kernel udp/500", "count").plain == "7"
        assert "IKE datagrams in" not in table.model_keys()  # traffic, not a drop
        synthetic.store.put(STATS, "engine", snapshot(102.0, 30, 5000))
        synthetic.store.flush()
        app.refresh_now()
        await pilot.pause()
        assert table.get_cell("IKE malformed", "rate").plain == "10.0"
        assert table.get_cell("ESP unknown spi", "count").plain == "5,000"
        assert table.get_cell("ESP unknown spi", "rate").plain == "2,500.0"
