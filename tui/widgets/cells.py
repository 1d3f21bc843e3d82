"""Cells drawn from column specs: the DataTable under `KeyedTable`.

A column's spec says how a raw value reads and what colour it takes. The table may store
the raw values themselves in its cells: reading a cell (`get_cell`, `get_row` ...) gives
a `Cell`, made then, and drawing it goes straight from the value to segments for the
common case, a one-line printable ASCII cell that fits its column. What was drawn is
kept by what the cell held, so a cell is drawn again only when its value, its place or
its look changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

Row = tuple[Any, ...]
"""Raw values of one row, in column order; each column's values must compare."""


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column: how a raw value reads (`fmt`), and optionally its colour (`style`)."""

    key: str
    label: str
    fmt: Callable[[Any], str] = str
    style: Callable[[Any], str] | None = None
    right: bool = False
    width: int | None = None
    #: The value never changes for a given key (e.g. the address a key is made of), so
    #: ordering by this column needs no fresh rows.
    fixed: bool = False


class Cell(Text):
    """Text that remembers the raw value it shows, so sorting never parses display text."""

    __slots__ = ("raw",)

    raw: Any


def _same(drawn: object, cell: object) -> bool:
    """Whether a cell is what was drawn: the same `Cell` object, or an equal raw value
    (a restyle clears what was drawn, since equal raw values then look different)."""
    if drawn is cell:
        return True
    if isinstance(cell, Text):
        return False
    return type(drawn) is type(cell) and drawn == cell


class CellTable(DataTable[Cell]):
    """A DataTable over column specs; see the module docstring."""

    def __init__(self, columns: Sequence[ColumnSpec], **kwargs: Any) -> None:
        #: Drawn cells by place and look, each beside what the cell held (see
        #: `_render_cell`); set before DataTable's init, which clears caches.
        self._cell_lines: LRUCache[tuple[Any, ...], tuple[object, Any]] = LRUCache(4096)
        super().__init__(**kwargs)
        self.specs = tuple(columns)

    def get_row_at(self, row_index: int) -> list[Cell]:
        return self._cells(super().get_row_at(row_index))

    def get_row(self, row_key: RowKey | str) -> list[Cell]:
        return self._cells(super().get_row(row_key))

    def get_cell(self, row_key: RowKey | str, column_key: ColumnKey | str) -> Cell:
        value = super().get_cell(row_key, column_key)
        return self._as_cell(self.get_column_index(column_key), value)

    def get_cell_at(self, coordinate: Coordinate) -> Cell:
        return self._as_cell(coordinate.column, super().get_cell_at(coordinate))

    def forget_drawn(self) -> None:
        """Draw every cell afresh, e.g. after a theme change recolours equal values."""
        self._cell_lines.clear()

    def _cell(self, index: int, raw: Any) -> Cell:
        spec = self.specs[index]
        cell = Cell(
            spec.fmt(raw),
            style=spec.style(raw) if spec.style is not None else "",
            justify="right" if spec.right else "left",
            no_wrap=True,
            overflow="ellipsis",
        )
        cell.raw = raw
        return cell

    def _cells(self, values: list[Any]) -> list[Cell]:
        return [self._as_cell(index, value) for index, value in enumerate(values)]

    def _as_cell(self, index: int, value: Any) -> Cell:
        """What a cell holds, as a `Cell`: on the fast path it holds the raw value."""
        return value if isinstance(value, Cell) else self._cell(index, value)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Any,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        """DataTable's cell render, cached by what the cell holds rather than by the
        table's edit count: DataTable drops every rendered cell whenever any cell
        changes, so a tick that moves a few counters re-rendered all ~800 cells on
        screen (half the refresh). Here an unchanged cell keeps its lines."""
        row_key = (
            self._header_row_key if row_index == -1 else self._row_locations.get_key(row_index)
        )
        column_key = self._column_locations.get_key(column_index)
        if row_index == -1:
            cell: object = self.columns[column_key].label if column_key in self.columns else None
        else:
            cell = self._data.get(row_key, {}).get(column_key) if row_key is not None else None
        key = (
            row_key,
            column_key,
            row_index,
            column_index,
            width,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._pseudo_class_state,
        )
        cached = self._cell_lines.get(key)
        if cached is not None and cell is not None and _same(cached[0], cell):
            return cached[1]
        lines = None
        if row_index >= 0 and row_key is not None and cell is not None:
            look = self._look(column_index, cell)
            if look is not None:
                lines = self._render_plain_cell(
                    *look, row_key, row_index, column_index, base_style, width, cursor, hover
                )
        if lines is None:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._cell_lines[key] = (cell, lines)
        return lines

    def _look(self, column_index: int, cell: object) -> tuple[str, str | Style, str] | None:
        """Text, style and justification of a stored cell (a `Cell`, or a raw value);
        None for other text, and a cell with spans, which only DataTable draws."""
        if isinstance(cell, Cell):
            return None if cell._spans else (cell.plain, cell.style, str(cell.justify))
        if isinstance(cell, Text):
            return None
        spec = self.specs[column_index]
        style = spec.style(cell) if spec.style is not None else ""
        return spec.fmt(cell), style, "right" if spec.right else "left"

    def _render_plain_cell(
        self,
        plain: str,
        style: str | Style,
        justify: str,
        row_key: RowKey,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[list[Segment]] | None:
        """The segments DataTable renders for a one-line, one-style, printable-ASCII cell
        that fits its column, built directly: DataTable goes through Rich's general
        layout (padding, wrapping, justification) at ~70 µs a cell, ten times this, and
        a new screenful of rows is 800 cells. Anything else returns None and takes
        DataTable's path; a test checks both give the same segments."""
        pad = self.cell_padding
        room = width - 2 * pad
        row = self.rows.get(row_key)
        if (
            not plain
            or len(plain) > room
            or not (plain.isascii() and plain.isprintable())
            or justify not in ("left", "right")
            or row is None
            or row.height != 1
        ):
            return None
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            fixed,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        console = self.app.console
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index})
        pre_style = console.get_style(pre_style + component_style)
        text = plain.ljust(room) if justify == "left" else plain.rjust(room)
        blank = console.get_style("none")
        segments = [
            Segment(" " * pad, blank),
            Segment(text, console.get_style(style)),
            Segment(" " * pad, blank),
        ]
        styled = Segment.apply_style(segments, pre_style, console.get_style(post_style))
        return [list(styled)]

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cell_lines.clear()

    def notify_style_update(self) -> None:
        self._cell_lines.clear()
        super().notify_style_update()
