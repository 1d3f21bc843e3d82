"""IKE responder CPU per SA: our daemon side by side with strongSwan's charon, same run.

    python bench/vs_strongswan.py [--rounds N] [--quick]
    python bench/vs_strongswan.py --esp [--rounds N] [--seconds S]   (ESP: esp_vs_charon.py)

as root, from the project root, with the project's virtualenv interpreter
(`sudo .venv/bin/python bench/vs_strongswan.py`). Without root,
`ip netns`, TUN or charon it prints why and exits 0 (a benchmark, not a test). Ctrl-C
stops it; the namespaces and processes go in any case. More options:

    --cases 1:500,250:2000   PEERS:SAS pairs instead of the default four cases
    --only charon|ours       one responder only
    --baseline DIR           also our daemon from another checkout (before a change),
                             interleaved, reported as `base`
    --profile DIR            py-spy samples of our daemon per load, summarised at the end
    --charon-option K=V      an extra `charon { K = V }` setting (repeatable)
    --warmup N               handshakes before each measured load (default 16)

Topology (bench/netns.py): two network namespaces joined by a veth pair. The generator's
namespace has 10.97.1.1 .. 10.97.1.250 (as many as peers) on a /16; the responder's has
10.97.0.1 and 10.98.2.1 on lo (inside its protected network, which kernel-libipsec
needs). One responder at a time runs there, started with subprocess.Popen and stopped
by its PID (SIGKILL once measured; charon's leftover routing rule is removed):

- charon (strongSwan, kernel-libipsec, the plugins the interop tests load), one connection that
  accepts the whole 10.97.0.0/16 with PSK and `%any` remote identity, `unique = never`
  (the generator sends INITIAL_CONTACT), `cookie_threshold` and `block_threshold`
  raised to our daemon's own cookie threshold (1000) so one generator address is not
  blocked, logging at charon's default level 1 to a file; other settings default;
- our daemon (`python -m engine.cli daemon`), an IOS-style file: a keyring peer for
  10.97.0.0/16, an ikev2 profile matching it, a dynamic crypto map; its data plane on
  (TUN), its log lines to a file, as an operator runs it.

Both: IKE aes256gcm16-prfsha256-x25519 (IOS: aes-gcm-256, prf sha256, group 31), ESP
aes256gcm16 (esp-gcm 256), one child 10.98.2.0/24 <-> 10.98.1.0/24 per IKE SA.

ONE load generator for both (bench/ike_load.py): the project's sans-IO initiator
(engine.ike.engine.IkeEngine) in the generator namespace, UDP 500 and 4500 bound on each
source address (the sources taken in turn), 64 handshakes in flight, IKE_SA_INIT +
IKE_AUTH with one child each; it forgets an SA once its child is installed (the
responder keeps it: its count is checked at the end).

The responder's CPU (utime + stime of all its threads, /proc/PID/stat) is read when the
generator starts its load (after a warm-up of 16 handshakes, which takes one-time costs
such as the first route and lazy imports out of the per-SA figure) and again SETTLE
seconds after the last child is installed (so work a responder defers past its last
reply counts): the load window only, not startup. Reported: CPU ms per established SA.
Cases 1 and 250 peers, each at 500 and 2000 SAs; rounds interleaved (each round runs
every case for each responder, the order of the responders reversed every other round),
a fresh responder per measurement; medians and spread (min-max) per case. The machine's
cores are shared with other work: the ratio of the two, measured side by side, is the
fair figure, not either absolute.

Lines printed, per case and at the end:

    peers=250 sas=2000 charon_ms_per_sa=0.68 ours_ms_per_sa=1.20 ratio=1.76
    charon_growth_500_to_2000=G
    cpu_per_sa_ratio=R growth_500_to_2000=G

R is ours / charon (medians) with 250 peers at 2000 SAs; G is our ms per SA from one peer
at 2000 SAs over that at 500 (`--quick`: one round, 150 and 600 SAs, and it says so).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.netns import (  # noqa: E402
    GENERATOR_NET,
    RESPONDER,
    RESPONDER_NET,
    SUBNET,
    Topology,
    cpu_seconds,
    generator_addresses,
    prerequisites,
)
from bench.swanctl import PSK, psk_connection  # noqa: E402

CHARON = Path("/usr/lib/ipsec/charon")
SWANCTL = shutil.which("swanctl", path="/usr/sbin:/sbin:/usr/bin") or "/usr/sbin/swanctl"

#: our daemon's own threshold (IkeConfig.cookie_threshold), given to charon too
OUR_COOKIE_THRESHOLD = 1000
#: seconds after the last installed child before the responder's CPU is read again
SETTLE = 0.5
#: seconds the responder gets, once ready, before the load starts
WARM = 0.3
#: handshakes before the measured load (not counted, the responder keeps them)
WARMUP = 16
CHARON_PLUGINS = (
    "random nonce aes sha1 sha2 hmac kdf pem pkcs1 x509 pubkey gmp openssl "
    "kernel-libipsec kernel-netlink socket-default vici updown"
)
FULL_CASES = ((1, 500), (1, 2000), (250, 500), (250, 2000))
QUICK_CASES = ((1, 150), (1, 600), (250, 150), (250, 600))


class Skip(Exception):
    """The benchmark cannot run here (said why)."""


class BenchError(Exception):
    """Something failed during a measurement (a responder that did not start ...)."""


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def wait_for(probe: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out waiting for {what}\n{tail(log)}")
        time.sleep(0.05)


def kill(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a process we started, by its PID."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


# ---------------------------------------------------------------------- responders
class Responder:
    name = ""

    def __init__(self, topo: Topology, workdir: Path) -> None:
        self.topo = topo
        self.dir = workdir
        self.log = workdir / f"{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        #: the namespace it runs in (the ESP comparison also runs one in the generator's)
        self.ns = topo.rsp

    def start(self) -> None:
        raise NotImplementedError

    def sa_count(self) -> int:
        """IKE SAs the responder holds now."""
        raise NotImplementedError

    def alive(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise BenchError(f"{self.name} exited ({code}):\n{tail(self.log)}")
        return True

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        kill(self.proc)


class CharonResponder(Responder):
    name = "charon"
    #: extra `charon { KEY = VALUE }` settings (--charon-option)
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def uri(self) -> str:
        return f"unix://{self.dir / 'charon.vici'}"

    def strongswan_conf(self) -> str:
        extra = "\n".join(f"  {key} = {value}" for key, value in self.extra)
        return f"""\
