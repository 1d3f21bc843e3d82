"""The data plane resolves an SA's way out once (Gateway.esp_sender) and resolves it
again when the peer moves (NAT rebinding, MOBIKE) or the SA goes."""

from __future__ import annotations

from engine.crypto.keys import ChildKeys
from engine.dataplane import packets
from engine.dataplane.plane import DataPlane
from engine.esp import SaTable
from engine.events import (
    Address,
    ChildAlgorithms,
    ChildSaDeleted,
    ChildSaInstalled,
    DownReason,
    EspTransforms,
    TrafficSelectorSet,
)

KEYS = ChildKeys(bytes(range(36)), b"", bytes(range(36, 72)), b"")
OURS, THEIRS = ("192.0.2.1", 4500), ("198.51.100.7", 4500)


class FakeGateway:
    def __init__(self) -> None:
        self.esp_handler: object = None
        self.resolved: list[Address] = []
        self.sent: list[tuple[Address, bytes]] = []
        self.published: list[object] = []

    def now(self) -> float:
        return 5.0

    def publish(self, event: object) -> None:
        self.published.append(event)

    def report_invalid_spi(self, spi: int, remote: Address) -> None:
        pass

    def esp_sender(self, local: Address, remote: Address, *, encapsulated: bool):  # type: ignore[no-untyped-def]
        self.resolved.append(remote)
        return lambda data: self.sent.append((remote, data))


class Sink:
    def __init__(self) -> None:
        self.delivered: list[bytes] = []

    def deliver(self, packet: bytes) -> None:
        self.delivered.append(packet)

    def selectors_added(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None:
        pass

    def selectors_removed(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None:
        pass


def installed() -> ChildSaInstalled:
    return ChildSaInstalled(
        ike_sa_id=1,
        child_sa_id=7,
        peer_name="peer",
        local=OURS,
        remote=THEIRS,
        spi_in=0x7001,
        spi_out=0x7002,
        algorithms=ChildAlgorithms("aes-gcm-256", "none", None, False),
        transforms=EspTransforms.named("aes-gcm-256", "none"),
        traffic_selectors=TrafficSelectorSet(("10.1.0.0/16",), ("10.2.0.0/16",)),
        lifetime=3600.0,
        lifetime_kb=None,
        udp_encapsulation=True,
        initiator=False,
        at=1.0,
        keys=KEYS,
    )


def the_peer() -> SaTable:
    """The peer's end of child 7 (it initiated), to make ESP the plane accepts."""
    table = SaTable()
    table.install(
        70,
        0x7002,
        0x7001,
        transforms=EspTransforms.named("aes-gcm-256", "none"),
        keys=KEYS,
        initiator=True,
        local_ts=["10.2.0.0/16"],
        remote_ts=["10.1.0.0/16"],
        now=1.0,
    )
    return table


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
