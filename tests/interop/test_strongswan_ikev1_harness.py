"""IKEv1 charon to charon: proves the IKEv1 configurations (interop/strongswan_ikev1_configs.py)
that the gateway tests will point at our IKEv1 core. One charon in each namespace of the
module's pair (interop/strongswan_ikev1.py): main mode site-to-site with a PSK either
way round, and EzVPN-style remote access (aggressive mode with a group key id, XAUTH,
mode config in pull and in push mode) ending with a ping from the virtual IP, and DPD.

Both charons use kernel-libipsec, which always claims a NAT: every exchange after the
first round trip runs on port 4500 and ESP is UDP-encapsulated (mode 3, RFC 3947).
"""

from __future__ import annotations

import pytest
from interop.strongswan import (
    SS_ADDR,
    SS_HOST,
    SS_NET,
    US_ADDR,
    US_HOST,
    US_NET,
    Lab,
    NotYet,
    eventually,
)
from interop.strongswan_ikev1 import (
    exchanges,
    far_charon,
    near_charon,
    ping,
    require_ikev1_plugins,
    wait_no_sa,
    wait_v1_up,
)
from interop.strongswan_ikev1_configs import (
    FIRST_VIP,
    GROUP,
    XAUTH_USER,
    main_mode_psk_conf,
    xauth_client_conf,
    xauth_server_conf,
)


@pytest.fixture
def lab(strongswan_lab: Lab) -> Lab:
    require_ikev1_plugins()
    return strongswan_lab


def far_mm(start_action: str) -> str:
    return main_mode_psk_conf(
        local_addr=SS_ADDR,
        remote_addr=US_ADDR,
        local_ts=SS_NET,
        remote_ts=US_NET,
        start_action=start_action,
    )


def near_mm(start_action: str) -> str:
    return main_mode_psk_conf(
        local_addr=US_ADDR,
        remote_addr=SS_ADDR,
        local_ts=US_NET,
        remote_ts=SS_NET,
        start_action=start_action,
    )


@pytest.mark.parametrize("initiator", ["far", "near"])
def test_main_mode_psk_site_to_site_comes_up_from_either_side(lab: Lab, initiator: str) -> None:
    # the responder is loaded first; `start_action = start` initiates on load
    if initiator == "far":
        near = near_charon(lab, near_mm("none"))
        far = far_charon(lab, far_mm("start"))
    else:
        far = far_charon(lab, far_mm("none"))
        near = near_charon(lab, near_mm("start"))
    far_up, near_up = wait_v1_up(lab, far), wait_v1_up(lab, near)

    assert far_up.ike_spis == near_up.ike_spis
    assert far_up.child_spis == near_up.child_spis[::-1]
    starter, other = (far_up, near_up) if initiator == "far" else (near_up, far_up)
    assert starter.ike.get("initiator") == "yes" and "initiator" not in other.ike
    for up, me, peer in ((far_up, SS_ADDR, US_ADDR), (near_up, US_ADDR, SS_ADDR)):
        assert (up.ike["local-id"], up.ike["remote-id"]) == (me, peer)
        assert up.ike["encr-alg"] == "AES_CBC" and up.ike["encr-keysize"] == "128"
        assert up.ike["integ-alg"] == "HMAC_SHA1_96" and up.ike["prf-alg"] == "PRF_HMAC_SHA1"
        assert up.ike["dh-group"] == "MODP_2048"
        assert up.child["encr-alg"] == "AES_CBC" and up.child["integ-alg"] == "HMAC_SHA1_96"
        assert up.child["mode"] == "TUNNEL" and up.child["encap"] == "yes"
    assert (far_up.child["local-ts"], far_up.child["remote-ts"]) == ([SS_NET], [US_NET])
    # main mode: three round trips, ID and HASH in the last one
    main = [line for line in exchanges(far) if " ID_PROT " in line]
    assert len(main) == 6, main
    assert "[ ID HASH" in main[4] and "[ ID HASH" in main[5], main

    assert ping(lab, lab.topo.ss, SS_HOST, US_HOST) == (3, 3)


