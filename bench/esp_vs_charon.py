"""ESP throughput: our daemon's TUN data plane side by side with strongSwan's kernel-libipsec.

    python bench/vs_strongswan.py --esp [--rounds N] [--seconds S] [--pairs LIST]

Topology (bench/netns.py): the generator's namespace holds the initiating gateway
(10.97.1.1 on the veth, 10.98.1.1 on lo), the responder's the answering one (10.97.0.1,
10.98.2.1 on lo). One site-to-site child SA 10.98.1.0/24 <-> 10.98.2.0/24, IKE
aes256gcm16-prfsha256-x25519, ESP aes256gcm16, TUN MTU 1400 on both implementations
(kernel-libipsec's default and our daemon's). Three pairings, initiator-responder:

- charon-charon: both kernel-libipsec (ESP always in UDP 4500);
- charon-daemon: charon initiates, our daemon answers (UDP 4500, as charon sends);
- daemon-daemon: our daemon both sides (`python -m engine.cli daemon`, a static crypto
  map on the initiator, the IKE bench's dynamic one on the responder); without NAT our
  daemons carry ESP straight over IP (protocol 50).

Per pairing the two gateways start (Popen, stopped by PID), the tunnel comes up (a ping
crosses it), then iperf3 runs S seconds (default 10) per case: `iperf3 -s -1 -B 10.98.2.1`
in the responder's namespace, `iperf3 -c 10.98.2.1 -B 10.98.1.1 -t S -J` in the other,
TCP both directions (`-R`) and UDP `-u -b 1G -l 1300` both directions. Rounds are
interleaved (each round runs every pairing, the order reversed every other round);
medians per case. Printed per case: Mbit/s (at the receiver), UDP loss %, the ratio
to charon-charon and CPU microseconds per packet (both gateways' utime + stime over
the run, per packet delivered, per gateway). Last line:

    esp_tcp_ratio=R esp_tcp_reverse_ratio=R2 esp_udp_ratio=U esp_udp_reverse_ratio=U2
        esp_udp_loss_pct=L charon_udp_loss_pct=C
        esp_udp_reverse_loss_pct=L2 charon_udp_reverse_loss_pct=C2   (one line)

ratios of daemon-daemon to charon-charon medians. UDP is what the receiver counted
(iperf3's sum_received) and loss is the share of the datagrams sent that it never got.
`--profile DIR` samples our daemons with py-spy during the runs and prints where the
time goes; `--baseline DIR` adds a `base-base` pairing (our daemon from another checkout).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.netns import GEN_FIRST, GENERATOR_NET, RESPONDER, RESPONDER_HOST, RESPONDER_NET
from bench.swanctl import psk_connection
from bench.vs_strongswan import (
    PSK,
    BaselineResponder,
    BenchError,
    CharonResponder,
    OurResponder,
    Responder,
    Topology,
    kill,
    profile_summary,
    start_profiler,
    stop_profiler,
    tail,
)

IPERF = "iperf3"
GENERATOR = str(GEN_FIRST)
GENERATOR_HOST = "10.98.1.1"
CASES: dict[str, tuple[str, ...]] = {
    "tcp": (),
    "tcp_reverse": ("-R",),
    "udp": ("-u", "-b", "1G", "-l", "1300"),
    "udp_reverse": ("-u", "-b", "1G", "-l", "1300", "-R"),
}
#: TCP payload per packet at MTU 1400 (IPv4 20, TCP 20 + timestamps 12)
TCP_PAYLOAD = 1400 - 52


class CharonInitiator(CharonResponder):
    """charon in the generator's namespace, initiating the one child SA."""

    name = "charon-i"

    def __init__(self, topo: Topology, workdir: Path) -> None:
        super().__init__(topo, workdir)
        self.ns = topo.gen

    @staticmethod
    def swanctl_conf() -> str:  # type: ignore[override]
        return psk_connection("rsp", GENERATOR, RESPONDER, RESPONDER, GENERATOR_NET, RESPONDER_NET)

    def start(self) -> None:
        super().start()
        done = self.swanctl("--initiate", "--child", "net", "--timeout", "20")
        if done.returncode != 0:
            raise BenchError(f"charon could not initiate:\n{done.stdout}{done.stderr}")


class OurInitiator(OurResponder):
    """Our daemon in the generator's namespace: a static crypto map entry (it initiates)."""

    name = "ours-i"
    address = GENERATOR

    def __init__(self, topo: Topology, workdir: Path) -> None:
        super().__init__(topo, workdir)
        self.ns = topo.gen

    @staticmethod
    def config() -> str:
        return f"""\
hostname bench-initiator
crypto ikev2 proposal P
 encryption aes-gcm-256
 prf sha256
 group 31
crypto ikev2 policy POLICY
 proposal P
crypto ikev2 keyring KEYS
 peer RESPONDER
  address {RESPONDER}
  pre-shared-key {PSK}
crypto ikev2 profile RSP
 match identity remote address {RESPONDER} 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KEYS
crypto ipsec transform-set TS esp-gcm 256
 mode tunnel
ip access-list extended TUNNEL
 permit ip 10.98.1.0 0.0.0.255 10.98.2.0 0.0.0.255
crypto map WAN 10 ipsec-isakmp
 set peer {RESPONDER}
 set transform-set TS
 set ikev2-profile RSP
 match address TUNNEL
interface wan0
 ip address {GENERATOR} 255.255.0.0
 crypto map WAN
end
"""


