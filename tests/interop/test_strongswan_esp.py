"""ESP traffic against a real strongSwan: pings between the protected subnets cross the
tunnel both ways (our userspace ESP and TUN device on one side, charon's kernel-libipsec
on the other), and both ends count the same packets, across rekeys too.

Topology and harness: interop/strongswan.py. Counters on our side are the session's
totals (retired plus live child SAs), read through the control socket; charon's are
list-sas' packets-in/out of its child SA(s).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from interop.strongswan import (
    ESP_SUITES,
    SS_HOST,
    US_HOST,
    Charon,
    Lab,
    NotYet,
    OurGateway,
    eventually,
    our_conf,
    swanctl_conf,
)

PFS_ESP = ESP_SUITES["aes256gcm16-ecp256"]


def ping(
    lab: Lab, ns: str, source: str, target: str, count: int, interval: float = 0.2
) -> tuple[int, int]:
    """(sent, received) of `ping -c count` from `source` to `target` inside `ns`."""
    done = lab.topo.run(
        ns,
        "ping",
        "-n",
        "-q",
        "-c",
        str(count),
        "-i",
        str(interval),
        "-W",
        "2",
        "-I",
        source,
        target,
    )
    match = re.search(r"(\d+) packets transmitted, (\d+) received", done.stdout)
    assert match, done.stdout + done.stderr
    return int(match.group(1)), int(match.group(2))


def charon_packets(charon: Charon) -> tuple[int, int]:
    """(packets in, packets out) summed over charon's child SAs (live and rekeyed)."""
    packets_in = packets_out = 0
    for sa in charon.list_sas():
        for child in sa["children"]:
            packets_in += int(child.get("packets-in", 0))
            packets_out += int(child.get("packets-out", 0))
    return packets_in, packets_out


def our_packets(ours: OurGateway) -> tuple[int, int]:
    (view,) = [v for v in ours.sessions() if v["session"]["status"] == "UP-ACTIVE"]
    totals = view["session"]["totals"]
    return totals["packets_in"], totals["packets_out"]


def until_true(
    condition: Callable[[], bool], timeout: float, what: str, context: Callable[[], str]
) -> None:
    """Wait for `condition()`; `eventually` takes probes that raise NotYet until done."""

    def probe() -> None:
        if not condition():
            raise NotYet(context())

    eventually(probe, timeout, what, context)


def wait_counters(ours: OurGateway, expected_in: int, expected_out: int) -> None:
    """Our counters reach the store once a second; wait for exactly these figures."""
    until_true(
        lambda: our_packets(ours) == (expected_in, expected_out),
        5,
        f"our counters (in, out) to be ({expected_in}, {expected_out})",
        lambda: str(our_packets(ours)),
    )


def test_pings_both_ways_when_charon_initiates(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    ours = lab.ours(our_conf())
    charon = lab.charon(swanctl_conf())
    charon.initiate()
    lab.wait_agreed(charon, ours)
    assert ping(lab, lab.topo.us, US_HOST, SS_HOST, 5) == (5, 5)
    assert ping(lab, lab.topo.ss, SS_HOST, US_HOST, 5) == (5, 5)
    charon_in, charon_out = charon_packets(charon)
    assert (charon_in, charon_out) == (10, 10)
    wait_counters(ours, expected_in=charon_out, expected_out=charon_in)


def test_pings_when_we_initiate_with_pfs(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    charon = lab.charon(swanctl_conf(esp=PFS_ESP))
    ours = lab.ours(our_conf(esp=PFS_ESP, initiate=True))
    lab.wait_agreed(charon, ours)
    assert ping(lab, lab.topo.us, US_HOST, SS_HOST, 5) == (5, 5)
    charon_in, charon_out = charon_packets(charon)
    wait_counters(ours, expected_in=charon_out, expected_out=charon_in)


def test_traffic_keeps_flowing_across_rekeys_by_either_side(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    ours = lab.ours(our_conf(esp=PFS_ESP))
    charon = lab.charon(swanctl_conf(esp=PFS_ESP))
    charon.initiate()
    first = lab.wait_agreed(charon, ours)
    assert ping(lab, lab.topo.us, US_HOST, SS_HOST, 3) == (3, 3)
    charon.rekey_child()
    sent, received = ping(lab, lab.topo.us, US_HOST, SS_HOST, 10, 0.1)
    assert received >= sent - 1
    charon.rekey_ike()
    sent2, received2 = ping(lab, lab.topo.ss, SS_HOST, US_HOST, 10, 0.1)
    assert received2 >= sent2 - 1
    second = lab.wait_agreed(charon, ours)
    assert second.child_spis != first.child_spis
    assert second.ike_spis != first.ike_spis
    # totals never fall back: they hold every packet of the retired child SAs too
    totals_in, totals_out = our_packets(ours)
    assert totals_out >= 3 + received and totals_in >= 3 + received


def test_our_lifetime_rekeys_of_child_and_ike_sa_while_pinging(strongswan_lab: Lab) -> None:
    """Our child lifetime 60 s and IKE lifetime 120 s: both rekeys are ours (at ~53 s and
    ~105 s), under a steady ping; at most one ping is lost and totals never fall back."""
    lab = strongswan_lab
    ours = lab.ours(our_conf(child_lifetime=60, ike_lifetime=120))
    charon = lab.charon(swanctl_conf())
    charon.initiate()
    first = lab.wait_agreed(charon, ours)
    deadline = time.monotonic() + 140
    lost = sent_total = 0
    seen_in = 0
    child_rekeyed = ike_rekeyed = False
    while time.monotonic() < deadline and not (child_rekeyed and ike_rekeyed):
        sent, received = ping(lab, lab.topo.us, US_HOST, SS_HOST, 10, 0.2)
        sent_total += sent
        lost += sent - received
        totals_in, _ = our_packets(ours)
        assert totals_in >= seen_in  # never falls back
        seen_in = totals_in
        try:
            agreed = lab.agreement(charon, ours)
        except NotYet:
            continue  # mid-rekey
        child_rekeyed = child_rekeyed or agreed.child_spis != first.child_spis
        ike_rekeyed = ike_rekeyed or agreed.ike_spis != first.ike_spis
    assert child_rekeyed and ike_rekeyed, "no rekey of both SAs within 140 s"
    assert lost <= 1, (lost, sent_total)
    # every echo reply that came back was counted (counters reach the store each second)
    until_true(
        lambda: our_packets(ours)[0] >= sent_total - lost,
        5,
        "our inbound packet count to cover every reply",
        lambda: str(our_packets(ours)),
    )


def test_esp_arrives_on_our_ike_port_after_charons_port_float(strongswan_lab: Lab) -> None:
    """No port is 500 (charon 15600/15601, ours 15500/15501): after NAT-T charon sends
    IKE and ESP from its floated port 15601 to our IKE port 15500, so that one socket
    carries both, told apart by the non-ESP marker; pings still cross both ways."""
    lab = strongswan_lab
    charon = lab.charon(swanctl_conf(remote_port=15500), port=15600, port_nat_t=15601)
    ours = lab.ours(our_conf(), ike_port=15500, natt_port=15501)
    charon.initiate()
    lab.wait_agreed(charon, ours)
    assert ping(lab, lab.topo.ss, SS_HOST, US_HOST, 5) == (5, 5)
    assert ping(lab, lab.topo.us, US_HOST, SS_HOST, 5) == (5, 5)
    charon_in, charon_out = charon_packets(charon)
    wait_counters(ours, expected_in=charon_out, expected_out=charon_in)
    assert "sending packet: from 10.99.0.1[15601] to 10.99.0.2[15500]" in charon.log()