charon {{
  load_modular = no
  load = {CHARON_PLUGINS}
  cookie_threshold = {OUR_COOKIE_THRESHOLD}
  block_threshold = {OUR_COOKIE_THRESHOLD}
{extra}
  filelog {{
    stderr {{
      default = 1
      flush_line = yes
    }}
  }}
  plugins {{
    vici {{
      socket = {self.uri}
    }}
  }}
}}
"""

    @staticmethod
    def swanctl_conf() -> str:
        return psk_connection(
            "gen", RESPONDER, SUBNET, "%any", RESPONDER_NET, GENERATOR_NET, unique="never"
        )

    def swanctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SWANCTL, *args, "--uri", self.uri],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def start(self) -> None:
        run = self.dir / "run"
        run.mkdir()
        conf = self.dir / "strongswan.conf"
        conf.write_text(self.strongswan_conf())
        swanctl_conf = self.dir / "swanctl.conf"
        swanctl_conf.write_text(self.swanctl_conf())
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.topo.exec_argv(
                    self.ns, "sh", "-c", 'mount --bind "$1" /run && exec "$2"',
                    "sh", str(run), str(CHARON),
                ),
                env={**os.environ, "STRONGSWAN_CONF": str(conf)},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(
            lambda: self.alive() and self.swanctl("--stats").returncode == 0,
            15,
            "charon's vici socket",
            self.log,
        )
        text = self.log.read_text(errors="replace")
        if "unable to bind socket" in text or "could not open socket" in text:
            raise BenchError(f"charon could not bind its ports:\n{tail(self.log)}")
        done = self.swanctl("--load-all", "--file", str(swanctl_conf))
        if done.returncode != 0:
            raise BenchError(f"swanctl --load-all failed:\n{done.stdout}{done.stderr}")

    def sa_count(self) -> int:
        # "IKE_SAs: 2000 total, 0 half-open"
        for line in self.swanctl("--stats").stdout.splitlines():
            if line.strip().startswith("IKE_SAs:"):
                return int(line.split()[1])
        return -1

    def stop(self) -> None:
        super().stop()
        self.topo.forget_charon_routing(self.ns)


class OurResponder(Responder):
    name = "ours"
    #: the project tree whose engine runs (the daemon's working directory)
    root = ROOT
    #: the address it binds
    address = RESPONDER

    @staticmethod
    def config() -> str:
        net = SUBNET.network_address
        mask = SUBNET.netmask
        return f"""\
