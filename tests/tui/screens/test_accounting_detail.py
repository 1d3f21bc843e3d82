"""The accounting screen's detail pane: the selected record's attributes, following the
cursor (synthetic target, records put straight into the ACCOUNTING table)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from engine.accounting import AccountingRecord, DeliveryState
from engine.store import ACCOUNTING
from tui.app import ConsoleApp
from tui.screens.accounting import AccountingScreen

T0 = 1_700_000_000.0


def record(
    record_id: int, kind: str, attributes: tuple[tuple[str, str | int], ...]
) -> AccountingRecord:
    return AccountingRecord(
        record_id=record_id,
        acct_session_id=f"0000000{record_id}",
        session_id="10.0.0.1:500",
        peer="10.0.0.1",
        kind=kind,
        list_name="VPN-ACCT",
        attributes=attributes,
        state=DeliveryState.ACKED,
        server="192.0.2.10",
        attempts=1,
        created_at=T0 + record_id,
        acked_at=T0 + record_id + 0.5,
    )


async def test_detail_pane_shows_the_selected_records_attributes(synthetic: Any) -> None:
    target = synthetic
    start = record(1, "Start", (("Acct-Status-Type", "Start"), ("Framed-IP-Address", "10.0.0.1")))
    stop = record(
        2,
        "Stop",
        (("Acct-Status-Type", "Stop"), ("Acct-Input-Octets", 4096), ("Acct-Session-Time", 60)),
    )
    with target.store.batch():
        target.store.put(ACCOUNTING, 1, start)
        target.store.put(ACCOUNTING, 2, stop)
    app = ConsoleApp(target)
    async with app.run_test(size=(160, 45)) as pilot:
        app.action_go("accounting")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AccountingScreen)
        detail = screen.query_one("#detail", Static)
        screen.records.focus()
        await pilot.pause()

        def shown() -> str:
            return str(detail.render())

        assert screen.records.row_count == 2
        first = screen.selected_record()
        assert isinstance(first, AccountingRecord)
        assert detail.display
        for name, value in first.attributes:
            assert name in shown() and str(value) in shown()

        await pilot.press("down")
        await pilot.pause()
        second = screen.selected_record()
        assert isinstance(second, AccountingRecord) and second is not first
        for name, value in second.attributes:
            assert name in shown() and str(value) in shown()
        other = {name for name, _ in first.attributes} - {name for name, _ in second.attributes}
        assert other and not any(name in shown() for name in other)

        await pilot.press("up")
        await pilot.pause()
        assert screen.selected_record() is first
        assert "Framed-IP-Address" in shown()
