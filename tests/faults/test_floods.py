"""Floods a gateway on the Internet sees: IKE_SA_INIT requests from forged initiators
(state exhaustion, RFC 7296 2.6) and ESP with random SPIs from a real peer's address
(each would make us send an INVALID_SPI notice: reflection, RFC 4303 3.4.2).

Half-open IKE SAs above `cookie_threshold` (1000) cost the flooder a round trip: the
COOKIE challenge keeps the half-open table near the threshold and lets a real peer
(charon, which answers the challenge) in during the flood. Notices for unknown SPIs are
rate-limited per IKE SA and in all, and counted when suppressed.
"""

from __future__ import annotations

import re
import time

from faults.fault_lab import (
    WIRE_TOOLS,
    ControlProbe,
    FaultLab,
    StatsProbe,
    assert_no_traceback,
)
from interop.strongswan import (
    CHILD,
    SS_ADDR,
    US_ADDR,
    NotYet,
    eventually,
    our_conf,
    swanctl_conf,
)

COOKIE_THRESHOLD = 1000  # engine.ike.policy.IkeConfig.cookie_threshold
#: IKE_SA_INIT per second: two thirds of what the daemon answers with cookies on this
#: kind of machine (~15k/s measured), so a real peer's datagrams are not lost in the
#: kernel's queue; far above the threshold within the first second
FLOOD_RATE = 10_000
FLOOD_SECONDS = 15
FLOOD_SOURCES = [f"10.99.0.{i}" for i in range(11, 19)]
MAX_FLOOD_RSS_GROWTH_KB = 100 * 1024
SPOOFED_ESP = 10_000
MAX_NOTICES = 5


