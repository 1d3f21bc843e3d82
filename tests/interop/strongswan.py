"""strongSwan interop harness: charon and our daemon, each in its own network namespace.

Topology, one per test module (the `strongswan_topology` fixture of conftest.py)::

    netns ic-ss-TAG                            netns ic-us-TAG
    charon (kernel-libipsec)                   python -m engine.cli daemon
    veth 10.99.0.1/24  <------ veth ------>    veth 10.99.0.2/24
    lo   10.98.1.1/32  (in SS_NET)             lo   10.98.2.1/32  (in US_NET)

The child SA protects SS_NET <-> US_NET. Each side owns one address of its subnet,
which kernel-libipsec needs as the source of its route (without one charon fails with
"error installing route with policy"), and which a later data-plane test can ping
across: `lab.topo.run(lab.topo.ss, "ping", "-c1", "-I", SS_HOST, US_HOST)`.

charon runs in the foreground, its own /run bind
mounted over the namespace's (`ip netns exec` gives every command a private mount
namespace, so the bind mount goes away with charon), vici on a socket in the test's
directory. Our gateway runs as an operator runs it: `engine.cli daemon` with an
IOS-style file, observed through its control socket and its stdout (IOS syslog lines).

Both are started with `subprocess.Popen` so their real PIDs are known (`ip netns exec`
execs the command) and stopped by those PIDs; the per-test `strongswan_lab` fixture
stops whatever a test started, and the module fixture deletes the namespaces (the veth
pair goes with them) and the work directory, on failure too.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from interop.conftest import require
from interop.strongswan_configs import (  # noqa: F401 - re-exported for the tests
    CHILD,
    CONN,
    DEFAULT_ESP,
    DEFAULT_IKE,
    ESP_SUITES,
    IKE_SUITES,
    LEGACY_ESP_SUITES,
    LEGACY_IKE_SUITES,
    PSK,
    SS_ADDR,
    SS_HOST,
    SS_NET,
    STRONGSWAN_PLUGINS,
    US_ADDR,
    US_HOST,
    US_NET,
    EspSuite,
    IkeSuite,
    our_conf,
    strongswan_conf,
    swanctl_conf,
)

from engine.control_socket import ControlError, request

T = TypeVar("T")

PROJECT = Path(__file__).resolve().parents[2]
CHARON = Path("/usr/lib/ipsec/charon")
APT_PACKAGES = (
    "strongswan-charon strongswan-swanctl libcharon-extra-plugins libcharon-extauth-plugins "
    "libstrongswan-standard-plugins iproute2 iputils-ping"
)


# ---------------------------------------------------------------------- prerequisites
def require_strongswan() -> None:
    """Skip (or fail under IPSEC_CONSOLE_REQUIRE_INTEROP=1) without what the tests need."""
    hint = f"apt-get install -y --no-install-recommends {APT_PACKAGES}"
    require(os.geteuid() == 0, "strongSwan interop needs root (network namespaces)")
    ip = shutil.which("ip", path="/usr/sbin:/sbin:/usr/bin:/bin")
    require(ip, f"no `ip` command ({hint})")
    probe = subprocess.run(
        [ip or "ip", "netns", "list"], capture_output=True, text=True, check=False
    )
    require(probe.returncode == 0, f"`ip netns` does not work here: {probe.stderr.strip()}")
    require(CHARON.exists(), f"no {CHARON} ({hint})")
    require(shutil.which("swanctl", path="/usr/sbin:/sbin:/usr/bin"), f"no swanctl ({hint})")
    require(os.path.exists("/dev/net/tun"), "no /dev/net/tun (kernel-libipsec needs TUN)")
    try:
        import vici  # noqa: F401
    except ImportError:
        require(False, "the Python `vici` package is missing (pip install vici)")


# ---------------------------------------------------------------------- waiting
class NotYet(Exception):
    """Raised by a probe of `eventually` while the awaited state is not there yet."""


def eventually(
    probe: Callable[[], T],
    timeout: float,
    what: str,
    context: Callable[[], str] | None = None,
    interval: float = 0.05,
) -> T:
    """`probe()`'s value once it stops raising NotYet; fail after `timeout` seconds with
    the last reason and `context()` (both sides' state and logs)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return probe()
        except NotYet as err:
            last = str(err)
        if time.monotonic() > deadline:
            extra = f"\n{context()}" if context is not None else ""
            pytest.fail(f"timed out after {timeout}s waiting for {what}: {last}{extra}", False)
        time.sleep(interval)


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------------- /proc
@dataclass(frozen=True)
class ProcUsage:
    """A process's CPU time (user + system, all threads, seconds) and resident memory."""

    cpu: float
    rss_kb: int


def proc_usage(pid: int) -> ProcUsage:
    """From /proc/PID/stat (utime, stime: fields 14 and 15) and /proc/PID/status (VmRSS)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces; field 3 on
    ticks = int(fields[11]) + int(fields[12])
    rss_kb = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
    return ProcUsage(ticks / os.sysconf("SC_CLK_TCK"), rss_kb)


# ---------------------------------------------------------------------- namespaces
@dataclass
class Topology:
    """Two namespaces joined by a veth pair; names unique per run."""

    tag: str
    workdir: Path
    ip: str = "ip"
    created: list[str] = field(default_factory=list)

    @property
    def ss(self) -> str:
        return f"ic-ss-{self.tag}"

    @property
    def us(self) -> str:
        return f"ic-us-{self.tag}"

    def _ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([self.ip, *args], capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
        return done

    def run(self, ns: str, *cmd: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        """A short command inside namespace `ns` (for ping, ip, ss ...)."""
        return subprocess.run(
            [self.ip, "netns", "exec", ns, *cmd],
            capture_output=True,
            text=True,
            check=check,
            timeout=30,
        )

    def create(self) -> None:
        for ns in (self.ss, self.us):
            self._ip("netns", "add", ns)
            self.created.append(ns)
        veth_ss, veth_us = f"ic{self.tag}s", f"ic{self.tag}u"
        self._ip(
            "link", "add", veth_ss, "netns", self.ss, "type", "veth",
            "peer", "name", veth_us, "netns", self.us,
        )  # fmt: skip
        for ns, dev, addr, host in (
            (self.ss, veth_ss, SS_ADDR, SS_HOST),
            (self.us, veth_us, US_ADDR, US_HOST),
        ):
            self._ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            self._ip("-n", ns, "link", "set", dev, "up")
            self._ip("-n", ns, "link", "set", "lo", "up")
            self._ip("-n", ns, "addr", "add", f"{host}/32", "dev", "lo")

    def pids(self, ns: str) -> list[int]:
        done = self._ip("netns", "pids", ns, check=False)
        return [int(p) for p in done.stdout.split()]

    def destroy(self) -> None:
        for ns in reversed(self.created):
            # Processes a test started and somehow left behind: stop them by their PIDs.
            for pid in self.pids(ns):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._ip("netns", "del", ns, check=False)
        self.created.clear()

    def forget_charon_routing(self, ns: str | None = None) -> None:
        """A SIGKILLed charon leaves its policy rule and table 220 behind: remove them
        (in namespace `ns`, charon's own by default)."""
        ns = ns or self.ss
        for _ in range(8):
            if self._ip("-n", ns, "rule", "del", "table", "220", check=False).returncode:
                break
        self._ip("-n", ns, "route", "flush", "table", "220", check=False)


@contextlib.contextmanager
def topology() -> Iterator[Topology]:
    require_strongswan()
    tag = secrets.token_hex(3)
    workdir = Path(tempfile.mkdtemp(prefix=f"ic-{tag}-"))  # short: UNIX socket paths
    topo = Topology(tag, workdir, shutil.which("ip", path="/usr/sbin:/sbin:/usr/bin") or "ip")
    try:
        topo.create()
        yield topo
    finally:
        topo.destroy()
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------- processes
def _text(value: Any) -> Any:
    """vici messages with their bytes decoded."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, dict):
        return {_text(k): _text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


def _stop(proc: subprocess.Popen[bytes] | None, sig: int, grace: float) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, sig)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)


#: builds charon's strongswan.conf from (vici socket, IKE port, NAT-T port)
CharonSettings = Callable[[Path, int, int], str]


class Charon:
    """One charon, driven by swanctl and vici: in the strongSwan namespace by default, or
    in namespace `ns` (a charon-to-charon test puts the second one in ours).
    `settings` builds its strongswan.conf (plugins, options, log levels)."""

    def __init__(
        self,
        topo: Topology,
        workdir: Path,
        port: int = 500,
        port_nat_t: int = 4500,
        *,
        ns: str | None = None,
        settings: CharonSettings = strongswan_conf,
    ):
        self.topo = topo
        self.ns = ns or topo.ss
        self.dir = workdir
        self.port = port
        self.port_nat_t = port_nat_t
        self.settings = settings
        self.vici_socket = workdir / "charon.vici"
        self.log_path = workdir / "charon.log"
        self.conf_path = workdir / "swanctl.conf"
        self.proc: subprocess.Popen[bytes] | None = None
        self.swanctl_bin = shutil.which("swanctl", path="/usr/sbin:/sbin:/usr/bin") or "swanctl"

    @property
    def uri(self) -> str:
        return f"unix://{self.vici_socket}"

    def start(self) -> Charon:
        run = self.dir / "run"
        run.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "strongswan.conf"
        conf.write_text(self.settings(self.vici_socket, self.port, self.port_nat_t))
        env = {**os.environ, "STRONGSWAN_CONF": str(conf)}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    self.topo.ip, "netns", "exec", self.ns, "sh", "-c",
                    'mount --bind "$1" /run && exec "$2"', "sh", str(run), str(CHARON),
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"charon exited with {self.proc.returncode}:\n{tail(self.log_path)}")
            try:
                self._vici().version()
            except OSError as err:
                raise NotYet(str(err)) from None
            return True

        eventually(ready, 10, "charon's vici socket", lambda: tail(self.log_path))
        log_text = self.log_path.read_text(errors="replace")
        # A port already taken does not stop charon: it logs and runs on.
        if "unable to bind socket" in log_text or "could not open socket" in log_text:
            pytest.fail(f"charon could not bind its ports:\n{tail(self.log_path)}")
        return self

    def _vici(self) -> Any:
        import vici

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(str(self.vici_socket))
        return vici.Session(sock)

    def swanctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.swanctl_bin, *args, "--uri", self.uri],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if check and done.returncode != 0:
            pytest.fail(
                f"swanctl {' '.join(args)} failed ({done.returncode}):\n{done.stdout}"
                f"{done.stderr}\n--- charon log\n{tail(self.log_path)}",
                False,
            )
        return done

    def load(self, conf: str) -> None:
        self.conf_path.write_text(conf)
        self.swanctl("--load-all", "--file", str(self.conf_path))

    def initiate(self, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.swanctl("--initiate", "--child", CHILD, "--timeout", "15", check=check)

    def rekey_child(self) -> None:
        self.swanctl("--rekey", "--child", CHILD)

    def rekey_ike(self) -> None:
        self.swanctl("--rekey", "--ike", CONN)

    def terminate_ike(self) -> None:
        self.swanctl("--terminate", "--ike", CONN, "--timeout", "10")

    def terminate_child(self) -> None:
        self.swanctl("--terminate", "--child", CHILD, "--timeout", "10")

    def list_sas(self) -> list[dict[str, Any]]:
        """IKE SAs as vici's list-sas reports them, each with its `name` and a list of its
        child SAs (`child-sas` keyed by name-uniqueid in vici) under `children`."""
        out = []
        for message in self._vici().list_sas():
            for name, sa in _text(message).items():
                children = sa.pop("child-sas", None) or {}
                out.append({**sa, "name": name, "children": list(children.values())})
        return out

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def pid(self) -> int:
        assert self.proc is not None, "charon not started"
        return self.proc.pid

    def pause(self) -> None:
        """SIGSTOP: charon goes silent (a hung or unreachable peer) but keeps its state,
        and the kernel queues what arrives for it. vici does not answer meanwhile."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT: charon runs on and reads what was queued for it."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: charon vanishes without a word, as a crashed peer."""
        _stop(self.proc, signal.SIGKILL, 5)
        self.topo.forget_charon_routing(self.ns)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.resume()  # a paused charon would not see SIGTERM
        _stop(self.proc, signal.SIGTERM, 10)
        self.topo.forget_charon_routing(self.ns)


class OurGateway:
    """`ipsec-console daemon` in our namespace, with a control socket and its stdout."""

    def __init__(
        self,
        topo: Topology,
        workdir: Path,
        conf: str,
        ike_port: int = 500,
        natt_port: int = 4500,
        *,
        ns: str | None = None,
        bind: str = US_ADDR,
    ):
        """`ns`, `bind`: our namespace and address by default; the other side's for a
        daemon-to-daemon test."""
        self.topo = topo
        self.ns = ns or topo.us
        self.bind = bind
        self.dir = workdir
        self.ike_port = ike_port
        self.natt_port = natt_port
        self.conf_path = workdir / "gateway.conf"
        self.conf_path.write_text(conf)
        self.control = workdir / "gateway.sock"
        self.log_path = workdir / "gateway.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> OurGateway:
        cmd = [
            self.topo.ip, "netns", "exec", self.ns,
            sys.executable, "-m", "engine.cli", "daemon",
            "--config", str(self.conf_path), "--bind", self.bind,
            "--ike-port", str(self.ike_port), "--natt-port", str(self.natt_port),
            "--control", str(self.control),
            # its own spool: records a previous test left undelivered are not replayed here
            "--state-dir", str(self.dir / "state"),
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=PROJECT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"our daemon exited with {self.proc.returncode}:\n{self.log()}")
            try:
                self.sessions()
            except ControlError as err:
                raise NotYet(str(err)) from None
            return True

        eventually(ready, 15, "our daemon's control socket", self.log)
        return self

    def ask(self, payload: dict[str, Any]) -> dict[str, Any]:
        return request(self.control, payload, timeout=10)

    def sessions(self) -> list[dict[str, Any]]:
        return self.ask({"cmd": "show-sessions"})["sessions"]

    def clear(self, *words: str) -> list[str]:
        return self.ask({"cmd": "clear", "words": list(words)})["cleared"]

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def lines(self, mnemonic: str) -> list[str]:
        return [line for line in self.log().splitlines() if mnemonic in line]

    @property
    def pid(self) -> int:
        """The daemon's own PID (`ip netns exec` execs it)."""
        assert self.proc is not None, "daemon not started"
        return self.proc.pid

    def usage(self) -> ProcUsage:
        return proc_usage(self.pid)

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def statistics(self, timeout: float = 10) -> dict[str, Any]:
        """`show crypto engine drops` as JSON: ike_drops, ike_events, esp_drops, transport,
        sockets (kernel drops), half_open, ike_sas."""
        return request(self.control, {"cmd": "show-engine-drops"}, timeout=timeout)["stats"]

    def stop(self) -> None:
        """SIGINT: the daemon deletes its SAs with the peer (SIGTERM would not)."""
        _stop(self.proc, signal.SIGINT, 10)


# ---------------------------------------------------------------------- both sides
@dataclass(frozen=True)
class Agreed:
    """Both sides have exactly one IKE SA and one child SA pair, and the same SPIs."""

    ike_spis: tuple[str, str]  # (initiator, responder), hex as charon prints them
    child_spis: tuple[str, str]  # charon's (in, out) = our (out, in)
    charon_ike: dict[str, Any]
    charon_child: dict[str, Any]
    session: dict[str, Any]

    @property
    def our_ike(self) -> dict[str, Any]:
        return self.session["ike_sas"][0]

    @property
    def our_child(self) -> dict[str, Any]:
        return self.session["flows"][0]["children"][0]


def _describe_charon(sas: list[dict[str, Any]]) -> str:
    rows = []
    for sa in sas:
        rows.append(
            f"  {sa['name']} #{sa.get('uniqueid')} {sa.get('state')} "
            f"{sa.get('initiator-spi')}/{sa.get('responder-spi')} "
            f"{sa.get('local-port')}->{sa.get('remote-host')}:{sa.get('remote-port')}"
        )
        for child in sa["children"]:
            rows.append(
                f"    {child.get('name')} #{child.get('uniqueid')} {child.get('state')} "
                f"in {child.get('spi-in')} out {child.get('spi-out')}"
            )
    return "\n".join(rows) or "  (no SAs)"


def _describe_ours(sessions: list[dict[str, Any]]) -> str:
    rows = []
    for view in sessions:
        s = view["session"]
        rows.append(f"  {s['session_id']} {s['status']} ike {s['ike_sa_ids']}")
        for ike in view["ike_sas"]:
            rows.append(f"    IKE {ike['ike_sa_id']} {ike['state']} {ike['spi_i']}/{ike['spi_r']}")
        for flow in view["flows"]:
            for c in flow["children"]:
                rows.append(
                    f"    child {c['child_sa_id']} in {c['spi_in']:08x} out {c['spi_out']:08x}"
                )
    return "\n".join(rows) or "  (no sessions)"


@dataclass
class Lab:
    """What one test starts; `close` stops it all (the fixture calls it)."""

    topo: Topology
    workdir: Path
    charons: list[Charon] = field(default_factory=list)
    gateways: list[OurGateway] = field(default_factory=list)

    def charon(
        self,
        conf: str | None = None,
        *,
        port: int = 500,
        port_nat_t: int = 4500,
        ns: str | None = None,
        settings: CharonSettings = strongswan_conf,
    ) -> Charon:
        """A new charon, started, with `conf` (swanctl.conf text) loaded; in namespace
        `ns` (charon's by default), its strongswan.conf from `settings`."""
        d = self.workdir / f"charon{len(self.charons)}"
        d.mkdir(parents=True)
        charon = Charon(self.topo, d, port, port_nat_t, ns=ns, settings=settings)
        self.charons.append(charon)
        charon.start()
        if conf is not None:
            charon.load(conf)
        return charon

    def ours(
        self, conf: str, *, ike_port: int = 500, natt_port: int = 4500, far_side: bool = False
    ) -> OurGateway:
        """A daemon in our namespace; `far_side`: in charon's (daemon-to-daemon tests)."""
        d = self.workdir / f"ours{len(self.gateways)}"
        d.mkdir(parents=True)
        where = {"ns": self.topo.ss, "bind": SS_ADDR} if far_side else {}
        gateway = OurGateway(self.topo, d, conf, ike_port, natt_port, **where)  # type: ignore[arg-type]
        self.gateways.append(gateway)
        return gateway.start()

    def state(self) -> str:
        parts = []
        for charon in self.charons:
            try:
                sas = _describe_charon(charon.list_sas())
            except OSError as err:
                sas = f"  (no answer: {err})"
            where = f"({charon.ns})"
            parts += [f"--- charon SAs {where}", sas, f"--- charon log {where}"]
            parts.append(tail(charon.log_path, 40))
        for gw in self.gateways:
            try:
                ours = _describe_ours(gw.sessions())
            except ControlError as err:
                ours = f"  (no answer: {err})"
            parts += ["--- our sessions", ours, "--- our log", tail(gw.log_path, 20)]
        return "\n".join(parts)

    def agreement(self, charon: Charon, ours: OurGateway) -> Agreed:
        """Both sides' SAs if they agree now, else NotYet saying why not."""
        sas = charon.list_sas()
        if len(sas) != 1:
            raise NotYet(f"charon has {len(sas)} IKE SAs\n{_describe_charon(sas)}")
        sa = sas[0]
        # After a rekey charon keeps the old child's inbound SA for in-flight packets
        # (state DELETED, charon.delete_rekeyed_delay = 5 s): not a live SA.
        children = [c for c in sa["children"] if c.get("state") != "DELETED"]
        if sa.get("state") != "ESTABLISHED" or len(children) != 1:
            raise NotYet(f"charon's IKE SA is not settled\n{_describe_charon(sas)}")
        child = children[0]
        if child.get("state") != "INSTALLED":
            raise NotYet(f"charon's child SA is {child.get('state')}")
        sessions = ours.sessions()
        live = [v for v in sessions if v["ike_sas"] or v["session"]["status"] != "DOWN"]
        if len(live) != 1:
            raise NotYet(f"we have {len(live)} live sessions\n{_describe_ours(sessions)}")
        view = live[0]
        ours_children = [c for f in view["flows"] for c in f["children"]]
        if (
            view["session"]["status"] != "UP-ACTIVE"
            or len(view["ike_sas"]) != 1
            or view["ike_sas"][0]["state"] != "Active"
            or len(view["flows"]) != 1
            or len(ours_children) != 1
        ):
            raise NotYet(f"our session is not settled\n{_describe_ours(sessions)}")
        ike = view["ike_sas"][0]
        ike_spis = (sa["initiator-spi"], sa["responder-spi"])
        if (ike["spi_i"], ike["spi_r"]) != ike_spis:
            raise NotYet(f"IKE SPIs differ: charon {ike_spis}, ours {ike['spi_i']}/{ike['spi_r']}")
        ours_in = f"{ours_children[0]['spi_in']:08x}"
        ours_out = f"{ours_children[0]['spi_out']:08x}"
        if (ours_out, ours_in) != (child["spi-in"], child["spi-out"]):
            raise NotYet(
                f"child SPIs differ: charon in {child['spi-in']} out {child['spi-out']}, "
                f"ours in {ours_in} out {ours_out}"
            )
        return Agreed(ike_spis, (child["spi-in"], child["spi-out"]), sa, child, view)

    def wait_agreed(
        self,
        charon: Charon,
        ours: OurGateway,
        timeout: float = 10,
        *,
        new_ike_than: Agreed | None = None,
        new_child_than: Agreed | None = None,
        what: str = "both sides to agree on one IKE SA and one child SA",
    ) -> Agreed:
        """Wait for agreement, optionally on SPIs other than those of an earlier state."""

        def probe() -> Agreed:
            now = self.agreement(charon, ours)
            if new_ike_than is not None and now.ike_spis == new_ike_than.ike_spis:
                raise NotYet(f"the IKE SA is still {now.ike_spis}")
            if new_child_than is not None and now.child_spis == new_child_than.child_spis:
                raise NotYet(f"the child SA is still {now.child_spis}")
            return now

        return eventually(probe, timeout, what, self.state)

    def until(self, condition: Callable[[], object], what: str, timeout: float = 10) -> Any:
        """Wait until `condition()` is truthy and return it; fail with both sides' state."""

        def probe() -> object:
            value = condition()
            if not value:
                raise NotYet("not yet")
            return value

        return eventually(probe, timeout, what, self.state)

    def wait_nothing(self, charon: Charon, ours: OurGateway, timeout: float = 10) -> None:
        """Wait until neither side has an SA or a session that is up."""

        def probe() -> None:
            sas = charon.list_sas()
            if sas:
                raise NotYet(f"charon still has SAs\n{_describe_charon(sas)}")
            sessions = ours.sessions()
            if any(v["ike_sas"] or v["session"]["status"].startswith("UP") for v in sessions):
                raise NotYet(f"we still have\n{_describe_ours(sessions)}")

        eventually(probe, timeout, "both sides to have nothing", self.state)

    def close(self) -> str:
        """Stop everything this test started; returns the logs (for a failure report)."""
        report = []
        for gw in self.gateways:
            gw.stop()
        for charon in self.charons:
            charon.stop()
        for charon in self.charons:
            report += [f"--- {charon.log_path}", tail(charon.log_path, 200)]
        for gw in self.gateways:
            report += [f"--- {gw.log_path}", gw.log()]
        return "\n".join(report)


def lab_dir(topo: Topology, name: str) -> Path:
    """A short, fresh directory for one test (UNIX socket paths stay under 108 bytes)."""
    safe = re.sub(r"[^A-Za-z0-9]+", "-", name)[:24]
    path = Path(tempfile.mkdtemp(prefix=f"{safe}-", dir=topo.workdir))
    return path
