"""The lab shows every kind of peer it has: its route-based branch comes up on a tunnel
interface at both ends, pings through it by route, and is accounted as Tunnel1."""

from __future__ import annotations

import aiohttp
from netutil import until

from engine.lab import Lab
from engine.records import SessionRecord, SessionStatus
from engine.store import SESSIONS, SYSLOG


async def test_the_route_based_branch_runs_on_tunnel1(tmp_path) -> None:
    lab = Lab(ike_port=0, natt_port=0, control_path=tmp_path / "lab.sock")
    await lab.start()
    try:
        store = lab.service.store

        def tunnel_session() -> SessionRecord | None:
            for record in store.table(SESSIONS).values():
                if isinstance(record, SessionRecord) and record.interface == "Tunnel1":
                    return record
            return None

        await until(lambda: (s := tunnel_session()) and s.totals.packets_in >= 2, timeout=15)
        session = tunnel_session()
        assert session is not None and session.status is SessionStatus.UP_ACTIVE
        assert session.remote_ip == "127.0.1.9"
        (branch,) = [p for p in lab.peers if p.name == "Tunnel1"]
        assert branch.traffic.counters["echo replies"] >= 2  # answered through the tunnel
        lines = [entry.ios_line() for entry in store.table(SYSLOG).values()]  # type: ignore[attr-defined]
        assert any(
            "%LINEPROTO-5-UPDOWN: Line protocol on Interface Tunnel1, changed state to up" in line
            for line in lines
        )
        collector = lab.collectors[0]

        def nas_ports() -> set[str]:
            return {
                v
                for r in collector.received
                for k, v in r.attributes
                if k == "Cisco-NAS-Port" and ("Acct-Status-Type", "Start") in r.attributes
            }

        await until(lambda: "Tunnel1" in nas_ports(), timeout=10)
    finally:
        await lab.stop()


async def test_ikev1_users_and_branch_come_up_with_names_and_addresses(tmp_path) -> None:
    """The lab's Easy VPN users log in with XAUTH and get pool addresses, shown on their
    sessions and sent in their accounting Start; the user with a wrong password is
    refused and logged by name; the IKEv1 branch runs main mode."""
    lab = Lab(ike_port=0, natt_port=0, control_path=tmp_path / "lab.sock")
    await lab.start()
    try:
        store = lab.service.store

        def by_address() -> dict[str, SessionRecord]:
            return {
                r.remote_ip: r
                for r in store.table(SESSIONS).values()
                if isinstance(r, SessionRecord) and r.status is SessionStatus.UP_ACTIVE
            }

        wanted = {"127.0.3.1", "127.0.3.2", "127.0.1.10"}
        await until(lambda: wanted <= set(by_address()), timeout=15)
        sessions = by_address()
        alice, bob = sessions["127.0.3.1"], sessions["127.0.3.2"]
        assert (alice.username, alice.group) == ("alice@lab", "LAB-EZVPN")
        assert {alice.assigned_address, bob.assigned_address} == {"10.200.0.10", "10.200.0.11"}
        assert "127.0.3.3" not in sessions
        lines = [entry.ios_line() for entry in store.table(SYSLOG).values()]  # type: ignore[attr-defined]
        assert any("IKMP_XAUTH_FAILED" in line and "mallory@lab" in line for line in lines)
        assert not any("guessed-wrong" in line for line in lines)
        (alice_peer,) = [p for p in lab.peers if p.name == "lab-ezvpn-1"]
        await until(lambda: alice_peer.traffic.counters["echo replies"] >= 2, timeout=10)
        collector = lab.collectors[0]

        def starts() -> list[dict[str, object]]:
            return [
                dict(r.attributes)
                for r in collector.received
                if ("Acct-Status-Type", "Start") in r.attributes
            ]

        await until(lambda: any(s.get("User-Name") == "alice@lab" for s in starts()), timeout=10)
        (start,) = [s for s in starts() if s.get("User-Name") == "alice@lab"]
        assert start["Framed-IP-Address"] == alice.assigned_address
    finally:
        await lab.stop()


async def test_the_lab_serves_xsm_and_keeps_history_for_the_dashboard(tmp_path) -> None:
    lab = Lab(ike_port=0, natt_port=0, control_path=tmp_path / "lab.sock")
    await lab.start()
    try:
        recorder = lab.service.xsm_gateway.recorder
        assert recorder is not None and recorder.vdm and recorder.edm
        store = lab.service.store
        await until(
            lambda: any(
                isinstance(r, SessionRecord) and r.totals.packets_in
                for r in store.table(SESSIONS).values()
            ),
            timeout=15,
        )
        await recorder.sample_once()
        await recorder.sample_once()
        history = lab.service.control.history("gateway", "1h")
        assert history is not None and history["points"][-1]["sessions_total"] >= 1
        auth = {"Authorization": aiohttp.encode_basic_auth("lab-admin", "lab-admin-pass")}
        async with (
            aiohttp.ClientSession() as web,
            web.get("http://127.0.0.1:18080/xsm/xrd/history-vdm", headers=auth) as reply,
        ):
            assert reply.status == 200
            rows = (await reply.json())["rows"]
        assert rows["gateway/1h"]["points"]
    finally:
        await lab.stop()
