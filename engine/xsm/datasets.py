"""The data sets (XRDs) the service publishes, and how a store change set becomes rows.

A data set is a keyed collection of JSON-ready rows. Store-backed sets follow store
tables: a row per record, so a change set maps to row changes without rebuilding the set
(O(changed records)). Sampled sets (system, interfaces, running-config, xsm-status) have
no store table: the service samples them every ``sample_interval`` seconds and pushes
only the rows that differ (``diff_rows``).

Every set has an explicit row builder, so a row's fields stay what this module documents
when a record gains or renames a field. Names follow the IOS crypto vocabulary and
strongSwan vici's counter names (``bytes_in`` ...); times are ISO 8601 UTC strings
(null when not yet known); SPIs are hex. No row carries a secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal, Protocol

from engine.accounting.accountant import AccountingRecord
from engine.accounting.transport import ServerState
from engine.events import ChildAlgorithms, Counters
from engine.records import ChildRecord, FlowRecord, IkeSaRecord, SessionRecord
from engine.secret import MASK, Secret
from engine.show import PeerEntry, flow_line
from engine.store import ACCOUNTING, FLOWS, IKE_SAS, PEERS, SERVERS, SESSIONS, SYSLOG, Store
from engine.store.changes import ChangeSet, TableChanges
from engine.syslog import LogEntry
from engine.xsm.samplers import InterfaceSampler, SystemSampler

Adapter = Literal["vdm", "edm"]
#: which `xsm privilege ... level` a subscriber needs
Level = Literal["monitor", "configuration"]
Row = dict[str, Any]
#: (store key, record) -> its row, or None for a record this set does not show
RowBuilder = Callable[[Hashable, object], Row | None]

#: how often the service re-samples each sampled set, in seconds
SYSTEM_INTERVAL = 5.0
INTERFACES_INTERVAL = 5.0
RUNNING_CONFIG_INTERVAL = 10.0
XSM_STATUS_INTERVAL = 2.0


@dataclass(frozen=True, slots=True)
class XsmClient:
    """One connected XSM client, as the service reports it for the `xsm-status` set
    (IOS `show xsm status`)."""

    #: the service's number for this client, unique while the service runs
    session: int
    user: str
    privilege: int
    address: str
    port: int
    #: "sse", "websocket" or "http"
    transport: str
    #: the data sets it follows
    subscriptions: tuple[str, ...]
    connected_at: float
    events_sent: int = 0
    #: events not delivered because the client fell too far behind
    events_dropped: int = 0


class DataSource(Protocol):
    """What the data sets read; the service is one. Every member is read-only.

    Optionally a source has ``tunnel_interfaces() -> Iterable[TunnelPort]`` (see
    ``engine.xsm.samplers.TunnelPort``): the gateway's tunnel interfaces, so that the
    `interfaces` set names the kernel device of each by its IOS name.
    """

    @property
    def store(self) -> Store: ...

    def running_config(self) -> str:
        """The running configuration as `show running-config` prints it, secrets masked."""
        ...

    def xsm_clients(self) -> Iterable[XsmClient]:
        """The clients connected now."""
        ...


@dataclass(frozen=True, slots=True)
class RowChanges:
    """One data set's net change: rows added or changed (whole rows), keys removed."""

    xrd: str
    upserted: Mapping[str, Row]
    removed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.upserted or self.removed)


@dataclass(frozen=True, slots=True)
class TableRows:
    """A store table a set shows, with the builder of its rows and how keys are spelt."""

    table: str
    row_of: RowBuilder
    #: put before each store key (a set showing two tables keeps their keys apart)
    prefix: str = ""

    def key(self, key: Hashable) -> str:
        return self.prefix + row_key(key)


