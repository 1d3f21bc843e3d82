"""XAUTH-style authentication against a real FreeRADIUS: Access-Accept with the
attributes mode-config uses, Access-Reject for a wrong password, and a dead server
giving way to the next one of the list.

FreeRADIUS runs from a temp copy of /etc/freeradius/3.0 (tests/interop/freeradius.py)
with a users file of its own, on free loopback ports, stopped by PID after each test.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from interop.conftest import free_udp_port, require
from interop.freeradius import SYSTEM_CONFIG, FreeRadius, binary, launch

from engine.aaa.method_lists import Authenticator
from engine.aaa.radius_auth import RadiusAuthClient
from engine.accounting.transport import RadiusTransport, ServerConfig, Timers
from engine.config.parser import parse_text
from engine.config.validate import validate
from engine.secret import Secret

SECRET = "interop-auth-secret"
PASSWORD = "Joe-Cclient-Pass-1"
USERS = f"""\
"joe@cclient" Cleartext-Password := "{PASSWORD}"
	Framed-IP-Address = 10.77.0.5,
	Framed-IP-Netmask = 255.255.255.0,
	Class := "acct-class-joe",
	Cisco-AVPair += "ipsec:addr-pool=RA-POOL",
	Cisco-AVPair += "ipsec:dns-servers=10.1.0.53 10.1.0.54",
	Cisco-AVPair += "ipsec:default-domain=corp.example.net",
	Cisco-AVPair += "ipsec:key-exchange=ike"

"amy" Cleartext-Password := "Amy-Pass-2"
"""
TIMERS = Timers(irt=0.3, mrt=0.6, mrc=2, mrd=1.2, jitter=0.0)


@pytest.fixture
def freeradius(tmp_path: Path) -> Iterator[FreeRadius]:
    require(binary(), "freeradius not installed (apt-get install freeradius freeradius-utils)")
    require(SYSTEM_CONFIG.is_dir(), f"{SYSTEM_CONFIG} missing (apt-get install freeradius)")
    radius = launch(tmp_path / "freeradius", SECRET, users=USERS)
    try:
        yield radius
    finally:
        code = radius.stop()
        print("".join(radius.output) + radius.log())
        assert code in (0, None)


def server(port: int, key: str = SECRET) -> ServerConfig:
    return ServerConfig("127.0.0.1", 1813, Secret(key), auth_port=port, authentication=True)


def client(port: int, key: str = SECRET) -> RadiusAuthClient:
    return RadiusAuthClient("group:radius", [server(port, key)], TIMERS, RadiusTransport())


async def test_accept_with_framed_ip_address_and_mode_config(freeradius: FreeRadius) -> None:
    auth = RadiusAuthClient(
        "group:radius", [server(freeradius.auth_port)], TIMERS, RadiusTransport()
    )
    result = await auth.authenticate("joe@cclient", PASSWORD, calling_station_id="198.51.100.7")
    await auth.transport.close()
    assert result.ok, result.reason
    assert result.reason == f"Access-Accept from 127.0.0.1:{freeradius.auth_port}"
    got = result.attributes
    assert got.framed_ip_address == ipaddress.ip_address("10.77.0.5")
    assert got.framed_ip_netmask == ipaddress.ip_address("255.255.255.0")
    assert got.addr_pool == "RA-POOL"
    assert got.dns_servers == (ipaddress.ip_address("10.1.0.53"), ipaddress.ip_address("10.1.0.54"))
    assert got.default_domain == "corp.example.net"
    assert got.key_exchange == "ike"
    assert got.classes == (b"acct-class-joe",)


async def test_reject_for_a_wrong_password(freeradius: FreeRadius) -> None:
    auth = RadiusAuthClient(
        "group:radius", [server(freeradius.auth_port)], TIMERS, RadiusTransport()
    )
    result = await auth.authenticate("joe@cclient", "not-" + PASSWORD)
    unknown = await auth.authenticate("nobody", PASSWORD)
    await auth.transport.close()
    for refused in (result, unknown):
        assert (refused.ok, refused.error) == (False, False)
        assert refused.reason.startswith(f"Access-Reject from 127.0.0.1:{freeradius.auth_port}")
        assert PASSWORD not in refused.reason


async def test_a_wrong_shared_key_gets_no_answer(freeradius: FreeRadius) -> None:
    """FreeRADIUS drops a request it cannot verify: the server counts as unreachable."""
    auth = client(freeradius.auth_port, "not-the-key")
    result = await auth.authenticate("joe@cclient", PASSWORD)
    await auth.transport.close()
    assert (result.ok, result.error) == (False, True)


async def test_a_dead_server_times_out_and_the_next_answers(freeradius: FreeRadius) -> None:
    dead = free_udp_port()
    model = validate(
        parse_text(
            f"radius-server host 127.0.0.1 auth-port {dead} acct-port 1813 key {SECRET}\n"
            f"radius-server host 127.0.0.1 auth-port {freeradius.auth_port} acct-port 1813 "
            f"key {SECRET}\n"
            "username amy password 0 Local-Only-Pass\n"
            "aaa authentication login VPN group radius local\n",
            "interop-auth.conf",
        )
    )
    assert model.errors == [], [str(d) for d in model.errors]
    auth = Authenticator.from_config(model, timers=TIMERS)
    joe = await auth.check("VPN", "joe@cclient", PASSWORD)
    # a reject from the server ends the list: amy's local password is never tried
    amy_local = await auth.check("VPN", "amy", "Local-Only-Pass")
    amy = await auth.check("VPN", "amy", "Amy-Pass-2")
    await auth.close()
    assert joe.ok and joe.method == "group:radius"
    assert joe.server == f"127.0.0.1:{freeradius.auth_port}"
    assert str(joe.attributes.framed_ip_address) == "10.77.0.5"
    dead_state = auth.transport.state(server(dead))
    assert dead_state.timeouts >= 1 and dead_state.responses == 0
    assert (amy_local.ok, amy_local.error, amy_local.method) == (False, False, "group:radius")
    assert amy.ok
