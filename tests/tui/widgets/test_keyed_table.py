"""KeyedTable: the incremental table under every console screen."""

from __future__ import annotations

from netutil import until
from textual.app import App, ComposeResult

from tui.widgets.cells import ColumnSpec, Row
from tui.widgets.keyed_table import KeyedTable


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.table = KeyedTable(
            [ColumnSpec("name", "NAME"), ColumnSpec("n", "N", lambda v: f"{v} u", right=True)],
            sort_column=1,
        )

    def compose(self) -> ComposeResult:
        yield self.table


def rows(count: int, offset: int = 0) -> dict[str, Row]:
    return {f"k{i}": (f"row {i}", i + offset) for i in range(count)}


def order(table: KeyedTable) -> list[str]:
    return [table.key_at(i) for i in range(table.row_count)]


async def test_removals_keep_keys_rows_and_cursor_consistent() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.table
        table.sync(rows(50))
        await pilot.pause()
        table.move_cursor(row=30)
        assert table.current_key == "k30"
        gone = [f"k{i}" for i in range(0, 50, 3)]
        table.sync({}, gone)
        await pilot.pause()
        survivors = [f"k{i}" for i in range(50) if i % 3]
        assert order(table) == survivors
        assert table.current_key == "k31"  # k30 went; the cursor stays at its position
        for key in survivors:
            assert table.get_row(key)[0].plain == f"row {key[1:]}"
        table.sync({"k1": ("row 1", 99)})
        assert order(table)[-1] == "k1" and table.get_cell("k1", "n").plain == "99 u"


async def test_large_load_arrives_in_chunks_and_ends_sorted() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.table
        data = {f"k{i}": (f"row {i}", (i * 7919) % 2500) for i in range(2500)}
        table.sync(data)
        assert table.row_count == KeyedTable.FIRST_CHUNK and table.pending
        await until(lambda: not table.pending)
        await pilot.pause()
        values = [table.raw(key)[1] for key in order(table)]
        assert values == sorted(values) and len(values) == 2500


async def test_filter_and_sort_work_on_what_is_shown() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.table
        table.sync(rows(30))
        await pilot.pause()
        table.set_filter("ROW 2")  # row 2, row 20-29
        assert sorted(order(table)) == sorted(["k2", *[f"k{i}" for i in range(20, 30)]])
        assert table.shown == 11 and table.total == 30
        table.set_sort(1, reverse=True)
        assert order(table)[0] == "k29"
        table.sync({"k5": ("row 25 now", 5)})  # starts matching
        assert order(table)[-2:] == ["k5", "k2"]
        table.set_filter("")
        await until(lambda: not table.pending)
        assert table.row_count == 30 and order(table)[0] == "k29"


async def test_a_load_in_several_steps_shows_the_head_first_and_keeps_the_cursor_at_top() -> None:
    """Keys in arbitrary order (a set's) and more than one step's worth: the first step is
    already the head of the sorted table, so the last step's sort moves no row, and the
    cursor, on the first row, neither jumps nor scrolls the view away."""
    app = TableApp()
    async with app.run_test(size=(80, 20)) as pilot:
        table = app.table
        data = {f"k{i}": (f"row {i}", i) for i in range(600)}
        shuffled = {f"k{i * 7 % 600}": data[f"k{i * 7 % 600}"] for i in range(1, 601)}
        assert len(shuffled) == 600 and next(iter(shuffled)) == "k7"
        table.sync(shuffled)
        assert table.pending and order(table) == [f"k{i}" for i in range(table.row_count)]
        assert table.current_key == "k0"
        await until(lambda: not table.pending)
        await pilot.pause()
        assert order(table) == [f"k{i}" for i in range(600)]
        assert table.cursor_row == 0 and table.scroll_y == 0
