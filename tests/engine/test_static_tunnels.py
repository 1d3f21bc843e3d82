"""Static crypto map entries: initiated when they have no IKE SA, known from the events
alone, brought back with a doubling backoff after failures."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.config.compile import CompiledConfig, PeerMeta
from engine.events import (
    ChildSaInstalled,
    DownReason,
    IkeSaAbandoned,
    IkeSaDown,
    IkeSaNegotiating,
    IkeSaUp,
    NegotiationFailed,
)
from engine.ike.policy import IkeConfig
from engine.static_tunnels import BACKOFF_FIRST, StaticTunnels


@dataclass
class FakeGateway:
    """What StaticTunnels uses of a gateway: a clock and initiate."""

    clock: float = 100.0
    initiated: list[str] = field(default_factory=list)
    children_asked: list[int] = field(default_factory=list)

    def now(self) -> float:
        return self.clock

    def initiate(self, peer_name: str) -> int:
        self.initiated.append(peer_name)
        return len(self.initiated)

    def create_child_sa(self, ike_sa_id: int) -> bool:
        self.children_asked.append(ike_sa_id)
        return True


def config() -> CompiledConfig:
    meta = PeerMeta(
        peer_name="WAN 10",
        crypto_map="WAN",
        seq=10,
        dynamic=False,
        interface="eth0",
        description="",
        fvrf="",
        ivrf="",
        accounting_list=None,
        reverse_route=False,
        initiate=True,
        remote="192.0.2.2",
    )
    return CompiledConfig(IkeConfig(), {"WAN 10": meta})


def child_installed(ike_sa_id: int, child_sa_id: int) -> ChildSaInstalled:
    """Only the fields StaticTunnels reads: whose child SA it is."""
    event = ChildSaInstalled.__new__(ChildSaInstalled)
    for name, value in (
        ("peer_name", "WAN 10"),
        ("child_sa_id", child_sa_id),
        ("ike_sa_id", ike_sa_id),
    ):
        object.__setattr__(event, name, value)
    return event


def negotiating(sa: int) -> IkeSaNegotiating:
    return IkeSaNegotiating(sa, "WAN 10", ("192.0.2.1", 500), ("192.0.2.2", 500), 0.0)


def test_a_static_peer_is_initiated_only_while_it_has_no_ike_sa() -> None:
    gateway = FakeGateway()
    tunnels = StaticTunnels(gateway, config)  # type: ignore[arg-type]
    tunnels.tick()
    assert gateway.initiated == ["WAN 10"]
    tunnels.on_event(negotiating(1))
    gateway.clock += 10
    tunnels.tick()
    assert gateway.initiated == ["WAN 10"]  # one is negotiating: no second attempt
    tunnels.on_event(
        IkeSaAbandoned(
            1, "WAN 10", ("192.0.2.1", 500), ("192.0.2.2", 500), DownReason.RETRANSMIT_GIVE_UP, 0.0
        )
    )
    gateway.clock += BACKOFF_FIRST * 2
    tunnels.tick()
    assert gateway.initiated == ["WAN 10", "WAN 10"]


def test_a_rekeyed_ike_sa_still_counts_and_a_delete_brings_it_back_after_the_backoff() -> None:
    gateway = FakeGateway()
    tunnels = StaticTunnels(gateway, config)  # type: ignore[arg-type]
    tunnels.on_event(negotiating(1))
    up = {"local": ("192.0.2.1", 500), "remote": ("192.0.2.2", 500)}
    from engine.events import IkeAlgorithms

    algorithms = IkeAlgorithms("aes-gcm-256", "sha256", "none", 31)
    for sa, rekeyed_from in ((1, None), (2, 1)):
        tunnels.on_event(
            IkeSaUp(sa, "WAN 10", up["local"], up["remote"], b"i" * 8, b"r" * 8, True, "", "",
                    algorithms, False, False, 3600.0, 0.0, rekeyed_from)
        )  # fmt: skip
    tunnels.on_event(child_installed(2, 20))
    tunnels.on_event(IkeSaDown(1, "WAN 10", up["local"], up["remote"], DownReason.REKEYED, 0.0))
    tunnels.tick()
    assert gateway.initiated == []  # the new IKE SA is up
    tunnels.on_event(IkeSaDown(2, "WAN 10", up["local"], up["remote"], DownReason.PEER_DELETE, 0.0))
    tunnels.tick()
    assert gateway.initiated == []  # the backoff after a delete: not at once
    gateway.clock += BACKOFF_FIRST
    tunnels.tick()
    assert gateway.initiated == ["WAN 10"]


def test_failures_double_the_backoff() -> None:
    gateway = FakeGateway()
    tunnels = StaticTunnels(gateway, config)  # type: ignore[arg-type]
    failed = NegotiationFailed(("192.0.2.1", 500), ("192.0.2.2", 500), "WAN 10", "no proposal", 0.0)
    waits = []
    for _ in range(4):
        tunnels.on_event(failed)
        start = gateway.clock
        for _ in range(1000):
            gateway.clock += 0.25
            tunnels.tick()
            if gateway.initiated:
                break
        waits.append(gateway.clock - start)
        gateway.initiated.clear()
    assert waits == sorted(waits) and waits[-1] >= 4 * waits[0]


def test_an_ike_sa_left_without_a_child_gets_a_new_one() -> None:
    """A child that expired after a refused rekey, or that the peer deleted: the static
    entry's tunnel is not up until a child carries it again."""
    from engine.events import ChildSaDeleted, IkeAlgorithms

    gateway = FakeGateway()
    created = gateway.children_asked
    tunnels = StaticTunnels(gateway, config)  # type: ignore[arg-type]
    ends = (("192.0.2.1", 500), ("192.0.2.2", 500))
    algorithms = IkeAlgorithms("aes-gcm-256", "sha256", "none", 31)
    tunnels.on_event(
        IkeSaUp(7, "WAN 10", *ends, b"i" * 8, b"r" * 8, True, "", "", algorithms, False, False,
                3600.0, 0.0)
    )  # fmt: skip
    tunnels.on_event(child_installed(7, 70))
    gateway.clock += 10
    tunnels.tick()
    assert created == []
    tunnels.on_event(ChildSaDeleted(7, 70, "WAN 10", 1, 2, DownReason.LIFETIME_EXPIRED, 0.0))
    tunnels.tick()
    assert created == [7] and gateway.initiated == []
    tunnels.tick()
    assert created == [7]  # once per backoff step
