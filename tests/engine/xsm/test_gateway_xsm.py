"""XSM on a running gateway with real sessions (a hub and two spokes over loopback):
data sets as JSON and schema-valid XML, server-sent events and WebSocket pushes after a
`clear` from the CLI, exec at configuration level only, `show xsm status` and
`clear xsm session N` from the CLI, failed logins in the log, and `no xsm` on reload."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import aiohttp
import pytest
import xmlschema
from hub_spokes import Network
from netutil import free_port, until
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families
from sse_client import SseStream

from engine.events import ConfigReloaded
from engine.service import VpnService
from engine.store import SESSIONS
from engine.syslog import LogEntry
from engine.xsm.encode import parse_snapshot_xml, schema_text

pytestmark = pytest.mark.asyncio

ADMIN, VIEWER = ("admin", "admin-pass-71"), ("viewer", "viewer-pass-72")


def http_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        return int(probe.getsockname()[1])


def xsm_lines(port: int, enabled: bool = True) -> str:
    return (
        f"username {ADMIN[0]} privilege 15 secret 0 {ADMIN[1]}\n"
        f"username {VIEWER[0]} privilege 5 secret 0 {VIEWER[1]}\n"
        f"ip http server\nip http port {port}\n"
        + ("xsm\nxsm privilege monitor level 5\n" if enabled else "no xsm\n")
    )


def basic(user: tuple[str, str]) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(*user)}


def session_of(net: Network, remote: str) -> str:
    (view,) = [v for v in net.hub.control.sessions() if v.session.remote_ip == remote]
    return view.session.session_id


async def test_xsm_serves_the_gateways_sessions_and_pushes_a_clear(tmp_path: Path) -> None:
    port = http_port()
    base = f"http://127.0.0.2:{port}"
    async with Network(tmp_path, hub_extra=xsm_lines(port)) as net, aiohttp.ClientSession() as web:
        red = session_of(net, "127.0.0.1")
        async with web.get(f"{base}/xsm/xrd/crypto-sessions", headers=basic(VIEWER)) as reply:
            assert reply.status == 200
            rows = (await reply.json())["rows"]
        assert rows[red]["status"] == "UP-ACTIVE" and rows[red]["remote_address"] == "127.0.0.1"
        assert len(rows) == 2
        async with web.get(
            f"{base}/xsm/xrd/crypto-sessions?format=xml", headers=basic(VIEWER)
        ) as reply:
            body = await reply.read()
        xmlschema.XMLSchema(schema_text()).validate(body.decode())
        assert parse_snapshot_xml(body)[2][red]["status"] == "UP-ACTIVE"
        async with web.get(f"{base}/xsm/xrd/peers", headers=basic(VIEWER)) as reply:
            peers = (await reply.json())["rows"]
        red_peer = next(row for row in peers.values() if row["address"] == "127.0.0.1")
        assert red_peer["description"] == "Red branch", peers

        response = await web.get(
            f"{base}/xsm/subscribe?xrd=crypto-sessions",
            headers={**basic(VIEWER), "Accept": "text/event-stream"},
        )
        stream = SseStream(response)
        first = await stream.next()
        assert first.kind == "snapshot" and red in first.json()["rows"]
        ws = await web.ws_connect(f"{base}/xsm/ws", headers=basic(ADMIN))
        await ws.send_json({"subscribe": ["crypto-sessions"]})
        assert json.loads((await ws.receive(timeout=5)).data)["type"] == "snapshot"

        code, out, _ = await net.cli("clear", "crypto", "session", "remote", "127.0.0.1")
        assert code == 0, out
        for _ in range(20):  # counter moves may come first; the clear comes
            change = (await stream.next()).json()
            row = change.get("upserted", {}).get(red)
            if red in change.get("removed", ()) or (row and row["status"] != "UP-ACTIVE"):
                break
        else:
            raise AssertionError("no change for the cleared session")
        for _ in range(20):
            message = json.loads((await ws.receive(timeout=5)).data)
            row = message.get("upserted", {}).get(red)
            if red in message.get("removed", ()) or (row and row["status"] != "UP-ACTIVE"):
                break
        else:
            raise AssertionError("no WebSocket change for the cleared session")

        code, out, _ = await net.cli("show", "xsm", "status")
        assert code == 0 and "Clients: 2" in out, out
        sse_client = next(c for c in net.hub.xsm.clients() if c.transport == "sse")
        assert f"  {sse_client.session:<8}viewer" in out
        code, out, _ = await net.cli("clear", "xsm", "session", str(sse_client.session))
        assert code == 0 and "cleared 1 XSM session" in out
        assert await stream.ended()
        assert len(net.hub.xsm.clients()) == 1  # the WebSocket client stays
        await ws.close()


async def test_exec_needs_configuration_level_and_failed_logins_are_logged(
    tmp_path: Path,
) -> None:
    port = http_port()
    base = f"http://127.0.0.2:{port}"
    async with Network(tmp_path, hub_extra=xsm_lines(port)) as net, aiohttp.ClientSession() as web:
        command = {"command": "show crypto session remote 127.0.0.3"}
        async with web.post(f"{base}/xsm/exec", json=command, headers=basic(ADMIN)) as reply:
            assert reply.status == 200
            answer = await reply.json()
        assert "Peer: 127.0.0.3" in answer["output"]
        async with web.post(f"{base}/xsm/exec", json=command, headers=basic(VIEWER)) as reply:
            assert reply.status == 403
        bad = {"command": "clear crypto sessoin"}
        async with web.post(f"{base}/xsm/exec", json=bad, headers=basic(ADMIN)) as reply:
            assert reply.status == 400
            assert "expected" in (await reply.json())["error"]
        blue = session_of(net, "127.0.0.3")
        clear = {"command": "clear crypto session remote 127.0.0.3"}
        async with web.post(f"{base}/xsm/exec", json=clear, headers=basic(ADMIN)) as reply:
            assert reply.status == 200
            assert (await reply.json())["records"]["cleared"] == [blue]
        wrong = {"Authorization": aiohttp.encode_basic_auth("admin", "not-the-password-9")}
        async with web.get(f"{base}/xsm/xrd-list", headers=wrong) as reply:
            assert reply.status == 401
        lines = [e.ios_line() for e in net.hub.store.syslog if isinstance(e, LogEntry)]
        failed = [line for line in lines if "LOGIN_FAILED" in line]
        assert failed and "[user: admin]" in failed[0] and "[Source: 127.0.0.1]" in failed[0]
        assert not [line for line in lines if "not-the-password-9" in line]
        assert any("CLEAR" in line or "cleared" in line.lower() for line in lines)


async def test_no_xsm_on_reload_closes_every_client(tmp_path: Path) -> None:
    port = http_port()
    base = f"http://127.0.0.2:{port}"
    async with Network(tmp_path, hub_extra=xsm_lines(port)) as net, aiohttp.ClientSession() as web:
        response = await web.get(
            f"{base}/xsm/subscribe?xrd=crypto-sessions",
            headers={**basic(ADMIN), "Accept": "text/event-stream"},
        )
        stream = SseStream(response)
        assert (await stream.next()).kind == "snapshot"
        conf = net.hub.config_path
        conf.write_text(conf.read_text().replace(xsm_lines(port), xsm_lines(port, False)))
        event = net.hub.reload()
        assert isinstance(event, ConfigReloaded), event
        assert any("xsm" in line.lower() for line in event.summary), event.summary
        assert await stream.ended()
        await until(lambda: not net.hub.xsm.status().serving, timeout=5)
        with pytest.raises(aiohttp.ClientConnectionError):
            async with web.get(f"{base}/xsm/xrd-list", headers=basic(ADMIN)):
                pass
        assert net.hub.store.table(SESSIONS)  # the gateway itself goes on
        await asyncio.sleep(0)


async def test_metrics_scrape_parses_and_matches_the_sessions(tmp_path: Path) -> None:
    port = http_port()
    base = f"http://127.0.0.2:{port}"
    async with Network(tmp_path, hub_extra=xsm_lines(port)) as net, aiohttp.ClientSession() as web:
        async with web.get(f"{base}/metrics") as reply:
            assert reply.status == 401  # monitor level, like every data set
        async with web.get(f"{base}/metrics", headers=basic(VIEWER)) as reply:
            assert reply.status == 200
            assert reply.content_type == "text/plain"
            text = await reply.text()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        states = families["ipsec_ike_sa_state"].samples
        assert sorted(s.labels["remote_host"] for s in states) == ["127.0.0.1", "127.0.0.3"]
        assert {s.value for s in states} == {2}  # ESTABLISHED, as the exporter numbers it
        by_status = {
            s.labels["status"]: s.value for s in families["ipsec_console_crypto_sessions"].samples
        }
        assert by_status == {
            "UP-ACTIVE": 2, "UP-IDLE": 0, "UP-NO-IKE": 0, "DOWN-NEGOTIATING": 0, "DOWN": 0
        }  # fmt: skip
        children = families["ipsec_child_sa_state"].samples
        assert len(children) == 2 and {s.value for s in children} == {3}
        assert {s.labels["protocol"] for s in children} == {"ESP"}
        open_metrics = "application/openmetrics-text; version=1.0.0"
        async with web.get(
            f"{base}/metrics", headers={**basic(VIEWER), "Accept": open_metrics}
        ) as reply:
            assert reply.content_type == "application/openmetrics-text"
            body = await reply.text()
        names = {f.name for f in openmetrics_families(body)}
        assert {"ipsec_child_sa_bytes_in", "ipsec_console_session_bytes_in"} <= names
        assert net.hub.store.table(SESSIONS)


async def test_history_sets_follow_xsm_history_and_serve_each_session(tmp_path: Path) -> None:
    port = http_port()
    base = f"http://127.0.0.2:{port}"
    lines = xsm_lines(port) + "xsm history vdm\nxsm history edm\n"
    async with Network(tmp_path, hub_extra=lines) as net, aiohttp.ClientSession() as web:
        recorder = net.hub.xsm_gateway.recorder
        assert recorder is not None and recorder.vdm and recorder.edm
        red = session_of(net, "127.0.0.1")
        await recorder.sample_once()
        await recorder.sample_once()
        async with web.get(f"{base}/xsm/xrd/history-vdm", headers=basic(VIEWER)) as reply:
            assert reply.status == 200
            rows = (await reply.json())["rows"]
        assert {"gateway/1h", "gateway/1d", "gateway/5d", "events", "series"} <= set(rows)
        newest = rows["gateway/1h"]["points"][-1]
        assert newest["sessions_up_active"] == 2 and newest["sessions_total"] == 2
        ups = [e for e in rows["events"]["events"] if e["event"] == "up"]
        blue = session_of(net, "127.0.0.3")
        assert {e["series"] for e in ups} == {f"session/{red}", f"session/{blue}"}
        async with web.get(
            f"{base}/xsm/xrd/history-edm?format=xml", headers=basic(VIEWER)
        ) as reply:
            body = (await reply.read()).decode()
        xmlschema.XMLSchema(schema_text()).validate(body)
        system = parse_snapshot_xml(body.encode())[2]["system/1h"]
        assert system["points"] and "memory_rss" in system["points"][-1]

        query = {"series": f"session/{red}", "range": "1h"}
        async with web.get(
            f"{base}/xsm/xrd/history-vdm", params=query, headers=basic(VIEWER)
        ) as reply:
            one = (await reply.json())["rows"]
        assert set(one) == {f"session/{red}/1h", "events"}
        assert [e["event"] for e in one["events"]["events"]] == ["up"]
        for bad in ("series=session/1&range=2h", "series=;drop", "range=1h", "series=x&day=1"):
            async with web.get(f"{base}/xsm/xrd/history-vdm?{bad}", headers=basic(VIEWER)) as reply:
                assert reply.status == 400, bad
                assert "Traceback" not in await reply.text()
        history = net.hub.control.history("gateway", "1h")
        assert history is not None and history["points"][-1]["sessions_total"] == 2

        conf = net.hub.config_path
        conf.write_text(conf.read_text().replace("xsm history vdm\nxsm history edm\n", ""))
        assert isinstance(net.hub.reload(), ConfigReloaded)
        await until(lambda: net.hub.xsm_gateway.recorder is None, timeout=5)
        async with web.get(f"{base}/xsm/xrd/history-vdm", headers=basic(VIEWER)) as reply:
            assert reply.status == 404
        assert net.hub.control.history("gateway", "1h") is None
        async with web.get(f"{base}/xsm/xrd/crypto-sessions", headers=basic(VIEWER)) as reply:
            assert reply.status == 200  # the rest of XSM goes on


async def test_history_survives_a_restart_of_the_gateway(tmp_path: Path) -> None:
    port = http_port()
    conf = tmp_path / "gw.conf"
    conf.write_text(f"hostname gw\n{xsm_lines(port)}xsm history vdm\nend\n")

    def gateway() -> VpnService:
        return VpnService(
            conf, bind="127.0.0.2", ike_port=free_port(), natt_port=free_port(), watch=False,
            dataplane=None, state_dir=tmp_path / "state",
        )  # fmt: skip

    first = gateway()
    await first.start()
    try:
        recorder = first.xsm_gateway.recorder
        assert recorder is not None
        await recorder.sample_once()
        before = first.control.history("gateway", "1h")
        assert before is not None and before["points"]
    finally:
        await first.stop()
    assert (tmp_path / "state" / "xsm-history.sqlite").exists()
    second = gateway()
    await second.start()
    try:
        after = second.control.history("gateway", "1h")
        assert after is not None and after["points"] == before["points"]
    finally:
        await second.stop()
