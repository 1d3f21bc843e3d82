"""The row cursor driven by the mouse and the keys, as DataTable's is."""

from __future__ import annotations

from textual import events

from tui.widgets.cells.columns import HEADER


class CellNavigation:
    """Mouse and key handling for `CellTable` (mixed into it, before its Textual base)."""

    __slots__ = ()

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