hostname bench-responder
crypto ikev2 proposal P
 encryption aes-gcm-256
 prf sha256
 group 31
crypto ikev2 policy POLICY
 proposal P
crypto ikev2 keyring KEYS
 peer GENERATOR
  address {net} {mask}
  pre-shared-key {PSK}
crypto ikev2 profile GEN
 match identity remote address {net} {mask}
 authentication local pre-share
 authentication remote pre-share
 keyring local KEYS
crypto ipsec transform-set TS esp-gcm 256
 mode tunnel
ip access-list extended TUNNEL
 permit ip 10.98.2.0 0.0.0.255 10.98.1.0 0.0.0.255
crypto dynamic-map GEN 10
 set transform-set TS
 set ikev2-profile GEN
 match address TUNNEL
crypto map WAN 10 ipsec-isakmp dynamic GEN
interface wan0
 ip address {RESPONDER} {mask}
 crypto map WAN
end
"""

    def start(self) -> None:
        conf = self.dir / "gateway.conf"
        conf.write_text(self.config())
        self.control = self.dir / "gateway.sock"
        state = self.dir / "state"
        state.mkdir()
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.topo.exec_argv(
                    self.ns, sys.executable, "-m", "engine.cli", "daemon",
                    "--config", str(conf), "--bind", self.address,
                    "--ike-port", "500", "--natt-port", "4500",
                    "--control", str(self.control), "--state-dir", str(state),
                ),
                cwd=self.root,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(lambda: self.alive() and self._stats() is not None, 20, "our daemon", self.log)

    def _stats(self) -> dict[str, object] | None:
        from engine.control_socket import ControlError, request

        try:
            return request(self.control, {"cmd": "show-engine-drops"}, timeout=30)["stats"]
        except ControlError:
            return None

    def sa_count(self) -> int:
        stats = self._stats()
        return -1 if stats is None else int(stats["ike_sas"])  # type: ignore[call-overload]


class BaselineResponder(OurResponder):
    """Our daemon from another checkout (--baseline DIR): before/after a change, same run."""

    name = "base"


RESPONDERS: dict[str, type[Responder]] = {
    "charon": CharonResponder,
    "ours": OurResponder,
    "base": BaselineResponder,
}


# ---------------------------------------------------------------------- one measurement
@dataclass(frozen=True)
class Sample:
    responder: str
    peers: int
    sas: int
    cpu: float  # responder CPU seconds over the load window
    established: int
    failed: int
    held: int  # IKE SAs the responder holds at the end
    wall: float  # seconds the generator took
    gen_cpu: float

    @property
    def ms_per_sa(self) -> float:
        return 1000 * self.cpu / max(1, self.established)

    @property
    def per_generator_cpu(self) -> float:
        """Responder CPU over the generator's: the generator does the same work every
        time, so this cancels much of what other work on the machine does to CPU time."""
        return self.cpu / self.gen_cpu if self.gen_cpu else float("nan")


def read_json_line(proc: subprocess.Popen[bytes], timeout: float, what: str) -> dict:  # type: ignore[type-arg]
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else b""
    if not line:
        kill(proc)
        raise BenchError(f"the load generator gave no {what} (rc {proc.poll()})")
    return json.loads(line)


def start_profiler(pid: int, output: Path) -> subprocess.Popen[bytes] | None:
    """py-spy sampling `pid` (all threads, collapsed stacks), or None without py-spy."""
    spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    if spy is None:
        print("no py-spy (pip install py-spy): not profiling", file=sys.stderr)
        return None
    with output.with_suffix(".log").open("wb") as log:
        proc = subprocess.Popen(
            [spy, "record", "--pid", str(pid), "--rate", "200", "--format", "raw",
             "--function", "--nonblocking", "--output", str(output)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    time.sleep(0.5)  # attached
    return proc


def stop_profiler(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGINT)  # py-spy writes its file on SIGINT
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        kill(proc)


def profile_summary(path: Path, top: int = 25) -> str:
    """Self and inclusive shares of the samples, per function, from py-spy's raw output."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if frames and frames[0].startswith(("process ", "thread ")):
            frames = frames[1:]
        if not frames:
            continue
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
    if not total:
        return f"{path.name}: no samples"
    lines = [f"{path.name}: {total} samples", "  self%  incl%  function"]
    for frame, count in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(
            f"  {100 * count / total:5.1f}  {100 * inclusive[frame] / total:5.1f}  {frame}"
        )
    lines.append("  -- by inclusive share")
    for frame, count in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(
            f"  {100 * own.get(frame, 0) / total:5.1f}  {100 * count / total:5.1f}  {frame}"
        )
    return "\n".join(lines)


