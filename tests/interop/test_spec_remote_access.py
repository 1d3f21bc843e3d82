"""The spec's "Accounting and ISAKMP-Profile" example, run: its configuration with test
addresses, against strongSwan as the remote-access client (aggressive mode with group
`cclient`, XAUTH as joe@cclient, a virtual IP) and a real FreeRADIUS that checks XAUTH
and records accounting, both in the gateway's namespace.

What had to change in the example, and why: the addresses (test networks); its
`crypto-isakmp profile` typo (a router refuses that line too); and the definitions it
names but never gives: the method lists `cisco-client`, the accounting list `acc`, the
VRF `cisco`, the client group `cclient`. Without them IOS would refuse every client as
well (an undefined login list fails every user)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from interop.conftest import require
from interop.freeradius import SYSTEM_CONFIG, FreeRadius, binary, launch
from interop.ikev1_gateway_configs import swanctl_v1, swanctl_v1_remote_access
from interop.strongswan import SS_ADDR, US_ADDR, Lab, NotYet, eventually
from interop.strongswan_configs import US_NET
from interop.test_strongswan_esp import ping
from interop.traffic import SteadyPing

from engine.config.diagnostics import Severity
from engine.config.parser import parse_text
from engine.config.validate import validate

SPEC = (
    Path(__file__).resolve().parents[3] / "shared" / "seed" / "ipsec-monitoring-accounting-vdm.txt"
)
SECRET = "spec-radius-secret"
PASSWORD = "joe-spec-pass-4d2"
MISSING = """\
aaa authentication login cisco-client group radius
aaa authorization network cisco-client local
aaa accounting network acc start-stop group radius
ip vrf cisco
crypto isakmp client configuration group cclient
 pool addressA
"""


def spec_text(which: int) -> str:
    """The spec's `which`-th full configuration (0: with ISAKMP profiles, 1: without)."""
    lines = SPEC.read_text(encoding="utf-8").splitlines()
    start = [i for i, text in enumerate(lines) if text == "version 12.2"][which]
    body = []
    for text in lines[start:]:
        if text.strip().startswith("```"):
            continue
        body.append(text)
        if text.strip() == "end":
            break
    return "\n".join(body) + "\n"


def with_test_addresses(text: str, auth_port: int, acct_port: int) -> str:
    text = text.replace("172.31.100.2", SS_ADDR)
    text = text.replace(
        "ip address 172.28.100.1 255.255.255.0", f"ip address {US_ADDR} 255.255.255.0"
    )
    return text.replace(
        "radius-server host 172.27.162.206 auth-port 1645 acct-port 1646 key cisco123",
        f"radius-server host 127.0.0.1 auth-port {auth_port} acct-port {acct_port} key {SECRET}",
    )


def spec_example(auth_port: int, acct_port: int) -> str:
    text = spec_text(0).replace("crypto-isakmp profile", "crypto isakmp profile")
    text = with_test_addresses(text, auth_port, acct_port)
    return text.replace("\nend\n", "\n" + MISSING + "end\n")


def checks_clean(text: str, name: str) -> None:
    model = validate(parse_text(text, name))  # what `check` runs
    assert [d for d in model.diagnostics if d.severity is Severity.ERROR] == []
    assert not [d for d in model.diagnostics if "IKEv1" in d.message]


def first_record(radius: FreeRadius, status: str) -> Callable[[], dict[str, list[str]]]:
    def probe() -> dict[str, list[str]]:
        for record in radius.records():
            if record.get("Acct-Status-Type") == [status]:
                return record
        raise NotYet(f"no {status} yet: {radius.records()}")

    return probe


def test_the_spec_example_accepts_its_client_and_accounts_it(
    strongswan_lab: Lab, tmp_path: Path
) -> None:
    require(binary(), "freeradius not installed (apt-get install freeradius freeradius-utils)")
    require(SYSTEM_CONFIG.is_dir(), f"{SYSTEM_CONFIG} missing (apt-get install freeradius)")
    lab = strongswan_lab
    users = f'"joe@cclient" Cleartext-Password := "{PASSWORD}"\n'
    radius = launch(tmp_path / "radius", SECRET, users=users, netns=lab.topo.us)
    try:
        conf = spec_example(radius.auth_port, radius.acct_port)
        checks_clean(conf, "spec-example-1.conf")
        charon = lab.charon(
            swanctl_v1_remote_access(
                proposals="aes128-sha1-modp2048",
                esp="aes128-sha1",
                password=PASSWORD,
                group_key="cisco",
                remote_ts=US_NET,
            )
        )
        ours = lab.ours(conf)
        charon.initiate()
        agreed = lab.wait_agreed(charon, ours, timeout=20)
        session = agreed.session["session"]
        assert session["username"] == "joe@cclient"
        assert session["assigned_address"] == "192.168.1.1"
        assert session["ivrf"] == "cisco"

        record = eventually(
            first_record(radius, "Start"), 10, "the Start in FreeRADIUS's detail file", lab.state
        )
        assert record["User-Name"] == ["joe@cclient"]
        assert record["Framed-IP-Address"] == ["192.168.1.1"]
        assert "isakmp-group-id=cclient" in record["Cisco-AVPair"]
        assert f"isakmp-initator-ip={SS_ADDR}" in record["Cisco-AVPair"]
        assert "vrf-id=cisco" in record["Cisco-AVPair"]
        assert len(ours.clear()) == 1

        stopped = eventually(
            first_record(radius, "Stop"), 10, "the Stop after the clear", lab.state
        )
        assert stopped["Acct-Session-Id"] == record["Acct-Session-Id"]
        assert stopped["User-Name"] == ["joe@cclient"]
    finally:
        radius.stop()
        print(radius.log())


