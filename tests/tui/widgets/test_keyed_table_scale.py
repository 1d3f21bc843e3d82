"""KeyedTable's work per load, keystroke and step stays bounded by what is on screen:
a first load makes the first screenful's rows, a search step repaints no row it did
not change, and a filter narrowed key by key ends where a filter typed at once does."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.strip import Strip

from tui.widgets.cells import CellTable, ColumnSpec, Row
from tui.widgets.keyed_table import KeyedTable

ROWS = 3000


class CountingApp(App[None]):
    """Rows ordered by a fixed text column that `static_of` gives; rows count as made."""

    def __init__(self, records: dict[str, tuple[str, int]]) -> None:
        super().__init__()
        self.records = records
        self.made: list[str] = []
        self.table = KeyedTable(
            [
                ColumnSpec("name", "NAME", fixed=True),
                ColumnSpec("n", "N", lambda v: f"{v} kb", right=True, volatile=True),
            ],
            row_of=self.row_of,
            static_of=lambda key: (self.records[key][0],),
        )

    def row_of(self, key: str) -> Row:
        self.made.append(key)
        return self.records[key]

    def compose(self) -> ComposeResult:
        yield self.table


def records(count: int = ROWS) -> dict[str, tuple[str, int]]:
    # Keys in reverse name order, so that the table's order is its own work.
    return {f"k{i}": (f"branch {i:04d}", i) for i in reversed(range(count))}


def order(table: KeyedTable) -> list[str]:
    return [table.key_at(i) for i in range(table.row_count)]


async def settle(pilot: Any, table: KeyedTable) -> None:
    await pilot.pause()
    while table.pending:
        await pilot.pause()
    await pilot.pause()


def by_name(rows: dict[str, tuple[str, int]], text: str = "") -> list[str]:
    return sorted((k for k, (name, _) in rows.items() if text in name), key=lambda k: rows[k][0])


async def test_a_first_load_makes_the_first_screenfuls_rows_and_the_rest_as_appended() -> None:
    rows = records()
    app = CountingApp(rows)
    async with app.run_test() as pilot:
        table = app.table
        table.touch(list(rows))
        # Ordered by the static column: no row was made to find the first screenful.
        assert len(app.made) <= KeyedTable.FIRST_CHUNK
        assert order(table)[:3] == ["k0", "k1", "k2"]
        await settle(pilot, table)
        assert order(table) == by_name(rows)
        assert sorted(app.made) == sorted(rows)  # each made once, as it was appended
        assert table.raw("k7") == ("branch 0007", 7)


async def test_touches_while_a_load_drains_do_not_sort_the_queue_again(monkeypatch: Any) -> None:
    rows = records()
    app = CountingApp(rows)
    calls = 0
    sort_key = KeyedTable._model_sort_key

    def counting(self: KeyedTable, key: str) -> Any:
        nonlocal calls
        calls += 1
        return sort_key(self, key)

    monkeypatch.setattr(KeyedTable, "_model_sort_key", counting)
    async with app.run_test() as pilot:
        table = app.table
        table.touch(list(rows))
        assert table.pending
        calls = 0
        table.touch(table.visible_keys())  # a tick while the load drains
        assert calls < 100
        await settle(pilot, table)
        assert order(table) == by_name(rows)


async def test_a_search_step_repaints_no_row_it_did_not_change(monkeypatch: Any) -> None:
    monkeypatch.setattr(KeyedTable, "CHECK_CHUNK", 5)  # 40 checks a step: 75 steps
    rows = records()
    app = CountingApp(rows)
    painted: list[int] = []
    render_line, drain_step = CellTable.render_line, KeyedTable._drain_step
    steps = 0

    def counting(self: CellTable, y: int) -> Strip:
        if self.searching and y > 0:
            painted.append(y)
        return render_line(self, y)

    def step(self: KeyedTable) -> None:
        nonlocal steps
        steps += 1
        drain_step(self)

    monkeypatch.setattr(CellTable, "render_line", counting)
    monkeypatch.setattr(KeyedTable, "_drain_step", step)
    async with app.run_test() as pilot:
        table = app.table
        table.touch(list(rows))
        await settle(pilot, table)
        painted.clear()
        steps = 0
        table.set_filter("branch")  # every row: the first step fills the screen
        while table.searching:
            await pilot.pause()
        assert steps > 20
        # The table is drawn once after the rebuild; the later steps append below the
        # window and repaint the header, not each line on screen again.
        assert len(painted) < 2 * table.size.height
        await settle(pilot, table)
        # ...and the scrollbar followed the rows appended below the window.
        assert table.vertical_scrollbar.window_virtual_size == ROWS + 1
        await settle(pilot, table)
        assert order(table) == by_name(rows)


async def test_a_filter_narrowed_key_by_key_ends_where_one_typed_at_once_does(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(KeyedTable, "CHECK_CHUNK", 60)  # each key lands mid-search
    rows = records()
    app = CountingApp(rows)
    async with app.run_test() as pilot:
        table = app.table
        table.touch(list(rows))
        await settle(pilot, table)
        text = "branch 01"
        midway = 0
        for index in range(1, len(text) + 1):
            midway += bool(table.searching)  # this key comes before the search is done
            table.set_filter(text[:index])
            if index % 3 == 0:
                await pilot.pause()
        assert midway >= 3
        # Rows come and go meanwhile: a match removed, one added, one renamed away.
        del rows["k105"]
        rows["k9999"] = ("branch 0199x", 1)
        rows["k110"] = ("renamed", 110)
        table.touch(["k9999", "k110"], removed=["k105"])
        await settle(pilot, table)
        narrowed = order(table)
        assert narrowed == by_name(rows, text)
        assert "k9999" in narrowed and "k105" not in narrowed and "k110" not in narrowed
        # The same rows as a filter set at once on a table that never had another.
        fresh = CountingApp(dict(rows))
        async with fresh.run_test() as other:
            fresh.table.touch(list(rows))
            fresh.table.set_filter(text)
            await settle(other, fresh.table)
            assert order(fresh.table) == narrowed
        table.set_filter("")
        await settle(pilot, table)
        assert order(table) == by_name(rows)


async def test_each_bulk_mark_leaves_every_row_to_be_made_again() -> None:
    """A change set moving every row marks them all; the next one re-marks only the
    rows made since (the others still wait), and each read sees its latest values."""
    rows = records(500)
    app = CountingApp(rows)
    async with app.run_test() as pilot:
        table = app.table
        table.touch(list(rows))
        await settle(pilot, table)
        for tick in (1, 2, 3):
            for key, (name, _) in list(rows.items()):
                rows[key] = (name, 1000 * tick)
            if tick == 2:
                rows["k900"] = ("branch 0900", 0)  # a new row between two marks
                table.touch(["k900"])
            assert table.mark_changed(set(rows))
            app.made.clear()
            assert table.raw("k250") == ("branch 0250", 1000 * tick)
            assert table.raw("k7") == ("branch 0007", 1000 * tick)
            assert "k250" in app.made and "k7" in app.made
            # and its cells, drawn or read, lag no more than its row
            assert table.get_cell("k250", "n").plain == f"{1000 * tick} kb"
            await settle(pilot, table)
        assert table.raw("k900") == ("branch 0900", 3000)
        assert table.get_cell("k0", "n").plain == "3000 kb"


async def test_a_search_over_moved_rows_makes_only_those_drawn_or_read() -> None:
    rows = records()
    app = CountingApp(rows)
    async with app.run_test() as pilot:
        table = app.table
        table.touch(list(rows))
        await settle(pilot, table)
        for key, (name, n) in list(rows.items()):
            rows[key] = (name, n + 1)
        assert table.mark_changed(set(rows))  # every counter moved
        app.made.clear()
        table.set_filter("branch 1")  # k1000..k1999, matched by their names alone
        await settle(pilot, table)
        assert order(table) == by_name(rows, "branch 1")
        # Appended as they were and made when drawn: the screenful, not the thousand.
        assert len(app.made) <= table.size.height + 1
        assert table.get_cell("k1999", "n").plain == "2000 kb"  # read: made then
        table.set_filter("")
        await settle(pilot, table)
        assert table.get_cell("k5", "n").plain == "6 kb"