@dataclass(frozen=True, slots=True)
class DataSet:
    name: str
    adapter: Adapter
    level: Level
    description: str
    #: the store table whose records are this set's rows; None for a sampled set
    table: str | None = None
    #: (store key, record) -> its row (store-backed sets); None skips the record
    row_of: RowBuilder | None = None
    #: the whole set now (sampled sets; store-backed sets derive it from their tables)
    sample: Callable[[DataSource], dict[str, Row]] | None = None
    #: seconds between samples of a sampled set (None for a store-backed one)
    sample_interval: float | None = None
    #: put before each key of ``table`` (a set showing two tables keeps their keys apart)
    prefix: str = ""
    #: further tables a store-backed set shows (accounting: its servers)
    also: tuple[TableRows, ...] = ()
    #: published only with `xsm history vdm|edm` (its adapter's) as well
    history: bool = False
    #: a snapshot narrowed by the request's query parameters (``?series=...&range=1d``);
    #: run on a worker thread; ValueError is the client's 400
    query: Callable[[Mapping[str, str]], dict[str, Row]] | None = None

    @property
    def sampled(self) -> bool:
        return self.table is None

    @property
    def tables(self) -> tuple[str, ...]:
        """Every store table this set follows: subscribe to these for its changes."""
        return tuple(part.table for part in self._parts())

    def snapshot(self, source: DataSource) -> dict[str, Row]:
        if self.table is not None:
            snap = source.store.snapshot()
            return self.rows_at(snap.tables)
        assert self.sample is not None
        return self.sample(source)

    def rows_at(self, tables: Mapping[str, Mapping[Hashable, object]]) -> dict[str, Row]:
        """A store-backed set's rows from the given tables (e.g. one `StoreSnapshot`'s,
        so that several sets show the same version)."""
        rows: dict[str, Row] = {}
        for part in self._parts():
            for key, record in tables[part.table].items():
                row = part.row_of(key, record)
                if row is not None:
                    rows[part.key(key)] = row
        return rows

    def changes(self, changes: ChangeSet) -> RowChanges | None:
        """The rows a store change set touches; None when it touches none (or the set is
        sampled, and so never follows the change feed)."""
        upserted: dict[str, Row] = {}
        removed: list[str] = []
        for part in self._parts():
            table: TableChanges = changes.table(part.table)
            if not table:
                continue
            for section in (table.added, table.changed):
                for key, record in section.items():
                    row = part.row_of(key, record)
                    if row is None:
                        # not (or no longer) a record this set shows
                        removed.append(part.key(key))
                    else:
                        upserted[part.key(key)] = row
            removed.extend(part.key(key) for key in table.removed)
        if not upserted and not removed:
            return None
        return RowChanges(self.name, upserted, tuple(sorted(removed)))

    def _parts(self) -> tuple[TableRows, ...]:
        if self.table is None or self.row_of is None:
            return ()
        return (TableRows(self.table, self.row_of, self.prefix), *self.also)


def row_key(key: Hashable) -> str:
    return str(key)


def diff_rows(old: Mapping[str, Row], new: Mapping[str, Row], xrd: str) -> RowChanges:
    """What changed between two samples of a set: rows new or different, keys gone."""
    upserted = {key: row for key, row in new.items() if old.get(key) != row}
    removed = tuple(sorted(key for key in old if key not in new))
    return RowChanges(xrd, upserted, removed)


# ---------------------------------------------------------------------- value helpers
def iso_time(timestamp: float | None) -> str | None:
    """`2026-11-27T03:45:01.123Z`; None stays None (not yet happened)."""
    if timestamp is None:
        return None
    try:
        moment = datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: object) -> str:
    """A string field: a secret is masked, an enum shows its value."""
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Enum):
        return str(value.value)
    return "" if value is None else str(value)


def _spi(value: int) -> str:
    return f"{value:08x}"


def _counters(counters: Counters) -> Row:
    return {
        "bytes_in": counters.bytes_in,
        "bytes_out": counters.bytes_out,
        "packets_in": counters.packets_in,
        "packets_out": counters.packets_out,
        "drops_in": counters.drops_in,
        "drops_out": counters.drops_out,
    }


# ---------------------------------------------------------------------- store-backed rows
def session_row(_key: Hashable, record: object) -> Row | None:
    """`crypto-sessions`: a crypto session as `show crypto session detail` shows it."""
    if not isinstance(record, SessionRecord):
        return None
    return {
        "session_id": record.session_id,
        "status": _text(record.status),
        "peer": record.peer_name,
        "description": record.description,
        "interface": record.interface,
        "local_address": record.local_ip,
        "local_port": record.local_port,
        "remote_address": record.remote_ip,
        "remote_port": record.remote_port,
        "fvrf": record.fvrf,
        "ivrf": record.ivrf,
        "username": record.username,
        "assigned_address": record.assigned_address,
        "group": record.group,
        "phase1_id": record.phase1_id,
        "capabilities": record.capabilities,
        "origin": record.origin,
        "up_since": iso_time(record.up_since),
        "changed_at": iso_time(record.changed_at),
        "down_reason": record.down_reason,
        "connid": record.connid,
        **_counters(record.totals),
        "ike_sa_ids": list(record.ike_sa_ids),
        "flow_ids": list(record.flow_ids),
    }


