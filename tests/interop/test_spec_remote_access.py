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

from pathlib import Path

import pytest
from interop.conftest import require
from interop.freeradius import SYSTEM_CONFIG, binary, launch
from interop.ikev1_gateway_configs import swanctl_v1_remote_access
from interop.strongswan import SS_ADDR, US_ADDR, Lab, NotYet, eventually
from interop.strongswan_configs import US_NET

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


def spec_example(auth_port: int, acct_port: int) -> str:
    lines = SPEC.read_text(encoding="utf-8").splitlines()
    start = lines.index("version 12.2")
    body = []
    for text in lines[start:]:
        if text.strip().startswith("```"):
            continue
        body.append(text)
        if text.strip() == "end":
            break
    text = "\n".join(body) + "\n"
    text = text.replace("crypto-isakmp profile", "crypto isakmp profile")
    text = text.replace("172.31.100.2", SS_ADDR)
    text = text.replace(
        "ip address 172.28.100.1 255.255.255.0", f"ip address {US_ADDR} 255.255.255.0"
    )
    text = text.replace(
        "radius-server host 172.27.162.206 auth-port 1645 acct-port 1646 key cisco123",
        f"radius-server host 127.0.0.1 auth-port {auth_port} acct-port {acct_port} key {SECRET}",
    )
    return text.replace("\nend\n", "\n" + MISSING + "end\n")


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
        model = validate(parse_text(conf, "spec-example-1.conf"))  # what `check` runs
        assert [d for d in model.diagnostics if d.severity is Severity.ERROR] == []
        assert not [d for d in model.diagnostics if "IKEv1" in d.message]
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

        def start() -> dict[str, list[str]]:
            for record in radius.records():
                if record.get("Acct-Status-Type") == ["Start"]:
                    return record
            raise NotYet(str(radius.records()))

        record = eventually(start, 10, "the Start in FreeRADIUS's detail file", lab.state)
        assert record["User-Name"] == ["joe@cclient"]
        assert record["Framed-IP-Address"] == ["192.168.1.1"]
        assert "isakmp-group-id=cclient" in record["Cisco-AVPair"]
        assert f"isakmp-initator-ip={SS_ADDR}" in record["Cisco-AVPair"]
        assert "vrf-id=cisco" in record["Cisco-AVPair"]
        assert len(ours.clear()) == 1

        def stop() -> dict[str, list[str]]:
            for entry in radius.records():
                if entry.get("Acct-Status-Type") == ["Stop"]:
                    return entry
            raise NotYet("no Stop yet")

        stopped = eventually(stop, 10, "the Stop after the clear", lab.state)
        assert stopped["Acct-Session-Id"] == record["Acct-Session-Id"]
        assert stopped["User-Name"] == ["joe@cclient"]
    finally:
        radius.stop()
        print(radius.log())


if not SPEC.exists():  # pragma: no cover - a checkout without the spec beside it
    pytestmark = pytest.mark.skip(reason=f"spec file not present: {SPEC}")
