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


class StaticApp(App[None]):
    """Text columns with a `static_of` view of them, and a volatile counter column."""

    def __init__(self, records: dict[str, tuple[str, int]]) -> None:
        super().__init__()
        self.records = records
        self.made = 0
        self.table = KeyedTable(
            [
                ColumnSpec("name", "NAME", fixed=True),
                ColumnSpec("n", "N", lambda v: f"{v} kb", right=True, volatile=True),
            ],
            row_of=self.row_of,
            static_of=lambda key: (self.records[key][0],),
        )

    def row_of(self, key: str) -> Row:
        self.made += 1
        return self.records[key]

    def compose(self) -> ComposeResult:
        yield self.table


async def test_a_text_filter_reads_only_the_text_columns_and_a_number_filter_all() -> None:
    records = {f"k{i}": (f"branch {i:04d}", i * 7) for i in range(500)}
    app = StaticApp(records)
    async with app.run_test() as pilot:
        table = app.table
        table.touch(list(records))
        await settle(pilot, table)
        # every counter moves: the rows are only marked, not made
        for key, (name, n) in list(records.items()):
            records[key] = (name, n + 1)
        assert table.mark_changed(set(records))
        made = app.made
        table.set_filter("branch 01")
        await settle(pilot, table)
        assert order(table) == [f"k{i}" for i in range(100, 200)]
        # the rows on screen are made; the other 400 were checked from their names alone
        assert app.made - made < 100
        table.set_filter("771 kb")  # only a counter can hold this: every row is read
        await settle(pilot, table)
        assert order(table) == ["k110"]  # 110 * 7 + 1
        # a renamed row is checked by its new name, though nothing else marked it
        records["k3"] = ("gateway 3", records["k3"][1])
        table.set_filter("gateway")
        await settle(pilot, table)
        assert order(table) == ["k3"]


def test_the_number_formats_write_only_the_number_alphabet() -> None:
    from tui.format import NUMBER_ALPHABET, bit_rate, human, uptime

    values = [0, 1, 999, 1023, 1024, 10**6, 10**9, 10**12, 10**15, 10**18, -5, 12.5]
    texts = [human(v) for v in values] + [bit_rate(v) for v in values]
    texts += [uptime(v) for v in (None, -1, 0, 59, 3600, 86_400 * 400)] + [str(v) for v in values]
    for text in texts:
        assert set(text.lower()) <= NUMBER_ALPHABET, text
