"""KeyedTable at scale: rows made only when needed (`touch`), and a filter that checks
rows as it appends them."""

from __future__ import annotations

from typing import Any

from netutil import until
from textual.app import App, ComposeResult

from tui.widgets.cells import ColumnSpec, Row
from tui.widgets.keyed_table import KeyedTable

ROWS = 600


class Model:
    """A keyed model whose rows count how often they are made."""

    def __init__(self, count: int) -> None:
        self.ticks = {f"k{i:04d}": 0 for i in range(count)}
        self.made: list[str] = []

    def row_of(self, key: str) -> Row:
        self.made.append(key)
        return (key, f"name {key[1:]}", self.ticks[key])


class LazyApp(App[None]):
    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model
        self.table = KeyedTable(
            [
                ColumnSpec("key", "KEY", fixed=True),
                ColumnSpec("name", "NAME"),
                ColumnSpec("ticks", "TICKS", lambda v: f"{v} t", right=True),
            ],
            row_of=model.row_of,
        )
        self.loads: list[KeyedTable.Loaded] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_keyed_table_loaded(self, event: KeyedTable.Loaded) -> None:
        self.loads.append(event)


def order(table: KeyedTable) -> list[str]:
    return [table.key_at(i) for i in range(table.row_count)]


async def loaded(pilot: Any, model: Model) -> KeyedTable:
    table: KeyedTable = pilot.app.table
    table.touch(list(model.ticks))
    await until(lambda: not table.pending)
    await pilot.pause()
    return table


async def test_touched_rows_are_made_on_screen_now_and_off_screen_when_seen() -> None:
    model = Model(ROWS)
    app = LazyApp(model)
    async with app.run_test(size=(80, 20)) as pilot:
        table = await loaded(pilot, model)
        visible = table.visible_keys()
        assert 0 < len(visible) < 30
        model.made.clear()
        for key in model.ticks:
            model.ticks[key] = 1
        table.touch(list(model.ticks))
        # Only the rows on screen were made; the others wait.
        assert sorted(model.made) == sorted(visible)
        assert table.get_cell(visible[0], "ticks").plain == "1 t"
        far = order(table)[-1]
        table.move_cursor(row=table.row_count - 1, animate=False)
        await pilot.pause()
        assert far in model.made  # made when it came into view
        assert table.get_cell(far, "ticks").plain == "1 t"
        assert table.raw("k0100") == ("k0100", "name 0100", 1)  # reading makes a row too


async def test_filter_and_order_by_a_moving_column_see_waiting_rows() -> None:
    model = Model(ROWS)
    app = LazyApp(model)
    async with app.run_test(size=(80, 20)) as pilot:
        table = await loaded(pilot, model)
        model.ticks["k0500"] = 7
        table.touch(["k0500", *table.visible_keys()])
        model.ticks["k0501"] = 9
        table.touch(["k0501"])
        table.set_filter("9 t")  # only the waiting row's new value matches
        await until(lambda: not table.pending)
        assert order(table) == ["k0501"]
        table.set_filter("")
        await until(lambda: not table.pending)
        table.set_sort(2, reverse=True)  # by TICKS, which moves: the rows are made
        assert order(table)[:2] == ["k0501", "k0500"]
        # Ordered by a moving column, touched rows are made at once to keep the order.
        model.ticks["k0003"] = 99
        model.made.clear()
        table.touch(["k0003"])
        assert model.made == ["k0003"] and order(table)[0] == "k0003"


async def test_a_filter_over_rows_without_search_text_checks_them_as_it_appends(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(KeyedTable, "CHECK_CHUNK", 100)
    model = Model(ROWS)
    app = LazyApp(model)
    async with app.run_test(size=(80, 20)) as pilot:
        table = await loaded(pilot, model)
        table.set_filter("name 05")  # k0500..k0599: past the first step's checks
        assert table.searching and table.row_count == 0
        assert table.shown < 100  # a lower bound while searching
        await until(lambda: not table.pending)
        await pilot.pause()
        assert order(table) == [f"k{i:04d}" for i in range(500, 600)]
        assert table.shown == 100 and not table.searching
        assert app.loads and app.loads[-1].table is table
        # Narrowing checks only what the wider filter matched.
        model.made.clear()
        table.set_filter("name 055")
        await until(lambda: not table.pending)
        assert order(table) == [f"k{i:04d}" for i in range(550, 560)]
        # A row that stops matching while the search runs is not shown.
        table.set_filter("")
        await until(lambda: not table.pending)
        for key in model.ticks:
            model.ticks[key] = 2
        table.touch(list(model.ticks))
        table.set_filter("name 05")
        model.ticks["k0590"] = 3
        table.sync({"k0590": ("k0590", "renamed", 3)})
        await until(lambda: not table.pending)
        assert "k0590" not in order(table) and len(order(table)) == 99
