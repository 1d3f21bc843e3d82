"""The XSM service's request/response endpoints against a real listener on loopback."""

from __future__ import annotations

import asyncio
import ipaddress
import xml.etree.ElementTree as ET

import aiohttp
import pytest
import xmlschema

from engine.xsm.encode import parse_snapshot_xml, schema_text
from engine.xsm.settings import AccessClass, ClientRule

pytestmark = pytest.mark.asyncio
SCHEMA = xmlschema.XMLSchema(schema_text())


async def test_xrd_list_shows_what_the_privilege_allows(xsm) -> None:
    service = await xsm.start()
    async with await xsm.get("/xsm/xrd-list", "admin") as response:
        assert response.status == 200
        names = [x["name"] for x in (await response.json())["xrds"]]
    assert {"crypto-sessions", "ike-sas", "ipsec-flows", "test-config"} <= set(names)
    async with await xsm.get("/xsm/xrd-list", "viewer") as response:
        viewer = {x["name"] for x in (await response.json())["xrds"]}
    assert "crypto-sessions" in viewer and "test-config" not in viewer
    assert [ds.name for ds in service.xrd_list(5)] == sorted(viewer)
    async with await xsm.get("/xsm/xrd-list?format=xml", "admin") as response:
        body = await response.read()
    SCHEMA.validate(body.decode())
    root = ET.fromstring(body)
    assert root.tag == "xrd-list" and {x.get("name") for x in root} == set(names)


async def test_xrd_as_json_and_xml(xsm) -> None:
    await xsm.start()
    xsm.put("s1", "10.1.1.3")
    xsm.put("s2", "10.1.1.4", "UP-IDLE")
    xsm.store.flush()
    async with await xsm.get("/xsm/xrd/crypto-sessions") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        document = await response.json()
    assert document["type"] == "snapshot" and document["xrd"] == "crypto-sessions"
    assert document["rows"]["s2"] == {"peer": "10.1.1.4", "status": "UP-IDLE", "blob": ""}
    for how in ({"headers": {"Accept": "application/xml"}}, {"params": {"format": "xml"}}):
        async with await xsm.get("/xsm/xrd/crypto-sessions", **how) as response:
            assert response.status == 200
            assert response.content_type == "application/xml"
            body = await response.read()
        SCHEMA.validate(body.decode())
        name, _, rows = parse_snapshot_xml(body)
        assert name == "crypto-sessions" and set(rows) == {"s1", "s2"}
        assert rows["s1"]["peer"] == "10.1.1.3" and rows["s2"]["status"] == "UP-IDLE"


async def test_large_snapshot_arrives_whole(xsm) -> None:
    await xsm.start()
    with xsm.store.batch():
        for n in range(3000):
            xsm.put(f"s{n}", f"10.2.{n // 250}.{n % 250}", blob="x" * 100)
    async with await xsm.get("/xsm/xrd/crypto-sessions") as response:
        assert response.headers.get("Transfer-Encoding") == "chunked"
        rows = (await response.json())["rows"]
    assert len(rows) == 3000 and rows["s2999"]["peer"] == "10.2.11.249"


async def test_unknown_and_disabled_xrds_are_404(xsm) -> None:
    await xsm.start(settings=xsm.configure(edm=False))
    async with await xsm.get("/xsm/xrd/no-such-set") as response:
        assert response.status == 404
    async with await xsm.get("/xsm/xrd/test-sampled") as response:
        assert response.status == 404  # an edm set with only vdm on
    async with await xsm.get("/xsm/xrd/crypto-sessions") as response:
        assert response.status == 200


async def test_authentication_and_privilege(xsm) -> None:
    await xsm.start()
    async with await xsm.get("/xsm/xrd/crypto-sessions", None) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    for user, status in (("admin", 200), ("viewer", 200), ("guest", 403)):
        async with await xsm.get("/xsm/xrd/crypto-sessions", user) as response:
            assert response.status == status, user
    for user, status in (("admin", 200), ("viewer", 403)):
        async with await xsm.get("/xsm/xrd/test-config", user) as response:
            assert response.status == status, user


