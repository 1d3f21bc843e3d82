"""The accounting screen shows the gateway's real records and their delivery state (the
lab's gateway accounting to its embedded RADIUS collector)."""

from __future__ import annotations

from pathlib import Path

from netutil import until

from engine.accounting import AccountingRecord, DeliveryState
from engine.lab import Lab
from tui.app import ConsoleApp
from tui.screens.accounting import AccountingScreen
from tui.widgets.keyed_table import KeyedTable


async def test_accounting_screen_lists_acknowledged_records(tmp_path: Path) -> None:
    lab = Lab(ike_port=0, natt_port=0, peers=2, control_path=tmp_path / "lab.sock")
    await lab.start()
    try:
        store = lab.service.store

        def acked_starts() -> list[AccountingRecord]:
            return [
                r
                for r in store.table("accounting").values()
                if isinstance(r, AccountingRecord)
                and r.kind == "Start"
                and r.state is DeliveryState.ACKED
            ]

        await until(lambda: len(acked_starts()) == 2, timeout=10)
        app = ConsoleApp(lab)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.press(":")
            await pilot.press(*"accounting", "enter")
            await pilot.pause(0.8)
            screen = app.screen
            assert isinstance(screen, AccountingScreen)
            table = screen.query(KeyedTable).first()
            rows = [table.get_row_at(i) for i in range(table.row_count)]
            cells = [[str(c) for c in row] for row in rows]
            assert sum(1 for row in cells if row[0] == "Start" and "acked" in row) == 2
            assert any(row[0] == "Accounting-On" for row in cells)
    finally:
        await lab.stop()
