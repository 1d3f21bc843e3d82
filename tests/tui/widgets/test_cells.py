"""CellTable, the Line-API table under KeyedTable: drawn as Textual's DataTable draws the
same rows (segment for segment, a real DataTable beside it), each cell drawn once per
value, columns that widen for a wider value, and no Textual name shadowed."""

from __future__ import annotations

import ast
import inspect
from typing import Any

import pytest
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import DataTable

from tui.widgets.cells import EVEN, HEAD, ODD, CellTable, ColumnSpec
from tui.widgets.keyed_table import KeyedTable

NOTES = ["", "plain", "naïve", "宽字符", "tab\there", "x" * 30]


def columns() -> list[ColumnSpec]:
    return [
        ColumnSpec("name", "NAME"),
        ColumnSpec("n", "N", right=True, style=lambda v: "bold #ff0000" if v % 2 else ""),
        ColumnSpec("note", "NOTE", style=lambda v: "italic"),
    ]


def rows(count: int = 12) -> dict[str, tuple[Any, ...]]:
    return {f"k{i}": (f"name {i}", i, NOTES[i % len(NOTES)]) for i in range(count)}


class StyledApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.table = KeyedTable(columns())

    def compose(self) -> ComposeResult:
        yield self.table


class SideBySide(App[None]):
    """Our table and Textual's DataTable holding the same cells, one above the other."""

    CSS = "KeyedTable, DataTable { height: 12; }"

    def __init__(self) -> None:
        super().__init__()
        self.ours = KeyedTable(columns())
        self.theirs: DataTable[Any] = DataTable(cursor_type="row", zebra_stripes=True)

    def compose(self) -> ComposeResult:
        yield self.ours
        yield self.theirs

    def fill(self, data: dict[str, tuple[Any, ...]]) -> None:
        self.ours.sync(data)
        labels = [self.ours._label(index) for index in range(len(self.ours.specs))]
        for spec, label in zip(self.ours.specs, labels, strict=True):
            self.theirs.add_column(label, key=spec.key)
        for index in range(self.ours.row_count):
            key = self.ours.key_at(index)
            self.theirs.add_row(*self.ours.get_row(key), key=key)


def lines(table: ScrollView) -> list[Strip]:
    return [table.render_line(y) for y in range(table.size.height)]


async def test_drawn_as_datatable_draws_the_same_rows() -> None:
    """Header, zebra stripes, the row cursor blurred and focused, the hover cursor, cells
    too wide or not plain ASCII (Rich's path): the same segments, metadata included."""
    app = SideBySide()
    async with app.run_test(size=(100, 30)) as pilot:
        app.fill(rows(14))
        await pilot.pause()
        ours, theirs = app.ours, app.theirs
        assert ours.column_widths == [c.content_width for c in theirs.ordered_columns]
        for row in (0, 3):
            ours.move_cursor(row=row)
            theirs.move_cursor(row=row)
            for focused in (None, ours, theirs):
                app.set_focus(focused)
                await pilot.pause()
                if focused is not theirs:
                    ours_lines = lines(ours)
                if focused is not ours:
                    theirs_lines = lines(theirs)
                if focused is None:
                    assert ours_lines == theirs_lines, (row, "blurred")
            assert ours_lines == theirs_lines, (row, "focused")
        app.set_focus(None)
        await pilot.hover(ours, offset=(3, 5))
        await pilot.pause()
        assert ours.hover_row == 4 and ours.hover_shown
        hovered = lines(ours)
        assert hovered != ours_lines  # the hover cursor shows ...
        await pilot.hover(theirs, offset=(3, 5))
        await pilot.pause()
        assert not ours.hover_shown  # ... until the pointer leaves
        assert hovered == lines(theirs)


@pytest.mark.parametrize("cursor", [False, True])
@pytest.mark.parametrize("hover", [False, True])
async def test_plain_cells_are_what_rich_draws(cursor: bool, hover: bool) -> None:
    """The direct path gives exactly what Rich's layout gives, for every cell it takes."""
    app = StyledApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        table.sync(rows())
        table.hover_shown = hover
        await pilot.pause()
        look = table._frame_look
        assert look is not None
        direct = 0
        for index in range(12):
            kind = ODD if index % 2 else EVEN
            for column, spec in enumerate(table.specs):
                value = table._shown[table.key_at(index)][column]
                cell = table.get_cell(table.key_at(index), spec.key)
                natural = table._render_widths()[column]
                for width in (natural, natural + 3, 6):
                    style = spec.style(value) if spec.style is not None else ""
                    fast = table._plain_cell(
                        cell.plain, style, spec.right, index, column, kind, width, cursor,
                        hover, look,
                    )  # fmt: skip
                    rich = table._rich_cell(index, column, cell, kind, width, cursor, hover, look)
                    if fast is not None:
                        direct += 1
                        assert list(Segment.simplify(fast)) == list(Segment.simplify(rich))
                    elif cell.plain.isascii() and cell.plain.isprintable() and cell.plain:
                        assert len(cell.plain) > width - 2  # only a cell too wide falls back
        assert direct > 50
        # The header takes Rich's path, with its own row style.
        assert table._header_cell(0, 8, False, look)[1].text.startswith("NAME")
        assert look.rows[HEAD] != look.rows[EVEN]