async def test_login_failures_are_reported_without_the_password(xsm) -> None:
    await xsm.start()
    async with await xsm.get("/xsm/xrd-list", headers=xsm.auth("viewer", "guessed-pw")) as r:
        assert r.status == 401
    async with await xsm.get("/xsm/xrd-list", headers=xsm.auth("nobody", "other-guess")) as r:
        assert r.status == 401
    async with await xsm.get("/xsm/xrd-list", None, headers={"Authorization": "Basic %%%"}) as r:
        assert r.status == 401
    assert [(u, reason) for u, _, reason in xsm.failures] == [
        ("viewer", "bad password"),
        ("nobody", "unknown user"),
        ("", "credentials do not decode"),
    ]
    assert all(address == "127.0.0.1" for _, address, _ in xsm.failures)
    assert "guessed-pw" not in repr(xsm.failures) and "other-guess" not in repr(xsm.failures)
    assert xsm.service.status().counters.logins_failed == 3


async def test_failed_logins_are_rate_limited(xsm) -> None:
    now = [1_000_000.0]
    service = await xsm.start(clock=lambda: now[0], login_failures=5, login_backoff=30)
    for _ in range(5):
        async with await xsm.get("/xsm/xrd-list", headers=xsm.auth("admin", "wrong")) as r:
            assert r.status == 401
    # Held off now, even with the right password, and the password is not even checked.
    async with await xsm.get("/xsm/xrd-list", "admin") as response:
        assert response.status == 429
        assert int(response.headers["Retry-After"]) > 0
    assert len(xsm.failures) == 5
    assert service.status().counters.rate_limited == 1
    now[0] += 31
    async with await xsm.get("/xsm/xrd-list", "admin") as response:
        assert response.status == 200


async def test_access_class_refuses_before_authentication(xsm) -> None:
    deny_loopback = AccessClass(
        "XSM",
        (
            ClientRule(False, ipaddress.ip_network("127.0.0.0/8")),
            ClientRule(True, ipaddress.ip_network("0.0.0.0/0")),
        ),
    )
    service = await xsm.start(settings=xsm.configure(access_class=deny_loopback))
    async with await xsm.get("/xsm/xrd-list", "admin") as response:
        assert response.status == 403
    async with await xsm.get("/xsm/xrd-list", headers=xsm.auth("admin", "wrong")) as response:
        assert response.status == 403
    assert xsm.failures == []  # never got as far as the credentials
    assert service.status().counters.denied_access_class == 2
    permit = AccessClass("XSM", (ClientRule(True, ipaddress.ip_network("127.0.0.1/32")),))
    await service.apply(xsm.configure(access_class=permit))
    async with await xsm.get("/xsm/xrd-list", "admin") as response:
        assert response.status == 200


async def test_exec_needs_configuration_privilege(xsm) -> None:
    await xsm.start()
    command = {"command": "clear crypto session remote 10.1.1.3"}
    async with xsm.session.post(
        xsm.url("/xsm/exec"), json=command, headers=xsm.auth("viewer")
    ) as response:
        assert response.status == 403
    assert xsm.exec_calls == []
    async with xsm.session.post(
        xsm.url("/xsm/exec"), json=command, headers=xsm.auth("admin")
    ) as response:
        assert response.status == 200
        reply = await response.json()
    assert reply["output"] == "cleared\n" and reply["records"]
    words, by = xsm.exec_calls[0]
    assert words == command["command"].split() and "admin" in by
    async with xsm.session.post(
        xsm.url("/xsm/exec"), json={"command": "clear crypto bogus"}, headers=xsm.auth("admin")
    ) as response:
        assert response.status == 400
        assert "crypto session" in (await response.json())["error"]


async def test_metrics_at_monitor_level(xsm) -> None:
    await xsm.start()
    async with await xsm.get("/metrics", "viewer") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert await response.read() == b"xsm_clients 0\n"
    async with await xsm.get("/metrics", "guest") as response:
        assert response.status == 403