def test_half_open_flood_and_a_real_peer_through_cookies(lab: FaultLab) -> None:
    """8 forged source addresses x 16 ports, random SPIs and nonces, real proposals (each
    request below the threshold costs us a DH and a half-open SA): charon initiates once
    the table is full and must establish during the flood, through a COOKIE."""
    charon = lab.charon(swanctl_conf())
    # the dynamic entry serves all of 10.99.0.0/24, so the forged initiators are answered
    ours = lab.ours(our_conf(peer_mask="255.255.255.0"))
    for address in FLOOD_SOURCES:
        lab.add_address(address)
    rss_before = ours.usage().rss_kb
    with StatsProbe(ours) as probe:
        flood = lab.spawn(
            "flood", WIRE_TOOLS, "flood", "--sources", ",".join(FLOOD_SOURCES),
            "--target", US_ADDR, "--rate", str(FLOOD_RATE), "--duration", str(FLOOD_SECONDS),
        )  # fmt: skip
        flood_started = time.monotonic()
        lab.until(
            lambda: probe.last.get("half_open", 0) >= COOKIE_THRESHOLD,
            "the half-open table to reach the cookie threshold",
            10,
        )
        full_after = time.monotonic() - flood_started
        started = time.monotonic()
        done = charon.swanctl("--initiate", "--child", CHILD, "--timeout", "30", check=False)
        took = time.monotonic() - started
        during_flood = time.monotonic() - flood_started < FLOOD_SECONDS
        flood.proc.wait(FLOOD_SECONDS + 10)
    (report,) = [e for e in flood.events() if "sent" in e]
    stats = ours.statistics()
    rss_peak = max(probe.rss_peak_kb, ours.usage().rss_kb)
    cookies = stats["ike_events"].get("cookies sent", 0)
    print(
        f"\nhalf-open flood: {report['sent']:,} IKE_SA_INIT in {report['elapsed']:.1f} s "
        f"= {report['rate']:,.0f}/s from {report['sockets']} sockets; errors {report['errors']}\n"
        f"  cookie threshold reached after {full_after:.2f} s; half-open peak "
        f"{probe.half_open_peak:,}; cookies sent {cookies:,}\n"
        f"  daemon read {stats['transport'].get('datagrams in', 0):,}, kernel drops "
        f"{sum(s['kernel_drops'] or 0 for s in stats['sockets']):,}; IKE drops "
        f"{stats['ike_drops']}\n"
        f"  legitimate charon established in {took * 1000:.0f} ms "
        f"({'during' if during_flood else 'after'} the flood)\n"
        f"  RSS {rss_before / 1024:.1f} MB -> peak {rss_peak / 1024:.1f} MB; control socket "
        f"slowest answer {probe.worst * 1000:.0f} ms of {len(probe.latencies)}"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert during_flood, "charon only got in after the flood"
    lab.wait_agreed(charon, ours)
    assert "parsed IKE_SA_INIT response 0 [ N(COOKIE) ]" in charon.log()
    assert re.search(r"generating IKE_SA_INIT request 0 \[ N\(COOKIE\) SA KE", charon.log())
    assert cookies > 0
    assert report["sent"] > 5 * COOKIE_THRESHOLD
    assert COOKIE_THRESHOLD <= probe.half_open_peak <= COOKIE_THRESHOLD + 5
    assert rss_peak - rss_before < MAX_FLOOD_RSS_GROWTH_KB
    probe.check()
    assert_no_traceback(ours)


def test_spoofed_esp_with_random_spis(lab: FaultLab) -> None:
    """10,000 ESP-in-UDP packets with random SPIs from charon's address and NAT-T port
    (kernel-libipsec sends ESP in UDP 4500), to our NAT-T port: charon must get only a
    rate-limited handful of INVALID_SPI notices, the rest counted as suppressed, and the
    tunnel stays up."""
    charon = lab.charon(swanctl_conf())
    ours = lab.ours(our_conf())
    charon.initiate()
    before = lab.wait_agreed(charon, ours)
    assert before.charon_child["encap"] == "yes"
    assert before.charon_ike["local-port"] == "4500"
    stats_before = ours.statistics()
    with ControlProbe(ours) as probe:
        spoof = lab.tool(
            "spoof-esp", "--source", SS_ADDR, "--sport", "4500", "--target", US_ADDR,
            "--dport", str(ours.natt_port), "--count", str(SPOOFED_ESP),
        )  # fmt: skip

        def settled() -> dict:
            stats = ours.statistics()
            if any(s["receive_queue"] for s in stats["sockets"] if s["receive_queue"]):
                raise NotYet("datagrams still queued")
            return stats

        stats = eventually(settled, 15, "the daemon to read the spoofed ESP", ours.log, 0.2)
        time.sleep(2)  # the notices' exchanges finish
    notices = [
        line
        for line in charon.log().splitlines()
        if re.search(r"parsed INFORMATIONAL request \d+ \[ N\(INVAL_SPI\) \]", line)
    ]
    events = stats["ike_events"]
    unknown = stats["esp_drops"].get("unknown spi", 0) - stats_before["esp_drops"].get(
        "unknown spi", 0
    )
    kernel = sum(s["kernel_drops"] or 0 for s in stats["sockets"])
    print(
        f"\nspoofed ESP: {spoof['sent']:,} packets in {spoof['elapsed']:.2f} s = "
        f"{spoof['rate']:,.0f}/s; unknown-SPI drops {unknown:,}; kernel drops {kernel:,}\n"
        f"  INVALID_SPI notices sent {events.get('INVALID_SPI notices sent', 0)}, "
        f"suppressed {events.get('INVALID_SPI notices suppressed', 0):,}; "
        f"seen by charon {len(notices)}\n"
        f"  control socket slowest answer {probe.worst * 1000:.0f} ms"
    )
    assert spoof["sent"] == SPOOFED_ESP, spoof
    assert unknown + kernel >= SPOOFED_ESP * 0.99
    assert 1 <= len(notices) <= MAX_NOTICES, notices
    assert events.get("INVALID_SPI notices sent", 0) == len(notices)
    assert events.get("INVALID_SPI notices suppressed", 0) >= unknown - MAX_NOTICES
    after = lab.agreement(charon, ours)
    assert (after.ike_spis, after.child_spis) == (before.ike_spis, before.child_spis)
    probe.check()
    assert_no_traceback(ours)
