"""A synthetic console target: fabricated sessions in a real Store and Control.

What one gateway pair on loopback cannot show (hundreds or 10,000 sessions, every status
at once, a frozen clock) the console tests and `bench/tui.py` get from this. Session
`index` is peer 10.x.y.z:500 (z = index % 256) with one flow to 10.(100 + index % 100).
(index // 100).0/24 and the description `branch NNN`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from engine.control import Control
from engine.events import ChildAlgorithms, Counters
from engine.records import ChildRecord, FlowRecord, SessionRecord, SessionStatus
from engine.store import FLOWS, SESSIONS, Store

ALG = ChildAlgorithms("AES_GCM_16_256", "", None, False)


class SyntheticTarget:
    """Shaped like a VpnService for the console: store, control, config path, last reload.

    `statuses` are dealt round the sessions by index; `digits` is the width of the number
    in each description; with `samples`, every write records a counter sample, so rates
    and graphs move (the timestamps are the `now` given to `put`).
    """

    def __init__(
        self,
        count: int,
        *,
        statuses: Sequence[SessionStatus] = tuple(SessionStatus),
        digits: int = 3,
        samples: bool = False,
    ) -> None:
        self.store = Store()
        self.control = Control(self)  # type: ignore[arg-type]
        self.last_reload = None
        self.model = None
        self.compiled = None
        self.gateway = None
        self.config_path = Path("synthetic.conf")
        self.count = count
        self.statuses = tuple(statuses)
        self.digits = digits
        self.samples = samples
        self.started = time.time() - 60
        #: Each index's session id (None: not written yet), to find its last records.
        self._session_ids: list[str | None] = []
        self.move_all(0)

    def put(
        self,
        index: int,
        traffic: int,
        status: SessionStatus | None = None,
        now: float | None = None,
    ) -> str:
        """Write session `index` and its flow with `traffic` packets each way."""
        now = time.time() if now is None else now
        ids = self._session_ids
        known = ids[index] if index < len(ids) else None
        before = self.store.get(SESSIONS, known) if known is not None else None
        flow_before = (
            self.store.get(FLOWS, before.flow_ids[0]) if isinstance(before, SessionRecord) else None
        )
        if isinstance(before, SessionRecord) and isinstance(flow_before, FlowRecord):
            # Written before: the same strings and tuples again (as the engine's records
            # share theirs from one write to the next), not a fresh copy of each per tick.
            ip, session_id, peer_name = before.remote_ip, before.session_id, before.peer_name
            description, flow_ids = before.description, before.flow_ids
            ike_sa_ids, flow_id = before.ike_sa_ids, flow_before.flow_id
            local_ts, remote_ts = flow_before.local_ts, flow_before.remote_ts
        else:
            ip = f"10.{index // 65536}.{index // 256 % 256}.{index % 256}"
            session_id = f"{ip}:500"
            remote_net = f"10.{100 + index % 100}.{index // 100 % 256}.0/24"
            flow_id = f"{session_id} 10.0.0.0/16 {remote_net}"
            peer_name, description = f"peer{index}", f"branch {index:0{self.digits}d}"
            flow_ids, local_ts, remote_ts = (flow_id,), ("10.0.0.0/16",), (remote_net,)
            ike_sa_ids = (index,)
            if index >= len(ids):
                ids.extend([None] * (index + 1 - len(ids)))
            ids[index] = session_id
        counters = Counters(traffic * 1000, traffic, traffic * 500, traffic)
        child = ChildRecord(
            index, index, 0x1000 + index, 0x2000 + index, ALG, now, now + 3600, None, False,
            counters,
        )  # fmt: skip
        flow = FlowRecord(flow_id, session_id, local_ts, remote_ts, "crypto map", (child,))
        self.store.put(FLOWS, flow_id, flow)
        record = SessionRecord(
            session_id=session_id,
            peer_name=peer_name,
            interface="eth0",
            remote_ip=ip,
            remote_port=500,
            local_ip="192.0.2.1",
            local_port=500,
            fvrf="",
            ivrf="blue" if index % 2 else "",
            description=description,
            phase1_id=ip,
            username="",
            status=status or self.statuses[index % len(self.statuses)],
            ike_sa_ids=ike_sa_ids,
            flow_ids=flow_ids,
            capabilities="D",
            origin="crypto map",
            totals=counters,
            up_since=self.started,
            changed_at=now,
        )
        self.store.put(SESSIONS, session_id, record)
        if self.samples:
            self.store.record_sample(
                session_id, now, counters.bytes_in, counters.bytes_out,
                counters.packets_in, counters.packets_out,
            )  # fmt: skip
        return session_id

    def move_all(self, traffic: int, now: float | None = None) -> None:
        """Every session's and flow's counters move to `traffic`, in one store batch (as
        the engine's 1 Hz poll)."""
        with self.store.batch():
            for index in range(self.count):
                self.put(index, traffic, now=now)
