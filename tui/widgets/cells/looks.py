"""The styles of one frame, composed as Textual's DataTable composes them (row, cell,
hover, cursor), and read once a frame from CSS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style

if TYPE_CHECKING:
    from tui.widgets.cells.table import CellTable


class Styled:
    """A renderable between two styles: `pre` under its own styles, `post` over them
    (how DataTable layers row, cell and cursor styles)."""

    def __init__(self, renderable: RenderableType, pre: Style, post: Style) -> None:
        self.renderable, self.pre, self.post = renderable, pre, post

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        segments = console.render(self.renderable, options)
        return Segment.apply_style(segments, console.get_style(self.pre), self.post)


#: Row kinds, which pick a row's style from the look.
HEAD, EVEN, ODD, PLAIN = range(4)


class Look:
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
