"""Themes: three of the console's own, picked by name or at run time, with stylesheets
found from a checkout and colours that survive without them (an installed wheel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.records import SessionStatus
from tui import themes
from tui.app import ConsoleApp
from tui.screens.sessions import SessionsScreen

SIZE = (220, 50)


def status_colour(screen: SessionsScreen, key: str) -> str:
    style = screen.table.get_cell(key, "status").style
    return str(style).split()[-1].upper()


async def test_theme_by_name_and_switch_at_run_time(synthetic: Any) -> None:
    key = synthetic.put(0, 1, SessionStatus.UP_ACTIVE)
    synthetic.store.flush()
    app = ConsoleApp(synthetic, theme="green")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "ipsec-green"
        assert "-theme-ipsec-green" in app.classes
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        assert status_colour(screen, key) == themes.GREEN.variables["status-up-active"]
        app.theme = "ipsec-light"
        await pilot.pause()
        assert status_colour(screen, key) == themes.LIGHT.variables["status-up-active"]
        app.theme = "nord"  # a Textual theme: the status colours fall back to defaults
        await pilot.pause()
        assert status_colour(screen, key) == themes.VARIABLE_DEFAULTS["status-up-active"]


def test_default_aliases_and_unknown_names(synthetic: Any) -> None:
    assert ConsoleApp(synthetic).theme == "ipsec-dark"
    assert themes.resolve("light") == "ipsec-light"
    with pytest.raises(ValueError, match="unknown theme 'mauve'"):
        ConsoleApp(synthetic, theme="mauve")


def test_stylesheets_are_found_from_the_checkout() -> None:
    found = themes.stylesheets()
    assert {path.stem for path in found} == set(themes.THEMES)
    assert [str(path) for path in found] == ConsoleApp.CSS_PATH


def test_without_stylesheets_the_themes_still_load(tmp_path: Path, monkeypatch: Any) -> None:
    """As from a wheel that ships only the `tui` package: no `themes/` folder anywhere."""
    unrelated = tmp_path / "themes"
    unrelated.mkdir()
    (unrelated / "other-app.tcss").write_text("Screen { background: red; }")
    assert themes.stylesheets([tmp_path / "missing", unrelated]) == []
    monkeypatch.setenv("IPSEC_CONSOLE_THEMES", str(tmp_path / "mine"))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "ipsec-green.tcss").write_text("Screen { background: black; }")
    assert themes.stylesheets() == [tmp_path / "mine" / "ipsec-green.tcss"]


async def test_palette_offers_the_themes(synthetic: Any) -> None:
    app = ConsoleApp(synthetic)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Theme ipsec-dark", "Theme ipsec-light", "Theme ipsec-green"} <= titles
        (green,) = [
            c for c in app.get_system_commands(app.screen) if c.title == "Theme ipsec-green"
        ]
        green.callback()
        await pilot.pause()
        assert app.theme == "ipsec-green"


async def test_the_theme_stylesheets_style_the_sessions_table(synthetic: Any) -> None:
    """themes/*.tcss address `DataTable > .datatable--…`: the table answers to that name."""
    app = ConsoleApp(synthetic, theme="green")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        header = screen.table.get_component_styles("datatable--header").rich_style
        assert str(header.color.triplet.hex).upper() == "#33FF33" and header.underline
        cursor = screen.table.get_component_styles("datatable--cursor").rich_style
        assert str(cursor.bgcolor.triplet.hex).upper() == "#33FF33"
        line = screen.table.render_line(0)
        assert "PEER ▲" in line.text
        assert any(seg.style is not None and seg.style.underline for seg in line)
