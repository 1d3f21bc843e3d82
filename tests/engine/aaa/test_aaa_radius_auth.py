"""The RADIUS authentication client against a server on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from aaa_support import FAST, KEY, Answer, auth_server, server_config, users
from pyrad.packet import AccessAccept, AccessChallenge

from engine.aaa.radius_auth import RadiusAuthClient
from engine.aaa.results import NO_ATTRIBUTES
from engine.accounting.transport import RadiusTransport, Timers

PASSWORD = "Corr3ct-Horse-Battery"


def client(*ports: int, key: str = KEY, **options: object) -> RadiusAuthClient:
    return RadiusAuthClient(
        "group:RAD",
        [server_config(p, key) for p in ports],
        FAST,
        RadiusTransport(),
        nas_ip="192.0.2.1",
        nas_identifier="gw-test",
        **options,  # type: ignore[arg-type]
    )


def dead_port() -> int:
    """A UDP port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_access_accept_with_mode_config_attributes() -> None:
    reply = {
        "Framed-IP-Address": "10.77.0.9",
        "Framed-IP-Netmask": "255.255.255.0",
        "Class": [b"\x01class-one", b"class-two"],
        "Session-Timeout": 3600,
        "Cisco-AVPair": [
            "ipsec:addr-pool=RA-POOL",
            "ipsec:dns-servers=10.1.0.53 10.1.0.54",
            "ipsec:default-domain=corp.example.net",
            "ipsec:key-exchange=ike",
            "ipsec:tunnel-password=GroupKey9",
            "ipsec:inacl=110",
            "ipsec:wins-servers*10.1.0.60",
            "shell:priv-lvl=15",
        ],
    }
    async with auth_server(users({"joe@cclient": PASSWORD}, **reply)) as server:
        auth = client(server.port)
        result = await auth.authenticate("joe@cclient", PASSWORD, calling_station_id="198.51.100.7")
        await auth.transport.close()
    assert result.ok and not result.error
    assert (result.method, result.server) == ("group:RAD", f"127.0.0.1:{server.port}")
    assert result.reason == f"Access-Accept from 127.0.0.1:{server.port}"
    got = result.attributes
    assert got.framed_ip_address == ipaddress.ip_address("10.77.0.9")
    assert got.framed_ip_netmask == ipaddress.ip_address("255.255.255.0")
    assert got.addr_pool == "RA-POOL"
    assert got.dns_servers == (ipaddress.ip_address("10.1.0.53"), ipaddress.ip_address("10.1.0.54"))
    assert got.wins_servers == (ipaddress.ip_address("10.1.0.60"),)
    assert got.default_domain == "corp.example.net"
    assert got.key_exchange == "ike"
    assert got.tunnel_password is not None and got.tunnel_password.reveal() == b"GroupKey9"
    assert "GroupKey9" not in repr(result)
    assert got.classes == (b"\x01class-one", b"class-two")
    assert got.session_timeout == 3600
    assert got.avpairs == (("inacl", "110"),)
    (seen,) = server.seen
    assert (seen.user, seen.password) == ("joe@cclient", PASSWORD)  # PwCrypt round trip
    assert seen.message_authenticator_ok
    assert seen.attributes["NAS-IP-Address"] == ["192.0.2.1"]
    assert seen.attributes["NAS-Identifier"] == ["gw-test"]
    assert seen.attributes["Calling-Station-Id"] == ["198.51.100.7"]


async def test_a_password_of_many_blocks_arrives_whole() -> None:
    long_password = "x" * 17 + "ü" * 40  # three 16-octet blocks and more
    async with auth_server(users({"u": long_password})) as server:
        auth = client(server.port)
        result = await auth.authenticate("u", long_password)
        await auth.transport.close()
    assert result.ok
    assert server.seen[0].password == long_password


async def test_access_reject_is_the_answer_no_other_server_is_asked() -> None:
    async with (
        auth_server(users({"joe": PASSWORD})) as first,
        auth_server(users({"joe": "wrong"})) as second,
    ):
        auth = client(first.port, second.port)
        result = await auth.authenticate("joe", "not-the-password")
        await auth.transport.close()
    assert not result.ok and not result.error
    assert result.reason == f"Access-Reject from 127.0.0.1:{first.port} (bad credentials)"
    assert result.attributes is NO_ATTRIBUTES
    assert "not-the-password" not in repr(result)
    assert second.seen == []


