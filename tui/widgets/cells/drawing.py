"""Rows into strips: each line drawn from raw values through the column specs, and
what was drawn kept by place and look, so a cell is drawn again only when its value,
place or look changes."""

from __future__ import annotations

from typing import Any

from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip

from tui.widgets.cells.columns import HEADER, same_value
from tui.widgets.cells.looks import EVEN, HEAD, ODD, PLAIN, Look, Styled


class CellDrawing:
    """Drawing for `CellTable` (mixed into it, before its Textual base)."""

    __slots__ = ()

    def forget_drawn(self) -> None:
        """Draw every cell afresh, e.g. after a theme change recolours equal values."""
        self._drawn.clear()
        self._frame_look = None

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
        self._frame_look = Look(self)
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
        look = self._frame_look or Look(self)
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

    def _row_segments(self, index: int, look: Look, widget_width: int) -> tuple[list[Segment], int]:
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

    def _header_cell(self, column: int, width: int, hover: bool, look: Look) -> list[Segment]:
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
        look: Look,
    ) -> list[Segment]:
        # Small ints and bools: the look's token stands for its styles.
        key = (index, column, kind, width, cursor, hover, look.token)
        cached = self._drawn.get(key)
        if cached is not None and same_value(cached[0], value):
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
        look: Look,
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
        look: Look,
    ) -> list[Segment]:
        """A cell through Rich's layout, padded, cropped with an ellipsis, as DataTable
        draws any cell (an empty one as empty text)."""
        component, post = look.cell_styles(index == -1, hover, cursor)
        pre = look.rows[kind] + self._meta(index, column) + component
        content = text if text.plain else Text(no_wrap=True, end="")
        options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
        lines = self.app.console.render_lines(
            Styled(Padding(content, (0, self.cell_padding)), pre, post), options
        )
        return lines[0]
