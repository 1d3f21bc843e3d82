"""The lab: a gateway and lab peers in one process, negotiating real IKEv2 over loopback.

Each lab peer is a gateway of its own on its own 127.0.1.x address, so what the
console shows is the engine at work, not a simulation. Lifetimes are short
so that rekeys happen while you watch; one peer has a wrong pre-shared key so
that failures show too.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, replace

from engine.events import IkeEvent
from engine.gateway import Gateway
from engine.ike.constants import DhId, IntegId, PrfId
from engine.ike.policy import (
    AES_CBC_256,
    AES_GCM_256,
    DpdPolicy,
    EspProposalPolicy,
    IkeConfig,
    IkeProposalPolicy,
    PeerPolicy,
)
from engine.secret import Secret

GATEWAY_ADDRESS = "127.0.0.1"
GATEWAY_NET = ipaddress.ip_network("10.0.0.0/16")
LAB_PSK = Secret("lab-pre-shared-key")

LAB_IKE = IkeProposalPolicy(
    "lab",
    (AES_GCM_256, AES_CBC_256),
    (PrfId.HMAC_SHA2_256, PrfId.HMAC_SHA2_384),
    (IntegId.HMAC_SHA2_256_128,),
    (DhId.CURVE25519, DhId.ECP_256, DhId.MODP_2048),
)
LAB_ESP = (
    EspProposalPolicy("esp-gcm-256", (AES_GCM_256,)),
    EspProposalPolicy("esp-aes-256-sha256", (AES_CBC_256,), (IntegId.HMAC_SHA2_256_128,)),
)


@dataclass(frozen=True)
class LabPeer:
    address: str
    subnet: ipaddress.IPv4Network
    psk: Secret = LAB_PSK
    child_lifetime: float = 3600.0


def lab_peers(count: int = 8) -> list[LabPeer]:
    peers = [
        LabPeer(f"127.0.1.{n}", ipaddress.ip_network(f"10.{100 + n}.0.0/24"))
        for n in range(1, count + 1)
    ]
    peers[1] = replace(peers[1], child_lifetime=60.0)  # rekeys you can watch
    peers[-1] = replace(peers[-1], psk=Secret("a-wrong-key"))  # a failure you can watch
    return peers


def gateway_config() -> IkeConfig:
    """The gateway answers any loopback peer (a dynamic crypto map)."""
    responder = PeerPolicy(
        name="lab-peers",
        psk_local=LAB_PSK,
        psk_remote=LAB_PSK,
        ike_proposals=(LAB_IKE,),
        esp_proposals=LAB_ESP,
        local_ts=(GATEWAY_NET,),
        remote_ts=(ipaddress.ip_network("10.0.0.0/8"),),
        remote_addresses=(ipaddress.ip_network("127.0.0.0/8"),),
        dpd=DpdPolicy(interval=30, retry_interval=5),
        description="lab remote sites",
    )
    return IkeConfig(peers=(responder,))


def peer_config(peer: LabPeer) -> IkeConfig:
    policy = PeerPolicy(
        name="gateway",
        psk_local=peer.psk,
        psk_remote=peer.psk,
        ike_proposals=(LAB_IKE,),
        esp_proposals=LAB_ESP,
        local_ts=(peer.subnet,),
        remote_ts=(GATEWAY_NET,),
        remote_addresses=(ipaddress.ip_network(f"{GATEWAY_ADDRESS}/32"),),
        child_lifetime=peer.child_lifetime,
        ike_lifetime=600.0,
    )
    return IkeConfig(peers=(policy,))


class Lab:
    """Starts the gateway and its lab peers; the peers come back after a failure."""

    def __init__(self, ike_port: int = 15500, natt_port: int = 15501, peers: int = 8) -> None:
        self.gateway = Gateway(
            gateway_config(), bind=GATEWAY_ADDRESS, ike_port=ike_port, natt_port=natt_port
        )
        self.peers = [
            (p, Gateway(peer_config(p), bind=p.address, ike_port=0, natt_port=0))
            for p in lab_peers(peers)
        ]
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, listener: Callable[[IkeEvent], None] | None = None) -> None:
        if listener is not None:
            self.gateway.subscribe(listener)
        await self.gateway.start()
        for _, gw in self.peers:
            await gw.start()
        self._tasks = [asyncio.create_task(self._keep_up(gw)) for _, gw in self.peers]

    async def _keep_up(self, gw: Gateway) -> None:
        """Like a static crypto map entry: initiate, and again whenever it is down."""
        remote = (GATEWAY_ADDRESS, self.gateway.ike_port)
        while True:
            if not any(sa.is_up or sa.state.value.endswith("sent") for sa in gw.engine.ike_sas()):
                gw.initiate("gateway", remote)
            await asyncio.sleep(5.0)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for _, gw in self.peers:
            await gw.stop()
        await self.gateway.stop()