class BaselineInitiator(OurInitiator):
    name = "base-i"


PAIRS: dict[str, tuple[type[Responder], type[Responder]]] = {
    "charon-charon": (CharonInitiator, CharonResponder),
    "charon-daemon": (CharonInitiator, OurResponder),
    "daemon-daemon": (OurInitiator, OurResponder),
    "base-base": (BaselineInitiator, BaselineResponder),
}


@dataclass(frozen=True)
class Run:
    pair: str
    case: str
    mbps: float
    loss_pct: float
    us_per_packet: float  # CPU per delivered packet, per gateway
    sys_share: float  # of that CPU, the share in the kernel (stime)


def user_system(pids: list[int]) -> tuple[float, float]:
    """utime and stime summed over processes (all their threads), seconds."""
    user = system = 0.0
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        user += int(fields[11]) / os.sysconf("SC_CLK_TCK")
        system += int(fields[12]) / os.sysconf("SC_CLK_TCK")
    return user, system


def udp_figures(end: dict) -> tuple[float, float, float]:  # type: ignore[type-arg]
    """(Mbit/s, loss %, packets) of a UDP run from iperf3's `end` section: what the
    receiver counted in the test's seconds, against what was sent. Not packets sent
    minus sequence gaps: packets a gateway still holds when the sender stops fall past
    the highest sequence number received, so they count neither as lost nor as
    received, and charon's queues held a sixth of a reverse run that way."""
    if "sum_received" not in end:  # an iperf3 without the receiver's sums
        total = end["sum"]
        packets = total["packets"] - total["lost_packets"]
        return packets * 1300 * 8 / total["seconds"] / 1e6, float(total["lost_percent"]), packets
    received = end["sum_received"]
    sent = end.get("sum_sent", end["sum"])
    packets = received["bytes"] / 1300
    loss = 100 * (1 - packets / max(1, sent["packets"]))
    return received["bits_per_second"] / 1e6, loss, packets


def iperf(
    topo: Topology, case: str, seconds: int, cpus: list[int]
) -> tuple[float, float, float, float]:
    """(Mbit/s at the receiver, loss %, CPU us per packet per gateway, the kernel's share
    of that CPU) of one iperf3 run."""
    server = subprocess.Popen(
        topo.exec_argv(topo.rsp, IPERF, "-s", "-1", "-B", RESPONDER_HOST),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.3)
        user0, system0 = user_system(cpus)
        done = subprocess.run(
            topo.exec_argv(
                topo.gen, IPERF, "-c", RESPONDER_HOST, "-B", GENERATOR_HOST,
                "-t", str(seconds), "-J", *CASES[case],
            ),
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 40,
        )  # fmt: skip
        user1, system1 = user_system(cpus)
        user, system = user1 - user0, system1 - system0
        cpu = user + system
        try:
            result = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise BenchError(f"iperf3 {case}: {done.stdout[-500:]}{done.stderr}") from None
        if "error" in result:
            raise BenchError(f"iperf3 {case}: {result['error']}")
        end = result["end"]
        if case.startswith("tcp"):
            received = end["sum_received"]
            mbps = received["bits_per_second"] / 1e6
            packets = received["bytes"] / TCP_PAYLOAD
            loss = 0.0
        else:
            mbps, loss, packets = udp_figures(end)
        per_packet = 1e6 * cpu / max(1.0, packets) / max(1, len(cpus))
        return mbps, loss, per_packet, system / cpu if cpu else float("nan")
    finally:
        kill(server)


def wait_tunnel(topo: Topology, sides: list[Responder], timeout: float = 30) -> None:
    """A ping from the generator's protected address crosses the tunnel."""
    deadline = time.monotonic() + timeout
    while True:
        for side in sides:
            side.alive()
        done = subprocess.run(
            topo.exec_argv(topo.gen, "ping", "-n", "-q", "-c1", "-W1", "-I", GENERATOR_HOST,
                           RESPONDER_HOST),
            capture_output=True,
            check=False,
        )  # fmt: skip
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {s.name}\n{tail(s.log)}" for s in sides)
            raise BenchError(f"the tunnel did not come up\n{logs}")
        time.sleep(0.3)


