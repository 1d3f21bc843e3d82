"""KeyedTable at scale: rows made only when needed (`touch`), a filter that checks rows as
it appends them, and cells rendered once per value, the same as DataTable renders them."""

from __future__ import annotations

from typing import Any

import pytest
from netutil import until
from rich.style import Style
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui.widgets.keyed_table import ColumnSpec, KeyedTable, Row

ROWS = 600


class Model:
    """A keyed model whose rows count how often they are made."""

    def __init__(self, count: int) -> None:
        self.ticks = {f"k{i:04d}": 0 for i in range(count)}
        self.made: list[str] = []

    def row_of(self, key: str) -> Row:
        self.made.append(key)
        return (key, f"name {key[1:]}", self.ticks[key])


class LazyApp(App[None]):
    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model
        self.table = KeyedTable(
            [
                ColumnSpec("key", "KEY", fixed=True),
                ColumnSpec("name", "NAME"),
                ColumnSpec("ticks", "TICKS", lambda v: f"{v} t", right=True),
            ],
            row_of=model.row_of,
        )
        self.loads: list[KeyedTable.Loaded] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_keyed_table_loaded(self, event: KeyedTable.Loaded) -> None:
        self.loads.append(event)


def order(table: KeyedTable) -> list[str]:
    return [
        table.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value or ""
        for i in range(table.row_count)
    ]


async def loaded(pilot: Any, model: Model) -> KeyedTable:
    table: KeyedTable = pilot.app.table
    table.touch(list(model.ticks))
    await until(lambda: not table.pending)
    await pilot.pause()
    return table


async def test_touched_rows_are_made_on_screen_now_and_off_screen_when_seen() -> None:
    model = Model(ROWS)
    app = LazyApp(model)
    async with app.run_test(size=(80, 20)) as pilot:
        table = await loaded(pilot, model)
        visible = table.visible_keys()
        assert 0 < len(visible) < 30
        model.made.clear()
        for key in model.ticks:
            model.ticks[key] = 1
        table.touch(list(model.ticks))
        # Only the rows on screen were made; the others wait.
        assert sorted(model.made) == sorted(visible)
        assert table.get_cell(visible[0], "ticks").plain == "1 t"
        far = order(table)[-1]
        table.move_cursor(row=table.row_count - 1, animate=False)
        await pilot.pause()
        assert far in model.made  # made when it came into view
        assert table.get_cell(far, "ticks").plain == "1 t"
        assert table.raw("k0100") == ("k0100", "name 0100", 1)  # reading makes a row too


async def test_filter_and_order_by_a_moving_column_see_waiting_rows() -> None:
    model = Model(ROWS)
    app = LazyApp(model)
    async with app.run_test(size=(80, 20)) as pilot:
        table = await loaded(pilot, model)
        model.ticks["k0500"] = 7
        table.touch(["k0500", *table.visible_keys()])
        model.ticks["k0501"] = 9
        table.touch(["k0501"])
        table.set_filter("9 t")  # only the waiting row's new value matches
        await until(lambda: not table.pending)
        assert order(table) == ["k0501"]
        table.set_filter("")
        await until(lambda: not table.pending)
        table.set_sort(2, reverse=True)  # by TICKS, which moves: the rows are made
        assert order(table)[:2] == ["k0501", "k0500"]
        # Ordered by a moving column, touched rows are made at once to keep the order.
        model.ticks["k0003"] = 99
        model.made.clear()
        table.touch(["k0003"])
        assert model.made == ["k0003"] and order(table)[0] == "k0003"


async def test_a_filter_over_rows_without_search_text_checks_them_as_it_appends(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(KeyedTable, "CHECK_CHUNK", 100)
    model = Model(ROWS)
    app = LazyApp(model)
    async with app.run_test(size=(80, 20)) as pilot:
        table = await loaded(pilot, model)
        table.set_filter("name 05")  # k0500..k0599: past the first step's checks
        assert table.searching and table.row_count == 0
        assert table.shown < 100  # a lower bound while searching
        await until(lambda: not table.pending)
        await pilot.pause()
        assert order(table) == [f"k{i:04d}" for i in range(500, 600)]
        assert table.shown == 100 and not table.searching
        assert app.loads and app.loads[-1].table is table
        # Narrowing checks only what the wider filter matched.
        model.made.clear()
        table.set_filter("name 055")
        await until(lambda: not table.pending)
        assert order(table) == [f"k{i:04d}" for i in range(550, 560)]
        # A row that stops matching while the search runs is not shown.
        table.set_filter("")
        await until(lambda: not table.pending)
        for key in model.ticks:
            model.ticks[key] = 2
        table.touch(list(model.ticks))
        table.set_filter("name 05")
        model.ticks["k0590"] = 3
        table.sync({"k0590": ("k0590", "renamed", 3)})
        await until(lambda: not table.pending)
        assert "k0590" not in order(table) and len(order(table)) == 99


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
