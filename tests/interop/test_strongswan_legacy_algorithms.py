"""Legacy algorithms against a real strongSwan: the suites deployed peers still run
(AES-CBC or 3DES with HMAC-SHA1-96, PRF-HMAC-SHA1, MODP-1024; ESP `esp-aes esp-sha-hmac`
and `esp-3des esp-sha-hmac`) come up with charon, both sides report the same algorithms,
ours marks them weak, and pings cross the tunnel with both ends' counters moving.

Harness and topology: interop/strongswan.py; the traffic helpers are the ESP tests'.
"""

from __future__ import annotations

import pytest
from interop.strongswan import (
    LEGACY_ESP_SUITES,
    LEGACY_IKE_SUITES,
    SS_HOST,
    US_HOST,
    EspSuite,
    IkeSuite,
    Lab,
    our_conf,
    swanctl_conf,
)
from interop.test_strongswan_esp import charon_packets, ping, wait_counters

PAIRS = [
    (LEGACY_IKE_SUITES["aes128-sha1-modp1024"], LEGACY_ESP_SUITES["aes128-sha1"], "charon"),
    (LEGACY_IKE_SUITES["3des-sha1-modp1024"], LEGACY_ESP_SUITES["3des-sha1"], "ours"),
]


@pytest.mark.parametrize(
    ("ike", "esp", "initiator"),
    PAIRS,
    ids=[f"ike={i}-esp={e}-{who}-initiates" for i, e, who in PAIRS],
)
def test_legacy_suite_carries_traffic(
    strongswan_lab: Lab, ike: IkeSuite, esp: EspSuite, initiator: str
) -> None:
    lab = strongswan_lab
    charon = lab.charon(swanctl_conf(ike=ike, esp=esp))
    ours = lab.ours(our_conf(ike=ike, esp=esp, initiate=initiator == "ours"))
    if initiator == "charon":
        charon.initiate()
    agreed = lab.wait_agreed(charon, ours)
    for key, value in ike.charon.items():
        assert agreed.charon_ike.get(key) == value, (key, agreed.charon_ike)
    for key, value in esp.charon.items():
        assert agreed.charon_child.get(key) == value, (key, agreed.charon_child)
    assert agreed.our_ike["algorithms"] == ike.ours
    child = agreed.our_child["algorithms"]
    assert {k: child[k] for k in esp.ours} == esp.ours
    # the operator is told at load time as well
    assert ours.lines("is weak")
    assert ping(lab, lab.topo.us, US_HOST, SS_HOST, 5) == (5, 5)
    assert ping(lab, lab.topo.ss, SS_HOST, US_HOST, 5) == (5, 5)
    charon_in, charon_out = charon_packets(charon)
    assert (charon_in, charon_out) == (10, 10)
    wait_counters(ours, expected_in=charon_out, expected_out=charon_in)
