"""IKEv2 against a real strongSwan: charon 5.9 with kernel-libipsec in its own network
namespace, our daemon (`ipsec-console daemon`) in another, a veth pair between them.

Each test starts what it needs in the module's namespace pair (`strongswan_lab`, see
interop/strongswan.py for the harness and the topology) and checks both sides: charon
through vici's list-sas and its log, ours through the control socket and its syslog
lines on stdout. "Agreed" means exactly one IKE SA and one child SA pair on each side,
ESTABLISHED/INSTALLED at charon and UP-ACTIVE at ours, with the same IKE SPIs and the
child SPIs crossed (charon's inbound SPI is our outbound one).

ESP traffic through the same topology is tested in test_strongswan_esp.py.
"""

from __future__ import annotations

import itertools
import time

import pytest
from interop.strongswan import (
    DEFAULT_ESP,
    ESP_SUITES,
    IKE_SUITES,
    US_ADDR,
    Agreed,
    Charon,
    EspSuite,
    IkeSuite,
    Lab,
    NotYet,
    OurGateway,
    eventually,
    our_conf,
    swanctl_conf,
)

PFS_ESP = ESP_SUITES["aes256gcm16-ecp256"]


def check_algorithms(agreed: Agreed, ike: IkeSuite, esp: EspSuite) -> None:
    for key, value in ike.charon.items():
        assert agreed.charon_ike.get(key) == value, (key, agreed.charon_ike)
    if "integ-alg" not in ike.charon:
        assert "integ-alg" not in agreed.charon_ike
    assert agreed.our_ike["algorithms"] == {"weak": [], **ike.ours}
    for key, value in esp.charon.items():
        assert agreed.charon_child.get(key) == value, (key, agreed.charon_child)
    if "integ-alg" not in esp.charon:
        assert "integ-alg" not in agreed.charon_child
    ours = agreed.our_child["algorithms"]
    assert ours["encryption"] == esp.ours["encryption"]
    assert ours["integrity"] == esp.ours.get("integrity", "none")
    assert agreed.charon_child["encap"] == "yes" and agreed.our_child["udp_encapsulation"]


def check_child_dh(agreed: Agreed, esp: EspSuite) -> None:
    """A child SA made by CREATE_CHILD_SA carries the PFS group, on both sides."""
    assert agreed.charon_child.get("dh-group") == esp.charon_dh, agreed.charon_child
    assert agreed.our_child["algorithms"]["dh_group"] == esp.pfs_group


def established(lab: Lab, initiator: str, *, esp: EspSuite = DEFAULT_ESP, **ours_kw: object):
    """charon and ours with one tunnel up, started by `initiator` ("charon" or "ours")."""
    charon = lab.charon(swanctl_conf(esp=esp))
    ours = lab.ours(our_conf(esp=esp, initiate=initiator == "ours", **ours_kw))  # type: ignore[arg-type]
    if initiator == "charon":
        charon.initiate()
    agreed = lab.wait_agreed(charon, ours)
    assert (agreed.charon_ike.get("initiator", "no") == "yes") == (initiator == "charon")
    assert agreed.our_ike["initiator"] == (initiator == "ours")
    return charon, ours, agreed


# ---------------------------------------------------------------------- establishing
@pytest.mark.parametrize("esp", ESP_SUITES.values(), ids=lambda s: f"esp={s}")
@pytest.mark.parametrize("ike", IKE_SUITES.values(), ids=lambda s: f"ike={s}")
def test_charon_initiates_with_each_proposal(strongswan_lab: Lab, ike: IkeSuite, esp: EspSuite):
    lab = strongswan_lab
    charon = lab.charon(swanctl_conf(ike=ike, esp=esp))
    ours = lab.ours(our_conf(ike=ike, esp=esp))
    charon.initiate()
    agreed = lab.wait_agreed(charon, ours)
    check_algorithms(agreed, ike, esp)
    assert agreed.session["session"]["phase1_id"] == "10.99.0.1"
    assert agreed.our_ike["local_id"] == US_ADDR and agreed.our_ike["nat"] is True
    assert ours.lines("Crypto session is UP. Peer 10.99.0.1:4500")
    if esp.pfs_group:
        # The first child SA comes with IKE_AUTH, without a key exchange: PFS shows once
        # the child is rekeyed (CREATE_CHILD_SA with KE).
        charon.rekey_child()
        rekeyed = lab.wait_agreed(charon, ours, new_child_than=agreed)
        assert rekeyed.ike_spis == agreed.ike_spis
        check_child_dh(rekeyed, esp)