async def noted(pilot: Any) -> KeyedTable:
    """The styled table with twelve rows whose notes are all as wide."""
    table: KeyedTable = pilot.app.table
    table.sync({f"k{i}": (f"name {i}", i, "note") for i in range(12)})
    await pilot.pause()
    return table


async def test_an_unchanged_cell_is_not_drawn_again(monkeypatch: Any) -> None:
    app = StyledApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = await noted(pilot)
        drawn: list[tuple[int, int]] = []
        lines_drawn: list[int] = []
        plain, rich, line = CellTable._plain_cell, CellTable._rich_cell, CellTable.render_line

        def counting_plain(self: CellTable, *args: Any) -> Any:
            drawn.append((args[3], args[4]))
            return plain(self, *args)

        def counting_rich(self: CellTable, index: int, column: int, *args: Any) -> Any:
            drawn.append((index, column))
            return rich(self, index, column, *args)

        def counting_line(self: CellTable, y: int) -> Strip:
            lines_drawn.append(y)
            return line(self, y)

        monkeypatch.setattr(CellTable, "_plain_cell", counting_plain)
        monkeypatch.setattr(CellTable, "_rich_cell", counting_rich)
        monkeypatch.setattr(CellTable, "render_line", counting_line)
        table.sync({"k3": ("name 3", 3, "NOTE")})  # as wide: the column keeps its width
        await pilot.pause()
        row = table.get_row_index("k3")
        assert set(drawn) == {(row, 2)}  # one cell drawn again ...
        assert set(lines_drawn) == {row + 1}  # ... in the one line repainted (+1: header)
        assert table.get_cell("k3", "note").plain == "NOTE"


async def test_a_wider_value_widens_its_column() -> None:
    app = StyledApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = await noted(pilot)
        assert table.column_widths[2] == len("NOTE  ")  # its label, sort mark's room included
        table.sync({"k3": ("name 3", 3, "a much longer note")})
        await pilot.pause()
        assert table.column_widths[2] == len("a much longer note")
        assert table.virtual_size.width == sum(table._render_widths())
        row = table.get_row_index("k3")
        line = table.render_line(row + 1 - int(table.scroll_y)).text  # +1: the header
        assert "a much longer note" in line
        table.sync({"k3": ("name 3", 3, "short")})  # columns never narrow (no rescans)
        assert table.column_widths[2] == len("a much longer note")


def assigned_on_self(*classes: type) -> set[str]:
    """Every `self.NAME` these classes' own code assigns."""
    names: set[str] = set()
    for klass in classes:
        for node in ast.walk(ast.parse(inspect.getsource(klass))):
            targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
            for target in targets:
                for item in getattr(target, "elts", [target]):
                    if (
                        isinstance(item, ast.Attribute)
                        and isinstance(item.value, ast.Name)
                        and item.value.id == "self"
                    ):
                        names.add(item.attr)
    return names


def test_no_textual_name_is_shadowed() -> None:
    """The tables' own names (methods, class and instance attributes) are not names that
    Textual's ScrollView, or anything under it, already uses: only Textual's public hooks
    are overridden, and no private field of Textual's is read or written."""
    overrides = {
        "ALLOW_SELECT", "BINDINGS", "COMPONENT_CLASSES", "DEFAULT_CSS", "can_focus",
        "render_line", "render_lines", "notify_style_update", "on_click", "on_leave",
        "on_mouse_move", "action_page_down", "action_page_up", "action_scroll_home",
        "action_scroll_end", "zebra_stripes", "show_cursor",
        # Public reactives, set as DataTable sets them: the table's size, `Home`/`End`.
        "virtual_size", "scroll_x", "__init__", "__annotations__",
    }  # fmt: skip
    textual: set[str] = set()
    for klass in ScrollView.__mro__:
        textual.update(vars(klass))
    textual.update(vars(ScrollView()))
    widgets = KeyedTable.__mro__[: KeyedTable.__mro__.index(ScrollView)]
    ours = assigned_on_self(*widgets)
    # What Textual's own subclass hook writes on every widget class is not ours, nor
    # the instance dict Python gives a class whose first base is a slotted mixin.
    machinery = set(vars(type("Probe", (ScrollView,), {}))) | {"__dict__", "__weakref__"}
    for klass in widgets:
        ours.update(name for name in vars(klass) if name not in machinery)
    clashes = sorted((ours & textual) - overrides)
    assert clashes == [], clashes
    assert {"_shown", "_order", "_drawn", "_model", "_queue"} <= ours  # the scan works


async def test_zebra_stripes_and_the_cursor_can_be_turned_off() -> None:
    app = SideBySide()
    async with app.run_test(size=(100, 30)) as pilot:
        app.fill(rows(14))
        app.set_focus(None)
        await pilot.pause()
        striped = lines(app.ours)
        for table in (app.ours, app.theirs):
            table.zebra_stripes = False
            table.show_cursor = False
        await pilot.pause()
        plain = lines(app.ours)
        assert plain != striped and plain == lines(app.theirs)
