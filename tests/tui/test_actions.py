"""Clearing from the console goes through Control and reaches the peer; every clear is
confirmed, the filter form counts its matches first, and clear-all asks twice."""

from __future__ import annotations

from typing import Any

from netutil import until
from textual.widgets import Input, Static

from engine.events import DownReason, IkeSaDown
from engine.syslog import LogEntry
from tui.app import ConsoleApp
from tui.screens.dialogs import ClearFilterScreen, ConfirmScreen, command_line, parse_form
from tui.screens.sessions import SessionsScreen

SIZE = (220, 50)


def downs(pair: Any) -> list[IkeSaDown]:
    return [e for e in pair.events_b if isinstance(e, IkeSaDown)]


async def test_ctrl_d_and_confirm_clears_the_session_and_the_peer_gets_the_delete(
    pair: Any,
) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        record = pair.session()
        await pilot.press("ctrl+d")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert f"127.0.0.2:{record.remote_port}" in dialog.question
        await pilot.press("y")
        await until(lambda: downs(pair))
        assert downs(pair)[0].reason is DownReason.PEER_DELETE
        lines = [e.ios_line() for e in pair.a.store.syslog if isinstance(e, LogEntry)]
        assert any("SESSION_CLEARED" in line and "by console" in line for line in lines)


async def test_cancelled_clear_does_nothing(pair: Any) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("enter")  # the focused button is Cancel
        await pilot.pause()
        assert isinstance(app.screen, SessionsScreen)
        assert not downs(pair) and pair.up()


async def test_clear_by_filter_shows_the_matching_count_before_clearing(pair: Any) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ClearFilterScreen)
        count = dialog.query_one("#match-count", Static)
        assert "1 of 1 crypto sessions match" in str(count.content)
        await pilot.press(*"127.0.0.9")
        await pilot.pause()
        assert dialog.query_one("#remote-ip", Input).value == "127.0.0.9"
        assert "0 of 1 crypto sessions match" in str(count.content)
        dialog.query_one("#remote-ip", Input).value = "127.0.0.2"
        await pilot.pause()
        assert "1 of 1 crypto sessions match" in str(count.content)
        assert "clear crypto session remote 127.0.0.2" in str(count.content)
        await pilot.press("enter")
        await until(lambda: downs(pair))


async def test_clear_by_filter_counts_vrfs_and_rejects_bad_input(synthetic: Any) -> None:
    app = ConsoleApp(synthetic)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ClearFilterScreen)
        dialog.query_one("#ivrf", Input).value = "blue"
        await pilot.pause()
        count = dialog.query_one("#match-count", Static)
        assert "6 of 12 crypto sessions match" in str(count.content)
        dialog.query_one("#local-port", Input).value = "99999"
        await pilot.pause()
        assert "local port: a number from 1 to 65535" in str(count.content)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SessionsScreen)


def test_the_form_reads_as_the_exec_command() -> None:
    flt = parse_form({"remote_ip": "10.1.1.3", "remote_port": "4500", "fvrf": "red"})
    assert command_line(flt) == "clear crypto session remote 10.1.1.3 port 4500 fvrf red"
    assert parse_form({}).everything


async def test_clear_all_asks_twice(synthetic: Any) -> None:
    app = ConsoleApp(synthetic)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("C")
        await pilot.pause()
        first = app.screen
        assert isinstance(first, ConfirmScreen) and "ALL 12 crypto sessions" in first.question
        await pilot.press("y")
        await pilot.pause()
        second = app.screen
        assert isinstance(second, ConfirmScreen) and second is not first
        assert "Really clear ALL" in second.question
        await pilot.press("n")  # the synthetic target has no gateway: a clear would raise
        await pilot.pause()
        assert isinstance(app.screen, SessionsScreen)


async def test_clear_all_reaches_every_peer(pair: Any) -> None:
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("C", "y", "y")
        await until(lambda: downs(pair))
        lines = [e.ios_line() for e in pair.a.store.syslog if isinstance(e, LogEntry)]
        assert any("All crypto sessions cleared by console" in line for line in lines)


async def test_typed_clear_asks_first_then_reaches_the_peer(pair: Any) -> None:
    """`:clear crypto session remote ...` is confirmed like every other clear: Enter on the
    dialog (Cancel has the focus) keeps the session; `y` clears it and the peer is told."""
    app = ConsoleApp(pair.a)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("colon", *"clear crypto session remote 127.0.0.2", "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert "1 crypto session matching remote 127.0.0.2" in dialog.question
        await pilot.press("enter")
        await pilot.pause()
        assert not downs(pair) and pair.up()
        await pilot.press("colon", *"clear crypto session remote 127.0.0.2", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(lambda: downs(pair))
        assert downs(pair)[0].reason is DownReason.PEER_DELETE
