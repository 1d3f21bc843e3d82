"""Stand-ins around a DataPlane for its unit tests: a gateway that records what the plane
asks of it, a sink that records what it delivers, one child SA (7, we responded) and
the peer's end of it, to make ESP the plane accepts."""

from __future__ import annotations

from engine.crypto.keys import ChildKeys
from engine.esp import SaTable
from engine.events import (
    Address,
    ChildAlgorithms,
    ChildSaInstalled,
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


def installed(
    child_sa_id: int = 7, spi_in: int = 0x7001, spi_out: int = 0x7002
) -> ChildSaInstalled:
    return ChildSaInstalled(
        ike_sa_id=1,
        child_sa_id=child_sa_id,
        peer_name="peer",
        local=OURS,
        remote=THEIRS,
        spi_in=spi_in,
        spi_out=spi_out,
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


def the_peer(table: SaTable | None = None, spi_in: int = 0x7002, spi_out: int = 0x7001) -> SaTable:
    """The peer's end of child 7 (it initiated), or of another child `installed` made
    with these SPIs crossed, to make ESP the plane accepts."""
    table = SaTable() if table is None else table
    table.install(
        len(table) + 70,
        spi_in,
        spi_out,
        transforms=EspTransforms.named("aes-gcm-256", "none"),
        keys=KEYS,
        initiator=True,
        local_ts=["10.2.0.0/16"],
        remote_ts=["10.1.0.0/16"],
        now=1.0,
    )
    return table
