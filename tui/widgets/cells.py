"""A table drawn line by line from raw values and column specs: the widget under
`KeyedTable`, on Textual's public Line API.

`CellTable` is a `ScrollView`: its `virtual_size` is the table's (widths of the columns by
rows plus the header), and `render_line(y)` draws one row as a `Strip`, the header fixed
at the top. Textual keeps the strips it was given and asks again only for the lines a
`refresh` marked, so an edit repaints only the rows it touched. Rows are raw values (one
tuple per key, in column order); a cell is formatted and coloured by its column's spec
only when it is drawn or read (`get_cell` gives a `Cell`), so 10k rows of 17 columns are
10k tuples, not 170k Rich Text objects.

What was drawn is kept by place and look beside the value it showed, so a cell is drawn
again only when its value, place or look changes; the common cell, one line of printable
ASCII that fits its column, goes straight from the value to segments (Rich's general
layout costs ten times as much, and a new screenful is 800 cells).

It looks like Textual's DataTable with a row cursor and zebra stripes, segment for
segment (a test draws both): the same CSS type name, component classes
(`datatable--header`, `--cursor`, `--hover`, `--even-row`, `--odd-row`, ...) and default
CSS, and the same `row`/`column` metadata on the segments, which is how a click or the
mouse pointer finds its cell. The console's stylesheets (themes/*.tcss) say
`DataTable > .datatable--header`, and so they style this table as they did DataTable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size, Spacing, clamp
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import DataTable as _TextualDataTable

Row = tuple[Any, ...]
"""Raw values of one row, in column order; each column's values must compare."""

#: The header's height: one line, fixed at the top of the table.
HEADER = 1


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
    #: The value moves with traffic or the clock, and its text uses only the characters
    #: of `tui.format.NUMBER_ALPHABET` (counts, bytes, rates, uptime).
    volatile: bool = False


class Cell(Text):
    """Text that remembers the raw value it shows, so sorting never parses display text."""

    __slots__ = ("raw",)

    raw: Any


def _width(text: str) -> int:
    """Cells a value takes: its length, for the usual printable ASCII (a C-speed test)."""
    return len(text) if text.isascii() and text.isprintable() else cell_len(text)


def _same(drawn: object, value: object) -> bool:
    """Whether a value is the one that was drawn (equal values of one type look alike)."""
    return drawn is value or (type(drawn) is type(value) and drawn == value)


class _Styled:
    """A renderable between two styles: `pre` under its own styles, `post` over them
    (how DataTable layers row, cell and cursor styles)."""

    def __init__(self, renderable: RenderableType, pre: Style, post: Style) -> None:
        self.renderable, self.pre, self.post = renderable, pre, post

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        segments = console.render(self.renderable, options)
        return Segment.apply_style(segments, console.get_style(self.pre), self.post)


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


#: Row kinds, which pick a row's style from the look.
HEAD, EVEN, ODD, PLAIN = range(4)