def ike_sa_row(_key: Hashable, record: object) -> Row | None:
    """`ike-sas`: an IKEv2 SA or ISAKMP SA (`show crypto ikev2 sa` / `isakmp sa`)."""
    if not isinstance(record, IkeSaRecord):
        return None
    algorithms = record.algorithms
    return {
        "ike_sa_id": record.ike_sa_id,
        "session_id": record.session_id,
        "version": record.version,
        "mode": record.mode,
        "state": record.state,
        "role": "initiator" if record.initiator else "responder",
        "local_address": record.local[0],
        "local_port": record.local[1],
        "remote_address": record.remote[0],
        "remote_port": record.remote[1],
        "spi_i": record.spi_i,
        "spi_r": record.spi_r,
        "encryption": algorithms.encryption if algorithms else "",
        "prf": algorithms.prf if algorithms else "",
        "integrity": algorithms.integrity if algorithms else "",
        "dh_group": algorithms.dh_group if algorithms else None,
        "weak": list(algorithms.weak) if algorithms else [],
        "local_id": record.local_id,
        "remote_id": record.remote_id,
        "nat": record.nat,
        "established_at": iso_time(record.established_at),
        "expires_at": iso_time(record.expires_at),
        "rekeyed_from": record.rekeyed_from,
    }


def _child_algorithms(algorithms: ChildAlgorithms) -> Row:
    return {
        "encryption": algorithms.encryption,
        "integrity": algorithms.integrity,
        "dh_group": algorithms.dh_group,
        "esn": algorithms.esn,
        "mode": algorithms.mode,
        "mode_note": algorithms.mode_note,
        "weak": list(algorithms.weak),
    }


def child_sa_row(child: ChildRecord) -> Row:
    """A child SA pair inside an `ipsec-flows` row (vici's child-sas entries)."""
    return {
        "child_sa_id": child.child_sa_id,
        "ike_sa_id": child.ike_sa_id,
        "spi_in": _spi(child.spi_in),
        "spi_out": _spi(child.spi_out),
        **_child_algorithms(child.algorithms),
        "udp_encapsulation": child.udp_encapsulation,
        "created_at": iso_time(child.created_at),
        "expires_at": iso_time(child.expires_at),
        "lifetime_kb": child.lifetime_kb,
        "last_used": iso_time(child.last_used),
        **_counters(child.counters),
    }


def flow_row(_key: Hashable, record: object) -> Row | None:
    """`ipsec-flows`: an IPsec flow, its totals (retired child SAs included) and its
    live child SAs."""
    if not isinstance(record, FlowRecord):
        return None
    return {
        "flow_id": record.flow_id,
        "session_id": record.session_id,
        "flow": flow_line(record),
        "protocol": record.protocol,
        "local_ts": list(record.local_ts),
        "remote_ts": list(record.remote_ts),
        "origin": record.origin,
        "active_sas": record.active_sas,
        **_counters(record.totals),
        "retired": _counters(record.retired),
        "child_sas": [child_sa_row(child) for child in record.children],
    }


def peer_row(_key: Hashable, record: object) -> Row | None:
    """`peers`: a peer as `show crypto isakmp peer` lists it."""
    if not isinstance(record, PeerEntry):
        return None
    return {
        "address": record.address,
        "port": record.port,
        "description": record.description,
        "flags": record.flags,
    }


#: attribute names whose value is never shown (accounting carries none today)
_SECRET_ATTRIBUTES = ("password", "secret", "key")


def _attribute_value(name: str, value: object) -> object:
    if isinstance(value, Secret) or any(part in name.lower() for part in _SECRET_ATTRIBUTES):
        return MASK
    return value if isinstance(value, int | str) else _text(value)


def accounting_row(_key: Hashable, record: object) -> Row | None:
    """`accounting` (keys `record:N`): a RADIUS accounting record and its delivery."""
    if not isinstance(record, AccountingRecord):
        return None
    return {
        "type": "record",
        "record_id": record.record_id,
        "acct_session_id": record.acct_session_id,
        "session_id": record.session_id,
        "peer": record.peer,
        "status_type": record.kind,
        "list": record.list_name,
        "state": _text(record.state),
        "server": record.server,
        "attempts": record.attempts,
        "created_at": iso_time(record.created_at),
        "acked_at": iso_time(record.acked_at),
        "detail": record.detail,
        "attributes": [
            {"name": name, "value": _attribute_value(name, value)}
            for name, value in record.attributes
        ],
    }


def server_row(_key: Hashable, record: object) -> Row | None:
    """`accounting` (keys `server:NAME`): a RADIUS server's health and counters."""
    if not isinstance(record, ServerState):
        return None
    return {
        "type": "server",
        "name": record.name,
        "host": record.host,
        "auth_port": record.auth_port,
        "acct_port": record.acct_port,
        "alive": record.alive,
        "dead_since": iso_time(record.dead_since),
        "dead_until": iso_time(record.dead_until),
        "requests": record.requests,
        "transmissions": record.transmissions,
        "retransmissions": record.retransmissions,
        "responses": record.responses,
        "timeouts": record.timeouts,
        "duplicates": record.duplicates,
        "bad_authenticators": record.bad_authenticators,
        "malformed": record.malformed,
        "unmatched": record.unmatched,
        "in_flight": record.in_flight,
        "avg_rtt_ms": record.avg_rtt_ms,
        "last_response_at": iso_time(record.last_response_at),
        "last_failure": record.last_failure,
    }


