"""XSM data sets: row shapes from records the session model makes out of engine events,
store change sets as row changes, the syslog ring, accounting, sampled sets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType

import pytest

from engine.accounting.accountant import AccountingRecord, DeliveryState
from engine.accounting.transport import ServerState
from engine.crypto import ChildKeys
from engine.events import (
    ChildAlgorithms,
    ChildSaDeleted,
    ChildSaInstalled,
    Counters,
    DownReason,
    EspTransforms,
    IkeAlgorithms,
    IkeSaDown,
    IkeSaUp,
    RemoteAccessGranted,
    TrafficSelectorSet,
)
from engine.secret import MASK, Secret
from engine.sessions import SessionModel
from engine.show import PeerEntry
from engine.store import ACCOUNTING, PEERS, SERVERS, SESSIONS, ChangeSet, Store
from engine.syslog import LogEntry
from engine.xsm.datasets import (
    DataSet,
    RowChanges,
    XsmClient,
    builtin_datasets,
    diff_rows,
    iso_time,
)
from engine.xsm.samplers import InterfaceSampler, Link, SystemSampler

T0 = 1_700_000_000.0
IKE_ALG = IkeAlgorithms("aes-cbc-256", "sha256", "sha256", 14)
CHILD_ALG = ChildAlgorithms("aes-gcm-256", "none", None, False)
KEYS = ChildKeys(b"e" * 36, b"", b"f" * 36, b"")
TS = TrafficSelectorSet(("10.1.0.0/16",), ("10.2.0.0/16",))
REMOTE = ("192.0.2.2", 4500)
LOCAL = ("192.0.2.1", 4500)

SESSION_FIELDS = {
    "session_id", "status", "peer", "description", "interface", "local_address",
    "local_port", "remote_address", "remote_port", "fvrf", "ivrf", "username",
    "assigned_address", "group", "phase1_id", "capabilities", "origin", "up_since",
    "changed_at", "down_reason", "connid", "bytes_in", "bytes_out", "packets_in",
    "packets_out", "drops_in", "drops_out", "ike_sa_ids", "flow_ids",
}  # fmt: skip
IKE_FIELDS = {
    "ike_sa_id", "session_id", "version", "mode", "state", "role", "local_address",
    "local_port", "remote_address", "remote_port", "spi_i", "spi_r", "encryption", "prf",
    "integrity", "dh_group", "weak", "local_id", "remote_id", "nat", "established_at",
    "expires_at", "rekeyed_from",
}  # fmt: skip
COUNTER_FIELDS = {"bytes_in", "bytes_out", "packets_in", "packets_out", "drops_in", "drops_out"}
FLOW_FIELDS = {
    "flow_id", "session_id", "flow", "protocol", "local_ts", "remote_ts", "origin",
    "active_sas", "retired", "child_sas", *COUNTER_FIELDS,
}  # fmt: skip
CHILD_FIELDS = {
    "child_sa_id", "ike_sa_id", "spi_in", "spi_out", "encryption", "integrity", "dh_group",
    "esn", "mode", "mode_note", "weak", "udp_encapsulation", "created_at", "expires_at",
    "lifetime_kb", "last_used", *COUNTER_FIELDS,
}  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def ike_up(ike: int, rekeyed_from: int | None = None) -> IkeSaUp:
    return IkeSaUp(
        ike, "branch", LOCAL, REMOTE, bytes.fromhex("0102030405060708"),
        bytes.fromhex("a1a2a3a4a5a6a7a8"), False, "192.0.2.1", "branch.example", IKE_ALG,
        False, True, 86400.0, T0, rekeyed_from,
    )  # fmt: skip


def child_up(ike: int, child: int, rekeyed_from: int | None = None) -> ChildSaInstalled:
    return ChildSaInstalled(
        ike, child, "branch", LOCAL, REMOTE, 0xC0000000 + child, 0x1000 + child, CHILD_ALG,
        EspTransforms.named("aes-gcm-256", "none"), TS, 3600.0, 4608000, True, False, T0,
        KEYS, rekeyed_from,
    )  # fmt: skip


@pytest.fixture
def gateway() -> tuple[SessionModel, Store]:
    store = Store()
    return SessionModel(store, clock=Clock()), store


@dataclass
class Source:
    store: Store
    config: str = "hostname gw\n!\nend\n"
    clients: list[XsmClient] = field(default_factory=list)

    def running_config(self) -> str:
        return self.config

    def xsm_clients(self) -> Iterable[XsmClient]:
        return self.clients


def sets() -> dict[str, DataSet]:
    return builtin_datasets(
        system=SystemSampler(lambda path: "", clock_ticks=100), interfaces=InterfaceSampler(list)
    )


def test_every_data_set_is_published_with_its_adapter_and_privilege() -> None:
    datasets = sets()
    assert {n: (d.adapter, d.level) for n, d in datasets.items()} == {
        "crypto-sessions": ("vdm", "monitor"),
        "ike-sas": ("vdm", "monitor"),
        "ipsec-flows": ("vdm", "monitor"),
        "peers": ("vdm", "monitor"),
        "accounting": ("vdm", "monitor"),
        "syslog": ("edm", "monitor"),
        "running-config": ("edm", "configuration"),
        "interfaces": ("edm", "monitor"),
        "system": ("edm", "monitor"),
        "xsm-status": ("edm", "monitor"),
    }
    for dataset in datasets.values():
        assert dataset.description
        assert dataset.sampled == (dataset.sample_interval is not None)
        assert dataset.sample_interval is None or dataset.sample_interval > 0
        assert dataset.sampled == (not dataset.tables)
    assert datasets["accounting"].tables == (ACCOUNTING, SERVERS)


def test_a_session_its_ike_sa_and_flow_as_rows(gateway: tuple[SessionModel, Store]) -> None:
    sessions, store = gateway
    sessions.handle(ike_up(1))
    sessions.handle(child_up(1, 10))
    sessions.handle(RemoteAccessGranted(1, "branch", "alice", "staff", "10.9.0.5", T0))
    sessions.update_counters({10: Counters(1000, 10, 2000, 20, 1, 2)}, T0 + 1)
    store.flush()
    source = Source(store)
    datasets = sets()

    (row,) = datasets["crypto-sessions"].snapshot(source).values()
    assert set(row) == SESSION_FIELDS
    assert row["status"] == "UP-ACTIVE"
    assert (row["remote_address"], row["remote_port"]) == REMOTE
    assert (row["local_address"], row["local_port"]) == LOCAL
    assert (row["username"], row["assigned_address"], row["group"]) == (
        "alice",
        "10.9.0.5",
        "staff",
    )
    assert (row["bytes_in"], row["packets_out"], row["drops_out"]) == (1000, 20, 2)
    assert row["ike_sa_ids"] == [1] and row["connid"] == 1
    assert row["up_since"] == iso_time(T0) == "2023-11-14T22:13:20.000Z"

    (ike,) = datasets["ike-sas"].snapshot(source).values()
    assert set(ike) == IKE_FIELDS
    assert ike["version"] == 2 and ike["state"] == "Active" and ike["role"] == "responder"
    assert (ike["spi_i"], ike["spi_r"]) == ("0102030405060708", "a1a2a3a4a5a6a7a8")
    assert (ike["encryption"], ike["prf"], ike["dh_group"]) == ("aes-cbc-256", "sha256", 14)
    assert ike["nat"] is True and ike["remote_id"] == "branch.example"
    assert ike["expires_at"] == iso_time(T0 + 86400.0)

    flows = datasets["ipsec-flows"].snapshot(source)
    assert list(flows) == row["flow_ids"]
    (flow,) = flows.values()
    assert set(flow) == FLOW_FIELDS
    assert flow["flow"] == "permit ip 10.1.0.0/255.255.0.0 10.2.0.0/255.255.0.0"
    assert flow["active_sas"] == 2 and flow["bytes_in"] == 1000
    (child,) = flow["child_sas"]
    assert set(child) == CHILD_FIELDS
    assert (child["spi_in"], child["spi_out"]) == ("c000000a", "0000100a")
    assert child["encryption"] == "aes-gcm-256" and child["udp_encapsulation"] is True
    assert child["lifetime_kb"] == 4608000 and child["bytes_out"] == 2000


def test_flow_totals_keep_retired_child_sas(gateway: tuple[SessionModel, Store]) -> None:
    sessions, store = gateway
    sessions.handle(ike_up(1))
    sessions.handle(child_up(1, 10))
    sessions.update_counters({10: Counters(1000, 10, 2000, 20)}, T0 + 1)
    sessions.handle(child_up(1, 11, rekeyed_from=10))
    sessions.update_counters({10: Counters(1500, 15, 2500, 25), 11: Counters(100, 1)}, T0 + 2)
    sessions.handle(ChildSaDeleted(1, 10, "branch", 0, 0, DownReason.REKEYED, T0 + 2))
    store.flush()
    (flow,) = sets()["ipsec-flows"].snapshot(Source(store)).values()
    assert [c["child_sa_id"] for c in flow["child_sas"]] == [11]
    assert flow["retired"]["bytes_in"] == 1500
    assert flow["bytes_in"] == 1600 and flow["packets_out"] == 25


def test_change_sets_become_row_changes(gateway: tuple[SessionModel, Store]) -> None:
    sessions, store = gateway
    crypto = sets()["crypto-sessions"]
    flows = sets()["ipsec-flows"]
    feed = store.subscribe()  # the model flushes: follow it as the service does
    sessions.handle(ike_up(1))
    added = feed.get_nowait()
    assert added is not None
    change = crypto.changes(added)
    assert change is not None
    ((key, row),) = change.upserted.items()
    assert row["status"] == "UP-IDLE" and not change.removed
    assert flows.changes(added) is None  # no flow yet

    sessions.handle(child_up(1, 10))
    changed = feed.get_nowait()
    assert changed is not None
    change = crypto.changes(changed)
    assert change is not None and change.upserted[key]["status"] == "UP-ACTIVE"
    flow_change = flows.changes(changed)
    assert flow_change is not None
    assert list(flow_change.upserted) == change.upserted[key]["flow_ids"]

    sessions.handle(ChildSaDeleted(1, 10, "branch", 0, 0, DownReason.PEER_DELETE, T0))
    sessions.handle(IkeSaDown(1, "branch", LOCAL, REMOTE, DownReason.PEER_DELETE, T0))
    gone = feed.get_nowait()
    assert gone is not None
    change = crypto.changes(gone)
    assert change == RowChanges("crypto-sessions", {}, (key,))
    assert sets()["ike-sas"].changes(gone) == RowChanges("ike-sas", {}, ("1",))


def test_a_record_of_another_kind_is_not_a_row() -> None:
    store = Store()
    store.put(SESSIONS, "odd", object())
    changes = store.flush()
    assert changes is not None
    crypto = sets()["crypto-sessions"]
    assert crypto.snapshot(Source(store)) == {}
    # it can never have been shown, so it is reported gone, harmlessly
    assert crypto.changes(changes) == RowChanges("crypto-sessions", {}, ("odd",))


def entry(n: int) -> LogEntry:
    return LogEntry(T0 + n, "CRYPTO", 5, "SESSION_STATUS", f"line {n}", "192.0.2.2")


def test_syslog_rows_are_appends_and_evictions_of_the_ring() -> None:
    store = Store(syslog_size=3)
    syslog = sets()["syslog"]
    store.append_log(entry(1))
    store.append_log(entry(2))
    first = store.flush()
    assert first is not None
    change = syslog.changes(first)
    assert change is not None and list(change.upserted) == ["1", "2"] and not change.removed
    row = change.upserted["2"]
    assert row == {
        "seq": 2,
        "timestamp": iso_time(T0 + 2),
        "facility": "CRYPTO",
        "severity": 5,
        "severity_name": "notifications",
        "mnemonic": "SESSION_STATUS",
        "text": "line 2",
        "peer": "192.0.2.2",
        "message": "%CRYPTO-5-SESSION_STATUS: line 2",
    }
    for n in (3, 4, 5):
        store.append_log(entry(n))
    second = store.flush()
    assert second is not None
    change = syslog.changes(second)
    assert change is not None
    assert list(change.upserted) == ["3", "4", "5"] and change.removed == ("1", "2")
    assert list(syslog.snapshot(Source(store))) == ["3", "4", "5"]


def test_accounting_shows_records_and_servers_under_their_own_keys() -> None:
    store = Store()
    record = AccountingRecord(
        record_id=7,
        acct_session_id="0000000A",
        session_id="s1",
        peer="192.0.2.2",
        kind="Start",
        list_name="vpn",
        attributes=(
            ("Acct-Status-Type", "Start"),
            ("User-Name", "alice"),
            ("User-Password", "hunter2"),
            ("Cisco-AVPair", "isakmp-phase1-id=branch"),
            ("Cisco-AVPair", "isakmp-initator-ip=192.0.2.2"),
        ),
        state=DeliveryState.PENDING,
        server="r1",
        attempts=1,
        created_at=T0,
    )
    store.put(ACCOUNTING, 7, record)
    store.put(SERVERS, "r1", ServerState("r1", "127.0.0.1", 1812, 1813, requests=1))
    changes = store.flush()
    assert changes is not None
    accounting = sets()["accounting"]
    rows = accounting.snapshot(Source(store))
    assert set(rows) == {"record:7", "server:r1"}
    assert rows["record:7"]["type"] == "record" and rows["record:7"]["state"] == "pending"
    assert rows["record:7"]["attributes"][1] == {"name": "User-Name", "value": "alice"}
    assert rows["record:7"]["attributes"][2] == {"name": "User-Password", "value": MASK}
    assert [a["value"] for a in rows["record:7"]["attributes"][3:]] == [
        "isakmp-phase1-id=branch",
        "isakmp-initator-ip=192.0.2.2",
    ]
    assert "hunter2" not in repr(rows)
    assert rows["server:r1"]["type"] == "server" and rows["server:r1"]["requests"] == 1
    assert accounting.changes(changes) == RowChanges("accounting", rows, ())

    store.put(SERVERS, "r1", ServerState("r1", "127.0.0.1", 1812, 1813, alive=False))
    store.remove(ACCOUNTING, 7)
    later = store.flush()
    assert later is not None
    change = accounting.changes(later)
    assert change is not None and change.removed == ("record:7",)
    assert change.upserted["server:r1"]["alive"] is False


def test_peers_come_from_the_peers_table() -> None:
    store = Store()
    store.put(PEERS, ("192.0.2.2", 500), PeerEntry("192.0.2.2", 500, "branch", "PEER_POLICY"))
    store.flush()
    assert sets()["peers"].snapshot(Source(store)) == {
        "('192.0.2.2', 500)": {
            "address": "192.0.2.2",
            "port": 500,
            "description": "branch",
            "flags": "PEER_POLICY",
        }
    }


def test_running_config_is_one_row_of_the_masked_text() -> None:
    masked = f"hostname gw\ncrypto isakmp key {Secret('k')} address 0.0.0.0\n"
    source = Source(Store(), config=masked)
    rows = sets()["running-config"].snapshot(source)
    (row,) = rows.values()
    assert row["text"] == source.config and row["lines"] == 2 and len(row["sha256"]) == 64
    source.config += "end\n"
    changed = diff_rows(rows, sets()["running-config"].snapshot(source), "running-config")
    assert list(changed.upserted) == ["running-config"] and not changed.removed


def test_xsm_status_has_a_row_per_client() -> None:
    client = XsmClient(3, "admin", 15, "198.51.100.7", 50100, "sse", ("syslog",), T0, 12, 1)
    rows = sets()["xsm-status"].snapshot(Source(Store(), clients=[client]))
    assert rows == {
        "3": {
            "session": 3,
            "user": "admin",
            "privilege": 15,
            "address": "198.51.100.7",
            "port": 50100,
            "transport": "sse",
            "subscriptions": ["syslog"],
            "connected_since": iso_time(T0),
            "events_sent": 12,
            "events_dropped": 1,
        }
    }
    # a sampled set never follows the change feed
    assert sets()["xsm-status"].changes(ChangeSet(1, MappingProxyType({}))) is None


def test_diff_rows_pushes_only_what_differs() -> None:
    old = {"a": {"x": 1}, "b": {"x": 2}, "c": {"x": 3}}
    new = {"a": {"x": 1}, "b": {"x": 5}, "d": {"x": 4}}
    assert diff_rows(old, new, "interfaces") == RowChanges(
        "interfaces", {"b": {"x": 5}, "d": {"x": 4}}, ("c",)
    )
    assert not diff_rows(new, dict(new), "interfaces")


@dataclass
class Tunnel:
    name: str
    linux_name: str
    up: bool


def test_interfaces_name_the_gateways_tunnels() -> None:
    links = [
        Link("lo", 1, "unknown", True, 65536, "00:00:00:00:00:00", ("127.0.0.1/8",), 5, 1),
        Link("Tunnel1", 7, "up", True, 1400, "", ("172.16.0.1/30",), tx_bytes=99),
    ]

    @dataclass
    class WithTunnels(Source):
        def tunnel_interfaces(self) -> list[Tunnel]:
            return [Tunnel("Tunnel1", "Tunnel1", True), Tunnel("Tunnel2", "", False)]

    dataset = builtin_datasets(interfaces=InterfaceSampler(lambda: links))["interfaces"]
    rows = dataset.snapshot(WithTunnels(Store()))
    assert set(rows) == {"lo", "Tunnel1", "Tunnel2"}
    assert rows["lo"]["kind"] == "kernel" and rows["lo"]["ios_name"] == ""
    assert rows["lo"]["rx_bytes"] == 5 and rows["lo"]["addresses"] == ["127.0.0.1/8"]
    assert rows["Tunnel1"]["kind"] == "tunnel" and rows["Tunnel1"]["line_protocol"] == "up"
    assert rows["Tunnel1"]["tx_bytes"] == 99
    assert rows["Tunnel2"]["oper_status"] == "down" and rows["Tunnel2"]["line_protocol"] == "down"
    assert {len(r) for r in rows.values()} == {len(rows["lo"])}  # one shape for every row
    # a source without tunnels: kernel interfaces only
    assert set(dataset.snapshot(Source(Store()))) == {"lo", "Tunnel1"}
