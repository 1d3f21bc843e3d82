"""The durable spool: every accounting record from its creation to its acknowledgement.

A record is written here before anything is sent, and leaves only when a server's
Accounting-Response verified (for `broadcast`, every server's). It keeps the event's
time, so Acct-Delay-Time is right after an outage or an engine restart, and the order of
creation, so a session's Start, Interims and Stop are delivered in that order.

It also keeps each open session's latest Start or Interim-Update until its Stop is
made, so that a run that died without stopping its sessions (SIGKILL, a crash, power)
leaves the next one what it needs to stop them with their last counters.

SQLite in WAL mode with synchronous=NORMAL: a committed record survives the process
dying; only a power loss may cost the last transaction. The file holds attributes and
server addresses, never a RADIUS key: keys come from the running configuration.

A `batched` spool keeps its writes in memory until `commit()`, then writes them in
one transaction, consecutive statements of a kind by one executemany: one commit per
event-loop iteration instead of one per record (a commit per statement was the
accountant's largest cost under load, a statement per record the next). It numbers
its records itself, so a record has its id before it is written. Its user sends a
record only once `durable()` says it is on disk, so what a server saw is on disk; a
crash before a commit loses only records that never left, and acknowledgements, whose
records are then sent again. Reads write what waits first.
"""

from __future__ import annotations

import fcntl
import functools
import json
import marshal
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.accounting.dictionary import StatusType
from engine.accounting.records import Attributes

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    status INTEGER NOT NULL,
    list_name TEXT NOT NULL,
    broadcast INTEGER NOT NULL,
    servers TEXT NOT NULL,
    attributes NOT NULL,
    event_time REAL NOT NULL,
    session_id TEXT NOT NULL,
    peer TEXT NOT NULL,
    acked TEXT NOT NULL DEFAULT '[]',
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    stream TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    status INTEGER NOT NULL,
    list_name TEXT NOT NULL,
    broadcast INTEGER NOT NULL,
    servers TEXT NOT NULL,
    attributes NOT NULL,
    event_time REAL NOT NULL,
    session_id TEXT NOT NULL,
    peer TEXT NOT NULL
);
-- in the record's own statement, so atomic with it: a Start or an Interim-Update
-- becomes its session's latest record, a Stop closes the session
CREATE TRIGGER IF NOT EXISTS session_goes_on AFTER INSERT ON records
WHEN NEW.status IN (1, 3) BEGIN
    INSERT OR REPLACE INTO sessions (stream, seq, status, list_name, broadcast, servers,
        attributes, event_time, session_id, peer)
    VALUES (NEW.stream, NEW.seq, NEW.status, NEW.list_name, NEW.broadcast, NEW.servers,
        NEW.attributes, NEW.event_time, NEW.session_id, NEW.peer);
END;
CREATE TRIGGER IF NOT EXISTS session_stops AFTER INSERT ON records
WHEN NEW.status = 2 BEGIN
    DELETE FROM sessions WHERE stream = NEW.stream;
END;
"""
INSERT = (
    "INSERT INTO records (seq, stream, status, list_name, broadcast, servers, attributes,"
    " event_time, session_id, peer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE = "UPDATE records SET acked = ?, attempts = ? WHERE seq = ?"
DELETE = "DELETE FROM records WHERE seq = ?"
SET_COUNTER = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT(key) DO UPDATE SET value = excluded.value"
)


#: the attributes' column as earlier versions wrote it, and for values marshal refuses
_JSON = json.JSONEncoder(check_circular=False, separators=(",", ":"))
#: marshal's format 4 (Python 3.4 on; later versions read it): the tuple of (name,
#: value) pairs in 2.9 us where json took 7.3, of ~90 us per record under load. What
#: it writes is built-in scalars and containers only (loading runs nothing, unlike a
#: pickle); an enum or any other subclass is refused, and that record is json instead.
MARSHAL_VERSION = 4


def _dump_attributes(attributes: Attributes) -> bytes | str:
    try:
        return marshal.dumps(attributes, MARSHAL_VERSION)
    except ValueError:
        return _JSON.encode(attributes)


def _load_attributes(column: bytes | str) -> Attributes:
    pairs = json.loads(column) if isinstance(column, str) else marshal.loads(column)
    return tuple((str(k), v) for k, v in pairs)


@functools.lru_cache(maxsize=256)
def _servers_json(servers: tuple[str, ...]) -> str:
    """A group's servers, the same for each of its records: encoded once."""
    return json.dumps(servers)


class SpoolBusy(OSError):
    """Another accountant (another daemon with the same state directory) has the spool."""


