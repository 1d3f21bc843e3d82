"""Wire fuzz: 2 x 100,000 mutated and random datagrams at our daemon's IKE and NAT-T ports.

The seed corpus is real: what charon and our daemon said to each other (IKE_SA_INIT,
IKE_AUTH, a child rekey, its INFORMATIONAL DELETE, ESP both ways), recorded on charon's
veth by an AF_PACKET sniffer. The fuzzer (wire_tools.py fuzz, seeded) mutates those
datagrams (bit flips, truncation, extension, byte replacement, IKE header fields,
message and payload lengths, next-payload chains, SPI swaps, splices, plain replays) and
mixes in random blobs, half of them behind the 4-byte non-ESP marker, to both ports: a
round as fast as one process sends, then a paced round the daemon can read in full. It
all comes from charon's address, so the live SA's SPIs and the peer's address are the
ones the daemon knows.

DESIGN: "a malformed or hostile packet is counted and dropped (or answered with the
right notify), never a traceback". So afterwards: the daemon answers its control socket
within 1 s, the tunnel that was up is still up with the same SPIs (every mutation fails
integrity or is a replay), its memory grew < 50 MB, drops are counted by reason, no
traceback, no log storm, and a new IKE SA with charon establishes.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from typing import Any

from faults.fault_lab import (
    WIRE_TOOLS,
    ControlProbe,
    FaultLab,
    assert_no_traceback,
)
from interop.strongswan import (
    SS_ADDR,
    SS_HOST,
    US_ADDR,
    US_HOST,
    NotYet,
    OurGateway,
    eventually,
    our_conf,
    swanctl_conf,
)

from engine.control_socket import request

DATAGRAMS = 100_000
#: (round, datagrams/s, seed): as fast as one process sends (most are then dropped by the
#: kernel, the daemon's queue being full: counted, as they must be), then other mutations
#: paced for the daemon to read nearly all of them
ROUNDS = (("round 1, full speed", 0, 7296), ("round 2, paced", 25_000, 7297))
MAX_RSS_GROWTH_KB = 50 * 1024
#: lines one mnemonic may log per 60 s window before a summary replaces them
LOG_LINES_PER_WINDOW = 20


def ping(lab: FaultLab) -> None:
    done = lab.topo.run(
        lab.topo.ss, "ping", "-n", "-q", "-c", "5", "-i", "0.1", "-W", "2", "-I", SS_HOST, US_HOST
    )
    assert " 0% packet loss" in done.stdout, done.stdout + done.stderr


def record_corpus(lab: FaultLab, charon, ours) -> tuple[str, Counter[str]]:  # type: ignore[no-untyped-def]
    """Sniff a real session (establish, ping both ways, rekey the child, ping again)."""
    corpus = lab.workdir / "corpus.jsonl"
    sniffer = lab.spawn(
        "sniffer", WIRE_TOOLS, "sniff", "--iface", lab.veth_ss, "--out", str(corpus)
    )
    lab.wait_ready(sniffer)
    charon.initiate()
    before = lab.wait_agreed(charon, ours)
    ping(lab)
    charon.rekey_child()
    lab.wait_agreed(charon, ours, new_child_than=before, what="the child rekey")
    ping(lab)
    time.sleep(0.3)
    sniffer.stop()
    kinds: Counter[str] = Counter()
    for line in corpus.read_text().splitlines():
        record = json.loads(line)
        data = bytes.fromhex(record["data"])
        if data[:4] == b"\0\0\0\0":
            data = data[4:]
        elif record["sport"] == 4500 and record["dport"] == 4500:
            kinds["ESP"] += 1
            continue
        if len(data) >= 28:
            exchange = {34: "IKE_SA_INIT", 35: "IKE_AUTH", 36: "CREATE_CHILD_SA"}.get(
                data[18], "INFORMATIONAL" if data[18] == 37 else f"exchange {data[18]}"
            )
            kinds[exchange] += 1
    return str(corpus), kinds


def drained(ours: OurGateway) -> dict[str, Any]:
    """The daemon's statistics once it has read all the kernel queued for it."""
    stats = ours.statistics()
    if any(s["receive_queue"] for s in stats["sockets"] if s["receive_queue"]):
        raise NotYet("datagrams still queued")
    return stats


def read_and_dropped(before: dict[str, Any], after: dict[str, Any]) -> tuple[int, int]:
    """(datagrams the daemon read, datagrams the kernel dropped from its queues) between."""
    read = after["transport"].get("datagrams in", 0) - before["transport"].get("datagrams in", 0)
    kernel = sum(s["kernel_drops"] or 0 for s in after["sockets"]) - sum(
        s["kernel_drops"] or 0 for s in before["sockets"]
    )
    return read, kernel


