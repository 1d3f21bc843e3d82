"""Peers that answer our child rekey, but refuse it: charon with NO_PROPOSAL_CHOSEN, and a
hostile peer (hostile_peer.py, our own engine with its CREATE_CHILD_SA answers replaced)
with INVALID_KE_PAYLOAD naming a DH group nobody offered.

A refused rekey must be logged as a negotiation failure, must not be followed into a
loop (the refusal of an unoffered group is the peer's error, RFC 7296 1.3), and the old
child must still go at its hard lifetime, at both ends, with the daemon serving.
"""

from __future__ import annotations

import time

from faults.fault_lab import (
    HOSTILE_PEER,
    ControlProbe,
    FaultLab,
    assert_no_traceback,
    charon_children,
    our_children,
)
from interop.strongswan import (
    ESP_SUITES,
    PSK,
    SS_ADDR,
    US_ADDR,
    NotYet,
    eventually,
    our_conf,
    swanctl_conf,
)

NO_PFS = ESP_SUITES["aes256gcm16"]
PFS = ESP_SUITES["aes256gcm16-ecp256"]


def test_peer_refuses_our_child_rekey(lab: FaultLab) -> None:
    """charon's child has no PFS, ours asks for group 19 when rekeying: the first child
    (made in IKE_AUTH, without a key exchange) is agreed, the rekey at 51-54 s is refused
    with NO_PROPOSAL_CHOSEN. (charon answers a rekey with the configuration the child was
    made under: loading another swanctl.conf into it later changes nothing, checked
    here with 5.9.8, so the mismatch is there from the start, as when one side's PFS
    setting was changed on a live tunnel and nobody noticed until the rekey.)"""
    charon = lab.charon(swanctl_conf(esp=NO_PFS))
    ours = lab.ours(our_conf(esp=PFS, initiate=True, child_lifetime=60))
    before = lab.wait_agreed(charon, ours)
    expires_at = before.our_child["expires_at"]

    with ControlProbe(ours) as probe:
        refused = lab.until(
            lambda: ours.lines("child rekey refused: NO_PROPOSAL_CHOSEN"),
            "our log to show the refused rekey",
            timeout=max(5.0, expires_at - time.time()),
        )
        assert "IKEV2_NEG_FAILED" in refused[0] and "Notify: NO_PROPOSAL_CHOSEN" in refused[0]
        assert "parsed CREATE_CHILD_SA request" in charon.log()
        assert "generating CREATE_CHILD_SA response" in charon.log()
        assert "N(NO_PROP)" in charon.log()
        # the refused rekey leaves the old child in place until its hard lifetime
        assert [c["spi_in"] for c in our_children(ours)] == [before.our_child["spi_in"]]

        def deleted_at_both_ends() -> float:
            ours_left, charons_left = our_children(ours), charon_children(charon)
            if ours_left or charons_left:
                raise NotYet(f"children left: ours {len(ours_left)}, charon {len(charons_left)}")
            return time.time()

        gone_at = eventually(
            deleted_at_both_ends, expires_at - time.time() + 10, "the child to expire", lab.state
        )
    print(
        f"\nrekey refusals logged: {len(ours.lines('child rekey refused'))}; child gone at "
        f"both ends {gone_at - expires_at:+.2f} s from its hard lifetime; slowest control "
        f"answer {probe.worst * 1000:.0f} ms"
    )
    assert gone_at >= expires_at - 0.5
    assert f"received DELETE for ESP CHILD_SA with SPI {before.child_spis[1]}" in charon.log()
    probe.check()
    # the IKE SA stays: only the child went
    (sa,) = charon.list_sas()
    assert sa["state"] == "ESTABLISHED" and sa["initiator-spi"] == before.ike_spis[0]
    assert ours.sessions()[0]["ike_sas"][0]["spi_i"] == before.ike_spis[0]
    assert_no_traceback(ours)


def test_peer_asks_for_a_dh_group_we_never_offered(lab: FaultLab) -> None:
    """The hostile peer answers every CREATE_CHILD_SA with INVALID_KE_PAYLOAD(52159). Our
    rekey (with PFS group 19) must fail as a negotiation failure naming the group, not
    retry with it nor loop, and the child must go at its hard lifetime (60 s)."""
    hostile = lab.spawn(
        "hostile-peer",
        HOSTILE_PEER,
        "--bind", SS_ADDR, "--peer", US_ADDR, "--psk", PSK, "--group", "52159",
        "--pfs-group", "19",
    )  # fmt: skip
    lab.wait_ready(hostile)
    ours = lab.ours(our_conf(esp=PFS, initiate=True, child_lifetime=60))

    def up() -> dict:
        children = our_children(ours)
        if len(children) != 1:
            raise NotYet(f"we have {len(children)} child SAs\n{ours.log()[-800:]}")
        return children[0]

    child = eventually(up, 15, "our tunnel to the hostile peer", hostile.stderr.read_text)
    expires_at = child["expires_at"]
    with ControlProbe(ours) as probe:
        failed = lab.until(
            lambda: ours.lines("peer wants DH group 52159"),
            "our log to show the negotiation failure",
            timeout=max(5.0, expires_at - time.time()),
        )
        assert "IKEV2_NEG_FAILED" in failed[0], failed
        assert "which we did not offer" in failed[0], failed

        def expired() -> float:
            if our_children(ours):
                raise NotYet("our child SA is still there")
            return time.time()

        gone_at = eventually(
            expired, expires_at - time.time() + 5, "the child to expire", lab.state
        )
        time.sleep(1)
    refusals = [e for e in hostile.events() if e.get("event") == "refused"]
    deleted = [e for e in hostile.events() if e.get("event") == "ChildSaDeleted"]
    print(
        f"\nhostile peer refused {len(refusals)} CREATE_CHILD_SA; our log has "
        f"{len(ours.lines('peer wants DH group 52159'))} failures naming group 52159; child gone "
        f"{gone_at - expires_at:+.2f} s from its hard lifetime; slowest control answer "
        f"{probe.worst * 1000:.0f} ms"
    )
    # no loop: one rekey from the IKE core and at most one from the data plane's own
    # soft lifetime, none retried with the unoffered group
    assert 1 <= len(refusals) <= 3, refusals
    assert gone_at >= expires_at - 0.5
    assert deleted and deleted[-1]["spi_out"] == child["spi_in"], hostile.events()[-5:]
    probe.check()
    # the daemon keeps serving: its IKE SA with the hostile peer is still up
    (view,) = ours.sessions()
    assert view["ike_sas"] and view["ike_sas"][0]["state"] == "Active"
    assert_no_traceback(ours)
