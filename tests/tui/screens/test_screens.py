"""The `:` prompt, exec output, the reload banner, help, and the other screens."""

from __future__ import annotations

import time
from typing import Any

import pytest
from netutil import until
from textual.widgets import Static

from engine.events import ConfigReloaded, ConfigReloadFailed
from engine.show import show_crypto_session, show_isakmp_peers
from engine.store import FLOWS, history_key
from engine.syslog import LogEntry
from tui import commands
from tui.app import ConsoleApp
from tui.commands import AppCommand, Clear, CommandError, GoTo, Show
from tui.screens.accounting import AccountingScreen
from tui.screens.config import ConfigScreen
from tui.screens.dialogs import HelpScreen, TextScreen
from tui.screens.flows import FlowsScreen
from tui.screens.peers import PeersScreen
from tui.screens.sessions import SessionsScreen
from tui.screens.syslog import SyslogScreen
from tui.widgets.banner import ReloadBanner

SIZE = (220, 50)


def test_commands_take_ios_abbreviations() -> None:
    assert commands.parse("se") == GoTo("sessions")
    assert commands.parse(":fl") == GoTo("flows")
    assert commands.parse("q") == AppCommand("quit")
    assert commands.parse("sh cry sess det") == Show("session", detail=True)
    assert commands.parse("show crypto session remote 10.1.1.3").title == (
        "show crypto session remote 10.1.1.3"
    )
    assert commands.parse("sh cry isa peer") == Show("isakmp")
    assert commands.parse("sh run") == Show("running-config")
    flt = commands.parse("clear crypto session remote 10.1.1.3 port 4500")
    assert isinstance(flt, Clear)
    assert (flt.filter.remote_ip, flt.filter.remote_port) == ("10.1.1.3", 4500)
    for bad in ("s", "show", "show crypto session remote nowhere", "clear crypto session x"):
        with pytest.raises(CommandError):
            commands.parse(bad)


async def test_show_crypto_session_is_the_engines_text(pair: Any) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("colon", *"sh cry ses", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TextScreen)
        expected = show_crypto_session(pair.a.control.sessions(), detail=False, now=time.time())
        assert screen.text == expected
        assert str(screen.query_one("#output", Static).content) == expected
        assert "Session status: UP-ACTIVE" in expected
        await pilot.press("escape")
        app.execute("show crypto isakmp peer")
        await pilot.pause()
        peers = app.screen
        assert isinstance(peers, TextScreen)
        assert peers.text == show_isakmp_peers(pair.a.control.isakmp_peers())


async def test_prompt_goes_to_screens_and_reports_typos(synthetic: Any, monkeypatch: Any) -> None:
    app = ConsoleApp(synthetic)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("colon", *"fl", "enter")
        await pilot.pause()
        assert isinstance(app.screen, FlowsScreen)
        expected = {
            "pe": PeersScreen,
            "sy": SyslogScreen,
            "ac": AccountingScreen,
            "co": ConfigScreen,
            "se": SessionsScreen,
        }
        for name, kind in expected.items():
            app.execute(name)
            await pilot.pause()
            assert isinstance(app.screen, kind), name
        notes: list[str] = []
        monkeypatch.setattr(app, "notify", lambda message, **_: notes.append(message))
        await pilot.press("colon", *"shwo", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SessionsScreen)
        assert len(notes) == 1 and notes[0].startswith("unknown command 'shwo'")


async def test_reload_failure_banner_on_every_screen_until_a_good_reload(pair: Any) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        good = pair.config_a()
        pair.path_a.write_text(good.replace(" set transform-set TS", " set transform-set NOPE"))
        assert isinstance(pair.a.reload(), ConfigReloadFailed)
        app.refresh_now()
        await pilot.pause()
        banner = app.screen.query_one(ReloadBanner)
        assert banner.display and "transform-set NOPE does not exist" in str(banner.content)
        for name in ("flows", "syslog", "config"):
            app.execute(name)
            await pilot.pause()
            other = app.screen.query_one(ReloadBanner)
            assert other.display and "Config reload FAILED" in str(other.content), name
        config = app.screen
        assert isinstance(config, ConfigScreen)
        assert "REFUSED" in str(config.query_one("#reload", Static).content)
        pair.path_a.write_text(good.replace("Site B primary", "Site B renamed"))
        assert isinstance(pair.a.reload(), ConfigReloaded)
        app.refresh_now()
        await pilot.pause()
        assert not app.screen.query_one(ReloadBanner).display
        assert "Site B renamed" in str(config.query_one("#running", Static).content)
        app.execute("sessions")
        await pilot.pause()
        assert not app.screen.query_one(ReloadBanner).display


async def test_config_screen_masks_secrets(pair: Any) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.execute("config")
        await pilot.pause()
        running = str(app.screen.query_one("#running", Static).content)
        assert "hostname site-a" in running and "shared-key-1" not in running
        assert "no reload since" in str(app.screen.query_one("#reload", Static).content)


