"""A table kept in step with a keyed model by small edits, never by a rebuild.

Each refresh hands the table the rows that changed (raw values, one tuple per row) and
the keys that went away. The table then removes vanished rows (renumbering once, however
many went), rewrites only the rows whose raw values changed (measuring only the changed
cells: a column widens to a wider value and never narrows, so it is never rescanned), and
appends new rows, in chunks between screen refreshes so that a first load of 10k rows
paints at once and fills in behind. Filtering and sorting work on the raw values, so a
number sorts as a number.

It is a `CellTable` (tui.widgets.cells): a ScrollView on Textual's Line API that draws
rows from raw values, so only what is on screen is ever formatted.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence, Set
from itertools import chain, islice
from typing import Any, ClassVar

from rich.text import Text
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip

from tui.format import NUMBER_ALPHABET
from tui.widgets.cells import Cell, CellTable, ColumnSpec, Row

#: The model's row of a key whose row has not been made yet (it is in `_dirty`).
_UNMADE: Row = ()


class KeyedTable(CellTable):
    """Rows keyed by the model's ids; see the module docstring for the update rules."""

    class Loaded(Message):
        """A load or filter that took several steps is all in: counts are final."""

        def __init__(self, table: KeyedTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> KeyedTable:
            return self.table

    #: Rows appended per step of a large load; each step is followed by a screen refresh.
    #: The first step into an empty table is small, so that a screenful paints at once.
    FIRST_CHUNK: ClassVar[int] = 200
    ADD_CHUNK: ClassVar[int] = 1000
    #: Rows whose search text must be made that a filter change checks at once; beyond
    #: this, rows are checked as they are appended, this many per step (see `_drain`).
    CHECK_CHUNK: ClassVar[int] = 2000
    #: How many more rows a step checks when the filter reads only the text columns.
    TEXT_CHECKS: ClassVar[int] = 8

    def __init__(
        self,
        columns: Sequence[ColumnSpec],
        *,
        sort_column: int = 0,
        tiebreak: int = 0,
        row_of: Callable[[str], Row] | None = None,
        static_of: Callable[[str], Row] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(columns, id=id, zebra_stripes=True)
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
        #: Model keys taken out of `_dirty` since a change set marked every row (None:
        #: none has yet): the next one marks these again, not the 100k others anew.
        self._cleaned: set[str] | None = None
        #: Search text per key, made when a filter first needs it (dropped on change).
        self._haystack: dict[str, str] = {}
        #: The values of the columns that are not `volatile`, per key, without making
        #: the row: a filter that cannot match a volatile column checks only these.
        self._static_of = static_of
        self._static_columns = [i for i, spec in enumerate(columns) if not spec.volatile]
        #: Where each of those columns is in a `static_of` tuple.
        self._static_index = {column: i for i, column in enumerate(self._static_columns)}
        #: Their search text per key, beside the values it was made from (checked on use,
        #: so a change set moving every counter leaves it valid).
        self._static_hay: dict[str, tuple[Row, str]] = {}
        #: The filter can only match text columns (it has a character no number has).
        self._text_filter = False
        #: Shown rows whose cells lag behind the model because they were off screen when
        #: it changed: written when they come into view (or are read).
        self._stale: set[str] = set()
        #: Shown keys taken out of `_stale` since a change set marked every row (None:
        #: none has yet), for the next one to mark again (see `_cleaned`).
        self._freshened: set[str] | None = None
        #: Rows known to match, waiting to be appended (after the search list's).
        self._queue: dict[str, None] = {}
        #: Candidates not yet checked against the filter, in order, from `_search_at` on:
        #: `_drain` checks them before the queue. A list and a position, not a dict and a
        #: set: a keystroke over 100k rows made both (~30 ms) only to empty them again.
        #: Entries go stale (removed, placed, appended meanwhile) and are skipped when met.
        self._search: list[str] = []
        self._search_at = 0
        self._needs_sort = False
        #: The shown rows, then the queue, are in sort order (after a rebuild or a sort,
        #: until a row is queued at the end or a sort value moves): a filter can then
        #: take its candidates as they stand, without sorting 100k keys per keystroke.
        self._in_order = True
        #: The queue is in sort order (a key queued at its end may not be): a large one
        #: is sorted only then, not on every touch while a first load drains.
        self._queue_sorted = True
        self._drain_scheduled = False
        #: A rebuild's cursor row that is still queued: the drain moves to it when it lands.
        self._cursor_wanted: str | None = None
        for index in range(len(self.specs)):
            self._set_label(index, self._label(index))

    # -- reading ------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Rows in the model, filtered or not."""
        return len(self._model)

    @property
    def shown(self) -> int:
        """Rows known to match the filter, including those still waiting to be appended
        (a lower bound while `searching`)."""
        return len(self._shown) + len(self._queue)

    @property
    def pending(self) -> int:
        """Rows still waiting to be appended (or to be checked against the filter)."""
        return len(self._queue) + self.searching

    @property
    def searching(self) -> int:
        """Rows the filter has yet to check (at most: some may have gone meanwhile)."""
        return len(self._search) - self._search_at

    def raw(self, key: str) -> Row | None:
        return self._row(key) if key in self._model else None

    def model_keys(self) -> Iterable[str]:
        """Every key in the model, shown or filtered out."""
        return self._model.keys()

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor."""
        return self._order[self.cursor_row] if self._order else None

    def visible_keys(self) -> list[str]:
        """Keys of the rows on screen: time-derived cells are refreshed only for these."""
        top = max(0, int(self.scroll_y))
        return self._order[top : top + max(1, self.size.height) + 1]

    def get_row(self, key: str) -> list[Cell]:
        self._freshen([key])
        return super().get_row(key)

    def get_cell(self, key: str, column: str) -> Cell:
        self._freshen([key])
        return super().get_cell(key, column)

    # -- writing ------------------------------------------------------------------------

    def sync(self, upserts: Mapping[str, Row], removed: Iterable[str] = ()) -> None:
        """Bring the table to the model after these upserts and removals."""
        before = self.current_key
        drop = self._forget(removed)
        lazy = len(upserts) > 1
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
        waiting = self._can_wait()
        # A new key's row can wait too when the order reads only text columns, which
        # `static_of` gives without making the row: a first load of 100k sessions then
        # makes the first screenful's rows, and the rest as they are appended.
        new_wait = waiting and self._sorts_static()
        model, queue = self._model, self._queue
        on_screen = set(self.visible_keys())
        for key in keys:
            seen = key in on_screen
            if waiting and not seen and key in self._shown:
                self._dirty.add(key)
                self._stale.add(key)
                self._haystack.pop(key, None)
            elif new_wait and key not in model:
                model[key] = _UNMADE
                self._dirty.add(key)
                queue[key] = None
                self._in_order = self._queue_sorted = False
            else:
                self._place(key, row_of(key), not seen, drop)
        self._settle(drop, before)

    def mark_changed(self, keys: Collection[str]) -> bool:
        """`touch` in bulk, for a change set that moves most rows (every session's
        counters at 100k sessions): when neither the filter nor the order can change with
        them, the rows are marked at C speed (set updates, no per-key Python) and made
        when drawn or read. Returns False, marking nothing, when they cannot wait: the
        caller then touches them one by one."""
        if self._row_of is None or not self._can_wait():
            return False
        model = self._model
        keys = keys if isinstance(keys, Set) else set(keys)
        if len(keys) > len(model) // 2:
            # Most rows: mark them all (a row marked without need is made again and found
            # equal, which costs less than finding out which ones to leave alone).
            cleaned = self._cleaned
            if cleaned is None:
                self._dirty = set(model)
            else:
                self._dirty |= cleaned  # every other key is dirty still (or gone)
            self._cleaned = set()
            freshened = self._freshened
            if freshened is None:
                self._stale = set(self._shown)
            else:
                self._stale |= freshened  # every other shown key is stale still
            self._freshened = set()
            self._haystack.clear()
            return True
        fresh = keys & model.keys()
        self._dirty.update(fresh)
        for key in fresh:
            self._haystack.pop(key, None)
        self._stale.update(self._shown.keys() & fresh)
        return True

    def _sorts_static(self) -> bool:
        """Whether the order reads only columns `static_of` gives."""
        index = self._static_index
        return self._static_of is not None and self.sort_index in index and self.tiebreak in index

    def _can_wait(self) -> bool:
        """Rows can wait only when neither the filter nor the order could change with them."""
        return (
            not self.filter_text
            and self.specs[self.sort_index].fixed
            and self.specs[self.tiebreak].fixed
        )

    def _forget(self, removed: Iterable[str]) -> set[str]:
        """Drop removed keys from the model; returns those that are shown."""
        drop: set[str] = set()
        for key in removed:
            self._model.pop(key, None)
            self._haystack.pop(key, None)
            self._static_hay.pop(key, None)
            self._queue.pop(key, None)
            self._dirty.discard(key)
            if self._cleaned is not None:
                self._cleaned.discard(key)
            if key in self._shown:
                drop.add(key)
        return drop

    def _place(self, key: str, row: Row, off_screen: bool, drop: set[str]) -> None:
        """One row's new values: model, filter membership, cells (now, or when seen)."""
        if self._model.get(key) != row:
            self._model[key] = row
            self._haystack.pop(key, None)
        self._clean(key)
        if not self._matches(key):
            self._queue.pop(key, None)
            if key in self._shown:
                drop.add(key)
            return
        shown = self._shown.get(key)
        if shown is None:
            if key not in self._queue:
                self._queue[key] = None
                self._in_order = self._queue_sorted = False
        elif shown != row:
            if off_screen:
                # Off screen: the cells wait until the row scrolls into view.
                self._stale.add(key)
                if any(shown[i] != row[i] for i in (self.sort_index, self.tiebreak)):
                    self._needs_sort = True
                    self._in_order = False
            else:
                self._update_row(key, shown, row)

    def _row(self, key: str) -> Row:
        """The key's current row, made now if it was left waiting by `touch`."""
        if key in self._dirty and self._row_of is not None:
            self._clean(key)
            row = self._row_of(key)
            if row != self._model[key]:
                self._model[key] = row
                self._haystack.pop(key, None)
            return row
        return self._model[key]

    def _clean(self, key: str) -> None:
        """The key's model row is current."""
        self._dirty.discard(key)
        if self._cleaned is not None:
            self._cleaned.add(key)

    def set_filter(self, text: str) -> None:
        """Show only rows whose displayed text contains `text` (case-insensitive)."""
        text = text.strip().lower()
        if text == self.filter_text:
            return
        before = self._cursor_wanted or self.current_key
        self._cursor_wanted = None
        # A longer filter can only match rows the shorter one matched (or has yet to check);
        # with no filter before, every row is shown or queued. Either way the candidates
        # are already in order (shown in table order, then the sorted queue): no sort.
        narrowing = bool(self.filter_text) and self.filter_text in text
        in_order = (narrowing or not self.filter_text) and self._in_order
        self.filter_text = text
        self._text_filter = self._static_of is not None and not set(text) <= NUMBER_ALPHABET
        searched = not self.searching
        if narrowing or in_order:
            unchecked = islice(self._search, self._search_at, None)
            candidates = [*self._order, *unchecked, *self._queue]
        else:
            candidates = list(self._model)
        if text and self._unsearched(candidates) > self.CHECK_CHUNK:
            # Too many rows without a search text (e.g. 10k rows whose counters all moved)
            # to check before the next frame: check them in order as they are appended.
            self._rebuild(candidates, before, checked=False, in_order=in_order)
            return
        # The matching keys first, from the cached search texts (no cell work); the
        # search list's may have gone, or be shown or queued too.
        model = self._model
        matching = [key for key in candidates if key in model and self._matches(key)]
        if not searched:
            matching = list(dict.fromkeys(matching))
        drop = {key for key in self._shown if not self._matches(key)}
        added = len(matching) - (len(self._shown) - len(drop))
        if len(drop) + added > self.ADD_CHUNK:
            # Many rows come or go: rebuilding in sort order, the first screenful at once
            # and the rest in chunks behind it, beats removing or appending them in place.
            self._rebuild(matching, before)
            return
        for key in [key for key in self._queue if not self._matches(key)]:
            del self._queue[key]
        complete = searched
        self._search, self._search_at = [], 0
        if not (narrowing and complete):
            # A wider filter (or one that follows an unfinished search) may match rows
            # not shown: look through the model. A narrower one after a complete search
            # cannot, and skipping this spares a check of every row per keystroke.
            for key in self._model:
                if key not in self._shown and key not in self._queue and self._matches(key):
                    self._queue[key] = None
                    self._queue_sorted = False
        self._settle(drop, before)

    def _unsearched(self, candidates: list[str]) -> int:
        """How many candidates have no search text (at least; exact when few)."""
        if self._text_filter:
            # checked from the text columns' values: cheap, but still one call per row
            return len(candidates) // self.TEXT_CHECKS
        missing = len(candidates) - len(self._haystack)
        if missing > self.CHECK_CHUNK:
            return missing  # more than a step's worth whichever they are: no need to count
        return sum(key not in self._haystack for key in candidates)

    def _rebuild(
        self,
        matching: list[str],
        cursor_key: str | None,
        checked: bool = True,
        in_order: bool = False,
    ) -> None:
        """Empty the table and queue the matching rows, sorted (unless `in_order` says
        they are); `_drain` paints the first chunk now and the rest after each refresh.
        Unless `checked`, the rows are only candidates, which `_drain` checks against the
        filter as it goes."""
        self._clear_rows()
        self._stale.clear()
        if self._freshened is not None:
            self._freshened.clear()
        self._needs_sort = False
        if not in_order:
            model = self._model
            matching = sorted(
                (key for key in matching if key in model),
                key=self._model_sort_key,
                reverse=self.sort_reverse,
            )
        self._in_order = self._queue_sorted = True
        if checked:
            self._queue, self._search = dict.fromkeys(matching), []
        else:
            self._queue, self._search = {}, matching
        self._search_at = 0
        self._drain()
        self._restore_cursor(cursor_key)
        if cursor_key is not None and self._waiting(cursor_key):
            self._cursor_wanted = cursor_key

    def set_sort(self, index: int, reverse: bool = False) -> None:
        old = self.sort_index
        self.sort_index, self.sort_reverse = index, reverse
        for column in {old, index}:
            self._set_label(column, self._label(column))
        self._in_order = self._queue_sorted = False
        self._order_queue()
        self._sort()

    def restyle(self) -> None:
        """Re-colour the cells, e.g. after a theme change (cells are styled as drawn)."""
        self.forget_drawn()
        self.refresh()

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
        if self._text_filter:
            assert self._static_of is not None
            values = self._static_of(key)
            cached = self._static_hay.get(key)
            if cached is not None and cached[0] == values:
                return self.filter_text in cached[1]
            specs = self.specs
            text = "\t".join(
                specs[i].fmt(value) for i, value in zip(self._static_columns, values, strict=True)
            ).lower()
            self._static_hay[key] = (values, text)
            return self.filter_text in text
        haystack = self._haystack.get(key)
        if haystack is None:
            haystack = self._haystack[key] = self._search_text(self._row(key))
        return self.filter_text in haystack

    def _freshen(self, keys: Iterable[str]) -> None:
        """Write the lagging cells of these rows (those that are stale)."""
        if not self._stale:
            return
        for key in keys:
            if key in self._stale:
                self._stale.discard(key)
                if self._freshened is not None:
                    self._freshened.add(key)
                self._update_row(key, self._shown[key], self._row(key))

    def render_lines(self, crop: Region) -> list[Strip]:
        # Rows that changed while off screen are written as they come into view.
        self._freshen(self.visible_keys())
        return super().render_lines(crop)

    def _update_row(self, key: str, shown: Row, row: Row) -> None:
        changed = [i for i, (old, new) in enumerate(zip(shown, row, strict=True)) if old != new]
        self._write_row(key, row, changed)
        if self.sort_index in changed or self.tiebreak in changed:
            self._needs_sort = True
            self._in_order = False

    def _settle(self, drop: set[str], cursor_key: str | None) -> None:
        if drop:
            if cursor_key in drop:
                cursor_key = self._neighbour(drop)
            self._remove(drop)
        if len(self._queue) > (self.ADD_CHUNK if self.row_count else self.FIRST_CHUNK):
            # Appended over several steps: in order from the first, so that what shows
            # meanwhile is the head of the table, and the final sort moves no row (nor
            # the cursor with it: keys often come in a set's arbitrary order).
            self._order_queue()
        if self.pending:
            self._drain()
        elif self._needs_sort:
            self._sort()
        self._restore_cursor(cursor_key)

    def _neighbour(self, drop: set[str]) -> str | None:
        """The row the cursor should move to when its own row goes: the next that stays."""
        row = self.cursor_row
        order = self._order
        for index in chain(range(row + 1, len(order)), range(row - 1, -1, -1)):
            if order[index] not in drop:
                return order[index]
        return None

    def _order_queue(self) -> None:
        if self._queue and not self._queue_sorted:
            self._queue = dict.fromkeys(
                sorted(self._queue, key=self._model_sort_key, reverse=self.sort_reverse)
            )
        self._queue_sorted = True

    def _model_sort_key(self, key: str) -> Any:
        """The key's place in the order: its sort value, then its tiebreak's (the value
        alone when they are one column: a pair compares each value twice)."""
        sort, tiebreak = self.sort_index, self.tiebreak
        fixed = self.specs[sort].fixed and self.specs[tiebreak].fixed
        # Fixed columns read right from a waiting row: no need to make 10k rows to sort.
        row = self._model[key] if fixed else self._row(key)
        if row is _UNMADE:
            if not self._sorts_static():
                row = self._row(key)
            else:
                assert self._static_of is not None
                values, index = self._static_of(key), self._static_index
                if sort == tiebreak:
                    return values[index[sort]]
                return (values[index[sort]], values[index[tiebreak]])
        return row[sort] if sort == tiebreak else (row[sort], row[tiebreak])

    def _drain(self) -> None:
        """Append one chunk of queued rows; the next chunk follows the next refresh."""
        if not self.pending:
            return
        keys = self._take(self.ADD_CHUNK if self.row_count else self.FIRST_CHUNK)
        if keys:
            self._append(self._appended(keys))
        self._needs_sort = True
        if self.pending and not self._drain_scheduled:
            self._drain_scheduled = True
            self.call_after_refresh(self._drain_step)
            # The header line keeps the screen's refresh cycle going: a step whose rows
            # land below the window (or that found no match) changes nothing on screen,
            # and repainting the whole table for each step was most of a search's cost.
            self.refresh_line(0)
        elif not self.pending:
            self._sort()

    def _appended(self, keys: list[str]) -> list[tuple[str, Row]]:
        """The rows to append for these keys. Ordered by fixed columns, a row marked
        changed goes in as it was, stale, and is made when drawn or read: a search that
        matched 100k rows whose counters all moved made each of them as it appended it,
        ~15 ms a step, for rows nobody looks at."""
        model, dirty, stale, freshened = self._model, self._dirty, self._stale, self._freshened
        wait = self.specs[self.sort_index].fixed and self.specs[self.tiebreak].fixed
        rows = []
        for key in keys:
            row = model[key]
            if wait and row is not _UNMADE and key in dirty:
                stale.add(key)
            else:
                row = self._row(key)
                stale.discard(key)
                if freshened is not None:
                    freshened.add(key)
            rows.append((key, row))
        return rows

    def _take(self, chunk: int) -> list[str]:
        """Up to `chunk` rows off the front of the search list, then of the queue,
        checking the search list's against the filter (at most CHECK_CHUNK of them, so
        that a step stays short)."""
        keys: list[str] = []
        search, at = self._search, self._search_at
        if at < len(search):
            checks = 0
            budget = self.CHECK_CHUNK * (self.TEXT_CHECKS if self._text_filter else 1)
            shown, queue, model, matches = self._shown, self._queue, self._model, self._matches
            end = len(search)
            while at < end and len(keys) < chunk and checks < budget:
                key = search[at]
                at += 1
                if key in shown or key in queue or key not in model:
                    continue  # gone, or placed meanwhile
                checks += 1
                if matches(key):
                    keys.append(key)
            if at < end:
                self._search_at = at
                return keys
            self._search, self._search_at = [], 0
        if len(keys) < chunk and self._queue:
            taken = list(islice(self._queue, chunk - len(keys)))
            for key in taken:
                del self._queue[key]
            keys.extend(taken)
        return keys

    def _waiting(self, key: str) -> bool:
        """Whether the key may yet be appended: queued, or (perhaps) in the search list."""
        return key in self._queue or (
            bool(self.searching) and key in self._model and key not in self._shown
        )

    def _drain_step(self) -> None:
        self._drain_scheduled = False
        if not self.is_attached:
            return  # unmounted while a step was scheduled (e.g. the app is exiting)
        before = self.current_key
        wanted = self._cursor_wanted
        if wanted is not None and (wanted in self._shown or self._waiting(wanted)):
            before = wanted
        self._drain()
        if wanted is not None and not self._waiting(wanted):
            self._cursor_wanted = None
        self._restore_cursor(before)
        if not self.pending:
            self.post_message(self.Loaded(self))

    def _sort(self) -> None:
        self._needs_sort = False
        if self.pending or not self.row_count:
            return
        # By the model, which stale rows' cells lag behind; stable, as `sorted` is.
        self._reorder(sorted(self._shown, key=self._model_sort_key, reverse=self.sort_reverse))
        self._in_order = True

    def _restore_cursor(self, key: str | None) -> None:
        if key is None or key not in self._shown:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False)

    def _remove(self, keys: set[str]) -> None:
        self._stale.difference_update(keys)
        if self._freshened is not None:
            self._freshened.difference_update(keys)
        self._remove_rows(keys)
