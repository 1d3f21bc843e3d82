"""When an IKE SA next needs attention, and what is due then: retransmission, the
half-open deadline, hard lifetimes, rekeys by time, and liveness checks (RFC 7296 2.4,
2.8). Every due item is acted on so that it is no longer due: a timer that stayed in
the past would be served again at once, forever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import DownReason
from engine.ike.child_sa import ChildState
from engine.ike.exchanges.liveness import LivenessCheck
from engine.ike.exchanges.rekey_child import RekeyChild
from engine.ike.exchanges.rekey_ike import RekeyIke
from engine.ike.sa_state import IkeState

if TYPE_CHECKING:
    from engine.ike.ike_sa import IkeSa

NEVER = float("inf")


def _dpd_due(sa: IkeSa) -> float:
    dpd = sa.peer.dpd if sa.peer else None
    if dpd is None or sa.state is not IkeState.ESTABLISHED or sa.tasks.busy:
        return NEVER
    return sa.liveness.last_inbound + dpd.interval


def next_timer(sa: IkeSa) -> float:
    if sa.state is IkeState.CLOSED:
        return NEVER
    candidates = [sa.expire_at, sa.tasks.retransmission_due(), _dpd_due(sa)]
    if sa.state is IkeState.ESTABLISHED:
        candidates.append(sa.rekey_at)
    if sa.state is IkeState.HALF_OPEN:
        candidates.append(sa.half_open_deadline)
    for child in sa.children.values():
        candidates.append(child.expire_at)
        if child.state is ChildState.INSTALLED:
            candidates.append(child.rekey_at)
    return min(candidates)


def handle_timer(sa: IkeSa, now: float) -> None:
    if sa.state is IkeState.CLOSED:
        return
    sa.tasks.retransmit(now)
    if sa.state is IkeState.CLOSED:
        return
    if sa.state is IkeState.HALF_OPEN and now >= sa.half_open_deadline:
        sa.close(DownReason.HALF_OPEN_TIMEOUT, now, notify_peer=False)
        return
    if now >= sa.expire_at:
        sa.close(DownReason.LIFETIME_EXPIRED, now, notify_peer=True)
        return
    for child in list(sa.children.values()):
        if now >= child.expire_at:
            sa.expire_child(child, now)
        elif child.state is ChildState.INSTALLED and now >= child.rekey_at:
            child.rekey_at = NEVER
            sa.start(RekeyChild(child.child_sa_id), now)
    if sa.state is IkeState.ESTABLISHED and now >= sa.rekey_at:
        sa.rekey_at = NEVER
        if not sa.tasks.has_queued(RekeyIke):
            sa.start(RekeyIke(), now)
    if now >= _dpd_due(sa):
        sa.start(LivenessCheck(), now)
    sa.tasks.pump(now)