async def test_help_lists_the_live_bindings(synthetic: Any) -> None:
    app = ConsoleApp(synthetic)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = {(key, action) for key, action, _ in help_screen.rows}
        for row in (("d", "Describe"), ("^d", "Clear"), ("/", "Filter"), ("s", "Sort column")):
            assert row in rows
        assert (":", "Command") in rows and ("p", "Pause") in rows
        await pilot.press("escape")
        app.execute("syslog")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert ("f", "Follow") in {(k, a) for k, a, _ in app.screen.rows}


async def test_flows_and_peers_screens(pair: Any) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        record = pair.session()
        app.execute("flows")
        await pilot.pause()
        flows = app.screen
        assert isinstance(flows, FlowsScreen)
        (flow_id,) = record.flow_ids
        cells = {
            spec.key: cell.plain
            for spec, cell in zip(flows.table.specs, flows.table.get_row(flow_id), strict=True)
        }
        assert cells["flow"] == "permit ip 10.1.0.0/255.255.0.0 10.2.0.0/255.255.0.0"
        assert cells["sas"] == "2" and cells["spi_in"].startswith("0x")
        child = pair.a.store.get("flows", flow_id).newest
        kb, seconds = cells["life"].split("/")
        assert kb == str(child.lifetime_kb) and 0 < int(seconds) <= 3600
        app.execute("peers")
        await pilot.pause()
        peers = app.screen
        assert isinstance(peers, PeersScreen)
        (key,) = list(peers.table.model_keys())
        row = [c.plain for c in peers.table.get_row(key)]
        assert row[0] == "127.0.0.2" and row[2] == "Site B primary" and row[-1] == "1"


async def test_syslog_tail_filters_by_severity_and_search(pair: Any) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.execute("syslog")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SyslogScreen)
        assert any("Crypto session is UP" in line for line in screen.lines)
        await pilot.press("4")  # warnings and worse: the notifications go
        assert screen.level == 4 and not screen.lines
        await pilot.press("7", "space")
        pair.a.logbook.log(LogEntry(time.time(), "CRYPTO", 4, "TEST", "held line"))
        await pilot.pause()  # the store publishes it at the end of the loop's turn
        app.refresh_now()
        assert screen.held and screen.unseen == 1
        assert not any("held line" in line for line in screen.lines)
        await pilot.press("space")
        assert any("held line" in line for line in screen.lines)
        await pilot.press("slash", *"held")
        await pilot.pause()
        assert [line.endswith("held line") for line in screen.lines] == [True]


async def test_accounting_screen_is_honest_when_empty(synthetic: Any) -> None:
    app = ConsoleApp(synthetic)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.execute("accounting")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AccountingScreen)
        assert screen.query_one("#empty", Static).display
        assert "no accounting records yet" in str(screen.query_one("#empty", Static).content)
        labels = [spec.label for spec in screen.records.specs]
        assert labels[:4] == ["RECORD TYPE", "SESSION", "DELIVERY STATE", "SERVER"]
        assert screen.records.row_count == 0
        synthetic.store.put(
            "accounting",
            1,
            {"record_type": "Start", "session_id": "10.0.0.1:500", "delivery": "queued"},
        )
        synthetic.store.flush()
        app.refresh_now()
        await until(lambda: screen.records.row_count == 1)
        assert not screen.query_one("#empty", Static).display


async def test_flows_show_each_flows_rate(synthetic: Any) -> None:
    flow_id = "10.0.0.1:500 10.0.0.0/16 10.101.0.0/24"
    assert synthetic.store.get(FLOWS, flow_id) is not None
    synthetic.store.record_sample(history_key(FLOWS, flow_id), 10.0, 0, 0, 0, 0)
    synthetic.store.record_sample(history_key(FLOWS, flow_id), 12.0, 250_000, 25_000, 0, 0)
    app = ConsoleApp(synthetic, refresh_interval=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        app.execute("flows")
        await pilot.pause()
        flows = app.screen
        assert isinstance(flows, FlowsScreen)
        assert flows.table.get_cell(flow_id, "rate_in").plain == "1.0 Mbps"
        assert flows.table.get_cell(flow_id, "rate_out").plain == "100.0 Kbps"
        other = "10.0.0.2:500 10.0.0.0/16 10.102.0.0/24"
        assert flows.table.get_cell(other, "rate_in").plain == "-"


async def test_flows_off_screen_catch_up_when_scrolled_to(synthetic_300: Any) -> None:
    app = ConsoleApp(synthetic_300, refresh_interval=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        app.execute("flows")
        flows = app.screen
        assert isinstance(flows, FlowsScreen)
        await until(lambda: flows.table.row_count == 300)
        synthetic_300.move_all(4)
        app.refresh_now()
        await pilot.pause()
        last = "10.0.1.43:500 10.0.0.0/16 10.199.2.0/24"  # index 299, far off screen
        assert last not in flows.table.visible_keys()
        flows.table.move_cursor(row=299, animate=False)
        await pilot.pause()
        assert flows.table.get_cell(last, "dec").plain == "4"
        assert flows.table.get_cell(last, "enc").plain == "4"
