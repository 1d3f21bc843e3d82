"""A DataTable kept in step with a keyed model by small edits, never by a rebuild.

Each refresh hands the table the rows that changed (raw values, one tuple per row) and
the keys that went away. The table then removes vanished rows, updates only the cells
whose raw value changed (as ``update_cell(update_width=False)``: re-measuring a column
costs a scan of it), and appends new rows, in chunks between screen refreshes so that a
first load of 10k rows paints at once and fills in behind. Filtering and sorting work on
the raw values, kept beside the cells, so a number sorts as a number.

Two DataTable operations are O(rows) per call and so are done in bulk here, by editing
the same fields the public methods edit: removing rows (`remove_row` renumbers every
row) and updating cells (`update_cell` refreshes per call). On that path the table's
cells hold the raw values themselves, drawn and read as `Cell`s by `tui.widgets.cells`,
so 10k rows of 17 columns are 10k small dicts, not 170k Rich Text objects (memory, load
time and the garbage collector's walks). Without those fields (a future Textual) the public methods
are used, with `Cell`s stored; the tests run both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain, islice
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets.data_table import CellDoesNotExist, CellKey, ColumnKey, RowKey

from tui.widgets.cells import Cell, CellTable, ColumnSpec, Row

try:  # The row record `add_row` creates, for the bulk append (see _append_bulk).
    from textual.widgets._data_table import Row as _TableRow
except ImportError:  # pragma: no cover - a future Textual: the public path is used
    _TableRow = None  # type: ignore[assignment,misc]

#: DataTable internals that the bulk edits touch; without them the table falls back to
#: the public per-row methods (correct, only slower).
_INTERNALS = (
    "_row_locations",
    "_data",
    "_updated_cells",
    "_update_count",
    "rows",
    "_offset_cache",
    "ordered_columns",
)


class KeyedTable(CellTable):
    """Rows keyed by the model's ids; see the module docstring for the update rules."""

    class Loaded(Message):
        """A load or filter that took several steps is all in: counts are final."""

        def __init__(self, table: KeyedTable) -> None:
            super().__init__()
            self.table = table

    #: Rows appended per step of a large load; each step is followed by a screen refresh.
    #: The first step into an empty table is small, so that a screenful paints at once.
    FIRST_CHUNK: ClassVar[int] = 200
    ADD_CHUNK: ClassVar[int] = 1000
    #: Rows whose search text must be made that a filter change checks at once; beyond
    #: this, rows are checked as they are appended, this many per step (see `_drain`).
    CHECK_CHUNK: ClassVar[int] = 2000
    #: Whether the DataTable internals that bulk edits rely on are there (see _INTERNALS).
    _fast_internals: ClassVar[bool | None] = None

    def __init__(
        self,
        columns: Sequence[ColumnSpec],
        *,
        sort_column: int = 0,
        tiebreak: int = 0,
        row_of: Callable[[str], Row] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(columns, id=id, cursor_type="row", zebra_stripes=True)
        self.sort_index = sort_column
        self.sort_reverse = False
        self.tiebreak = tiebreak
        self.filter_text = ""
        self._model: dict[str, Row] = {}
        #: Computes a key's row for `touch`: rows are then made only when something needs
        #: them (on screen, the filter, the order, a new row), not for every change.
        self._row_of = row_of
        #: Keys whose `_model` row is out of date: `_row` recomputes it on demand.
        self._dirty: set[str] = set()
        self._shown: dict[str, Row] = {}
        #: Search text per key, made when a filter first needs it (dropped on change).
        self._haystack: dict[str, str] = {}
        #: Shown rows whose cells lag behind the model because they were off screen when
        #: it changed: written when they come into view (fast path only).
        self._stale: set[str] = set()
        self._queue: dict[str, None] = {}
        #: Queued keys not yet checked against the filter: `_drain` checks them in order.
        self._unchecked: set[str] = set()
        self._needs_sort = False
        self._cells_written = False
        self._drain_scheduled = False
        #: A rebuild's cursor row that is still queued: the drain moves to it when it lands.
        self._cursor_wanted: str | None = None
        if KeyedTable._fast_internals is None:
            KeyedTable._fast_internals = _TableRow is not None and all(
                hasattr(self, name) for name in _INTERNALS
            )

    def on_mount(self) -> None:
        for index, spec in enumerate(self.specs):
            self.add_column(self._label(index), key=spec.key, width=spec.width)

    # -- reading ------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Rows in the model, filtered or not."""
        return len(self._model)

    @property
    def shown(self) -> int:
        """Rows known to match the filter, including those still waiting to be appended
        (a lower bound while `searching`)."""
        return len(self._shown) + len(self._queue) - len(self._unchecked)

    @property
    def pending(self) -> int:
        """Rows still waiting to be appended (or to be checked against the filter)."""
        return len(self._queue)

    @property
    def searching(self) -> int:
        """Rows the filter has yet to check."""
        return len(self._unchecked)

    def raw(self, key: str) -> Row | None:
        return self._row(key) if key in self._model else None

    def model_keys(self) -> Iterable[str]:
        """Every key in the model, shown or filtered out."""
        return self._model.keys()

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        except CellDoesNotExist:
            return None

    def visible_keys(self) -> list[str]:
        """Keys of the rows on screen: time-derived cells are refreshed only for these."""
        count = self.row_count
        if not count:
            return []
        top = max(0, int(self.scroll_y))
        end = min(count, top + max(1, self.size.height) + 1)
        return [
            self.coordinate_to_cell_key(Coordinate(index, 0)).row_key.value or ""
            for index in range(top, end)
        ]

    # -- writing ------------------------------------------------------------------------

    def sync(self, upserts: Mapping[str, Row], removed: Iterable[str] = ()) -> None:
        """Bring the table to the model after these upserts and removals."""
        before = self.current_key
        drop = self._forget(removed)
        lazy = bool(KeyedTable._fast_internals) and len(upserts) > 1
        on_screen = set(self.visible_keys()) if lazy else set()
        for key, row in upserts.items():
            self._place(key, row, lazy and key not in on_screen, drop)
        self._settle(drop, before)

    def touch(self, keys: Iterable[str], removed: Iterable[str] = ()) -> None:
        """`sync` for a table made with `row_of`: these keys' rows may have changed.

        A changed row that is shown but off screen is only marked: its row is made when
        it scrolls into view, the filter reads it, or the order needs it. At 10k sessions
        whose counters all move each second, that is ~50 rows made per tick, not 10k.
        """
        if self._row_of is None:
            raise TypeError("touch() needs a table made with row_of")
        row_of = self._row_of
        before = self.current_key
        drop = self._forget(removed)
        fast = bool(KeyedTable._fast_internals)
        # Rows can wait only when neither the filter nor the order could change with them.
        waiting = (
            fast
            and not self.filter_text
            and self.specs[self.sort_index].fixed
            and self.specs[self.tiebreak].fixed
        )
        on_screen = set(self.visible_keys()) if fast else set()
        for key in keys:
            seen = key in on_screen
            if waiting and not seen and key in self._shown:
                self._dirty.add(key)
                self._stale.add(key)
                self._haystack.pop(key, None)
            else:
                self._place(key, row_of(key), fast and not seen, drop)
        self._settle(drop, before)

    def _forget(self, removed: Iterable[str]) -> set[str]:
        """Drop removed keys from the model; returns those that are shown."""
        drop: set[str] = set()
        for key in removed:
            self._model.pop(key, None)
            self._haystack.pop(key, None)
            self._queue.pop(key, None)
            self._unchecked.discard(key)
            self._dirty.discard(key)
            if key in self._shown:
                drop.add(key)
        return drop

    def _place(self, key: str, row: Row, off_screen: bool, drop: set[str]) -> None:
        """One row's new values: model, filter membership, cells (now, or when seen)."""
        if self._model.get(key) != row:
            self._model[key] = row
            self._haystack.pop(key, None)
        self._dirty.discard(key)
        self._unchecked.discard(key)
        if not self._matches(key):
            self._queue.pop(key, None)
            if key in self._shown:
                drop.add(key)
            return
        shown = self._shown.get(key)
        if shown is None:
            self._queue[key] = None
        elif shown != row:
            if off_screen:
                # Off screen: the cells wait until the row scrolls into view.
                self._stale.add(key)
                if any(shown[i] != row[i] for i in (self.sort_index, self.tiebreak)):
                    self._needs_sort = True
            else:
                self._update_row(key, shown, row)

    def _row(self, key: str) -> Row:
        """The key's current row, made now if it was left waiting by `touch`."""
        if key in self._dirty and self._row_of is not None:
            self._dirty.discard(key)
            row = self._row_of(key)
            if row != self._model[key]:
                self._model[key] = row
                self._haystack.pop(key, None)
            return row
        return self._model[key]

    def set_filter(self, text: str) -> None:
        """Show only rows whose displayed text contains `text` (case-insensitive)."""
        text = text.strip().lower()
        if text == self.filter_text:
            return
        before = self._cursor_wanted or self.current_key
        self._cursor_wanted = None
        # A longer filter can only match rows the shorter one matched (or has yet to check).
        narrowing = bool(self.filter_text) and self.filter_text in text
        self.filter_text = text
        candidates = [*self._shown, *self._queue] if narrowing else list(self._model)
        if text and sum(key not in self._haystack for key in candidates) > self.CHECK_CHUNK:
            # Too many rows without a search text (e.g. 10k rows whose counters all moved)
            # to check before the next frame: check them in order as they are appended.
            self._rebuild(candidates, before, checked=False)
            return
        # The matching keys first, from the cached search texts (no cell work).
        matching = [key for key in candidates if self._matches(key)]
        drop = {key for key in self._shown if not self._matches(key)}
        added = len(matching) - (len(self._shown) - len(drop))
        if len(drop) + added > self.ADD_CHUNK:
            # Many rows come or go: rebuilding in sort order, the first screenful at once
            # and the rest in chunks behind it, beats removing or appending them in place.
            self._rebuild(matching, before)
            return
        for key in [key for key in self._queue if not self._matches(key)]:
            del self._queue[key]
        self._unchecked.clear()
        for key in self._model:
            if key not in self._shown and key not in self._queue and self._matches(key):
                self._queue[key] = None
        self._settle(drop, before)

    def _rebuild(self, matching: list[str], cursor_key: str | None, checked: bool = True) -> None:
        """Empty the table and queue the matching rows, sorted; `_drain` paints the first
        chunk now and the rest after each refresh. Unless `checked`, the rows are only
        candidates, which `_drain` checks against the filter as it goes."""
        self._flush_cells()
        if KeyedTable._fast_internals:
            # `clear()` computes every row's y offset before emptying, and freeing 10k rows
            # of cells takes as long again: hand it empty containers and free the old
            # ones after the next frame is on screen.
            graveyard = (self._data, self.rows, self._shown)
            self._data, self.rows, self._shown = {}, {}, {}
            self.call_after_refresh(self._bury, graveyard)
        self.clear()
        self._shown.clear()
        self._stale.clear()
        self._needs_sort = False
        self._queue = dict.fromkeys(
            sorted(matching, key=self._model_sort_key, reverse=self.sort_reverse)
        )
        self._unchecked = set() if checked else set(self._queue)
        self._drain()
        self._restore_cursor(cursor_key)
        if cursor_key is not None and cursor_key in self._queue:
            self._cursor_wanted = cursor_key

    @staticmethod
    def _bury(graveyard: tuple[dict[Any, Any], ...]) -> None:
        for container in graveyard:
            container.clear()

    def set_sort(self, index: int, reverse: bool = False) -> None:
        old = self.sort_index
        self.sort_index, self.sort_reverse = index, reverse
        for column in {old, index}:
            self.columns[self.specs[column].key].label = self._label(column)
        self._order_queue()
        self._sort()

    def restyle(self) -> None:
        """Re-colour the cells, e.g. after a theme change."""
        if KeyedTable._fast_internals:
            # Cells are styled as they are drawn: forget the drawn ones.
            self.forget_drawn()
            self._next_generation()
            self.refresh()
            return
        styled = [index for index, spec in enumerate(self.specs) if spec.style is not None]
        for key, row in self._shown.items():
            for index in styled:
                self._write_cell(key, index, row[index])
        self._flush_cells()

    # -- internals ----------------------------------------------------------------------

    def _label(self, index: int) -> Text:
        spec = self.specs[index]
        mark = (" ▼" if self.sort_reverse else " ▲") if index == self.sort_index else "  "
        return Text(spec.label + mark, justify="right" if spec.right else "left")

    def _search_text(self, row: Row) -> str:
        texts = (spec.fmt(value) for spec, value in zip(self.specs, row, strict=True))
        return "\t".join(texts).lower()

    def _matches(self, key: str) -> bool:
        if not self.filter_text:
            return True
        haystack = self._haystack.get(key)
        if haystack is None:
            haystack = self._haystack[key] = self._search_text(self._row(key))
        return self.filter_text in haystack

    def _freshen(self, keys: Iterable[str]) -> None:
        """Write the lagging cells of these rows (those that are stale)."""
        for key in keys:
            if key in self._stale:
                self._stale.discard(key)
                self._update_row(key, self._shown[key], self._row(key))

    def render_lines(self, crop: Any) -> Any:
        if self._stale:
            self._freshen(self.visible_keys())
            if self._cells_written:
                # Already rendering: new cache generation, no further refresh.
                self._cells_written = False
                self._next_generation()
        return super().render_lines(crop)

    def get_row_at(self, row_index: int) -> list[Cell]:
        if self._stale:
            key = self.coordinate_to_cell_key(Coordinate(row_index, 0)).row_key.value
            self._freshen([key or ""])
            self._flush_cells()
        return super().get_row_at(row_index)

    def get_row(self, row_key: RowKey | str) -> list[Cell]:
        self._freshen_one(row_key)
        return super().get_row(row_key)

    def get_cell(self, row_key: RowKey | str, column_key: ColumnKey | str) -> Cell:
        self._freshen_one(row_key)
        return super().get_cell(row_key, column_key)

    def get_cell_at(self, coordinate: Coordinate) -> Cell:
        if self._stale:
            self.get_row_at(coordinate.row)
        return super().get_cell_at(coordinate)

    def _freshen_one(self, row_key: RowKey | str) -> None:
        if self._stale:
            self._freshen([row_key.value or "" if isinstance(row_key, RowKey) else row_key])
            self._flush_cells()

    def _next_generation(self) -> None:
        """Bump the DataTable's cache generation after cell-only edits, keeping its row
        offsets (rebuilding them walks every row: 10k rows, every tick)."""
        offsets = self._offset_cache.get(self._update_count)
        self._update_count += 1
        if offsets is not None:
            self._offset_cache[self._update_count] = offsets

    def _update_row(self, key: str, shown: Row, row: Row) -> None:
        for index, (old, new) in enumerate(zip(shown, row, strict=True)):
            if old != new:
                self._write_cell(key, index, new)
                if index == self.sort_index or index == self.tiebreak:
                    self._needs_sort = True
        self._shown[key] = row

    def _write_cell(self, key: str, index: int, raw: Any) -> None:
        """`update_cell` less its refresh() per call (two thirds of a 1000-row tick;
        `_flush_cells` refreshes once for the batch) and its re-measuring of the column,
        which scans every row: a column only widens, measured by the new value alone."""
        column = self.specs[index].key
        if KeyedTable._fast_internals:
            self._data[RowKey(key)][ColumnKey(column)] = raw
            self._cells_written = True
            width = cell_len(self.specs[index].fmt(raw))
            table_column = self.ordered_columns[index]
            if width > table_column.content_width:
                table_column.content_width = width
                self._require_update_dimensions = True
                self.check_idle()
        else:
            self.update_cell(key, column, self._cell(index, raw))

    def _flush_cells(self) -> None:
        if self._cells_written:
            self._cells_written = False
            self._next_generation()
            self.refresh()

    def _settle(self, drop: set[str], cursor_key: str | None) -> None:
        self._flush_cells()
        if drop:
            if cursor_key in drop:
                cursor_key = self._neighbour(drop)
            self._remove(drop)
        if len(self._queue) > self.ADD_CHUNK:
            self._order_queue()
        if self._queue:
            self._drain()
        elif self._needs_sort:
            self._sort()
        self._restore_cursor(cursor_key)

    def _neighbour(self, drop: set[str]) -> str | None:
        """The row the cursor should move to when its own row goes: the next that stays."""
        row = self.cursor_row
        for index in chain(range(row + 1, self.row_count), range(row - 1, -1, -1)):
            key = self.coordinate_to_cell_key(Coordinate(index, 0)).row_key.value
            if key not in drop:
                return key
        return None

    def _order_queue(self) -> None:
        if self._queue:
            self._queue = dict.fromkeys(
                sorted(self._queue, key=self._model_sort_key, reverse=self.sort_reverse)
            )

    def _model_sort_key(self, key: str) -> tuple[Any, Any]:
        fixed = self.specs[self.sort_index].fixed and self.specs[self.tiebreak].fixed
        # Fixed columns read right from a waiting row: no need to make 10k rows to sort.
        row = self._model[key] if fixed else self._row(key)
        return (row[self.sort_index], row[self.tiebreak])

    def _drain(self) -> None:
        """Append one chunk of queued rows; the next chunk follows the next refresh."""
        if not self._queue:
            return
        width = len(self.specs)
        keys = self._take(self.ADD_CHUNK if self.row_count else self.FIRST_CHUNK)
        if not keys:
            pass
        elif KeyedTable._fast_internals:
            self._append_bulk(keys)
        else:
            for key in keys:
                row = self._row(key)
                self.add_row(*(self._cell(i, row[i]) for i in range(width)), key=key)
                self._shown[key] = row
        self._needs_sort = True
        if self._queue and not self._drain_scheduled:
            self._drain_scheduled = True
            self.call_after_refresh(self._drain_step)
            self.refresh()
        elif not self._queue:
            self._sort()

    def _take(self, chunk: int) -> list[str]:
        """Up to `chunk` rows off the front of the queue, checking unchecked ones against
        the filter (at most CHECK_CHUNK of them, so that a step stays short)."""
        keys: list[str] = []
        taken = checks = 0
        unchecked = self._unchecked
        for key in self._queue:
            if len(keys) >= chunk or checks >= self.CHECK_CHUNK:
                break
            taken += 1
            if key in unchecked:
                checks += 1
                if not self._matches(key):
                    continue
            keys.append(key)
        for key in list(islice(self._queue, taken)):
            del self._queue[key]
            unchecked.discard(key)
        return keys

    def _drain_step(self) -> None:
        self._drain_scheduled = False
        before = self.current_key
        wanted = self._cursor_wanted
        if wanted is not None and (wanted in self._shown or wanted in self._queue):
            before = wanted
        self._drain()
        if wanted is not None and wanted not in self._queue:
            self._cursor_wanted = None
        self._restore_cursor(before)
        if not self._queue:
            self.post_message(self.Loaded(self))

    def _sort(self) -> None:
        self._needs_sort = False
        if self._queue or not self.row_count:
            return
        if KeyedTable._fast_internals:
            # By the model, which stale rows' cells lag behind; as `DataTable.sort` does.
            ordered = sorted(self._shown, key=self._model_sort_key, reverse=self.sort_reverse)
            locations = type(self._row_locations)
            self._row_locations = locations({RowKey(key): i for i, key in enumerate(ordered)})
            self._update_count += 1
            self.refresh()
            return
        index, tiebreak = self.sort_index, self.tiebreak

        def order(cells: tuple[Cell, ...]) -> tuple[Any, Any]:
            return (cells[index].raw, cells[tiebreak].raw)

        self.sort(key=order, reverse=self.sort_reverse)

    def _restore_cursor(self, key: str | None) -> None:
        if key is None or key not in self._shown:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False)

    def _remove(self, keys: set[str]) -> None:
        for key in keys:
            del self._shown[key]
            self._stale.discard(key)
        if len(keys) == 1 or not KeyedTable._fast_internals:
            for key in keys:
                self.remove_row(key)
            return
        self._remove_bulk({RowKey(key) for key in keys})

    def _append_bulk(self, keys: list[str]) -> None:
        """`add_row` for many rows, less its per-row bookkeeping and, above all, the
        measuring of every new cell on the next idle (`_update_dimensions` renders each
        cell to learn its width: two thirds of appending 1000 rows). A `Cell` is one
        unwrapped line, so its width is its `cell_len`, kept per column here.

        It mirrors `DataTable.add_row` field for field (tests cover it)."""
        columns = self.ordered_columns
        widths = [column.content_width for column in columns]
        locations, data, rows = self._row_locations, self._data, self.rows
        was_empty = self.row_count == 0
        index = self.row_count
        formats = [spec.fmt for spec in self.specs]
        for key in keys:
            row = self._row(key)
            row_key = RowKey(key)
            locations[row_key] = index
            index += 1
            data[row_key] = {column.key: value for column, value in zip(columns, row, strict=True)}
            rows[row_key] = _TableRow(row_key, 1, None, False)
            for i, value in enumerate(row):
                width = cell_len(formats[i](value))
                if width > widths[i]:
                    widths[i] = width
            self._shown[key] = row
            self._stale.discard(key)
        for column, width in zip(columns, widths, strict=True):
            column.content_width = width
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and keys and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()
        self.refresh()

    def _remove_bulk(self, gone: set[RowKey]) -> None:
        """`remove_row` renumbers every row, O(n) per call; this renumbers once.

        It mirrors `DataTable.remove_row` field for field (tests cover it, so a Textual
        upgrade that changes those internals fails loudly, not subtly).
        """
        locations = self._row_locations
        survivors = [
            key
            for key in (locations.get_key(index) for index in range(self.row_count))
            if key is not None and key not in gone
        ]
        self._row_locations = type(locations)({key: i for i, key in enumerate(survivors)})
        for key in gone:
            for column_key in self._data.pop(key, {}):
                self._updated_cells.discard(CellKey(key, column_key))
            self.rows.pop(key, None)
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.check_idle()
        self.refresh(layout=True)
