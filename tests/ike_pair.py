"""Two sans-IO IKE engines joined by an in-memory network with an injected clock.

The link can lose, duplicate and reorder datagrams with a seeded random source,
and can put a NAT in front of A, so protocol behaviour is tested without sockets
or wall-clock time.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from engine.crypto.algorithms import DhId, PrfId
from engine.events import Address, IkeEvent
from engine.ike.engine import Datagram, IkeEngine
from engine.ike.policy import (
    AES_GCM_256,
    EspProposalPolicy,
    IkeConfig,
    IkeProposalPolicy,
    PeerPolicy,
    RetransmitPolicy,
)
from engine.secret import Secret

A_ADDR = "10.0.0.1"
B_ADDR = "10.0.0.2"
A_NET = ipaddress.ip_network("10.1.0.0/16")
B_NET = ipaddress.ip_network("10.2.0.0/16")

IKE_DEFAULT = IkeProposalPolicy(
    "default", (AES_GCM_256,), (PrfId.HMAC_SHA2_256,), (), (DhId.CURVE25519,)
)
ESP_DEFAULT = EspProposalPolicy("gcm256", (AES_GCM_256,))


def seeded(seed: int) -> Callable[[int], bytes]:
    return random.Random(seed).randbytes


def peer(
    name: str,
    remote: str,
    local_net: ipaddress.IPv4Network,
    remote_net: ipaddress.IPv4Network,
    **overrides: object,
) -> PeerPolicy:
    base = PeerPolicy(
        name=name,
        psk_local=Secret("lab-secret-1"),
        psk_remote=Secret("lab-secret-1"),
        ike_proposals=(IKE_DEFAULT,),
        esp_proposals=(ESP_DEFAULT,),
        local_ts=(local_net,),
        remote_ts=(remote_net,),
        remote_addresses=(ipaddress.ip_network(f"{remote}/32"),),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def site_to_site_config(
    a: dict | None = None, b: dict | None = None, retransmit: RetransmitPolicy | None = None
) -> tuple[IkeConfig, IkeConfig]:
    retransmit = retransmit or RetransmitPolicy(timeout=1.0, base=2.0, tries=5)
    cfg_a = IkeConfig(
        peers=(peer("to-b", B_ADDR, A_NET, B_NET, **(a or {})),), retransmit=retransmit
    )
    cfg_b = IkeConfig(
        peers=(peer("to-a", A_ADDR, B_NET, A_NET, **(b or {})),), retransmit=retransmit
    )
    return cfg_a, cfg_b


@dataclass
class LinkFaults:
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    seed: int = 1


@dataclass
class EnginePair:
    config_a: IkeConfig
    config_b: IkeConfig
    faults: LinkFaults = field(default_factory=LinkFaults)
    now: float = 1000.0
    #: NAT in front of A: A's packets appear to come from this address
    nat_a: Address | None = None
    #: the engine class on both ends (IKEv2's, or IKEv1's `IkeV1Engine`)
    engine_class: Callable[..., Any] = IkeEngine

    def __post_init__(self) -> None:
        self.a = self.engine_class(self.config_a, seeded(1))
        self.b = self.engine_class(self.config_b, seeded(2))
        self.events_a: list[IkeEvent] = []
        self.events_b: list[IkeEvent] = []
        self.wire: list[tuple[str, Datagram]] = []
        self.wire_times: list[float] = []
        self.delivered = 0
        self._rng = random.Random(self.faults.seed)
        self._inflight: list[tuple[str, Datagram]] = []
        self.blocked: set[str] = set()
        self._nat_map: dict[Address, Address] = {}

    # -------------------------------------------------------------- network
    def _collect(self) -> None:
        for name, engine in (("a", self.a), ("b", self.b)):
            for dgram in engine.datagrams_to_send():
                self.wire.append((name, dgram))
                self.wire_times.append(self.now)
                if name in self.blocked:
                    continue
                if self._rng.random() < self.faults.loss:
                    continue
                copies = 2 if self._rng.random() < self.faults.duplicate else 1
                for _ in range(copies):
                    if self._inflight and self._rng.random() < self.faults.reorder:
                        self._inflight.insert(
                            self._rng.randrange(len(self._inflight)), (name, dgram)
                        )
                    else:
                        self._inflight.append((name, dgram))
        self.events_a += self.a.events()
        self.events_b += self.b.events()

    def _deliver(self, sender: str, dgram: Datagram) -> None:
        self.delivered += 1
        if sender == "a":
            source = dgram.local
            if self.nat_a is not None:
                source = self._nat_map.setdefault(
                    dgram.local, (self.nat_a[0], self.nat_a[1] + len(self._nat_map))
                )
            self.b.receive_datagram(dgram.data, dgram.remote, source, self.now)
        else:
            dest = dgram.remote
            if self.nat_a is not None:
                reverse = {v: k for k, v in self._nat_map.items()}
                if dest not in reverse:
                    return
                dest = reverse[dest]
            self.a.receive_datagram(dgram.data, dest, dgram.local, self.now)

    def step(self) -> bool:
        """Deliver everything in flight; returns whether anything moved."""
        self._collect()
        if not self._inflight:
            return False
        batch, self._inflight = self._inflight, []
        for sender, dgram in batch:
            self._deliver(sender, dgram)
        self._collect()
        return True

    def run(self, duration: float = 0.0, max_steps: int = 100_000) -> None:
        """Exchange datagrams and fire timers until `duration` seconds have passed."""
        until = self.now + duration
        for _ in range(max_steps):
            if self.step():
                continue
            timers = [t for t in (self.a.get_timer(), self.b.get_timer()) if t is not None]
            next_timer = min(timers) if timers else None
            if next_timer is None or next_timer > until:
                self.now = max(self.now, until)
                return
            self.now = max(self.now, next_timer)
            self.a.handle_timer(self.now)
            self.b.handle_timer(self.now)
        raise AssertionError("the pair did not settle")

    def advance(self, seconds: float) -> None:
        self.run(seconds)

    # -------------------------------------------------------------- actions
    def a_local(self, port: int = 500) -> Address:
        return (A_ADDR, port)

    def initiate(self, from_b: bool = False) -> int:
        if from_b:
            return self.b.initiate("to-a", (B_ADDR, 500), None, self.now)
        return self.a.initiate("to-b", (A_ADDR, 500), None, self.now)

    def established(self, duration: float = 5.0) -> None:
        self.initiate()
        self.run(duration)

    # -------------------------------------------------------------- views
    def of_type(self, side: str, kind: type) -> list:
        events = self.events_a if side == "a" else self.events_b
        return [e for e in events if isinstance(e, kind)]

    def live_ike(self, side: str) -> list:
        engine = self.a if side == "a" else self.b
        return [sa for sa in engine.ike_sas() if sa.is_up]

    def children(self, side: str) -> list:
        return [c for sa in self.live_ike(side) for c in sa.children.values()]


def assert_timers_ahead(engine: IkeEngine, now: float) -> None:
    """Serve what is due: afterwards no timer of the engine or of any SA is in the past."""
    engine.handle_timer(now)
    when = engine.get_timer()
    assert when is None or when > now
    for sa in engine.ike_sas():
        assert sa.next_timer() > now, sa
