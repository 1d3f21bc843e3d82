"""The table under the keyboard and the mouse: the same moves as Textual's DataTable for
the same keys, a click that selects a row (and, again, describes it), a header click that
sorts, and the messages the screens listen to."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tui.app import ConsoleApp
from tui.screens.describe import DescribeScreen
from tui.screens.sessions import SessionsScreen
from tui.widgets.cells import CellTable, ColumnSpec
from tui.widgets.keyed_table import KeyedTable

SIZE = (220, 50)
KEYS = [
    "down", "down", "pagedown", "pagedown", "up", "pageup", "ctrl+end", "up", "pageup",
    "pagedown", "pagedown", "ctrl+home", "end", "home", "right", "left", "down",
]  # fmt: skip


class Twins(App[None]):
    CSS = "KeyedTable, DataTable { height: 12; width: 40; }"

    def __init__(self) -> None:
        super().__init__()
        specs = [ColumnSpec(f"c{i}", f"COLUMN {i}") for i in range(6)]
        self.ours = KeyedTable(specs)
        self.theirs: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
        self.messages: list[Any] = []

    def compose(self) -> ComposeResult:
        yield self.ours
        yield self.theirs

    def on_cell_table_row_selected(self, event: CellTable.RowSelected) -> None:
        self.messages.append(("selected", event.key, event.cursor_row))

    def on_cell_table_row_highlighted(self, event: CellTable.RowHighlighted) -> None:
        self.messages.append(("highlighted", event.key, event.cursor_row))

    def on_cell_table_header_selected(self, event: CellTable.HeaderSelected) -> None:
        self.messages.append(("header", event.column_key, event.column_index))


async def test_keys_move_the_cursor_and_the_view_as_datatable_does() -> None:
    app = Twins()
    async with app.run_test(size=(80, 30)) as pilot:
        ours, theirs = app.ours, app.theirs
        ours.sync({f"k{i:02d}": tuple(f"v{i:02d}.{c}" for c in range(6)) for i in range(60)})
        for index, spec in enumerate(ours.specs):
            theirs.add_column(ours._label(index), key=spec.key)
        for index in range(60):
            theirs.add_row(*(c.plain for c in ours.get_row_at(index)), key=ours.key_at(index))
        await pilot.pause()
        ours_moves, theirs_moves = [], []
        for table, moves in ((ours, ours_moves), (theirs, theirs_moves)):
            table.focus()
            await pilot.pause()
            for key in KEYS:
                await pilot.press(key)
                await pilot.pause()
                moves.append((key, table.cursor_row, table.scroll_offset))
        assert ours_moves == theirs_moves
        assert any(offset.x for _, _, offset in ours_moves)  # `end` scrolled sideways
        app.messages.clear()
        ours.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.messages == [("selected", ours.current_key, ours.cursor_row)]


async def test_clicks_select_rows_and_headers() -> None:
    app = Twins()
    async with app.run_test(size=(80, 30)) as pilot:
        ours = app.ours
        ours.sync({f"k{i:02d}": tuple(f"v{i:02d}.{c}" for c in range(6)) for i in range(30)})
        await pilot.pause()
        app.messages.clear()
        await pilot.click(ours, offset=(2, 4))  # line 4: the fourth row (index 3)
        await pilot.pause()
        assert ours.cursor_row == 3 and ours.current_key == "k03"
        assert app.messages == [("highlighted", "k03", 3)]
        await pilot.click(ours, offset=(30, 4))  # the same row again, past its first cell
        await pilot.pause()
        assert app.messages[-1] == ("selected", "k03", 3)
        await pilot.click(ours, offset=(14, 0))  # the header: the second column's label
        await pilot.pause()
        assert app.messages[-1] == ("header", "c1", 1) and ours.cursor_row == 3


async def test_header_click_sorts_and_a_second_click_on_a_row_describes_it(
    synthetic: Any,
) -> None:
    app = ConsoleApp(synthetic, refresh_interval=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.table
        assert table.specs[table.sort_index].key == "peer" and not table.sort_reverse
        x = sum(table._render_widths()[:2]) + 2  # inside DESCRIPTION's label
        await pilot.click(table, offset=(x, 0))
        await pilot.pause()
        assert table.specs[table.sort_index].key == "description"
        await pilot.click(table, offset=(x, 0))  # the same header again: reversed
        await pilot.pause()
        assert table.sort_reverse and table.current_key == table.key_at(table.cursor_row)
        descriptions = [table.get_row_at(i)[2].plain for i in range(table.row_count)]
        assert descriptions == sorted(descriptions, reverse=True)
        await pilot.click(table, offset=(3, 3))
        await pilot.pause()
        assert table.cursor_row == 2 and isinstance(app.screen, SessionsScreen)
        await pilot.click(table, offset=(3, 3))
        await pilot.pause()
        describe = app.screen
        assert isinstance(describe, DescribeScreen)
        assert describe.session_id == table.key_at(2)