async def test_metrics_without_a_hook_is_404(xsm) -> None:
    await xsm.start(metrics=None, exec_command=None)
    async with await xsm.get("/metrics") as response:
        assert response.status == 404
    async with xsm.session.post(
        xsm.url("/xsm/exec"), json={"command": "show logging"}, headers=xsm.auth("admin")
    ) as response:
        assert response.status == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("GET", "/no/such/path", None, {}),
        ("DELETE", "/xsm/xrd-list", None, {}),
        ("GET", "/xsm/exec", None, {}),
        ("POST", "/xsm/exec", b"{not json", {"Content-Type": "application/json"}),
        ("POST", "/xsm/exec", b'["command"]', {}),
        ("POST", "/xsm/exec", b'{"command": 7}', {}),
        ("POST", "/xsm/exec", b'{"command": "   "}', {}),
        ("POST", "/xsm/exec", b'{"command": "' + b"x" * 200_000 + b'"}', {}),
        ("POST", "/xsm/exec", b"[" * 100_000, {}),
        ("GET", "/xsm/subscribe", None, {"Accept": "text/event-stream"}),
        ("GET", "/xsm/subscribe?xrd=", None, {"Accept": "text/event-stream"}),
        ("GET", "/xsm/subscribe?xrd=,,,", None, {"Accept": "text/event-stream"}),
        ("GET", "/xsm/subscribe?xrd=crypto-sessions", None, {"Accept": "application/json"}),
        ("GET", "/xsm/subscribe?xrd=crypto-sessions&format=yaml", None, {}),
        ("GET", "/xsm/xrd/crypto-sessions?format=yaml", None, {}),
        ("GET", "/xsm/ws", None, {}),
        ("GET", "/xsm/xrd/" + "a" * 5000, None, {}),
    ],
)
async def test_malformed_requests_get_4xx(xsm, method, path, body, headers) -> None:
    await xsm.start()
    async with xsm.session.request(
        method, xsm.url(path), data=body, headers={**headers, **xsm.auth("admin")}
    ) as response:
        assert 400 <= response.status < 500, (response.status, await response.text())
        assert "Traceback" not in await response.text()
    assert xsm.service.status().counters.internal_errors == 0


async def test_garbage_on_the_wire_is_answered_4xx(xsm) -> None:
    await xsm.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", xsm.service.http_port)
    writer.write(b"GET /xsm/xrd-list HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 5)
    assert status.split()[1].startswith(b"4")
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", xsm.service.http_port)
    writer.write(b"\x16\x03\x01 not http at all\r\n\r\n")
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 5)
    assert status.split()[1].startswith(b"4")
    writer.close()


async def test_a_failing_handler_is_a_bare_500_logged_once(xsm, caplog) -> None:
    def broken(accept: str) -> tuple[bytes, str]:
        raise ZeroDivisionError("secret detail")

    service = await xsm.start(metrics=broken)
    for _ in range(3):
        async with await xsm.get("/metrics") as response:
            assert response.status == 500
            assert "secret detail" not in await response.text()
    assert service.status().counters.internal_errors == 3
    assert sum("XSM request" in r.getMessage() for r in caplog.records) == 1


async def test_max_connections(xsm) -> None:
    service = await xsm.start(max_connections=2)
    first = await xsm.sse("crypto-sessions")
    second = await xsm.sse("ike-sas")
    async with await xsm.get("/xsm/xrd-list") as response:
        assert response.status == 503
    assert service.status().counters.refused_busy == 1
    first.response.close()
    second.response.close()


async def test_status_reports_listeners_and_levels(xsm) -> None:
    service = await xsm.start()
    status = service.status()
    assert status.enabled and status.serving
    assert [(x.kind, x.bound) for x in status.listeners] == [("http", service.http_port)]
    assert status.adapters == ("vdm", "edm")
    assert (status.monitor_level, status.configuration_level) == (5, 15)


async def test_no_http_server_means_no_listener(xsm) -> None:
    service = await xsm.start()
    port = service.http_port
    await service.apply(xsm.configure(http_server=False))
    assert service.http_port is None and not service.status().serving
    with pytest.raises(aiohttp.ClientConnectionError):
        async with xsm.session.get(f"http://127.0.0.1:{port}/xsm/xrd-list"):
            pass
