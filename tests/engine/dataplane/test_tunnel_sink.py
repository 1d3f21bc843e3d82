"""Tunnel interfaces as Linux devices: names derived from the IOS ones (valid, unique
in a namespace), and the data plane handing each tunnel's packets to its own sink."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from engine.config.compile import TunnelInterface, TunnelRoute
from engine.dataplane.tunnel_sink import IFNAMSIZ, TunnelSink, linux_names


def test_names_follow_the_ios_name_and_fit_linux() -> None:
    assert linux_names("Tunnel1")[:3] == ["Tunnel1", "Tunnel1-2", "Tunnel1-3"]
    long = linux_names("Tunnel2147483647")
    assert long[0] == "Tu2147483647"
    assert all(len(name) <= IFNAMSIZ for name in long + linux_names("Virtual-Access123"))
    assert len(set(long)) == len(long)


class FakeDevice:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []
        self.index = 7

    def route_soon(
        self, network: str, local: tuple[str, ...], on_error: object, metric: int = 0
    ) -> None:
        self.calls.append(("route", network, metric))

    def unroute_soon(self, network: str, on_error: object, metric: int = 0) -> None:
        self.calls.append(("unroute", network, metric))


class FakePlane:
    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.tunnel_sinks: dict[str, object] = {}


def test_routes_follow_the_line_protocol_with_their_distances() -> None:
    tunnel = TunnelInterface(
        "Tunnel2",
        None,
        None,
        None,
        (
            TunnelRoute(ipaddress.ip_network("172.31.0.0/16"), 250),  # floating
            TunnelRoute(ipaddress.ip_network("10.9.0.0/16")),
        ),
        "203.0.113.22",
    )
    sink = TunnelSink(FakePlane(), tunnel)  # type: ignore[arg-type]
    device = FakeDevice()
    sink.device = device  # type: ignore[assignment]
    assert device.calls == []  # no SA yet: line protocol down, no routes
    sink.line_up()
    assert device.calls == [("route", "172.31.0.0/16", 250), ("route", "10.9.0.0/16", 0)]
    device.calls.clear()
    moved = replace(tunnel, routes=(TunnelRoute(ipaddress.ip_network("10.9.0.0/16")),))
    sink.update(moved)  # a reload dropped the floating route
    assert device.calls == [("unroute", "172.31.0.0/16", 250)]
    device.calls.clear()
    sink.line_down()
    assert device.calls == [("unroute", "10.9.0.0/16", 0)]
