"""The `/metrics` families read from store records: the exporter's names, labels and
state numbers, counters that include rekeyed child SAs, the gateway's own families,
label values escaped, and both exposition formats parsed back."""

from __future__ import annotations

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from engine.accounting.accountant import AccountingRecord, DeliveryState
from engine.accounting.transport import ServerState
from engine.events import ChildAlgorithms, Counters
from engine.records import ChildRecord, FlowRecord, IkeSaRecord, SessionRecord, SessionStatus
from engine.statistics import EngineStatistics
from engine.store import ACCOUNTING, FLOWS, IKE_SAS, SERVERS, SESSIONS, STATS, Store
from engine.xsm.metrics import GatewayMetrics

NOW = 10_000.0
ALGORITHMS = ChildAlgorithms("aes-gcm-256", "", None, False)


def child(child_sa_id: int, created: float, packets: int) -> ChildRecord:
    return ChildRecord(
        child_sa_id, 7, 0x1000 + child_sa_id, 0x2000 + child_sa_id, ALGORITHMS, created,
        created + 3600, None, False, Counters(packets * 100, packets, packets * 50, packets),
    )  # fmt: skip


def store_with_a_session() -> Store:
    store = Store()
    session = SessionRecord(
        "s1", 'branch "7"\nnorth', "", "192.0.2.7", 500, "192.0.2.1", 500, "", "", "",
        "192.0.2.7", "joe@cclient", SessionStatus.UP_ACTIVE, (7,), ("f1",), "", "config",
        Counters(5000, 50, 2500, 50), NOW - 100, NOW - 100, assigned_address="10.200.0.10",
    )  # fmt: skip
    store.put(SESSIONS, "s1", session)
    store.put(
        IKE_SAS,
        7,
        IkeSaRecord(
            7,
            "s1",
            ("192.0.2.1", 500),
            ("192.0.2.7", 500),
            "Active",
            False,
            local_id="192.0.2.1",
            remote_id="192.0.2.7",
            established_at=NOW - 100,
            version=1,
        ),
    )
    flow = FlowRecord(
        "f1", "s1", ("10.1.0.0/16",), ("10.200.0.10/32",), "config",
        (child(1, NOW - 100, 10), child(2, NOW - 5, 30)),
        retired=Counters(1000, 10, 500, 10),
    )  # fmt: skip
    store.put(FLOWS, "f1", flow)
    for n, state in enumerate((DeliveryState.ACKED, DeliveryState.SPOOLED, DeliveryState.ACKED)):
        store.put(
            ACCOUNTING,
            n,
            AccountingRecord(n, "0001", "s1", "192.0.2.7", "Start", "acc", (), state, "r1", 1, NOW),
        )
    store.put(
        SERVERS,
        "r1",
        ServerState("r1", "127.0.0.1", 1812, 1813, requests=3, responses=2, avg_rtt_ms=1.5),
    )
    store.put(
        STATS,
        "engine",
        EngineStatistics(NOW, 1, 0, 100, ike_drops={"bad SPI": 4}, esp_drops={"replay": 2}),
    )
    store.flush()
    return store


def families(store: Store, accept: str | None = None) -> dict[str, object]:
    body, content_type = GatewayMetrics(store, clock=lambda: NOW).render(accept)
    parse = (
        openmetrics_families if "openmetrics" in content_type else text_string_to_metric_families
    )
    return {family.name: family for family in parse(body.decode())}


def by_label(found: dict[str, object], name: str, label: str) -> dict[str, float]:
    """A family's samples (counters: their `_total`) by one label's value."""
    return {
        s.labels[label]: s.value
        for s in found[name].samples  # type: ignore[attr-defined]
        if not s.name.endswith(("_created",))
    }


def test_the_exporters_families_with_its_labels_and_state_numbers() -> None:
    found = families(store_with_a_session())
    (ike,) = found["ipsec_ike_sa_state"].samples
    assert ike.value == 2
    assert ike.labels == {
        "name": 'branch "7"\nnorth',
        "uid": "7",
        "version": "1",
        "local_host": "192.0.2.1",
        "local_id": "192.0.2.1",
        "remote_host": "192.0.2.7",
        "remote_id": "192.0.2.7",
        "remote_identity": "joe@cclient",
        "vips": "10.200.0.10",
    }  # fmt: skip (the quote and the newline come back: the exposition escaped them)
    (established,) = found["ipsec_ike_sa_established_seconds"].samples
    assert established.value == 100
    states = {s.labels["uid"]: s.value for s in found["ipsec_child_sa_state"].samples}
    assert states == {"1": 6, "2": 3}  # the older child is REKEYED, the newer INSTALLED
    packets = {s.labels["uid"]: s.value for s in found["ipsec_child_sa_packets_in"].samples}
    assert packets == {"1": 10, "2": 30}
    (sample,) = [s for s in found["ipsec_child_sa_bytes_in"].samples if s.labels["uid"] == "2"]
    assert sample.value == 3000 and sample.labels["remote_ts"] == "10.200.0.10/32"
    assert sample.labels["ike_sa_name"] == 'branch "7"\nnorth'
    assert found["ipsec_ike_sas"].samples[0].value == 1
    assert found["ipsec_up"].samples[0].value == 1


def test_the_gateways_own_families() -> None:
    found = families(store_with_a_session())
    by_status = {
        s.labels["status"]: s.value for s in found["ipsec_console_crypto_sessions"].samples
    }
    assert by_status == {
        status.value: int(status is SessionStatus.UP_ACTIVE) for status in SessionStatus
    }
    (session_in,) = found["ipsec_console_session_packets_in"].samples
    assert session_in.value == 50 and session_in.labels["session"] == "s1"
    records = {
        s.labels["state"]: s.value for s in found["ipsec_console_accounting_records"].samples
    }
    assert records["acked"] == 2 and records["spooled"] == 1 and records["failed"] == 0
    assert found["ipsec_console_accounting_spool_depth"].samples[0].value == 1
    responses = [
        s for s in found["ipsec_console_radius_responses"].samples if s.name.endswith("_total")
    ]
    assert responses[0].value == 2 and responses[0].labels == {"server": "r1"}
    drops = {
        (s.labels["plane"], s.labels["reason"]): s.value
        for s in found["ipsec_console_drops"].samples
        if s.name.endswith("_total")
    }
    assert drops == {("ike", "bad SPI"): 4, ("esp", "replay"): 2}


def test_openmetrics_when_asked_for() -> None:
    found = families(store_with_a_session(), "application/openmetrics-text; version=1.0.0")
    assert "ipsec_child_sa_bytes_out" in found and "ipsec_console_drops" in found


def test_an_empty_gateway_still_answers() -> None:
    found = families(Store())
    assert found["ipsec_ike_sas"].samples[0].value == 0
    assert all(s.value == 0 for s in found["ipsec_console_crypto_sessions"].samples)
