"""The lab: the gateway of `lab-gateway.conf` and the peers of `lab-peers.conf`, in one
process, negotiating real IKEv2 and exchanging real ESP over loopback.

Each interface of `lab-peers.conf` that carries a crypto map becomes one lab peer:
its own IKE engine and data plane on the interface's 127.0.x.y address, keeping its
tunnel up and pinging the gateway's protected network at its own rate. Each tunnel
interface there is a route-based branch, on its tunnel source's address, pinging into
its tunnel what its routes send there. A few peers
come and go. ESP travels in UDP (forced encapsulation), so nothing needs root.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from engine import syslog
from engine.accounting.collector import Collector
from engine.config.compile import CompiledConfig, TunnelInterface
from engine.config.loader import load_compiled
from engine.dataplane.lab import EchoSource
from engine.dataplane.plane import DataPlane
from engine.events import DownReason
from engine.gateway import Gateway
from engine.service import VpnService
from engine.static_tunnels import StaticTunnels

GATEWAY_ADDRESS = "127.0.0.1"
#: seconds between lab events where a remote user disconnects (it comes back by itself)
CHURN_INTERVAL = (20.0, 45.0)


def sample_config(name: str) -> Path:
    """A file of sample-configs/, from a checkout or from an installed wheel (which puts
    them under <prefix>/share/ipsec-console/sample-configs)."""
    checkout = Path(__file__).resolve().parent.parent / "sample-configs" / name
    if checkout.exists():
        return checkout
    return Path(sys.prefix) / "share" / "ipsec-console" / "sample-configs" / name


@dataclass
class LabPeer:
    name: str
    address: str
    gateway: Gateway
    plane: DataPlane
    traffic: EchoSource
    tunnels: StaticTunnels


def lab_peers(
    peers_file: Path, ike_port: int, natt_port: int, limit: int | None = None
) -> list[LabPeer]:
    loaded = load_compiled(peers_file, ike_port=ike_port, natt_port=natt_port)
    compiled = loaded.compiled
    model = loaded.model
    peers = []
    for interface in model.interfaces.values():
        tunnel = compiled.tunnels.get(interface.name)
        if tunnel is not None:
            # a route-based branch: it sits on its tunnel source's address
            source = model.interfaces.get(
                interface.tunnel_source[0] if interface.tunnel_source else ""
            )
            address = source.address if source else None
            pings = _tunnel_pings(tunnel)
        else:
            address, pings = interface.address, None
        if (interface.crypto_map is None and tunnel is None and interface.ezvpn is None) or (
            address is None
        ):
            continue
        metas = {n: m for n, m in compiled.meta.items() if m.interface == interface.name}
        policies = tuple(p for p in compiled.ike.peers if p.name in metas)
        if not policies:
            continue
        subset = CompiledConfig(replace(compiled.ike, peers=policies), metas, compiled.hostname)
        gateway = Gateway(
            subset.ike,
            bind=str(address.ip),
            ike_port=0,
            natt_port=0,
            dataplane=True,
            esp_over_ip=False,
        )
        plane = DataPlane(gateway)
        tunnels = StaticTunnels(gateway, lambda c=subset: c)
        gateway.bus.subscribe("data plane", plane.on_event, DataPlane.EVENTS)
        gateway.bus.subscribe("static tunnels", tunnels.on_event, StaticTunnels.EVENTS)
        rate = 0.5 + (len(peers) % 5)  # pings per second: each peer its own load
        traffic = EchoSource(plane, rate=rate, tunnel=pings)
        peers.append(LabPeer(interface.name, str(address.ip), gateway, plane, traffic, tunnels))
        if limit is not None and len(peers) >= limit:
            break
    return peers


def _tunnel_pings(tunnel: TunnelInterface) -> tuple[str, str, str] | None:
    """(interface, from, to) for a route-based branch: from its tunnel address to the
    first host of the first network it routes into the tunnel."""
    if tunnel.address is None or not tunnel.routes:
        return None
    return tunnel.name, str(tunnel.address.ip), str(tunnel.routes[0].network.network_address + 1)


class Lab:
    def __init__(
        self,
        ike_port: int = 15500,
        natt_port: int = 15501,
        peers: int | None = None,
        gateway_config: Path | None = None,
        peers_config: Path | None = None,
        control_path: str | Path | None = None,
        bind: str = GATEWAY_ADDRESS,
        serve_control: bool = True,
    ) -> None:
        # the lab's accounting spool is thrown away with the lab
        self._state = tempfile.TemporaryDirectory(prefix="ipsec-console-lab-")
        self.service = VpnService(
            gateway_config or sample_config("lab-gateway.conf"),
            bind=bind,
            ike_port=ike_port,
            natt_port=natt_port,
            dataplane="echo",
            esp_over_ip=False,
            control_path=control_path,
            serve_control=serve_control,
            state_dir=self._state.name,
        )
        self.collectors: list[Collector] = []
        self.peers_config = peers_config or sample_config("lab-peers.conf")
        self.peer_limit = peers
        self.peers: list[LabPeer] = []
        self._churn: asyncio.Task[None] | None = None
        self._random = random.Random()

    @property
    def gateway(self) -> Gateway:
        return self.service.gateway

    async def start(self) -> None:
        await self._start_collectors()
        await self.service.start()
        self.peers = lab_peers(
            self.peers_config, self.gateway.ike_port, self.gateway.natt_port, self.peer_limit
        )
        for peer in self.peers:
            await peer.gateway.start()
            peer.plane.start()
            peer.tunnels.start()
            peer.traffic.start()
        self._churn = asyncio.create_task(self._come_and_go())

    async def _start_collectors(self) -> None:
        """The embedded RADIUS server(s) the lab configuration sends accounting to."""
        model = self.service.model
        servers = [
            *model.radius_servers,
            *(s for g in model.radius_groups.values() for s in g.servers),
        ]
        seen: set[tuple[str, int]] = set()
        for server in servers:
            key = server.key or model.radius.key
            where = (str(server.address), server.acct_port)
            if key is None or where in seen or not str(server.address).startswith("127."):
                continue
            seen.add(where)
            collector = Collector(key)
            try:
                await collector.serve(*where)
            except OSError as err:
                self.service.logbook.log(
                    syslog.entry(
                        "LAB",
                        4,
                        "RADIUS",
                        f"lab RADIUS collector on {where[0]}:{where[1]} not "
                        f"started: {err.strerror}; accounting stays spooled",
                    )
                )
                continue
            self.collectors.append(collector)

    async def _come_and_go(self) -> None:
        """Now and then a remote user drops off; its static entry brings it back."""
        while True:
            await asyncio.sleep(self._random.uniform(*CHURN_INTERVAL))
            users = [p for p in self.peers if p.name.startswith("lab-user")]
            if not users:
                continue
            self._random.choice(users).gateway.delete_all(DownReason.LOCAL_DELETE)

    async def stop(self) -> None:
        if self._churn is not None:
            self._churn.cancel()
        for peer in self.peers:
            peer.traffic.stop()
            peer.tunnels.stop()
            peer.plane.stop()
            await peer.gateway.stop()
        await self.service.stop()
        for collector in self.collectors:
            collector.close()
        self._state.cleanup()
