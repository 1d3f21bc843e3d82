"""Routes into the TUN device follow the child SAs: netlink work only when a network
gains its first SA or loses its last, queued, never on every child SA or rekey."""

from __future__ import annotations

from collections.abc import Callable

from engine.dataplane.tun_sink import TunSink


class FakeDevice:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def route_soon(
        self, network: str, local: tuple[str, ...], on_error: Callable[[BaseException], None]
    ) -> None:
        self.calls.append(("route", network))

    def unroute_soon(self, network: str, on_error: Callable[[BaseException], None]) -> None:
        self.calls.append(("unroute", network))


class FakePlane:
    def __init__(self) -> None:
        self.counters: dict[str, int] = {}


def test_a_route_per_network_not_per_child_sa() -> None:
    sink = TunSink(FakePlane())  # type: ignore[arg-type]
    device = FakeDevice()
    sink.device = device  # type: ignore[assignment]
    local, remote = ("10.1.0.0/16",), ("10.2.0.0/16", "0.0.0.0/0")
    for _ in range(100):  # a child SA and 99 rekeys of it, each installed before the old goes
        sink.selectors_added(local, remote)
    for _ in range(99):
        sink.selectors_removed(local, remote)
    assert device.calls == [("route", "10.2.0.0/16")]  # never the default route
    sink.selectors_removed(local, remote)
    assert device.calls == [("route", "10.2.0.0/16"), ("unroute", "10.2.0.0/16")]
