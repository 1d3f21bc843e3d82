"""The console's operator actions, each through `engine.control.Control` (what the CLI
uses too) and each behind a confirmation: a clear drops tunnels."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.app import App

from engine.control import ClearFilter, Control
from engine.records import SessionRecord
from engine.store import SESSIONS, Store
from tui.format import plural
from tui.screens.dialogs import ClearFilterScreen, ConfirmScreen

#: Who the `%CRYPTO-5-SESSION_CLEARED` line names.
BY = "console"


def session_records(store: Store) -> Callable[[], Iterable[SessionRecord]]:
    def records() -> Iterable[SessionRecord]:
        return [r for r in store.table(SESSIONS).values() if isinstance(r, SessionRecord)]

    return records


def sessions(count: int) -> str:
    return plural(count, "crypto session")


def run_clear(app: App[object], control: Control, flt: ClearFilter) -> list[str]:
    cleared = control.clear(flt, by=BY)
    app.notify(f"cleared {sessions(len(cleared))} ({flt.describe()})", title="clear crypto session")
    return cleared


def confirm_clear(app: App[object], control: Control, flt: ClearFilter, question: str) -> None:
    def done(confirmed: bool | None) -> None:
        if confirmed:
            run_clear(app, control, flt)

    app.push_screen(ConfirmScreen(question), done)


def clear_all(app: App[object], control: Control, store: Store) -> None:
    """Asks twice: one stray Enter must not drop every tunnel."""
    count = len(session_records(store)())

    def second(confirmed: bool | None) -> None:
        if confirmed:
            run_clear(app, control, ClearFilter())

    def first(confirmed: bool | None) -> None:
        if confirmed:
            app.push_screen(
                ConfirmScreen(
                    f"Really clear ALL {sessions(count)}? Every peer gets a DELETE.",
                    confirm="Clear all",
                ),
                second,
            )

    app.push_screen(ConfirmScreen(f"Clear ALL {sessions(count)}?", confirm="Yes, all"), first)


def confirm_typed_clear(app: App[object], control: Control, store: Store, flt: ClearFilter) -> None:
    """`:clear crypto session FILTERS` asks like every other clear, naming how many
    sessions match now; with no filter it is clear-all (asked twice)."""
    if flt.everything:
        clear_all(app, control, store)
        return
    count = sum(1 for r in session_records(store)() if flt.matches(r))
    confirm_clear(
        app,
        control,
        flt,
        f"Clear {sessions(count)} matching {flt.describe()}? Each peer gets a DELETE.",
    )


def clear_by_filter(app: App[object], control: Control, store: Store) -> None:
    def done(flt: ClearFilter | None) -> None:
        if flt is None:
            return
        if flt.everything:
            clear_all(app, control, store)
        else:
            run_clear(app, control, flt)

    app.push_screen(ClearFilterScreen(session_records(store)), done)