#: the hosts of the example's `access-list 101`: its Loopback0 and the far side's host
OUR_HOST, FAR_HOST = "10.20.20.20", "10.10.10.10"


def test_the_spec_example_without_profiles_runs_and_accounts_its_peer(
    strongswan_lab: Lab, tmp_path: Path
) -> None:
    """The second example as written but for the addresses: main mode with `crypto isakmp
    key`, a crypto map with `client accounting list`, 120 s IPsec lifetimes and interim
    records every minute. The peer is charon; traffic flows for the whole run, across
    the rekey the lifetime forces; FreeRADIUS's detail file holds one Start, Interim-Updates
    with growing counters, no second Start at the rekey, and the Stop after a clear."""
    require(binary(), "freeradius not installed (apt-get install freeradius freeradius-utils)")
    lab = strongswan_lab
    radius = launch(tmp_path / "radius", SECRET, netns=lab.topo.us)
    try:
        conf = with_test_addresses(spec_text(1), radius.auth_port, radius.acct_port)
        checks_clean(conf, "spec-example-2.conf")
        lab.topo.run(lab.topo.us, "ip", "addr", "add", f"{OUR_HOST}/32", "dev", "lo", check=True)
        lab.topo.run(lab.topo.ss, "ip", "addr", "add", f"{FAR_HOST}/32", "dev", "lo", check=True)
        charon = lab.charon(
            swanctl_v1(
                proposals="aes128-sha1-modp2048",
                esp="aes128-sha1",
                psk="cisco",
                local_ts=f"{FAR_HOST}/32",
                remote_ts=f"{OUR_HOST}/32",
            )
        )
        ours = lab.ours(conf)  # a static crypto map: the gateway initiates, as IOS would
        first = lab.wait_agreed(charon, ours, timeout=20)
        assert first.our_ike["version"] == 1 and first.our_ike["initiator"] is True
        assert ping(lab, lab.topo.ss, FAR_HOST, OUR_HOST, 3) == (3, 3)
        start = eventually(first_record(radius, "Start"), 10, "the Start", lab.state)
        assert f"isakmp-phase1-id={SS_ADDR}" in start["Cisco-AVPair"]
        assert f"isakmp-initator-ip={SS_ADDR}" in start["Cisco-AVPair"]
        # our 120 s lifetime makes us rekey at 108 s: traffic runs across it
        traffic = SteadyPing(lab.topo.ss, FAR_HOST, OUR_HOST, seconds=125, interval=0.2).start()
        try:
            rekeyed = lab.wait_agreed(
                charon, ours, new_child_than=first, what="the rekey at the lifetime", timeout=130
            )
            sent, received = traffic.result()
        finally:
            traffic.stop()
        assert rekeyed.ike_spis == first.ike_spis
        assert received == sent, lab.state()
        records = radius.records()
        session_id = start["Acct-Session-Id"]
        ours_only = [r for r in records if r.get("Acct-Session-Id") == session_id]
        statuses = [r["Acct-Status-Type"][0] for r in ours_only]
        assert statuses.count("Start") == 1, statuses
        interims = [r for r in ours_only if r["Acct-Status-Type"] == ["Interim-Update"]]
        assert interims, statuses  # `aaa accounting update periodic 1`: one a minute
        assert int(interims[-1]["Acct-Input-Packets"][0]) >= 3
        assert len(ours.clear()) == 1
        stopped = eventually(first_record(radius, "Stop"), 10, "the Stop after the clear")
        assert stopped["Acct-Session-Id"] == start["Acct-Session-Id"]
        # every echo request of both pings reached us through the tunnel
        assert int(stopped["Acct-Input-Packets"][0]) >= sent + 3
        assert ours.lines("Crypto session is DOWN")  # the clear, and only then
    finally:
        radius.stop()
        print(radius.log())


if not SPEC.exists():  # pragma: no cover - a checkout without the spec beside it
    pytestmark = pytest.mark.skip(reason=f"spec file not present: {SPEC}")