def measure_pair(
    topo: Topology, workdir: Path, pair: str, seconds: int, profile: Path | None, tag: str
) -> list[Run]:
    rundir = Path(tempfile.mkdtemp(prefix=f"{pair}-", dir=workdir))
    initiator_kind, responder_kind = PAIRS[pair]
    responder = responder_kind(topo, rundir / "r")
    initiator = initiator_kind(topo, rundir / "i")
    responder.dir.mkdir()
    initiator.dir.mkdir()
    sides = [responder, initiator]
    runs: list[Run] = []
    try:
        responder.start()
        initiator.start()
        wait_tunnel(topo, sides)
        for case in CASES:
            profilers = []
            if profile is not None:
                profilers = [
                    start_profiler(side.pid, profile / f"{pair}-{case}-{side.name}-{tag}.txt")
                    for side in sides
                    if isinstance(side, OurResponder)
                ]
            try:
                figures = iperf(topo, case, seconds, [s.pid for s in sides])
            finally:
                for profiler in profilers:
                    stop_profiler(profiler)
            for side in sides:
                side.alive()
            runs.append(Run(pair, case, *figures))
        return runs
    finally:
        for side in sides:
            side.stop()


def report(runs: list[Run], pairs: list[str]) -> None:
    def med(pair: str, case: str, what: str) -> float:
        values = [getattr(r, what) for r in runs if r.pair == pair and r.case == case]
        return statistics.median(values) if values else float("nan")

    print()
    for case in CASES:
        reference = med("charon-charon", case, "mbps")
        for pair in pairs:
            values = [r.mbps for r in runs if r.pair == pair and r.case == case]
            if not values:
                continue
            line = (
                f"{case:12s} {pair:14s} {med(pair, case, 'mbps'):7.1f} Mbit/s "
                f"(n={len(values)}, {min(values):.0f}-{max(values):.0f}) "
                f"ratio {med(pair, case, 'mbps') / reference:.2f} "
                f"cpu {med(pair, case, 'us_per_packet'):.2f} us/packet "
                f"({100 * med(pair, case, 'sys_share'):.0f}% sys)"
            )
            if case.startswith("udp"):
                line += f" loss {med(pair, case, 'loss_pct'):.1f}%"
            print(line)
    ours, ref = "daemon-daemon", "charon-charon"

    def ratio(case: str) -> float:
        return med(ours, case, "mbps") / med(ref, case, "mbps")

    print(
        f"esp_tcp_ratio={ratio('tcp'):.2f} esp_tcp_reverse_ratio={ratio('tcp_reverse'):.2f} "
        f"esp_udp_ratio={ratio('udp'):.2f} esp_udp_reverse_ratio={ratio('udp_reverse'):.2f} "
        f"esp_udp_loss_pct={med(ours, 'udp', 'loss_pct'):.1f} "
        f"charon_udp_loss_pct={med(ref, 'udp', 'loss_pct'):.1f} "
        f"esp_udp_reverse_loss_pct={med(ours, 'udp_reverse', 'loss_pct'):.1f} "
        f"charon_udp_reverse_loss_pct={med(ref, 'udp_reverse', 'loss_pct'):.1f}"
    )


def run(rounds: int, seconds: int, pairs: list[str], profile: Path | None) -> int:
    """The ESP comparison (prerequisites checked by the caller); the exit status."""
    if subprocess.run(["which", IPERF], capture_output=True, check=False).returncode:
        print("skipped: no iperf3 (apt-get install iperf3)")
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="vs-esp-"))
    topo = Topology()
    runs: list[Run] = []
    status = 0
    try:
        topo.create(1)
        topo._ip("-n", topo.gen, "addr", "add", f"{GENERATOR_HOST}/32", "dev", "lo")
        print(
            f"namespaces {topo.gen} / {topo.rsp}; {rounds} round(s) of {seconds} s per case; "
            f"pairs {', '.join(pairs)}",
            flush=True,
        )
        if profile is not None:
            profile.mkdir(parents=True, exist_ok=True)
        for r in range(rounds):
            for pair in pairs if r % 2 == 0 else pairs[::-1]:
                for one in measure_pair(topo, workdir, pair, seconds, profile, f"r{r + 1}"):
                    runs.append(one)
                    loss = f" loss {one.loss_pct:.1f}%" if one.case.startswith("udp") else ""
                    print(
                        f"round {r + 1} {pair:14s} {one.case:12s} {one.mbps:7.1f} Mbit/s{loss} "
                        f"cpu {one.us_per_packet:.2f} us/packet ({100 * one.sys_share:.0f}% sys)",
                        flush=True,
                    )
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
        status = 130
    except BenchError as err:
        print(f"error: {err}", file=sys.stderr)
        status = 1
    finally:
        topo.destroy()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)
    report(runs, pairs)
    if profile is not None:
        for path in sorted(profile.glob("*-r*.txt")):
            print()
            print(profile_summary(path))
    return status
