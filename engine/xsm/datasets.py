"""The data sets (XRDs) the service publishes, and how a store change set becomes rows.

A data set is a keyed collection of JSON-ready rows. Store-backed sets follow one store
table: a row per record, so a change set maps to row changes without rebuilding the set
(O(changed records)). Sampled sets (system, interfaces, running-config, xsm-status,
history) have no store table: the service samples them and pushes only rows that differ.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from engine.control_socket import to_json
from engine.store import FLOWS, IKE_SAS, SESSIONS, Store
from engine.store.changes import ChangeSet

Adapter = Literal["vdm", "edm"]
#: which `xsm privilege ... level` a subscriber needs
Level = Literal["monitor", "configuration"]
Row = dict[str, Any]


class DataSource(Protocol):
    """What the data sets read; the service is one."""

    @property
    def store(self) -> Store: ...


@dataclass(frozen=True, slots=True)
class RowChanges:
    """One data set's net change: rows added or changed (whole rows), keys removed."""

    xrd: str
    upserted: Mapping[str, Row]
    removed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.upserted or self.removed)


@dataclass(frozen=True, slots=True)
class DataSet:
    name: str
    adapter: Adapter
    level: Level
    description: str
    #: the store table whose records are this set's rows; None for a sampled set
    table: str | None = None
    #: a store record -> its row (store-backed sets)
    row_of: Callable[[object], Row] | None = None
    #: the whole set now (sampled sets; store-backed sets derive it from the table)
    sample: Callable[[DataSource], dict[str, Row]] | None = None

    def snapshot(self, source: DataSource) -> dict[str, Row]:
        if self.table is not None and self.row_of is not None:
            records = source.store.snapshot().table(self.table)
            return {row_key(key): self.row_of(record) for key, record in records.items()}
        assert self.sample is not None
        return self.sample(source)

    def changes(self, changes: ChangeSet) -> RowChanges | None:
        """The rows a store change set touches; None when it touches none (or the set is
        sampled, and so never follows the change feed)."""
        if self.table is None or self.row_of is None:
            return None
        table = changes.table(self.table)
        if not table:
            return None
        upserted = {
            row_key(key): self.row_of(record)
            for part in (table.added, table.changed)
            for key, record in part.items()
        }
        return RowChanges(self.name, upserted, tuple(sorted(row_key(k) for k in table.removed)))


def row_key(key: Hashable) -> str:
    return str(key)


def _record_row(record: object) -> Row:
    return to_json(record)


def builtin_datasets() -> dict[str, DataSet]:
    """Every data set this gateway publishes, by name."""
    sets = [
        DataSet(
            "crypto-sessions",
            "vdm",
            "monitor",
            "crypto sessions as `show crypto session`",
            SESSIONS,
            _record_row,
        ),
        DataSet("ike-sas", "vdm", "monitor", "IKE and ISAKMP SAs", IKE_SAS, _record_row),
        DataSet(
            "ipsec-flows", "vdm", "monitor", "IPsec flows with their counters", FLOWS, _record_row
        ),
    ]
    return {dataset.name: dataset for dataset in sets}