IKE_ESP_PAIRS = list(zip(itertools.cycle(IKE_SUITES.values()), ESP_SUITES.values()))


@pytest.mark.parametrize(
    ("ike", "esp"), IKE_ESP_PAIRS, ids=[f"ike={i}-esp={e}" for i, e in IKE_ESP_PAIRS]
)
def test_we_initiate_from_a_static_crypto_map(strongswan_lab: Lab, ike: IkeSuite, esp: EspSuite):
    lab = strongswan_lab
    charon = lab.charon(swanctl_conf(ike=ike, esp=esp))
    ours = lab.ours(our_conf(ike=ike, esp=esp, initiate=True))
    agreed = lab.wait_agreed(charon, ours)
    check_algorithms(agreed, ike, esp)
    assert agreed.charon_ike.get("initiator", "no") == "no" and agreed.our_ike["initiator"] is True
    assert agreed.session["session"]["origin"] == "crypto map"
    assert "parsed IKE_AUTH request 1" in charon.log()


# ---------------------------------------------------------------------- rekeying
@pytest.mark.parametrize("esp", [DEFAULT_ESP, PFS_ESP], ids=lambda s: f"esp={s}")
@pytest.mark.parametrize("initiator", ["charon", "ours"])
def test_charon_rekeys_the_child_sa(strongswan_lab: Lab, initiator: str, esp: EspSuite):
    lab = strongswan_lab
    charon, ours, before = established(lab, initiator, esp=esp)
    charon.rekey_child()
    after = lab.wait_agreed(charon, ours, new_child_than=before, what="the child rekey")
    assert after.ike_spis == before.ike_spis
    check_child_dh(after, esp)
    assert after.charon_child["uniqueid"] != before.charon_child["uniqueid"]
    assert ours.lines("Crypto session is DOWN") == []
    time.sleep(0.3)  # nothing trails behind: still exactly one of each
    assert lab.agreement(charon, ours).child_spis == after.child_spis


@pytest.mark.parametrize("initiator", ["charon", "ours"])
def test_charon_rekeys_the_ike_sa(strongswan_lab: Lab, initiator: str):
    lab = strongswan_lab
    charon, ours, before = established(lab, initiator)
    charon.rekey_ike()
    after = lab.wait_agreed(charon, ours, new_ike_than=before, what="the IKE rekey")
    # The child SA moves to the new IKE SA untouched; the new IKE SA is charon's.
    assert after.child_spis == before.child_spis
    assert after.charon_ike.get("initiator", "no") == "yes" and after.our_ike["initiator"] is False
    assert after.charon_ike["uniqueid"] != before.charon_ike["uniqueid"]
    assert after.our_ike["rekeyed_from"] == before.our_ike["ike_sa_id"]
    assert ours.lines("Crypto session is DOWN") == []
    time.sleep(0.3)
    assert lab.agreement(charon, ours).ike_spis == after.ike_spis


def test_our_lifetimes_rekey_the_child_then_the_ike_sa(strongswan_lab: Lab):
    """Ours owns the shortest lifetimes (60 s child with PFS, 120 s IKE, the minimums):
    it rekeys the child at 85-90 % (51-54 s), then the IKE SA and the child again
    (102-108 s). charon only answers (its own lifetimes are hours)."""
    lab = strongswan_lab
    charon, ours, first = established(
        lab, "charon", esp=PFS_ESP, child_lifetime=60, ike_lifetime=120
    )
    child_rekeyed = lab.wait_agreed(
        charon, ours, 62, new_child_than=first, what="our child rekey (51-54 s)"
    )
    assert child_rekeyed.ike_spis == first.ike_spis
    check_child_dh(child_rekeyed, PFS_ESP)
    assert "parsed CREATE_CHILD_SA request" in charon.log()  # we asked, charon answered
    both_rekeyed = lab.wait_agreed(
        charon,
        ours,
        62,
        new_ike_than=child_rekeyed,
        new_child_than=child_rekeyed,
        what="our IKE rekey and second child rekey (102-108 s)",
    )
    assert both_rekeyed.our_ike["initiator"] is True
    assert both_rekeyed.charon_ike.get("initiator", "no") == "no"
    check_child_dh(both_rekeyed, PFS_ESP)
    assert ours.lines("Crypto session is DOWN") == []
    time.sleep(0.5)
    settled = lab.agreement(charon, ours)
    assert (settled.ike_spis, settled.child_spis) == (
        both_rekeyed.ike_spis,
        both_rekeyed.child_spis,
    )
    # charon keeps a rekeyed child's inbound SA 5 s (delete_rekeyed_delay), then none is left
    lab.until(
        lambda: [len(sa["children"]) for sa in charon.list_sas()] == [1],
        "charon to drop the rekeyed child SAs",
        8,
    )
    final = lab.agreement(charon, ours)
    assert (final.ike_spis, final.child_spis) == (settled.ike_spis, settled.child_spis)


