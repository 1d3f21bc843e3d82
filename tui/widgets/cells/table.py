"""`CellTable`: rows of raw values by key, with a row cursor; what it holds and how
subclasses edit it. Drawing and input handling are its mixins' (`drawing`, `navigation`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size, Spacing, clamp
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.widgets import DataTable as _TextualDataTable

from tui.widgets.cells.columns import HEADER, Cell, ColumnSpec, Row, text_width
from tui.widgets.cells.drawing import CellDrawing
from tui.widgets.cells.looks import Look
from tui.widgets.cells.navigation import CellNavigation


class DataTable(ScrollView, can_focus=True):
    """The name CSS knows the table by. A type selector matches a widget by the names of
    its classes, and the console's stylesheets were written for Textual's DataTable; its
    default CSS (a public class attribute) is taken as it is, so both look alike in any
    theme. Everything else is in `CellTable`."""

    ALLOW_SELECT = False
    DEFAULT_CSS = _TextualDataTable.DEFAULT_CSS
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "datatable--cursor",
        "datatable--hover",
        "datatable--fixed",
        "datatable--fixed-cursor",
        "datatable--header",
        "datatable--header-cursor",
        "datatable--header-hover",
        "datatable--odd-row",
        "datatable--even-row",
    }


class CellTable(CellNavigation, CellDrawing, DataTable):
    """Rows of raw values by key, drawn through column specs; see `tui.widgets.cells`.

    Subclasses edit the rows with `_append`, `_write_row`, `_remove_rows`, `_reorder` and
    `_clear_rows`; readers use `get_cell`, `get_row`, `key_at` and the cursor.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("right", "cursor_right", "Cursor right", show=False),
        Binding("left", "cursor_left", "Cursor left", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "scroll_top", "Top", show=False),
        Binding("ctrl+end", "scroll_bottom", "Bottom", show=False),
        Binding("home", "scroll_home", "Home", show=False),
        Binding("end", "scroll_end", "End", show=False),
    ]

    zebra_stripes: reactive[bool] = reactive(True)
    """Alternate rows take `datatable--even-row` and `datatable--odd-row`."""
    show_cursor: reactive[bool] = reactive(True)
    """Show the row cursor (and the hover cursor)."""

    class HeaderSelected(Message):
        """A column's label was clicked."""

        def __init__(self, table: CellTable, column_index: int, label: Text) -> None:
            super().__init__()
            self.table = table
            self.column_index = column_index
            self.column_key = table.specs[column_index].key
            self.label = label

        @property
        def control(self) -> CellTable:
            return self.table

    class _RowMessage(Message):
        def __init__(self, table: CellTable, cursor_row: int, key: str) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.key = key

        @property
        def control(self) -> CellTable:
            return self.table

    class RowHighlighted(_RowMessage):
        """The cursor moved to another row (or onto the first row of an empty table)."""

    class RowSelected(_RowMessage):
        """Enter on the cursor's row, or a click on it."""

    def __init__(
        self,
        columns: Sequence[ColumnSpec],
        *,
        zebra_stripes: bool = True,
        cell_padding: int = 1,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.specs = tuple(columns)
        self.cell_padding = cell_padding
        self.zebra_stripes = zebra_stripes
        self._column_index = {spec.key: index for index, spec in enumerate(self.specs)}
        #: The rows in the table, by key, as they are drawn.
        self._shown: dict[str, Row] = {}
        #: Keys in display order, and each key's index in it.
        self._order: list[str] = []
        self._where: dict[str, int] = {}
        self._labels = [
            Text(spec.label, justify="right" if spec.right else "left") for spec in self.specs
        ]
        #: Content width of each column (its label's or its widest value's); only grows.
        #: Rows are measured when first drawn, not when added: at 100k rows, measuring
        #: every cell of every appended row was most of a filter's cost, for rows never
        #: seen. A column widens as a wider value scrolls into view.
        self._widths = [label.cell_len for label in self._labels]
        #: Keys whose shown row has been measured (a rewritten row measures its changes).
        self._measured: set[str] = set()
        self._cursor = 0
        #: The row under the mouse pointer (-1: the header), shown while `hover_shown`.
        self._pointer = 0
        self.hover_shown = False
        #: Drawn cells by place and look, each beside the value it showed.
        self._drawn: LRUCache[tuple[Any, ...], tuple[object, list[Segment]]] = LRUCache(4096)
        self._metas: LRUCache[tuple[int, int], Style] = LRUCache(4096)
        #: Looks seen, by their styles, and the token each was given.
        self._looks: dict[tuple[Any, ...], int] = {}
        self._frame_look: Look | None = None

    # -- reading --------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def cursor_row(self) -> int:
        """The index of the row under the cursor (0 in an empty table)."""
        return self._cursor

    @property
    def hover_row(self) -> int:
        """The index of the row under the mouse pointer (-1: the header)."""
        return self._pointer

    @property
    def column_widths(self) -> list[int]:
        """Each column's content width, padding excluded (of the rows drawn so far and
        those on screen now)."""
        self._measure_visible()
        return list(self._widths)

    def _measure_visible(self) -> None:
        """Measure the rows on screen not measured yet; widen columns for them."""
        top = max(0, int(self.scroll_y))
        keys = self._order[top : top + max(1, self.size.height) + 1]
        measured, shown, widths = self._measured, self._shown, self._widths
        formats = [spec.fmt for spec in self.specs]
        wider = False
        for key in keys:
            if key in measured:
                continue
            measured.add(key)
            for column, value in enumerate(shown[key]):
                width = text_width(formats[column](value))
                if width > widths[column]:
                    widths[column] = width
                    wider = True
        if wider:
            self._resize()

    def key_at(self, index: int) -> str:
        """The key of the row at this index (IndexError past the end)."""
        if index < 0:
            raise IndexError(index)
        return self._order[index]

    def get_row_index(self, key: str) -> int:
        return self._where[key]

    def get_row(self, key: str) -> list[Cell]:
        return [self._cell(index, value) for index, value in enumerate(self._shown[key])]

    def get_row_at(self, index: int) -> list[Cell]:
        return self.get_row(self.key_at(index))

    def get_cell(self, key: str, column: str) -> Cell:
        index = self._column_index[column]
        return self._cell(index, self._shown[key][index])

    # -- the cursor -----------------------------------------------------------------------

    def move_cursor(
        self, *, row: int | None = None, animate: bool = False, scroll: bool = True
    ) -> None:
        """Put the cursor on this row (clamped to the table); scroll it into view."""
        moved = self._set_cursor(self._cursor if row is None else row)
        if scroll or moved:
            # As DataTable: a cursor that moved is always brought into view.
            self._scroll_cursor_into_view(animate=animate and scroll)

    def _set_cursor(self, row: int) -> bool:
        row = clamp(row, 0, max(0, self.row_count - 1))
        old, self._cursor = self._cursor, row
        if row == old:
            return False
        self.refresh_row(old)
        self._highlighted()
        return True

    def _highlighted(self) -> None:
        self.refresh_row(self._cursor)
        if self._cursor < self.row_count:
            self.post_message(self.RowHighlighted(self, self._cursor, self._order[self._cursor]))

    def _scroll_cursor_into_view(self, animate: bool = False) -> None:
        if not self.row_count:
            return
        if not self.size.height:
            # Not laid out yet: the window to scroll is unknown until the first refresh.
            self.call_after_refresh(self._scroll_cursor_into_view, animate)
            return
        width = max(self.size.width, self._table_width())
        region = Region(int(self.scroll_x), HEADER + self._cursor, width, 1)
        self.scroll_to_region(region, animate=animate, spacing=Spacing(HEADER, 0, 0, 0), force=True)

    # -- editing (for subclasses) ---------------------------------------------------------

    def _append(self, rows: Iterable[tuple[str, Row]]) -> None:
        """Rows at the end, in order; they are measured when drawn."""
        was_empty = not self._order
        order, where, shown = self._order, self._where, self._shown
        index = len(order)
        first = index
        for key, row in rows:
            order.append(key)
            where[key] = index
            index += 1
            shown[key] = row
        top = int(self.scroll_y)
        seen = first < top + max(1, self.size.height) and index > top
        # Below the window: only the scrollbar moves, not a line on screen; repainting
        # every line for each chunk of a 100k-row load or search was most of its cost.
        self._resize(repaint=seen)
        if seen:
            self.refresh()
        else:
            self.refresh_line(0)  # the header line keeps the screen's refresh cycle going
        if was_empty and self._order and self.show_cursor:
            self._highlighted()

    def _write_row(self, key: str, row: Row, changed: Iterable[int]) -> None:
        """A shown row's new values; `changed` are the columns whose values moved (only
        those are measured: a column widens to a wider value, and never narrows)."""
        self._shown[key] = row
        widths = self._widths
        wider = False
        for column in changed:
            width = text_width(self.specs[column].fmt(row[column]))
            if width > widths[column]:
                widths[column] = width
                wider = True
        if wider:
            self._resize()
            self.refresh()
        else:
            self.refresh_row(self._where[key])

    def _remove_rows(self, keys: set[str]) -> None:
        """Remove these rows (renumbering the others once, not once per row)."""
        for key in keys:
            self._shown.pop(key, None)
            self._measured.discard(key)
        self._order = [key for key in self._order if key not in keys]
        self._where = {key: index for index, key in enumerate(self._order)}
        self._resize()
        self.refresh()
        if self._cursor >= self.row_count:
            self._set_cursor(self.row_count - 1)
            self._scroll_cursor_into_view()
        if self._pointer >= self.row_count:
            self._pointer = max(0, self.row_count - 1)

    def _reorder(self, keys: list[str]) -> None:
        """Show the rows in this order (the same keys)."""
        if keys != self._order:
            self._order = keys
            self._where = {key: index for index, key in enumerate(keys)}
            self.refresh()

    def _clear_rows(self) -> None:
        """Remove every row; the cursor and the scroll go back to the top."""
        self._shown, self._order, self._where = {}, [], {}
        self._measured = set()
        self._resize()
        self._set_cursor(0)
        self._pointer = 0
        self.scroll_to(0, 0, animate=False, force=True)
        self.refresh()

    def _set_label(self, column: int, label: Text) -> None:
        self._labels[column] = label
        if label.cell_len > self._widths[column]:
            self._widths[column] = label.cell_len
            self._resize()
        self.refresh_line(0)

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

    def refresh_row(self, index: int) -> None:
        """Repaint the row at this index (if it is on screen)."""
        top = int(self.scroll_y)
        if top <= index < top + self.size.height:
            self.refresh_line(HEADER + index)

    def _render_widths(self) -> list[int]:
        pad = 2 * self.cell_padding
        return [
            pad + (width if spec.width is None else spec.width)
            for spec, width in zip(self.specs, self._widths, strict=True)
        ]

    def _table_width(self) -> int:
        return sum(self._render_widths())

    def _resize(self, repaint: bool = True) -> None:
        """The virtual size to the table's; unless `repaint`, without repainting the
        lines on screen (setting the reactive repaints all of them), only the layout
        and so the scrollbars."""
        size = Size(self._table_width(), self.row_count + HEADER)
        if size == self.virtual_size:
            return
        if repaint:
            self.virtual_size = size
        else:
            self.set_reactive(DataTable.virtual_size, size)
            self.refresh(layout=True, repaint=False)