def default_spool_path() -> Path:
    """$XDG_STATE_HOME/ipsec-console/accounting.sqlite (XDG's place for state that
    should survive restarts but is not configuration)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ipsec-console" / "accounting.sqlite"


@dataclass(frozen=True, slots=True)
class SpoolRecord:
    """One accounting record waiting for its acknowledgement."""

    record_id: int
    #: delivery order holds within a stream: an Acct-Session-Id, or "nas:GROUP"
    stream: str
    status: StatusType
    list_name: str
    broadcast: bool
    #: "host:port" of the group's servers when the record was made
    servers: tuple[str, ...]
    attributes: Attributes
    event_time: float
    session_id: str = ""
    peer: str = ""
    #: servers that acknowledged it (broadcast: it stays until every one did)
    acked: frozenset[str] = frozenset()
    attempts: int = 0


class Spool:
    """Single-threaded, like the rest of the engine: call it from the event loop."""

    def __init__(self, path: str | Path, *, batched: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        os.chmod(self.path, 0o600)
        self._lock: int | None = None
        self.batched = batched
        #: statements waiting for `commit()`, consecutive ones of a kind together
        self._waiting: list[tuple[str, list[Sequence[object]]]] = []
        #: counters as they are now (batched: written at the commit)
        self._counters: dict[str, int] = {}
        self._counters_changed: set[str] = set()
        row = self._db.execute(
            "SELECT MAX(seq) FROM (SELECT MAX(seq) AS seq FROM records"
            " UNION ALL SELECT seq FROM sqlite_sequence WHERE name = 'records')"
        ).fetchone()
        #: the newest record id given out, and the newest one on disk
        self._added = int(row[0] or 0)
        self._committed = self._added

    @property
    def uncommitted(self) -> bool:
        """Whether writes wait for `commit()`."""
        return bool(self._waiting or self._counters_changed) or self._db.in_transaction

    def _queue(self, statement: str, params: Sequence[object]) -> None:
        if not self.batched:
            self._db.execute(statement, params)
            return
        waiting = self._waiting
        if waiting and waiting[-1][0] is statement:
            waiting[-1][1].append(params)
        else:
            waiting.append((statement, [params]))

    def _write_waiting(self) -> None:
        """What waits, into the open transaction (one is begun if none is)."""
        if not (self._waiting or self._counters_changed):
            return
        db = self._db
        if not db.in_transaction:
            db.execute("BEGIN IMMEDIATE")
        waiting, self._waiting = self._waiting, []
        for statement, rows in waiting:
            db.executemany(statement, rows)
        changed, self._counters_changed = self._counters_changed, set()
        db.executemany(SET_COUNTER, [(name, str(self._counters[name])) for name in changed])

    def commit(self) -> None:
        """Make the batched writes durable (nothing to do when none wait)."""
        self._write_waiting()
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._committed = self._added

    def durable(self, record_id: int) -> bool:
        """Whether the record is on disk (committed): only then may a server see it."""
        return record_id <= self._committed

    def claim(self) -> None:
        """Make this the spool's only user until `close()`, or until the process dies
        however it dies (the kernel drops the lock). Two gateways on one spool would
        deliver each other's records and stop each other's open sessions as left over."""
        if self._lock is not None:
            return
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SpoolBusy(
                f"the accounting spool {self.path} is in use by another daemon "
                "(give each daemon its own --state-dir)"
            ) from None
        self._lock = fd

    def close(self) -> None:
        self.commit()
        self._db.close()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def add(
        self,
        *,
        stream: str,
        status: StatusType,
        list_name: str,
        broadcast: bool,
        servers: Iterable[str],
        attributes: Attributes,
        event_time: float,
        session_id: str = "",
        peer: str = "",
    ) -> SpoolRecord:
        """The record; a Start or an Interim-Update also becomes its session's latest
        record, a Stop closes the session (triggers, in the same statement)."""
        servers = tuple(servers)
        self._added += 1
        record_id = self._added
        self._queue(
            INSERT,
            (
                record_id,
                stream,
                int(status),
                list_name,
                int(broadcast),
                _servers_json(servers),
                _dump_attributes(attributes),
                event_time,
                session_id,
                peer,
            ),
        )
        if not self.batched:
            self._committed = record_id
        return SpoolRecord(
            record_id,
            stream,
            status,
            list_name,
            broadcast,
            servers,
            attributes,
            event_time,
            session_id,
            peer,
        )

    def pending(self) -> list[SpoolRecord]:
        """Every record not yet acknowledged, oldest first."""
        return self._select(
            "SELECT seq, stream, status, list_name, broadcast, servers, attributes, event_time,"
            " session_id, peer, acked, attempts FROM records ORDER BY seq"
        )

    def open_sessions(self) -> list[SpoolRecord]:
        """The latest Start or Interim-Update of every session that has no Stop yet,
        oldest first; acknowledged or not (its record_id may have left the spool)."""
        return self._select(
            "SELECT seq, stream, status, list_name, broadcast, servers, attributes, event_time,"
            " session_id, peer, '[]', 0 FROM sessions ORDER BY seq"
        )

    def _select(self, query: str) -> list[SpoolRecord]:
        self._write_waiting()
        rows = self._db.execute(query).fetchall()
        return [
            SpoolRecord(
                seq,
                stream,
                StatusType(status),
                list_name,
                bool(broadcast),
                tuple(json.loads(servers)),
                _load_attributes(attributes),
                event_time,
                session_id,
                peer,
                frozenset(json.loads(acked)),
                attempts,
            )
            for (
                seq,
                stream,
                status,
                list_name,
                broadcast,
                servers,
                attributes,
                event_time,
                session_id,
                peer,
                acked,
                attempts,
            ) in rows
        ]

    def __len__(self) -> int:
        self._write_waiting()
        return int(self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def update(self, record_id: int, *, acked: Iterable[str], attempts: int) -> None:
        self._queue(UPDATE, (json.dumps(sorted(acked)), attempts, record_id))

    def remove(self, record_id: int) -> None:
        """The record is acknowledged (or a newer one replaces it): it leaves."""
        self._queue(DELETE, (record_id,))

    def next_counter(self, name: str) -> int:
        """A persistent counter (Acct-Session-Id): unique across restarts, so a spooled
        record of the last run never shares an id with a session of this one.

        Batched, it is committed with the records that carry it: none of them left
        before the commit, so a crash before it cannot reuse an id a server saw."""
        value = self._counters.get(name)
        if value is None:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (name,)).fetchone()
            value = int(row[0]) if row else 0
        value += 1
        self._counters[name] = value
        if self.batched:
            self._counters_changed.add(name)
        else:
            self._db.execute(SET_COUNTER, (name, str(value)))
        return value