class _Look:
    """The styles of one frame, read once from CSS (focus, theme and hover change them).

    Equal looks get equal tokens (`CellTable._look_token`), so the cache of drawn cells
    is keyed by small ints rather than by Styles, whose comparison is slow Python."""

    __slots__ = ("base", "composed", "cursor", "rows", "styles", "token")

    def __init__(self, table: CellTable) -> None:
        component = table.get_component_styles
        self.base: Style = table.rich_style
        #: Row styles by kind: the header's, zebra stripes', and the widget's own.
        self.rows: tuple[Style, ...] = (
            component("datatable--header").rich_style,
            component("datatable--even-row").rich_style,
            component("datatable--odd-row").rich_style,
            self.base,
        )
        get = table.get_component_rich_style
        #: Cursor and hover component styles, and whether each is shown.
        self.cursor = (
            get("datatable--cursor"),
            get("datatable--hover"),
            get("datatable--header-cursor"),
            get("datatable--header-hover"),
            table.show_cursor,
            table.hover_shown,
        )
        self.token = table._look_token((self.rows, self.cursor))
        self.styles: dict[tuple[bool, bool, bool, bool], tuple[Style, Style]] = {}
        self.composed: dict[tuple[Any, ...], tuple[Style, Style]] = {}

    def cell_styles(
        self, header: bool, hover: bool, cursor: bool, css_foreground: bool = True
    ) -> tuple[Style, Style]:
        """(component style, post style) of a cell, as DataTable composes them: hover,
        then cursor; the cursor's CSS colour wins over the cell's own (for the row's
        filler past the last column, it does not)."""
        key = (header, hover, cursor, css_foreground)
        found = self.styles.get(key)
        if found is None:
            cursor_style, hover_style, header_cursor, header_hover, show, hover_on = self.cursor
            component = Style()
            if hover and show and hover_on:
                component += hover_style
                if header:
                    component += header_hover
            if cursor and show:
                component += cursor_style
                if header:
                    component += header_cursor
            post = Style.from_color(color=component.color) if css_foreground else Style.null()
            found = self.styles[key] = (component, post)
        return found

    def plain_styles(
        self, kind: int, hover: bool, cursor: bool, style: str | Style, console: Console
    ) -> tuple[Style, Style]:
        """(padding style, text style) of a plain cell, less its place's metadata: row
        style, then the cell's own, then the cursor's (`Segment.apply_style`'s order). A
        screenful has a handful of these; only the metadata differs from cell to cell."""
        key = (kind, hover, cursor, style)
        found = self.composed.get(key)
        if found is None:
            component, post = self.cell_styles(False, hover, cursor)
            pre = console.get_style(self.rows[kind] + component)
            blank, text = Segment.apply_style(
                [Segment(" ", console.get_style("none")), Segment("x", console.get_style(style))],
                pre,
                console.get_style(post),
            )
            found = self.composed[key] = (blank.style or Style(), text.style or Style())
        return found


