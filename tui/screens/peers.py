"""ISAKMP peers: `show crypto isakmp peer` as a table (configured peers, then peers we
have sessions with), from `Control.isakmp_peers()` like the CLI's."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.text import Text

from engine.records import SessionRecord
from engine.store import SESSIONS, ChangeSet
from tui.format import address_key, plural
from tui.screens.base import TableScreen
from tui.widgets.cells import ColumnSpec, Row
from tui.widgets.keyed_table import KeyedTable


def _text(value: str) -> str:
    return value or "-"


class PeersScreen(TableScreen):
    NAME = "peers"
    TABLES = frozenset({SESSIONS})

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self.table = KeyedTable(
            [
                ColumnSpec("address", "PEER", lambda raw: str(raw[1])),
                ColumnSpec("port", "PORT", str, right=True),
                ColumnSpec("description", "DESCRIPTION", _text),
                ColumnSpec("flags", "FLAGS", _text),
                ColumnSpec("sessions", "SESSIONS", str, right=True),
                ColumnSpec("up", "UP", str, right=True),
            ],
            id="peers",
        )
        self._reload_seen: object = None
        self._status: dict[object, object] = {}

    def rows(self) -> dict[str, Row]:
        sessions: Counter[str] = Counter()
        up: Counter[str] = Counter()
        for record in self.store.table(SESSIONS).values():
            if isinstance(record, SessionRecord):
                sessions[record.remote_ip] += 1
                up[record.remote_ip] += record.status.is_up
        return {
            f"{peer.address} {peer.port}": (
                (address_key(peer.address), peer.address),
                peer.port,
                peer.description,
                peer.flags,
                sessions[peer.address],
                up[peer.address],
            )
            for peer in self.control.isakmp_peers()
        }

    def load_view(self, now: float) -> None:
        self._refresh_rows()

    def apply_changes(self, changes: ChangeSet | None, now: float) -> None:
        # The list follows the set of sessions, their status and the config; counters
        # moving (most change sets) leave it alone, so it is re-derived only on those.
        relevant = getattr(self.target, "last_reload", None) is not self._reload_seen
        if changes is not None:
            part = changes.table(SESSIONS)
            relevant = relevant or bool(part.added or part.removed)
            for key, record in part.changed.items():
                status = getattr(record, "status", None)
                if self._status.get(key) != status:
                    relevant = True
                    break
        if relevant:
            self._refresh_rows()

    def _refresh_rows(self) -> None:
        self._reload_seen = getattr(self.target, "last_reload", None)
        self._status = {
            key: record.status
            for key, record in self.store.table(SESSIONS).items()
            if isinstance(record, SessionRecord)
        }
        rows = self.rows()
        gone = [key for key in self.table.model_keys() if key not in rows]
        self.table.sync(rows, gone)
        self.update_summary()

    def summary(self) -> Text:
        return Text(plural(self.table.total, "ISAKMP peer"), style="bold")