def measure(
    topo: Topology,
    workdir: Path,
    kind: str,
    peers: int,
    sas: int,
    concurrency: int,
    profile: Path | None = None,
    warmup: int = 0,
) -> Sample:
    rundir = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=workdir))
    responder = RESPONDERS[kind](topo, rundir)
    generator: subprocess.Popen[bytes] | None = None
    profiler: subprocess.Popen[bytes] | None = None
    try:
        responder.start()
        gen_log = rundir / "generator.log"
        with gen_log.open("wb") as err:
            generator = subprocess.Popen(
                topo.exec_argv(
                    topo.gen, sys.executable, "-m", "bench.ike_load",
                    "--server", RESPONDER, "--sources", ",".join(generator_addresses(peers)),
                    "--count", str(sas), "--concurrency", str(concurrency), "--psk", PSK,
                    "--warmup", str(warmup),
                    "--local-net", GENERATOR_NET, "--remote-net", RESPONDER_NET,
                ),
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
            )  # fmt: skip
        try:
            warm = read_json_line(generator, 60, "ready line").get("warmup") or {}
            if warm.get("failed"):
                raise BenchError(f"{kind}: {warm['failed']} of the warm-up handshakes failed")
        except BenchError as exc:
            raise BenchError(f"{exc}\n{tail(gen_log)}") from None
        if profile is not None and kind in ("ours", "base"):
            profiler = start_profiler(responder.pid, profile)
        time.sleep(WARM)
        responder.alive()
        cpu0 = cpu_seconds(responder.pid)
        assert generator.stdin is not None
        generator.stdin.write(b"go\n")
        generator.stdin.flush()
        result = read_json_line(generator, 60 + sas / 10, "result")
        time.sleep(SETTLE)
        responder.alive()
        cpu1 = cpu_seconds(responder.pid)
        stop_profiler(profiler)
        held = responder.sa_count()
        generator.wait(10)
        return Sample(
            kind,
            peers,
            sas,
            cpu1 - cpu0,
            int(result["established"]),
            int(result["failed"]),
            held,
            float(result["wall"]),
            float(result["cpu"]),
        )
    finally:
        stop_profiler(profiler)
        kill(generator)
        responder.stop()
        shutil.rmtree(rundir, ignore_errors=True)


# ---------------------------------------------------------------------- report
def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float]) -> str:
    return f"{min(values):.3f}-{max(values):.3f}" if values else "-"