@pytest.mark.parametrize("pull", [True, False], ids=["pull", "push"])
def test_aggressive_xauth_mode_config_gives_a_virtual_ip_that_reaches_the_network(
    lab: Lab, pull: bool
) -> None:
    server = near_charon(lab, xauth_server_conf(local_addr=US_ADDR, pull=pull))
    client = far_charon(lab, xauth_client_conf(local_addr=SS_ADDR, remote_addr=US_ADDR, pull=pull))
    client.initiate()
    client_up, server_up = wait_v1_up(lab, client), wait_v1_up(lab, server)

    assert client_up.ike_spis == server_up.ike_spis
    assert client_up.ike["local-vips"] == [FIRST_VIP]
    assert server_up.ike["remote-vips"] == [FIRST_VIP]
    assert server_up.ike["remote-id"] == GROUP
    assert server_up.ike["remote-xauth-id"] == XAUTH_USER
    assert client_up.child["local-ts"] == [f"{FIRST_VIP}/32"]
    assert client_up.child["remote-ts"] == [US_NET]

    sent = exchanges(client, "generating")
    got = exchanges(client, "parsed")
    assert any(" AGGRESSIVE request " in line and " ID " in line for line in sent), sent
    assert any("CPRQ(X_USER X_PWD)" in line for line in got), got
    assert any("CPS(X_STATUS)" in line for line in got), got
    if pull:  # the client asks, the gateway answers
        assert any("CPRQ(ADDR" in line for line in sent), sent
        assert any("CPRP(ADDR" in line for line in got), got
    else:  # the gateway pushes, the client acknowledges
        assert any("CPS(ADDR" in line for line in got), got
        assert any("CPA(ADDR" in line for line in sent), sent

    assert ping(lab, lab.topo.ss, FIRST_VIP, US_HOST) == (3, 3)


def test_full_tunnel_client_reaches_the_network_from_its_virtual_ip(lab: Lab) -> None:
    near_charon(lab, xauth_server_conf(local_addr=US_ADDR, local_ts="0.0.0.0/0"))
    client = far_charon(
        lab, xauth_client_conf(local_addr=SS_ADDR, remote_addr=US_ADDR, remote_ts="0.0.0.0/0")
    )
    client.initiate()
    up = wait_v1_up(lab, client)
    assert up.child["remote-ts"] == ["0.0.0.0/0"]
    assert ping(lab, lab.topo.ss, FIRST_VIP, US_HOST) == (3, 3)


def test_wrong_xauth_password_tears_the_ike_sa_down(lab: Lab) -> None:
    server = near_charon(
        lab, xauth_server_conf(local_addr=US_ADDR, users={XAUTH_USER: "not-the-password"})
    )
    client = far_charon(lab, xauth_client_conf(local_addr=SS_ADDR, remote_addr=US_ADDR))
    assert client.initiate(check=False).returncode != 0
    wait_no_sa(lab, client)
    wait_no_sa(lab, server)
    assert "XAuth authentication of 'joe@cclient' failed" in server.log()
    assert "XAuth authentication of 'joe@cclient' (myself) failed" in client.log()
    # charon answers the credentials request once; it does not retry by itself
    replies = [line for line in exchanges(client, "generating") if "CPRP(X_USER X_PWD)" in line]
    assert len(replies) == 1, replies


def test_idle_client_sends_dpd_and_the_gateway_acknowledges(lab: Lab) -> None:
    near_charon(lab, xauth_server_conf(local_addr=US_ADDR))
    client = far_charon(
        lab, xauth_client_conf(local_addr=SS_ADDR, remote_addr=US_ADDR, dpd_delay=1)
    )
    client.initiate()
    wait_v1_up(lab, client)

    def acked() -> list[str]:
        got = [line for line in exchanges(client, "parsed") if "N(DPD_ACK)" in line]
        if not got:
            raise NotYet("no R-U-THERE-ACK yet")
        return got

    eventually(acked, 10, "an R-U-THERE-ACK from the gateway", lab.state)
    sent = [line for line in exchanges(client, "generating") if "N(DPD)" in line]
    assert sent and all(" INFORMATIONAL_V1 request " in line for line in sent), sent
    wait_v1_up(lab, client)  # DPD answered: still up
