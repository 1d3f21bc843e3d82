"""A hub and two spokes on loopback, running real IKE between in-process gateways (no
data plane): sessions to show, describe and clear."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from netutil import free_port, until

from engine.control_socket import request
from engine.events import IkeSaDown
from engine.records import SessionStatus
from engine.service import VpnService

HUB = """\
hostname hub
vrf definition WAN-RED
vrf definition WAN-BLUE
vrf definition LAN-RED
vrf definition LAN-BLUE
crypto isakmp peer address 127.0.0.1
 description Red branch
crypto ikev2 keyring KEYS
 peer SPOKES
  address 127.0.0.0 255.0.0.0
  pre-shared-key spoke-key-77
crypto ikev2 profile RED
 match identity remote address 127.0.0.1 255.255.255.255
 keyring local KEYS
 ivrf LAN-RED
crypto ikev2 profile BLUE
 match identity remote address 127.0.0.3 255.255.255.255
 keyring local KEYS
 ivrf LAN-BLUE
crypto ipsec transform-set TS esp-gcm 256
crypto dynamic-map DYN-RED 10
 set transform-set TS
 set ikev2-profile RED
crypto dynamic-map DYN-BLUE 10
 set transform-set TS
 set ikev2-profile BLUE
crypto map MAP-RED 10 ipsec-isakmp dynamic DYN-RED
crypto map MAP-BLUE 10 ipsec-isakmp dynamic DYN-BLUE
interface red0
 vrf forwarding WAN-RED
 ip address 127.0.0.2 255.0.0.0
 crypto map MAP-RED
interface blue0
 vrf forwarding WAN-BLUE
 ip address 127.0.0.2 255.0.0.0
 crypto map MAP-BLUE
end
"""

SPOKE = """\
hostname spoke-{n}
crypto ikev2 keyring KEYS
 peer HUB
  address 127.0.0.2
  pre-shared-key spoke-key-77
crypto ikev2 profile HUB
 match identity remote address 127.0.0.2 255.255.255.255
 keyring local KEYS
crypto ipsec transform-set TS esp-gcm 256
ip access-list extended TO-HUB
 permit ip 10.{n}.0.0 0.0.255.255 10.0.0.0 0.0.255.255
crypto map WAN 10 ipsec-isakmp
 set peer 127.0.0.2
 set transform-set TS
 set ikev2-profile HUB
 match address TO-HUB
interface lo
 ip address 127.0.0.{n} 255.0.0.0
 crypto map WAN
end
"""


class Network:
    def __init__(self, tmp_path: Path, hub_extra: str = "") -> None:
        addresses = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
        ike, natt = free_port(addresses), free_port(addresses)
        self.ike_port = ike
        self.control = tmp_path / "hub.sock"
        (tmp_path / "hub").mkdir()
        hub_conf = tmp_path / "hub" / "hub.conf"
        hub_conf.write_text(HUB.replace("\nend\n", "\n" + hub_extra + "end\n"))
        self.hub = VpnService(
            hub_conf,
            bind="127.0.0.2",
            ike_port=ike,
            natt_port=natt,
            control_path=self.control,
            serve_control=True,
            watch=False,
            dataplane=None,  # IKE and sessions only: ports stay the IKE port everywhere
        )
        self.spokes = {}
        for n in (1, 3):
            (tmp_path / f"s{n}").mkdir()
            conf = tmp_path / f"s{n}" / "spoke.conf"
            conf.write_text(SPOKE.format(n=n))
            self.spokes[n] = VpnService(
                conf,
                bind=f"127.0.0.{n}",
                ike_port=ike,
                natt_port=natt,
                watch=False,
                dataplane=None,
            )
        self.hub_events: list[object] = []
        self.spoke_events: dict[int, list[object]] = {1: [], 3: []}
        self.hub.gateway.subscribe(self.hub_events.append)
        for n, spoke in self.spokes.items():
            spoke.gateway.subscribe(self.spoke_events[n].append)

    async def __aenter__(self) -> Network:
        await self.hub.start()
        for spoke in self.spokes.values():
            await spoke.start()
        await until(lambda: self.up_count() == 2, timeout=10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for spoke in self.spokes.values():
            await spoke.stop()
        await self.hub.stop()

    def up_count(self) -> int:
        return sum(
            1
            for view in self.hub.control.sessions()
            if view.session.status is SessionStatus.UP_ACTIVE
        )

    def downs(self, events: list[object]) -> list[IkeSaDown]:
        return [e for e in events if isinstance(e, IkeSaDown)]

    async def ask(self, payload: dict) -> dict:
        return await asyncio.to_thread(request, self.control, payload)

    async def cli(self, *args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "engine.cli",
            *args,
            "--control",
            str(self.control),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()