def report(samples: list[Sample], cases: tuple[tuple[int, int], ...]) -> None:
    ms: dict[tuple[str, int, int], list[float]] = {}
    norm: dict[tuple[str, int, int], list[float]] = {}
    for s in samples:
        ms.setdefault((s.responder, s.peers, s.sas), []).append(s.ms_per_sa)
        norm.setdefault((s.responder, s.peers, s.sas), []).append(s.per_generator_cpu)
    med = {key: median(values) for key, values in ms.items()}
    nan = float("nan")
    print()
    for peers, sas in cases:
        mc, mo = med.get(("charon", peers, sas), nan), med.get(("ours", peers, sas), nan)
        print(
            f"peers={peers} sas={sas} charon_ms_per_sa={mc:.3f} ours_ms_per_sa={mo:.3f} "
            f"ratio={mo / mc:.2f}"
        )
        for kind in RESPONDERS:
            values = ms.get((kind, peers, sas))
            if values:
                relative = norm[(kind, peers, sas)]
                print(
                    f"  {kind:6s} n={len(values)} median {median(values):.3f} "
                    f"min-max {spread(values)}; CPU / generator CPU median "
                    f"{median(relative):.3f} min-max {spread(relative)}"
                )
        c, o = ms.get(("charon", peers, sas), []), ms.get(("ours", peers, sas), [])
        if c and o:
            paired = [b / a for a, b in zip(c, o, strict=False)]
            nc, no = norm[("charon", peers, sas)], norm[("ours", peers, sas)]
            print(
                f"  ours/charon per round {' '.join(f'{x:.2f}' for x in paired)}; "
                f"ratio of the generator-relative medians {median(no) / median(nc):.2f}"
            )
        base = med.get(("base", peers, sas))
        if base is not None:
            print(
                f"  base_ms_per_sa={base:.3f} ours/base={mo / base:.2f} base/charon={base / mc:.2f}"
            )
    small, large = min(s for _, s in cases), max(s for _, s in cases)
    peers_max = max(p for p, _ in cases)

    def growth(kind: str) -> float:
        return med.get((kind, 1, large), nan) / med.get((kind, 1, small), nan)

    ratio = med.get(("ours", peers_max, large), nan) / med.get(("charon", peers_max, large), nan)
    note = "" if (small, large) == (500, 2000) else f" (these cases: {small} -> {large} SAs)"

    def relative_growth(kind: str) -> float:
        large_norm, small_norm = norm.get((kind, 1, large)), norm.get((kind, 1, small))
        return median(large_norm) / median(small_norm) if large_norm and small_norm else nan

    for kind in RESPONDERS:
        if any(k == kind for k, _, _ in ms):
            print(
                f"{kind}_growth_{small}_to_{large}={growth(kind):.2f} (one peer; "
                f"{relative_growth(kind):.2f} relative to the generator's CPU)"
            )
    print(f"# cpu_per_sa_ratio: ours/charon medians, {peers_max} peers, {large} SAs{note}")
    print(f"cpu_per_sa_ratio={ratio:.2f} growth_500_to_2000={growth('ours'):.2f}")


# ---------------------------------------------------------------------- main
def parse_cases(text: str) -> tuple[tuple[int, int], ...]:
    out = []
    for item in text.split(","):
        peers, sas = item.split(":")
        out.append((int(peers), int(sas)))
    return tuple(out)


def check_prerequisites() -> None:
    reason = prerequisites()
    if reason:
        raise Skip(reason)
    if not CHARON.exists():
        raise Skip(
            f"no {CHARON} (apt-get install -y --no-install-recommends strongswan-charon "
            "strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins)"
        )
    if not Path(SWANCTL).exists():
        raise Skip("no swanctl (apt-get install strongswan-swanctl)")
    if not os.path.exists("/dev/net/tun"):
        raise Skip("no /dev/net/tun (kernel-libipsec and our data plane need TUN)")