def test_wire_fuzz_at_both_ports(lab: FaultLab) -> None:
    charon = lab.charon(swanctl_conf())
    ours = lab.ours(our_conf())
    corpus, kinds = record_corpus(lab, charon, ours)
    for needed in ("IKE_SA_INIT", "IKE_AUTH", "CREATE_CHILD_SA", "INFORMATIONAL", "ESP"):
        assert kinds[needed] >= 2, f"the recorded corpus lacks {needed}: {dict(kinds)}"
    up = lab.wait_agreed(charon, ours)
    stats_before = ours.statistics()
    rss_before = ours.usage().rss_kb

    rounds = []
    with ControlProbe(ours) as probe:
        for name, rate, seed in ROUNDS:
            at_start = ours.statistics()
            fuzz = lab.tool(
                "fuzz", "--corpus", corpus, "--source", SS_ADDR, "--target", US_ADDR,
                "--ports", f"{ours.ike_port},{ours.natt_port}", "--count", str(DATAGRAMS),
                "--rate", str(rate), "--seed", str(seed),
            )  # fmt: skip
            stats = eventually(
                lambda: drained(ours), 30, "the daemon to drain its sockets", ours.log, 0.2
            )
            rounds.append((name, fuzz, read_and_dropped(at_start, stats)))
        time.sleep(1)
    stats = ours.statistics()

    started = time.monotonic()
    request(ours.control, {"cmd": "show-sessions"}, timeout=1.0)
    answered = time.monotonic() - started
    rss_after = ours.usage().rss_kb
    survived = lab.agreement(charon, ours)

    # a new IKE SA with charon
    charon.terminate_ike()
    lab.wait_nothing(charon, ours)
    started = time.monotonic()
    charon.initiate()
    lab.wait_agreed(charon, ours, new_ike_than=up)
    establish = time.monotonic() - started

    lines = [f"\nwire fuzz: corpus {dict(kinds)}"]
    for name, fuzz, (received, kernel) in rounds:
        lines += [
            f"  {name}: sent {fuzz['sent']:,} of {fuzz['built']:,} "
            f"({fuzz['with_marker']:,} with the non-ESP marker) in {fuzz['elapsed']:.2f} s "
            f"= {fuzz['rate']:,.0f}/s; send errors {fuzz['errors']}",
            f"    read by the daemon {received:,}; kernel receive-queue drops {kernel:,}; "
            f"unaccounted {fuzz['sent'] - received - kernel:,} (negative: the tunnel's own "
            "datagrams; positive: lost before the socket)",
        ]
    lines.append(f"  mutations of round 1 {rounds[0][1]['kinds']}")
    received = sum(r[2][0] for r in rounds)
    print(
        "\n".join(lines) + "\n"
        f"  in all: read by the daemon {received:,} of {2 * DATAGRAMS:,}\n"
        f"  IKE drops {stats['ike_drops']}\n"
        f"  IKE events {stats['ike_events']}\n"
        f"  ESP drops {stats['esp_drops']}\n"
        f"  transport {stats['transport']}\n"
        f"  sockets {stats['sockets']}\n"
        f"  half-open IKE SAs {stats['half_open']}, IKE SAs {stats['ike_sas']}\n"
        f"  RSS {rss_before / 1024:.1f} MB -> {rss_after / 1024:.1f} MB "
        f"(+{(rss_after - rss_before) / 1024:.1f} MB)\n"
        f"  control socket: slowest answer during the fuzz {probe.worst * 1000:.0f} ms "
        f"({len(probe.failures)} failures), after it {answered * 1000:.0f} ms\n"
        f"  new IKE SA with charon established in {establish * 1000:.0f} ms"
    )
    for _, fuzz, _ in rounds:
        assert fuzz["sent"] >= DATAGRAMS * 0.99, fuzz
    assert answered < 1.0
    assert (survived.ike_spis, survived.child_spis) == (up.ike_spis, up.child_spis)
    assert rss_after - rss_before < MAX_RSS_GROWTH_KB
    dropped = sum(stats["ike_drops"].values()) + sum(stats["esp_drops"].values())
    dropped -= sum(stats_before["ike_drops"].values()) + sum(stats_before["esp_drops"].values())
    assert dropped >= received * 0.5, "most fuzzed datagrams must show as counted drops"
    assert_no_traceback(ours)
    per_mnemonic = Counter(
        m.group(1)
        for line in ours.log().splitlines()
        if "suppressed in the last" not in line
        for m in [re.search(r"%([A-Z0-9_]+-\d-[A-Z0-9_]+):", line)]
        if m
    )
    for mnemonic, count in per_mnemonic.items():
        if "SESSION_STATUS" not in mnemonic and "CONFIG_I" not in mnemonic:
            assert count <= 2 * LOG_LINES_PER_WINDOW, (mnemonic, count)
