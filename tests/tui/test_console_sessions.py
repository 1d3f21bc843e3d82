"""The sessions screen over a real gateway pair: keyed rows, cell-level updates, filter,
sort, pause, and the describe page."""

from __future__ import annotations

import time
from typing import Any

from netutil import until
from textual.coordinate import Coordinate
from textual.widgets import Static

from engine.sessions import Counters, FlowRecord
from engine.store import FLOWS
from tui.app import ConsoleApp
from tui.screens.describe import DescribeScreen
from tui.screens.sessions import SessionsScreen

SIZE = (220, 50)


def row_keys(screen: SessionsScreen) -> list[str]:
    table = screen.table
    return [
        table.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value or ""
        for i in range(table.row_count)
    ]


def cell(screen: SessionsScreen, key: str, column: str) -> str:
    return screen.table.get_cell(key, column).plain


def move_counters(pair: Any, packets: int) -> None:
    record = pair.session()
    flow = pair.a.store.get(FLOWS, record.flow_ids[0])
    assert isinstance(flow, FlowRecord)
    counters = Counters(bytes_in=packets * 1024, packets_in=packets, bytes_out=512, packets_out=2)
    pair.a.sessions.update_counters({flow.children[0].child_sa_id: counters}, time.time())


async def test_rows_are_keyed_by_session_and_only_changed_cells_update(
    pair: Any, monkeypatch: Any
) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        record = pair.session()
        key = record.session_id
        assert row_keys(screen) == [key]
        assert cell(screen, key, "peer") == f"127.0.0.2:{record.remote_port}"
        assert cell(screen, key, "status") == "UP-ACTIVE"
        assert cell(screen, key, "description") == "Site B primary"
        assert cell(screen, key, "interface") == "lo"
        assert cell(screen, key, "ike") == "1"
        assert cell(screen, key, "sas") == "2"
        assert cell(screen, key, "pkts_in") == "0"

        added: list[object] = []
        original = screen.table.add_row

        def spy(*cells: Any, **kwargs: Any) -> Any:
            added.append(kwargs.get("key"))
            return original(*cells, **kwargs)

        monkeypatch.setattr(screen.table, "add_row", spy)
        peer_cell = screen.table.get_cell(key, "peer")
        move_counters(pair, 7)
        app.refresh_now()
        await pilot.pause()
        assert cell(screen, key, "pkts_in") == "7"
        assert cell(screen, key, "bytes_in") == "7.0 KB"
        assert cell(screen, key, "pkts_out") == "2"
        assert "7 pkts" in str(screen.query_one("#summary", Static).content)
        assert added == []  # updated in place, not re-added
        assert screen.table.get_cell(key, "peer") is peer_cell  # unchanged cells untouched
        assert row_keys(screen) == [key]


async def test_pause_freezes_the_screen_until_resumed(pair: Any) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        key = pair.session().session_id
        await pilot.press("p")
        assert app.paused and "PAUSED" in app.sub_title
        move_counters(pair, 3)
        app.refresh_now()
        await pilot.pause()
        assert cell(screen, key, "pkts_in") == "0"
        await pilot.press("p")
        await pilot.pause()
        assert not app.paused
        assert cell(screen, key, "pkts_in") == "3"


async def test_filter_as_you_type(pair: Any) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await pilot.press("slash", *"site b")
        await pilot.pause()
        assert screen.table.filter_text == "site b" and screen.table.row_count == 1
        await pilot.press(*"x")
        await pilot.pause()
        assert screen.table.row_count == 0
        assert "filter 'site bx': 0 shown" in str(screen.query_one("#summary", Static).content)
        await pilot.press("escape")
        await pilot.pause()
        assert screen.table.filter_text == "" and screen.table.row_count == 1


async def test_sort_cycles_columns_and_orders_numbers_as_numbers(synthetic: Any) -> None:
    # Traffic 9..20 KB: as text "9.0 KB" would sort after "20.0 KB".
    for index in range(12):
        synthetic.put(index, 20 - index)
    synthetic.store.flush()
    app = ConsoleApp(synthetic)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        peers = [f"10.0.0.{i}:500" for i in range(12)]  # numeric: .2 before .10
        assert row_keys(screen) == peers
        await pilot.press("S")
        assert row_keys(screen) == peers[::-1]
        for _ in range(8):  # peer -> ... -> bytes in
            await pilot.press("s")
        assert screen.table.specs[screen.table.sort_index].key == "bytes_in"
        assert not screen.table.sort_reverse
        assert row_keys(screen) == peers[::-1]  # least traffic first: index 11 has 9 KB
        assert "sort bytes in ▲" in str(screen.query_one("#summary", Static).content)


async def test_describe_shows_the_detail_and_the_peers_log(pair: Any) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DescribeScreen)
        record = pair.session()
        detail = str(screen.query_one("#detail", Static).content)
        assert "Session status: UP-ACTIVE" in detail
        assert f"Peer: 127.0.0.2 port {record.remote_port} fvrf: (none) ivrf: (none)" in detail
        assert "IPSEC FLOW: permit ip 10.1.0.0/255.255.0.0 10.2.0.0/255.255.0.0" in detail
        log = str(screen.query_one("#log", Static).content)
        assert "%CRYPTO-5-SESSION_STATUS: Crypto session is UP. Peer 127.0.0.2:" in log
        assert "no accounting records" in str(screen.query_one("#accounting", Static).content)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("enter")  # Enter on a row describes it too
        await pilot.pause()
        assert isinstance(app.screen, DescribeScreen)


async def test_a_new_session_appears_and_a_gone_one_leaves(synthetic: Any) -> None:
    app = ConsoleApp(synthetic)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        with synthetic.store.batch():
            new = synthetic.put(40, 1)
            synthetic.store.remove("sessions", "10.0.0.3:500")
        app.refresh_now()
        await until(lambda: not screen.table.pending)
        keys = row_keys(screen)
        assert new in keys and "10.0.0.3:500" not in keys and len(keys) == 12
        assert "12 crypto sessions" in str(screen.query_one("#summary", Static).content)
        await until(lambda: True)
        screen.table.move_cursor(row=keys.index("10.0.0.5:500"))
        with synthetic.store.batch():
            for index in (0, 1, 2, 4):
                synthetic.store.remove("sessions", f"10.0.0.{index}:500")
        app.refresh_now()
        await pilot.pause()
        assert screen.table.current_key == "10.0.0.5:500"  # the cursor stays on its session
        assert len(row_keys(screen)) == 8