# ---------------------------------------------------------------------- deleting
def test_charon_deletes_the_ike_sa(strongswan_lab: Lab):
    lab = strongswan_lab
    charon, ours, _ = established(lab, "charon")
    charon.terminate_ike()
    lab.wait_nothing(charon, ours)
    assert ours.lines("Crypto session is DOWN. Peer 10.99.0.1:4500")


def test_charon_deletes_the_child_sa_and_the_ike_sa_stays(strongswan_lab: Lab):
    lab = strongswan_lab
    charon, ours, before = established(lab, "charon")
    charon.terminate_child()

    def idle() -> dict:
        sas = charon.list_sas()
        views = ours.sessions()
        if len(sas) != 1 or sas[0]["children"] or len(views) != 1:
            raise NotYet(f"charon {sas}, ours {views}")
        if views[0]["session"]["status"] != "UP-IDLE" or views[0]["flows"]:
            raise NotYet(f"our session is {views[0]['session']['status']}")
        return views[0]

    view = eventually(idle, 10, "the child SA to be gone on both sides", lab.state)
    assert view["ike_sas"][0]["spi_i"] == before.ike_spis[0]
    assert charon.list_sas()[0]["state"] == "ESTABLISHED"


def test_we_clear_the_session(strongswan_lab: Lab):
    lab = strongswan_lab
    charon, ours, _ = established(lab, "charon")
    assert len(ours.clear()) == 1
    lab.wait_nothing(charon, ours)
    assert "received DELETE for IKE_SA" in charon.log()
    assert ours.lines("SESSION_CLEARED")


def test_our_static_tunnel_comes_back_after_charon_deletes_it(strongswan_lab: Lab):
    lab = strongswan_lab
    charon, ours, before = established(lab, "ours")
    charon.terminate_ike()
    again = lab.wait_agreed(
        charon, ours, 10, new_ike_than=before, what="our static tunnel to come back"
    )
    assert again.our_ike["initiator"] is True
    assert len(ours.lines("Crypto session is UP")) == 2
    assert len(ours.lines("Crypto session is DOWN")) == 1


# ---------------------------------------------------------------------- dead peer
def test_dpd_declares_a_killed_charon_dead(strongswan_lab: Lab):
    """`dpd 10 2 periodic`: a probe after 10 s without a word from charon, then one every
    2 s; the peer is dead after 5 unanswered retries: about 10 + 6 * 2 = 22 s."""
    lab = strongswan_lab
    charon, ours, _ = established(lab, "charon", dpd="10 2 periodic")
    assert ours.sessions()[0]["session"]["capabilities"] == "DN"
    killed = time.monotonic()
    charon.kill()

    def down() -> float:
        if not ours.lines("Crypto session is DOWN. Peer 10.99.0.1:4500"):
            raise NotYet("no DOWN line yet")
        return time.monotonic() - killed

    elapsed = eventually(down, 35, "our DPD to declare charon dead", lab.state, interval=0.2)
    assert 20 <= elapsed <= 28, elapsed
    assert ours.sessions() == []  # a dynamic entry's session goes with its SAs


# ---------------------------------------------------------------------- wrong key
def test_charon_initiates_with_the_wrong_key(strongswan_lab: Lab):
    lab = strongswan_lab
    charon = lab.charon(swanctl_conf(psk="not-the-key-charon"))
    ours = lab.ours(our_conf())
    assert charon.initiate(check=False).returncode != 0
    assert "received AUTHENTICATION_FAILED notify error" in charon.log()
    (line,) = lab.until(lambda: ours.lines("IKEV2_AUTH_FAILED"), "our IKEV2_AUTH_FAILED line")
    assert "Peer 10.99.0.1:4500 Id: 10.99.0.1 Reason: initiator's AUTH payload" in line
    lab.wait_nothing(charon, ours)
    assert ours.sessions() == []
    assert ours.lines("Crypto session is UP") == []


