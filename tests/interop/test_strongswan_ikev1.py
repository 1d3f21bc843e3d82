"""IKEv1 against a real strongSwan (charon `version = 1`) in the namespace pair of
interop/strongswan.py: main mode both directions, quick mode with and without PFS,
rekeys, DPD and deletes; agreement is checked on both sides as for IKEv2 (one ISAKMP
SA and one IPsec SA pair, the cookies equal, the SPIs crossed)."""

from __future__ import annotations

from interop.strongswan import SS_ADDR, US_ADDR, Lab
from interop.strongswan_configs import SS_HOST, US_HOST
from interop.test_strongswan_esp import charon_packets, ping, wait_counters
from interop.strongswan_ikev1_configs import (
    GROUP,
    XAUTH_USER,
    our_v1,
    our_v1_remote_access,
    swanctl_v1,
    swanctl_v1_remote_access,
)


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
