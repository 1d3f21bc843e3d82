"""The sessions screen over a real gateway pair: keyed rows, cell-level updates, filter,
sort, pause, and the describe page."""

from __future__ import annotations

import gc
import time
from dataclasses import replace
from typing import Any

from netutil import until
from textual.widgets import Static

from engine.events import Counters
from engine.records import FlowRecord
from engine.store import FLOWS, SESSIONS, history_key
from tui.app import OLDEST_EVERY, ConsoleApp
from tui.screens.describe import DescribeScreen
from tui.screens.sessions import SessionsScreen
from tui.widgets.throughput import ThroughputGraph

SIZE = (220, 50)


def row_keys(screen: SessionsScreen) -> list[str]:
    table = screen.table
    return [table.key_at(i) for i in range(table.row_count)]


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

        added: list[str] = []
        append = screen.table._append

        def spy(rows: Any) -> None:
            rows = list(rows)
            added.extend(key for key, _ in rows)
            append(rows)

        monkeypatch.setattr(screen.table, "_append", spy)
        written: list[str] = []
        write = screen.table._write_row

        def spy_write(row: str, values: Any, changed: Any) -> None:
            changed = list(changed)
            written.extend(screen.table.specs[index].key for index in changed)
            write(row, values, changed)

        monkeypatch.setattr(screen.table, "_write_row", spy_write)
        move_counters(pair, 7)
        app.refresh_now()
        await pilot.pause()
        assert cell(screen, key, "pkts_in") == "7"
        assert cell(screen, key, "bytes_in") == "7.0 KB"
        assert cell(screen, key, "pkts_out") == "2"
        assert "7 pkts" in str(screen.query_one("#summary", Static).content)
        assert added == []  # updated in place, not re-added
        # Only the cells whose values moved were written (the rates need two samples).
        assert set(written) <= {"pkts_in", "bytes_in", "pkts_out", "bytes_out", "rate_in",
                                "rate_out", "uptime"}  # fmt: skip
        assert {"pkts_in", "bytes_in", "pkts_out", "bytes_out"} <= set(written)
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


async def test_rows_off_screen_catch_up_when_scrolled_to_and_totals_stay_exact(
    synthetic_300: Any,
) -> None:
    target = synthetic_300
    app = ConsoleApp(target, refresh_interval=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await until(lambda: screen.table.row_count == 300)
        target.move_all(3)
        app.refresh_now()
        await pilot.pause()
        summary = str(screen.query_one("#summary", Static).content)
        assert "300 crypto sessions" in summary and "in 878.9 KB 900 pkts" in summary
        last = "10.0.1.43:500"  # index 299, far below the first screenful
        assert last not in screen.table.visible_keys()
        screen.table.move_cursor(row=299, animate=False)
        await pilot.pause()
        assert last in screen.table.visible_keys()
        assert cell(screen, last, "pkts_in") == "3"
        assert cell(screen, last, "bytes_in") == "2.9 KB"


async def test_the_heap_is_frozen_once_loaded_and_thawed_on_exit(synthetic: Any) -> None:
    app = ConsoleApp(synthetic, refresh_interval=3600.0)
    thresholds = gc.get_threshold()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.heap_frozen
        app.refresh_now()
        assert app.heap_frozen and gc.get_freeze_count() > 0
        # Full collections are rarer while frozen (every record replaced each second).
        assert gc.get_threshold()[2] >= OLDEST_EVERY > thresholds[2]
    assert not app.heap_frozen and gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds


async def test_describe_graphs_each_flows_throughput(synthetic: Any) -> None:
    store = synthetic.store
    session_id = "10.0.0.0:500"
    record = store.get(SESSIONS, session_id)
    (flow_id,) = record.flow_ids
    flow = store.get(FLOWS, flow_id)
    for second in range(5):  # 1250 B/s in = 10 kbps
        store.record_sample(history_key(FLOWS, flow_id), 100.0 + second, 1250 * second, 0, 0, 0)
    app = ConsoleApp(synthetic, refresh_interval=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(DescribeScreen(synthetic, session_id))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DescribeScreen)
        (graph,) = screen.flow_graphs.values()
        assert "permit ip 10.0.0.0/255.255.0.0 10.100.0.0/255.255.255.0" in str(
            graph.heading.content
        )
        assert "10.0 Kbps" in str(graph.rates["in"].content)
        assert max(graph.sparks["in"].data or [0]) > 0
        # A second flow appears: a graph of its own; the first flow goes: so does its graph.
        second = replace(flow, flow_id=f"{session_id} second", remote_ts=("10.200.0.0/24",))
        with store.batch():
            store.put(FLOWS, second.flow_id, second)
            store.put(SESSIONS, session_id, replace(record, flow_ids=(flow_id, second.flow_id)))
        app.refresh_now()
        await pilot.pause()
        assert list(screen.flow_graphs) == [flow_id, second.flow_id]
        assert len(screen.query(ThroughputGraph)) == 3  # the session's and two flows'
        with store.batch():
            store.remove(FLOWS, flow_id)
            store.put(SESSIONS, session_id, replace(record, flow_ids=(second.flow_id,)))
        app.refresh_now()
        await pilot.pause()
        assert list(screen.flow_graphs) == [second.flow_id]
        assert len(screen.query(ThroughputGraph)) == 2


def test_the_synthetic_target_writes_its_strings_once(synthetic: Any) -> None:
    """A tick of the fabricated sessions replaces their records as the engine does,
    sharing the strings and tuples that did not change (at 100k sessions, fresh copies
    of each were ~100 MB of the bench's peak memory, which the console never holds)."""
    key = synthetic.put(3, 1)
    before = synthetic.store.get(SESSIONS, key)
    flow = synthetic.store.get(FLOWS, before.flow_ids[0])
    synthetic.move_all(7)
    after = synthetic.store.get(SESSIONS, key)
    assert after is not before and after.totals.packets_in == 7
    for name in ("session_id", "remote_ip", "description", "peer_name", "flow_ids"):
        assert getattr(after, name) is getattr(before, name), name
    assert synthetic.store.get(FLOWS, before.flow_ids[0]).remote_ts is flow.remote_ts
