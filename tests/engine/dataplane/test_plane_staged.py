"""An IKEv1 quick mode's responder receives on the new SA from QM2 on: the initiator
(charon) sends on it as soon as it has read QM2, before its QM3 reaches us. What comes
in meanwhile is decrypted, held, and delivered once QM3 installs the SA; until then
the old SA still carries what we send."""

from __future__ import annotations

import pytest
from plane_doubles import OURS, THEIRS, FakeGateway, Sink, installed, the_peer

from engine.dataplane import packets
from engine.dataplane import plane as plane_module
from engine.dataplane.plane import DataPlane
from engine.esp import SaTable
from engine.events import ChildSaDeleted, DownReason, InboundSaStaged

OLD, NEW = installed(), installed(8, 0x8001, 0x8002)


def running_pair() -> tuple[DataPlane, Sink, FakeGateway, SaTable]:
    """Our plane with child 7 installed and the peer's end, which has also installed
    the renewal (child 8) and sends on it: it read our QM2."""
    gateway = FakeGateway()
    plane = DataPlane(gateway)  # type: ignore[arg-type]
    plane.sink = sink = Sink()
    plane.on_event(OLD)
    peer = the_peer()
    the_peer(peer, spi_in=0x8002, spi_out=0x8001)
    return plane, sink, gateway, peer


def from_peer(peer: SaTable, sequence: int) -> tuple[bytes, bytes]:
    inner = packets.echo_request("10.2.0.5", "10.1.0.5", 9, sequence)
    esp, _ = peer.outbound(inner, 5.0)  # type: ignore[misc]
    return inner, esp


def test_packets_before_qm3_are_delivered_once_it_installs_the_sa() -> None:
    plane, sink, gateway, peer = running_pair()
    plane.on_event(InboundSaStaged(NEW))
    early = [from_peer(peer, n) for n in range(3)]
    for _, esp in early:
        plane.esp_received(esp, OURS, THEIRS, 5.0)
    assert sink.delivered == [] and not plane.table.drop_counts()
    # we still send on the old SA: the peer has not told us it has the new one
    assert plane.send(packets.echo_request("10.1.0.5", "10.2.0.5", 1, 1), now=5.0)
    assert int.from_bytes(gateway.sent[-1][1][:4], "big") == OLD.spi_out
    assert 8 not in plane.table and len(plane.table) == 1

    plane.on_event(NEW)
    assert sink.delivered == [inner for inner, _ in early]
    assert plane.table.counters(8).packets_in == 3
    assert plane.send(packets.echo_request("10.1.0.5", "10.2.0.5", 1, 2), now=5.0)
    assert int.from_bytes(gateway.sent[-1][1][:4], "big") == NEW.spi_out
    inner, esp = from_peer(peer, 3)
    plane.esp_received(esp, OURS, THEIRS, 5.0)
    assert sink.delivered[-1] == inner


def test_without_the_stage_such_packets_are_lost() -> None:
    plane, sink, _, peer = running_pair()
    _, esp = from_peer(peer, 0)
    plane.esp_received(esp, OURS, THEIRS, 5.0)
    plane.on_event(NEW)
    assert sink.delivered == []
    assert sum(plane.table.drop_counts().values()) == 1


def test_what_is_held_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plane_module, "HELD_PACKETS", 2)
    plane, sink, _, peer = running_pair()
    plane.on_event(InboundSaStaged(NEW))
    for n in range(5):
        plane.esp_received(from_peer(peer, n)[1], OURS, THEIRS, 5.0)
    plane.on_event(NEW)
    assert len(sink.delivered) == 2
    assert plane.counters["held past limit"] == 3


def test_a_stage_whose_qm3_never_comes_is_dropped() -> None:
    plane, sink, gateway, peer = running_pair()
    plane.on_event(InboundSaStaged(NEW))
    plane.esp_received(from_peer(peer, 0)[1], OURS, THEIRS, 5.0)
    gateway.now = lambda: NEW.at + plane_module.STAGED_TIMEOUT + 1  # type: ignore[method-assign]
    plane.tick()
    assert plane.counters["held past limit"] == 1
    plane.esp_received(from_peer(peer, 1)[1], OURS, THEIRS, 5.0)
    assert sum(plane.table.drop_counts().values()) == 1  # unknown SPI now
    # a QM3 later than that still installs the SA, afresh
    plane.on_event(NEW)
    assert 8 in plane.table and sink.delivered == []


def test_a_deleted_stage_goes_with_what_it_held() -> None:
    plane, sink, _, peer = running_pair()
    plane.on_event(InboundSaStaged(NEW))
    plane.esp_received(from_peer(peer, 0)[1], OURS, THEIRS, 5.0)
    plane.on_event(ChildSaDeleted(1, 8, "peer", 0, 0, DownReason.PEER_DELETE, 6.0))
    plane.esp_received(from_peer(peer, 1)[1], OURS, THEIRS, 5.0)
    assert sum(plane.table.drop_counts().values()) == 1
    assert sink.delivered == [] and len(plane.table) == 1
