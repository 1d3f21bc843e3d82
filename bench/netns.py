"""Two network namespaces joined by a veth pair, for benchmarks that need real addresses.

    netns vs-gen-TAG                           netns vs-rsp-TAG
    load generator                             one responder at a time
    veth GEN_FIRST .. (+ extra addresses)  <-> veth RESPONDER
                                               lo   RESPONDER_HOST/32 (in RESPONDER_NET)

Names are unique per run; `destroy` stops what is left in them by PID and deletes them
(the veth pair goes with them). Processes are started by the caller with
`subprocess.Popen(topo.exec_argv(ns, ...))`: `ip netns exec` execs the command, so
the Popen PID is the program's own.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

IP = shutil.which("ip", path="/usr/sbin:/sbin:/usr/bin:/bin") or "ip"

SUBNET = ipaddress.ip_network("10.97.0.0/16")
RESPONDER = "10.97.0.1"
#: the generator's addresses: GEN_FIRST, GEN_FIRST + 1, ...
GEN_FIRST = ipaddress.ip_address("10.97.1.1")
#: the protected networks (traffic selectors): the responder's and the generator's
RESPONDER_NET = "10.98.2.0/24"
RESPONDER_HOST = "10.98.2.1"
GENERATOR_NET = "10.98.1.0/24"


def generator_addresses(count: int) -> list[str]:
    return [str(GEN_FIRST + i) for i in range(count)]


def prerequisites() -> str | None:
    """Why namespaces cannot be had here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if not shutil.which("ip", path="/usr/sbin:/sbin:/usr/bin:/bin"):
        return "no `ip` command (apt-get install iproute2)"
    probe = subprocess.run([IP, "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"`ip netns` does not work here: {probe.stderr.strip()}"
    return None


@dataclass
class Topology:
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    created: list[str] = field(default_factory=list)

    @property
    def gen(self) -> str:
        return f"vs-gen-{self.tag}"

    @property
    def rsp(self) -> str:
        return f"vs-rsp-{self.tag}"

    def _ip(self, *args: str, check: bool = True, stdin: str | None = None) -> str:
        done = subprocess.run([IP, *args], input=stdin, capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def create(self, generator_count: int) -> None:
        for ns in (self.gen, self.rsp):
            self._ip("netns", "add", ns)
            self.created.append(ns)
        veth_gen, veth_rsp = f"vs{self.tag}g", f"vs{self.tag}r"
        self._ip(
            "link", "add", veth_gen, "netns", self.gen, "type", "veth",
            "peer", "name", veth_rsp, "netns", self.rsp,
        )  # fmt: skip
        prefix = SUBNET.prefixlen
        batch = [
            f"addr add {a}/{prefix} dev {veth_gen}" for a in generator_addresses(generator_count)
        ]
        batch += [f"link set {veth_gen} up", "link set lo up"]
        self._ip("-n", self.gen, "-batch", "-", stdin="\n".join(batch) + "\n")
        self._ip(
            "-n", self.rsp, "-batch", "-",
            stdin=f"addr add {RESPONDER}/{prefix} dev {veth_rsp}\nlink set {veth_rsp} up\n"
            f"link set lo up\naddr add {RESPONDER_HOST}/32 dev lo\n",
        )  # fmt: skip

    def exec_argv(self, ns: str, *argv: str) -> list[str]:
        return [IP, "netns", "exec", ns, *argv]

    def pids(self, ns: str) -> list[int]:
        return [int(p) for p in self._ip("netns", "pids", ns, check=False).split()]

    def forget_charon_routing(self, ns: str | None = None) -> None:
        """A killed charon leaves its policy rule and routing table 220 behind (in `ns`,
        the responder's namespace by default)."""
        ns = ns or self.rsp
        for _ in range(8):
            done = subprocess.run(
                [IP, "-n", ns, "rule", "del", "table", "220"],
                capture_output=True,
                check=False,
            )
            if done.returncode:
                break
        self._ip("-n", ns, "route", "flush", "table", "220", check=False)

    def destroy(self) -> None:
        for ns in reversed(self.created):
            for pid in self.pids(ns):  # whatever was started there and is still running
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._ip("netns", "del", ns, check=False)
        self.created.clear()


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all its threads), from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