class CellTable(DataTable):
    """Rows of raw values by key, drawn through column specs; see the module docstring.

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
        self._frame_look: _Look | None = None

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
                width = _width(formats[column](value))
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

    def forget_drawn(self) -> None:
        """Draw every cell afresh, e.g. after a theme change recolours equal values."""
        self._drawn.clear()
        self._frame_look = None

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
        self._resize()
        top = int(self.scroll_y)
        if first < top + max(1, self.size.height) and index > top:
            self.refresh()
        else:
            # Below the window: only the scrollbar moves (the new virtual size redraws it);
            # repainting every line on screen for each chunk of a 100k-row load was most
            # of a filter's cost. The header line keeps the screen's refresh cycle going.
            self.refresh_line(0)
        if was_empty and self._order and self.show_cursor:
            self._highlighted()

    def _write_row(self, key: str, row: Row, changed: Iterable[int]) -> None:
        """A shown row's new values; `changed` are the columns whose values moved (only
        those are measured: a column widens to a wider value, and never narrows)."""
        self._shown[key] = row
        widths = self._widths
        wider = False
        for column in changed:
            width = _width(self.specs[column].fmt(row[column]))
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

    def _resize(self) -> None:
        size = Size(self._table_width(), self.row_count + HEADER)
        if size != self.virtual_size:
            self.virtual_size = size

    # -- drawing --------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._frame_look = None
        self.refresh()

    def watch_zebra_stripes(self) -> None:
        self._frame_look = None

    def watch_show_cursor(self) -> None:
        self._frame_look = None

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles are read once a frame; a change of focus or theme shows in them.
        self._frame_look = _Look(self)
        self._measure_visible()
        return super().render_lines(crop)

    def _look_token(self, styles: tuple[Any, ...]) -> int:
        token = self._looks.get(styles)
        if token is None:
            if len(self._looks) >= 64:
                # Tokens are reused from here on: what was drawn under old ones goes.
                self._looks.clear()
                self._drawn.clear()
            token = self._looks[styles] = len(self._looks)
        return token

    def render_line(self, y: int) -> Strip:
        look = self._frame_look or _Look(self)
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y < HEADER:
            index = -1
        else:
            index = y - HEADER + scroll_y
            if index >= len(self._order):
                return Strip.blank(width, look.base)
        segments, length = self._row_segments(index, look, width)
        if scroll_x == 0 and length == width:
            # The common case, in one Strip: what crop, adjust and simplify would give.
            return Strip(Segment.simplify(segments), width)
        return (
            Strip(segments, length).crop(scroll_x).adjust_cell_length(width, look.base).simplify()
        )

    def _meta(self, index: int, column: int) -> Style:
        """The metadata a cell's segments carry, by which clicks and the pointer find it."""
        key = (index, column)
        meta = self._metas.get(key)
        if meta is None:
            meta = self._metas[key] = Style.from_meta({"row": index, "column": column})
        return meta

    def _row_segments(
        self, index: int, look: _Look, widget_width: int
    ) -> tuple[list[Segment], int]:
        """One row's segments (index -1: the header), the filler to the widget's edge
        included, as DataTable lays them out; and their length in cells."""
        header = index == -1
        if header:
            kind = HEAD
        elif self.zebra_stripes:
            kind = ODD if index % 2 else EVEN
        else:
            kind = PLAIN
        cursor = index == self._cursor
        hover = index == self._pointer
        widths = self._render_widths()
        segments: list[Segment] = []
        if header:
            for column, width in enumerate(widths):
                segments.extend(self._header_cell(column, width, hover, look))
        else:
            row = self._shown[self._order[index]]
            for column, width in enumerate(widths):
                segments.extend(
                    self._data_cell(index, column, row[column], kind, width, cursor, hover, look)
                )
        filler, _ = look.cell_styles(header, hover, cursor, css_foreground=False)
        filler = (
            look.rows[kind]
            + filler
            + Style.from_meta({"row": index, "column": 0, "out_of_bounds": True})
        )
        table_width = sum(widths)
        spare = max(0, widget_width - table_width)
        segments.append(Segment(" " * spare, filler))
        return segments, table_width + spare

    def _header_cell(self, column: int, width: int, hover: bool, look: _Look) -> list[Segment]:
        label = self._labels[column]
        key = (-1, column, HEAD, width, False, hover, look.token)
        cached = self._drawn.get(key)
        if cached is not None and cached[0] is label:
            return cached[1]
        lines = self._rich_cell(-1, column, label, HEAD, width, False, hover, look)
        self._drawn[key] = (label, lines)
        return lines

    def _data_cell(
        self,
        index: int,
        column: int,
        value: Any,
        kind: int,
        width: int,
        cursor: bool,
        hover: bool,
        look: _Look,
    ) -> list[Segment]:
        # Small ints and bools: the look's token stands for its styles.
        key = (index, column, kind, width, cursor, hover, look.token)
        cached = self._drawn.get(key)
        if cached is not None and _same(cached[0], value):
            return cached[1]
        spec = self.specs[column]
        style = spec.style(value) if spec.style is not None else ""
        plain = spec.fmt(value)
        lines = self._plain_cell(
            plain, style, spec.right, index, column, kind, width, cursor, hover, look
        )
        if lines is None:
            lines = self._rich_cell(
                index, column, self._cell(column, value), kind, width, cursor, hover, look
            )
        self._drawn[key] = (value, lines)
        return lines

    def _plain_cell(
        self,
        plain: str,
        style: str | Style,
        right: bool,
        index: int,
        column: int,
        kind: int,
        width: int,
        cursor: bool,
        hover: bool,
        look: _Look,
    ) -> list[Segment] | None:
        """The segments of a one-line, one-style, printable-ASCII cell that fits its
        column, built directly: what Rich's layout gives for it (a test compares them)
        at a tenth of the cost. Anything else returns None, for `_rich_cell`."""
        pad = self.cell_padding
        room = width - 2 * pad
        if not plain or len(plain) > room or not (plain.isascii() and plain.isprintable()):
            return None
        blank, text = look.plain_styles(kind, hover, cursor, style, self.app.console)
        meta = self._meta(index, column)
        blank = blank + meta
        padding = " " * pad
        return [
            Segment(padding, blank),
            Segment(plain.rjust(room) if right else plain.ljust(room), text + meta),
            Segment(padding, blank),
        ]

    def _rich_cell(
        self,
        index: int,
        column: int,
        text: Text,
        kind: int,
        width: int,
        cursor: bool,
        hover: bool,
        look: _Look,
    ) -> list[Segment]:
        """A cell through Rich's layout, padded, cropped with an ellipsis, as DataTable
        draws any cell (an empty one as empty text)."""
        component, post = look.cell_styles(index == -1, hover, cursor)
        pre = look.rows[kind] + self._meta(index, column) + component
        content = text if text.plain else Text(no_wrap=True, end="")
        options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
        lines = self.app.console.render_lines(
            _Styled(Padding(content, (0, self.cell_padding)), pre, post), options
        )
        return lines[0]

    # -- the mouse ------------------------------------------------------------------------

    def _show_hover(self, shown: bool) -> None:
        """The faint hover cursor follows the mouse and hides while keys are used."""
        if shown != self.hover_shown:
            self.hover_shown = shown
            self._frame_look = None
            self._refresh_pointer()

    def _refresh_pointer(self) -> None:
        if self._pointer == -1:
            self.refresh_line(0)
        else:
            self.refresh_row(self._pointer)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        meta = event.style.meta
        if not meta:
            self._show_hover(False)
            return
        self._show_hover(True)
        if self.show_cursor and "row" in meta and meta["row"] != self._pointer:
            self._refresh_pointer()
            self._pointer = meta["row"]
            self._refresh_pointer()

    def on_leave(self, event: events.Leave) -> None:
        self._show_hover(False)

    def on_click(self, event: events.Click) -> None:
        self._show_hover(True)
        meta = event.style.meta
        if "row" not in meta or "column" not in meta:
            return
        row, column = meta["row"], meta["column"]
        if row == -1:
            # A header click sorts (the screen's business); it does not move the cursor.
            self.post_message(self.HeaderSelected(self, column, self._labels[column]))
        elif self.show_cursor and row < self.row_count:
            again = row == self._cursor
            self._set_cursor(row)
            if again:
                self._post_selected()
            self._scroll_cursor_into_view(animate=True)
            event.stop()

    # -- keys -----------------------------------------------------------------------------

    def _post_selected(self) -> None:
        if self.row_count:
            self.post_message(self.RowSelected(self, self._cursor, self._order[self._cursor]))

    def action_select_cursor(self) -> None:
        self._show_hover(False)
        if self.show_cursor:
            self._post_selected()

    def action_cursor_up(self) -> None:
        self._show_hover(False)
        if self.show_cursor:
            self.move_cursor(row=self._cursor - 1, scroll=False)
        else:
            super().action_scroll_up()

    def action_cursor_down(self) -> None:
        self._show_hover(False)
        if self.show_cursor:
            self.move_cursor(row=self._cursor + 1, scroll=False)
        else:
            super().action_scroll_down()

    def action_cursor_right(self) -> None:
        self._show_hover(False)
        super().action_scroll_right()

    def action_cursor_left(self) -> None:
        self._show_hover(False)
        super().action_scroll_left()

    def _page(self) -> int:
        return self.scrollable_content_region.height - HEADER

    def action_page_down(self) -> None:
        """The cursor and the view one page down."""
        self._show_hover(False)
        if not self.show_cursor:
            super().action_page_down()
            return
        height = self._page()
        self.scroll_relative(y=height, animate=False, force=True)
        target = self._cursor + min(max(0, height), max(0, self.row_count - 1 - self._cursor))
        self.move_cursor(row=target, scroll=False)

    def action_page_up(self) -> None:
        """The cursor and the view one page up."""
        self._show_hover(False)
        if not self.show_cursor:
            super().action_page_up()
            return
        height = self._page()
        self.scroll_relative(y=-height, animate=False)
        self.move_cursor(row=self._cursor - min(max(0, height), self._cursor), scroll=False)

    def action_scroll_top(self) -> None:
        self._show_hover(False)
        if self.show_cursor:
            self.move_cursor(row=0, scroll=False)
        else:
            super().action_scroll_home()

    def action_scroll_bottom(self) -> None:
        self._show_hover(False)
        if self.show_cursor:
            self.move_cursor(row=self.row_count - 1, scroll=False)
        else:
            super().action_scroll_end()

    def action_scroll_home(self) -> None:
        """Home: to the first column (a row cursor has nowhere to go sideways)."""
        self._show_hover(False)
        self.scroll_x = 0

    def action_scroll_end(self) -> None:
        """End: to the last column."""
        self._show_hover(False)
        self.scroll_x = self.max_scroll_x
