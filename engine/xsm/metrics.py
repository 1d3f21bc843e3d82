"""`GET /metrics`: the gateway in Prometheus' exposition formats.

The IKE and child SA families copy the names, label sets and state numbers of the
community strongSwan exporter (sergeymakinen/ipsec_exporter, its vici collector:
`ipsec_up`, `ipsec_ike_sas`, `ipsec_half_open_ike_sas`, `ipsec_ike_sa_state`,
`ipsec_ike_sa_established_seconds`, `ipsec_child_sa_state`, `ipsec_child_sa_bytes_in`,
`..._bytes_out`, `..._packets_in`, `..._packets_out`, `..._installed_seconds`), so
dashboards built on it work unchanged; the state numbers are its strongSwan mapping
(IKE ESTABLISHED 2, CONNECTING 1; child INSTALLED 3, REKEYED 6). The gateway's own
families are prefixed `ipsec_console_`.

Everything is read from the store at scrape time (a custom collector), one pass per
table, so a scrape costs O(records) and nothing is kept between scrapes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry

from engine.accounting.accountant import AccountingRecord, DeliveryState
from engine.accounting.transport import ServerState
from engine.records import FlowRecord, IkeSaRecord, SessionRecord, SessionStatus
from engine.statistics import EngineStatistics
from engine.store import ACCOUNTING, FLOWS, IKE_SAS, SERVERS, SESSIONS, STATS, Store

#: strongSwan's IKE_SA states as the exporter numbers them
IKE_STATE = {"Negotiating": 1, "Active": 2}
CHILD_INSTALLED, CHILD_REKEYED = 3, 6

IKE_LABELS = (
    "name", "uid", "version", "local_host", "local_id", "remote_host", "remote_id",
    "remote_identity", "vips",
)  # fmt: skip
CHILD_LABELS = (
    *(f"ike_sa_{label}" for label in IKE_LABELS),
    "name", "uid", "reqid", "mode", "protocol", "local_ts", "remote_ts",
)  # fmt: skip


class GatewayCollector(Collector):
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        snapshot = self.store.snapshot()
        sessions = {
            k: r for k, r in snapshot.table(SESSIONS).items() if isinstance(r, SessionRecord)
        }
        ike_sas = [r for r in snapshot.table(IKE_SAS).values() if isinstance(r, IkeSaRecord)]
        flows = [r for r in snapshot.table(FLOWS).values() if isinstance(r, FlowRecord)]
        stats = snapshot.table(STATS).get("engine")
        stats = stats if isinstance(stats, EngineStatistics) else None

        up = GaugeMetricFamily("ipsec_up", "Was the last scrape successful.")
        up.add_metric([], 1)
        yield up
        count = GaugeMetricFamily("ipsec_ike_sas", "Number of currently registered IKE SAs.")
        count.add_metric([], len(ike_sas))
        yield count
        half_open = GaugeMetricFamily(
            "ipsec_half_open_ike_sas", "Number of IKE SAs in half-open state."
        )
        half_open.add_metric(
            [], stats.half_open if stats else sum(r.state != "Active" for r in ike_sas)
        )
        yield half_open
        yield from self._ike_sas(ike_sas, sessions, now)
        yield from self._children(flows, ike_sas, sessions, now)
        yield from self._sessions(sessions)
        yield from self._accounting(snapshot.table(ACCOUNTING), snapshot.table(SERVERS))
        if stats is not None:
            yield from self._engine(stats)

    # -------------------------------------------------------- the exporter's families
    @staticmethod
    def _ike_labels(sa: IkeSaRecord, session: SessionRecord | None) -> list[str]:
        return [
            session.peer_name if session is not None else sa.session_id,
            str(sa.ike_sa_id),
            str(sa.version),
            sa.local[0],
            sa.local_id,
            sa.remote[0],
            sa.remote_id,
            session.username if session is not None else "",
            session.assigned_address if session is not None else "",
        ]

    def _ike_sas(
        self, ike_sas: list[IkeSaRecord], sessions: dict[object, SessionRecord], now: float
    ) -> Iterator[Metric]:
        state = GaugeMetricFamily("ipsec_ike_sa_state", "IKE SA state.", labels=IKE_LABELS)
        established = GaugeMetricFamily(
            "ipsec_ike_sa_established_seconds",
            "Number of seconds since the IKE SA has been established.",
            labels=IKE_LABELS,
        )
        for sa in ike_sas:
            labels = self._ike_labels(sa, sessions.get(sa.session_id))
            state.add_metric(labels, IKE_STATE.get(sa.state, 0))
            if sa.established_at is not None:
                established.add_metric(labels, max(0.0, now - sa.established_at))
        yield state
        yield established

    def _children(
        self,
        flows: list[FlowRecord],
        ike_sas: list[IkeSaRecord],
        sessions: dict[object, SessionRecord],
        now: float,
    ) -> Iterator[Metric]:
        by_id = {sa.ike_sa_id: sa for sa in ike_sas}
        families = {
            "state": GaugeMetricFamily(
                "ipsec_child_sa_state", "Child SA state.", labels=CHILD_LABELS
            ),
            "bytes_in": GaugeMetricFamily(
                "ipsec_child_sa_bytes_in", "Number of input bytes processed.", labels=CHILD_LABELS
            ),
            "bytes_out": GaugeMetricFamily(
                "ipsec_child_sa_bytes_out", "Number of output bytes processed.", labels=CHILD_LABELS
            ),
            "packets_in": GaugeMetricFamily(
                "ipsec_child_sa_packets_in",
                "Number of input packets processed.",
                labels=CHILD_LABELS,
            ),
            "packets_out": GaugeMetricFamily(
                "ipsec_child_sa_packets_out",
                "Number of output packets processed.",
                labels=CHILD_LABELS,
            ),
            "installed": GaugeMetricFamily(
                "ipsec_child_sa_installed_seconds",
                "Number of seconds since the child SA has been installed.",
                labels=CHILD_LABELS,
            ),
        }
        for flow in flows:
            session = sessions.get(flow.session_id)
            newest = flow.newest
            for child in flow.children:
                sa = by_id.get(child.ike_sa_id)
                ike = (
                    self._ike_labels(sa, session)
                    if sa is not None
                    else [flow.session_id, str(child.ike_sa_id), "", "", "", "", "", "", ""]
                )
                mode = "TRANSPORT" if child.algorithms.mode == "transport" else "TUNNEL"
                labels = [
                    *ike,
                    flow.flow_id,
                    str(child.child_sa_id),
                    str(child.child_sa_id),
                    mode,
                    "ESP",
                    ",".join(flow.local_ts),
                    ",".join(flow.remote_ts),
                ]
                state = CHILD_INSTALLED if child is newest else CHILD_REKEYED
                families["state"].add_metric(labels, state)
                counters = child.counters
                families["bytes_in"].add_metric(labels, counters.bytes_in)
                families["bytes_out"].add_metric(labels, counters.bytes_out)
                families["packets_in"].add_metric(labels, counters.packets_in)
                families["packets_out"].add_metric(labels, counters.packets_out)
                families["installed"].add_metric(labels, max(0.0, now - child.created_at))
        yield from families.values()

    # ------------------------------------------------------------ the gateway's own
    @staticmethod
    def _sessions(sessions: dict[object, SessionRecord]) -> Iterator[Metric]:
        by_status = GaugeMetricFamily(
            "ipsec_console_crypto_sessions",
            "Crypto sessions by status, as show crypto session counts them.",
            labels=["status"],
        )
        counts = Counter(record.status for record in sessions.values())
        for status in SessionStatus:
            by_status.add_metric([status.value], counts[status])
        yield by_status
        labels = ["session", "peer", "remote", "status"]
        names = {
            "bytes_in": "Bytes received in the session, rekeyed child SAs included.",
            "bytes_out": "Bytes sent in the session, rekeyed child SAs included.",
            "packets_in": "Packets received in the session, rekeyed child SAs included.",
            "packets_out": "Packets sent in the session, rekeyed child SAs included.",
        }
        families = {
            field: CounterMetricFamily(f"ipsec_console_session_{field}", text, labels=labels)
            for field, text in names.items()
        }
        for record in sessions.values():
            values = [
                record.session_id,
                record.peer_name,
                f"{record.remote_ip}:{record.remote_port}",
                record.status.value,
            ]
            for field, family in families.items():
                family.add_metric(values, getattr(record.totals, field))
        yield from families.values()

    @staticmethod
    def _accounting(records: object, servers: object) -> Iterator[Metric]:
        by_state = GaugeMetricFamily(
            "ipsec_console_accounting_records",
            "Accounting records in the store, by delivery state.",
            labels=["state"],
        )
        counts = Counter(
            r.state
            for r in records.values()
            if isinstance(r, AccountingRecord)  # type: ignore[attr-defined]
        )
        for state in DeliveryState:
            by_state.add_metric([state.value], counts[state])
        yield by_state
        spool = GaugeMetricFamily(
            "ipsec_console_accounting_spool_depth",
            "Accounting records waiting for a server (spooled or failed).",
        )
        spool.add_metric([], counts[DeliveryState.SPOOLED] + counts[DeliveryState.FAILED])
        yield spool
        labels = ["server"]
        alive = GaugeMetricFamily(
            "ipsec_console_radius_server_up", "1 while the RADIUS server answers.", labels=labels
        )
        names = {
            "requests": "Accounting requests sent to the server.",
            "retransmissions": "Retransmissions to the server.",
            "responses": "Responses from the server.",
            "timeouts": "Requests the server never answered.",
        }
        families = {
            field: CounterMetricFamily(f"ipsec_console_radius_{field}", text, labels=labels)
            for field, text in names.items()
        }
        rtt = GaugeMetricFamily(
            "ipsec_console_radius_rtt_seconds", "Average round trip to the server.", labels=labels
        )
        for server in servers.values():  # type: ignore[attr-defined]
            if not isinstance(server, ServerState):
                continue
            alive.add_metric([server.name], 1 if server.alive else 0)
            for field, family in families.items():
                family.add_metric([server.name], getattr(server, field))
            if server.avg_rtt_ms is not None:
                rtt.add_metric([server.name], server.avg_rtt_ms / 1000)
        yield alive
        yield from families.values()
        yield rtt

    @staticmethod
    def _engine(stats: EngineStatistics) -> Iterator[Metric]:
        drops = CounterMetricFamily(
            "ipsec_console_drops",
            "Datagrams and packets the gateway dropped, by plane and reason.",
            labels=["plane", "reason"],
        )
        for reason, count in sorted(stats.ike_drops.items()):
            drops.add_metric(["ike", reason], count)
        for reason, count in sorted(stats.esp_drops.items()):
            drops.add_metric(["esp", reason], count)
        yield drops
        events = CounterMetricFamily(
            "ipsec_console_ike_events",
            "IKE core events: cookies sent, notifies, internal errors.",
            labels=["event"],
        )
        for event, count in sorted(stats.ike_events.items()):
            events.add_metric([event], count)
        yield events


class GatewayMetrics:
    """The registry behind `/metrics`; `render` is the XSM service's metrics hook."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(GatewayCollector(store, clock))

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The body and Content-Type for the client's Accept header (OpenMetrics when
        asked for, else the text format Prometheus has always read)."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type
