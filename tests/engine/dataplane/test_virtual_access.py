"""Dynamic VTI: each spoke gets the lowest free virtual access, kept across its child
rekeys and taken away with its last child; its routes are the spoke's selectors."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from engine.config.compile import TunnelInterface, TunnelRoute
from engine.crypto.keys import ChildKeys
from engine.dataplane.virtual_access import VirtualAccesses
from engine.events import (
    ChildAlgorithms,
    ChildSaDeleted,
    ChildSaInstalled,
    DownReason,
    EspTransforms,
    InterfaceAssigned,
    TrafficSelectorSet,
)

TEMPLATE = TunnelInterface("Virtual-Template1", None, None, 1360, ())


class Sink:
    def __init__(self, access: TunnelInterface) -> None:
        self.access = access
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


def installed(child: int, remote: str, peer: str = "Virtual-Template1 ALL") -> ChildSaInstalled:
    keys = ChildKeys(bytes(36), b"", bytes(36), b"")
    return ChildSaInstalled(
        ike_sa_id=child // 10,
        child_sa_id=child,
        peer_name=peer,
        local=("192.0.2.1", 500),
        remote=(remote, 500),
        spi_in=child,
        spi_out=child + 1000,
        algorithms=ChildAlgorithms("aes-gcm-256", "none", None, False),
        transforms=EspTransforms.named("aes-gcm-256", "none"),
        traffic_selectors=TrafficSelectorSet(("0.0.0.0/0",), (f"10.{child}.0.0/16", "0.0.0.0/0")),
        lifetime=3600.0,
        lifetime_kb=None,
        udp_encapsulation=False,
        initiator=False,
        at=1.0,
        keys=keys,
        interface="Virtual-Template1",
    )


def deleted(event: ChildSaInstalled) -> ChildSaDeleted:
    return ChildSaDeleted(
        event.ike_sa_id, event.child_sa_id, event.peer_name, 0, 0, DownReason.PEER_DELETE, 2.0
    )


def test_spokes_get_the_lowest_free_access_kept_across_rekeys() -> None:
    sinks: list[Sink] = []
    told: list[object] = []

    def make(access: TunnelInterface) -> Sink:
        sinks.append(Sink(access))
        return sinks[-1]

    accesses = VirtualAccesses(lambda: {TEMPLATE.name: TEMPLATE}, make, told.append)
    first, second = installed(11, "10.1.0.1"), installed(22, "10.2.0.1")
    for event in (first, second):
        accesses.on_event(event)
    assert [s.access.name for s in sinks] == ["Virtual-Access1", "Virtual-Access2"]
    assert sinks[0].access == replace(
        TEMPLATE,
        name="Virtual-Access1",
        routes=(TunnelRoute(ipaddress.ip_network("10.11.0.0/16")),),
    )
    rekeyed = replace(first, child_sa_id=12)
    accesses.on_event(rekeyed)  # same spoke: same access, no new sink
    assert len(sinks) == 2
    assert [e.interface for e in told if isinstance(e, InterfaceAssigned)] == [
        "Virtual-Access1",
        "Virtual-Access2",
        "Virtual-Access1",
    ]
    accesses.on_event(deleted(first))
    assert not sinks[0].stopped  # its rekeyed child still runs
    accesses.on_event(deleted(rekeyed))
    assert sinks[0].stopped
    accesses.on_event(installed(33, "10.3.0.1"))  # number 1 is free again
    assert sinks[-1].access.name == "Virtual-Access1"
    assert accesses.interfaces == {
        "Virtual-Access1": ("Virtual-Template1 ALL", "10.3.0.1"),
        "Virtual-Access2": ("Virtual-Template1 ALL", "10.2.0.1"),
    }


def test_children_of_other_peers_are_left_alone() -> None:
    told: list[object] = []
    accesses = VirtualAccesses(lambda: {}, lambda access: None, told.append)
    accesses.on_event(installed(11, "10.1.0.1"))
    assert told == [] and accesses.interfaces == {}