def on_term(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, through the cleanup of namespaces and processes."""
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="fewer SAs, one round: a smoke run")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--warmup",
        type=int,
        default=WARMUP,
        help=f"handshakes before the measured load (default {WARMUP}): one-time costs of a "
        "responder's first SA (its route, lazy imports) are not per-SA costs",
    )
    parser.add_argument(
        "--cases", type=parse_cases, default=None, help="PEERS:SAS,... (default 1/250 x 500/2000)"
    )
    parser.add_argument(
        "--only", choices=sorted(RESPONDERS), default=None, help="measure one responder only"
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        default=None,
        help="sample our daemon with py-spy during each load (CPU figures then include "
        "py-spy's small overhead) and print where its time goes",
    )
    parser.add_argument(
        "--charon-option",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="an extra setting in charon's section of strongswan.conf "
        "(e.g. ikesa_table_size=4096); repeatable",
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        type=Path,
        default=None,
        help="also measure our daemon from another checkout of the project (e.g. the "
        "code before a change), interleaved with the others, reported as `base`",
    )
    parser.add_argument(
        "--esp",
        action="store_true",
        help="instead of IKE: ESP throughput with iperf3 (bench/esp_vs_charon.py), "
        "charon-charon, charon-daemon and daemon-daemon",
    )
    parser.add_argument(
        "--seconds", type=int, default=10, help="--esp: seconds per iperf3 run (default 10)"
    )
    parser.add_argument(
        "--pairs",
        default="charon-charon,charon-daemon,daemon-daemon",
        help="--esp: initiator-responder pairings, comma-separated (base-base: --baseline)",
    )
    args = parser.parse_args()
    CharonResponder.extra = tuple(
        tuple(option.split("=", 1))
        for option in args.charon_option  # type: ignore[misc]
    )
    cases = args.cases or (QUICK_CASES if args.quick else FULL_CASES)
    rounds = args.rounds or (1 if args.quick else 3)
    kinds = [args.only] if args.only else ["charon", "ours"]
    if args.baseline is not None:
        BaselineResponder.root = args.baseline.resolve()
        if "base" not in kinds:
            kinds.insert(1, "base")
    try:
        check_prerequisites()
    except Skip as reason:
        print(f"skipped: {reason}")
        return 0
    if args.esp:
        from bench import esp_vs_charon

        pairs = args.pairs.split(",")
        if args.baseline is not None:
            esp_vs_charon.BaselineInitiator.root = BaselineResponder.root
            if "base-base" not in pairs:
                pairs.append("base-base")
        unknown = [p for p in pairs if p not in esp_vs_charon.PAIRS]
        if unknown:
            parser.error(f"unknown pairing(s) {unknown}: {sorted(esp_vs_charon.PAIRS)}")
        signal.signal(signal.SIGTERM, on_term)
        return esp_vs_charon.run(args.rounds or 3, args.seconds, pairs, args.profile)

    signal.signal(signal.SIGTERM, on_term)
    workdir = Path(tempfile.mkdtemp(prefix="vs-ss-"))
    topo = Topology()
    samples: list[Sample] = []
    interrupted = False
    try:
        topo.create(max(p for p, _ in cases))
        print(
            f"namespaces {topo.gen} / {topo.rsp}; {rounds} round(s); "
            f"{args.concurrency} in flight; cases {cases}",
            flush=True,
        )
        for r in range(rounds):
            for peers, sas in cases:
                order = kinds if r % 2 == 0 else kinds[::-1]
                for kind in order:
                    out = None
                    if args.profile is not None:
                        args.profile.mkdir(parents=True, exist_ok=True)
                        out = args.profile / f"{kind}-p{peers}-s{sas}-r{r + 1}.txt"
                    s = measure(topo, workdir, kind, peers, sas, args.concurrency, out, args.warmup)
                    samples.append(s)
                    if s.failed or s.held < s.established:
                        print(
                            f"warning: {s.failed} handshakes failed, or the responder holds "
                            f"fewer SAs ({s.held}) than were established",
                            file=sys.stderr,
                        )
                    print(
                        f"round {r + 1} {kind:6s} peers={peers:3d} sas={sas:4d}: "
                        f"{s.ms_per_sa:.3f} ms/SA (cpu {s.cpu:.2f} s, {s.established} up, "
                        f"{s.failed} failed, responder holds {s.held}, "
                        f"{s.established / s.wall:.0f}/s wall, generator cpu {s.gen_cpu:.2f} s)",
                        flush=True,
                    )
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
        interrupted = True
    except BenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        topo.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    report(samples, cases)
    if args.profile is not None:
        for path in sorted(args.profile.glob("*-p*-s*-r*.txt")):
            print()
            print(profile_summary(path))
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
