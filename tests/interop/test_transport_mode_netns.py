"""Transport mode end to end: two daemons, each in its own network namespace, protect
the traffic between their own addresses (`permit icmp|ip host A host B`, `mode
transport`); a ping from A to B goes through ESP, and the crypto sessions count it.

GRE over IPsec is what operators use this for; the kernel here has no GRE (`ip link add
... type gre` fails with "Unknown device type"), so the protected traffic is the
endpoints' own ICMP. The same policy routing carries any protocol (ipproto selector).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interop.conftest import require
from interop.strongswan import PROJECT, NotYet, OurGateway, Topology, eventually
from interop.strongswan_configs import SS_ADDR, US_ADDR

from engine.dataplane.transport_routes import BYPASS_MARK, TRANSPORT_TABLE

LEFT, RIGHT = SS_ADDR, US_ADDR  # 10.99.0.1 (initiator), 10.99.0.2 (responder)


def conf(me: str, peer: str, acl: str, *, initiate: bool) -> str:
    entry = [" set transform-set TS", " set ikev2-profile PEER", " match address HOSTS"]
    if initiate:
        crypto_map = ["crypto map WAN 10 ipsec-isakmp", f" set peer {peer}", *entry]
    else:
        crypto_map = [
            "crypto dynamic-map DYN 10",
            *entry,
            "crypto map WAN 10 ipsec-isakmp dynamic DYN",
        ]
    body = "\n".join(crypto_map)
    return f"""\
hostname h-{me.rsplit(".", 1)[1]}
crypto ikev2 proposal P
 encryption aes-gcm-128
 prf sha256
 group 19
crypto ikev2 policy POL
 proposal P
crypto ikev2 keyring KR
 peer OTHER
  address {peer}
  pre-shared-key transport-test-secret
crypto ikev2 profile PEER
 match identity remote address {peer} 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
crypto ipsec transform-set TS esp-gcm 128
 mode transport
ip access-list extended HOSTS
 permit {acl} host {me} host {peer}
{body}
interface wan0
 ip address {me} 255.255.255.0
 crypto map WAN
"""


@pytest.fixture
def topo() -> Iterator[Topology]:
    require(os.geteuid() == 0, "transport mode end to end needs root (network namespaces)")
    ip = shutil.which("ip", path="/usr/sbin:/sbin:/usr/bin:/bin")
    require(ip, "no `ip` command (apt-get install iproute2)")
    require(shutil.which("ping"), "no `ping` (apt-get install iputils-ping)")
    require(os.path.exists("/dev/net/tun"), "no /dev/net/tun")
    tag = secrets.token_hex(3)
    workdir = Path(tempfile.mkdtemp(prefix=f"tm-{tag}-"))
    topology = Topology(tag, workdir, ip or "ip")
    try:
        topology.create()
        yield topology
    finally:
        topology.destroy()
        shutil.rmtree(workdir, ignore_errors=True)


def show_detail(gateway: OurGateway) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "show", "crypto", "session", "detail",
         "--control", str(gateway.control)],
        capture_output=True, text=True, cwd=PROJECT, timeout=20, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def counters(gateway: OurGateway) -> dict[str, Any]:
    (session,) = gateway.sessions()
    (flow,) = session["flows"]
    return flow["totals"]


@pytest.mark.parametrize(("acl", "protocol"), [("icmp", 1), ("ip", 0)])
def test_ping_between_the_endpoints_goes_through_transport_mode(
    topo: Topology, acl: str, protocol: int
) -> None:
    dirs = [topo.workdir / "left", topo.workdir / "right"]
    for d in dirs:
        d.mkdir()
    right = OurGateway(
        topo, dirs[1], conf(RIGHT, LEFT, acl, initiate=False), ns=topo.us, bind=RIGHT
    )
    left = OurGateway(topo, dirs[0], conf(LEFT, RIGHT, acl, initiate=True), ns=topo.ss, bind=LEFT)
    started: list[OurGateway] = []
    try:
        started.append(right.start())
        started.append(left.start())

        def logs() -> str:
            stats = [g.statistics() for g in (left, right)] if len(started) == 2 else []
            links = [
                topo.run(ns, "ip", "-s", "link", "show", "ipsec0").stdout
                for ns in (topo.ss, topo.us)
            ]
            text = f"--- left\n{left.log()[-3000:]}\n--- right\n{right.log()[-3000:]}"
            return f"{text}\n{stats}\n{links}"

        def up() -> None:
            for gateway in (left, right):
                sessions = gateway.sessions()
                if not sessions or sessions[0]["session"]["status"] not in ("UP-ACTIVE", "UP-IDLE"):
                    raise NotYet(f"{gateway.bind}: {sessions}")
                if not sessions[0]["flows"]:
                    raise NotYet(f"{gateway.bind}: no flow yet")

        eventually(up, 20, "both sessions up", logs)
        for gateway in (left, right):
            (session,) = gateway.sessions()
            child = session["flows"][0]["children"][0]
            assert child["algorithms"]["mode"] == "transport", child
            assert child["algorithms"]["mode_note"] == ""
            assert session["flows"][0]["protocol"] == protocol

        def routed() -> None:
            rules = topo.run(topo.ss, "ip", "rule").stdout
            if f"to {RIGHT}" not in rules or str(TRANSPORT_TABLE) not in rules:
                raise NotYet(rules)

        eventually(routed, 5, "the transport rule on the left", logs)
        rules = topo.run(topo.ss, "ip", "rule").stdout
        assert f"lookup {TRANSPORT_TABLE}" in rules
        assert ("ipproto icmp" in rules) == (protocol == 1), rules
        assert (f"fwmark {BYPASS_MARK:#x}" in rules) == (protocol == 0), rules
        table = topo.run(topo.ss, "ip", "route", "show", "table", str(TRANSPORT_TABLE)).stdout
        assert f"{RIGHT} dev ipsec0" in table, table

        ping = topo.run(topo.ss, "ping", "-c", "5", "-i", "0.2", "-W", "2", RIGHT)
        assert ping.returncode == 0, f"{ping.stdout}{ping.stderr}\n{logs()}"

        def counted() -> None:
            left_totals, right_totals = counters(left), counters(right)
            if left_totals["packets_out"] < 5 or right_totals["packets_in"] < 5:
                raise NotYet(f"left {left_totals} right {right_totals}")
            if left_totals["packets_in"] < 5 or right_totals["packets_out"] < 5:
                raise NotYet(f"replies: left {left_totals} right {right_totals}")

        eventually(counted, 5, "the pings counted by both sessions", logs)
        detail = show_detail(left)
        shown = "1" if protocol == 1 else "ip"
        assert f"IPSEC FLOW: permit {shown} host {LEFT} host {RIGHT}" in detail, detail
        assert "in use settings ={Transport, }" in detail, detail
    finally:
        for gateway in reversed(started):
            gateway.stop()
    # nothing the daemon made stays behind
    assert str(TRANSPORT_TABLE) not in topo.run(topo.ss, "ip", "rule").stdout
    assert topo.run(topo.ss, "ip", "route", "show", "table", str(TRANSPORT_TABLE)).stdout == ""
