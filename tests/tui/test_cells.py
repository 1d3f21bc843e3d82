"""Cells drawn from column specs: the same segments DataTable draws, drawn once per value,
and columns that widen for a wider value."""

from __future__ import annotations

from typing import Any

import pytest
from rich.style import Style
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui.widgets.cells import ColumnSpec
from tui.widgets.keyed_table import KeyedTable


class StyledApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.table = KeyedTable(
            [
                ColumnSpec("name", "NAME"),
                ColumnSpec("n", "N", right=True, style=lambda v: "bold #ff0000" if v % 2 else ""),
                ColumnSpec("note", "NOTE", style=lambda v: "italic"),
            ]
        )

    def compose(self) -> ComposeResult:
        yield self.table


NOTES = ["", "plain", "naïve", "宽字符", "tab\there", "x" * 30]


@pytest.mark.parametrize("cursor", [False, True])
@pytest.mark.parametrize("hover", [False, True])
@pytest.mark.parametrize(
    "base_style", [Style(), Style(bgcolor="#101010"), Style(color="red", italic=True)]
)
async def test_cells_render_exactly_as_datatable_renders_them(
    cursor: bool, hover: bool, base_style: Style
) -> None:
    app = StyledApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        table.sync({f"k{i}": (f"name {i}", i, NOTES[i % len(NOTES)]) for i in range(12)})
        await pilot.pause()
        fast = 0
        for row in range(12):
            row_key = table._row_locations.get_key(row)
            for column in range(3):
                cell = table.get_cell_at(Coordinate(row, column))
                natural = table.ordered_columns[column].get_render_width(table)
                for width in (natural, natural + 3, 6):
                    # Neither cache may answer (DataTable's is not keyed by width).
                    table._cell_lines.clear()
                    table._update_count += 1
                    got = table._render_cell(row, column, base_style, width, cursor, hover)
                    table._update_count += 1
                    expected = DataTable._render_cell(
                        table, row, column, base_style, width, cursor, hover
                    )
                    assert got == expected, (cell.plain, width)
                    direct = table._render_plain_cell(
                        cell.plain, cell.style, str(cell.justify), row_key, row, column,
                        base_style, width, cursor, hover,
                    )  # fmt: skip
                    if direct is not None:
                        fast += 1
                    elif cell.plain.isascii() and cell.plain.isprintable() and cell.plain:
                        assert len(cell.plain) > width - 2  # only a cell too wide falls back
        assert fast > 50


async def noted(pilot: Any) -> KeyedTable:
    """The styled table with twelve rows whose notes are all as wide."""
    table: KeyedTable = pilot.app.table
    table.sync({f"k{i}": (f"name {i}", i, "note") for i in range(12)})
    await pilot.pause()
    return table


async def test_an_unchanged_cell_is_not_rendered_again(monkeypatch: Any) -> None:
    app = StyledApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = await noted(pilot)
        rendered: list[tuple[int, int]] = []
        original = DataTable._render_cell
        plain = KeyedTable._render_plain_cell

        def counting_plain(self: KeyedTable, *look: Any) -> Any:
            text, style, justify, key, row, col, *rest = look
            rendered.append((row, col))
            return plain(self, text, style, justify, key, row, col, *rest)

        def counting(self: DataTable[Any], row: int, col: int, *args: Any) -> Any:
            rendered.append((row, col))
            return original(self, row, col, *args)

        monkeypatch.setattr(KeyedTable, "_render_plain_cell", counting_plain)
        monkeypatch.setattr(DataTable, "_render_cell", counting)
        table.sync({"k3": ("name 3", 3, "NOTE")})  # as wide: the column keeps its width
        await pilot.pause()
        row = table.get_row_index("k3")
        assert set(rendered) == {(row, 2)}
        assert table.get_cell("k3", "note").plain == "NOTE"


async def test_a_wider_value_widens_its_column() -> None:
    app = StyledApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = await noted(pilot)
        assert table.ordered_columns[2].content_width == len("NOTE  ")  # its label
        table.sync({"k3": ("name 3", 3, "a much longer note")})
        await pilot.pause()
        assert table.ordered_columns[2].content_width == len("a much longer note")
        row = table.get_row_index("k3")
        line = table.render_line(row + 1 - int(table.scroll_y)).text  # +1: the header
        assert "a much longer note" in line
