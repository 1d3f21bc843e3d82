"""`show ip local pool [NAME]`: the exec command, the control socket, the service's pools
and authenticator over a reload."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from netutil import free_port

from engine.control_socket import ControlServer
from engine.exec_syntax import ExecSyntaxError, Show, parse_exec, parse_show, render
from engine.service import VpnService

CONFIG = """\
hostname pool-gw
username joe password 0 J0ePass
aaa authentication login VPN local
ip local pool RA 10.9.0.1 10.9.0.4
ip local pool RA 10.9.1.1 10.9.1.1
ip local pool SPARE 10.8.0.1 10.8.0.9
end
"""


@pytest.mark.parametrize(
    ("words", "pool"),
    [
        (["ip", "local", "pool"], None),
        (["ip", "local", "pool", "RA"], "RA"),
        (["i", "loc", "po", "RA"], "RA"),
    ],
)
def test_parse(words: list[str], pool: str | None) -> None:
    show = parse_show(words)
    assert show == Show("ip-local-pool", pool=pool)
    assert show.request() == {"cmd": "show-ip-local-pool", "pool": pool}
    assert show.records_key == "pools"
    assert show.title == "show ip local pool" + (f" {pool}" if pool else "")
    assert parse_exec(["sh", *words]) == show


@pytest.mark.parametrize("words", [["ip", "local"], ["ip", "local", "pool", "A", "B"]])
def test_parse_errors(words: list[str]) -> None:
    with pytest.raises(ExecSyntaxError):
        parse_show(words)


@pytest.fixture
def service(tmp_path: Path) -> VpnService:
    path = tmp_path / "gw.conf"
    path.write_text(CONFIG)
    return VpnService(
        path,
        bind="127.0.0.1",
        ike_port=free_port(),
        natt_port=free_port(),
        dataplane=None,
        watch=False,
    )


async def test_service_pools_through_the_control_socket(service: VpnService) -> None:
    joe = service.pools.allocate("RA", "joe@198.51.100.7")
    assert joe == ipaddress.ip_address("10.9.0.1")
    server = ControlServer(service.control, "/nonexistent/unused.sock")
    reply = server.answer(json.dumps({"cmd": "show-ip-local-pool", "pool": "RA"}).encode())
    assert reply["ok"], reply
    (ra,) = reply["pools"]
    assert (ra["name"], ra["free"], ra["in_use"]) == ("RA", 4, 1)
    assert ra["leases"] == [{"address": "10.9.0.1", "owner": "joe@198.51.100.7"}]
    assert "10.9.0.1        joe@198.51.100.7" in reply["text"]
    every = server.answer(b'{"cmd": "show-ip-local-pool"}\n')
    assert [p["name"] for p in every["pools"]] == ["RA", "SPARE"]
    text = render(Show("ip-local-pool"), service.control, service.store, 0.0)
    assert text.splitlines()[1].split() == ["RA", "10.9.0.1", "10.9.0.4", "3", "1"]
    bad = server.answer(b'{"cmd": "show-ip-local-pool", "pool": 7}\n')
    assert bad == {"ok": False, "error": "'pool' must be a pool name"}
    await service.authenticator.close()


async def test_a_reload_keeps_leases_and_takes_new_users(service: VpnService) -> None:
    assert (await service.authenticator.check("VPN", "joe", "J0ePass")).ok
    service.pools.allocate("RA", "joe@198.51.100.7")
    service.pools.allocate("RA", "amy@198.51.100.8", ipaddress.ip_address("10.9.1.1"))
    service.config_path.write_text(
        CONFIG.replace("ip local pool RA 10.9.1.1 10.9.1.1\n", "").replace(
            "username joe password 0 J0ePass", "username joe password 0 N3wPass"
        )
    )
    service.reload()
    assert [(str(x.address), x.owner) for x in service.pools.leases("RA")] == [
        ("10.9.0.1", "joe@198.51.100.7")
    ]
    assert service.pools.free("RA") == 3
    assert not (await service.authenticator.check("VPN", "joe", "J0ePass")).ok
    assert (await service.authenticator.check("VPN", "joe", "N3wPass")).ok
    await service.authenticator.close()