def test_we_initiate_with_the_wrong_key(strongswan_lab: Lab):
    lab = strongswan_lab
    charon = lab.charon(swanctl_conf())
    ours = lab.ours(our_conf(psk="not-the-key-ours", initiate=True))
    lab.until(
        lambda: "generating IKE_AUTH response 1 [ N(AUTH_FAILED) ]" in charon.log(),
        "charon to refuse our AUTH",
    )
    assert "but MAC mismatched" in charon.log()
    line = lab.until(lambda: ours.lines("IKEV2_AUTH_FAILED"), "our IKEV2_AUTH_FAILED line")[0]
    assert "Peer 10.99.0.1:4500" in line and "peer rejected our authentication" in line
    # The static entry keeps trying (1, 2, 4 ... s apart); it must never come up.
    assert not any(v["session"]["status"].startswith("UP") for v in ours.sessions())
    ours.stop()
    lab.until(lambda: charon.list_sas() == [], "charon to keep nothing", 5)
    assert ours.lines("Crypto session is UP") == []
    assert "established between" not in charon.log()


# ---------------------------------------------------------------------- NAT-T, ports
def _nat_t_checks(agreed: Agreed, charon: Charon, ours: OurGateway) -> None:
    assert agreed.charon_ike["nat-fake"] == "yes" and agreed.our_ike["nat"] is True
    assert agreed.charon_child["encap"] == "yes" and agreed.our_child["udp_encapsulation"]


def test_charon_floats_to_its_nat_t_port_on_non_500_ports(strongswan_lab: Lab):
    """charon on 15600 (NAT-T 15601), ours on 15500 (NAT-T 15501): no port is 500, so
    every IKE message carries the non-ESP marker. kernel-libipsec fakes a NAT, so after
    IKE_SA_INIT charon floats its own port to 15601 and keeps ours (RFC 7296 2.23 only
    defines 500 -> 4500): IKE_AUTH arrives from a new source port on our IKE port."""
    lab = strongswan_lab
    charon = lab.charon(swanctl_conf(remote_port=15500), port=15600, port_nat_t=15601)
    ours = lab.ours(our_conf(), ike_port=15500, natt_port=15501)
    charon.initiate()
    agreed = lab.wait_agreed(charon, ours)
    _nat_t_checks(agreed, charon, ours)
    assert "sending packet: from 10.99.0.1[15600] to 10.99.0.2[15500]" in charon.log()
    assert "sending packet: from 10.99.0.1[15601] to 10.99.0.2[15500]" in charon.log()
    assert (agreed.charon_ike["local-port"], agreed.charon_ike["remote-port"]) == (
        "15601",
        "15500",
    )
    session = agreed.session["session"]
    assert (session["remote_port"], session["local_port"]) == (15601, 15500)
    assert ours.lines("Crypto session is UP. Peer 10.99.0.1:15601")


def test_we_initiate_on_non_500_ports_charon_with_the_same_ports(strongswan_lab: Lab):
    """Our static entry aims at the peer's port = our IKE port (15500); once NAT is seen we
    move our own port to our NAT-T port (15501) and keep charon's (not 500: RFC 7296
    2.23 moves only port 500), as charon itself would."""
    lab = strongswan_lab
    charon = lab.charon(swanctl_conf(remote_port=15500), port=15500, port_nat_t=15501)
    ours = lab.ours(our_conf(initiate=True), ike_port=15500, natt_port=15501)
    agreed = lab.wait_agreed(charon, ours)
    _nat_t_checks(agreed, charon, ours)
    assert "received packet: from 10.99.0.2[15500] to 10.99.0.1[15500]" in charon.log()
    assert "received packet: from 10.99.0.2[15501] to 10.99.0.1[15500]" in charon.log()


def test_we_initiate_on_non_500_ports_charon_with_another_nat_t_port(strongswan_lab: Lab):
    """charon on 15500 (our IKE port, where our static entry aims) with NAT-T 15601, ours
    with NAT-T 15501. After IKE_SA_INIT (NAT faked by kernel-libipsec) we float only our
    own port (RFC 7296 2.23 defines the peer's move for port 500 only) and keep sending to
    charon's 15500, which is what charon expects."""
    lab = strongswan_lab
    charon = lab.charon(swanctl_conf(remote_port=15500), port=15500, port_nat_t=15601)
    ours = lab.ours(our_conf(initiate=True), ike_port=15500, natt_port=15501)
    agreed = lab.wait_agreed(charon, ours, 6)
    _nat_t_checks(agreed, charon, ours)
    assert "received packet: from 10.99.0.2[15501] to 10.99.0.1[15500]" in charon.log()
