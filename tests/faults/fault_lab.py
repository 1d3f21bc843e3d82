"""What the fault tests share on top of the strongSwan harness (interop/strongswan.py):
a `FaultLab` that also runs the hostile tools of this directory inside charon's namespace
and undoes what it added to the topology, a probe that keeps asking our daemon's control
socket while a fault is on, and the checks every fault test ends with.

The topology is the interop one: charon's namespace ic-ss-TAG (10.99.0.1) and ours
ic-us-TAG (10.99.0.2), joined by a veth pair. Hostile traffic comes from charon's side,
as it would from the network; nothing reaches the host's own interfaces.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from interop.strongswan import (
    Charon,
    Lab,
    NotYet,
    OurGateway,
    eventually,
    tail,
)

from engine.control_socket import ControlError, request

FAULTS = Path(__file__).resolve().parent
WIRE_TOOLS = FAULTS / "wire_tools.py"
HOSTILE_PEER = FAULTS / "hostile_peer.py"


@dataclass
class Spawned:
    name: str
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def events(self) -> list[dict[str, Any]]:
        """The JSON lines it printed so far."""
        out = []
        for line in self.stdout.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@dataclass
class FaultLab(Lab):
    """A Lab that also runs our hostile tools in charon's namespace."""

    spawned: list[Spawned] = field(default_factory=list)
    added_addresses: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def veth_ss(self) -> str:
        return f"ic{self.topo.tag}s"

    def _netns(self, *argv: str) -> list[str]:
        return [self.topo.ip, "netns", "exec", self.topo.ss, *argv]

    def spawn(self, name: str, script: Path, *args: str) -> Spawned:
        """A long-running tool in charon's namespace, stopped by `close` (by its PID)."""
        stdout, stderr = self.workdir / f"{name}.out", self.workdir / f"{name}.err"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            proc = subprocess.Popen(
                self._netns(sys.executable, str(script), *args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        spawned = Spawned(name, proc, stdout, stderr)
        self.spawned.append(spawned)
        return spawned

    def wait_ready(self, spawned: Spawned, timeout: float = 15) -> dict[str, Any]:
        def ready() -> dict[str, Any]:
            if spawned.proc.poll() is not None:
                pytest.fail(
                    f"{spawned.name} exited with {spawned.proc.returncode}:\n"
                    f"{tail(spawned.stderr)}",
                    False,
                )
            for event in spawned.events():
                if event.get("event") == "ready":
                    return event
            raise NotYet(f"{spawned.name} is not ready")

        return eventually(ready, timeout, f"{spawned.name} to start", lambda: tail(spawned.stderr))

    def tool(self, *args: str, timeout: float = 120) -> dict[str, Any]:
        """Run one wire_tools.py command to its end in charon's namespace; its JSON report."""
        done = subprocess.run(
            self._netns(sys.executable, str(WIRE_TOOLS), *args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"wire_tools {args[0]} failed ({done.returncode}):\n{done.stderr}", False)
        return json.loads(done.stdout.strip().splitlines()[-1])

    def add_address(self, address: str) -> None:
        """One more address on charon's veth (a flood's extra sources); removed by `close`."""
        self.topo.run(
            self.topo.ss, "ip", "addr", "add", f"{address}/24", "dev", self.veth_ss, check=True
        )
        self.added_addresses.append((self.topo.ss, self.veth_ss, address))

    def close(self) -> str:
        for spawned in self.spawned:
            spawned.stop()
        report = super().close()
        for spawned in self.spawned:
            report += f"\n--- {spawned.name} stderr\n{tail(spawned.stderr, 30)}"
        for ns, dev, address in self.added_addresses:
            self.topo.run(ns, "ip", "addr", "del", f"{address}/24", "dev", dev)
        return report


# ---------------------------------------------------------------------- probes
class ControlProbe:
    """Asks the daemon's control socket every `interval` s from a thread, each request
    with a 1 s deadline: a daemon whose loop is stuck (a spin, a blocking call) shows
    as failures or slow answers, whatever else the test is doing meanwhile."""

    def __init__(self, ours: OurGateway, interval: float = 0.25, deadline: float = 1.0) -> None:
        self.ours = ours
        self.interval = interval
        self.deadline = deadline
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="control-probe", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                request(self.ours.control, {"cmd": "show-sessions"}, timeout=self.deadline)
            except ControlError as err:
                self.failures.append(f"{time.strftime('%H:%M:%S')} {err}")
            else:
                self.latencies.append(time.monotonic() - started)
            self._stop.wait(self.interval)

    def __enter__(self) -> ControlProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    @property
    def worst(self) -> float:
        return max(self.latencies, default=0.0)

    def check(self) -> None:
        assert self.latencies, "the probe never got an answer"
        assert not self.failures, f"control socket failed {len(self.failures)}x: {self.failures}"
        assert self.worst < self.deadline, f"slowest answer {self.worst:.3f} s"


class StatsProbe(ControlProbe):
    """A ControlProbe that asks `show-ikev2-stats` and keeps the peak half-open count
    and the daemon's peak RSS."""

    def __init__(self, ours: OurGateway, interval: float = 0.25, deadline: float = 1.0) -> None:
        super().__init__(ours, interval, deadline)
        self.half_open_peak = 0
        self.rss_peak_kb = 0
        self.last: dict[str, Any] = {}

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                reply = request(self.ours.control, {"cmd": "show-ikev2-stats"}, self.deadline)
            except ControlError as err:
                self.failures.append(f"{time.strftime('%H:%M:%S')} {err}")
            else:
                self.latencies.append(time.monotonic() - started)
                self.last = reply["stats"]
                self.half_open_peak = max(self.half_open_peak, self.last["half_open"])
            with contextlib.suppress(OSError):
                self.rss_peak_kb = max(self.rss_peak_kb, self.ours.usage().rss_kb)
            self._stop.wait(self.interval)


class CpuWindow:
    """The daemon's CPU time over a stretch of wall time, as a fraction of one core."""

    def __init__(self, ours: OurGateway) -> None:
        self.ours = ours
        self.cpu0 = ours.usage().cpu
        self.t0 = time.monotonic()

    def fraction(self) -> float:
        return (self.ours.usage().cpu - self.cpu0) / max(time.monotonic() - self.t0, 1e-3)


def our_children(ours: OurGateway) -> list[dict[str, Any]]:
    return [c for v in ours.sessions() for f in v["flows"] for c in f["children"]]


def charon_children(charon: Charon) -> list[dict[str, Any]]:
    """charon's live child SAs (a rekeyed child lingers 5 s as DELETED: not live)."""
    return [c for sa in charon.list_sas() for c in sa["children"] if c.get("state") != "DELETED"]


def assert_no_traceback(ours: OurGateway) -> None:
    log = ours.log()
    assert "Traceback" not in log, log[-4000:]
    assert "IKEV2_INTERNAL_ERROR" not in log, log[-4000:]


def sleep_until(wall_clock: float) -> None:
    """Sleep until a time.time() instant (the daemon's records carry wall-clock times)."""
    time.sleep(max(0.0, wall_clock - time.time()))
