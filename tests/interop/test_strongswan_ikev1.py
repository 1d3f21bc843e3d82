"""IKEv1 against a real strongSwan (charon `version = 1`) in the namespace pair of
interop/strongswan.py: main mode both directions, quick mode with and without PFS,
rekeys, DPD and deletes; agreement is checked on both sides as for IKEv2 (one ISAKMP
SA and one IPsec SA pair, the cookies equal, the SPIs crossed)."""

from __future__ import annotations

import time

from interop.ikev1_gateway_configs import (
    GROUP,
    XAUTH_USER,
    our_v1,
    our_v1_remote_access,
    swanctl_v1,
    swanctl_v1_remote_access,
)
from interop.strongswan import SS_ADDR, US_ADDR, Lab, NotYet, OurGateway, eventually
from interop.strongswan_configs import SS_HOST, US_HOST
from interop.test_strongswan_esp import charon_packets, ping, wait_counters
from interop.traffic import SteadyPing


def test_charon_initiates_main_mode(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    charon = lab.charon(swanctl_v1())
    ours = lab.ours(our_v1())
    charon.initiate()
    agreed = lab.wait_agreed(charon, ours)
    assert agreed.charon_ike["version"] == "1"
    assert agreed.our_ike["version"] == 1 and agreed.our_ike["mode"] == "main"
    assert agreed.our_child["algorithms"]["encryption"] == "aes-cbc-128"
    table = ours.ask({"cmd": "show-isakmp-sa"})["text"]
    assert f"{US_ADDR:<15} {SS_ADDR:<15} QM_IDLE" in table, table


def test_we_initiate_main_mode(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    charon = lab.charon(swanctl_v1())
    ours = lab.ours(our_v1(initiate=True))
    agreed = lab.wait_agreed(charon, ours)
    assert agreed.charon_ike.get("initiator", "no") == "no"
    assert agreed.our_ike["initiator"] is True


def test_remote_access_client_with_xauth_and_mode_config(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    charon = lab.charon(swanctl_v1_remote_access())
    ours = lab.ours(our_v1_remote_access())
    charon.initiate()
    agreed = lab.wait_agreed(charon, ours)
    assert agreed.our_ike["mode"] == "aggressive"
    session = agreed.session["session"]
    assert session["username"] == XAUTH_USER
    assert session["assigned_address"] == "10.98.3.10"
    assert session["group"] == GROUP
    assert agreed.charon_ike["local-vips"] == ["10.98.3.10"]
    assert agreed.charon_child["local-ts"] == ["10.98.3.10/32"]


def test_pings_cross_a_main_mode_tunnel_both_ways(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    charon = lab.charon(swanctl_v1())
    ours = lab.ours(our_v1(initiate=True))
    lab.wait_agreed(charon, ours)
    assert ping(lab, lab.topo.us, US_HOST, SS_HOST, 5) == (5, 5)
    assert ping(lab, lab.topo.ss, SS_HOST, US_HOST, 5) == (5, 5)
    charon_in, charon_out = charon_packets(charon)
    assert (charon_in, charon_out) == (10, 10)
    wait_counters(ours, expected_in=charon_out, expected_out=charon_in)


def test_remote_access_client_pings_from_its_assigned_address(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    charon = lab.charon(swanctl_v1_remote_access())
    ours = lab.ours(our_v1_remote_access())
    charon.initiate()
    lab.wait_agreed(charon, ours)
    assert ping(lab, lab.topo.ss, "10.98.3.10", US_HOST, 5) == (5, 5)


def test_charon_rekeys_the_ipsec_sa_and_the_isakmp_sa_under_traffic(strongswan_lab: Lab) -> None:
    """A steady 20 packets/s both ways across a quick mode rekey (with PFS) and a phase 1
    renewal: nothing lost, counters carried over, the session never goes down."""
    lab = strongswan_lab
    charon = lab.charon(swanctl_v1(esp="aes128-sha256-modp2048"))
    ours = lab.ours(our_v1(extra_entry=" set pfs group14"))
    charon.initiate()
    first = lab.wait_agreed(charon, ours)
    assert first.our_child["algorithms"]["dh_group"] == 14
    outbound = SteadyPing(lab.topo.ss, SS_HOST, US_HOST, seconds=14).start()
    inbound = SteadyPing(lab.topo.us, US_HOST, SS_HOST, seconds=14).start()
    try:
        time.sleep(2)
        charon.rekey_child()
        rekeyed = lab.wait_agreed(charon, ours, new_child_than=first, what="the quick mode rekey")
        assert rekeyed.ike_spis == first.ike_spis
        time.sleep(2)
        charon.rekey_ike()
        renewed = lab.wait_agreed(charon, ours, new_ike_than=rekeyed, what="the phase 1 renewal")
        sent_out, received_out = outbound.result()
        sent_in, received_in = inbound.result()
    finally:
        outbound.stop()
        inbound.stop()
    assert sent_out > 200 and sent_in > 200
    assert (received_out, received_in) == (sent_out, sent_in), lab.state()
    assert ours.lines("Crypto session is DOWN") == []
    assert renewed.session["session"]["status"] == "UP-ACTIVE"
    # every request and reply of both pings, summed over the retired and live IPsec SAs
    wait_counters(ours, expected_in=sent_out + sent_in, expected_out=sent_out + sent_in)


def test_charon_sends_on_its_new_sa_before_its_qm3_reaches_us(strongswan_lab: Lab) -> None:
    """charon installs its new SA on reading QM2 and sends on it at once, so packets may
    come in before its QM3 does: at 500 packets/s across three quick mode rekeys none is
    lost, and none is dropped for an unknown SPI."""
    lab = strongswan_lab
    charon = lab.charon(swanctl_v1(esp="aes128-sha256-modp2048"))
    ours = lab.ours(our_v1(extra_entry=" set pfs group14"))
    charon.initiate()
    agreed = lab.wait_agreed(charon, ours)
    outbound = SteadyPing(lab.topo.ss, SS_HOST, US_HOST, seconds=8, interval=0.002).start()
    try:
        for _ in range(3):
            time.sleep(1.5)
            charon.rekey_child()
            agreed = lab.wait_agreed(charon, ours, new_child_than=agreed, what="a rekey")
        sent, received = outbound.result()
    finally:
        outbound.stop()
    drops = ours.ask({"cmd": "show-engine-drops"})["stats"]
    assert sent > 3000
    assert received == sent, lab.state()
    assert "unknown spi" not in drops["esp_drops"], drops


def test_charon_deletes_the_ipsec_sa_then_the_isakmp_sa(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    charon = lab.charon(swanctl_v1())
    ours = lab.ours(our_v1())
    charon.initiate()
    lab.wait_agreed(charon, ours)
    charon.terminate_child()

    def idle() -> None:
        views = ours.sessions()
        if len(views) != 1 or views[0]["session"]["status"] != "UP-IDLE":
            raise NotYet(str(views))

    eventually(idle, 10, "our session to go UP-IDLE", lab.state)
    charon.terminate_ike()
    lab.wait_nothing(charon, ours)
    assert ours.lines("Crypto session is DOWN. Peer 10.99.0.1:4500")


def test_we_clear_an_ikev1_session(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    charon = lab.charon(swanctl_v1())
    ours = lab.ours(our_v1())
    charon.initiate()
    lab.wait_agreed(charon, ours)
    assert len(ours.clear()) == 1
    lab.wait_nothing(charon, ours)
    assert "received DELETE for IKE_SA" in charon.log()


def test_a_wrong_xauth_password_is_refused_and_logged(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    charon = lab.charon(swanctl_v1_remote_access(password="not-joes-password"))
    ours = lab.ours(our_v1_remote_access())
    charon.initiate(check=False)
    (line,) = lab.until(lambda: ours.lines("IKMP_XAUTH_FAILED"), "our XAUTH failure line")
    assert f"User: {XAUTH_USER}" in line and "not-joes-password" not in ours.log()
    lab.wait_nothing(charon, ours)
    assert ours.lines("Crypto session is UP") == []


def test_dpd_declares_a_killed_charon_dead(strongswan_lab: Lab) -> None:
    """`crypto isakmp keepalive 10 2 periodic`: R-U-THERE after 10 s of silence, then
    every 2 s; dead after 5 unanswered retries."""
    lab = strongswan_lab
    charon = lab.charon(swanctl_v1(conn_extra="dpd_delay = 30s"))
    ours = lab.ours(our_v1(extra="crypto isakmp keepalive 10 2 periodic"))
    charon.initiate()
    lab.wait_agreed(charon, ours)
    assert "D" in ours.sessions()[0]["session"]["capabilities"]
    killed = time.monotonic()
    charon.kill()

    def down() -> float:
        if not ours.lines("Crypto session is DOWN. Peer 10.99.0.1:4500"):
            raise NotYet("no DOWN line yet")
        return time.monotonic() - killed

    elapsed = eventually(down, 35, "our DPD to declare charon dead", lab.state, interval=0.2)
    assert 18 <= elapsed <= 28, elapsed


def vti_v1_conf(*, hostname: str, local: str, peer: str, inside: str, far_net: str) -> str:
    """Route-based IKEv1: an ipsec profile without an IKEv2 profile, keyed by
    `crypto isakmp key`, on Tunnel1 with a route to the far network into it."""
    network, mask = far_net.split()
    return f"""\
hostname {hostname}
crypto isakmp policy 10
 encryption aes 256
 hash sha256
 authentication pre-share
 group 14
crypto isakmp key v1-vti-key address {peer}
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
 mode tunnel
crypto ipsec profile VTI
 set transform-set TS
 set pfs group14
interface wan0
 ip address {local} 255.255.255.0
interface Tunnel1
 ip address {inside} 255.255.255.252
 tunnel source wan0
 tunnel mode ipsec ipv4
 tunnel destination {peer}
 tunnel protection ipsec profile VTI
ip route {network} {mask} Tunnel1
end
"""


def test_two_daemons_run_route_based_ikev1(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    far = lab.ours(
        vti_v1_conf(
            hostname="branch",
            local=SS_ADDR,
            peer=US_ADDR,
            inside="169.254.11.1",
            far_net="10.98.2.0 255.255.255.0",
        ),
        far_side=True,
    )
    near = lab.ours(
        vti_v1_conf(
            hostname="hub",
            local=US_ADDR,
            peer=SS_ADDR,
            inside="169.254.11.2",
            far_net="10.98.1.0 255.255.255.0",
        )
    )

    def up(gateway: OurGateway) -> dict:
        views = [v for v in gateway.sessions() if v["session"]["status"] == "UP-ACTIVE"]
        if len(views) != 1:
            raise NotYet(str(gateway.sessions()))
        return views[0]

    eventually(lambda: up(far) and up(near), 20, "both IKEv1 tunnels up", lab.state)
    for gateway in (far, near):
        view = up(gateway)
        assert view["session"]["interface"] == "Tunnel1"
        active = [sa["version"] for sa in view["ike_sas"] if sa["state"] == "Active"]
        assert active and set(active) == {1}, view["ike_sas"]
    assert ping(lab, lab.topo.ss, SS_HOST, US_HOST, 5) == (5, 5)