#: syslog severities as IOS `logging trap` names them
SEVERITY_NAMES = (
    "emergencies",
    "alerts",
    "critical",
    "errors",
    "warnings",
    "notifications",
    "informational",
    "debugging",
)


def log_row(key: Hashable, record: object) -> Row | None:
    """`syslog`: one line of the logging buffer, keyed by its sequence number. The ring's
    appends arrive as added rows and its evictions as removed keys."""
    if not isinstance(record, LogEntry):
        return None
    return {
        "seq": key if isinstance(key, int) else row_key(key),
        "timestamp": iso_time(record.timestamp),
        "facility": record.facility,
        "severity": record.severity,
        "severity_name": SEVERITY_NAMES[record.severity],
        "mnemonic": record.mnemonic,
        "text": record.text,
        "peer": record.peer or "",
        "message": record.ios_line(),
    }


# ---------------------------------------------------------------------- sampled rows
RUNNING_CONFIG_KEY = "running-config"


def running_config_rows(source: DataSource) -> dict[str, Row]:
    """`running-config`: one row, the masked text with a digest to spot a change."""
    text = source.running_config()
    return {
        RUNNING_CONFIG_KEY: {
            "text": text,
            "lines": len(text.splitlines()),
            "sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        }
    }


def xsm_client_row(client: XsmClient) -> Row:
    return {
        "session": client.session,
        "user": client.user,
        "privilege": client.privilege,
        "address": client.address,
        "port": client.port,
        "transport": client.transport,
        "subscriptions": list(client.subscriptions),
        "connected_since": iso_time(client.connected_at),
        "events_sent": client.events_sent,
        "events_dropped": client.events_dropped,
    }


def xsm_status_rows(source: DataSource) -> dict[str, Row]:
    """`xsm-status`: a row per connected client, keyed by its session number."""
    return {row_key(client.session): xsm_client_row(client) for client in source.xsm_clients()}


def builtin_datasets(
    *,
    system: SystemSampler | None = None,
    interfaces: InterfaceSampler | None = None,
) -> dict[str, DataSet]:
    """Every data set this gateway publishes, by name. Each call makes its own samplers
    (they keep the previous reading for CPU use), unless given ones."""
    system = system or SystemSampler()
    interfaces = interfaces or InterfaceSampler()
    sets = [
        DataSet(
            "crypto-sessions",
            "vdm",
            "monitor",
            "crypto sessions as `show crypto session detail`",
            SESSIONS,
            session_row,
        ),
        DataSet("ike-sas", "vdm", "monitor", "IKEv2 and ISAKMP SAs", IKE_SAS, ike_sa_row),
        DataSet(
            "ipsec-flows",
            "vdm",
            "monitor",
            "IPsec flows with their counters and child SAs",
            FLOWS,
            flow_row,
        ),
        DataSet("peers", "vdm", "monitor", "ISAKMP peers", PEERS, peer_row),
        DataSet(
            "accounting",
            "vdm",
            "monitor",
            "RADIUS accounting records (record:N) and servers (server:NAME)",
            ACCOUNTING,
            accounting_row,
            prefix="record:",
            also=(TableRows(SERVERS, server_row, "server:"),),
        ),
        DataSet("syslog", "edm", "monitor", "the logging buffer", SYSLOG, log_row),
        DataSet(
            "running-config",
            "edm",
            "configuration",
            "the running configuration, secrets masked",
            sample=running_config_rows,
            sample_interval=RUNNING_CONFIG_INTERVAL,
        ),
        DataSet(
            "interfaces",
            "edm",
            "monitor",
            "interfaces with their addresses and counters",
            sample=interfaces.rows,
            sample_interval=INTERFACES_INTERVAL,
        ),
        DataSet(
            "system",
            "edm",
            "monitor",
            "hostname, uptime, versions, CPU, memory and load",
            sample=system.rows,
            sample_interval=SYSTEM_INTERVAL,
        ),
        DataSet(
            "xsm-status",
            "edm",
            "monitor",
            "connected XSM clients as `show xsm status`",
            sample=xsm_status_rows,
            sample_interval=XSM_STATUS_INTERVAL,
        ),
    ]
    return {dataset.name: dataset for dataset in sets}
