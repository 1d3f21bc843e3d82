"""KeyedTable's large filter changes: rebuilt in sort order, the first screenful at once,
the cursor kept on its row, columns as wide as their widest value."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from tui.widgets.cells import ColumnSpec, Row
from tui.widgets.keyed_table import KeyedTable


class WideApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.table = KeyedTable(
            [ColumnSpec("name", "NAME"), ColumnSpec("n", "N", lambda v: f"{v} u", right=True)],
            sort_column=1,
        )

    def compose(self) -> ComposeResult:
        yield self.table


def rows(count: int) -> dict[str, Row]:
    return {f"k{i}": (f"row {i:05d}", i) for i in range(count)}


def order(table: KeyedTable) -> list[str]:
    return [table.key_at(i) for i in range(table.row_count)]


async def settle(pilot: Any, table: KeyedTable) -> None:
    await pilot.pause()
    while table.pending:
        await pilot.pause()
    await pilot.pause()


async def test_large_filter_changes_rebuild_in_order() -> None:
    app = WideApp()
    async with app.run_test() as pilot:
        table = app.table
        table.sync(rows(3000))
        await settle(pilot, table)
        assert order(table) == [f"k{i}" for i in range(3000)]
        table.move_cursor(row=2050)
        assert table.current_key == "k2050"

        table.set_filter("row 020")  # 3000 -> 100 rows: rebuilt, cursor kept on its row
        # 3000 rows without search texts: checked a chunk per frame, in order.
        assert table.row_count <= 100 and table.searching
        await settle(pilot, table)
        assert not table.searching and table.shown == 100
        assert order(table) == [f"k{i}" for i in range(2000, 2100)]
        assert table.current_key == "k2050"
        assert table.get_cell("k2050", "n").plain == "2050 u"

        table.set_filter("")  # back to 3000: first chunk at once, in sort order
        assert table.row_count < 3000 and table.pending
        assert order(table)[:5] == ["k0", "k1", "k2", "k3", "k4"]
        await settle(pilot, table)
        assert order(table) == [f"k{i}" for i in range(3000)]
        assert table.current_key == "k2050"
        assert table.column_widths == [len("row 00000"), len("2999 u")]
        # Updates after a rebuild land on the right cells.
        table.sync({"k7": ("row 00007", 7)} | {"k8": ("renamed", 8)})
        await pilot.pause()
        assert table.get_cell("k8", "name").plain == "renamed"
