"""Pushed changes: server-sent events and WebSocket, resume, sampled sets, clearing
clients, and reconfiguration closing the streams it no longer allows."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from engine.store import SESSIONS

pytestmark = pytest.mark.asyncio


async def test_sse_snapshot_then_changes_then_removal(xsm) -> None:
    await xsm.start()
    xsm.put("s1", "10.1.1.3")
    xsm.store.flush()
    stream = await xsm.sse("crypto-sessions")
    snapshot = await stream.next()
    assert snapshot.kind == "snapshot"
    assert snapshot.json()["rows"] == {
        "s1": {"peer": "10.1.1.3", "status": "UP-ACTIVE", "blob": ""}
    }
    xsm.put("s2", "10.1.1.4", "DOWN-NEGOTIATING")
    xsm.store.flush()
    change = await stream.next()
    assert change.kind == "change" and change.id > snapshot.id
    assert change.json()["upserted"] == {
        "s2": {"peer": "10.1.1.4", "status": "DOWN-NEGOTIATING", "blob": ""}
    }
    xsm.store.remove(SESSIONS, "s1")
    xsm.store.flush()
    removal = await stream.next()
    assert removal.json()["removed"] == ["s1"] and removal.json()["upserted"] == {}
    assert removal.id > change.id
    info = xsm.service.clients()
    assert len(info) == 1 and info[0].transport == "sse" and info[0].user == "admin"
    assert info[0].subscriptions == ("crypto-sessions",) and info[0].events_sent == 3
    stream.response.close()


async def test_sse_in_xml(xsm) -> None:
    await xsm.start()
    xsm.put("s1", "10.1.1.3")
    xsm.store.flush()
    stream = await xsm.sse("crypto-sessions&format=xml")
    from engine.xsm.encode import parse_changes_xml, parse_snapshot_xml

    name, _, rows = parse_snapshot_xml((await stream.next()).data.encode())
    assert name == "crypto-sessions" and rows["s1"]["peer"] == "10.1.1.3"
    xsm.put("s1", "10.1.1.3", "UP-IDLE")
    xsm.store.flush()
    event = await stream.next()
    _, (changes,) = parse_changes_xml(event.data.encode())
    assert event.kind == "change" and changes.upserted["s1"]["status"] == "UP-IDLE"
    stream.response.close()


async def test_sse_several_sets_and_keepalives(xsm) -> None:
    await xsm.start(keepalive=0.2)
    stream = await xsm.sse("crypto-sessions,test-sampled")
    first, second = await stream.next(), await stream.next()
    assert {first.json()["xrd"], second.json()["xrd"]} == {"crypto-sessions", "test-sampled"}
    await asyncio.sleep(0.5)
    xsm.put("s9", "10.9.9.9")
    xsm.store.flush()
    assert (await stream.next()).json()["upserted"].keys() == {"s9"}
    assert stream.keepalives >= 1
    stream.response.close()


async def test_sampled_set_pushes_only_rows_that_differ(xsm) -> None:
    await xsm.start(sample_interval=0.1)
    xsm.source.sampled = {"one": {"value": 1}, "two": {"value": 2}}
    stream = await xsm.sse("test-sampled")
    assert (await stream.next()).json()["rows"] == {"one": {"value": 1}, "two": {"value": 2}}
    xsm.source.sampled = {"one": {"value": 1}, "two": {"value": 3}, "three": {"value": 3}}
    change = (await stream.next()).json()
    assert change["upserted"] == {"two": {"value": 3}, "three": {"value": 3}}
    assert change["removed"] == []
    xsm.source.sampled = {"two": {"value": 3}, "three": {"value": 3}}
    change = (await stream.next()).json()
    assert change["upserted"] == {} and change["removed"] == ["one"]
    stream.response.close()


async def test_last_event_id_replays_what_was_missed(xsm) -> None:
    await xsm.start()
    stream = await xsm.sse("crypto-sessions")
    await stream.next()
    xsm.put("s1", "10.1.1.1")
    xsm.store.flush()
    seen = await stream.next()
    stream.response.close()
    xsm.put("s2", "10.1.1.2")
    xsm.store.flush()
    await asyncio.sleep(0.01)  # two change sets, not one merged
    xsm.store.remove(SESSIONS, "s1")
    xsm.store.flush()
    resumed = await xsm.sse("crypto-sessions", headers={"Last-Event-ID": str(seen.id)})
    first, second = await resumed.next(), await resumed.next()
    assert (first.kind, second.kind) == ("change", "change")
    assert first.json()["upserted"].keys() == {"s2"} and second.json()["removed"] == ["s1"]
    assert seen.id < first.id < second.id
    xsm.put("s3", "10.1.1.3")
    xsm.store.flush()
    assert (await resumed.next()).json()["upserted"].keys() == {"s3"}
    resumed.response.close()


async def test_too_old_or_bogus_last_event_id_gets_a_snapshot(xsm) -> None:
    await xsm.start(ring_size=2)
    stream = await xsm.sse("crypto-sessions")
    snapshot = await stream.next()
    stream.response.close()
    for n in range(5):  # more than the ring holds
        xsm.put(f"s{n}", f"10.1.1.{n}")
        xsm.store.flush()
        await asyncio.sleep(0.01)  # each its own change set, not merged
    for last in (str(snapshot.id), "1", str(snapshot.id + 10**9), "not-a-number"):
        resumed = await xsm.sse("crypto-sessions", headers={"Last-Event-ID": last})
        event = await resumed.next()
        assert event.kind == "snapshot", last
        assert set(event.json()["rows"]) == {f"s{n}" for n in range(5)}
        resumed.response.close()


async def test_websocket_subscribe_snapshot_and_changes(xsm) -> None:
    await xsm.start()
    xsm.put("s1", "10.1.1.3")
    xsm.store.flush()
    async with xsm.session.ws_connect(xsm.url("/xsm/ws"), headers=xsm.auth("viewer")) as ws:
        await ws.send_str(json.dumps({"subscribe": ["crypto-sessions"]}))
        snapshot = json.loads((await ws.receive(timeout=5)).data)
        assert snapshot["type"] == "snapshot" and set(snapshot["rows"]) == {"s1"}
        xsm.put("s2", "10.1.1.4")
        xsm.store.flush()
        change = json.loads((await ws.receive(timeout=5)).data)
        assert change["type"] == "change" and set(change["upserted"]) == {"s2"}
        xsm.store.remove(SESSIONS, "s1")
        xsm.store.flush()
        removal = json.loads((await ws.receive(timeout=5)).data)
        assert removal["removed"] == ["s1"] and removal["id"] > change["id"] > snapshot["id"]
        info = xsm.service.clients()[0]
        assert (info.transport, info.user, info.privilege) == ("ws", "viewer", 5)
        # Bad requests are answered in band; the connection stays.
        for bad in ("not json", json.dumps({"subscribe": ["test-config"]}), json.dumps([1])):
            await ws.send_str(bad)
            assert json.loads((await ws.receive(timeout=5)).data)["type"] == "error"
        await ws.send_str(json.dumps({"subscribe": ["ike-sas"]}))
        assert json.loads((await ws.receive(timeout=5)).data)["xrd"] == "ike-sas"


async def test_websocket_resume(xsm) -> None:
    await xsm.start()
    async with xsm.session.ws_connect(xsm.url("/xsm/ws"), headers=xsm.auth("admin")) as ws:
        await ws.send_str(json.dumps({"subscribe": ["crypto-sessions"]}))
        last = json.loads((await ws.receive(timeout=5)).data)["id"]
    xsm.put("s1", "10.1.1.1")
    xsm.store.flush()
    async with xsm.session.ws_connect(xsm.url("/xsm/ws"), headers=xsm.auth("admin")) as ws:
        await ws.send_str(json.dumps({"subscribe": ["crypto-sessions"], "last_event_id": last}))
        replay = json.loads((await ws.receive(timeout=5)).data)
    assert replay["type"] == "change" and set(replay["upserted"]) == {"s1"}


async def test_websocket_needs_authentication(xsm) -> None:
    await xsm.start()
    with pytest.raises(aiohttp.WSServerHandshakeError) as failure:
        await xsm.session.ws_connect(xsm.url("/xsm/ws"))
    assert failure.value.status == 401


async def test_clear_ends_that_clients_stream_only(xsm) -> None:
    service = await xsm.start()
    first = await xsm.sse("crypto-sessions")
    second = await xsm.sse("crypto-sessions", user="viewer")
    await first.next(), await second.next()
    sessions = {c.user: c.session for c in service.clients()}
    assert sessions["viewer"] > sessions["admin"]
    assert service.clear(sessions["admin"]) == [sessions["admin"]]
    assert await first.ended()
    xsm.put("s1", "10.1.1.1")
    xsm.store.flush()
    assert (await second.next()).json()["upserted"].keys() == {"s1"}
    assert [c.user for c in service.clients()] == ["viewer"]
    assert service.clear(None) == [sessions["viewer"]]
    assert await second.ended()


async def test_no_xsm_closes_every_client(xsm) -> None:
    service = await xsm.start()
    stream = await xsm.sse("crypto-sessions")
    await stream.next()
    async with xsm.session.ws_connect(xsm.url("/xsm/ws"), headers=xsm.auth("admin")) as ws:
        await ws.send_str(json.dumps({"subscribe": ["ike-sas"]}))
        await ws.receive(timeout=5)
        await service.apply(xsm.configure(enabled=False))
        assert (await ws.receive(timeout=5)).type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
        )
    assert await stream.ended()
    assert service.clients() == [] and not service.status().serving
    assert service.http_port is None
    await service.apply(xsm.configure(enabled=True))
    async with await xsm.get("/xsm/xrd-list") as response:
        assert response.status == 200


async def test_changing_users_applies_at_once(xsm) -> None:
    service = await xsm.start()
    admin = await xsm.sse("crypto-sessions")
    viewer = await xsm.sse("crypto-sessions", user="viewer")
    await admin.next(), await viewer.next()
    port = service.http_port
    # viewer loses its monitor privilege: its stream closes, the admin's stays.
    demoted = tuple(
        u if u.name != "viewer" else type(u)(name="viewer", privilege=1, secret=u.secret, kind=0)
        for u in xsm.settings.users
    )
    await service.apply(xsm.configure(users=demoted))
    assert service.http_port == port  # no listener restart for a user change
    assert await viewer.ended()
    async with await xsm.get("/xsm/xrd/crypto-sessions", "viewer") as response:
        assert response.status == 403
    xsm.put("s1", "10.1.1.1")
    xsm.store.flush()
    assert (await admin.next()).json()["upserted"].keys() == {"s1"}
    # the admin removed altogether
    await service.apply(xsm.configure(users=tuple(u for u in demoted if u.name != "admin")))
    assert await admin.ended()
    async with await xsm.get("/xsm/xrd-list", "admin") as response:
        assert response.status == 401
    assert service.status().closed_by_reason == {"privilege": 1, "user removed": 1}


async def test_raising_the_monitor_level_closes_streams_below_it(xsm) -> None:
    service = await xsm.start()
    viewer = await xsm.sse("crypto-sessions", user="viewer")
    await viewer.next()
    await service.apply(xsm.configure(monitor_level=10))
    assert await viewer.ended()


async def test_an_access_class_that_no_longer_permits_closes_the_stream(xsm) -> None:
    import ipaddress

    from engine.xsm.settings import AccessClass, ClientRule

    service = await xsm.start()
    stream = await xsm.sse("crypto-sessions")
    await stream.next()
    only_elsewhere = AccessClass("XSM", (ClientRule(True, ipaddress.ip_network("10.0.0.0/8")),))
    await service.apply(xsm.configure(access_class=only_elsewhere))
    assert await stream.ended()
    assert service.status().closed_by_reason == {"access-class": 1}
