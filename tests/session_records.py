"""A session record as the gateway makes one, for tests that feed a store by hand."""

from __future__ import annotations

from dataclasses import replace

from engine.events import ZERO, Counters
from engine.records import SessionRecord, SessionStatus


def session_record(
    session_id: str,
    status: SessionStatus = SessionStatus.UP_ACTIVE,
    totals: Counters = ZERO,
    *,
    at: float,
    **changes: object,
) -> SessionRecord:
    """A site-to-site session of peer "WAN 10" (10.0.0.2, ivrf CORP), up since `at`;
    `changes` replaces any other field."""
    record = SessionRecord(
        session_id=session_id,
        peer_name="WAN 10",
        interface="GigabitEthernet1",
        remote_ip="10.0.0.2",
        remote_port=500,
        local_ip="10.0.0.1",
        local_port=500,
        fvrf="",
        ivrf="CORP",
        description="",
        phase1_id="10.0.0.2",
        username="",
        status=status,
        ike_sa_ids=(1,),
        flow_ids=("f1",),
        capabilities="D",
        origin="crypto map",
        totals=totals,
        up_since=at,
        changed_at=at,
    )
    return replace(record, **changes)  # type: ignore[arg-type]
