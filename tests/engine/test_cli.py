"""The command line: the lab runs real negotiations; bad arguments get clear errors."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_lab_negotiates_and_shows_a_failure(tmp_path: Path) -> None:
    result = run(
        "--ike-port",
        "0",
        "--natt-port",
        "0",
        "--peers",
        "8",
        "--duration",
        "2",
        "--control",
        str(tmp_path / "lab.sock"),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    up = [line for line in out.splitlines() if "Crypto session is UP" in line]
    assert len(up) == 7, out
    assert all("fvrf=INTERNET ivrf=CORP Description: Lab branch routers" in line for line in up)
    assert "%CRYPTO-4-IKEV2_AUTH_FAILED: IKEv2 authentication failed. Peer 127.0.1.8:" in out
    assert "Traceback" not in result.stderr


def test_bad_arguments_are_refused_without_a_traceback() -> None:
    for args in (
        ["--ike-port", "99999"],
        ["--ike-port", "abc"],
        ["--peers", "0"],
        ["--no-such-option"],
    ):
        result = run(*args)
        assert result.returncode == 2, args
        assert "ipsec-console" in result.stderr and "Traceback" not in result.stderr


@dataclass
class DaemonAgainstPeer:
    """`ipsec-console daemon` (site A, a static entry) against an in-process site B."""

    daemon: asyncio.subprocess.Process
    peer_events: list[object]
    output: bytearray
    control: Path


@contextlib.asynccontextmanager
async def daemon_against_peer(tmp_path: Path, key: str) -> AsyncIterator[DaemonAgainstPeer]:
    from netutil import free_port
    from site_configs import SITE_A, SITE_B

    from engine.service import VpnService

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    conf_a, conf_b = tmp_path / "a" / "a.conf", tmp_path / "b" / "b.conf"
    conf_a.write_text(SITE_A.format(description="B", key=key))
    conf_b.write_text(SITE_B.format(key=key))
    ike, natt = free_port(), free_port()
    b = VpnService(conf_b, bind="127.0.0.2", ike_port=ike, natt_port=natt, dataplane=None)
    events: list[object] = []
    b.gateway.subscribe(events.append)
    await b.start()
    control = tmp_path / "a.sock"
    daemon = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "engine.cli", "daemon", "--config", str(conf_a),
        "--bind", "127.0.0.1", "--ike-port", str(ike), "--natt-port", str(natt),
        "--control", str(control),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output = bytearray()

    async def read() -> None:
        assert daemon.stdout is not None
        while chunk := await daemon.stdout.read(4096):
            output.extend(chunk)

    reader = asyncio.create_task(read())
    try:
        yield DaemonAgainstPeer(daemon, events, output, control)
    finally:
        if daemon.returncode is None:
            daemon.kill()
            await daemon.wait()
        reader.cancel()
        await b.stop()


async def test_daemon_stops_cleanly_on_sigterm_and_deletes_its_sas(tmp_path: Path) -> None:
    from netutil import until

    from engine.events import DownReason, IkeSaDown, IkeSaUp

    async with daemon_against_peer(tmp_path, "term-key") as run:
        await until(lambda: any(isinstance(e, IkeSaUp) for e in run.peer_events), timeout=10)
        run.daemon.send_signal(signal.SIGTERM)
        await until(lambda: any(isinstance(e, IkeSaDown) for e in run.peer_events), timeout=10)
        (down,) = [e for e in run.peer_events if isinstance(e, IkeSaDown)]
        assert down.reason is DownReason.PEER_DELETE
        assert await asyncio.wait_for(run.daemon.wait(), 10) == 0
        assert not run.control.exists()


def test_a_real_config_with_lab_peers_against_it(tmp_path: Path) -> None:
    result = run(
        "--config",
        "sample-configs/lab-gateway.conf",
        "--lab",
        "sample-configs/lab-peers.conf",
        "--bind",
        "127.0.0.1",
        "--ike-port",
        "0",
        "--natt-port",
        "0",
        "--peers",
        "4",
        "--headless",
        "--duration",
        "2",
        "--control",
        str(tmp_path / "x.sock"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Crypto session is UP") == 4


async def test_sighup_reloads_the_daemon_and_keeps_its_sessions(tmp_path: Path) -> None:
    """Operators expect HUP to reload, as daemons do: the gateway reads its file again
    (a second `Configured from` line) and its sessions stay up."""
    from netutil import until

    from engine.events import IkeSaDown, IkeSaUp

    async with daemon_against_peer(tmp_path, "hup-key") as run:
        await until(lambda: any(isinstance(e, IkeSaUp) for e in run.peer_events), timeout=10)
        await until(lambda: run.output.count(b"SYS-5-CONFIG_I") == 1, timeout=10)
        run.daemon.send_signal(signal.SIGHUP)
        await until(lambda: run.output.count(b"SYS-5-CONFIG_I") == 2, timeout=10)
        await asyncio.sleep(0.3)
        assert run.daemon.returncode is None
        assert not any(isinstance(e, IkeSaDown) for e in run.peer_events)
        run.daemon.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(run.daemon.wait(), 10) == 0
