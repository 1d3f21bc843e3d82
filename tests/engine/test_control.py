"""show / clear / describe through the control socket and the CLI, against gateways with
real sessions over loopback: a hub and two spokes in different VRFs."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from hub_spokes import Network
from netutil import until

from engine.control import ClearFilter
from engine.control_socket import ControlError
from engine.events import DownReason


async def test_clear_by_each_filter_clears_only_the_matching_sessions(tmp_path: Path) -> None:
    async with Network(tmp_path) as net:
        hub = net.hub
        cases = [
            (["fvrf", "WAN-RED"], 1),
            (["ivrf", "LAN-BLUE"], 3),
            (["remote", "127.0.0.1", "port", str(net.ike_port)], 1),
            (["remote", "127.0.0.3"], 3),
            (["local", "127.0.0.2", "port", str(net.ike_port)], None),
        ]
        for words, spoke in cases:
            await until(lambda: net.up_count() == 2, timeout=15)
            before_hub = len(net.downs(net.hub_events))
            before = {n: len(net.downs(e)) for n, e in net.spoke_events.items()}
            reply = await net.ask({"cmd": "clear", "words": words})
            expected = [1, 3] if spoke is None else [spoke]
            assert len(reply["cleared"]) == len(expected), words
            await until(
                lambda expected=expected, before=before: all(
                    len(net.downs(net.spoke_events[n])) > before[n] for n in expected
                )
            )
            for n in expected:
                assert net.downs(net.spoke_events[n])[-1].reason is DownReason.PEER_DELETE
            for n in {1, 3} - set(expected):
                assert len(net.downs(net.spoke_events[n])) == before[n], words
            hub_downs = net.downs(net.hub_events)[before_hub:]
            assert {d.reason for d in hub_downs} == {DownReason.CLEARED}
        log = [e.ios_line() for e in hub.store.syslog]
        assert any("SESSION_CLEARED" in line and "127.0.0.1" in line for line in log)
        assert any(
            "Crypto session is DOWN. Peer 127.0.0.1" in line
            and "fvrf=WAN-RED ivrf=LAN-RED Description: Red branch" in line
            for line in log
        )


async def test_cli_show_text_and_json_against_real_sessions(tmp_path: Path) -> None:
    async with Network(tmp_path) as net:
        port = net.ike_port
        code, out, err = await net.cli("show", "crypto", "session")
        assert code == 0, err
        assert out == (
            "Crypto session current status\n\n"
            "Interface: red0\n"
            "Session status: UP-ACTIVE\n"
            f"Peer: 127.0.0.1/{port}\n"
            f"  IKE SA: local 127.0.0.2/{port} remote 127.0.0.1/{port} Active\n"
            "  IPSEC FLOW: permit ip 10.0.0.0/255.255.0.0 10.1.0.0/255.255.0.0\n"
            "    Active SAs: 2, origin: dynamic crypto map\n\n"
            "Interface: blue0\n"
            "Session status: UP-ACTIVE\n"
            f"Peer: 127.0.0.3/{port}\n"
            f"  IKE SA: local 127.0.0.2/{port} remote 127.0.0.3/{port} Active\n"
            "  IPSEC FLOW: permit ip 10.0.0.0/255.255.0.0 10.3.0.0/255.255.0.0\n"
            "    Active SAs: 2, origin: dynamic crypto map\n"
        )
        code, out, _ = await net.cli("sh", "cry", "sess", "det", "remote", "127.0.0.1")
        assert code == 0
        lines = out.splitlines()
        assert lines[2:6] == [
            "Interface: red0",
            "Session status: UP-ACTIVE",
            f"Peer: 127.0.0.1 port {port} fvrf: WAN-RED ivrf: LAN-RED",
            "  Desc: Red branch",
        ]
        assert lines[6] == "  Phase1_id: 127.0.0.1"
        assert lines[8].startswith("    Capabilities:(none) connid:")
        hours, minutes, seconds = map(int, lines[8].split("lifetime:")[1].split(":"))
        remaining = hours * 3600 + minutes * 60 + seconds
        # a 24 h lifetime counting down since the SA came up, moments ago on a busy machine
        assert 86_400 - 60 <= remaining <= 86_400, lines[8]
        assert lines[11].startswith("    Inbound:  #pkts dec'ed 0 drop 0 life (KB/Sec) 4608000/")
        assert lines[12].startswith("    Outbound: #pkts enc'ed 0 drop 0 life (KB/Sec) ")
        code, out, _ = await net.cli("show", "crypto", "session", "--json")
        sessions = json.loads(out)
        assert [s["session"]["remote_ip"] for s in sessions] == ["127.0.0.1", "127.0.0.3"]
        assert sessions[0]["session"]["status"] == "UP-ACTIVE"
        assert sessions[0]["flows"][0]["active_sas"] == 2
        code, out, _ = await net.cli("show", "crypto", "isakmp", "peer")
        assert out.startswith(
            "Peer: 127.0.0.1 Port: 500\n  Description: Red branch\n  flags: PEER_POLICY\n"
        )
        assert f"Peer: 127.0.0.3 Port: {port}\n" in out
        code, out, _ = await net.cli("show", "running-config")
        assert "pre-shared-key *****" in out and "spoke-key-77" not in out
        code, out, _ = await net.cli("clear", "crypto", "session", "remote", "127.0.0.3")
        assert code == 0 and out.startswith("cleared 1 crypto session (remote 127.0.0.3)")


async def test_cli_usage_errors_and_missing_daemon(tmp_path: Path) -> None:
    async def cli(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "engine.cli",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await proc.communicate()
        return proc.returncode or 0, err.decode()

    nowhere = str(tmp_path / "none.sock")
    code, err = await cli("show", "crypto", "session", "--control", nowhere)
    assert code == 1 and "no ipsec-console daemon" in err
    for args in (
        ["show", "crypto", "nonsense"],
        ["show"],
        ["clear", "crypto", "session", "remote", "not-an-ip"],
        ["clear", "crypto", "session", "remote", "10.0.0.1", "port", "99999"],
        ["clear", "crypto", "session", "fvrf"],
        ["show", "crypto", "session", "--bogus"],
    ):
        code, err = await cli(*args, "--control", nowhere)
        assert code == 2, args
        assert "usage" in err and "Traceback" not in err


async def test_control_socket_answers_bad_requests_and_goes_on(tmp_path: Path) -> None:
    async with Network(tmp_path) as net:
        reader, writer = await asyncio.open_unix_connection(str(net.control))
        bad = [
            b"not json\n",
            b"[1, 2]\n",
            b'{"cmd": 7}\n',
            b'{"cmd": "reboot"}\n',
            b'{"cmd": "clear", "words": "remote 1.2.3.4"}\n',
            b'{"cmd": "clear", "words": ["remote", "nope"]}\n',
            b'{"cmd": "describe", "session": "no-such"}\n',
            b"\xff\xfe\n",
        ]
        for line in bad:
            writer.write(line)
            await writer.drain()
            reply = json.loads(await reader.readline())
            assert reply["ok"] is False and reply["error"], line
        writer.write(b'{"cmd": "show-sessions"}\n')
        await writer.drain()
        reply = json.loads(await reader.readline())
        assert reply["ok"] and len(reply["sessions"]) == 2
        session_id = reply["sessions"][0]["session"]["session_id"]
        writer.write(json.dumps({"cmd": "describe", "session": session_id}).encode() + b"\n")
        await writer.drain()
        detail = json.loads(await reader.readline())["detail"]
        assert detail["view"]["session"]["remote_ip"] == "127.0.0.1"
        assert any("SESSION_STATUS" in e["text"] or "UP" in e["text"] for e in detail["log"])
        writer.write(b"x" * 70_000 + b"\n")
        await writer.drain()
        reply = json.loads(await reader.readline())
        assert reply == {"ok": False, "error": "request too long"}
        writer.close()
        assert (await net.ask({"cmd": "show-isakmp-peers"}))["ok"]
        assert oct(net.control.stat().st_mode & 0o777) == "0o600"
        with pytest.raises(ControlError):
            await net.ask({"cmd": "nope"})


def test_clear_filter_parsing() -> None:
    flt = ClearFilter.parse(["remote", "10.1.1.3", "port", "4500", "fvrf", "A", "ivrf", "B"])
    assert (flt.remote_ip, flt.remote_port, flt.fvrf, flt.ivrf) == ("10.1.1.3", 4500, "A", "B")
    assert ClearFilter.parse([]).everything
    assert ClearFilter.parse(["local", "192.0.2.1"]).describe() == "local 192.0.2.1"
    for bad in (["remote"], ["remote", "x"], ["foo", "bar"], ["local", "1.2.3.4", "port", "0"]):
        with pytest.raises(ValueError):
            ClearFilter.parse(bad)


def test_sessions_sort_by_address_as_numbers_ipv4_first() -> None:
    import ipaddress

    from engine.control import address_key

    v4 = ["10.0.0.10", "10.0.0.9", "9.255.255.255", "127.10.0.1", "10.0.1.0"]
    v6 = ["2001:db8::10", "2001:db8::9", "::1", "fe80::1"]
    ordered = sorted(v6 + v4, key=address_key)
    assert ordered == sorted(v4, key=ipaddress.ip_address) + sorted(v6, key=ipaddress.ip_address)
