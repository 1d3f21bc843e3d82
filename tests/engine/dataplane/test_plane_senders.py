"""The data plane resolves an SA's way out once (Gateway.esp_sender) and resolves it
again when the peer moves (NAT rebinding, MOBIKE) or the SA goes."""

from __future__ import annotations

from plane_doubles import OURS, THEIRS, FakeGateway, Sink, installed, the_peer

from engine.dataplane import packets
from engine.dataplane.plane import DataPlane
from engine.events import ChildSaDeleted, DownReason


def test_the_sender_is_resolved_once_and_again_when_the_peer_moves() -> None:
    gateway = FakeGateway()
    plane = DataPlane(gateway)  # type: ignore[arg-type]
    plane.on_event(installed())
    plane.sink = sink = Sink()
    outbound = packets.echo_request("10.1.0.5", "10.2.0.5", 1, 1)
    for _ in range(3):
        assert plane.send(outbound, now=5.0)
    assert gateway.resolved == [THEIRS]
    assert [remote for remote, _ in gateway.sent] == [THEIRS] * 3

    peer = the_peer()
    moved = ("203.0.113.9", 61000)
    esp, _ = peer.outbound(packets.echo_request("10.2.0.5", "10.1.0.5", 2, 1), 5.0)  # type: ignore[misc]
    plane.esp_received(esp, OURS, moved, 5.0)
    assert len(sink.delivered) == 1
    assert plane.send(outbound, now=5.0)
    assert gateway.resolved == [THEIRS, moved]
    assert gateway.sent[-1][0] == moved

    plane.on_event(ChildSaDeleted(1, 7, "peer", 0, 0, DownReason.PEER_DELETE, 6.0))
    assert not plane.send(outbound, now=6.0)
    plane.on_event(installed())
    assert plane.send(outbound, now=6.0)
    assert gateway.resolved == [THEIRS, moved, THEIRS]