async def test_access_challenge_is_a_reject_with_its_reason() -> None:
    answer = Answer(AccessChallenge, {"Reply-Message": "Enter next token", "State": b"s1"})
    async with auth_server(lambda user, password: answer) as server:
        auth = client(server.port)
        result = await auth.authenticate("tok", "123456")
        await auth.transport.close()
    assert not result.ok and not result.error
    assert "Access-Challenge" in result.reason and "not supported" in result.reason
    assert "(Enter next token)" in result.reason


async def test_a_silent_server_gives_way_to_the_next() -> None:
    async with (
        auth_server(lambda user, password: None) as silent,
        auth_server(users({"joe": PASSWORD}, **{"Framed-IP-Address": "10.77.0.2"})) as second,
    ):
        auth = client(silent.port, dead_port(), second.port)
        result = await auth.authenticate("joe", PASSWORD)
        await auth.transport.close()
    assert result.ok
    assert result.server == f"127.0.0.1:{second.port}"
    assert result.attributes.framed_ip_address == ipaddress.ip_address("10.77.0.2")
    assert len(silent.seen) == FAST.mrc  # retransmitted, each under a new Identifier


async def test_no_server_answering_is_an_error_naming_them() -> None:
    port = dead_port()
    auth = client(port)
    result = await auth.authenticate("joe", PASSWORD)
    await auth.transport.close()
    assert not result.ok and result.error
    assert result.reason == (
        f"no RADIUS server answered: 127.0.0.1:{port} (no response after {FAST.mrc} attempts)"
    )
    assert PASSWORD not in result.reason


async def test_a_dead_server_is_skipped_for_its_deadtime() -> None:
    timers = Timers(irt=0.05, mrt=0.1, mrc=1, mrd=0.2, jitter=0.0, deadtime=60.0)
    async with auth_server(users({"joe": PASSWORD})) as good:
        port = dead_port()
        auth = RadiusAuthClient(
            "group:RAD", [server_config(port), server_config(good.port)], timers, RadiusTransport()
        )
        assert (await auth.authenticate("joe", PASSWORD)).ok
        again = await auth.authenticate("joe", PASSWORD)
        await auth.transport.close()
    assert again.ok
    assert auth.transport.state(server_config(port)).transmissions == 1  # not asked again


@pytest.mark.parametrize(
    "answer",
    [
        Answer(AccessAccept, key="another-key"),  # wrong Response Authenticator
        Answer(AccessAccept, tamper=lambda raw: raw[:-1] + bytes([raw[-1] ^ 1])),
        Answer(AccessAccept, forge_message_authenticator=True),
    ],
)
async def test_unverified_accepts_are_never_taken(answer: Answer) -> None:
    async with auth_server(lambda user, password: answer) as server:
        auth = client(server.port)
        result = await auth.authenticate("joe", PASSWORD)
        await auth.transport.close()
    assert not result.ok and result.error
    assert "bad authenticator" in result.reason


async def test_a_reply_without_message_authenticator_when_required() -> None:
    answer = Answer(AccessAccept, message_authenticator=False)
    async with auth_server(lambda user, password: answer) as server:
        lenient = client(server.port)
        assert (await lenient.authenticate("joe", PASSWORD)).ok
        await lenient.transport.close()
        strict = client(server.port, require_message_authenticator=True)
        result = await strict.authenticate("joe", PASSWORD)
        await strict.transport.close()
    assert not result.ok and result.error


@pytest.mark.parametrize(
    ("user", "password", "reason"),
    [
        ("joe", "p" * 129, "the password is longer than 128 octets"),
        ("", "pw", "the user name is empty or too long"),
    ],
)
async def test_requests_that_cannot_be_made(user: str, password: str, reason: str) -> None:
    auth = client(dead_port())
    result = await auth.authenticate(user, password)
    assert (result.ok, result.error, result.reason) == (False, False, reason)
    assert auth.transport.state(auth.servers[0]).transmissions == 0


async def test_no_servers_is_an_error() -> None:
    auth = RadiusAuthClient("group:radius", [], FAST, RadiusTransport())
    result = await auth.authenticate("joe", PASSWORD)
    assert (result.ok, result.error) == (False, True)
