"""The reactive store between the engine and its consumers.

The engine publishes immutable records into named tables and flushes once per tick;
screens, accounting, syslog export and the control socket follow the change sets. Cheap
by design: a flush costs the number of keys written, a snapshot is O(tables)
(copy-on-write), a slow subscriber costs no more than a fast one. See ``Store`` for the
rules.
"""

from engine.store.changes import NO_CHANGES, ChangeMerger, ChangeSet, TableChanges
from engine.store.core import (
    ACCOUNTING,
    FLOWS,
    HISTORY_TABLES,
    IKE_SAS,
    PEERS,
    SERVERS,
    SESSIONS,
    STATS,
    SYSLOG,
    TABLES,
    Listener,
    LogRing,
    Store,
    StoreSnapshot,
    Subscription,
    history_key,
)
from engine.store.history import FIELDS, History, Rates, Sample

__all__ = [
    "ACCOUNTING",
    "FIELDS",
    "FLOWS",
    "HISTORY_TABLES",
    "IKE_SAS",
    "NO_CHANGES",
    "PEERS",
    "SERVERS",
    "SESSIONS",
    "STATS",
    "SYSLOG",
    "TABLES",
    "ChangeMerger",
    "ChangeSet",
    "History",
    "Listener",
    "LogRing",
    "Rates",
    "Sample",
    "Store",
    "StoreSnapshot",
    "Subscription",
    "TableChanges",
    "history_key",
]
